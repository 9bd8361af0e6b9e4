#![no_main]
//! The card's certificate: DER length from the header, X.509 parsing, the signature and
//! chain checks against the JPKI CA of the fixtures. Never panics.

use kiosk_card::JpkiCertificate;
use kiosk_card::jpki::der_total_len;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;

fn ca() -> &'static [JpkiCertificate] {
    static CA: OnceLock<Vec<JpkiCertificate>> = OnceLock::new();
    CA.get_or_init(|| {
        JpkiCertificate::from_der(include_bytes!("../fixtures/jpki-ca.der")).into_iter().collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = der_total_len(data);
    if let Ok(cert) = JpkiCertificate::from_der(data) {
        let _ = (cert.issuer(), cert.subject(), cert.serial(), cert.not_after());
        let _ = cert.verify_sha256(&[0; 32], &[0; 256]);
        let _ = cert.verify_message(b"challenge", &[0; 256]);
        let _ = cert.verify_chain(ca(), Duration::from_secs(1_800_000_000));
    }
});
