//! Every key of the configuration file, described once: its section and name, the type
//! of its value with the range or the choices, its default, and what it means.
//!
//! The reader takes from this table the keys each section knows (and so the "did you
//! mean" for a key it does not), the ranges and choices its messages state, and every
//! default: an absent key with a default is read from the default's text like a value
//! in the file. A test holds `deploy/kiosk.example.toml` to the table.

use kiosk_core::flow::{HandOff, LibraryCardLogin};
use kiosk_ils::{ChargedItems, Charset, Profile, Resend};
use kiosk_keyboard::Layout as KeyboardLayout;
use kiosk_platform::cache::Grace;
use kiosk_printer::{CheckDigit, Guard};
use kiosk_scanner::{Layout as ScannerLayout, Terminator};

use super::{Language, TypedTerminator};

/// One key of one section.
#[derive(Debug)]
pub(super) struct Key {
    pub(super) name: &'static str,
    pub(super) ty: Type,
    /// The value taken when the key is absent, written as in the file (`"60"`,
    /// `"\"pcsc\""`). `None`: the key is required, optional, or needed only with some
    /// other settings (the section's reader says which).
    pub(super) default: Option<&'static str>,
    /// What it is, in a few words.
    pub(super) meaning: &'static str,
}

/// What a key's value is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Type {
    /// Text in double quotes (a name, a code, a host, a URL).
    Text,
    /// A path in double quotes; relative to the configuration file's directory.
    Path,
    /// Text never repeated in a message (a password, the staff PIN's hash).
    Secret,
    /// `true` or `false`.
    Bool,
    /// A whole number from `.0` to `.1`.
    Int(i64, i64, Unit),
    /// A whole number among these; the text says what the others are not.
    Number(&'static [i64], Unit, &'static str),
    /// One of the spellings of a [`Choice`] type.
    OneOf(fn() -> Vec<&'static str>),
    /// A list of them: at least one, none twice.
    ListOf(fn() -> Vec<&'static str>),
}

impl Type {
    /// Whether the whole number `n` is a value of this type.
    pub(super) fn accepts(self, n: i64) -> bool {
        match self {
            Type::Int(lo, hi, _) => (lo..=hi).contains(&n),
            Type::Number(list, ..) => list.contains(&n),
            _ => false,
        }
    }

    /// The numbers accepted, in words: "from 1 to 300 seconds", "58 or 80", "one of 1200,
    /// 2400, …".
    pub(super) fn numbers(self) -> String {
        match self {
            Type::Int(lo, hi, unit) => format!("from {lo} to {hi}{}", unit.suffix()),
            Type::Number(list, ..) => {
                let all: Vec<String> = list.iter().map(ToString::to_string).collect();
                if all.len() > 2 { format!("one of {}", all.join(", ")) } else { or_list(&all) }
            }
            _ => String::new(),
        }
    }

    /// The unit of a number.
    pub(super) fn unit(self) -> Unit {
        match self {
            Type::Int(_, _, unit) | Type::Number(_, unit, _) => unit,
            _ => Unit::None,
        }
    }
}

/// The unit of a number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Unit {
    #[default]
    None,
    Seconds,
    Millis,
    Mm,
    Hours,
    Days,
    Percent,
}

impl Unit {
    /// How a number in this unit is written in messages: `" seconds"`, `""`.
    pub(super) fn suffix(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Seconds => " seconds",
            Unit::Millis => " ms",
            Unit::Mm => " mm",
            Unit::Hours => " hours",
            Unit::Days => " days",
            Unit::Percent => " %",
        }
    }
}

/// A closed set of string values for a key (a mode, a symbology, ...).
pub(super) trait Choice: Sized + Copy + PartialEq + 'static {
    /// Every accepted spelling and its value.
    const CHOICES: &'static [(&'static str, Self)];

    /// The spelling of `self` in the file.
    fn name(self) -> &'static str {
        Self::CHOICES.iter().find(|(_, v)| *v == self).map_or("?", |(n, _)| n)
    }
}

/// The spellings of `C`, for [`Type::OneOf`] and [`Type::ListOf`].
pub(super) fn names<C: Choice>() -> Vec<&'static str> {
    C::CHOICES.iter().map(|(n, _)| *n).collect()
}

