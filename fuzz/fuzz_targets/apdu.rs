#![no_main]
//! Command and response APDU parsers, status words: never panic; parse ∘ encode = id.

use kiosk_card::{Command, Le, ParsedCommand, Response, StatusWord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = Response::parse(data) {
        let sw = r.status.to_u16();
        assert_eq!(StatusWord::from(sw), r.status);
    }
    if let Ok(c) = ParsedCommand::parse(data) {
        let le = if c.le == 0 {
            Le::None
        } else if c.extended {
            Le::Extended(c.le as u32)
        } else {
            Le::Max(c.le as u32)
        };
        if let Ok(cmd) = Command::new(c.cla, c.ins, c.p1, c.p2).with_data(c.data) {
            if let Ok(enc) = cmd.with_le(le).encode() {
                let back = ParsedCommand::parse(enc.as_slice()).expect("our encoding parses");
                assert_eq!((back.data, back.le), (c.data, c.le));
            }
        }
    }
});
