//! Reads each section of the file into its typed form, checking every key.

use std::num::NonZeroU8;
use std::path::Path;
use std::time::Duration;

use toml::de::DeTable;

use kiosk_core::flow::{HandOff, LibraryCardLogin};
use kiosk_ils::{ChargedItems, Charset, Profile, Resend};
use kiosk_platform::cache::Grace;
use kiosk_printer::{CheckDigit, Guard, PaperWidth, Symbology};

use super::keys::{
    self, Backend, Barcode, CardMode, Choice, DeviceMode, IlsMode, PlatformMode, ScannerKind, TagSecurity,
    Transport,
};
use super::problems::{Collector, Problems};
use super::reader::{Field, Section, Span, Walk, split_sections};
use super::secret::StaffPinHash;
use super::values::{
    Code, Content, DataFile, DevicePath, ExistingFile, GpioPin, Host, HttpsUrl, Ident, Port, bad, resolve,
    sip2_text_ok,
};
use super::{
    Admin, Audio, Card, CardReader, ClientIdentity, Config, ConfigError, Counter, CounterKeyboard, GpioPins,
    Ils, Io, Label, Language, Languages, Library, LinkStore, MethodD, Metrics, Mode, Offline, Platform,
    PlatformEndpoint, Printer, PrinterTransport, Scanner, ScannerSource, Security, SessionTimeouts,
    SharedLinkStore, Sip2, Sip2Login, Sip2Tls, Statistics, Terminal, TerminalIdentity, TokenKey,
    TypedTerminator,
};
use super::{Desensitizer, DesensitizerUnit, Rfid, RfidReader};

const SYNTAX_FIX: &str =
    "correct the TOML syntax here (text in double quotes, one `key = value` per line, [section] headers)";

pub(super) fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    let mut walk = Walk::new(text, origin);
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for error in errors {
            // Only the message and the place: toml's Display would quote the line,
            // which may hold a secret.
            let span = error.span().unwrap_or(0..0);
            walk.problems.report(span, "syntax", error.message().to_owned(), SYNTAX_FIX);
        }
        return Err(invalid(walk.problems, origin));
    }
    let mut sections = split_sections(&mut walk, doc.into_inner());
    report_missing_sections(&mut walk, &sections);
    let mut take = |name: &'static str| match sections.iter().position(|s| s.name() == name) {
        Some(i) => sections.swap_remove(i),
        None => Section::absent(name),
    };
    let (platform_s, printer_s, card_s, library_s) =
        (take("platform"), take("printer"), take("card"), take("library"));
    let (label_s, ils_s, io_s, admin_s, session_s) =
        (take("label"), take("ils"), take("io"), take("admin"), take("session"));
    let (scanner_s, counter_s, security_s, offline_s) =
        (take("scanner"), take("counter"), take("security"), take("offline"));
    let (statistics_s, audio_s, metrics_s) = (take("statistics"), take("audio"), take("metrics"));
    let keypad_s = take("keypad");
    let (rfid_s, desensitizer_s) = (take("rfid"), take("desensitizer"));

    let platform = platform(&mut walk, platform_s);
    let printer = printer(&mut walk, printer_s);
    let card = card(&mut walk, card_s);
    let is_api = platform.as_ref().map(|p| matches!(p, Platform::Api { .. }));
    let library = library(&mut walk, library_s, is_api);
    let prints_labels = printer.as_ref().map(|p| p.transport != PrinterTransport::None);
    let accept = card.as_ref().map(|(_, accept)| accept.clone());
    let has_printer = printer.as_ref().map(|p| p.transport != PrinterTransport::None);
    let label = label(&mut walk, label_s, accept, has_printer);
    let ils = ils(&mut walk, ils_s);
    let io = io(&mut walk, io_s);
    let admin = admin(&mut walk, admin_s);
    let session = session(&mut walk, session_s);
    let scanner = scanner(&mut walk, scanner_s);
    let security = security(&mut walk, security_s);
    let offline = offline(&mut walk, offline_s);
    let statistics = statistics(&mut walk, statistics_s);
    let audio_span = audio_s.is_present().then(|| audio_s.header_span());
    let audio = audio(&mut walk, audio_s);
    let keypad = keypad(&mut walk, keypad_s);
    if let (Some(a), Some(None), Some(span)) = (&audio, &keypad, audio_span.clone())
        && a.headphones.is_some()
    {
        walk.report(
            span,
            "audio.headphones",
            bad(
                "headphones put the kiosk in keypad mode (their jack is the keypad's, or [audio] jack), and there is no [keypad]",
                "set [keypad] device to the keypad the headphones plug into, or leave headphones out",
            ),
        );
    }
    if let (Some(a), Some(None), Some(span)) = (&audio, &keypad, audio_span.clone())
        && a.jack.is_some()
    {
        walk.report(
            span,
            "audio.jack",
            bad(
                "headphones put the kiosk in keypad mode, and there is no [keypad]",
                "set [keypad] device to the tactile keypad, or leave jack out",
            ),
        );
    }
    // The keypad's own node is grabbed by its reader: a jack read there would see nothing.
    if let (Some(a), Some(Some(keypad)), Some(span)) = (&audio, &keypad, audio_span)
        && a.jack.as_ref() == Some(keypad)
    {
        walk.report(
            span,
            "audio.jack",
            bad(
                "the jack is the keypad's own node, which the keypad's switch already reports",
                "leave jack out when the headphones plug into the keypad, or name the input node of their own",
            ),
        );
    }
    let metrics = metrics(&mut walk, metrics_s);
    let rfid_span = rfid_s.is_present().then(|| rfid_s.header_span());
    let rfid = rfid(&mut walk, rfid_s);
    let desensitizer_span = desensitizer_s.is_present().then(|| desensitizer_s.header_span());
    let desensitizer = desensitizer(&mut walk, desensitizer_s);
    if let (Some(_), Some(span)) = (rfid_span, desensitizer_span) {
        walk.report(
            span,
            "desensitizer",
            bad(
                "a kiosk with an RFID pad switches security by the tags ([rfid]), not a desensitizer",
                "keep [rfid] or [desensitizer], not both",
            ),
        );
    }
    let label_print = label.as_ref().map(|l| matches!(l.method_d, MethodD::On { print: true, .. }));
    let has_links = platform.as_ref().map(|p| !matches!(p, Platform::Api { .. }));
    let mode = counter(
        &mut walk,
        counter_s,
        library.as_ref().map(|l| l.1),
        label_print.zip(prints_labels).map(|(a, b)| a && b),
        has_links,
    );

    let config = (|| {
        Some(Config {
            library: library?.0,
            card: card?.0,
            platform: platform?,
            ils: ils?,
            printer: printer?,
            label: label?,
            io: io?,
            admin: admin?,
            session: session?,
            scanner: scanner?,
            mode: mode?,
            security: security?,
            offline: offline?,
            statistics: statistics?,
            audio: audio?,
            keypad: keypad?,
            metrics: metrics?,
            rfid: rfid?,
            desensitizer: desensitizer?,
        })
    })();
    match (walk.problems.is_clean(), config) {
        (true, Some(config)) => Ok(config),
        (true, None) => Err(ConfigError::Invalid(Problems::whole_file(
            origin,
            "config",
            "a value was refused without a reason (a bug in the kiosk)",
            "please report this with the file",
        ))),
        (false, _) => Err(invalid(walk.problems, origin)),
    }
}

