//! The kiosk's configuration: one TOML file, checked completely at load into a typed
//! [`Config`] that cannot hold an invalid state.
//!
//! - [`load`] reads and checks a file; [`parse`] checks text already read.
//! - Every key is described once, in the table of `keys.rs`: its section, its type with
//!   the range or choices, its default and what it means. The reader takes the known
//!   keys, the ranges, choices and defaults from it; the doc comments below name the key.
//! - Every problem is collected in one pass and reported together, each with the line,
//!   the dotted key, what is wrong and the fix ([`Problems`]). Unknown keys are errors:
//!   a typo must not silently fall back to a default.
//! - Modes are enums whose variants hold only the settings that mode uses
//!   ([`PrinterTransport::Tcp`] has a host and a port, nothing else). A key that the chosen
//!   mode does not use is an error too.
//! - Files the kiosk needs (certificates, keys) are checked to exist and to hold the
//!   right kind of content; relative paths are relative to the configuration file's
//!   directory.
//! - Secrets ([`Secret`], [`StaffPinHash`]) print `<redacted>` and are wiped on drop;
//!   no problem message ever contains one.
//!
//! `deploy/kiosk.example.toml` documents every key for a library's IT staff (a test holds
//! it to the table).

mod keys;

/// Every key the config reader accepts, as (section, key), in the reader's order.
pub fn every_key() -> impl Iterator<Item = (&'static str, &'static str)> {
    keys::SECTIONS.iter().flat_map(|(section, keys)| keys.iter().map(move |k| (*section, k.name)))
}
mod policy;
mod problems;
mod reader;
mod secret;
mod sections;
mod values;

use std::num::NonZeroU8;
use std::path::Path;
use std::time::Duration;

use kiosk_core::flow::{HandOff, LibraryCardLogin};
use kiosk_ils::Charset;
use kiosk_platform::cache::Grace;
use kiosk_printer::{CheckDigit, Guard, PaperWidth, Symbology};
use zeroize::Zeroizing;

pub use problems::{ConfigError, Problem, Problems};
pub use secret::{HashPinError, Secret, StaffPinHash, hash_staff_pin};
pub use values::{Code, DataFile, DevicePath, ExistingFile, GpioPin, Host, HttpsUrl, Ident, Port};

/// Reads and checks the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?,
    );
    match std::str::from_utf8(&bytes) {
        Ok(text) => parse(text, path),
        Err(e) => Err(sections::not_utf8(&bytes, e.valid_up_to(), path)),
    }
}

