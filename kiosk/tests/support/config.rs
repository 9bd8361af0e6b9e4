//! A configuration file in a test: a minimal valid one, everything simulated, with some
//! sections replaced. Shared by the config tests (`#[path]`-included).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kiosk::config::{self, Config};

/// The example's staff PIN hash (PIN 0000); parsing it costs nothing.
pub const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$N3WxVVCcItSE2Ta3IuSUaQ$qxjsoZpBTcLPHbwqpjFyvFtAZrZINJ2nYCpe+3inldA";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

/// Where the test "files" live: relative paths resolve to the fixtures directory.
pub fn origin() -> PathBuf {
    fixtures().join("kiosk.toml")
}

/// A minimal valid configuration, everything simulated, section by section.
pub fn base() -> Vec<(&'static str, String)> {
    vec![
        ("library", "name = \"テスト図書館\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"".into()),
        ("card", "mode = \"simulated\"".into()),
        ("platform", "mode = \"simulated\"".into()),
        ("ils", "mode = \"simulated\"".into()),
        ("printer", "transport = \"simulated\"".into()),
        ("label", "token_key_file = \"token.key\"".into()),
        ("io", "backend = \"simulated\"".into()),
        ("admin", format!("staff_pin_hash = \"{HASH}\"")),
        ("session", String::new()),
    ]
}

/// `base()` with some sections' bodies replaced; a body of `"-"` drops the section.
pub fn toml(overrides: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (name, body) in base() {
        let body = overrides.iter().find(|(n, _)| *n == name).map_or(body, |(_, b)| (*b).to_owned());
        if body != "-" {
            out.push_str(&format!("[{name}]\n{body}\n\n"));
        }
    }
    for (name, body) in overrides {
        if !base().iter().any(|(n, _)| n == name) {
            out.push_str(&format!("[{name}]\n{body}\n\n"));
        }
    }
    out
}

pub fn ok(overrides: &[(&str, &str)]) -> Config {
    let text = toml(overrides);
    match config::parse(&text, &origin()) {
        Ok(config) => config,
        Err(e) => panic!("expected valid:\n{text}\n---\n{e}"),
    }
}