fn invalid(problems: Collector<'_>, origin: &Path) -> ConfigError {
    match problems.finish(origin) {
        Some(problems) => ConfigError::Invalid(problems),
        None => ConfigError::Invalid(Problems::whole_file(origin, "config", "invalid", "see above")),
    }
}

/// The error for a file that is not UTF-8, pointing at the first bad byte.
pub(super) fn not_utf8(bytes: &[u8], valid_up_to: usize, origin: &Path) -> ConfigError {
    let prefix = std::str::from_utf8(bytes.get(..valid_up_to).unwrap_or_default()).unwrap_or_default();
    let mut problems = Collector::new(prefix);
    problems.report(
        prefix.len()..prefix.len(),
        "file",
        "is not UTF-8 text (an invalid byte is here)",
        "save the file as UTF-8 (for example `iconv -f SHIFT_JIS -t UTF-8`)",
    );
    invalid(problems, origin)
}

/// The sections that have required keys, in file order, and what they need at least
/// (a mode key: its choices, from the table). A missing one gets one problem (at the top
/// of the file), not one per key.
const REQUIRED_SECTIONS: [(&str, &str); 6] = [
    ("library", "name, institution_id and kiosk_id"),
    ("platform", "mode"),
    ("ils", "mode = \"sip2\" (and host) or mode = \"simulated\""),
    ("printer", "transport"),
    ("io", "backend"),
    ("admin", "staff_pin_hash (make one with `kiosk hash-staff-pin`)"),
];

fn report_missing_sections(walk: &mut Walk<'_>, sections: &[Section<'_>]) {
    for (name, needs) in REQUIRED_SECTIONS {
        if !sections.iter().any(|s| s.name() == name && s.is_present()) {
            let needs = match keys::choices_text(name, needs) {
                choices if choices.is_empty() => needs.to_owned(),
                choices => format!("{needs} = {choices}"),
            };
            walk.problems.report(
                0..0,
                name,
                format!("section [{name}] is missing"),
                format!("add the [{name}] section with {needs}"),
            );
        }
    }
}

fn quoted<C: Choice>(value: C) -> String {
    format!("\"{}\"", value.name())
}

// ---------------------------------------------------------------------------------------
// [library]

/// `[library]`, and whether `mode = "counter"`.
fn library(
    walk: &mut Walk<'_>,
    mut s: Section<'_>,
    platform_is_api: Option<bool>,
) -> Option<(Library, bool)> {
    if !s.is_present() || s.is_broken() {
        return None;
    }
    let name = s.string(walk, "name").then(walk, s.path("name"), |name| {
        let chars = name.trim().chars().count();
        if chars == 0 || chars > 100 {
            Err(bad("must be 1 to 100 characters", "write the library's name as patrons know it"))
        } else if name.chars().any(char::is_control) {
            Err(bad("contains control characters", "write the name on one line"))
        } else {
            Ok(name)
        }
    });
    let name = s.required(walk, "name", name, "name = \"はりま市立中央図書館\"");
    let card_name = s.string(walk, "card_name").then(walk, s.path("card_name"), |name| {
        let chars = name.trim().chars().count();
        if chars == 0 || chars > 20 {
            Err(bad(
                "must be 1 to 20 characters",
                "write the card's name as your patrons know it, e.g. \"利用者カード\"",
            ))
        } else if name.chars().any(char::is_control) {
            Err(bad("contains control characters", "write the name on one line"))
        } else {
            Ok(name.trim().to_owned())
        }
    });
    let institution_id =
        s.string(walk, "institution_id").then(walk, s.path("institution_id"), |v| Code::parse(&v));
    let institution_id = s.required(walk, "institution_id", institution_id, "institution_id = \"HARIMA\"");
    let sp =
        s.string(walk, "service_provider_id").then(walk, s.path("service_provider_id"), |v| Code::parse(&v));
    let service_provider_id = if platform_is_api == Some(true) {
        s.required_because(
            walk,
            "service_provider_id",
            sp,
            "service_provider_id = \"...\"",
            ", needed when platform.mode = \"api\" (the platform issues it)",
        )
        .map(Some)
    } else {
        sp.optional()
    };
    let languages = s.choices::<Language>(walk, "languages").value().map(Languages);
    let kiosk_id = s.string(walk, "kiosk_id").then(walk, s.path("kiosk_id"), |v| Ident::parse(&v, "chuo-01"));
    let kiosk_id = s.required(walk, "kiosk_id", kiosk_id, "kiosk_id = \"chuo-01\"");
    let mode = s.choice::<DeviceMode>(walk, "mode").value();
    let account_screen = s.boolean(walk, "account_screen").value();
    let returns = s.boolean(walk, "returns").value();
    let furigana = s.boolean(walk, "furigana").value();
    s.finish(walk, |_| None);
    Some((
        Library {
            name: name?,
            card_name: card_name.optional()?,
            institution_id: institution_id?,
            service_provider_id: service_provider_id?,
            languages: languages?,
            kiosk_id: kiosk_id?,
            account_screen: account_screen?,
            returns: returns?,
            furigana: furigana?,
        },
        mode? == DeviceMode::Counter,
    ))
}

// ---------------------------------------------------------------------------------------
// [card]