/// Checks configuration text. `origin` is the file it came from: it names the file in
/// problems, and relative paths in the file are relative to its directory.
pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
    sections::parse(text, origin)
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[library]`: who runs this kiosk.
    pub library: Library,
    /// `[card]`: how patrons identify.
    pub card: Card,
    /// `[platform]`: the certificate validity (revocation) check.
    pub platform: Platform,
    /// `[ils]`: the library system.
    pub ils: Ils,
    /// `[printer]`: receipts and Method D labels.
    pub printer: Printer,
    /// `[label]` (and `card.allow_method_d_label`): Method D labels.
    pub label: Label,
    /// `[io]`: staff-call lamp, buzzer, gate.
    pub io: Io,
    /// `[admin]`: the staff menu.
    pub admin: Admin,
    /// `[session]`: patron-session timeouts.
    pub session: SessionTimeouts,
    /// `[scanner]`: the barcode scanner (optional section; without it, no scanner).
    pub scanner: Scanner,
    /// `library.mode` and `[counter]`: a self-checkout kiosk, or the staffed counter.
    pub mode: Mode,
    /// `[security]`: where the kiosk's own keys are kept.
    pub security: Security,
    pub offline: Offline,
    /// `[statistics]`: how long the usage counts are kept.
    pub statistics: Statistics,
    /// `[audio]`: the voice and the tones.
    pub audio: Audio,
    /// `[keypad]`: the tactile keypad, where the library has one.
    pub keypad: Option<std::path::PathBuf>,
    /// `[metrics]`: the management endpoint for IT (off without `listen`).
    pub metrics: Option<Metrics>,
    /// `[rfid]`: books read from an RFID pad, their security by AFI or EAS.
    pub rfid: Option<Rfid>,
    /// `[desensitizer]`: a magnetic-strip desensitizer unit (libraries without RFID).
    pub desensitizer: Option<Desensitizer>,
}

pub use keys::TagSecurity;

/// `[rfid]` (optional section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfid {
    pub reader: RfidReader,
    pub security: TagSecurity,
    /// The AFI of an item not lent (the gate alarms on it).
    pub afi_on_shelf: u8,
    /// The AFI of an item lent.
    pub afi_on_loan: u8,
    /// A library card with an RFID tag (the Danish model's "patron card" usage) logs in.
    pub patron_cards: bool,
    /// At Finish, the patron says how many items they brought (a tag hidden under the
    /// stack is not read).
    pub count_check: bool,
}

/// `rfid.reader`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RfidReader {
    /// A TRF7970A evaluation module on this serial device.
    Serial(std::path::PathBuf),
    /// The demo's virtual reader.
    Simulated,
}

/// `[desensitizer]` (optional section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desensitizer {
    pub unit: DesensitizerUnit,
    /// How long a pulse lasts.
    pub pulse: Duration,
    /// How long to wait for the book in the unit (with a sensor).
    pub wait: Duration,
}

/// `desensitizer.backend` and its pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesensitizerUnit {
    Gpio { pulse: GpioPin, book_present: Option<GpioPin> },
    Simulated,
}

/// `[audio]` (optional section): where the kiosk speaks, how loud, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// The ALSA device's name; `None`: silent (`device = "none"`).
    pub device: Option<String>,
    /// Percent, at start.
    pub volume: u8,
    /// Spoken prompts (else the tones only).
    pub voice: bool,
    /// The prompt pack.
    pub prompts: std::path::PathBuf,
    /// The ALSA device of the headphone jack, when it is not `device` itself (an audio
    /// keypad's own sound card); `None`: the speaker's device, whose jack silences the
    /// speaker when headphones go in.
    pub headphones: Option<String>,
    /// The headphone jack's own input node (an evdev node that reports
    /// `SW_HEADPHONE_INSERT`, as many sound cards' jacks do), when it is not the keypad's.
    pub jack: Option<std::path::PathBuf>,
    /// Books' titles said through the headphones' own device (made at run time).
    pub titles: bool,
    /// Open JTalk's voice for Japanese titles (the one the prompts were made with).
    pub title_voice: std::path::PathBuf,
}

/// Where the .deb and the image install the prompt pack.
pub const PROMPTS: &str = "/usr/share/kiosk/kiosk-voice.pack";

/// Where the .deb installs the Japanese voice titles are read with.
pub const TITLE_VOICE: &str = "/usr/share/kiosk/mei_normal.htsvoice";

impl Default for Audio {
    fn default() -> Self {
        Audio {
            device: Some("default".to_owned()),
            volume: 70,
            voice: true,
            prompts: PROMPTS.into(),
            headphones: None,
            jack: None,
            titles: true,
            title_voice: TITLE_VOICE.into(),
        }
    }
}

impl Audio {
    /// The demo's: the default device, and the pack the .deb installed or else the one
    /// `cargo xtask demo` made beside the build (`target/prompts`, next to the
    /// `target/debug` or `target/release` the kiosk runs from).
    #[must_use]
    pub fn demo() -> Audio {
        // The installed file, else the one beside the build (target/prompts, target/voice).
        let beside = |installed: &str, dir: &str, name: &str| -> std::path::PathBuf {
            let built = std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.parent()?.parent()?.join(dir).join(name)));
            match built {
                Some(p) if !Path::new(installed).exists() && p.exists() => p,
                _ => installed.into(),
            }
        };
        Audio {
            prompts: beside(PROMPTS, "prompts", "kiosk-voice.pack"),
            title_voice: beside(TITLE_VOICE, "voice", "mei_normal.htsvoice"),
            ..Audio::default()
        }
    }
}

/// `[statistics]` (optional section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statistics {
    /// Days of hourly counts kept.
    pub keep_days: u32,
}

impl Default for Statistics {
    fn default() -> Self {
        Statistics { keep_days: 400 }
    }
}

/// `[metrics]` (optional section): HTTPS with client certificates on the management
/// network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    pub listen: std::net::SocketAddr,
    /// The CA whose certificates may connect.
    pub ca: ExistingFile,
    pub cert: ExistingFile,
    pub key: ExistingFile,
}

/// `[offline]` (optional section): lending while the library system does not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offline {
    /// Off by default: a library switches it on.
    pub enabled: bool,
    /// Library-card patrons may borrow offline (My Number card and label patrons may).
    pub library_card_patrons: bool,
    pub items_per_patron: usize,
    pub items_total: usize,
    /// No new offline loan once the oldest one still waiting is this old.
    pub max_age: Duration,
    /// The provisional due date is this many days after the loan.
    pub loan_days: u32,
}

impl Default for Offline {
    fn default() -> Self {
        Offline {
            enabled: false,
            library_card_patrons: false,
            items_per_patron: 5,
            items_total: 50,
            max_age: Duration::from_secs(24 * 3600),
            loan_days: 14,
        }
    }
}

/// `[security]` (optional section).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Security {
    /// The TPM 2.0 the loan journal's key is sealed to (a TCTI address); `None`: the key
    /// is a file of mode 0600.
    pub tpm: Option<String>,
}

impl Security {
    /// How the kiosk's keys are kept.
    #[must_use]
    pub fn sealer(&self) -> kiosk_keystore::Sealer {
        match &self.tpm {
            Some(tcti) => kiosk_keystore::Sealer::Tpm(tcti.clone()),
            None => kiosk_keystore::Sealer::File,
        }
    }
}

/// What this device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The unattended self-checkout kiosk (`library.mode = "self-checkout"`).
    SelfCheckout,
    /// At a staffed counter: hands the patron number to the library system by methods
    /// A–D, and is where staff link cards to library cards.
    Counter(Counter),
}

impl Mode {
    /// The counter's settings, when this is a counter.
    #[must_use]
    pub fn counter(&self) -> Option<&Counter> {
        match self {
            Mode::Counter(c) => Some(c),
            Mode::SelfCheckout => None,
        }
    }
}

/// `[counter]`: the counter profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// Ask the platform whether the card is revoked (`check_revocation`). A library may
    /// turn it off at a counter where staff check the card face (Himeji did).
    pub check_revocation: bool,
    /// The hand-off methods staff may choose, the first shown first (`methods`; without
    /// it, all that the configuration can do).
    pub methods: Vec<HandOff>,
    /// How long the number stays on screen (methods A and B) before it is wiped.
    pub show_for: Duration,
    /// Method C: the USB keyboard towards the counter PC.
    pub keyboard: CounterKeyboard,
}

/// Method C's USB HID keyboard gadget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterKeyboard {
    /// The gadget's HID device (`keyboard_device`, made by `deploy/usb-gadget`).
    pub device: DevicePath,
    /// The counter PC's keyboard layout (`keyboard_layout`).
    pub layout: kiosk_keyboard::Layout,
    /// What is typed after the number (`keyboard_terminator`).
    pub terminator: TypedTerminator,
    /// Pause between keys (`key_delay_ms`).
    pub key_delay: Duration,
}

/// What method C types after the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypedTerminator {
    Enter,
    Tab,
    Nothing,
}

impl TypedTerminator {
    /// The text typed after the number.
    #[must_use]
    pub fn text(self) -> &'static str {
        match self {
            TypedTerminator::Enter => "\n",
            TypedTerminator::Tab => "\t",
            TypedTerminator::Nothing => "",
        }
    }
}

/// `[scanner]`: where scans come from and how they are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanner {
    pub source: ScannerSource,
    /// Keyboard layout a keyboard-wedge scanner types in (`layout`: US is what scanners
    /// ship with; JIS when the scanner was set up for a Japanese keyboard).
    pub layout: kiosk_scanner::Layout,
    /// What ends a scan (`terminator`).
    pub terminator: kiosk_scanner::Terminator,
    /// The same code again within this time is one scan (`debounce_ms`).
    pub debounce: Duration,
    /// Library card numbers start with these digits (may be empty).
    pub library_card_prefix: String,
    /// Staff cards start with this, when the library has them.
    pub staff_card_prefix: Option<String>,
}

/// The scanner's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannerSource {
    /// A USB keyboard-wedge scanner (Linux evdev), grabbed so its keystrokes reach
    /// nothing else.
    Evdev { device: DevicePath },
    /// A serial scanner.
    Serial { device: DevicePath, baud: u32 },
    /// Lines from a named pipe or file (tests, or another program feeding scans).
    Fifo { path: DataFile },
    /// The demo's on-screen buttons.
    Simulated,
    /// No scanner (a card-only kiosk).
    None,
}

/// `[library]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    /// Shown on screen and printed on receipts, e.g. "はりま市立中央図書館" (1 to 100 characters).
    pub name: String,
    /// The library's own name for its card on the Japanese screens ("利用者カード",
    /// "図書館利用券", …; 1 to 20 characters); `None` says 図書館カード. English screens
    /// say "library card" whatever the library calls it.
    pub card_name: Option<String>,
    /// SIP2 institution id (field AO).
    pub institution_id: Code,
    /// The library's service-provider id at the local authentication platform; always
    /// present when [`Platform::Api`].
    pub service_provider_id: Option<Code>,
    /// The screen languages, the first being the default.
    pub languages: Languages,
    /// This kiosk's id, in Method D tokens and the audit log.
    pub kiosk_id: Ident,
    /// Patrons may open their account from the borrowing screen (`account_screen`,
    /// default true): loans and due dates, renewals, holds ready.
    pub account_screen: bool,
    /// The kiosk takes returns (`returns`, default false: many libraries keep returns at
    /// the counter or a book drop). No card is needed to return.
    pub returns: bool,
    /// Each session starts with a reading on every kanji of the Japanese screens
    /// (`furigana`, default false: a children's library sets it); patrons turn it on or
    /// off with the bar's button either way.
    pub furigana: bool,
}

