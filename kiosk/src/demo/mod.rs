//! The demo: the kiosk's own orchestrator (the same event loop, effects, journal and scan
//! rules as on the board) on simulated devices in this process: the virtual My Number
//! card (kiosk-sim's JPKI applet, PIN 1234) behind the card worker, a platform with no
//! network that checks the card's proof like the real back-ends, the simulated library
//! system speaking SIP2 over an in-memory pipe, and a virtual printer that renders each
//! page as a PNG. Each answers after the time the real one takes (the validity check
//! 2.5 s, so the "what is happening" line appears).
//!
//! Three ways to run it: a desktop window in real time ([`run_window`]); a script played
//! headlessly with a screenshot per step ([`script`]); the scripted journeys as text
//! ([`text`]). The last two run on tokio's paused clock ([`DemoKiosk`]): time moves only
//! when every task waits, so a run is the same on a busy machine as on an idle one.

pub mod script;
pub mod text;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use kiosk_card::{CardError, Jpki, ReadMode};
use kiosk_core::console::Console;
use kiosk_core::scene::{DemoControl, Scene, UiAction};
use kiosk_ils::{ClientConfig, Sip2Library};
use kiosk_platform::links::LinkStore;
use kiosk_platform::proof::CardTrust;
use kiosk_printer::{Job, PrintError, TokenKey};
use kiosk_sim::card::{InProcess, SharedCard};
use kiosk_sim::sip2::{Behaviour, Catalogue, ItemState, Sip2Sim};
use tokio::sync::{mpsc, watch};

use crate::config::Config;
use crate::error::KioskError;
use crate::journal::Journal;
use crate::orchestrator::card::{self, CardCommand, CardHandle, CardNews};
use crate::orchestrator::drivers::{Devices, Drivers, Outputs, StartError};
use crate::orchestrator::printing::{Printer, Printing};
use crate::orchestrator::{Input, NoWatchdog, Orchestrator};

/// The demo card's PIN. Written here because it is a demo fixture, not a secret.
pub const DEMO_PIN: [u8; 4] = [1, 2, 3, 4];

/// The demo patron's library card number (NW-7, no check digit, as the demo config).
pub const DEMO_PATRON: &str = "2300012345678";

/// The demo patron's library password (the demo config asks for it after the library
/// card: `library_card_login = "barcode+password"`). A demo fixture, not a secret.
pub const DEMO_PASSWORD: &str = "5678";

/// The demo library's books, in the order the demo's "scan a book" button offers them.
pub const BOOKS: &[(&str, &str)] = &[
    ("9784101010014", "吾輩は猫である"),
    ("9784003101018", "坊っちゃん"),
    (ON_HOLD, "こころ"),
    ("9784101010021", "Norwegian Wood"),
    ("9784101001616", "雪国"),
];

/// The demo patron's loans from an earlier visit, due in so many days (negative:
/// overdue): the account screen's content.
pub const ACCOUNT_LOANS: &[(&str, &str, i64)] = &[
    ("9784062748681", "ノルウェイの森（上）", 3),
    ("9784167158057", "博士の愛した数式", -2),
    ("9784101092058", "人間失格", 9),
];

/// A hold waiting for the demo patron on the hold shelf.
pub const HOLD_READY: &str = "9784167904265";

/// The book on hold for another patron: the library system refuses to lend it.
pub const ON_HOLD: &str = "9784041001011";

/// How long the simulated devices take (what the real ones take, roughly).
mod latency {
    use std::time::Duration;

    pub const READ_CERTIFICATE: Duration = Duration::from_millis(400);
    pub const PIN_TRIES: Duration = Duration::from_millis(100);
    pub const VERIFY_PIN: Duration = Duration::from_millis(300);
    pub const SIGN: Duration = Duration::from_millis(500);
    pub const VALIDITY: Duration = Duration::from_millis(2_500);
    pub const LIBRARY: Duration = Duration::from_millis(500);
    pub const PRINT: Duration = Duration::from_millis(1_500);
}

