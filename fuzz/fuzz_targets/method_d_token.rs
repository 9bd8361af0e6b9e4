#![no_main]
//! A scanned Method D token: fields, key id, date, signature. Never panics; only a token
//! signed with the key for today is accepted.

use kiosk_printer::token::verify;
use kiosk_printer::{LabelDate, TokenKey};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn keys() -> &'static [TokenKey] {
    static K: OnceLock<Vec<TokenKey>> = OnceLock::new();
    K.get_or_init(|| TokenKey::new(include_bytes!("../fixtures/token.key")).into_iter().collect())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(today) = LabelDate::new(2026, 12, 6) else { return };
    if let Ok(label) = verify(text, today, keys()) {
        assert!(!label.patron.is_empty());
    }
});