/// A screen language: the screens' own type, named in the file by its code (`"ja"`,
/// `"ja-easy"`, `"en"`, `"zh-Hans"`, `"ko"`, `"vi"`, `"pt-BR"`).
pub use kiosk_core::scene::Language;

/// One or more distinct languages; the first is the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Languages(Vec<Language>);

impl Languages {
    /// The language a session starts in.
    #[must_use]
    pub fn default_language(&self) -> Language {
        self.0.first().copied().unwrap_or(Language::Japanese)
    }

    /// All of them, the default first.
    #[must_use]
    pub fn all(&self) -> &[Language] {
        &self.0
    }
}

/// `[card]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// Where My Number cards are read.
    pub reader: CardReader,
    /// Ask for the card's 4-digit PIN (`require_pin`; Himeji asks, "like a cash card").
    pub require_pin: bool,
    /// What a scanned library card (or a Method D label's linear barcode: the same
    /// number) may do (`library_card_login`): nothing, log in, or log in with the
    /// patron's library password.
    pub library_card_login: LibraryCardLogin,
}

/// The card reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardReader {
    /// A PC/SC reader whose name contains this text; empty = the first reader found.
    Pcsc {
        /// Substring of the PC/SC reader name, e.g. "RC-S380".
        name_contains: String,
    },
    /// The virtual card of the simulator (demo and tests).
    Simulated,
}