/// The demo's own controls, which the orchestrator's demo room uses: its card on the
/// reader or off it, its scanner's next book.
pub struct Controls {
    card: SharedCard,
    present: Arc<AtomicBool>,
    next_book: usize,
    /// The virtual RFID reader of a library with a pad (`[rfid]`): "a book" is put on it.
    pad: Option<kiosk_sim::rfid::VirtualReader>,
    /// The effects the orchestrator carried out, for the text journeys.
    effects: Arc<Mutex<Vec<String>>>,
}

impl core::fmt::Debug for Controls {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Controls(card on reader: {})", self.card_on_reader())
    }
}

impl Controls {
    #[must_use]
    pub fn card_on_reader(&self) -> bool {
        self.present.load(Ordering::SeqCst)
    }

    /// Puts the card on the reader or takes it off, and says so as the reader's watcher
    /// would. A card taken off loses its power (and its verified PIN).
    pub fn toggle_card(&mut self) -> CardNews {
        let on = !self.card_on_reader();
        self.present.store(on, Ordering::SeqCst);
        if on {
            CardNews::Inserted
        } else {
            kiosk_sim::card::lock(&self.card).power_off();
            // The patron leaves with the books: the pad is clear for the next one.
            if let Some(pad) = &self.pad {
                for n in 0..BOOKS.len() {
                    pad.remove(demo_tag(u32::try_from(n).unwrap_or(0), "").uid);
                }
            }
            CardNews::Removed
        }
    }

    /// The next book of the demo library, as the scanner reads it.
    pub fn next_book(&mut self) -> String {
        let (code, _) = BOOKS[self.next_book % BOOKS.len()];
        self.next_book += 1;
        code.to_owned()
    }

    /// Notes an effect the orchestrator carries out (the text journeys show them).
    pub fn record(&self, effect: &kiosk_core::flow::Effect) {
        self.effects.lock().unwrap_or_else(PoisonError::into_inner).push(format!("{effect:?}"));
    }

    /// What each demo button does, as the device would say it to the event loop (`None`:
    /// the device says it itself: a book put on the RFID pad is read by the pad).
    pub fn input(&mut self, control: DemoControl) -> Option<Input> {
        Some(match control {
            DemoControl::Card => Input::Card(self.toggle_card()),
            DemoControl::ScanBook => {
                // One label per demo book: the same book put down again is the same tag.
                let n = u32::try_from(self.next_book % BOOKS.len()).unwrap_or(0);
                let book = self.next_book();
                match &self.pad {
                    // On the pad: the kiosk reads it there (its tag in the Danish model).
                    Some(pad) => {
                        let tag = demo_tag(n, &book);
                        if pad.tag(tag.uid).is_none() {
                            pad.place(tag);
                        }
                        return None;
                    }
                    None => Input::Scan(book),
                }
            }
            DemoControl::ScanLibraryCard => Input::Scan(DEMO_PATRON.to_owned()),
        })
    }
}

/// What the demo's runners read back from the simulated world.
pub struct World {
    card: SharedCard,
    effects: Arc<Mutex<Vec<String>>>,
    library: Sip2Sim,
    pages: Arc<Mutex<Vec<PathBuf>>>,
    label_keys: Arc<Vec<TokenKey>>,
    state: PathBuf,
}

impl core::fmt::Debug for World {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("World").field("state", &self.state).finish_non_exhaustive()
    }
}

