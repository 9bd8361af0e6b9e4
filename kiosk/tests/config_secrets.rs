//! Secrets from the configuration never appear in `Debug` of the configuration, nor in
//! any problem message, whatever is wrong with them or around them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kiosk::config::{self, ConfigError};

const TERMINAL_PW: &str = "Terminal-Secret-7f3a9c";
const SIP2_PW: &str = "Sip2-Secret-b81d2e";
const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$N3WxVVCcItSE2Ta3IuSUaQ$qxjsoZpBTcLPHbwqpjFyvFtAZrZINJ2nYCpe+3inldA";
/// A distinctive part of the hash.
const HASH_PART: &str = "qxjsoZpBTcLPHbwqpjFyvFtAZrZINJ2nYCpe";

fn origin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/kiosk.toml")
}

fn full(terminal_pw: &str, sip2_pw: &str, hash: &str) -> String {
    format!(
        r#"[library]
name = "x"
institution_id = "TEST"
service_provider_id = "SP1"
kiosk_id = "k"

[platform]
mode = "api"
url = "https://platform.example/api"
ca_file = "ca.pem"
jpki_ca_file = "jpki-ca.pem"
client_cert = "client.pem"
client_key = "client.key"
terminal_id = "T1"
terminal_password = "{terminal_pw}"

[ils]
mode = "sip2"
host = "ils.example"
login_user = "kiosk"
login_password = "{sip2_pw}"

[printer]
transport = "none"

[label]
token_key_file = "token.key"

[io]
backend = "none"

[admin]
staff_pin_hash = "{hash}"
"#
    )
}

#[track_caller]
fn assert_clean(text: &str) {
    for secret in [TERMINAL_PW, SIP2_PW, HASH_PART, "Sip2-Secret", "Terminal-Secret"] {
        assert!(!text.contains(secret), "secret `{secret}` leaked into:\n{text}");
    }
}

#[test]
fn debug_of_a_valid_config_redacts_every_secret() {
    let config = config::parse(&full(TERMINAL_PW, SIP2_PW, HASH), &origin()).unwrap();
    let debug = format!("{config:?}");
    assert_clean(&debug);
    assert!(debug.contains("<redacted>"));
    assert_clean(&format!("{config:#?}"));
    assert_clean(&config.summary());
    // The driver that needs one can still have it.
    let config::Platform::Api { terminal, .. } = &config.platform else { panic!() };
    assert_eq!(terminal.password.expose(), TERMINAL_PW);
}

fn error_text(text: &str) -> String {
    match config::parse(text, &origin()) {
        Ok(_) => panic!("expected problems"),
        Err(e) => {
            let ConfigError::Invalid(problems) = &e else { panic!() };
            assert!(!problems.is_empty());
            format!("{e}\n{e:?}")
        }
    }
}

#[test]
fn a_sip2_password_with_a_bar_is_refused_without_being_shown() {
    let out = error_text(&full(TERMINAL_PW, "Sip2-Secret|b81d2e", HASH));
    assert!(out.contains("ils.login_password"), "{out}");
    assert!(!out.contains("b81d2e"), "{out}");
    assert_clean(&out);
}

#[test]
fn an_empty_or_wrongly_typed_secret_is_reported_without_its_value() {
    let text = full(TERMINAL_PW, SIP2_PW, HASH).replace(&format!("\"{TERMINAL_PW}\""), "73019577123");
    let out = error_text(&text);
    assert!(out.contains("platform.terminal_password: expected a string, found an integer"), "{out}");
    assert!(!out.contains("73019577123"), "{out}");
    assert_clean(&out);
}

#[test]
fn a_broken_staff_pin_hash_is_not_echoed() {
    let broken = HASH.replace("$v=19", "$v=1x");
    let out = error_text(&full(TERMINAL_PW, SIP2_PW, &broken));
    assert!(out.contains("admin.staff_pin_hash"), "{out}");
    assert_clean(&out);
}

#[test]
fn a_syntax_error_on_a_secret_line_does_not_quote_the_line() {
    // The closing quote is missing: the TOML parser stops on this very line.
    let text = full(TERMINAL_PW, SIP2_PW, HASH).replace(&format!("\"{SIP2_PW}\""), &format!("\"{SIP2_PW}"));
    let out = error_text(&text);
    assert!(out.contains("syntax"), "{out}");
    assert_clean(&out);
    // Unquoted value: likewise.
    let text = full(TERMINAL_PW, SIP2_PW, HASH).replace(&format!("\"{TERMINAL_PW}\""), TERMINAL_PW);
    let out = error_text(&text);
    assert_clean(&out);
}

#[test]
fn a_misspelt_secret_key_is_reported_by_name_only() {
    let text = full(TERMINAL_PW, SIP2_PW, HASH).replace("login_password", "login_pasword");
    let out = error_text(&text);
    assert!(out.contains("did you mean `login_password`?"), "{out}");
    assert_clean(&out);
    // A secret in an unknown section.
    let text = format!("{}\n[secrets]\npassword = \"{SIP2_PW}\"\n", full(TERMINAL_PW, SIP2_PW, HASH));
    let out = error_text(&text);
    assert!(out.contains("unknown section [secrets]"), "{out}");
    assert_clean(&out);
}

#[test]
fn unused_secrets_are_reported_without_their_value() {
    let text = full(TERMINAL_PW, SIP2_PW, HASH).replace("mode = \"api\"", "mode = \"simulated\"");
    let out = error_text(&text);
    assert!(out.contains("platform.terminal_password: is not used when mode = \"simulated\""), "{out}");
    assert_clean(&out);
}