/// `[platform]`: how the card's certificate is checked for revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Platform {
    /// Online check through the local authentication platform's API, with mutual TLS
    /// and the terminal's registration.
    Api {
        /// Where and how to connect.
        endpoint: PlatformEndpoint,
        /// The kiosk's TLS client certificate, written by terminal registration.
        client: TerminalIdentity,
        /// The terminal registration.
        terminal: Terminal,
    },
    /// OCSP (RFC 6960) against the responder at `endpoint`; patrons are resolved from the
    /// local link store.
    Ocsp {
        /// The OCSP responder.
        endpoint: PlatformEndpoint,
        /// A TLS client certificate, when the responder asks for one.
        client: Option<ClientIdentity>,
        /// Certificate serial (keyed hash) → patron number.
        links: LinkStore,
    },
    /// A locally held CRL, refreshed from `endpoint`: the platform never learns who used
    /// the kiosk.
    Crl {
        /// Where the CRL is fetched from.
        endpoint: PlatformEndpoint,
        /// A TLS client certificate, when the server asks for one.
        client: Option<ClientIdentity>,
        /// Certificate serial (keyed hash) → patron number.
        links: LinkStore,
        /// How often the CRL is fetched.
        refresh: Duration,
    },
    /// The platform simulator (demo and tests).
    Simulated,
}

/// Where the platform (or OCSP responder, or CRL server) is and how to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEndpoint {
    /// An `https://` URL.
    pub url: HttpsUrl,
    /// CA certificate(s) (PEM) that the server's TLS certificate must chain to.
    pub ca_file: ExistingFile,
    /// JPKI CA certificate(s) (PEM) that card certificates must chain to.
    pub jpki_ca_file: ExistingFile,
    /// TCP + TLS connect timeout (`connect_timeout_s`).
    pub connect_timeout: Duration,
    /// Whole-request timeout (`request_timeout_s`).
    pub request_timeout: Duration,
    /// What to do when the check cannot be made (`offline_policy`: "refuse", or
    /// "grace": a card whose last answer said good, until that answer's next update).
    pub offline_policy: Grace,
}

/// A TLS client certificate and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The certificate (PEM).
    pub cert: ExistingFile,
    /// Its private key (PEM).
    pub key: ExistingFile,
}

