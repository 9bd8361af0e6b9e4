//! The shipped example, the demo configuration, the staff-PIN hasher, and one
//! acceptance case: a typo, a missing CA file and a wrong type, reported at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kiosk::config::{
    self, CardReader, Config, ConfigError, Ils, Io, Language, MethodD, Platform, PrinterTransport, TokenKey,
};
use kiosk_platform::cache::Grace;
use kiosk_printer::Symbology;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

#[test]
fn the_example_file_validates_as_shipped() {
    let path = repo_root().join("deploy/kiosk.example.toml");
    let config = match config::load(&path) {
        Ok(config) => config,
        Err(e) => panic!("deploy/kiosk.example.toml must validate:\n{e}"),
    };
    assert_eq!(config.library.kiosk_id.as_str(), "chuo-01");
    assert_eq!(config.library.languages.default_language(), Language::Japanese);
    assert!(config.library.service_provider_id.is_some());
    assert!(config.card.require_pin);
    assert_eq!(config.card.reader, CardReader::Pcsc { name_contains: "RC-S380".into() });
    let Platform::Api { endpoint, client, terminal } = &config.platform else {
        panic!("the example uses the platform API: {:?}", config.platform);
    };
    assert_eq!(endpoint.offline_policy, Grace::Refuse);
    assert_eq!(endpoint.connect_timeout.as_secs(), 5);
    assert!(endpoint.ca_file.path().ends_with("deploy/example/platform-ca.pem"));
    assert!(client.key_path().is_file());
    assert!(matches!(client, config::TerminalIdentity::Registered(_)));
    assert_eq!(terminal.password.expose(), "change-me-terminal-password");
    let Ils::Sip2(sip2) = &config.ils else { panic!("SIP2") };
    assert_eq!(sip2.port.get(), 6001);
    assert!(sip2.tls.is_some() && sip2.login.is_some());
    assert_eq!(config.printer.transport, PrinterTransport::Usb { vendor_id: 0x04b8, product_id: 0x0202 });
    assert!(matches!(config.printer.symbology, Symbology::Nw7 { .. }));
    assert!(matches!(
        config.label.method_d,
        MethodD::On { print: true, accept: true, token_key: TokenKey::File(_) }
    ));
    let Io::Gpio(pins) = config.io else { panic!("gpio") };
    assert_eq!((pins.lamp().bcm(), pins.buzzer().bcm(), pins.gate()), (17, 27, None));
    assert_eq!(config.admin.lockout_attempts.get(), 5);
    assert_eq!(config.session.idle_timeout().as_secs(), 60);
    let summary = config.summary();
    assert!(summary.starts_with("OK: はりま市立中央図書館 (kiosk chuo-01)"), "{summary}");
}

#[test]
fn the_example_staff_pin_is_0000_as_documented() {
    let config = config::load(&repo_root().join("deploy/kiosk.example.toml")).unwrap();
    assert!(config.admin.staff_pin_hash.verify(b"0000"));
}

#[test]
fn every_example_placeholder_file_is_marked_example_only() {
    for entry in std::fs::read_dir(repo_root().join("deploy/example")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("EXAMPLE ONLY"), "{} must say EXAMPLE ONLY", path.display());
    }
}

#[test]
fn demo_config_is_simulated_everywhere_and_matches_its_file_form() {
    let demo = Config::demo();
    assert_eq!(demo.card.reader, CardReader::Simulated);
    assert_eq!(demo.platform, Platform::Simulated);
    assert_eq!(demo.ils, Ils::Simulated);
    assert_eq!(demo.printer.transport, PrinterTransport::Simulated);
    assert_eq!(demo.io, Io::Simulated);
    assert!(matches!(demo.label.method_d, MethodD::On { token_key: TokenKey::Ephemeral, .. }));
    // The same settings, written as a file, pass every check; so demo() holds only
    // values the checks accept (its staff PIN hash included).
    let mut parsed = config::load(&fixtures().join("demo.toml")).unwrap();
    parsed.label = demo.label.clone();
    assert_eq!(parsed, demo);
    assert!(demo.admin.staff_pin_hash.verify(b"0000"));
    assert!(!demo.admin.staff_pin_hash.verify(b"1234"));
}

#[test]
fn hash_staff_pin_makes_a_hash_the_config_accepts() {
    let phc = config::hash_staff_pin(b"482916\n").unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    let text = std::fs::read_to_string(fixtures().join("demo.toml")).unwrap().replace(
        "$argon2id$v=19$m=19456,t=2,p=1$PldoI+eVPnF60y+qDaeJ1A$mP9qO9ocszJabAie2dFV2fDjE+9tGQBF0ElszIqlKnI",
        &phc,
    );
    let config = config::parse(&text, &fixtures().join("demo.toml")).unwrap();
    assert!(config.admin.staff_pin_hash.verify(b"482916"));
    assert!(config::hash_staff_pin(b"12a4").is_err());
    assert!(config::hash_staff_pin(b"123").is_err());
}

/// A typo, a missing CA file and a wrong type are reported at once.
#[test]
fn typo_missing_ca_file_and_wrong_type_are_all_reported_at_once_with_lines() {
    let path = fixtures().join("three-problems.toml");
    let Err(ConfigError::Invalid(problems)) = config::load(&path) else { panic!("must be invalid") };
    let text = problems.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let file = path.display().to_string();
    assert_eq!(
        lines[0],
        format!("{file}:17:1: ils.hots: unknown key `ils.hots`; did you mean `host`? (host is required)")
    );
    assert_eq!(
        lines[1],
        format!(
            "{file}:18:8: ils.port: expected a whole number, found a string; write a whole number from 1 to 65535, without quotes"
        )
    );
    assert!(
        lines[2].starts_with(&format!(
            "{file}:20:11: ils.ca_file: {} does not exist; put ",
            fixtures().join("no-such-ca.pem").display()
        )),
        "{}",
        lines[2]
    );
    let keys: Vec<(usize, &str)> = problems.iter().map(|p| (p.line(), p.key())).collect();
    assert_eq!(keys, [(17, "ils.hots"), (18, "ils.port"), (20, "ils.ca_file")]);
}

#[test]
fn load_reports_an_unreadable_file() {
    let missing = fixtures().join("no-such-config.toml");
    let err = config::load(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(err.to_string().contains("no-such-config.toml"), "{err}");
}