impl World {
    /// The pages the virtual printer rendered, in order.
    #[must_use]
    pub fn pages(&self) -> Vec<PathBuf> {
        self.pages.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The effects the orchestrator carried out since the last call (`Debug` form: a PIN
    /// and a patron number show redacted).
    pub fn take_effects(&self) -> Vec<String> {
        std::mem::take(&mut *self.effects.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many PIN verifications (VERIFY with a PIN) the card received.
    #[must_use]
    pub fn pin_verifications(&self) -> usize {
        kiosk_sim::card::lock(&self.card)
            .log()
            .iter()
            .filter_map(|e| kiosk_card::ParsedCommand::parse(&e.command).ok())
            .filter(|c| c.ins == kiosk_card::Ins::Verify.byte() && !c.data.is_empty())
            .count()
    }

    /// What the library system lent and refused: `(lent, refused)`.
    #[must_use]
    pub fn checkouts(&self) -> (u64, u64) {
        let stats = self.library.stats();
        let asked = stats.requests.get("11").copied().unwrap_or(0);
        (stats.checkouts_applied, asked.saturating_sub(stats.checkouts_applied))
    }

    /// The kiosk's label key (the demo's is made at start), to make labels as a kiosk
    /// of the same fleet would have printed them.
    #[must_use]
    pub fn label_key(&self) -> Option<&TokenKey> {
        self.label_keys.first()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// A fresh folder for one demo kiosk's journal and link store.
fn state_dir() -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    std::env::temp_dir().join(format!("kiosk-demo-state-{}-{n}", std::process::id()))
}

/// Builds the simulated devices and the real drivers around them; printed pages go to
/// `pages`. Call it inside a tokio runtime (the card worker is a task on it).
///
/// # Errors
/// The folders cannot be made, the test PKI cannot be generated, a driver cannot start.
pub fn drivers(
    config: &Config,
    pages: &Path,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(Drivers, World), KioskError> {
    let state = state_dir();
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |source| KioskError::DemoOutput { what, source }
    };
    std::fs::create_dir_all(&state).map_err(io(&state))?;
    std::fs::create_dir_all(pages).map_err(io(pages))?;
    let pki = kiosk_sim::card::TestPki::shared().map_err(|e| KioskError::DemoDevices(e.to_string()))?;
    let card = kiosk_sim::card::shared_card(kiosk_sim::card::CardConfig {
        auth_pin: DEMO_PIN.map(|d| b'0' + d),
        ..kiosk_sim::card::CardConfig::default()
    })
    .map_err(|e| KioskError::DemoDevices(e.to_string()))?;
    let platform_err = |e: kiosk_platform::PlatformError| KioskError::Start(StartError::Platform(e));
    let trust = CardTrust::from_ders(std::slice::from_ref(&pki.ca_cert_der)).map_err(platform_err)?;
    let links = Arc::new(LinkStore::with_key(&state.join("links"), random_key()?).map_err(platform_err)?);
    let demo_card = kiosk_card::cert::JpkiCertificate::from_der(&pki.user_cert_der)
        .map_err(|e| KioskError::DemoDevices(e.to_string()))?;
    if let Some(patron) = kiosk_platform::ServiceId::new(DEMO_PATRON) {
        links.link(&demo_card, &patron).map_err(platform_err)?;
    }
    let platform = kiosk_sim::platform::in_process::InProcessPlatform::new(
        trust.clone(),
        links.clone(),
        latency::VALIDITY,
    );
    let (library, sim) = library(config);
    let printed = Arc::new(Mutex::new(Vec::new()));
    let printer = VirtualPrinter {
        dir: pages.to_owned(),
        dots: config.job_settings().paper.dots(),
        pages: printed.clone(),
        font: Arc::new(OnceLock::new()),
    };
    let present = Arc::new(AtomicBool::new(false));
    let devices = Devices {
        card: Some(card_worker(card.clone(), present.clone(), inputs.clone())),
        platform: Some(Arc::new(platform)),
        trust: Arc::new(trust),
        links: Some(links),
        library: Some(library),
        printer: Some(Arc::new(printer)),
        outputs: Outputs::none(),
        security: None,
    };
    // A library with an RFID pad or a desensitizer: simulated ones.
    let (devices, pad) = security(config, devices, inputs)?;
    let journal = Arc::new(Journal::open(&state.join("journal")).map_err(StartError::from)?);
    let mut drivers = Drivers::assemble(config, journal, devices)?;
    crate::orchestrator::drivers::start_keypad(config, inputs)?;
    drivers.busy_file = state.join("session-active");
    drivers.update_status = state.join("update-status.json");
    drivers.update_request = state.join("update-request");
    let effects = Arc::new(Mutex::new(Vec::new()));
    drivers.demo =
        Some(Controls { card: card.clone(), present, next_book: 0, pad, effects: effects.clone() });
    for device in [kiosk_ui::Device::Reader, kiosk_ui::Device::Printer] {
        let _ =
            inputs.send(Input::Status(kiosk_ui::status_row(device, kiosk_ui::DeviceState::Simulated, 0, "")));
    }
    let label_keys = drivers.label_keys.clone();
    Ok((drivers, World { card, effects, library: sim, pages: printed, label_keys, state }))
}

/// The demo's item security: a virtual RFID reader with its pad thread (`[rfid]`), or a
/// simulated desensitizer (`[desensitizer]`), as the library's configuration says.
fn security(
    config: &Config,
    mut devices: Devices,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(Devices, Option<kiosk_sim::rfid::VirtualReader>), KioskError> {
    use crate::orchestrator::security::{SecurityUnit, start_pad};
    if let Some(r) = &config.rfid {
        let reader = kiosk_sim::rfid::VirtualReader::start()
            .map_err(|e| KioskError::DemoDevices(format!("the virtual RFID reader: {e}")))?;
        let path = reader.path().display().to_string();
        let open = Box::new(move || kiosk_rfid::EvmReader::open(&path));
        let pad = start_pad(open, crate::orchestrator::drivers::tag_values(r), inputs.clone())
            .map_err(|source| StartError::Thread { what: "RFID pad", source })?;
        devices.security = Some(SecurityUnit::Rfid(pad));
        return Ok((devices, Some(reader)));
    }
    if let Some(d) = &config.desensitizer {
        let unit: Arc<dyn kiosk_io::Desensitizer> = Arc::new(kiosk_io::SimulatedDesensitizer::new());
        devices.security = Some(SecurityUnit::Desensitizer { unit, wait: d.wait, pulses: Arc::default() });
    }
    Ok((devices, None))
}

/// A demo book's RFID label: the Danish model, on the shelf.
fn demo_tag(n: u32, item: &str) -> kiosk_sim::rfid::VirtualTag {
    kiosk_sim::rfid::VirtualTag::library_item(0xDE00 + n, item, 1, 1)
}

/// 32 bytes from the system's random source (the demo's link store key).
fn random_key() -> Result<Vec<u8>, KioskError> {
    let mut key = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key))
        .map_err(|source| KioskError::DemoOutput { what: "/dev/urandom".to_owned(), source })?;
    Ok(key)
}

/// The demo library (its books, the demo patron) behind the real SIP2 client.
fn library(config: &Config) -> (Arc<Sip2Library>, Sip2Sim) {
    let institution = config.library.institution_id.as_str();
    let mut catalogue = Catalogue { loan_limit: 10, ..Catalogue::demo() };
    catalogue.patron(DEMO_PATRON, "デモ 利用者", Some(DEMO_PASSWORD), false);
    for (code, title) in BOOKS {
        catalogue.item(code, title);
    }
    if let Some(item) = catalogue.items.get_mut(ON_HOLD) {
        item.state = ItemState::OnHoldFor("P0004".into());
    }
    // What the demo patron already has, for the account screen: a loan due soon, one
    // overdue, one another patron waits for (it cannot be renewed), and a hold ready.
    let day = |days: i64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        kiosk_ils::SipDate::from_unix(now + days * 86_400, crate::clock::Clock::library().utc_offset_secs())
            .to_string()
    };
    for (code, title, due) in ACCOUNT_LOANS {
        catalogue.item(code, title);
        catalogue.lend(code, DEMO_PATRON, &day(*due));
    }
    catalogue.hold(ACCOUNT_LOANS[2].0, "P0004");
    catalogue.item(HOLD_READY, "火花");
    if let Some(item) = catalogue.items.get_mut(HOLD_READY) {
        item.state = ItemState::OnHoldFor(DEMO_PATRON.into());
    }
    let behaviour = Behaviour {
        institution: institution.to_owned(),
        library_name: config.library.name.clone(),
        login: None,
        latency: latency::LIBRARY,
        ..Behaviour::default()
    };
    let sim = Sip2Sim::in_process(catalogue, behaviour);
    let mut client = ClientConfig::new("demo library system (in process)", institution);
    client.in_process = Some(sim.peer());
    client.utc_offset_secs = crate::clock::Clock::library().utc_offset_secs();
    (Sip2Library::new(client), sim)
}

/// The card worker on the virtual card: each command after the card's own time, then
/// carried out by the same code as the PC/SC worker, on a blocking thread.
fn card_worker(card: SharedCard, present: Arc<AtomicBool>, news: mpsc::UnboundedSender<Input>) -> CardHandle {
    let (tx, mut rx) = mpsc::unbounded_channel::<CardCommand>();
    tokio::spawn(async move {
        let mut slot: Option<Jpki<InProcess>> = None;
        while let Some(command) = rx.recv().await {
            tokio::time::sleep(match &command {
                CardCommand::ReadCertificate { .. } => latency::READ_CERTIFICATE,
                CardCommand::QueryPinTries { .. } => latency::PIN_TRIES,
                CardCommand::VerifyPin { .. } => latency::VERIFY_PIN,
                CardCommand::Sign { .. } => latency::SIGN,
                CardCommand::PowerOff => Duration::ZERO,
            })
            .await;
            let (card, present, news) = (card.clone(), present.clone(), news.clone());
            let mut held = slot.take();
            slot = tokio::task::spawn_blocking(move || {
                let mut connect = || {
                    if present.load(Ordering::SeqCst) {
                        Ok(Jpki::new(InProcess::new(card.clone(), true), ReadMode::Auto))
                    } else {
                        Err(CardError::NoCard)
                    }
                };
                card::execute(command, &mut held, &mut connect, &news);
                held
            })
            .await
            .unwrap_or(None);
        }
    });
    CardHandle::task(tx)
}

/// The demo's printer: renders each job's pages (kiosk-sim's ESC/POS renderer) as
/// `page-N.png` after the time a thermal printer takes.
struct VirtualPrinter {
    dir: PathBuf,
    dots: usize,
    pages: Arc<Mutex<Vec<PathBuf>>>,
    /// The Japanese font, loaded at the first print: parsed, it holds every glyph's
    /// outline (about 60 MiB for IPAex Gothic), which a demo that never prints should not
    /// carry.
    font: Arc<OnceLock<Option<kiosk_sim::printer::Font>>>,
}

impl Printer for VirtualPrinter {
    fn print(&self, job: Job) -> Printing {
        let (dir, dots, pages, font) = (self.dir.clone(), self.dots, self.pages.clone(), self.font.clone());
        Box::pin(async move {
            tokio::time::sleep(latency::PRINT).await;
            tokio::task::spawn_blocking(move || {
                let font = font.get_or_init(kiosk_sim::printer::load_font).as_ref();
                for page in kiosk_sim::printer::render(job.bytes(), dots, font) {
                    let mut pages = pages.lock().unwrap_or_else(PoisonError::into_inner);
                    let path = dir.join(format!("page-{}.png", pages.len() + 1));
                    page.save_png(&path)?;
                    pages.push(path);
                }
                Ok(())
            })
            .await
            .unwrap_or_else(|_| Err(PrintError::Io(std::io::Error::other("the virtual printer stopped"))))
        })
    }
}

/// One demo kiosk on tokio's paused clock, driven step by step: the headless script,
/// the text journeys, the tests and the UI benchmark use it.
pub struct DemoKiosk {
    rt: tokio::runtime::Runtime,
    inputs: mpsc::UnboundedSender<Input>,
    scenes: watch::Receiver<Scene>,
    world: World,
    main: Option<tokio::task::JoinHandle<()>>,
}

impl core::fmt::Debug for DemoKiosk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DemoKiosk").field("world", &self.world).finish_non_exhaustive()
    }
}

/// How long a step lets the kiosk settle: everything that can happen at once happens.
const SETTLE: Duration = Duration::from_millis(1);

impl DemoKiosk {
    /// Starts the demo kiosk with `config`; printed pages go to `pages`.
    ///
    /// # Errors
    /// The runtime, the simulated devices or a driver cannot start.
    pub fn start(config: &Config, pages: &Path) -> Result<DemoKiosk, KioskError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .map_err(KioskError::Runtime)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let (drivers, world) = {
            let _guard = rt.enter();
            drivers(config, pages, &tx)?
        };
        let (orchestrator, scenes) =
            Orchestrator::new(Console::new(config.console_settings()), drivers, tx.clone());
        let main = rt.spawn(orchestrator.run(rx, Box::new(NoWatchdog)));
        let mut kiosk = DemoKiosk { rt, inputs: tx, scenes, world, main: Some(main) };
        kiosk.wait(SETTLE);
        Ok(kiosk)
    }