/// Where terminal registration keeps the kiosk's TLS client certificate and key
/// (`platform.client_cert`, `platform.client_key` in `api` mode). Both files exist once
/// the terminal is registered; before that neither does, and registration (the staff
/// menu's Registration page, or `kiosk register`) writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminalIdentity {
    /// Both files are there (checked as PEM when the configuration was read).
    Registered(ClientIdentity),
    /// Neither file is there yet; their directories exist.
    Unregistered {
        /// Where the certificate chain goes.
        cert: DataFile,
        /// Where the private key goes.
        key: DataFile,
    },
}

impl TerminalIdentity {
    /// The certificate chain's path.
    #[must_use]
    pub fn cert_path(&self) -> &Path {
        match self {
            TerminalIdentity::Registered(c) => c.cert.path(),
            TerminalIdentity::Unregistered { cert, .. } => cert.path(),
        }
    }

    /// The private key's path.
    #[must_use]
    pub fn key_path(&self) -> &Path {
        match self {
            TerminalIdentity::Registered(c) => c.key.path(),
            TerminalIdentity::Unregistered { key, .. } => key.path(),
        }
    }
}

/// The terminal's registration at the platform (issued per municipality).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terminal {
    /// The terminal id.
    pub id: Ident,
    /// The terminal password.
    pub password: Secret,
}

/// The local link store: keyed hash of a certificate serial → the patron number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkStore {
    /// The store's file (read and written by the kiosk).
    pub path: DataFile,
    /// The key of the keyed hash (at least 32 bytes), so serials are never stored in clear.
    pub key_file: ExistingFile,
    /// The municipality's shared store (`link_server`): then `path` is this device's
    /// signed snapshot of it.
    pub shared: Option<SharedLinkStore>,
}

/// `platform.link_server` and its companions: the shared link store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLinkStore {
    /// `postgresql://ROLE@HOST:PORT/DATABASE`.
    pub url: String,
    pub ca_file: ExistingFile,
    pub client_cert: ExistingFile,
    pub client_key: ExistingFile,
    /// Whose links: a kiosk sees only its municipality's.
    pub municipality: String,
    /// How often the store is asked for changes.
    pub refresh: Duration,
}

/// `[ils]`: the library system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ils {
    /// SIP2 over TCP (or TLS).
    Sip2(Sip2),
    /// The library-system simulator (demo and tests).
    Simulated,
}

/// SIP2 connection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sip2 {
    /// The SIP2 server.
    pub host: Host,
    /// Its port.
    pub port: Port,
    /// TLS, when the server speaks it.
    pub tls: Option<Sip2Tls>,
    /// The SIP2 login (message 93), when the server asks for one.
    pub login: Option<Sip2Login>,
    /// Location code (CP) of this kiosk.
    pub location_code: Option<Code>,
    /// Character set of the SIP2 messages (`encoding`).
    pub encoding: Charset,
    /// Time to wait for one answer (`request_timeout_s`).
    pub request_timeout: Duration,
    /// Resends of a request that got no answer.
    pub retries: u8,
    /// Interval of SC status (99) messages while idle (`keepalive_s`); the driver
    /// shortens it to half the timeout the server's 98 gives.
    pub keepalive: Duration,
    /// The library system's make (`profile`): gives the defaults of `resend` and
    /// `charged_items`.
    pub profile: kiosk_ils::Profile,
    /// How a reply whose checksum failed is asked for again (`resend`; the profile's
    /// when absent).
    pub resend: kiosk_ils::Resend,
    /// What the server lists as a patron's charged items (`charged_items`; the
    /// profile's when absent).
    pub charged_items: kiosk_ils::ChargedItems,
    /// Lend even when the server's 98 says checkout is not allowed
    /// (`override_checkout_not_allowed`).
    pub override_checkout_not_allowed: bool,
}

/// TLS to the SIP2 server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sip2Tls {
    /// CA certificate(s) (PEM) the server's certificate must chain to.
    pub ca_file: ExistingFile,
}

/// SIP2 login credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sip2Login {
    /// Login user id (CN).
    pub user: Code,
    /// Login password (CO): printable ASCII, no `|`.
    pub password: Secret,
}

/// `[printer]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printer {
    /// How the printer is connected.
    pub transport: PrinterTransport,
    /// Roll width (`paper_width_mm`).
    pub paper_width: PaperWidth,
    /// Barcode symbology for patron numbers on labels, with the check digit of the
    /// library's patron numbers (`barcode`, `nw7_start`, `nw7_stop`, `check_digit`).
    pub symbology: Symbology,
    /// Cut labels at this length in mm (`label_length_mm`); `None` cuts after the content.
    pub label_length_mm: Option<u16>,
    /// Print the patron number, masked to its last four characters, on receipts
    /// (otherwise a receipt carries no patron data).
    pub receipt_shows_patron: bool,
}

