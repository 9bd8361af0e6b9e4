#![no_main]
//! What a scanner sends: evdev key events through the US and JIS key maps, bytes from a
//! serial scanner cut into lines (bounded length), and each line sorted into item, library
//! card, staff card or Method D label. Never panics; no line is longer than the limit.

use kiosk_core::scan::Classifier;
use kiosk_scanner::{Keymap, Layout, LineAssembler, LineConfig};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(classifier) = Classifier::standard("20", Some("S")) else { return };
    let config = LineConfig { max_len: 64, ..LineConfig::default() };
    let mut lines = LineAssembler::new(config);
    let start = Instant::now();
    let mut out = Vec::new();
    if mode & 1 == 0 {
        // Serial: raw bytes.
        out.extend(lines.push_bytes(rest, start).into_iter().flatten());
    } else {
        // evdev: (code, value) pairs through a key map, 1 ms apart.
        let mut keys = Keymap::new(if mode & 2 == 0 { Layout::Us } else { Layout::Jis });
        for (i, ev) in rest.chunks_exact(3).enumerate() {
            let code = u16::from_le_bytes([ev[0], ev[1] & 1]);
            let value = i32::from(ev[2] % 3);
            if let Some(c) = keys.feed(code, value) {
                let now = start + Duration::from_millis(i as u64);
                if let Ok(Some(line)) = lines.push(c, now) {
                    out.push(line);
                }
            }
        }
    }
    for line in out {
        assert!(line.chars().count() <= 64);
        let _ = classifier.classify(&line);
    }
});