const fn key(name: &'static str, ty: Type, default: Option<&'static str>, meaning: &'static str) -> Key {
    Key { name, ty, default, meaning }
}

use Type::{Bool, Int, ListOf, Number, OneOf, Path, Secret, Text};
use Unit::{Millis, Mm, Seconds};

const NETWORK_TIMEOUT: Type = Int(1, 300, Seconds);
const PORT: Type = Int(1, 65_535, Unit::None);
const GPIO: Type = Int(0, 27, Unit::None);
const BAUD: Type =
    Number(&[1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200], Unit::None, "a standard baud rate");

/// Every section, in the order of the example file, and its keys.
pub(super) const SECTIONS: &[(&str, &[Key])] = &[
    ("library", LIBRARY),
    ("card", CARD),
    ("platform", PLATFORM),
    ("ils", ILS),
    ("printer", PRINTER),
    ("label", LABEL),
    ("io", IO),
    ("admin", ADMIN),
    ("session", SESSION),
    ("scanner", SCANNER),
    ("counter", COUNTER),
    ("security", SECURITY),
    ("offline", OFFLINE),
    ("statistics", STATISTICS),
    ("audio", AUDIO),
    ("keypad", KEYPAD),
    ("metrics", METRICS),
    ("rfid", RFID),
    ("desensitizer", DESENSITIZER),
];