/// How the ESC/POS printer is connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTransport {
    /// USB printer class device.
    Usb {
        /// USB vendor id.
        vendor_id: u16,
        /// USB product id.
        product_id: u16,
    },
    /// Serial line.
    Serial {
        /// The tty, e.g. `/dev/ttyUSB0`.
        device: DevicePath,
        /// Line speed.
        baud: u32,
    },
    /// Raw TCP (JetDirect).
    Tcp {
        /// The printer.
        host: Host,
        /// Its port.
        port: Port,
    },
    /// Append the ESC/POS bytes to a file (tests, or a spool read by another program).
    File {
        /// The file.
        path: DataFile,
    },
    /// The printer simulator, which renders what is printed (demo and tests).
    Simulated,
    /// No printer: no receipts, no Method D labels.
    None,
}

/// `[label]`: Method D labels ("方式D"): the patron number printed as a barcode for other
/// self-checkout machines, valid on the day it is printed only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Whether labels are printed and/or accepted, and with which key.
    pub method_d: MethodD,
}

/// Method D on or off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodD {
    /// No labels printed, none accepted.
    Off,
    /// At least one of `print` and `accept` is true.
    On {
        /// This kiosk prints labels (`label.method_d`); there is a printer.
        print: bool,
        /// Patrons may log in here with a label (`card.allow_method_d_label`).
        accept: bool,
        /// The key that signs and verifies the label's same-day token.
        token_key: TokenKey,
    },
}

/// The key for Method D tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKey {
    /// A key file (at least 32 bytes), the same on every kiosk of the fleet.
    File(ExistingFile),
    /// A random key made at start-up: labels are only valid on this kiosk until it
    /// restarts. Only [`Config::demo`] uses it.
    Ephemeral,
}

/// `[io]`: staff-call lamp, buzzer and gate outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Io {
    /// Raspberry Pi GPIO.
    Gpio(GpioPins),
    /// Simulated outputs, shown by the demo.
    Simulated,
    /// No outputs (staff calls are only shown on screen).
    None,
}

/// The GPIO lines used, all distinct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpioPins {
    lamp: GpioPin,
    buzzer: GpioPin,
    gate: Option<GpioPin>,
}

impl GpioPins {
    /// The staff-call lamp.
    #[must_use]
    pub fn lamp(&self) -> GpioPin {
        self.lamp
    }

    /// The buzzer ("take your card", alarms).
    #[must_use]
    pub fn buzzer(&self) -> GpioPin {
        self.buzzer
    }

    /// The security-gate release output, if any.
    #[must_use]
    pub fn gate(&self) -> Option<GpioPin> {
        self.gate
    }
}

/// `[admin]`: the staff menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// The staff PIN, hashed.
    pub staff_pin_hash: StaffPinHash,
    /// Wrong staff PINs before the menu locks (`lockout_attempts`).
    pub lockout_attempts: NonZeroU8,
    /// How long it stays locked (`lockout_s`).
    pub lockout: Duration,
}

/// `[session]`: patron-session timeouts. `warning` is shorter than `idle_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimeouts {
    idle_timeout: Duration,
    warning: Duration,
    pin_idle_timeout: Duration,
    take_card_alarm: Duration,
}

impl SessionTimeouts {
    /// No touch for this long ends the session (`idle_timeout_s`).
    #[must_use]
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// "Are you still there?" is shown this long before the idle timeout (`warning_s`).
    #[must_use]
    pub fn warning(&self) -> Duration {
        self.warning
    }

    /// A half-typed PIN is cleared after this long without a key (`pin_idle_timeout_s`).
    #[must_use]
    pub fn pin_idle_timeout(&self) -> Duration {
        self.pin_idle_timeout
    }

    /// A card left in the reader this long after the session calls staff
    /// (`take_card_alarm_s`).
    #[must_use]
    pub fn take_card_alarm(&self) -> Duration {
        self.take_card_alarm
    }
}

/// The argon2id hash of the demo's staff PIN "0000" (default parameters).
const DEMO_STAFF_PIN_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$PldoI+eVPnF60y+qDaeJ1A$mP9qO9ocszJabAie2dFV2fDjE+9tGQBF0ElszIqlKnI";

