//! Every check of every section: each wrong value gives one problem, at the right key,
//! with a fix; keys a mode does not use are refused; defaults are what the example
//! file says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use kiosk::config::{
    self, ConfigError, Ils, Io, MethodD, Mode, Platform, PrinterTransport, Problem, TypedTerminator,
};
use kiosk_core::flow::{HandOff, LibraryCardLogin};
use kiosk_ils::{ChargedItems, Charset, Profile, Resend};
use kiosk_keyboard::Layout;
use kiosk_platform::cache::Grace;
use kiosk_printer::{CheckDigit, Guard, PaperWidth, Symbology};

#[path = "support/config.rs"]
mod support;
use support::{HASH, fixtures, ok, origin, toml};

fn problems(overrides: &[(&str, &str)]) -> Vec<Problem> {
    let text = toml(overrides);
    match config::parse(&text, &origin()) {
        Ok(_) => panic!("expected problems:\n{text}"),
        Err(ConfigError::Invalid(p)) => {
            // Every problem names its key and has a fix.
            for problem in &p {
                assert!(!problem.key().is_empty() && !problem.what().is_empty() && !problem.fix().is_empty());
            }
            p.iter().cloned().collect()
        }
        Err(e) => panic!("unexpected {e}"),
    }
}

/// Exactly one problem, at `key`, whose text contains `needle`.
#[track_caller]
fn one(overrides: &[(&str, &str)], key: &str, needle: &str) -> Problem {
    let found = problems(overrides);
    let text: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert_eq!(found.len(), 1, "{text:#?}");
    let p = found.into_iter().next().unwrap();
    assert_eq!(p.key(), key, "{p}");
    assert!(p.to_string().contains(needle), "`{needle}` not in: {p}");
    p
}

const API: &str = r#"mode = "api"
url = "https://platform.example/api"
ca_file = "ca.pem"
jpki_ca_file = "jpki-ca.pem"
client_cert = "client.pem"
client_key = "client.key"
terminal_id = "T0001"
terminal_password = "pw""#;

const LIB_WITH_SP: &str =
    "name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nservice_provider_id = \"SP1\"";

mod whole_file {
    use super::*;

    #[test]
    fn the_base_is_valid_and_defaults_apply() {
        let c = ok(&[]);
        assert!(c.card.require_pin);
        assert_eq!(c.card.library_card_login, LibraryCardLogin::Barcode);
        assert_eq!(c.session.warning(), Duration::from_secs(15));
        assert_eq!(c.session.pin_idle_timeout(), Duration::from_secs(30));
        assert_eq!(c.session.take_card_alarm(), Duration::from_secs(60));
        assert_eq!(c.admin.lockout, Duration::from_secs(300));
        assert_eq!(c.printer.paper_width, PaperWidth::Mm80);
        assert_eq!(
            c.printer.symbology,
            Symbology::Nw7 { start: Guard::A, stop: Guard::A, check: CheckDigit::None }
        );
        assert!(matches!(c.label.method_d, MethodD::On { print: false, accept: true, .. }));
    }

    #[test]
    fn a_missing_key_says_what_the_key_is() {
        let p = one(&[("ils", "mode = \"sip2\"")], "ils.host", "missing");
        assert_eq!(
            p.fix(),
            "add `host = \"ils.library.example\"` under [ils]: the SIP2 server's host name or address"
        );
    }

    #[test]
    fn syntax_error_gives_line_and_column() {
        let text = "[library]\nname = \"x\"\ninstitution_id = TEST\n";
        let Err(ConfigError::Invalid(p)) = config::parse(text, Path::new("/etc/kiosk/kiosk.toml")) else {
            panic!()
        };
        let first = p.iter().next().unwrap();
        assert_eq!((first.line(), first.column(), first.key()), (3, 18, "syntax"));
        assert!(p.to_string().starts_with("/etc/kiosk/kiosk.toml:3:18: syntax: "), "{p}");
    }

    #[test]
    fn duplicate_key_is_a_syntax_error() {
        let text = toml(&[("card", "mode = \"simulated\"\nmode = \"pcsc\"")]);
        let Err(ConfigError::Invalid(p)) = config::parse(&text, &origin()) else { panic!() };
        let first = p.iter().next().unwrap();
        assert_eq!(first.key(), "syntax");
        assert!(first.what().contains("duplicate"), "{first}");
    }

