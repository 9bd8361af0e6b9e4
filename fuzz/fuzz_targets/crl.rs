#![no_main]
//! The CRL stream reader: DER read piece by piece (never whole), entries into the
//! revocation set, extensions, dates and the CA's signature. Never panics, never holds
//! more than the CRL's serials.

use kiosk_platform::crl::load_crl;
use kiosk_platform::proof::CardTrust;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

fn trust() -> Option<&'static CardTrust> {
    static T: OnceLock<Option<CardTrust>> = OnceLock::new();
    T.get_or_init(|| CardTrust::from_ders(&[include_bytes!("../fixtures/jpki-ca.der").to_vec()]).ok())
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some(trust) = trust() else { return };
    let now = SystemTime::UNIX_EPOCH
        + Duration::from_secs(u64::from_be_bytes(*include_bytes!("../fixtures/made-at.bin")));
    if let Ok(crl) = load_crl(data, trust, now, Duration::from_secs(300)) {
        assert!(crl.revoked.len() <= data.len() / 2);
    }
});
