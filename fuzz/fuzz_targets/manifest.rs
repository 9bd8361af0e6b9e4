#![no_main]
//! The static update manifest (a release's version, bundle address and digest). Never
//! panics; an accepted bundle address is absolute.

use kiosk_update::manifest::parse;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn base() -> Option<&'static reqwest::Url> {
    static U: OnceLock<Option<reqwest::Url>> = OnceLock::new();
    U.get_or_init(|| reqwest::Url::parse("https://updates.example.invalid/kiosk/manifest.json").ok()).as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some(base) = base() else { return };
    let _ = parse(data, base);
});
