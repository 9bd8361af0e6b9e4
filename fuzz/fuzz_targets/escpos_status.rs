#![no_main]
//! The printer's answers to the three `DLE EOT` status requests. Never panics; a status
//! that says ready has paper.

use kiosk_printer::Paper;
use kiosk_printer::status::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for w in data.windows(3) {
        if let Ok(status) = decode(w[0], w[1], w[2]) {
            if status.ready() {
                assert_ne!(status.paper, Paper::Out);
            }
        }
    }
});