impl Config {
    /// The built-in demo configuration: every device simulated, no file needed. The
    /// staff PIN is `0000`; Method D labels are printed and accepted with a key made at
    /// start-up.
    #[must_use]
    pub fn demo() -> Config {
        Config {
            library: Library {
                name: "デモ市立図書館 (Demo City Library)".to_owned(),
                card_name: None,
                institution_id: Code::demo("DEMO"),
                service_provider_id: None,
                languages: Languages(vec![Language::Japanese, Language::English]),
                kiosk_id: Ident::demo("demo-01"),
                account_screen: true,
                returns: true,
                furigana: false,
            },
            card: Card {
                reader: CardReader::Simulated,
                require_pin: true,
                library_card_login: LibraryCardLogin::BarcodeAndPassword,
            },
            platform: Platform::Simulated,
            ils: Ils::Simulated,
            printer: Printer {
                transport: PrinterTransport::Simulated,
                paper_width: PaperWidth::Mm80,
                symbology: Symbology::Nw7 { start: Guard::A, stop: Guard::A, check: CheckDigit::None },
                label_length_mm: None,
                receipt_shows_patron: false,
            },
            label: Label {
                method_d: MethodD::On { print: true, accept: true, token_key: TokenKey::Ephemeral },
            },
            io: Io::Simulated,
            admin: Admin {
                staff_pin_hash: StaffPinHash::demo(DEMO_STAFF_PIN_HASH),
                lockout_attempts: NonZeroU8::MIN.saturating_add(4),
                lockout: Duration::from_secs(300),
            },
            session: SessionTimeouts {
                idle_timeout: Duration::from_secs(60),
                warning: Duration::from_secs(15),
                pin_idle_timeout: Duration::from_secs(30),
                take_card_alarm: Duration::from_secs(60),
            },
            // The demo patron's card number starts with 23; the demo's books are ISBNs.
            scanner: Scanner {
                source: ScannerSource::Simulated,
                layout: kiosk_scanner::Layout::Us,
                terminator: kiosk_scanner::Terminator::Enter,
                debounce: Duration::from_millis(1500),
                library_card_prefix: "23".to_owned(),
                staff_card_prefix: None,
            },
            mode: Mode::SelfCheckout,
            security: Security::default(),
            offline: Offline::default(),
            statistics: Statistics::default(),
            audio: Audio::demo(),
            keypad: None,
            metrics: None,
            rfid: None,
            desensitizer: None,
        }
    }

    /// The demo at the counter: [`Config::demo`] with every hand-off method, the USB
    /// keyboard typing into `keyboard` (a file standing in for `/dev/hidg0`).
    #[must_use]
    pub fn demo_counter(keyboard: &Path) -> Config {
        let mut config = Config::demo();
        config.mode = Mode::Counter(Counter {
            check_revocation: true,
            methods: vec![HandOff::Digits, HandOff::Barcode, HandOff::Keyboard, HandOff::Label],
            show_for: Duration::from_secs(60),
            keyboard: CounterKeyboard {
                device: DevicePath::demo(keyboard),
                layout: kiosk_keyboard::Layout::Jis,
                terminator: TypedTerminator::Enter,
                key_delay: Duration::from_millis(8),
            },
        });
        config
    }

    /// This library's configuration with every device and peer simulated (`kiosk demo
    /// --config FILE`): its policy stays (PIN, timeouts, labels, scan rules, staff PIN,
    /// name); the token key is made afresh. `counter_keyboard` switches to the counter
    /// profile, method C typing into that file.
    #[must_use]
    pub fn simulated(&self, counter_keyboard: Option<&Path>) -> Config {
        let mut c = self.clone();
        c.card.reader = CardReader::Simulated;
        c.platform = Platform::Simulated;
        c.ils = Ils::Simulated;
        c.printer.transport = PrinterTransport::Simulated;
        c.io = Io::Simulated;
        c.scanner.source = ScannerSource::Simulated;
        if let Some(r) = &mut c.rfid {
            r.reader = RfidReader::Simulated;
        }
        if let Some(d) = &mut c.desensitizer {
            d.unit = DesensitizerUnit::Simulated;
        }
        if let MethodD::On { token_key, .. } = &mut c.label.method_d {
            *token_key = TokenKey::Ephemeral;
        }
        if let Some(keyboard) = counter_keyboard {
            c.mode = Config::demo_counter(keyboard).mode;
        }
        c
    }