    #[test]
    fn unknown_section_suggests_the_right_one() {
        let found = problems(&[("plaform", "mode = \"simulated\"")]);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].to_string().contains("unknown section [plaform]; did you mean [platform]?"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn unknown_section_without_a_near_name_lists_the_sections() {
        let p = one(&[("colours", "x = 1")], "colours", "the sections are [library], [card]");
        assert!(p.what().contains("unknown section"));
    }

    #[test]
    fn key_above_every_section_is_refused() {
        let text = format!("port = 6001\n{}", toml(&[]));
        let Err(ConfigError::Invalid(p)) = config::parse(&text, &origin()) else { panic!() };
        let p: Vec<&Problem> = p.iter().collect();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line(), p[0].key()), (1, "port"));
        assert!(p[0].fix().contains("move it under [ils]"), "{}", p[0]);
    }

    #[test]
    fn a_section_written_as_a_list_of_tables_is_refused() {
        let text = toml(&[("io", "-")]) + "[[io]]\nbackend = \"none\"\n";
        let Err(ConfigError::Invalid(p)) = config::parse(&text, &origin()) else { panic!() };
        assert!(p.to_string().contains("[[io]] is a list of tables"), "{p}");
    }

    #[test]
    fn unknown_key_suggests_and_key_of_another_section_is_pointed_there() {
        one(
            &[("card", "mode = \"simulated\"\nrequire_ping = true")],
            "card.require_ping",
            "did you mean `require_pin`?",
        );
        one(
            &[("card", "mode = \"simulated\"\npaper_width_mm = 80")],
            "card.paper_width_mm",
            "belongs in [printer]",
        );
        one(
            &[("card", "mode = \"simulated\"\nfrobnicate = 1")],
            "card.frobnicate",
            "[card] takes mode, reader",
        );
        one(
            &[("card", "mode = \"simulated\"\n[card.extra]\nx = 1")],
            "card.extra",
            "unknown table `card.extra`",
        );
    }

    #[test]
    fn problems_come_in_file_order_one_per_line() {
        let text = toml(&[
            ("session", "idle_timeout_s = 5"),
            ("card", "mode = \"simulated\"\nrequire_pin = \"yes\""),
            ("io", "backend = \"gpoi\""),
        ]);
        let Err(ConfigError::Invalid(p)) = config::parse(&text, &origin()) else { panic!() };
        let lines: Vec<usize> = p.iter().map(Problem::line).collect();
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        assert_eq!(lines, sorted);
        assert_eq!(p.len(), 3);
        assert_eq!(p.to_string().lines().count(), 3);
        for line in p.to_string().lines() {
            assert!(line.starts_with(&format!("{}:", origin().display())), "{line}");
            assert!(line.contains("; "), "{line}");
        }
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_at_the_bad_byte() {
        let dir = std::env::temp_dir().join(format!("kiosk-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sjis.toml");
        std::fs::write(&path, b"[library]\nname = \"\x90\x7d\"\n").unwrap();
        let err = config::load(&path).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let ConfigError::Invalid(p) = err else { panic!() };
        let first = p.iter().next().unwrap();
        assert_eq!((first.line(), first.column(), first.key()), (2, 9, "file"));
    }

    #[test]
    fn relative_paths_resolve_against_the_config_files_directory() {
        let c = ok(&[]);
        let MethodD::On { token_key: config::TokenKey::File(f), .. } = c.label.method_d else { panic!() };
        assert_eq!(f.path(), fixtures().join("token.key"));
        // A bare file name as origin: relative to the current directory.
        let err = config::parse(&toml(&[]), Path::new("kiosk.toml")).unwrap_err();
        assert!(err.to_string().contains("./token.key does not exist"), "{err}");
    }
}

mod library {
    use super::*;

    #[test]
    fn missing_section_is_one_problem_at_the_top() {
        let p = one(&[("library", "-")], "library", "section [library] is missing");
        assert_eq!((p.line(), p.column()), (1, 1));
        assert!(p.fix().contains("name, institution_id and kiosk_id"));
    }

    #[test]
    fn missing_required_key_points_at_the_header() {
        let text = toml(&[("library", "name = \"x\"\ninstitution_id = \"TEST\"")]);
        let Err(ConfigError::Invalid(p)) = config::parse(&text, &origin()) else { panic!() };
        let p: Vec<&Problem> = p.iter().collect();
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line(), p[0].key(), p[0].what()), (1, "library.kiosk_id", "missing"));
        assert!(p[0].fix().contains("add `kiosk_id = "), "{}", p[0]);
    }

    #[test]
    fn values_are_checked() {
        one(
            &[("library", "name = \"  \"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"")],
            "library.name",
            "1 to 100",
        );
        one(
            &[("library", "name = \"x\"\ninstitution_id = \"A|B\"\nkiosk_id = \"t-01\"")],
            "library.institution_id",
            "`|`",
        );
        one(
            &[("library", "name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"中央 1\"")],
            "library.kiosk_id",
            "letters, digits",
        );
    }

    #[test]
    fn languages() {
        let c = ok(&[(
            "library",
            "name = \"x\"\ninstitution_id = \"T\"\nkiosk_id = \"k\"\nlanguages = [\"en\", \"ja\"]",
        )]);
        assert_eq!(c.library.languages.default_language(), config::Language::English);
        assert_eq!(c.library.languages.all().len(), 2);
        let lib = |langs: &str| {
            format!("name = \"x\"\ninstitution_id = \"T\"\nkiosk_id = \"k\"\nlanguages = {langs}")
        };
        one(&[("library", &lib("[\"ja\", \"fr\"]"))], "library.languages", "\"fr\" is not one of");
        one(&[("library", &lib("[\"ja\", \"ja\"]"))], "library.languages", "listed twice");
        one(&[("library", &lib("[]"))], "library.languages", "empty");
        one(&[("library", &lib("\"ja\""))], "library.languages", "expected a list");
    }

    #[test]
    fn service_provider_id_is_required_for_the_platform_api() {
        let p =
            one(&[("platform", API)], "library.service_provider_id", "needed when platform.mode = \"api\"");
        assert_eq!(p.line(), 1);
        let c = ok(&[("platform", API), ("library", LIB_WITH_SP)]);
        assert_eq!(c.library.service_provider_id.unwrap().as_str(), "SP1");
    }
}

mod card {
    use super::*;

    #[test]
    fn mode_reader_and_flags() {
        let c = ok(&[("card", "reader = \"RC-S380\"\nrequire_pin = false\nlibrary_card_login = \"off\"")]);
        assert_eq!(c.card.reader, config::CardReader::Pcsc { name_contains: "RC-S380".into() });
        assert!(!c.card.require_pin);
        assert_eq!(c.card.library_card_login, LibraryCardLogin::Off);
        assert_eq!(c.session_policy().library_card_login, LibraryCardLogin::Off);
        let p = ok(&[("card", "library_card_login = \"barcode+password\"")]);
        assert_eq!(p.session_policy().library_card_login, LibraryCardLogin::BarcodeAndPassword);
        assert!(p.summary().contains("library card barcode+password;"), "{}", p.summary());
        let p = ok(&[
            ("card", "library_card_login = \"barcode+password\""),
            ("ils", "mode = \"sip2\"\nhost = \"ils.library.example\""),
        ]);
        assert!(
            p.summary().contains("barcode+password (the password crosses the network in clear"),
            "{}",
            p.summary()
        );
        assert!(ok(&[]).summary().contains("library card barcode (anyone holding"), "{}", ok(&[]).summary());
        one(
            &[("card", "library_card_login = \"password\"")],
            "card.library_card_login",
            "\"barcode+password\"",
        );
        // The key it replaced is named with what to write instead.
        one(
            &[("card", "allow_library_card = false")],
            "card.allow_library_card",
            "write library_card_login = \"barcode\" for true or \"off\" for false",
        );
        // check-config says what the library gives up without the PIN.
        assert!(c.summary().contains("PIN not required (no proof of possession"), "{}", c.summary());
        assert!(ok(&[]).summary().contains("PIN required;"), "{}", ok(&[]).summary());
        one(&[("card", "mode = \"simualted\"")], "card.mode", "did you mean \"simulated\"?");
        one(
            &[("card", "mode = \"simulated\"\nreader = \"x\"")],
            "card.reader",
            "not used when mode = \"simulated\"",
        );
        one(
            &[("card", "require_pin = \"yes\"")],
            "card.require_pin",
            "expected true or false, found a string",
        );
    }

    #[test]
    fn no_method_d_at_all_needs_no_key() {
        let c = ok(&[("card", "mode = \"simulated\"\nallow_method_d_label = false"), ("label", "-")]);
        assert_eq!(c.label.method_d, MethodD::Off);
    }
}

mod platform {
    use super::*;

    fn api_with(extra: &str) -> String {
        format!("{API}\n{extra}")
    }

    fn api_without(key: &str) -> String {
        API.lines().filter(|l| !l.starts_with(key)).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn the_api_mode_takes_its_settings() {
        let c = ok(&[
            ("platform", &api_with("offline_policy = \"grace\"\nconnect_timeout_s = 3")),
            ("library", LIB_WITH_SP),
        ]);
        let Platform::Api { endpoint, terminal, .. } = c.platform else { panic!() };
        assert_eq!(endpoint.offline_policy, Grace::UntilNextUpdate);
        assert_eq!(endpoint.connect_timeout, Duration::from_secs(3));
        assert_eq!(endpoint.request_timeout, Duration::from_secs(10));
        assert_eq!(endpoint.url.host().as_str(), "platform.example");
        assert_eq!(terminal.id.as_str(), "T0001");
    }

    #[test]
    fn an_unregistered_terminal_has_neither_file_yet() {
        let text = API
            .replace("\"client.pem\"", "\"unregistered.pem\"")
            .replace("\"client.key\"", "\"unregistered.key\"");
        let c = ok(&[("platform", &text), ("library", LIB_WITH_SP)]);
        let Platform::Api { client, .. } = c.platform else { panic!() };
        assert!(matches!(client, config::TerminalIdentity::Unregistered { .. }), "{client:?}");
        assert!(client.cert_path().ends_with("unregistered.pem"));
        let c = ok(&[("platform", API), ("library", LIB_WITH_SP)]);
        let Platform::Api { client, .. } = c.platform else { panic!() };
        assert!(matches!(client, config::TerminalIdentity::Registered(_)), "{client:?}");
    }

    #[test]
    fn half_a_registration_is_refused_with_what_to_do() {
        let p = one(
            &[("platform", &API.replace("\"client.key\"", "\"gone.key\"")), ("library", LIB_WITH_SP)],
            "platform.client_key",
            "does not exist, but client_cert does: registration writes both",
        );
        assert!(p.fix().contains("register the terminal again"), "{p}");
        one(
            &[("platform", &API.replace("\"client.pem\"", "\"gone.pem\"")), ("library", LIB_WITH_SP)],
            "platform.client_cert",
            "does not exist, but client_key does",
        );
        // Registration must be able to write where the files go.
        let nowhere = API
            .replace("\"client.pem\"", "\"/nonexistent/t.pem\"")
            .replace("\"client.key\"", "\"/nonexistent/t.key\"");
        let found = problems(&[("platform", &nowhere), ("library", LIB_WITH_SP)]);
        let keys: Vec<&str> = found.iter().map(Problem::key).collect();
        assert_eq!(keys, ["platform.client_cert", "platform.client_key"], "{found:?}");
        assert!(
            found.iter().all(|p| p.what().contains("directory /nonexistent does not exist")),
            "{found:?}"
        );
    }

    #[test]
    fn missing_section_and_missing_mode() {
        one(&[("platform", "-")], "platform", "section [platform] is missing");
        one(&[("platform", "offline_policy = \"refuse\"")], "platform.mode", "missing");
    }

    #[test]
    fn api_requires_each_of_its_keys() {
        for key in [
            "url",
            "ca_file",
            "jpki_ca_file",
            "client_cert",
            "client_key",
            "terminal_id",
            "terminal_password",
        ] {
            let p = one(
                &[("platform", &api_without(key)), ("library", LIB_WITH_SP)],
                &format!("platform.{key}"),
                "missing",
            );
            assert!(
                p.what().contains("needed when mode = \"api\"") || p.what().contains("needed with"),
                "{p}"
            );
        }
    }

    #[test]
    fn urls_must_be_https() {
        let text = API.replace("https://platform.example/api", "http://platform.example/api");
        one(&[("platform", &text), ("library", LIB_WITH_SP)], "platform.url", "change http:// to https://");
    }

    #[test]
    fn files_must_exist_and_hold_the_right_content() {
        let with = |from: &str, to: &str| API.replace(from, to);
        let p = one(
            &[("platform", &with("\"ca.pem\"", "\"/etc/kiosk/ca.pem\"")), ("library", LIB_WITH_SP)],
            "platform.ca_file",
            "",
        );
        assert_eq!(p.what(), "/etc/kiosk/ca.pem does not exist");
        one(
            &[("platform", &with("\"ca.pem\"", "\"not-a-cert.txt\"")), ("library", LIB_WITH_SP)],
            "platform.ca_file",
            "not a PEM certificate",
        );
        one(
            &[("platform", &with("\"ca.pem\"", "\".\"")), ("library", LIB_WITH_SP)],
            "platform.ca_file",
            "not a regular file",
        );
        one(
            &[("platform", &with("\"client.key\"", "\"client.pem\"")), ("library", LIB_WITH_SP)],
            "platform.client_key",
            "holds a certificate, not a private key",
        );
        one(
            &[("platform", &with("\"client.pem\"", "\"client.key\"")), ("library", LIB_WITH_SP)],
            "platform.client_cert",
            "holds a private key, not a certificate",
        );
        one(
            &[("platform", &with("\"jpki-ca.pem\"", "\"missing.pem\"")), ("library", LIB_WITH_SP)],
            "platform.jpki_ca_file",
            "does not exist",
        );
    }

    #[test]
    fn timeouts_are_ranged_and_ordered() {
        one(
            &[("platform", &api_with("connect_timeout_s = 0")), ("library", LIB_WITH_SP)],
            "platform.connect_timeout_s",
            "0 seconds is out of range; use a value from 1 to 300 seconds",
        );
        one(
            &[("platform", &api_with("request_timeout_s = 301")), ("library", LIB_WITH_SP)],
            "platform.request_timeout_s",
            "out of range",
        );
        one(
            &[("platform", &api_with("request_timeout_s = 2.5")), ("library", LIB_WITH_SP)],
            "platform.request_timeout_s",
            "expected a whole number, found a float",
        );
        one(
            &[
                ("platform", &api_with("connect_timeout_s = 20\nrequest_timeout_s = 10")),
                ("library", LIB_WITH_SP),
            ],
            "platform.connect_timeout_s",
            "longer than request_timeout_s",
        );
        one(
            &[("platform", &api_with("offline_policy = \"ignore\"")), ("library", LIB_WITH_SP)],
            "platform.offline_policy",
            "use one of \"refuse\", \"grace\"",
        );
    }

    const CRL: &str = r#"mode = "crl"
url = "https://crl.example/jpki.crl"
ca_file = "ca.pem"
jpki_ca_file = "jpki-ca.pem"
link_store = "links.db"
link_key_file = "link.key""#;

    #[test]
    fn crl_and_ocsp_use_the_link_store() {
        let c = ok(&[("platform", &format!("{CRL}\ncrl_refresh_s = 600"))]);
        let Platform::Crl { links, refresh, client, .. } = c.platform else { panic!() };
        assert_eq!(refresh, Duration::from_secs(600));
        assert!(client.is_none());
        assert_eq!(links.path.path(), fixtures().join("links.db"));
        let ocsp = CRL.replace("\"crl\"", "\"ocsp\"");
        assert!(matches!(ok(&[("platform", &ocsp)]).platform, Platform::Ocsp { .. }));
        one(
            &[("platform", &format!("{ocsp}\ncrl_refresh_s = 600"))],
            "platform.crl_refresh_s",
            "not used when mode = \"ocsp\"",
        );
        one(
            &[("platform", &format!("{CRL}\ncrl_refresh_s = 30"))],
            "platform.crl_refresh_s",
            "from 60 to 86400",
        );
        one(
            &[("platform", &format!("{CRL}\nterminal_id = \"T1\""))],
            "platform.terminal_id",
            "not used when mode = \"crl\"",
        );
        one(
            &[("platform", &CRL.replace("\"links.db\"", "\"no/such/dir/links.db\""))],
            "platform.link_store",
            "does not exist",
        );
        one(&[("platform", &CRL.replace("\"links.db\"", "\".\""))], "platform.link_store", "is a directory");
        one(
            &[("platform", &CRL.replace("\"link.key\"", "\"short.key\""))],
            "platform.link_key_file",
            "holds 6 bytes; a key needs at least 32",
        );
        one(
            &[("platform", &format!("{CRL}\nclient_cert = \"client.pem\""))],
            "platform.client_key",
            "needed with client_cert",
        );
        let with_client = format!("{CRL}\nclient_cert = \"client.pem\"\nclient_key = \"client.key\"");
        assert!(matches!(ok(&[("platform", &with_client)]).platform, Platform::Crl { client: Some(_), .. }));
    }

    #[test]
    fn a_shared_link_store_needs_its_certificates_and_municipality() {
        let shared = format!(
            "{CRL}\nlink_server = \"postgresql://kiosk-01@links.city.lan:5432/kiosk_links\"\n\
             link_server_ca_file = \"ca.pem\"\nlink_client_cert = \"client.pem\"\nlink_client_key = \"client.key\"\n\
             municipality = \"132012\""
        );
        let Platform::Crl { links, .. } = ok(&[("platform", &shared)]).platform else { panic!() };
        let s = links.shared.expect("a shared store");
        assert_eq!((s.municipality.as_str(), s.refresh), ("132012", Duration::from_secs(2)));
        let Platform::Crl { links, .. } =
            ok(&[("platform", &format!("{shared}\nlink_refresh_s = 30"))]).platform
        else {
            panic!()
        };
        assert_eq!(links.shared.map(|s| s.refresh), Some(Duration::from_secs(30)));
        one(
            &[("platform", &shared.replace("municipality = \"132012\"", ""))],
            "platform.municipality",
            "needed with link_server",
        );
        one(
            &[("platform", &shared.replace("link_client_key = \"client.key\"", ""))],
            "platform.link_client_key",
            "needed with link_server",
        );
        one(
            &[("platform", &shared.replace("kiosk-01@", ""))],
            "platform.link_server",
            "no role before the @",
        );
        one(
            &[("platform", &shared.replace("kiosk-01@", "kiosk-01:secret@"))],
            "platform.link_server",
            "holds a password",
        );
        one(
            &[("platform", &shared.replace("\"132012\"", "\"13 20\""))],
            "platform.municipality",
            "not a municipality code",
        );
        one(
            &[("platform", &format!("{CRL}\nmunicipality = \"132012\""))],
            "platform.municipality",
            "set without link_server",
        );
    }

    #[test]
    fn simulated_takes_no_other_key() {
        let p = one(
            &[("platform", "mode = \"simulated\"\nurl = \"https://x\"")],
            "platform.url",
            "is not used when mode = \"simulated\"",
        );
        assert_eq!(p.line(), 11);
    }

    #[test]
    fn an_invalid_mode_does_not_flood_with_unused_keys() {
        let found = problems(&[("platform", &API.replace("\"api\"", "\"apy\"")), ("library", LIB_WITH_SP)]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].fix().contains("did you mean \"api\"?"));
    }
}

mod ils {
    use super::*;

    const SIP2: &str = "mode = \"sip2\"\nhost = \"ils.library.example\"";

    #[test]
    fn sip2_defaults_and_settings() {
        let c = ok(&[("ils", SIP2)]);
        let Ils::Sip2(s) = c.ils else { panic!() };
        assert_eq!((s.port.get(), s.encoding, s.retries), (6001, Charset::Utf8, 2));
        assert_eq!((s.request_timeout.as_secs(), s.keepalive.as_secs()), (10, 60));
        assert!(s.tls.is_none() && s.login.is_none() && s.location_code.is_none());
        let c = ok(&[(
            "ils",
            &format!(
                "{SIP2}\nport = 7000\ntls = true\nca_file = \"ca.pem\"\nlogin_user = \"u\"\nlogin_password = \"p\"\nencoding = \"shift_jis\"\nlocation_code = \"CHUO\""
            ),
        )]);
        let Ils::Sip2(s) = c.ils else { panic!() };
        assert_eq!((s.port.get(), s.encoding), (7000, Charset::Cp932));
        assert!(s.tls.is_some() && s.login.is_some());
    }

    #[test]
    fn each_check() {
        one(&[("ils", "-")], "ils", "section [ils] is missing");
        one(&[("ils", "mode = \"sip2\"")], "ils.host", "missing, needed when mode = \"sip2\"");
        one(&[("ils", "mode = \"sip2\"\nhost = \"ils:6001\"")], "ils.host", "not a bare host name");
        one(&[("ils", &format!("{SIP2}\nport = 0"))], "ils.port", "0 is out of range");
        one(&[("ils", &format!("{SIP2}\nport = 70000"))], "ils.port", "from 1 to 65535");
        one(&[("ils", &format!("{SIP2}\ntls = true"))], "ils.ca_file", "needed when tls = true");
        one(&[("ils", &format!("{SIP2}\nca_file = \"ca.pem\""))], "ils.ca_file", "not used when tls = false");
        one(
            &[("ils", &format!("{SIP2}\ntls = true\nca_file = \"nope.pem\""))],
            "ils.ca_file",
            "does not exist",
        );
        one(
            &[("ils", &format!("{SIP2}\nlogin_user = \"u\""))],
            "ils.login_password",
            "needed with login_user",
        );
        one(
            &[("ils", &format!("{SIP2}\nlogin_password = \"p\""))],
            "ils.login_user",
            "needed with login_password",
        );
        one(&[("ils", &format!("{SIP2}\nencoding = \"sjis\""))], "ils.encoding", "\"utf-8\", \"shift_jis\"");
        one(&[("ils", &format!("{SIP2}\nretries = 11"))], "ils.retries", "from 0 to 10");
        one(&[("ils", &format!("{SIP2}\nkeepalive_s = 5"))], "ils.keepalive_s", "from 10 to 3600");
        one(&[("ils", &format!("{SIP2}\nrequest_timeout_s = 0"))], "ils.request_timeout_s", "from 1 to 300");
        one(&[("ils", &format!("{SIP2}\nlocation_code = \"\""))], "ils.location_code", "1 to 64");
        one(
            &[("ils", "mode = \"simulated\"\nport = 6001")],
            "ils.port",
            "not used when mode = \"simulated\"",
        );
    }

    #[test]
    fn the_profile_gives_resend_and_charged_items_unless_they_are_set() {
        let sip2 = |extra: &str| {
            let Ils::Sip2(s) = ok(&[("ils", &format!("{SIP2}\n{extra}"))]).ils else { panic!() };
            s
        };
        let s = sip2("");
        assert_eq!(
            (s.profile, s.resend, s.charged_items),
            (Profile::Generic, Resend::Request, ChargedItems::Barcode)
        );
        assert!(!s.override_checkout_not_allowed);
        let s = sip2("profile = \"evergreen\"");
        assert_eq!((s.resend, s.charged_items), (Resend::Request, ChargedItems::Title));
        let s = sip2("profile = \"folio\"");
        assert_eq!((s.resend, s.charged_items), (Resend::AcsResend, ChargedItems::Barcode));
        for (name, profile) in
            [("koha", Profile::Koha), ("sierra", Profile::Sierra), ("polaris", Profile::Polaris)]
        {
            let s = sip2(&format!("profile = \"{name}\""));
            assert_eq!(
                (s.profile, s.resend, s.charged_items),
                (profile, Resend::Request, ChargedItems::Barcode)
            );
        }
        // Set keys win over the profile.
        let s = sip2("profile = \"evergreen\"\nresend = \"97\"\ncharged_items = \"barcode\"");
        assert_eq!((s.resend, s.charged_items), (Resend::AcsResend, ChargedItems::Barcode));
        let s = sip2("charged_items = \"title\"");
        assert_eq!(s.charged_items, ChargedItems::Title);
    }

    #[test]
    fn the_checkout_override_is_read_and_shown_by_check_config() {
        let c = ok(&[("ils", &format!("{SIP2}\noverride_checkout_not_allowed = true"))]);
        let summary = c.summary();
        let Ils::Sip2(s) = c.ils else { panic!() };
        assert!(s.override_checkout_not_allowed);
        assert!(summary.contains("ils.override_checkout_not_allowed"), "{summary}");
        let summary = ok(&[("ils", &format!("{SIP2}\nprofile = \"koha\""))]).summary();
        assert!(summary.contains("profile koha") && !summary.contains("override"), "{summary}");
    }

    #[test]
    fn the_library_system_keys_are_checked() {
        let p = one(
            &[("ils", &format!("{SIP2}\nprofile = \"evergren\""))],
            "ils.profile",
            "did you mean \"evergreen\"?",
        );
        assert!(
            p.fix().contains("\"generic\", \"koha\", \"evergreen\", \"folio\", \"sierra\", \"polaris\""),
            "{p}"
        );
        one(&[("ils", &format!("{SIP2}\nresend = \"98\""))], "ils.resend", "use one of \"request\", \"97\"");
        one(&[("ils", &format!("{SIP2}\nresend = 97"))], "ils.resend", "in double quotes");
        one(
            &[("ils", &format!("{SIP2}\ncharged_items = \"titles\""))],
            "ils.charged_items",
            "did you mean \"title\"?",
        );
        one(
            &[("ils", &format!("{SIP2}\noverride_checkout_not_allowed = \"yes\""))],
            "ils.override_checkout_not_allowed",
            "write override_checkout_not_allowed = true or override_checkout_not_allowed = false",
        );
        one(
            &[("ils", "mode = \"simulated\"\nprofile = \"koha\"")],
            "ils.profile",
            "not used when mode = \"simulated\"",
        );
        // Every problem at once.
        let found = problems(&[(
            "ils",
            &format!("{SIP2}\nprofile = \"kohaa\"\nresend = \"96\"\noverride_checkout_not_allowed = 1"),
        )]);
        let keys: Vec<&str> = found.iter().map(Problem::key).collect();
        assert_eq!(keys, ["ils.profile", "ils.resend", "ils.override_checkout_not_allowed"]);
    }

    #[test]
    fn a_wrong_tls_value_still_checks_the_ca_file() {
        let found = problems(&[("ils", &format!("{SIP2}\ntls = \"yes\"\nca_file = \"nope.pem\""))]);
        let keys: Vec<&str> = found.iter().map(Problem::key).collect();
        assert_eq!(keys, ["ils.tls", "ils.ca_file"]);
    }
}

mod printer {
    use super::*;

    #[test]
    fn transports() {
        let t = |body: &str| ok(&[("printer", body)]).printer.transport;
        assert_eq!(
            t("transport = \"usb\"\nvendor_id = 0x04b8\nproduct_id = 0x0202"),
            PrinterTransport::Usb { vendor_id: 0x04b8, product_id: 0x0202 }
        );
        let PrinterTransport::Tcp { host, port } = t("transport = \"tcp\"\nhost = \"192.0.2.50\"") else {
            panic!()
        };
        assert_eq!((host.as_str(), port.get()), ("192.0.2.50", 9100));
        let PrinterTransport::Serial { device, baud } =
            t("transport = \"serial\"\ndevice = \"/dev/ttyUSB0\"")
        else {
            panic!()
        };
        assert_eq!((device.path(), baud), (Path::new("/dev/ttyUSB0"), 9600));
        assert!(matches!(t("transport = \"file\"\npath = \"out.bin\""), PrinterTransport::File { .. }));
        assert_eq!(t("transport = \"none\""), PrinterTransport::None);
    }

    #[test]
    fn each_check() {
        one(&[("printer", "-")], "printer", "section [printer] is missing");
        one(
            &[("printer", "transport = \"usb\"\nproduct_id = 1")],
            "printer.vendor_id",
            "needed when transport = \"usb\"",
        );
        one(
            &[("printer", "transport = \"usb\"\nvendor_id = 0\nproduct_id = 1")],
            "printer.vendor_id",
            "from 1 to 65535",
        );
        one(&[("printer", "transport = \"tcp\"")], "printer.host", "missing");
        one(
            &[("printer", "transport = \"tcp\"\nhost = \"p\"\nport = 99999")],
            "printer.port",
            "out of range",
        );
        one(
            &[("printer", "transport = \"serial\"\ndevice = \"ttyUSB0\"")],
            "printer.device",
            "not an absolute device path",
        );
        one(
            &[("printer", "transport = \"serial\"\ndevice = \"/dev/ttyS0\"\nbaud = 1234")],
            "printer.baud",
            "not a standard baud rate",
        );
        one(
            &[("printer", "transport = \"file\"\npath = \"nowhere/out.bin\"")],
            "printer.path",
            "does not exist",
        );
        one(
            &[("printer", "transport = \"usb\"\nvendor_id = 1\nproduct_id = 1\nhost = \"p\"")],
            "printer.host",
            "not used when transport = \"usb\"",
        );
        one(
            &[("printer", "transport = \"simulated\"\npaper_width_mm = 70")],
            "printer.paper_width_mm",
            "use 58 or 80",
        );
        one(
            &[("printer", "transport = \"simulated\"\nbarcode = \"qr\"")],
            "printer.barcode",
            "\"nw7\", \"code128\"",
        );
        one(
            &[("printer", "transport = \"simulated\"\nnw7_start = \"E\"")],
            "printer.nw7_start",
            "\"A\", \"B\", \"C\", \"D\"",
        );
        one(
            &[("printer", "transport = \"simulated\"\nbarcode = \"code128\"\nnw7_stop = \"B\"")],
            "printer.nw7_stop",
            "not used when barcode = \"code128\"",
        );
        one(
            &[("printer", "transport = \"simulated\"\nbarcode = \"code128\"\ncheck_digit = \"mod16\"")],
            "printer.check_digit",
            "NW-7",
        );
        one(
            &[("printer", "transport = \"simulated\"\ncheck_digit = \"luhn\"")],
            "printer.check_digit",
            "\"mod10w21\"",
        );
        one(
            &[("printer", "transport = \"simulated\"\nlabel_length_mm = 10")],
            "printer.label_length_mm",
            "from 20 to 300 mm",
        );
    }

    #[test]
    fn settings() {
        let p = ok(&[("printer", "transport = \"simulated\"\npaper_width_mm = 58\nnw7_start = \"C\"\nnw7_stop = \"D\"\ncheck_digit = \"mod16\"\nlabel_length_mm = 60")]).printer;
        assert_eq!(p.paper_width, PaperWidth::Mm58);
        assert_eq!(p.symbology, Symbology::Nw7 { start: Guard::C, stop: Guard::D, check: CheckDigit::Mod16 });
        assert_eq!(p.label_length_mm, Some(60));
        assert_eq!(
            ok(&[("printer", "transport = \"simulated\"\nbarcode = \"code128\"")]).printer.symbology,
            Symbology::Code128 { check: CheckDigit::None }
        );
    }
}

mod label {
    use super::*;

    #[test]
    fn each_check() {
        one(
            &[("label", "-")],
            "label.token_key_file",
            "needed when card.allow_method_d_label = true (the default)",
        );
        one(&[("label", "token_key_file = \"short.key\"")], "label.token_key_file", "at least 32");
        one(&[("label", "token_key_file = \"absent.key\"")], "label.token_key_file", "does not exist");
        one(
            &[
                ("label", "method_d = true\ntoken_key_file = \"token.key\""),
                ("printer", "transport = \"none\""),
            ],
            "label.method_d",
            "need a printer",
        );
        one(
            &[
                ("card", "mode = \"simulated\"\nallow_method_d_label = false"),
                ("label", "token_key_file = \"token.key\""),
            ],
            "label.token_key_file",
            "not used when label.method_d = false and card.allow_method_d_label = false",
        );
        one(
            &[("card", "mode = \"simulated\"\nallow_method_d_label = false"), ("label", "method_d = true")],
            "label.token_key_file",
            "needed when label.method_d = true",
        );
    }

    #[test]
    fn print_only() {
        let c = ok(&[
            ("card", "mode = \"simulated\"\nallow_method_d_label = false"),
            ("label", "method_d = true\ntoken_key_file = \"token.key\""),
        ]);
        assert!(matches!(c.label.method_d, MethodD::On { print: true, accept: false, .. }));
    }
}

mod io {
    use super::*;

    #[test]
    fn gpio_pins() {
        let c = ok(&[("io", "backend = \"gpio\"\nlamp_pin = 17\nbuzzer_pin = 27\ngate_pin = 0")]);
        let Io::Gpio(p) = c.io else { panic!() };
        assert_eq!((p.lamp().bcm(), p.buzzer().bcm(), p.gate().map(config::GpioPin::bcm)), (17, 27, Some(0)));
        assert_eq!(ok(&[("io", "backend = \"none\"")]).io, Io::None);
    }

    #[test]
    fn each_check() {
        one(&[("io", "-")], "io", "section [io] is missing");
        one(&[("io", "backend = \"gpio\"\nlamp_pin = 28\nbuzzer_pin = 27")], "io.lamp_pin", "from 0 to 27");
        let p = one(
            &[("io", "backend = \"gpio\"\nlamp_pin = 17\nbuzzer_pin = 17")],
            "io.buzzer_pin",
            "GPIO 17 is already used by io.lamp_pin",
        );
        assert!(p.fix().contains("own GPIO line"));
        one(
            &[("io", "backend = \"gpio\"\nlamp_pin = 17\nbuzzer_pin = 27\ngate_pin = 27")],
            "io.gate_pin",
            "already used by io.buzzer_pin",
        );
        one(
            &[("io", "backend = \"gpio\"\nbuzzer_pin = 27")],
            "io.lamp_pin",
            "needed when backend = \"gpio\"",
        );
        one(
            &[("io", "backend = \"none\"\ngate_pin = 22")],
            "io.gate_pin",
            "not used when backend = \"none\"",
        );
        one(
            &[("io", "backend = \"gpio\"\nlamp_pin = \"17\"\nbuzzer_pin = 27")],
            "io.lamp_pin",
            "expected a whole number, found a string",
        );
    }
}

mod admin {
    use super::*;

    #[test]
    fn each_check() {
        one(&[("admin", "-")], "admin", "kiosk hash-staff-pin");
        one(&[("admin", "lockout_s = 60")], "admin.staff_pin_hash", "missing");
        one(&[("admin", "staff_pin_hash = \"0000\"")], "admin.staff_pin_hash", "not an argon2 PHC string");
        let weak =
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE";
        one(&[("admin", &format!("staff_pin_hash = \"{weak}\""))], "admin.staff_pin_hash", "too weak");
        let body = |extra: &str| format!("staff_pin_hash = \"{HASH}\"\n{extra}");
        one(&[("admin", &body("lockout_attempts = 0"))], "admin.lockout_attempts", "from 1 to 20");
        one(&[("admin", &body("lockout_s = 10"))], "admin.lockout_s", "from 30 to 3600 seconds");
        let c = ok(&[("admin", &body("lockout_attempts = 3\nlockout_s = 600"))]);
        assert_eq!((c.admin.lockout_attempts.get(), c.admin.lockout.as_secs()), (3, 600));
    }
}

mod session {
    use super::*;

    #[test]
    fn each_check() {
        let c = ok(&[(
            "session",
            "idle_timeout_s = 120\nwarning_s = 20\npin_idle_timeout_s = 20\ntake_card_alarm_s = 30",
        )]);
        assert_eq!(c.session.idle_timeout().as_secs(), 120);
        assert_eq!(c.session.warning().as_secs(), 20);
        one(&[("session", "idle_timeout_s = 10")], "session.idle_timeout_s", "from 15 to 600");
        one(&[("session", "warning_s = 200")], "session.warning_s", "from 5 to 120");
        one(&[("session", "pin_idle_timeout_s = 5")], "session.pin_idle_timeout_s", "from 10 to 120");
        one(&[("session", "take_card_alarm_s = 1000")], "session.take_card_alarm_s", "from 10 to 600");
        let p = one(
            &[("session", "idle_timeout_s = 20\nwarning_s = 20")],
            "session.warning_s",
            "must come before the idle timeout",
        );
        assert!(p.fix().contains("shorter"));
        one(
            &[("session", "idle_timeout_s = 15")],
            "session.warning_s",
            "(15 s) must come before the idle timeout (15 s)",
        );
    }
}

mod scanner {
    use super::*;

    #[test]
    fn without_the_section_there_is_none_and_the_defaults_apply() {
        let s = ok(&[]).scanner;
        assert_eq!(s.source, config::ScannerSource::None);
        assert_eq!((s.layout, s.terminator), (kiosk_scanner::Layout::Us, kiosk_scanner::Terminator::Enter));
        assert_eq!(s.debounce, Duration::from_millis(1500));
        assert_eq!((s.library_card_prefix.as_str(), s.staff_card_prefix), ("", None));
    }

    #[test]
    fn kinds_and_settings() {
        let s = ok(&[(
            "scanner",
            "kind = \"serial\"\ndevice = \"/dev/ttyACM0\"\nbaud = 115200\nlayout = \"jis\"\nterminator = \"tab\"\n\
             debounce_ms = 0\nlibrary_card_prefix = \"23\"\nstaff_card_prefix = \"STAFF\"",
        )])
        .scanner;
        let config::ScannerSource::Serial { device, baud } = s.source else { panic!("{:?}", s.source) };
        assert_eq!((device.path(), baud), (Path::new("/dev/ttyACM0"), 115_200));
        assert_eq!((s.layout, s.terminator), (kiosk_scanner::Layout::Jis, kiosk_scanner::Terminator::Tab));
        assert_eq!(s.debounce, Duration::ZERO);
        assert_eq!((s.library_card_prefix.as_str(), s.staff_card_prefix.as_deref()), ("23", Some("STAFF")));
        let s = ok(&[("scanner", "kind = \"fifo\"\npath = \"scans\"")]).scanner;
        assert!(matches!(s.source, config::ScannerSource::Fifo { .. }), "{:?}", s.source);
    }

    #[test]
    fn each_check() {
        one(&[("scanner", "device = \"/dev/ttyACM0\"")], "scanner.kind", "missing");
        one(&[("scanner", "kind = \"evdev\"")], "scanner.device", "needed when kind = \"evdev\"");
        let p = one(
            &[("scanner", "kind = \"serial\"\ndevice = \"/dev/ttyACM0\"\nbaud = 1234")],
            "scanner.baud",
            "1234 is not a standard baud rate",
        );
        assert!(p.fix().contains("115200 (the scanner's manual says which)"), "{p}");
        one(
            &[("scanner", "kind = \"serial\"\ndevice = \"/dev/ttyACM0\"\nbaud = \"9600\"")],
            "scanner.baud",
            "write one of 1200, 2400",
        );
        one(&[("scanner", "kind = \"none\"\nbaud = 9600")], "scanner.baud", "not used when kind = \"none\"");
        one(
            &[("scanner", "kind = \"none\"\ndebounce_ms = 20000")],
            "scanner.debounce_ms",
            "from 0 to 10000 ms",
        );
        one(&[("scanner", "kind = \"none\"\nlayout = \"azerty\"")], "scanner.layout", "\"us\", \"jis\"");
        one(
            &[("scanner", "kind = \"none\"\nterminator = \"none\"")],
            "scanner.terminator",
            "\"enter\", \"tab\"",
        );
        one(
            &[("scanner", "kind = \"none\"\nlibrary_card_prefix = \"2A\"")],
            "scanner.library_card_prefix",
            "not up to 12 digits",
        );
        one(
            &[("scanner", "kind = \"none\"\ndebounce_sm = 10")],
            "scanner.debounce_sm",
            "did you mean `debounce_ms`?",
        );
    }
}

mod counter {
    use super::*;

    const COUNTER_LIB: &str =
        "name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nmode = \"counter\"";

    #[test]
    fn defaults_are_pin_on_check_on_every_method() {
        let c = ok(&[("library", COUNTER_LIB), ("label", "method_d = true\ntoken_key_file = \"token.key\"")]);
        let counter = c.mode.counter().expect("counter mode");
        assert!(c.card.require_pin && counter.check_revocation);
        assert_eq!(counter.methods, [HandOff::Digits, HandOff::Barcode, HandOff::Keyboard, HandOff::Label]);
        assert_eq!(counter.show_for, Duration::from_secs(30));
        assert_eq!(counter.keyboard.device.path(), Path::new("/dev/hidg0"));
        assert_eq!(counter.keyboard.layout, Layout::Jis);
        assert_eq!(counter.keyboard.terminator, TypedTerminator::Enter);
        // A counter never lets a library card or label log in to borrow.
        let p = c.session_policy();
        assert!(
            p.library_card_login == LibraryCardLogin::Off && !p.allow_method_d_login && p.counter.is_some()
        );
        assert!(c.summary().contains("library card off (a counter)"), "{}", c.summary());
        assert_eq!(ok(&[]).mode, Mode::SelfCheckout);
    }

    #[test]
    fn every_setting() {
        let c = ok(&[
            ("library", COUNTER_LIB),
            ("card", "mode = \"simulated\"\nrequire_pin = false"),
            (
                "counter",
                "methods = [\"keyboard\", \"digits\"]\nshow_s = 10\nkeyboard_device = \"/dev/hidg1\"\n\
                 keyboard_layout = \"us\"\nkeyboard_terminator = \"tab\"\nkey_delay_ms = 30",
            ),
        ]);
        let counter = c.mode.counter().unwrap();
        assert!(!c.card.require_pin);
        assert_eq!(counter.methods, [HandOff::Keyboard, HandOff::Digits]);
        assert_eq!(counter.show_for, Duration::from_secs(10));
        assert_eq!(counter.keyboard.layout, Layout::Us);
        assert_eq!(counter.keyboard.terminator.text(), "\t");
        assert_eq!(counter.keyboard.key_delay, Duration::from_millis(30));
    }

    #[test]
    fn counter_keys_on_a_self_checkout_kiosk_are_refused() {
        one(&[("counter", "show_s = 10")], "counter.show_s", "library.mode = \"self-checkout\"");
    }

    #[test]
    fn bad_values_are_named() {
        one(&[("library", COUNTER_LIB), ("counter", "show_s = 2")], "counter.show_s", "from 5 to 600");
        one(&[("library", COUNTER_LIB), ("counter", "methods = [\"fax\"]")], "counter.methods", "\"fax\"");
        one(&[("library", COUNTER_LIB), ("counter", "methods = []")], "counter.methods", "empty");
        one(
            &[("library", COUNTER_LIB), ("counter", "keyboard_device = \"hidg0\"")],
            "counter.keyboard_device",
            "absolute",
        );
        one(
            &[("library", COUNTER_LIB), ("counter", "key_delay_ms = 500")],
            "counter.key_delay_ms",
            "0 to 200",
        );
        one(
            &[("library", "name = \"x\"\ninstitution_id = \"T\"\nkiosk_id = \"t\"\nmode = \"desk\"")],
            "library.mode",
            "\"desk\"",
        );
    }

    #[test]
    fn no_revocation_check_needs_a_link_store() {
        let lib = "name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nservice_provider_id = \"SP1\"\nmode = \"counter\"";
        one(
            &[("library", lib), ("platform", API), ("counter", "check_revocation = false")],
            "counter.check_revocation",
            "link store",
        );
    }

    #[test]
    fn a_label_method_needs_labels() {
        one(
            &[
                ("library", COUNTER_LIB),
                ("label", "method_d = false\ntoken_key_file = \"token.key\""),
                ("counter", "methods = [\"digits\", \"label\"]"),
            ],
            "counter.methods",
            "label.method_d = true",
        );
        // Without the list, D is simply left out.
        let c =
            ok(&[("library", COUNTER_LIB), ("label", "method_d = false\ntoken_key_file = \"token.key\"")]);
        assert!(!c.mode.counter().unwrap().methods.contains(&HandOff::Label));
    }
}

/// `library.card_name`: the library's word for its card reaches the Japanese screens
/// (through the console's scene); a bad value is named with its fix.
mod card_name {
    use super::*;

    const LIB: &str = "name = \"テスト図書館\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"";

    #[test]
    fn the_card_name_reaches_the_screen() {
        let config = ok(&[("library", &format!("{LIB}\ncard_name = \" 利用者カード \""))]);
        assert_eq!(config.library.card_name.as_deref(), Some("利用者カード"));
        let console = kiosk_core::console::Console::new(config.console_settings());
        assert_eq!(console.scene().card_name, "利用者カード");
        let unset = ok(&[]);
        assert_eq!(unset.library.card_name, None);
        let console = kiosk_core::console::Console::new(unset.console_settings());
        assert_eq!(console.scene().card_name, "", "unset: the catalogue's 図書館カード");
    }

    #[test]
    fn a_bad_card_name_is_named_with_its_fix() {
        one(&[("library", &format!("{LIB}\ncard_name = \"\""))], "library.card_name", "1 to 20 characters");
        let long = "カ".repeat(21);
        one(&[("library", &format!("{LIB}\ncard_name = \"{long}\""))], "library.card_name", "利用者カード");
        one(
            &[("library", &format!("{LIB}\ncard_name = \"a\\nb\""))],
            "library.card_name",
            "control characters",
        );
    }
}

mod security {
    use super::*;

    #[test]
    fn without_the_section_keys_are_files_and_a_tpm_is_the_resource_manager_or_a_simulator() {
        assert_eq!(ok(&[]).security.tpm, None);
        assert_eq!(ok(&[]).security.sealer(), kiosk_keystore::Sealer::File);
        let tpm = ok(&[("security", "tpm = \"device:/dev/tpmrm0\"")]).security;
        assert_eq!(tpm.sealer(), kiosk_keystore::Sealer::Tpm("device:/dev/tpmrm0".into()));
        let sim = ok(&[("security", "tpm = \"swtpm:host=127.0.0.1,port=2321\"")]).security;
        assert_eq!(sim.tpm.as_deref(), Some("swtpm:host=127.0.0.1,port=2321"));
        // The raw TPM (no resource manager) is not what the kiosk's unit may open.
        for wrong in ["device", "device:/dev/tpm0", "/dev/tpmrm0", "tpm"] {
            let p = one(&[("security", &format!("tpm = \"{wrong}\""))], "security.tpm", "not a TPM address");
            assert!(p.fix().contains("device:/dev/tpmrm0"), "{p}");
        }
    }
}

mod offline {
    use super::*;

    #[test]
    fn off_by_default_and_each_value_checked() {
        let c = ok(&[]);
        assert_eq!(c.offline, config::Offline::default());
        assert!(!c.offline.enabled && c.session_policy().offline.is_none());
        let c = ok(&[(
            "offline",
            "enabled = true\nlibrary_card_patrons = true\nitems_per_patron = 3\nitems_total = 20\nmax_hours = 8\nloan_days = 7",
        )]);
        assert_eq!(
            c.offline,
            config::Offline {
                enabled: true,
                library_card_patrons: true,
                items_per_patron: 3,
                items_total: 20,
                max_age: Duration::from_secs(8 * 3600),
                loan_days: 7,
            }
        );
        assert!(c.session_policy().offline.is_some_and(|o| o.library_card_patrons));
        one(&[("offline", "items_per_patron = 0")], "offline.items_per_patron", "from 1 to 50");
        one(&[("offline", "max_hours = 500")], "offline.max_hours", "from 1 to 168 hours");
        one(&[("offline", "loan_days = \"two weeks\"")], "offline.loan_days", "whole number");
        one(&[("offline", "enable = true")], "offline.enable", "did you mean `enabled`?");
    }
}

mod metrics {
    use super::*;

    const ENDPOINT: &str = "listen = \"0.0.0.0:9464\"\nca_file = \"ca.pem\"\ncert_file = \"client.pem\"\nkey_file = \"client.key\"";

    #[test]
    fn off_without_the_section_and_on_with_all_four_keys() {
        assert_eq!(ok(&[]).metrics, None);
        let c = ok(&[("metrics", ENDPOINT)]);
        assert_eq!(c.metrics.map(|m| m.listen.port()), Some(9464));
    }

    #[test]
    fn an_address_without_a_port_is_refused() {
        let text = ENDPOINT.replace("0.0.0.0:9464", "kiosk-07");
        one(&[("metrics", &text)], "metrics.listen", "not an address and port");
    }

    #[test]
    fn listen_needs_its_certificates_and_they_need_listen() {
        one(
            &[("metrics", "listen = \"0.0.0.0:9464\"\nca_file = \"ca.pem\"\ncert_file = \"client.pem\"")],
            "metrics.key_file",
            "needed with listen",
        );
        one(&[("metrics", "ca_file = \"ca.pem\"")], "metrics.ca_file", "set without listen");
        let text = ENDPOINT.replace("client.key", "not-a-cert.txt");
        one(&[("metrics", &text)], "metrics.key_file", "");
    }

    #[test]
    fn statistics_are_kept_for_a_sensible_number_of_days() {
        assert_eq!(ok(&[]).statistics.keep_days, 400);
        one(&[("statistics", "keep_days = 0")], "statistics.keep_days", "");
    }
}

mod item_security {
    use super::*;

    #[test]
    fn rfid_defaults_and_values() {
        assert_eq!(ok(&[]).rfid, None, "no pad without the section");
        let c = ok(&[("rfid", "reader = \"/dev/ttyACM0\"")]).rfid.unwrap();
        assert_eq!(c.reader, config::RfidReader::Serial("/dev/ttyACM0".into()));
        assert_eq!(
            (c.security, c.afi_on_shelf, c.afi_on_loan, c.patron_cards),
            (config::TagSecurity::Afi, 0x07, 0xC2, false)
        );
        let c =
            ok(&[("rfid", "reader = \"simulated\"\nsecurity = \"both\"\nafi_on_loan = 0x9A")]).rfid.unwrap();
        assert_eq!(
            (c.reader, c.security, c.afi_on_loan),
            (config::RfidReader::Simulated, config::TagSecurity::Both, 0x9A)
        );
        assert!(ok(&[("rfid", "reader = \"/dev/ttyACM0\"")]).session_policy().rfid_pad);
    }

    #[test]
    fn rfid_checks() {
        one(&[("rfid", "security = \"afi\"")], "rfid.reader", "missing");
        one(&[("rfid", "reader = \"ttyACM0\"")], "rfid.reader", "not an absolute device path");
        one(&[("rfid", "reader = \"/dev/ttyACM0\"\nafi_on_loan = 256")], "rfid.afi_on_loan", "from 1 to 255");
        one(
            &[("rfid", "reader = \"/dev/ttyACM0\"\nafi_on_loan = 7")],
            "rfid.afi_on_loan",
            "the gate could not tell a lent book",
        );
        one(&[("rfid", "reader = \"/dev/ttyACM0\"\nsecurity = \"magnetic\"")], "rfid.security", "afi");
        one(
            &[("rfid", "reader = \"/dev/ttyACM0\""), ("desensitizer", "backend = \"simulated\"")],
            "desensitizer",
            "not both",
        );
    }

    #[test]
    fn desensitizer_values_and_checks() {
        assert_eq!(ok(&[]).desensitizer, None);
        let d = ok(&[(
            "desensitizer",
            "backend = \"gpio\"\npulse_pin = 22\nbook_present_pin = 23\npulse_ms = 150",
        )])
        .desensitizer
        .unwrap();
        let config::DesensitizerUnit::Gpio { pulse, book_present } = d.unit else { panic!("{d:?}") };
        assert_eq!((pulse.bcm(), book_present.map(config::GpioPin::bcm)), (22, Some(23)));
        assert_eq!((d.pulse, d.wait), (Duration::from_millis(150), Duration::from_secs(5)));
        let d = ok(&[("desensitizer", "backend = \"simulated\"")]).desensitizer.unwrap();
        assert_eq!(d.unit, config::DesensitizerUnit::Simulated);
        assert_eq!(ok(&[("desensitizer", "backend = \"none\"")]).desensitizer, None);
        one(
            &[("desensitizer", "backend = \"gpio\"")],
            "desensitizer.pulse_pin",
            "needed when backend = \"gpio\"",
        );
        one(
            &[("desensitizer", "backend = \"simulated\"\npulse_pin = 22")],
            "desensitizer.pulse_pin",
            "not used when backend = \"simulated\"",
        );
        one(
            &[("desensitizer", "backend = \"gpio\"\npulse_pin = 40")],
            "desensitizer.pulse_pin",
            "from 0 to 27",
        );
        one(
            &[("desensitizer", "backend = \"gpio\"\npulse_pin = 22\npulse_ms = 5")],
            "desensitizer.pulse_ms",
            "from 20 to 2000",
        );
    }
}

mod audio {
    use super::*;

    #[test]
    fn audio_headphones_values_and_checks() {
        assert_eq!(ok(&[]).audio.headphones, None);
        let keypad = ("keypad", "device = \"/dev/input/by-id/usb-Keypad-event-kbd\"");
        let a = ok(&[("audio", "headphones = \"plughw:CARD=Keypad\""), keypad]).audio;
        assert_eq!(a.headphones.as_deref(), Some("plughw:CARD=Keypad"));
        // Headphones only: no speaker.
        let a = ok(&[("audio", "device = \"none\"\nheadphones = \"plughw:CARD=Keypad\""), keypad]).audio;
        assert_eq!((a.device, a.headphones.as_deref()), (None, Some("plughw:CARD=Keypad")));
        one(&[("audio", "headphones = \"\""), keypad], "audio.headphones", "empty");
        one(&[("audio", "headphones = \"none\""), keypad], "audio.headphones", "leaving them out");
        one(
            &[("audio", "device = \"hw:0\"\nheadphones = \"hw:0\""), keypad],
            "audio.headphones",
            "the speaker's own device",
        );
        one(&[("audio", "headphones = \"plughw:CARD=Keypad\"")], "audio.headphones", "no [keypad]");
        // A jack on an input node of its own: a path, beside the config when relative;
        // keypad mode needs the keypad.
        let a = ok(&[("audio", "jack = \"jack.fifo\""), keypad]).audio;
        assert!(a.jack.is_some_and(|p| p.is_absolute() && p.ends_with("jack.fifo")));
        one(&[("audio", "jack = \"/dev/input/event7\"")], "audio.jack", "no [keypad]");
        one(
            &[("audio", "jack = \"/dev/input/by-id/usb-Keypad-event-kbd\""), keypad],
            "audio.jack",
            "the keypad's own node",
        );
    }
}
