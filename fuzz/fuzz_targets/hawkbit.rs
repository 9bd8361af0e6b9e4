#![no_main]
//! The update server's hawkBit DDI JSON: the poll answer and a deployment. Never panics.

use kiosk_update::ddi::{parse_deployment, parse_poll};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let _ = parse_poll(&v);
    let _ = parse_deployment(&v);
});