    /// One line for `kiosk check-config`: what this configuration will talk to. No
    /// secrets.
    #[must_use]
    pub fn summary(&self) -> String {
        let platform = match &self.platform {
            Platform::Api { endpoint, .. } => format!("platform api {}", endpoint.url),
            Platform::Ocsp { endpoint, .. } => format!("platform ocsp {}", endpoint.url),
            Platform::Crl { endpoint, refresh, .. } => {
                format!("platform crl {} every {}s", endpoint.url, refresh.as_secs())
            }
            Platform::Simulated => "platform simulated".to_owned(),
        };
        let ils = match &self.ils {
            Ils::Sip2(s) => {
                let override_note = if s.override_checkout_not_allowed {
                    " (lends even when its status says checkout is not allowed: \
                     ils.override_checkout_not_allowed)"
                } else {
                    ""
                };
                format!(
                    "SIP2 {}:{}{} profile {}{override_note}",
                    s.host,
                    s.port,
                    if s.tls.is_some() { " (TLS)" } else { "" },
                    keys::Choice::name(s.profile),
                )
            }
            Ils::Simulated => "ILS simulated".to_owned(),
        };
        let printer = match &self.printer.transport {
            PrinterTransport::Usb { vendor_id, product_id } => {
                format!("USB {vendor_id:04x}:{product_id:04x}")
            }
            PrinterTransport::Serial { device, baud } => format!("serial {} {baud}", device.path().display()),
            PrinterTransport::Tcp { host, port } => format!("tcp {host}:{port}"),
            PrinterTransport::File { path } => format!("file {}", path.path().display()),
            PrinterTransport::Simulated => "simulated".to_owned(),
            PrinterTransport::None => "none".to_owned(),
        };
        let io = match &self.io {
            Io::Gpio(_) => "gpio",
            Io::Simulated => "simulated",
            Io::None => "none",
        };
        let method_d = match &self.label.method_d {
            MethodD::Off => "off",
            MethodD::On { print: true, accept: true, .. } => "print+accept",
            MethodD::On { print: true, .. } => "print",
            MethodD::On { .. } => "accept",
        };
        let clear_sip2 = matches!(&self.ils, Ils::Sip2(s) if s.tls.is_none());
        let library_card = match self.card.library_card_login {
            _ if self.mode.counter().is_some() => "off (a counter)",
            LibraryCardLogin::Off => "off",
            LibraryCardLogin::Barcode => {
                "barcode (anyone holding the card, or a copy of its barcode, borrows with it)"
            }
            LibraryCardLogin::BarcodeAndPassword if clear_sip2 => {
                "barcode+password (the password crosses the network in clear: SIP2 without TLS)"
            }
            LibraryCardLogin::BarcodeAndPassword => "barcode+password",
        };
        let metrics = self.metrics.as_ref().map_or_else(
            || "off".to_owned(),
            |m| format!("https://{}/metrics (client certificates from {})", m.listen, m.ca.path().display()),
        );
        let security = match (&self.rfid, &self.desensitizer) {
            (Some(r), _) => {
                let reader = match &r.reader {
                    RfidReader::Serial(p) => p.display().to_string(),
                    RfidReader::Simulated => "simulated".to_owned(),
                };
                let by = match r.security {
                    TagSecurity::Afi => {
                        format!("AFI {:#04X} on loan, {:#04X} on the shelf", r.afi_on_loan, r.afi_on_shelf)
                    }
                    TagSecurity::Eas => "the EAS bit".to_owned(),
                    TagSecurity::Both => {
                        format!("AFI {:#04X}/{:#04X} and the EAS bit", r.afi_on_loan, r.afi_on_shelf)
                    }
                };
                format!("RFID pad on {reader}, security by {by}")
            }
            (None, Some(d)) => match d.unit {
                DesensitizerUnit::Gpio { pulse, .. } => format!("desensitizer on GPIO {}", pulse.bcm()),
                DesensitizerUnit::Simulated => "desensitizer simulated".to_owned(),
            },
            (None, None) => "no item security unit (books are scanned; the gate is only released)".to_owned(),
        };
        format!(
            "OK: {} (kiosk {}): {platform}; {ils}; printer {printer} {}mm; io {io}; {security}; PIN {}; library card {library_card}; Method D {method_d}; usage kept {} days; metrics {metrics}",
            self.library.name,
            self.library.kiosk_id,
            if self.printer.paper_width == PaperWidth::Mm58 { 58 } else { 80 },
            if self.card.require_pin {
                "required"
            } else {
                "not required (no proof of possession: a copy of a card's certificate would be enough)"
            },
            self.statistics.keep_days,
        )
    }
}
