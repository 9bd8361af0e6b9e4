#![no_main]
//! The kiosk's configuration file. Never panics: every mistake is a named problem.

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = kiosk::config::parse(text, Path::new("/etc/kiosk/kiosk.toml"));
});
