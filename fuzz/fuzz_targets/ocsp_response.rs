#![no_main]
//! OCSP responses for the fixtures' card: DER, the responder's signature and
//! certificates, the nonce, the dates. Never panics.

use kiosk_platform::ocsp::{OcspQuery, build_request, check_response};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};
use x509_cert::Certificate;
use x509_cert::der::Decode;

struct Fixture {
    ca: Certificate,
    query: OcspQuery,
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let ca = Certificate::from_der(include_bytes!("../fixtures/jpki-ca.der")).ok()?;
        let card = Certificate::from_der(include_bytes!("../fixtures/card.der")).ok()?;
        let mut query = build_request(&ca, &card).ok()?;
        // The nonce the seed responses were made for.
        query.nonce = include_bytes!("../fixtures/ocsp-nonce.bin").to_vec();
        Some(Fixture { ca, query })
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some(f) = fixture() else { return };
    // The seeds were made on the day the fixtures were; a day later they are still fresh.
    let now = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::from_be_bytes(*include_bytes!("../fixtures/made-at.bin")));
    for require_nonce in [true, false] {
        let _ = check_response(data, &f.query, &f.ca, now, Duration::from_secs(300), require_nonce);
    }
});
