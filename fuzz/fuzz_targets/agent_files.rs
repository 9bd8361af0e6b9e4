#![no_main]
//! The update agent's local files: its configuration, the maintenance window, the
//! version in /etc/os-release, a staff request, its status file. Never panics.

use kiosk_update::AgentConfig;
use kiosk_update::policy::Window;
use kiosk_update::request::Request;
use kiosk_update::version::{Version, read_release_key};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 4 {
        0 => {
            let _ = AgentConfig::parse(text, Path::new("/etc/kiosk/update.toml"));
        }
        1 => {
            if let Ok(w) = Window::parse(text) {
                for minute in [0, 59, 60, 719, 1439, 1440] {
                    let _ = w.contains(minute);
                }
            }
        }
        2 => {
            if let Some(v) = read_release_key(text, "VERSION_ID") {
                if let Ok(v) = Version::parse(&v) {
                    let _ = v.is_older_than(&v);
                }
            }
        }
        _ => {
            let _ = Request::parse(text);
        }
    }
});