    /// What the screen shows now.
    #[must_use]
    pub fn scene(&self) -> Scene {
        self.scenes.borrow().clone()
    }

    /// The simulated world behind the kiosk.
    #[must_use]
    pub fn world(&self) -> &World {
        &self.world
    }

    /// A tap on the screen (a demo button too).
    pub fn action(&mut self, action: UiAction) {
        self.send(Input::Ui(action));
    }

    /// A barcode, as the scanner reads it.
    pub fn scan(&mut self, code: &str) {
        self.send(Input::Scan(code.to_owned()));
    }

    /// Puts the demo card on the reader or takes it off (the demo's card button).
    pub fn set_card(&mut self, on: bool) {
        if self.scene().demo_card_on_reader != on {
            self.action(UiAction::Demo(DemoControl::Card));
        }
    }

    /// Lets `time` pass on the kiosk's clock: answers that are due arrive, timers fire.
    pub fn wait(&mut self, time: Duration) {
        self.rt.block_on(async { tokio::time::sleep(time).await });
    }

    fn send(&mut self, input: Input) {
        let _ = self.inputs.send(input);
        self.wait(SETTLE);
    }
}

impl Drop for DemoKiosk {
    fn drop(&mut self) {
        let _ = self.inputs.send(Input::Shutdown);
        if let Some(main) = self.main.take() {
            let _ = self.rt.block_on(main);
        }
    }
}

