#![no_main]
//! The signed link snapshot read at start: header and signature (raw input), and the
//! content behind a valid signature (the input signed with the fixtures' key). Never
//! panics; an accepted snapshot is sorted and bounded by its size.

use kiosk_platform::links::snapshot::{Snapshot, signature};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"fuzz link key, 32 bytes or more!";
const MAGIC: &[u8] = b"kiosk-link-snapshot v1\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let bytes = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut body = MAGIC.to_vec();
        body.extend_from_slice(rest);
        let sig = signature(&body, KEY);
        body.extend_from_slice(&sig);
        body
    };
    if let Ok(s) = Snapshot::decode(&bytes, KEY, "131016") {
        assert!(s.index.len() <= bytes.len() / 33);
    }
});
