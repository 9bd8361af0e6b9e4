#![no_main]
//! The certificate path: DER length from the header, X.509 parsing. Never panics.

use kiosk_card::JpkiCertificate;
use kiosk_card::jpki::der_total_len;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = der_total_len(data);
    if let Ok(cert) = JpkiCertificate::from_der(data) {
        let _ = (cert.issuer(), cert.subject(), cert.serial(), cert.not_after());
        let _ = cert.verify_sha256(&[0; 32], &[0; 256]);
    }
});