/// The card section, and `allow_method_d_label` with its span (for [label]'s checks).
fn card(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<(Card, (bool, Option<Span>))> {
    if s.is_broken() {
        return None;
    }
    let mode = s.choice::<CardMode>(walk, "mode").value();
    let require_pin = s.boolean(walk, "require_pin").value();
    let library_card_login = s.choice::<LibraryCardLogin>(walk, "library_card_login").value();
    let accept = s.boolean(walk, "allow_method_d_label");
    let accept_span = accept.span();
    let accept = accept.value();
    let reader = match mode {
        Some(CardMode::Pcsc) => s
            .string(walk, "reader")
            .then(walk, s.path("reader"), |r| {
                if r.chars().count() > 128 || r.chars().any(char::is_control) {
                    Err(bad(
                        "is not a reader name",
                        "write part of the name `pcsc_scan` shows, e.g. \"RC-S380\"",
                    ))
                } else {
                    Ok(r)
                }
            })
            .value()
            .map(|name_contains| CardReader::Pcsc { name_contains }),
        Some(CardMode::Simulated) => Some(CardReader::Simulated),
        None => None,
    };
    s.finish(walk, |_| mode.map(|m| format!("mode = {}", quoted(m))));
    Some((
        Card { reader: reader?, require_pin: require_pin?, library_card_login: library_card_login? },
        (accept?, accept_span),
    ))
}

// ---------------------------------------------------------------------------------------
// [platform]

fn platform(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Platform> {
    if !s.is_present() || s.is_broken() {
        return None;
    }
    let mode = s.choice::<PlatformMode>(walk, "mode");
    let Some(mode) = s.required(walk, "mode", mode, "mode = \"api\"") else {
        s.finish(walk, |_| None);
        return None;
    };
    let because = format!(", needed when mode = {}", quoted(mode));
    let platform = match mode {
        PlatformMode::Simulated => Some(Platform::Simulated),
        PlatformMode::Api => {
            let endpoint = endpoint(walk, &mut s, &because);
            let client = terminal_identity(walk, &mut s, &because);
            let id = s
                .string(walk, "terminal_id")
                .then(walk, s.path("terminal_id"), |v| Ident::parse(&v, "T0123456"));
            let id = s.required_because(walk, "terminal_id", id, "terminal_id = \"...\"", &because);
            let password = s.secret(walk, "terminal_password").then(walk, s.path("terminal_password"), |p| {
                let len = p.expose().chars().count();
                if len == 0 || len > 128 || p.expose().chars().any(char::is_control) {
                    Err(bad(
                        "must be 1 to 128 characters without control characters",
                        "copy the password the municipality issued for this terminal",
                    ))
                } else {
                    Ok(p)
                }
            });
            let password = s.required_because(
                walk,
                "terminal_password",
                password,
                "terminal_password = \"...\"",
                &because,
            );
            (|| {
                Some(Platform::Api {
                    endpoint: endpoint?,
                    client: client?,
                    terminal: Terminal { id: id?, password: password? },
                })
            })()
        }
        PlatformMode::Ocsp | PlatformMode::Crl => {
            let endpoint = endpoint(walk, &mut s, &because);
            let client = client_identity(walk, &mut s, None);
            let path = s.data_file(walk, "link_store");
            let path = s.required_because(
                walk,
                "link_store",
                path,
                "link_store = \"/var/lib/kiosk/links.db\"",
                &because,
            );
            let key_file = s.existing_file(
                walk,
                "link_key_file",
                Content::KeyMaterial,
                "the link store's hashing key (at least 32 random bytes, the same on every kiosk sharing the store)",
            );
            let key_file = s.required_because(
                walk,
                "link_key_file",
                key_file,
                "link_key_file = \"/etc/kiosk/link.key\"",
                &because,
            );
            let refresh = if mode == PlatformMode::Crl {
                s.duration(walk, "crl_refresh_s").value()
            } else {
                Some(Duration::ZERO)
            };
            let shared = shared_link_store(walk, &mut s);
            (|| {
                let links = LinkStore { path: path?, key_file: key_file?, shared: shared? };
                let (endpoint, client) = (endpoint?, client?);
                Some(if mode == PlatformMode::Crl {
                    Platform::Crl { endpoint, client, links, refresh: refresh? }
                } else {
                    Platform::Ocsp { endpoint, client, links }
                })
            })()
        }
    };
    s.finish(walk, |_| Some(format!("mode = {}", quoted(mode))));
    platform
}

fn endpoint(walk: &mut Walk<'_>, s: &mut Section<'_>, because: &str) -> Option<PlatformEndpoint> {
    let url = s.string(walk, "url").then(walk, s.path("url"), |u| HttpsUrl::parse(&u));
    let url = s.required_because(walk, "url", url, "url = \"https://...\"", because);
    let ca_file = s.existing_file(
        walk,
        "ca_file",
        Content::PemCertificate,
        "the CA certificate (PEM) that issued the platform server's TLS certificate",
    );
    let ca_file =
        s.required_because(walk, "ca_file", ca_file, "ca_file = \"/etc/kiosk/platform-ca.pem\"", because);
    let jpki_ca_file = s.existing_file(
        walk,
        "jpki_ca_file",
        Content::PemCertificate,
        "the JPKI user-authentication CA certificate(s) (PEM) published by J-LIS",
    );
    let jpki_ca_file = s.required_because(
        walk,
        "jpki_ca_file",
        jpki_ca_file,
        "jpki_ca_file = \"/etc/kiosk/jpki-ca.pem\"",
        because,
    );
    let connect = s.duration(walk, "connect_timeout_s");
    let connect_span = connect.span();
    let connect_timeout = connect.value();
    let request_timeout = s.duration(walk, "request_timeout_s").value();
    if let (Some(c), Some(r)) = (connect_timeout, request_timeout)
        && c > r
    {
        walk.problems.report(
            connect_span.unwrap_or_else(|| s.header_span()),
            s.path("connect_timeout_s"),
            format!("{} s is longer than request_timeout_s ({} s)", c.as_secs(), r.as_secs()),
            "make connect_timeout_s at most request_timeout_s",
        );
        return None;
    }
    let offline_policy = s.choice::<Grace>(walk, "offline_policy").value();
    Some(PlatformEndpoint {
        url: url?,
        ca_file: ca_file?,
        jpki_ca_file: jpki_ca_file?,
        connect_timeout: connect_timeout?,
        request_timeout: request_timeout?,
        offline_policy: offline_policy?,
    })
}

/// `client_cert` and `client_key`: both or neither; both when `required_because` is
/// given. `None` when a problem was found.
fn client_identity(
    walk: &mut Walk<'_>,
    s: &mut Section<'_>,
    required_because: Option<&str>,
) -> Option<Option<ClientIdentity>> {
    let cert = s.existing_file(
        walk,
        "client_cert",
        Content::PemCertificate,
        "the kiosk's TLS client certificate (PEM) issued for the platform",
    );
    let key =
        s.existing_file(walk, "client_key", Content::PemPrivateKey, "the private key (PEM) of client_cert");
    let cert_hint = "client_cert = \"/etc/kiosk/client.pem\"";
    let key_hint = "client_key = \"/etc/kiosk/client.key\"";
    match (cert, key, required_because) {
        (Field::Present(cert, _), Field::Present(key, _), _) => Some(Some(ClientIdentity { cert, key })),
        (Field::Absent, Field::Absent, None) => Some(None),
        (cert, key, because) => {
            let cert_because = because.map_or(", needed with client_key".to_owned(), str::to_owned);
            let key_because = because.map_or(", needed with client_cert".to_owned(), str::to_owned);
            s.required_because(walk, "client_cert", cert, cert_hint, &cert_because);
            s.required_because(walk, "client_key", key, key_hint, &key_because);
            None
        }
    }
}

/// `link_server` and the keys that come with it: all or none. Without `link_server` the
/// link store is the local file.
fn shared_link_store(walk: &mut Walk<'_>, s: &mut Section<'_>) -> Option<Option<SharedLinkStore>> {
    let url = s.string(walk, "link_server").then(walk, s.path("link_server"), |url| {
        kiosk_platform::links::shared::check_url(&url).map(|()| url).map_err(|why| {
            bad(why, "write it as link_server = \"postgresql://kiosk-01@links.city.lan:5432/kiosk_links\"")
        })
    });
    let ca = s.existing_file(
        walk,
        "link_server_ca_file",
        Content::PemCertificate,
        "the CA of the link store's TLS certificate (PEM)",
    );
    let cert = s.existing_file(
        walk,
        "link_client_cert",
        Content::PemCertificate,
        "this device's TLS client certificate for the link store (PEM)",
    );
    let key = s.existing_file(
        walk,
        "link_client_key",
        Content::PemPrivateKey,
        "the private key (PEM) of link_client_cert",
    );
    let municipality = s.string(walk, "municipality").then(walk, s.path("municipality"), |m| {
        if !m.is_empty()
            && m.len() <= 64
            && m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            Ok(m)
        } else {
            Err(bad("not a municipality code", "use the municipality's code, e.g. municipality = \"132012\""))
        }
    });
    let refresh = s.duration(walk, "link_refresh_s");
    if matches!(url, Field::Absent) {
        for (key, field) in [
            ("link_server_ca_file", ca.span()),
            ("link_client_cert", cert.span()),
            ("link_client_key", key.span()),
            ("municipality", municipality.span()),
            ("link_refresh_s", refresh.span()),
        ] {
            if let Some(span) = field {
                walk.report(
                    span,
                    s.path(key),
                    bad("set without link_server", "add link_server, or remove this key"),
                );
            }
        }
        return Some(None);
    }
    let because = ", needed with link_server";
    let ca = s.required_because(
        walk,
        "link_server_ca_file",
        ca,
        "link_server_ca_file = \"/etc/kiosk/links-ca.pem\"",
        because,
    );
    let cert = s.required_because(
        walk,
        "link_client_cert",
        cert,
        "link_client_cert = \"/etc/kiosk/links-client.pem\"",
        because,
    );
    let key = s.required_because(
        walk,
        "link_client_key",
        key,
        "link_client_key = \"/etc/kiosk/links-client.key\"",
        because,
    );
    let municipality =
        s.required_because(walk, "municipality", municipality, "municipality = \"132012\"", because);
    let (url, refresh) = (url.value(), refresh.value());
    Some(Some(SharedLinkStore {
        url: url?,
        ca_file: ca?,
        client_cert: cert?,
        client_key: key?,
        municipality: municipality?,
        refresh: refresh?,
    }))
}

/// `client_cert` and `client_key` in `api` mode: both files there (the terminal is
/// registered: checked like any client identity), or neither yet (registration writes
/// them: their directories must exist). One without the other is a problem, as
/// registration writes both.
fn terminal_identity(walk: &mut Walk<'_>, s: &mut Section<'_>, because: &str) -> Option<TerminalIdentity> {
    let base = walk.base_dir().to_path_buf();
    let cert = s.string(walk, "client_cert");
    let key = s.string(walk, "client_key");
    let exists = |f: &Field<String>| match f {
        Field::Present(raw, _) => resolve(&base, raw).is_ok_and(|p| p.exists()),
        _ => false,
    };
    let (cert_there, key_there) = (exists(&cert), exists(&key));
    let cert_hint = "client_cert = \"/var/lib/kiosk/terminal.pem\"";
    let key_hint = "client_key = \"/var/lib/kiosk/terminal.key\"";
    if !cert_there && !key_there {
        let cert = cert.then(walk, s.path("client_cert"), |raw| DataFile::check(&base, &raw));
        let key = key.then(walk, s.path("client_key"), |raw| DataFile::check(&base, &raw));
        let cert = s.required_because(walk, "client_cert", cert, cert_hint, because);
        let key = s.required_because(walk, "client_key", key, key_hint, because);
        return Some(TerminalIdentity::Unregistered { cert: cert?, key: key? });
    }
    let half = |other: &str| {
        bad(
            format!("does not exist, but {other} does: registration writes both"),
            format!(
                "restore it from the backup, or delete {other} and register the terminal again (staff \
                 menu, Registration; or `kiosk register`)"
            ),
        )
    };
    let cert = cert.then(walk, s.path("client_cert"), |raw| {
        if cert_there {
            ExistingFile::check(
                &base,
                &raw,
                Content::PemCertificate,
                "the terminal certificate registration stored",
            )
        } else {
            Err(half("client_key"))
        }
    });
    let key = key.then(walk, s.path("client_key"), |raw| {
        if key_there {
            ExistingFile::check(&base, &raw, Content::PemPrivateKey, "the private key registration stored")
        } else {
            Err(half("client_cert"))
        }
    });
    let cert = s.required_because(walk, "client_cert", cert, cert_hint, because);
    let key = s.required_because(walk, "client_key", key, key_hint, because);
    Some(TerminalIdentity::Registered(ClientIdentity { cert: cert?, key: key? }))
}

// ---------------------------------------------------------------------------------------
// [ils]

fn ils(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Ils> {
    if !s.is_present() || s.is_broken() {
        return None;
    }
    let mode = s.choice::<IlsMode>(walk, "mode");
    let Some(mode) = s.required(walk, "mode", mode, "mode = \"sip2\"") else {
        s.finish(walk, |_| None);
        return None;
    };
    if mode == IlsMode::Simulated {
        s.finish(walk, |_| Some("mode = \"simulated\"".to_owned()));
        return Some(Ils::Simulated);
    }
    let because = ", needed when mode = \"sip2\"";
    let host = s.string(walk, "host").then(walk, s.path("host"), |h| Host::parse(&h));
    let host = s.required_because(walk, "host", host, "host = \"ils.library.example\"", because);
    let port = port(walk, &mut s);
    let tls = match s.boolean(walk, "tls").value() {
        Some(true) => {
            let ca = s.existing_file(
                walk,
                "ca_file",
                Content::PemCertificate,
                "the CA certificate (PEM) that issued the SIP2 server's TLS certificate",
            );
            s.required_because(
                walk,
                "ca_file",
                ca,
                "ca_file = \"/etc/kiosk/ils-ca.pem\"",
                ", needed when tls = true",
            )
            .map(|ca_file| Some(Sip2Tls { ca_file }))
        }
        Some(false) => Some(None),
        None => {
            // tls itself is wrong: still check the file, so its problems show too.
            let _ = s.existing_file(
                walk,
                "ca_file",
                Content::PemCertificate,
                "the SIP2 server's CA certificate (PEM)",
            );
            None
        }
    };
    let user = s.string(walk, "login_user").then(walk, s.path("login_user"), |u| Code::parse(&u));
    let password = s
        .secret(walk, "login_password")
        .then(walk, s.path("login_password"), |p| sip2_text_ok(p.expose()).map(|()| p));
    let login = match (user, password) {
        (Field::Present(user, _), Field::Present(password, _)) => Some(Some(Sip2Login { user, password })),
        (Field::Absent, Field::Absent) => Some(None),
        (user, password) => {
            s.required_because(
                walk,
                "login_user",
                user,
                "login_user = \"...\"",
                ", needed with login_password",
            );
            s.required_because(
                walk,
                "login_password",
                password,
                "login_password = \"...\"",
                ", needed with login_user",
            );
            None
        }
    };
    let location_code =
        s.string(walk, "location_code").then(walk, s.path("location_code"), |c| Code::parse(&c)).optional();
    let encoding = s.choice::<Charset>(walk, "encoding").value();
    let request_timeout = s.duration(walk, "request_timeout_s").value();
    let retries = s.integer(walk, "retries").value();
    let keepalive = s.duration(walk, "keepalive_s").value();
    let profile = s.choice::<Profile>(walk, "profile").value();
    let resend = s.choice::<Resend>(walk, "resend").optional();
    let charged_items = s.choice::<ChargedItems>(walk, "charged_items").optional();
    let override_checkout_not_allowed = s.boolean(walk, "override_checkout_not_allowed").value();
    s.finish(walk, |key| (key == "ca_file").then(|| "tls = false".to_owned()));
    let profile = profile?;
    Some(Ils::Sip2(Sip2 {
        host: host?,
        port: port?,
        tls: tls?,
        login: login?,
        location_code: location_code?,
        encoding: encoding?,
        request_timeout: request_timeout?,
        retries: u8::try_from(retries?).ok()?,
        keepalive: keepalive?,
        profile,
        resend: resend?.unwrap_or(profile.resend()),
        charged_items: charged_items?.unwrap_or(profile.charged_items()),
        override_checkout_not_allowed: override_checkout_not_allowed?,
    }))
}

/// A port (its default from the table).
fn port(walk: &mut Walk<'_>, s: &mut Section<'_>) -> Option<Port> {
    s.integer(walk, "port").then(walk, s.path("port"), Port::from_checked).value()
}

// ---------------------------------------------------------------------------------------
// [printer]

const TRANSPORT_KEYS: [&str; 7] = ["vendor_id", "product_id", "device", "baud", "host", "port", "path"];

fn printer(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Printer> {
    if !s.is_present() || s.is_broken() {
        return None;
    }
    let transport = s.choice::<Transport>(walk, "transport");
    let transport = s.required(walk, "transport", transport, "transport = \"usb\"");
    let because = |t: Transport| format!(", needed when transport = {}", quoted(t));
    let connection = match transport {
        None => None,
        Some(t @ Transport::Usb) => {
            let vendor = s.integer(walk, "vendor_id");
            let vendor = s.required_because(walk, "vendor_id", vendor, "vendor_id = 0x04b8", &because(t));
            let product = s.integer(walk, "product_id");
            let product = s.required_because(walk, "product_id", product, "product_id = 0x0202", &because(t));
            (|| {
                Some(PrinterTransport::Usb {
                    vendor_id: u16::try_from(vendor?).ok()?,
                    product_id: u16::try_from(product?).ok()?,
                })
            })()
        }
        Some(t @ Transport::Serial) => {
            let device = s.string(walk, "device").then(walk, s.path("device"), |d| DevicePath::parse(&d));
            let device = s.required_because(walk, "device", device, "device = \"/dev/ttyUSB0\"", &because(t));
            let baud = baud(walk, &mut s, "the printer's DIP switches say which");
            (|| Some(PrinterTransport::Serial { device: device?, baud: baud? }))()
        }
        Some(t @ Transport::Tcp) => {
            let host = s.string(walk, "host").then(walk, s.path("host"), |h| Host::parse(&h));
            let host = s.required_because(walk, "host", host, "host = \"192.0.2.50\"", &because(t));
            let port = port(walk, &mut s);
            (|| Some(PrinterTransport::Tcp { host: host?, port: port? }))()
        }
        Some(t @ Transport::File) => {
            let path = s.data_file(walk, "path");
            let path = s.required_because(
                walk,
                "path",
                path,
                "path = \"/var/spool/kiosk/printer.bin\"",
                &because(t),
            );
            path.map(|path| PrinterTransport::File { path })
        }
        Some(Transport::Simulated) => Some(PrinterTransport::Simulated),
        Some(Transport::None) => Some(PrinterTransport::None),
    };
    let paper_width = s
        .integer(walk, "paper_width_mm")
        .value()
        .map(|w| if w == 58 { PaperWidth::Mm58 } else { PaperWidth::Mm80 });
    let barcode = s.choice::<Barcode>(walk, "barcode").value();
    let guards = match barcode {
        Some(Barcode::Nw7) => {
            let start = s.choice::<Guard>(walk, "nw7_start").value();
            let stop = s.choice::<Guard>(walk, "nw7_stop").value();
            start.zip(stop)
        }
        _ => None,
    };
    let check = match (s.choice::<CheckDigit>(walk, "check_digit"), barcode) {
        (Field::Present(CheckDigit::Mod16, span), Some(Barcode::Code128)) => {
            walk.problems.report(
                span,
                s.path("check_digit"),
                "\"mod16\" is computed over NW-7 characters and cannot be used with barcode = \"code128\"",
                "use barcode = \"nw7\", or the check digit the library's cards really use",
            );
            None
        }
        (field, _) => field.value(),
    };
    let symbology = match (barcode, guards, check) {
        (Some(Barcode::Nw7), Some((start, stop)), Some(check)) => Some(Symbology::Nw7 { start, stop, check }),
        (Some(Barcode::Code128), _, Some(check)) => Some(Symbology::Code128 { check }),
        _ => None,
    };
    let label_length_mm =
        s.integer(walk, "label_length_mm").optional().map(|len| len.and_then(|l| u16::try_from(l).ok()));
    let receipt_shows_patron = s.boolean(walk, "receipt_shows_patron").value();
    s.finish(walk, |key| {
        if key == "nw7_start" || key == "nw7_stop" {
            barcode.map(|b| format!("barcode = {}", quoted(b)))
        } else if TRANSPORT_KEYS.contains(&key) {
            transport.map(|t| format!("transport = {}", quoted(t)))
        } else {
            None
        }
    });
    Some(Printer {
        transport: connection?,
        paper_width: paper_width?,
        symbology: symbology?,
        label_length_mm: label_length_mm?,
        receipt_shows_patron: receipt_shows_patron?,
    })
}

// ---------------------------------------------------------------------------------------
// [label]

/// `accept` is `card.allow_method_d_label` and where it was set; `has_printer` whether
/// `printer.transport` is not "none". Both `None` when those were invalid.
fn label(
    walk: &mut Walk<'_>,
    mut s: Section<'_>,
    accept: Option<(bool, Option<Span>)>,
    has_printer: Option<bool>,
) -> Option<Label> {
    if s.is_broken() {
        return None;
    }
    let print = s.boolean(walk, "method_d");
    let print_span = print.span();
    let print = print.value();
    if let (Some(true), Some(false)) = (print, has_printer) {
        walk.problems.report(
            print_span.clone().unwrap_or_else(|| s.header_span()),
            s.path("method_d"),
            "labels need a printer, but printer.transport = \"none\"",
            "set printer.transport, or label.method_d = false",
        );
    }
    let accept_value = accept.as_ref().map(|(a, _)| *a);
    let key_hint = "token_key_file = \"/etc/kiosk/label-token.key\"";
    let purpose = "the Method D token key (at least 32 random bytes, the same on every kiosk of the fleet)";
    let method_d = match (print, accept_value) {
        (Some(false), Some(false)) => Some(MethodD::Off),
        (Some(print), Some(accept)) => {
            let because = match (print, accept) {
                (true, true) => ", needed when label.method_d = true or card.allow_method_d_label = true",
                (true, false) => ", needed when label.method_d = true",
                _ => &format!(
                    ", needed when card.allow_method_d_label = true{}",
                    keys::default_mark("card", "allow_method_d_label", "true")
                ),
            };
            let key = s.existing_file(walk, "token_key_file", Content::KeyMaterial, purpose);
            s.required_because(walk, "token_key_file", key, key_hint, because).map(|file| MethodD::On {
                print,
                accept,
                token_key: TokenKey::File(file),
            })
        }
        _ => {
            let _ = s.existing_file(walk, "token_key_file", Content::KeyMaterial, purpose);
            None
        }
    };
    s.finish(walk, |_| Some("label.method_d = false and card.allow_method_d_label = false".to_owned()));
    Some(Label { method_d: method_d? })
}

// ---------------------------------------------------------------------------------------
// [io]

fn io(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Io> {
    if !s.is_present() || s.is_broken() {
        return None;
    }
    let backend = s.choice::<Backend>(walk, "backend");
    let backend = s.required(walk, "backend", backend, "backend = \"gpio\"");
    let io = match backend {
        None => None,
        Some(Backend::Simulated) => Some(Io::Simulated),
        Some(Backend::None) => Some(Io::None),
        Some(Backend::Gpio) => {
            let because = ", needed when backend = \"gpio\"";
            let mut used: Vec<(GpioPin, &str)> = Vec::new();
            let mut pin = |walk: &mut Walk<'_>, s: &mut Section<'_>, key: &'static str| {
                s.integer(walk, key).then(walk, s.path(key), |n| {
                    let pin = u8::try_from(n)
                        .ok()
                        .and_then(GpioPin::new)
                        .ok_or_else(|| bad(format!("{n} is not a GPIO number"), "use a BCM GPIO number"))?;
                    if let Some((_, other)) = used.iter().find(|(p, _)| *p == pin) {
                        return Err(bad(
                            format!("GPIO {n} is already used by io.{other}"),
                            "give each output its own GPIO line",
                        ));
                    }
                    used.push((pin, key));
                    Ok(pin)
                })
            };
            let lamp = pin(walk, &mut s, "lamp_pin");
            let buzzer = pin(walk, &mut s, "buzzer_pin");
            let gate = pin(walk, &mut s, "gate_pin").optional();
            let lamp = s.required_because(walk, "lamp_pin", lamp, "lamp_pin = 17", because);
            let buzzer = s.required_because(walk, "buzzer_pin", buzzer, "buzzer_pin = 27", because);
            (|| Some(Io::Gpio(GpioPins { lamp: lamp?, buzzer: buzzer?, gate: gate? })))()
        }
    };
    s.finish(walk, |_| backend.map(|b| format!("backend = {}", quoted(b))));
    io
}

// ---------------------------------------------------------------------------------------
// [admin]

fn admin(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Admin> {
    if !s.is_present() || s.is_broken() {
        return None;
    }
    let hash = s.secret(walk, "staff_pin_hash").then(walk, s.path("staff_pin_hash"), |phc| {
        StaffPinHash::parse(phc).map_err(|(what, fix)| bad(what, fix))
    });
    let hash = s.required(
        walk,
        "staff_pin_hash",
        hash,
        "staff_pin_hash = \"$argon2id$...\" (from `kiosk hash-staff-pin`)",
    );
    let attempts = s.integer(walk, "lockout_attempts").value();
    let attempts = attempts.and_then(|n| u8::try_from(n).ok().and_then(NonZeroU8::new));
    let lockout = s.duration(walk, "lockout_s").value();
    s.finish(walk, |_| None);
    Some(Admin { staff_pin_hash: hash?, lockout_attempts: attempts?, lockout: lockout? })
}

// ---------------------------------------------------------------------------------------
// [security]

fn offline(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Offline> {
    if !s.is_present() {
        return Some(Offline::default());
    }
    if s.is_broken() {
        return None;
    }
    let enabled = s.boolean(walk, "enabled").value();
    let library_card_patrons = s.boolean(walk, "library_card_patrons").value();
    let per_patron = s.integer(walk, "items_per_patron").value();
    let total = s.integer(walk, "items_total").value();
    let hours = s.integer(walk, "max_hours").value();
    let days = s.integer(walk, "loan_days").value();
    s.finish(walk, |_| None);
    let count = |n: i64| usize::try_from(n).unwrap_or(1);
    Some(Offline {
        enabled: enabled?,
        library_card_patrons: library_card_patrons?,
        items_per_patron: count(per_patron?),
        items_total: count(total?),
        max_age: Duration::from_secs(hours?.unsigned_abs() * 3600),
        loan_days: u32::try_from(days?).unwrap_or(14),
    })
}

// ---------------------------------------------------------------------------------------
// [statistics] and [metrics]

fn statistics(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Statistics> {
    if !s.is_present() {
        return Some(Statistics::default());
    }
    if s.is_broken() {
        return None;
    }
    let days = s.integer(walk, "keep_days").value();
    s.finish(walk, |_| None);
    Some(Statistics { keep_days: u32::try_from(days?).unwrap_or(400) })
}

// ---------------------------------------------------------------------------------------
// [audio]

fn audio(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Audio> {
    if s.is_broken() {
        return None;
    }
    let base = walk.base_dir().to_path_buf();
    let device = s.string(walk, "device").then(walk, s.path("device"), |d| match d.trim() {
        "" => Err(bad(
            "the device name is empty",
            "name an ALSA device (`aplay -L` lists them), \"default\", or \"none\" for a silent kiosk",
        )),
        "none" => Ok(None),
        name => Ok(Some(name.to_owned())),
    });
    let volume = s.integer(walk, "volume").value();
    let voice = s.boolean(walk, "voice").value();
    let prompts = s.string(walk, "prompts").then(walk, s.path("prompts"), |raw| resolve(&base, &raw));
    // Invalid (`None`) or the device's name (`Some(None)`: "none").
    let device = device.value();
    let speaker = device.clone().flatten();
    let headphones = s.string(walk, "headphones").then(walk, s.path("headphones"), |d| match d.trim() {
        "" => Err(bad(
            "the headphones' device name is empty",
            "name the ALSA device of the headphone jack (`aplay -L` lists them), or leave the key out \
             when the jack is the speaker's own",
        )),
        "none" => Err(bad(
            "\"none\" is not a device: headphones are silenced by leaving them out",
            "name the ALSA device of the headphone jack, or leave the key out when the jack is the \
             speaker's own",
        )),
        name if speaker.as_deref() == Some(name) => Err(bad(
            "the headphones' device is the speaker's own device",
            "leave headphones out when the jack is the speaker's own (the voice stays on device)",
        )),
        name => Ok(name.to_owned()),
    });
    let jack = s.string(walk, "jack").then(walk, s.path("jack"), |raw| resolve(&base, &raw));
    let titles = s.boolean(walk, "titles").value();
    let title_voice =
        s.string(walk, "title_voice").then(walk, s.path("title_voice"), |raw| resolve(&base, &raw));
    s.finish(walk, |_| None);
    Some(Audio {
        device: device?,
        volume: u8::try_from(volume?).unwrap_or(70),
        voice: voice?,
        prompts: prompts.value()?,
        headphones: headphones.optional()?,
        jack: jack.optional()?,
        titles: titles?,
        title_voice: title_voice.value()?,
    })
}

/// `[keypad]`: its device, required when the section is there.
fn keypad(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Option<std::path::PathBuf>> {
    if !s.is_present() {
        return Some(None);
    }
    if s.is_broken() {
        return None;
    }
    let base = walk.base_dir().to_path_buf();
    let device = s.string(walk, "device").then(walk, s.path("device"), |raw| resolve(&base, &raw));
    let device = s.required(walk, "device", device, "device = \"/dev/input/by-id/usb-…-event-kbd\"");
    s.finish(walk, |_| None);
    Some(Some(device?))
}

// ---------------------------------------------------------------------------------------
// [rfid] and [desensitizer]

fn rfid(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Option<Rfid>> {
    if !s.is_present() {
        return Some(None);
    }
    if s.is_broken() {
        return None;
    }
    let reader = s.string(walk, "reader").then(walk, s.path("reader"), |r| {
        if r == "simulated" {
            Ok(RfidReader::Simulated)
        } else {
            DevicePath::parse(&r).map(|d| RfidReader::Serial(d.path().to_path_buf()))
        }
    });
    let reader = s.required(walk, "reader", reader, "reader = \"/dev/ttyACM0\"");
    let security = s.choice::<TagSecurity>(walk, "security").value();
    let afi = |walk: &mut Walk<'_>, s: &mut Section<'_>, key: &str| {
        s.integer(walk, key).value().map(|n| u8::try_from(n).unwrap_or(0x07))
    };
    let shelf = afi(walk, &mut s, "afi_on_shelf");
    let loan = afi(walk, &mut s, "afi_on_loan");
    if let (Some(a), Some(b)) = (shelf, loan)
        && a == b
    {
        walk.report(
            s.header_span(),
            s.path("afi_on_loan"),
            bad(
                format!(
                    "afi_on_loan and afi_on_shelf are both {a:#04x}: the gate could not tell a lent book"
                ),
                "use the library's own values (ISO 28560: 0x07 on the shelf, 0xC2 on loan)",
            ),
        );
    }
    let patron_cards = s.boolean(walk, "patron_cards").value();
    let count_check = s.boolean(walk, "count_check").value();
    s.finish(walk, |_| None);
    Some(Some(Rfid {
        reader: reader?,
        security: security?,
        afi_on_shelf: shelf?,
        afi_on_loan: loan?,
        patron_cards: patron_cards?,
        count_check: count_check?,
    }))
}

fn desensitizer(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Option<Desensitizer>> {
    if !s.is_present() {
        return Some(None);
    }
    if s.is_broken() {
        return None;
    }
    let backend = s.choice::<Backend>(walk, "backend");
    let backend = s.required(walk, "backend", backend, "backend = \"gpio\"");
    let pin = |walk: &mut Walk<'_>, s: &mut Section<'_>, key: &'static str| {
        s.integer(walk, key).then(walk, s.path(key), |n| {
            u8::try_from(n)
                .ok()
                .and_then(GpioPin::new)
                .ok_or_else(|| bad(format!("{n} is not a GPIO number"), "use a BCM GPIO number"))
        })
    };
    let pulse = s.integer(walk, "pulse_ms").value().map(|ms| Duration::from_millis(ms.unsigned_abs()));
    let wait = s.integer(walk, "wait_s").value().map(|w| Duration::from_secs(w.unsigned_abs()));
    let unit = match backend {
        Some(Backend::Gpio) => {
            let pulse_pin = pin(walk, &mut s, "pulse_pin");
            let present_pin = pin(walk, &mut s, "book_present_pin").optional();
            let pulse_pin = s.required_because(
                walk,
                "pulse_pin",
                pulse_pin,
                "pulse_pin = 22",
                ", needed when backend = \"gpio\"",
            );
            (|| Some(Some(DesensitizerUnit::Gpio { pulse: pulse_pin?, book_present: present_pin? })))()
        }
        Some(Backend::Simulated) => Some(Some(DesensitizerUnit::Simulated)),
        Some(Backend::None) => Some(None),
        None => None,
    };
    // Anything left unread is unused with this backend (the pins are read for gpio only).
    s.finish(walk, |_| backend.map(|b| format!("backend = {}", quoted(b))));
    let unit = unit?;
    Some(unit.map(|unit| Desensitizer {
        unit,
        pulse: pulse.unwrap_or_default(),
        wait: wait.unwrap_or_default(),
    }))
    .filter(|_| pulse.is_some() && wait.is_some())
}

fn metrics(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Option<Metrics>> {
    if !s.is_present() {
        return Some(None);
    }
    if s.is_broken() {
        return None;
    }
    let listen = s.string(walk, "listen").then(walk, s.path("listen"), |a| {
        a.parse::<std::net::SocketAddr>().map_err(|_| {
            bad(
                format!("{a:?} is not an address and port"),
                "write it as listen = \"0.0.0.0:9464\" (every address) or the management network's own address",
            )
        })
    });
    let ca =
        s.existing_file(walk, "ca_file", Content::PemCertificate, "the CA of IT's client certificates (PEM)");
    let cert =
        s.existing_file(walk, "cert_file", Content::PemCertificate, "the endpoint's TLS certificate (PEM)");
    let key = s.existing_file(walk, "key_file", Content::PemPrivateKey, "the private key (PEM) of cert_file");
    let because = ", needed with listen";
    let endpoint = match listen {
        Field::Absent => {
            for (key, span) in [("ca_file", ca.span()), ("cert_file", cert.span()), ("key_file", key.span())]
            {
                if let Some(span) = span {
                    walk.report(
                        span,
                        s.path(key),
                        bad("set without listen", "add listen, or remove this key"),
                    );
                }
            }
            Some(None)
        }
        listen => {
            let listen = s.required_because(walk, "listen", listen, "listen = \"0.0.0.0:9464\"", because);
            let ca = s.required_because(
                walk,
                "ca_file",
                ca,
                "ca_file = \"/etc/kiosk/management-ca.pem\"",
                because,
            );
            let cert = s.required_because(
                walk,
                "cert_file",
                cert,
                "cert_file = \"/etc/kiosk/metrics.pem\"",
                because,
            );
            let key =
                s.required_because(walk, "key_file", key, "key_file = \"/etc/kiosk/metrics.key\"", because);
            (|| Some(Some(Metrics { listen: listen?, ca: ca?, cert: cert?, key: key? })))()
        }
    };
    s.finish(walk, |_| None);
    endpoint
}

fn security(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Security> {
    if !s.is_present() {
        return Some(Security::default());
    }
    if s.is_broken() {
        return None;
    }
    let tpm = s.string(walk, "tpm").then(walk, s.path("tpm"), |t| {
        // The kernel's resource manager (what kiosk.service allows), or a simulator on
        // the network (tests, a development machine).
        let rm = t
            .strip_prefix("device:/dev/tpmrm")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if rm || t.starts_with("swtpm:") || t.starts_with("mssim:") {
            Ok(t)
        } else {
            Err(bad(
                format!("{t:?} is not a TPM address"),
                "use tpm = \"device:/dev/tpmrm0\" (the kernel's resource manager), or leave it out",
            ))
        }
    });
    let tpm = tpm.optional();
    s.finish(walk, |_| None);
    Some(Security { tpm: tpm? })
}

// ---------------------------------------------------------------------------------------
// [session]

fn session(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<SessionTimeouts> {
    if s.is_broken() {
        return None;
    }
    let idle = s.duration(walk, "idle_timeout_s");
    let idle_span = idle.span();
    let idle = idle.value();
    let warning = s.duration(walk, "warning_s");
    let warning_span = warning.span();
    let warning = warning.value();
    let pin_idle = s.duration(walk, "pin_idle_timeout_s").value();
    let take_card = s.duration(walk, "take_card_alarm_s").value();
    s.finish(walk, |_| None);
    let (idle, warning) = (idle?, warning?);
    if warning >= idle {
        let span = warning_span.or(idle_span).unwrap_or(0..0);
        walk.problems.report(
            span,
            "session.warning_s",
            format!(
                "the warning ({} s) must come before the idle timeout ({} s)",
                warning.as_secs(),
                idle.as_secs()
            ),
            "make warning_s shorter than idle_timeout_s",
        );
        return None;
    }
    Some(SessionTimeouts {
        idle_timeout: idle,
        warning,
        pin_idle_timeout: pin_idle?,
        take_card_alarm: take_card?,
    })
}

/// A serial line's `baud` key; `where_to_look` completes the fix of a wrong rate.
fn baud(walk: &mut Walk<'_>, s: &mut Section<'_>, where_to_look: &str) -> Option<u32> {
    let baud = s.integer_noted(walk, "baud", &format!(" ({where_to_look})")).value();
    baud.and_then(|b| u32::try_from(b).ok())
}

// ---------------------------------------------------------------------------------------
// [scanner]

fn scanner(walk: &mut Walk<'_>, mut s: Section<'_>) -> Option<Scanner> {
    if s.is_broken() {
        return None;
    }
    // Without the section there is no scanner (and every other key is its default).
    let kind = if s.is_present() {
        let kind = s.choice::<ScannerKind>(walk, "kind");
        s.required(walk, "kind", kind, "kind = \"evdev\"")
    } else {
        Some(ScannerKind::None)
    };
    let because = |k: ScannerKind| format!(", needed when kind = {}", quoted(k));
    let source = match kind {
        None => None,
        Some(k @ ScannerKind::Evdev) => {
            let device = s.string(walk, "device").then(walk, s.path("device"), |d| DevicePath::parse(&d));
            let device = s.required_because(
                walk,
                "device",
                device,
                "device = \"/dev/input/by-id/usb-Barcode_Scanner-event-kbd\"",
                &because(k),
            );
            device.map(|device| ScannerSource::Evdev { device })
        }
        Some(k @ ScannerKind::Serial) => {
            let device = s.string(walk, "device").then(walk, s.path("device"), |d| DevicePath::parse(&d));
            let device = s.required_because(walk, "device", device, "device = \"/dev/ttyACM0\"", &because(k));
            let baud = baud(walk, &mut s, "the scanner's manual says which");
            (|| Some(ScannerSource::Serial { device: device?, baud: baud? }))()
        }
        Some(k @ ScannerKind::Fifo) => {
            let path = s.data_file(walk, "path");
            let path = s.required_because(walk, "path", path, "path = \"/run/kiosk/scans\"", &because(k));
            path.map(|path| ScannerSource::Fifo { path })
        }
        Some(ScannerKind::Simulated) => Some(ScannerSource::Simulated),
        Some(ScannerKind::None) => Some(ScannerSource::None),
    };
    let layout = s.choice::<kiosk_scanner::Layout>(walk, "layout").value();
    let terminator = s.choice::<kiosk_scanner::Terminator>(walk, "terminator").value();
    let debounce = s.duration(walk, "debounce_ms").value();
    let digits = |p: String| {
        if p.len() <= 12 && p.bytes().all(|b| b.is_ascii_digit()) {
            Ok(p)
        } else {
            Err(bad(
                format!("{p:?} is not up to 12 digits"),
                "use the digits every library card number starts with, or \"\"",
            ))
        }
    };
    let card_prefix =
        s.string(walk, "library_card_prefix").then(walk, s.path("library_card_prefix"), digits).value();
    let staff_prefix = s
        .string(walk, "staff_card_prefix")
        .then(walk, s.path("staff_card_prefix"), |p| {
            if !p.is_empty() && p.len() <= 12 && p.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(p)
            } else {
                Err(bad(
                    format!("{p:?} is not 1 to 12 letters or digits"),
                    "use what every staff card starts with",
                ))
            }
        })
        .optional();
    s.finish(walk, |_| kind.map(|k| format!("kind = {}", quoted(k))));
    Some(Scanner {
        source: source?,
        layout: layout?,
        terminator: terminator?,
        debounce: debounce?,
        library_card_prefix: card_prefix?,
        staff_card_prefix: staff_prefix?,
    })
}

// ---------------------------------------------------------------------------------------
// [counter]

/// `[counter]`, read only when `library.mode = "counter"`. `prints_labels`: a printer and
/// `label.method_d = true`; `has_links`: the platform mode keeps a local link store.
fn counter(
    walk: &mut Walk<'_>,
    mut s: Section<'_>,
    is_counter: Option<bool>,
    prints_labels: Option<bool>,
    has_links: Option<bool>,
) -> Option<Mode> {
    if s.is_broken() {
        return None;
    }
    match is_counter {
        Some(true) => {}
        Some(false) => {
            let mark = keys::default_mark("library", "mode", "\"self-checkout\"");
            s.finish(walk, |_| Some(format!("library.mode = \"self-checkout\"{mark}")));
            return Some(Mode::SelfCheckout);
        }
        None => {
            s.finish(walk, |_| None);
            return None;
        }
    }
    let check = s.boolean(walk, "check_revocation");
    let check_span = check.span();
    let check_revocation = check.value();
    if let (Some(false), Some(false)) = (check_revocation, has_links) {
        walk.problems.report(
            check_span.unwrap_or_else(|| s.header_span()),
            s.path("check_revocation"),
            "without the check, patron numbers come from the local link store, which platform.mode = \"api\" \
             does not keep",
            "set check_revocation = true, or platform.mode = \"ocsp\" or \"crl\" with a link store",
        );
    }
    let methods = s.choices::<HandOff>(walk, "methods");
    let methods_span = methods.span();
    let methods = methods.value();
    // Without labels, the default list simply leaves D out; a list that names it is wrong.
    let methods = methods.map(|mut m| {
        if prints_labels == Some(false) && m.contains(&HandOff::Label) {
            if let Some(span) = methods_span.clone() {
                walk.problems.report(
                    span,
                    s.path("methods"),
                    "\"label\" needs a printer and label.method_d = true",
                    "set [printer] and label.method_d = true, or remove \"label\"",
                );
            }
            m.retain(|x| *x != HandOff::Label);
        }
        m
    });
    let show_for = s.duration(walk, "show_s").value();
    let device = s
        .string(walk, "keyboard_device")
        .then(walk, s.path("keyboard_device"), |d| DevicePath::parse(&d))
        .value();
    let layout = s.choice::<kiosk_keyboard::Layout>(walk, "keyboard_layout").value();
    let terminator = s.choice::<TypedTerminator>(walk, "keyboard_terminator").value();
    let key_delay = s.duration(walk, "key_delay_ms").value();
    s.finish(walk, |_| None);
    Some(Mode::Counter(Counter {
        check_revocation: check_revocation?,
        methods: methods?,
        show_for: show_for?,
        keyboard: CounterKeyboard {
            device: device?,
            layout: layout?,
            terminator: terminator?,
            key_delay: key_delay?,
        },
    }))
}