const LIBRARY: &[Key] = &[
    key("name", Text, None, "the library's name on screens and receipts"),
    key("card_name", Text, None, "the library's own name for its card on the Japanese screens"),
    key("institution_id", Text, None, "the SIP2 institution id (field AO)"),
    key("service_provider_id", Text, None, "the library's service-provider id at the platform"),
    key("languages", ListOf(names::<Language>), Some(r#"["ja", "en"]"#), "screen languages, default first"),
    key("kiosk_id", Text, None, "this kiosk's id, in Method D tokens and the audit log"),
    key("mode", OneOf(names::<DeviceMode>), Some(r#""self-checkout""#), "a self-checkout kiosk or a counter"),
    key("account_screen", Bool, Some("true"), "patrons may open their account: loans, renewals, holds ready"),
    key("returns", Bool, Some("false"), "the kiosk takes returns (no card needed)"),
    key(
        "furigana",
        Bool,
        Some("false"),
        "each session starts with readings on every kanji of the Japanese screens (children's libraries)",
    ),
];

const CARD: &[Key] = &[
    key("mode", OneOf(names::<CardMode>), Some(r#""pcsc""#), "where My Number cards are read"),
    key("reader", Text, Some(r#""""#), "part of the PC/SC reader's name (\"\": the first reader)"),
    key("require_pin", Bool, Some("true"), "ask for the card's 4-digit PIN"),
    key(
        "library_card_login",
        OneOf(names::<LibraryCardLogin>),
        Some(r#""barcode""#),
        "what a scanned library card does: nothing, log in, or log in with the library password",
    ),
    key("allow_method_d_label", Bool, Some("true"), "patrons may log in with today's Method D label"),
];

/// Keys earlier versions of the file had: `(section, key, what to write instead)`. A file
/// that still has one is told exactly what to change.
pub(super) const REPLACED: &[(&str, &str, &str)] = &[(
    "card",
    "allow_library_card",
    "it is now `library_card_login`: write library_card_login = \"barcode\" for true or \"off\" for false \
     (\"barcode+password\" also asks for the patron's library password)",
)];

const PLATFORM: &[Key] = &[
    key("mode", OneOf(names::<PlatformMode>), None, "how a card's certificate is checked"),
    key("url", Text, None, "the platform's, OCSP responder's or CRL's https:// URL"),
    key("ca_file", Path, None, "CA certificate(s) of the server's TLS certificate (PEM)"),
    key("jpki_ca_file", Path, None, "JPKI CA certificate(s) card certificates chain to (PEM)"),
    key("client_cert", Path, None, "this kiosk's TLS client certificate (PEM)"),
    key("client_key", Path, None, "the private key of client_cert (PEM)"),
    key("terminal_id", Text, None, "the terminal registration's id"),
    key("terminal_password", Secret, None, "the terminal registration's password"),
    key("connect_timeout_s", NETWORK_TIMEOUT, Some("5"), "TCP and TLS connect timeout"),
    key("request_timeout_s", NETWORK_TIMEOUT, Some("10"), "whole-request timeout"),
    key("offline_policy", OneOf(names::<Grace>), Some(r#""refuse""#), "if the check cannot be made"),
    key("crl_refresh_s", Int(60, 86_400, Seconds), Some("3600"), "how often the CRL is fetched"),
    key("link_store", Path, None, "the local link store: certificate -> patron"),
    key("link_key_file", Path, None, "the link store's hashing key (32 bytes or more)"),
    key(
        "link_server",
        Text,
        None,
        "the municipality's shared link store: postgresql://ROLE@HOST:PORT/DATABASE",
    ),
    key("link_server_ca_file", Path, None, "CA certificate(s) of the link store's TLS certificate (PEM)"),
    key("link_client_cert", Path, None, "this device's TLS client certificate for the link store (PEM)"),
    key("link_client_key", Path, None, "the private key of link_client_cert (PEM)"),
    key("municipality", Text, None, "the municipality whose links this device reads and writes"),
    key(
        "link_refresh_s",
        Int(1, 3600, Seconds),
        Some("2"),
        "how often the shared link store is asked for changes",
    ),
];

const ILS: &[Key] = &[
    key("mode", OneOf(names::<IlsMode>), None, "the library system"),
    key("host", Text, None, "the SIP2 server's host name or address"),
    key("port", PORT, Some("6001"), "the SIP2 server's port"),
    key("tls", Bool, Some("false"), "connect with TLS"),
    key("ca_file", Path, None, "CA certificate of the server's TLS certificate (PEM)"),
    key("login_user", Text, None, "SIP2 login user (CN)"),
    key("login_password", Secret, None, "SIP2 login password (CO)"),
    key("location_code", Text, None, "this kiosk's location code (CP)"),
    key("encoding", OneOf(names::<Charset>), Some(r#""utf-8""#), "character set of SIP2 messages"),
    key("request_timeout_s", NETWORK_TIMEOUT, Some("10"), "time to wait for one answer"),
    key("retries", Int(0, 10, Unit::None), Some("2"), "resends of a request that got no answer"),
    key("keepalive_s", Int(10, 3600, Seconds), Some("60"), "interval of SC status messages while idle"),
    key(
        "profile",
        OneOf(names::<Profile>),
        Some(r#""generic""#),
        "the library system's make: resend and charged_items",
    ),
    key("resend", OneOf(names::<Resend>), None, "how a reply with a bad checksum is asked for again"),
    key("charged_items", OneOf(names::<ChargedItems>), None, "what a patron's charged items (AU) list"),
    key(
        "override_checkout_not_allowed",
        Bool,
        Some("false"),
        "lend even when the library system's status says checkout is not allowed",
    ),
];

const PRINTER: &[Key] = &[
    key("transport", OneOf(names::<Transport>), None, "how the ESC/POS printer is connected"),
    key("vendor_id", Int(1, 0xFFFF, Unit::None), None, "USB vendor id (`lsusb`)"),
    key("product_id", Int(1, 0xFFFF, Unit::None), None, "USB product id (`lsusb`)"),
    key("device", Path, None, "the serial device"),
    key("baud", BAUD, Some("9600"), "serial line speed"),
    key("host", Text, None, "the network printer's host name or address"),
    key("port", PORT, Some("9100"), "the network printer's port"),
    key("path", Path, None, "the file ESC/POS bytes are appended to"),
    key("paper_width_mm", Number(&[58, 80], Mm, "a supported roll width"), Some("80"), "roll width"),
    key("barcode", OneOf(names::<Barcode>), Some(r#""nw7""#), "symbology of patron numbers on labels"),
    key("nw7_start", OneOf(names::<Guard>), Some(r#""A""#), "NW-7 start character"),
    key("nw7_stop", OneOf(names::<Guard>), Some(r#""A""#), "NW-7 stop character"),
    key("check_digit", OneOf(names::<CheckDigit>), Some(r#""none""#), "check digit of patron numbers"),
    key("label_length_mm", Int(20, 300, Mm), None, "cut labels at this length (else after the content)"),
    key("receipt_shows_patron", Bool, Some("false"), "print the masked patron number on receipts"),
];

const LABEL: &[Key] = &[
    key("method_d", Bool, Some("false"), "this kiosk prints Method D labels"),
    key("token_key_file", Path, None, "the key of the labels' same-day token (32 bytes or more)"),
];

const IO: &[Key] = &[
    key("backend", OneOf(names::<Backend>), None, "staff-call lamp, buzzer and gate outputs"),
    key("lamp_pin", GPIO, None, "the staff-call lamp's BCM GPIO number"),
    key("buzzer_pin", GPIO, None, "the buzzer's BCM GPIO number"),
    key("gate_pin", GPIO, None, "the security gate's BCM GPIO number"),
];

const ADMIN: &[Key] = &[
    key("staff_pin_hash", Secret, None, "the staff PIN's argon2id hash (`kiosk hash-staff-pin`)"),
    key("lockout_attempts", Int(1, 20, Unit::None), Some("5"), "wrong staff PINs before the menu locks"),
    key("lockout_s", Int(30, 3600, Seconds), Some("300"), "how long the menu stays locked"),
];

const SESSION: &[Key] = &[
    key("idle_timeout_s", Int(15, 600, Seconds), Some("60"), "no touch for this long ends the session"),
    key("warning_s", Int(5, 120, Seconds), Some("15"), "\"still there?\" this long before the end"),
    key("pin_idle_timeout_s", Int(10, 120, Seconds), Some("30"), "a half-typed PIN is cleared after this"),
    key("take_card_alarm_s", Int(10, 600, Seconds), Some("60"), "a card left this long calls staff"),
];

const SCANNER: &[Key] = &[
    key("kind", OneOf(names::<ScannerKind>), None, "the barcode scanner's connection"),
    key("device", Path, None, "the scanner's event or serial device"),
    key("baud", BAUD, Some("9600"), "serial line speed"),
    key("path", Path, None, "the named pipe or file scans are read from"),
    key("layout", OneOf(names::<ScannerLayout>), Some(r#""us""#), "the keyboard layout the scanner types in"),
    key("terminator", OneOf(names::<Terminator>), Some(r#""enter""#), "what ends a scan"),
    key("debounce_ms", Int(0, 10_000, Millis), Some("1500"), "the same code within this is one scan"),
    key("library_card_prefix", Text, Some(r#""""#), "library card numbers start with these digits"),
    key("staff_card_prefix", Text, None, "staff cards start with this"),
];

const SECURITY: &[Key] = &[key(
    "tpm",
    Text,
    None,
    "seal the kiosk's keys to this TPM 2.0 (\"device:/dev/tpmrm0\"); without it they are 0600 files",
)];

const OFFLINE: &[Key] = &[
    key(
        "enabled",
        Bool,
        Some("false"),
        "lend while the library system does not answer; send the loans later",
    ),
    key(
        "library_card_patrons",
        Bool,
        Some("false"),
        "library-card patrons may borrow offline too (My Number card and label patrons may)",
    ),
    key("items_per_patron", Int(1, 50, Unit::None), Some("5"), "the most books one patron borrows offline"),
    key("items_total", Int(1, 1000, Unit::None), Some("50"), "the most offline loans the kiosk holds"),
    key(
        "max_hours",
        Int(1, 168, Unit::Hours),
        Some("24"),
        "no offline loan once the oldest waiting is this old",
    ),
    key("loan_days", Int(1, 60, Unit::Days), Some("14"), "the provisional due date: this many days on"),
];

const STATISTICS: &[Key] = &[key(
    "keep_days",
    Int(1, 3660, Unit::Days),
    Some("400"),
    "how many days of hourly usage counts the kiosk keeps (no personal data)",
)];

const AUDIO: &[Key] = &[
    key(
        "device",
        Text,
        Some(r#""default""#),
        "the ALSA device the kiosk speaks on (`aplay -L` lists them); \"none\": silent",
    ),
    key(
        "volume",
        Int(0, 100, Unit::Percent),
        Some("70"),
        "the volume at start (staff change it until a restart)",
    ),
    key("voice", Bool, Some("true"), "spoken prompts; false: the tones only"),
    key(
        "prompts",
        Path,
        Some(r#""/usr/share/kiosk/kiosk-voice.pack""#),
        "the spoken prompts (the .deb installs them)",
    ),
    key(
        "headphones",
        Text,
        None,
        "the headphone jack's ALSA device when it is not the speaker's (an audio keypad's own sound card)",
    ),
    key(
        "jack",
        Path,
        None,
        "the headphone jack's own input node (/dev/input/by-id/…), when the keypad does not report it",
    ),
    key(
        "titles",
        Bool,
        Some("true"),
        "books' titles said through the headphones' own device (never the speaker); false: never",
    ),
    key(
        "title_voice",
        Path,
        Some(r#""/usr/share/kiosk/mei_normal.htsvoice""#),
        "Open JTalk's voice for Japanese titles (the .deb installs it)",
    ),
];

const KEYPAD: &[Key] = &[key(
    "device",
    Path,
    None,
    "the tactile keypad's event device (/dev/input/by-id/…-event-kbd), or a recorded event stream",
)];

const METRICS: &[Key] = &[
    key(
        "listen",
        Text,
        None,
        "serve metrics and the usage CSV to IT on this address and port (\"0.0.0.0:9464\"); without it, off",
    ),
    key("ca_file", Path, None, "CA certificate(s) of the clients allowed to connect: IT's (PEM)"),
    key("cert_file", Path, None, "the endpoint's TLS certificate (PEM)"),
    key("key_file", Path, None, "the private key of cert_file (PEM)"),
];

const AFI: Type = Int(1, 255, Unit::None);

const RFID: &[Key] = &[
    key(
        "reader",
        Text,
        None,
        "the RFID reader's serial device (a TRF7970A evaluation module, \"/dev/ttyACM0\"); \"simulated\" in the demo",
    ),
    key(
        "security",
        OneOf(names::<TagSecurity>),
        Some("\"afi\""),
        "how the gate knows a tag: afi, eas or both",
    ),
    key("afi_on_shelf", AFI, Some("0x07"), "the AFI of an item not lent (the gate alarms on it)"),
    key("afi_on_loan", AFI, Some("0xC2"), "the AFI written when an item is lent"),
    key("patron_cards", Bool, Some("false"), "a library card with an RFID tag logs a patron in from the pad"),
    key(
        "count_check",
        Bool,
        Some("false"),
        "at Finish, ask how many items the patron brought and compare with those read",
    ),
];

const DESENSITIZER: &[Key] = &[
    key("backend", OneOf(names::<Backend>), None, "the magnetic-strip desensitizer: gpio or simulated"),
    key("pulse_pin", GPIO, None, "the BCM GPIO number that pulses the unit"),
    key("book_present_pin", GPIO, None, "the BCM GPIO number of the unit's book sensor, if it has one"),
    key("pulse_ms", Int(20, 2000, Millis), Some("300"), "how long a pulse lasts"),
    // Below the security switch's own limit (10 s): a checkout's answer never waits longer.
    key("wait_s", Int(1, 6, Seconds), Some("5"), "how long to wait for the book in the unit"),
];

const COUNTER: &[Key] = &[
    key("check_revocation", Bool, Some("true"), "ask the platform whether the card is revoked"),
    key(
        "methods",
        ListOf(names::<HandOff>),
        Some(r#"["digits", "barcode", "keyboard", "label"]"#),
        "the hand-off methods staff may choose, the first shown first",
    ),
    key("show_s", Int(5, 600, Seconds), Some("30"), "methods A and B show the number this long"),
    key("keyboard_device", Path, Some(r#""/dev/hidg0""#), "method C's USB HID gadget device"),
    key(
        "keyboard_layout",
        OneOf(names::<KeyboardLayout>),
        Some(r#""jis""#),
        "the counter PC's keyboard layout",
    ),
    key("keyboard_terminator", OneOf(names::<TypedTerminator>), Some(r#""enter""#), "typed after the number"),
    key("key_delay_ms", Int(0, 200, Millis), Some("8"), "pause between keys (method C)"),
];

/// The keys of `section` (none for a section that does not exist).
pub(super) fn of(section: &str) -> &'static [Key] {
    SECTIONS.iter().find(|(name, _)| *name == section).map_or(&[], |(_, keys)| keys)
}

/// The key `name` of `section`.
pub(super) fn find(section: &str, name: &str) -> Option<&'static Key> {
    of(section).iter().find(|k| k.name == name)
}

/// `", "`-joined, the last two joined by `" or "`: `"a", "b" or "c"`.
pub(super) fn or_list(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => items.join(""),
    }
}

/// The choices of a [`Type::OneOf`] key, quoted, for a message: `"a", "b" or "c"`.
pub(super) fn choices_text(section: &str, name: &str) -> String {
    let quoted: Vec<String> = match find(section, name).map(|k| k.ty) {
        Some(OneOf(names) | ListOf(names)) => names().iter().map(|n| format!("\"{n}\"")).collect(),
        _ => Vec::new(),
    };
    or_list(&quoted)
}

/// `" (the default)"` when `value` is the default of `section.name`, else nothing: for
/// messages that name a setting which may be in force without being written.
pub(super) fn default_mark(section: &str, name: &str, value: &str) -> &'static str {
    if find(section, name).and_then(|k| k.default) == Some(value) { " (the default)" } else { "" }
}

// The choices of the keys that select a mode (the modes' settings are enums of
// `Config`), then the spellings of every choice: of these, of `Config`'s own enums, and
// of the driver and flow enums `Config` holds as they are.

/// `library.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeviceMode {
    SelfCheckout,
    Counter,
}

/// `card.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CardMode {
    Pcsc,
    Simulated,
}

/// `platform.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PlatformMode {
    Api,
    Ocsp,
    Crl,
    Simulated,
}

/// `ils.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum IlsMode {
    Sip2,
    Simulated,
}

/// `printer.transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    Usb,
    Serial,
    Tcp,
    File,
    Simulated,
    None,
}

/// `printer.barcode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Barcode {
    Nw7,
    Code128,
}

/// `io.backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Gpio,
    Simulated,
    None,
}

/// `rfid.security`: what marks an item lent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagSecurity {
    /// The AFI (the gate inventories with the on-shelf AFI).
    Afi,
    /// The EAS bit of NXP tags.
    Eas,
    /// Both.
    Both,
}

/// `scanner.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScannerKind {
    Evdev,
    Serial,
    Fifo,
    Simulated,
    None,
}

/// `impl Choice` for each type: its spellings in the file and their values.
macro_rules! choices {
    ($($ty:ident { $($name:literal => $variant:ident),+ })+) => {
        $(impl Choice for $ty {
            const CHOICES: &'static [(&'static str, Self)] = &[$(($name, $ty::$variant)),+];
        })+
    };
}

choices! {
    DeviceMode { "self-checkout" => SelfCheckout, "counter" => Counter }
    CardMode { "pcsc" => Pcsc, "simulated" => Simulated }
    PlatformMode { "api" => Api, "ocsp" => Ocsp, "crl" => Crl, "simulated" => Simulated }
    IlsMode { "sip2" => Sip2, "simulated" => Simulated }
    Transport {
        "usb" => Usb, "serial" => Serial, "tcp" => Tcp, "file" => File, "simulated" => Simulated, "none" => None
    }
    Barcode { "nw7" => Nw7, "code128" => Code128 }
    Backend { "gpio" => Gpio, "simulated" => Simulated, "none" => None }
    TagSecurity { "afi" => Afi, "eas" => Eas, "both" => Both }
    ScannerKind {
        "evdev" => Evdev, "serial" => Serial, "fifo" => Fifo, "simulated" => Simulated, "none" => None
    }
    Language {
        "ja" => Japanese, "ja-easy" => EasyJapanese, "en" => English, "zh-Hans" => Chinese, "ko" => Korean,
        "vi" => Vietnamese, "pt-BR" => Portuguese
    }
    LibraryCardLogin { "off" => Off, "barcode" => Barcode, "barcode+password" => BarcodeAndPassword }
    Grace { "refuse" => Refuse, "grace" => UntilNextUpdate }
    Charset { "utf-8" => Utf8, "shift_jis" => Cp932 }
    Profile {
        "generic" => Generic, "koha" => Koha, "evergreen" => Evergreen, "folio" => Folio, "sierra" => Sierra,
        "polaris" => Polaris
    }
    Resend { "request" => Request, "97" => AcsResend }
    ChargedItems { "barcode" => Barcode, "title" => Title }
    Guard { "A" => A, "B" => B, "C" => C, "D" => D }
    CheckDigit { "none" => None, "mod10w21" => Mod10W21, "mod11" => Mod11, "mod16" => Mod16, "mod7" => Mod7 }
    ScannerLayout { "us" => Us, "jis" => Jis }
    KeyboardLayout { "us" => Us, "jis" => Jis }
    Terminator { "enter" => Enter, "tab" => Tab }
    HandOff { "digits" => Digits, "barcode" => Barcode, "keyboard" => Keyboard, "label" => Label }
    TypedTerminator { "enter" => Enter, "tab" => Tab, "none" => Nothing }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use toml::de::DeValue;

    use super::*;

    #[test]
    fn no_section_has_a_key_twice() {
        for (section, keys) in SECTIONS {
            let mut names: Vec<&str> = keys.iter().map(|k| k.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), keys.len(), "[{section}]");
        }
    }

    /// The reader takes an absent key's default as if it were in the file: each must be
    /// a value of its key's type.
    #[test]
    fn every_default_is_a_value_of_its_type() {
        for (section, keys) in SECTIONS {
            for key in *keys {
                let Some(default) = key.default else { continue };
                let value = DeValue::parse(default).map(|v| v.into_inner());
                let ok = match (key.ty, &value) {
                    (Type::Text | Type::Path, Ok(DeValue::String(_)))
                    | (Type::Bool, Ok(DeValue::Boolean(_))) => true,
                    (Type::Int(..) | Type::Number(..), Ok(DeValue::Integer(i))) => {
                        i64::from_str_radix(i.as_str(), i.radix()).is_ok_and(|n| key.ty.accepts(n))
                    }
                    (Type::OneOf(names), Ok(DeValue::String(s))) => names().contains(&s.as_ref()),
                    (Type::ListOf(names), Ok(DeValue::Array(items))) => {
                        let items: Vec<Option<&str>> = items.iter().map(|i| i.get_ref().as_str()).collect();
                        let once = items.iter().enumerate().all(|(i, item)| !items[..i].contains(item));
                        !items.is_empty()
                            && once
                            && items.iter().all(|i| i.is_some_and(|i| names().contains(&i)))
                    }
                    // A secret has no default.
                    _ => false,
                };
                assert!(ok, "{section}.{}: the default {default} is not a value of {:?}", key.name, key.ty);
            }
        }
    }

    /// `deploy/kiosk.example.toml` shows every key of the table, and no other, under its
    /// section. A key shown commented out shows its default (a key without one, an
    /// example); a key set to another value than its default ends with `  # default: …`.
    #[test]
    fn the_example_file_shows_every_key_with_its_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kiosk.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut section = "";
        let mut seen = Vec::new();
        let mut wrong = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let (commented, body) = line.strip_prefix("# ").map_or((false, line), |rest| (true, rest));
            if let Some(name) = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
                section = name;
                continue;
            }
            let Some((name, value)) = body.split_once(" = ") else { continue };
            if name.is_empty()
                || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                continue; // prose
            }
            let at = format!("line {}: {section}.{name}", n + 1);
            let Some(key) = find(section, name) else {
                wrong.push(format!("{at} is not in the table"));
                continue;
            };
            seen.push((section, name));
            let (value, noted) = value
                .split_once("  # default: ")
                .map_or((value.trim(), None), |(v, d)| (v.trim(), Some(d.trim())));
            match (key.default, commented, noted) {
                (None, _, Some(_)) => wrong.push(format!("{at} has no default")),
                (Some(default), true, _) if !same(value, default) => {
                    wrong.push(format!("{at} = {value} is commented out, but its default is {default}"));
                }
                (Some(default), false, None) if !same(value, default) => {
                    wrong.push(format!("{at} = {value} must end with `  # default: {default}`"));
                }
                (Some(default), false, Some(noted)) if !same(noted, default) => {
                    wrong.push(format!("{at} says the default is {noted}; it is {default}"));
                }
                _ => {}
            }
        }
        for (section, keys) in SECTIONS {
            for key in *keys {
                if !seen.contains(&(*section, key.name)) {
                    wrong.push(format!("{section}.{} is missing", key.name));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "deploy/kiosk.example.toml disagrees with the key table (kiosk/src/config/keys.rs):\n{}",
            wrong.join("\n")
        );
    }

    /// Whether two TOML values are the same value (`0x50` and `80` are).
    fn same(a: &str, b: &str) -> bool {
        let parse =
            |v: &str| toml::from_str::<toml::Table>(&format!("v = {v}")).ok().and_then(|mut t| t.remove("v"));
        parse(a).is_some_and(|a| Some(a) == parse(b))
    }
}