/// Opens the UI in a desktop window on the simulated devices, in real time (needs the
/// `desktop` feature and a display). Printed pages go to `kiosk-demo` in the temporary
/// folder.
///
/// # Errors
/// No display, the window cannot be created, a device cannot start.
#[cfg(feature = "desktop")]
pub fn run_window(config: &Config) -> Result<(), KioskError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(KioskError::Runtime)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let pages = std::env::temp_dir().join("kiosk-demo");
    let (drivers, world) = {
        let _guard = rt.enter();
        drivers(config, &pages, &tx)?
    };
    let result =
        crate::orchestrator::serve(&rt, config, drivers, (tx, rx), crate::orchestrator::UiMode::Screen);
    drop(world);
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kiosk_ui::{AdminConfirm, Key, Pad, Screen};

    #[test]
    fn a_demo_patron_borrows_through_the_ui_actions() {
        let dir = std::env::temp_dir().join(format!("kiosk-demo-ui-{}", std::process::id()));
        let mut k = DemoKiosk::start(&Config::demo(), &dir).unwrap();
        assert!(k.scene().demo_mode && !k.scene().demo_card_on_reader);
        k.action(UiAction::Demo(DemoControl::Card));
        assert!(k.scene().demo_card_on_reader);
        k.wait(Duration::from_secs(1));
        assert_eq!(k.scene().screen, Screen::Pin);
        for d in DEMO_PIN {
            k.action(UiAction::Key(Pad::Card, Key::Digit(d)));
        }
        k.action(UiAction::Key(Pad::Card, Key::Submit));
        k.wait(Duration::from_secs(1));
        assert_eq!(k.scene().screen, Screen::Checking);
        assert!(!k.scene().check_slow);
        k.wait(Duration::from_secs(2));
        assert!(k.scene().check_slow, "after 2 s the screen says what is happening");
        k.wait(Duration::from_secs(2));
        assert_eq!(k.scene().screen, Screen::Borrowing);
        k.action(UiAction::Demo(DemoControl::ScanBook));
        assert_eq!((k.scene().borrowed, k.scene().waiting), (0, 1), "the library system takes its time");
        k.wait(Duration::from_secs(1));
        assert_eq!(k.scene().borrowed, 1);
        assert_eq!(k.world().checkouts(), (1, 0));
        // Staff menu with the demo's staff PIN 0000 (its argon2 check runs off the loop).
        k.action(UiAction::AdminOpen);
        assert_eq!(k.scene().screen, Screen::AdminPin);
        for d in [0, 0, 0, 0] {
            k.action(UiAction::Key(Pad::Staff, Key::Digit(d)));
        }
        k.action(UiAction::Key(Pad::Staff, Key::Submit));
        assert_eq!(k.scene().screen, Screen::AdminMenu);
        k.action(UiAction::AdminReset);
        assert_eq!(k.scene().admin_confirm, AdminConfirm::Reset, "a reset asks first");
        k.action(UiAction::AdminConfirm);
        assert_eq!(k.scene().screen, Screen::Idle);
        drop(k);
        std::fs::remove_dir_all(dir).ok();
    }
}
