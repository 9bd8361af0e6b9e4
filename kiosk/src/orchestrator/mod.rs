//! The orchestrator: the event loop that carries out the console's work with the real
//! drivers.
//!
//! One tokio task per driver feeds [`Input`]s into one channel; the loop hands each to
//! the [`Console`] (the pure flow) and runs the [`Work`] that comes back: card commands go
//! to the card threads, platform, library-system and printer calls become tasks tagged
//! with the session id, lamp and buzzer patterns go to the outputs. Card removal ends the
//! session: its tasks are cancelled, except a checkout already sent, which completes and
//! is journalled. The loop publishes the scene the UI shows after every step.
//!
//! The rooms: this file is the event loop; [`session`] the session's data and tasks;
//! [`effects`] the one interpreter of the flow's effects, which sends each kind to
//! `identity` (card, proof, validity, patron), `lending` (standing, checkouts through
//! the [`journaled`] library), `printing` or `counter`; [`staff`] the staff menu's work;
//! [`scan`] what a scanned line is; `crate::clock` the library's time.

pub mod card;
pub mod control;
mod counter;
pub mod drivers;
mod effects;
mod identity;
pub mod journaled;
pub mod labels;
mod lending;
mod notify;
pub mod offline;
pub mod printing;
pub mod registration;
pub mod scan;
mod screen;
pub mod security;
mod session;
mod staff;
pub mod voice;

use std::sync::Arc;
use std::time::Duration;

use kiosk_platform::Verdict as PlatformVerdict;
use kiosk_ui::{Scene, UiAction};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::error::KioskError;
use card::{CardCommand, CardNews};
pub use drivers::{Drivers, StartError};
use journaled::SessionLoans;
use kiosk_core::console::{Console, Work};
use kiosk_core::flow::{Event, LabelRefusal, Millis, ProofFailure, Reply, Scan, SessionId};
pub use session::Proof;
use session::{Running, SessionData};
use staff::DeviceStatus;

/// Everything the event loop can be told.
#[derive(Debug)]
pub enum Input {
    /// From the card threads.
    Card(CardNews),
    /// A barcode, as the scanner read it.
    Scan(String),
    /// A tap on the screen.
    Ui(UiAction),
    /// The proof of possession finished (challenge and signature kept for the check).
    Proof { session: SessionId, outcome: Result<Proof, ProofFailure> },
    /// The platform's verdict.
    Verdict { session: SessionId, verdict: PlatformVerdict },
    /// Any other driver answer.
    Reply { session: SessionId, reply: Reply },
    /// The printer's paper ran out (true) or was loaded again (false).
    PaperOut(bool),
    /// A device's state for the admin screen.
    Status(kiosk_ui::StatusRow),
    /// Terminal registration finished: the platform back-end built with the new
    /// certificate, or what the Registration page says went wrong.
    Registered(Result<drivers::NewPlatform, kiosk_ui::RegistrationView>),
    /// The staff PIN's check finished.
    StaffPinChecked(bool),
    /// The RFID pad: an item placed, a part added, or taken off.
    Pad(kiosk_core::flow::OnPad),
    /// A key of the tactile keypad, as the key map reads it.
    Keypad(kiosk_core::tactile::Key),
    /// Headphones into the keypad's jack (`true`) or out.
    Headphones(bool),
    /// A tag that is not a library item was put on the pad (ignored; staff see it).
    TagIgnored,
    /// A book's security could not be set to follow its loan outside a patron's
    /// session (a return's, or a loan settled at start): staff check it.
    SecurityNotSet,
    /// Stop the loop (SIGTERM, or the control channel closed).
    Shutdown,
}

/// The kiosk at work.
pub struct Orchestrator {
    console: Console,
    drivers: Drivers,
    inputs: mpsc::UnboundedSender<Input>,
    session: Option<(SessionId, SessionData)>,
    /// The session's loans (its journal), from its first checkout.
    loans: Option<SessionLoans>,
    running: Vec<Running>,
    status: DeviceStatus,
    scenes: watch::Sender<Scene>,
    /// When the loop started, on tokio's clock (which the demo's scripts pause).
    started: Instant,
    /// Whether the busy file is there (see [`Orchestrator::mark_busy`]).
    busy_marked: bool,
    /// Terminal registration is running.
    registering: bool,
    /// Method B's picture, drawn once per number.
    barcode: crate::hand_off::Picture,
    /// What the Registration page says instead of the stored certificate's state: the
    /// registration running, or why the last one failed (until staff leave the menu).
    registration_note: Option<kiosk_ui::RegistrationView>,
    /// The Registration page (hardware identifiers and the stored certificate read),
    /// kept while staff are in the menu and read again after a registration.
    terminal_view: Option<registration::TerminalView>,
    /// The Method D label that started the running session, until the library system
    /// accepts the patron (then it is used up).
    pending_label: Option<(SessionId, zeroize::Zeroizing<String>)>,
    /// The staff list of offline loans refused on replay.
    offline_refused: Vec<kiosk_ui::OfflineRow>,
    /// Offline loans waiting to be sent (read with that list).
    offline_waiting: usize,
    /// The kiosk's state for the management endpoint, published with every scene.
    health: watch::Sender<crate::metrics::Health>,
    /// Requests left open by a crash that could not be reconciled at start.
    journal_backlog: usize,
    /// The voice and tones (`[audio]`).
    voice: voice::Voice,
}

impl core::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Orchestrator({:?})", self.console)
    }
}

/// How often the platform, the library system and the network are checked while idle.
const PROBE_EVERY: Duration = Duration::from_secs(300);

/// How the loop reports it is healthy (systemd's `sd_notify`).
pub trait Watchdog: Send {
    fn ready(&mut self);
    fn alive(&mut self);
}

/// No service manager (tests, a terminal).
#[derive(Debug)]
pub struct NoWatchdog;

impl Watchdog for NoWatchdog {
    fn ready(&mut self) {}
    fn alive(&mut self) {}
}

impl Orchestrator {
    /// Builds the loop around started drivers. `inputs` is the sending half of the channel
    /// the drivers already feed.
    pub fn new(
        console: Console,
        drivers: Drivers,
        inputs: mpsc::UnboundedSender<Input>,
    ) -> (Orchestrator, watch::Receiver<Scene>) {
        let mut console = console;
        // The staff menu's recent events in the library's wall-clock time: the console's
        // Millis(0) is now.
        console.set_time_of_day_at_start(crate::clock::Clock::library().seconds_of_day());
        // "Starting up" until `run` has settled the journal and publishes: nobody is
        // served (and no test sees the idle screen) before a crash's loans are reconciled.
        let starting = Scene { screen: kiosk_ui::Screen::Starting, ..console.scene() };
        let (scenes, rx) = watch::channel(starting);
        let mut status = DeviceStatus::new(drivers.counter.is_some());
        let voice = voice::Voice::start(&drivers.config.audio, drivers.config.library.languages.all());
        status.set(voice.status());
        let o = Orchestrator {
            console,
            drivers,
            inputs,
            session: None,
            loans: None,
            running: Vec::new(),
            status,
            scenes,
            started: Instant::now(),
            busy_marked: false,
            registering: false,
            barcode: crate::hand_off::Picture::default(),
            registration_note: None,
            terminal_view: None,
            pending_label: None,
            offline_refused: Vec::new(),
            offline_waiting: 0,
            health: watch::channel(crate::metrics::Health::default()).0,
            journal_backlog: 0,
            voice,
        };
        (o, rx)
    }

    /// The kiosk's state as the management endpoint shows it.
    #[must_use]
    pub fn health(&self) -> watch::Receiver<crate::metrics::Health> {
        self.health.subscribe()
    }

    /// Writes the usage counts not yet written, on a blocking thread.
    fn flush_usage(&self) {
        let usage = self.drivers.usage.clone();
        if usage.unwritten() {
            drop(spawn_scrubbed(move || {
                if let Err(e) = usage.flush() {
                    tracing::error!(error = %e, "the usage statistics could not be written; kept to try again");
                }
            }));
        }
    }

    fn now(&self) -> Millis {
        Millis(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Runs until [`Input::Shutdown`] or every sender is gone.
    pub async fn run(mut self, mut inputs: mpsc::UnboundedReceiver<Input>, mut watchdog: Box<dyn Watchdog>) {
        self.reconcile_journal().await;
        if let Some(offline) = self.drivers.offline.clone() {
            let library = self.drivers.library.clone();
            // Runs as long as the runtime (the kiosk's process).
            drop(tokio::spawn(offline::replay_forever(offline, library)));
        }
        self.probe();
        watchdog.ready();
        self.publish();
        let mut alive = tokio::time::interval(Duration::from_secs(2));
        let mut write_usage = tokio::time::interval(Duration::from_secs(60));
        // The peers' lines on the status page (and IT's health) kept current: checked
        // again every few minutes while no patron is at the kiosk.
        let mut check_peers = tokio::time::interval_at(Instant::now() + PROBE_EVERY, PROBE_EVERY);
        loop {
            let deadline = self.console.deadline().map_or(Duration::from_secs(1), |d| {
                Duration::from_millis(d.0.saturating_sub(self.now().0)).min(Duration::from_secs(1))
            });
            tokio::select! {
                input = inputs.recv() => match input {
                    None | Some(Input::Shutdown) => break,
                    Some(input) => self.on_input(input),
                },
                () = tokio::time::sleep(deadline) => {}
                _ = alive.tick() => watchdog.alive(),
                _ = write_usage.tick() => self.flush_usage(),
                _ = check_peers.tick() => if self.session.is_none() { self.probe() },
            }
            let work = self.console.advance(self.now());
            self.run_work(work);
            self.running.retain(|r| !r.handle.is_finished());
            self.publish();
        }
        // A patron still at the kiosk: the session ends here, and is counted.
        if !self.console.flow().is_idle() {
            let work = self.console.event(Event::Reset);
            self.run_work(work);
        }
        self.end_session();
        if let Some(c) = &self.drivers.card {
            c.send(CardCommand::PowerOff);
        }
        // What plays is cut and the device closed (on a blocking thread: closing drains
        // what the device holds, up to a few tens of milliseconds).
        let voice = self.voice;
        let _ = tokio::task::spawn_blocking(move || voice.finish()).await;
        let usage = self.drivers.usage.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || usage.flush()).await {
            tracing::error!(error = %e, "the usage statistics could not be written at shutdown");
        }
    }

    fn publish(&mut self) {
        if let Some(offline) = &self.drivers.offline {
            let view = offline.view();
            let (state, value) = if !view.refused.is_empty() {
                (kiosk_ui::DeviceState::OfflineRefused, view.refused.len())
            } else if view.waiting > 0 {
                (kiosk_ui::DeviceState::OfflineWaiting, view.waiting)
            } else {
                (kiosk_ui::DeviceState::OfflineNone, 0)
            };
            let value = i32::try_from(value).unwrap_or(i32::MAX);
            self.status.set(kiosk_ui::status_row(kiosk_ui::Device::OfflineLoans, state, value, ""));
            self.offline_refused = offline::rows(&view);
            self.offline_waiting = view.waiting;
        }
        if let Some(security::SecurityUnit::Desensitizer { pulses, .. }) = &self.drivers.security {
            let n = i32::try_from(pulses.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or(i32::MAX);
            self.status.set(kiosk_ui::status_row(
                kiosk_ui::Device::Desensitizer,
                kiosk_ui::DeviceState::Desensitized,
                n,
                "",
            ));
        }
        let (mut scene, barcode) = self.console.scene_and_barcode();
        scene.offline_refused = self.offline_refused.clone();
        scene.status_rows = self.status.scene_rows();
        self.publish_health(&scene);
        scene.hand_off.barcode = self.barcode.picture(barcode, self.drivers.job_settings.symbology);
        self.admin_pages(&mut scene);
        #[cfg(feature = "demo")]
        if let Some(demo) = &self.drivers.demo {
            scene.demo_mode = true;
            scene.demo_card_on_reader = demo.card_on_reader();
        }
        let before = self.scenes.send_replace(scene);
        let sound_changed = self.voice.scene_changed(&before, &self.scenes.borrow());
        if sound_changed {
            // The headphones' device opened as they went in: the status page and IT's
            // health say so now, not at the next step.
            self.status.set(self.voice.status());
            let rows = self.status.scene_rows();
            self.scenes.send_modify(|s| s.status_rows = rows);
            self.publish_health(&self.scenes.borrow());
        }
        self.mark_busy();
    }

    fn on_input(&mut self, input: Input) {
        // Timers due before this input fire first, so it meets the state they left.
        let due = self.console.advance(self.now());
        self.run_work(due);
        let work = match input {
            Input::Card(news) => self.on_card(news),
            Input::Scan(text) => {
                let scan = self.classify(&text);
                let label = matches!(scan, Scan::MethodDLabel(Ok(_)));
                let before = self.console.flow().session();
                let work = self.console.event(Event::Scanned(scan));
                // A label that started a session: used up once the patron is accepted.
                let session = self.console.flow().session();
                if label && session != before {
                    self.pending_label = Some((session, zeroize::Zeroizing::new(text)));
                }
                work
            }
            Input::Ui(action) => self.console.action(action),
            Input::Proof { session, outcome } => {
                let reply = match outcome {
                    Ok(proof) => {
                        if let Some(data) = self.data_mut(session) {
                            data.proof = Some(Arc::new(proof));
                        }
                        Ok(())
                    }
                    Err(e) => Err(e),
                };
                self.console.event(Event::Reply { session, reply: Reply::Proof(reply) })
            }
            Input::Verdict { session, verdict } => {
                tracing::info!(verdict = verdict.label(), "validity check");
                let verdict = self.verdict(session, verdict);
                self.console.event(Event::Reply { session, reply: Reply::Validity(verdict) })
            }
            Input::Reply { session, reply } => {
                if matches!(reply, Reply::Standing(Ok(()))) {
                    self.label_accepted(session);
                }
                self.console.event(Event::Reply { session, reply })
            }
            Input::PaperOut(out) => {
                self.console.event(if out { Event::PaperOut } else { Event::PaperRestored })
            }
            Input::Status(row) => {
                // The pad's reader stopped (or works again): the screens say to scan.
                let pad = (row.device == kiosk_ui::Device::RfidPad)
                    .then(|| row.state != kiosk_ui::DeviceState::NotWorking);
                self.status.set(row);
                match pad {
                    Some(working) => self.console.event(Event::PadWorking(working)),
                    None => Vec::new(),
                }
            }
            Input::Registered(result) => {
                self.registering = false;
                self.terminal_view = None;
                match result {
                    Ok(p) => {
                        self.drivers.platform = Some(p.0);
                        self.registration_note = None;
                        self.console.log(kiosk_ui::EventKind::TerminalRegistered, 0, 0);
                        self.probe();
                    }
                    Err(why) => {
                        self.registration_note = Some(why);
                        self.console.log(kiosk_ui::EventKind::RegistrationFailed, 0, 0);
                    }
                }
                Vec::new()
            }
            Input::StaffPinChecked(ok) => self.console.staff_pin_checked(ok),
            Input::Pad(on) => self.console.event(Event::Pad(on)),
            Input::Keypad(key) => self.console.keypad(key),
            Input::Headphones(inserted) => self.console.headphones(inserted),
            Input::TagIgnored => {
                self.console.log(kiosk_ui::EventKind::TagIgnored, 0, 0);
                Vec::new()
            }
            Input::SecurityNotSet => {
                self.console.log(kiosk_ui::EventKind::SecurityNotSet, 0, 0);
                Vec::new()
            }
            Input::Shutdown => Vec::new(),
        };
        self.run_work(work);
    }

    fn on_card(&mut self, news: CardNews) -> Vec<Work> {
        match news {
            CardNews::Inserted => self.console.event(Event::CardInserted),
            CardNews::Removed => self.console.event(Event::CardRemoved),
            CardNews::Certificate { session, result } => {
                let reply = match result {
                    Ok(cert) => {
                        if let Some(data) = self.data_mut(session) {
                            data.certificate = Some(Arc::from(cert));
                        }
                        Ok(())
                    }
                    Err(fault) => Err(fault),
                };
                self.console.event(Event::Reply { session, reply: Reply::Certificate(reply) })
            }
            CardNews::Reply { session, reply } => self.console.event(Event::Reply { session, reply }),
            CardNews::Reader(state) => {
                use kiosk_ui::{Device, DeviceState, status_row};
                self.status.set(match state {
                    Ok(name) => status_row(Device::Reader, DeviceState::Ready, 0, &name),
                    Err(problem) => status_row(Device::Reader, DeviceState::NotWorking, 0, &problem),
                });
                Vec::new()
            }
        }
    }

    /// What a scan is (`kiosk-core`'s rules); a Method D token is verified here, and
    /// works once: a label that would start a session is recorded, a copy refused.
    fn classify(&self, text: &str) -> Scan {
        let (today, _) = crate::clock::local_now();
        let d = &self.drivers;
        let scan = scan::classify(&d.classifier, d.job_settings.symbology, &d.label_keys, today, text);
        match scan {
            Scan::MethodDLabel(Ok(_)) => {
                let mut used = d.used_labels.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if used.used(text, today) { Scan::MethodDLabel(Err(LabelRefusal::AlreadyUsed)) } else { scan }
            }
            scan => scan,
        }
    }

    /// A label that started the session is used up once the library system accepted
    /// the patron (recorded on a blocking thread: the record is fsync'ed).
    fn label_accepted(&mut self, session: SessionId) {
        let Some((started, token)) = self.pending_label.take() else { return };
        if started != session {
            return;
        }
        let (today, _) = crate::clock::local_now();
        let record = self
            .drivers
            .used_labels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .record(&token, today);
        if let Some((path, line)) = record {
            drop(spawn_scrubbed(move || {
                if let Err(e) = labels::UsedLabels::append(&path, &line) {
                    tracing::warn!(error = %e, path = %path.display(), "a used label could not be recorded");
                }
            }));
        }
    }

    /// The demo's buttons (its card, its scanner) do what the devices would; a kiosk on
    /// real devices has no demo buttons and ignores them.
    fn demo(&mut self, control: kiosk_ui::DemoControl) {
        #[cfg(feature = "demo")]
        if let Some(demo) = &mut self.drivers.demo
            && let Some(input) = demo.input(control)
        {
            let _ = self.inputs.send(input);
        }
        #[cfg(not(feature = "demo"))]
        let _ = control;
    }

    fn run_work(&mut self, work: Vec<Work>) {
        for item in work {
            match item {
                Work::Effect(effect) => self.effect(effect),
                Work::Staff(action) => self.staff(action),
                Work::Demo(control) => self.demo(control),
                Work::CheckStaffPin(pin) => self.check_staff_pin(pin),
            }
        }
    }
}

/// Starts the management endpoint. One that cannot start is logged and the kiosk lends
/// on: IT's alert for an unreachable kiosk says so, and the log says why.
fn start_endpoint(rt: &tokio::runtime::Runtime, m: &crate::config::Metrics, source: crate::metrics::Source) {
    let tls = match crate::metrics::tls(m.ca.path(), m.cert.path(), m.key.path()) {
        Ok(tls) => tls,
        Err(e) => {
            tracing::error!(error = %e, "the management endpoint is off: its TLS cannot be set up");
            return;
        }
    };
    match rt.block_on(crate::metrics::bind(m.listen)) {
        Ok(listener) => {
            tracing::info!(address = %m.listen, "management endpoint: /metrics, /usage.csv, /usage-daily.csv");
            drop(rt.spawn(crate::metrics::serve(listener, tls, source)));
        }
        Err(e) => tracing::error!(error = %e, "the management endpoint is off"),
    }
}

/// Seconds since 1970 now.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Where the UI goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UiMode {
    /// Rendered on request; taps as text on standard input ([`control`]).
    Headless,
    /// A window (the `desktop` feature) or the board's screen (the `board` feature).
    Screen,
}

/// The kiosk's state directory: systemd's `StateDirectory=` (`$STATE_DIRECTORY`), else
/// `$KIOSK_STATE_DIR`, else `/var/lib/kiosk`. The loan journal lives in `journal/` there.
#[must_use]
pub fn state_dir() -> std::path::PathBuf {
    std::env::var_os("STATE_DIRECTORY")
        .or_else(|| std::env::var_os("KIOSK_STATE_DIR"))
        .map_or_else(|| std::path::PathBuf::from("/var/lib/kiosk"), std::path::PathBuf::from)
}

/// `spawn_blocking` that scrubs the stack the work used once it is done: journal records,
/// receipts, the number typed at the counter and the staff PIN pass through these
/// threads, and must not stay in their stacks (`kiosk_card::scrub`).
pub(crate) fn spawn_scrubbed<F, R>(work: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let result = run_below(work);
        kiosk_card::scrub::scrub::<{ 64 * 1024 / 8 }>();
        result
    })
}

/// Runs `work` in a frame of its own (never inlined), so the scrub after it reaches all it
/// touched.
#[inline(never)]
fn run_below<F: FnOnce() -> R, R>(work: F) -> R {
    work()
}

/// Runs the kiosk on real drivers until SIGTERM (or `quit` on the headless control).
///
/// # Errors
/// A driver that cannot start, or the UI.
pub fn run(config: &crate::config::Config, ui: UiMode) -> Result<(), KioskError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // A worker going idle scrubs the stack its tasks used (certificates, patron
        // numbers pass through them).
        .on_thread_park(kiosk_card::scrub::scrub::<{ 64 * 1024 / 8 }>)
        .enable_all()
        .build()
        .map_err(KioskError::Runtime)?;
    let (tx, rx) = mpsc::unbounded_channel();
    let drivers = {
        let _guard = rt.enter();
        Drivers::start(config, &state_dir().join("journal"), &tx)?
    };
    serve(&rt, config, drivers, (tx, rx), ui)
}

/// Runs the event loop on `rt` around started `drivers` (whose devices feed the
/// `channel`), with the UI on this thread, until SIGTERM, the window closes or the
/// headless control quits.
///
/// # Errors
/// The UI, or the event loop ending with a panic.
pub fn serve(
    rt: &tokio::runtime::Runtime,
    config: &crate::config::Config,
    drivers: Drivers,
    channel: (mpsc::UnboundedSender<Input>, mpsc::UnboundedReceiver<Input>),
    ui: UiMode,
) -> Result<(), KioskError> {
    let (tx, rx) = channel;
    let links = drivers.links.clone();
    let usage = drivers.usage.clone();
    let (orchestrator, scenes) =
        Orchestrator::new(Console::new(config.console_settings()), drivers, tx.clone());
    if let Some(m) = &config.metrics {
        start_endpoint(
            rt,
            m,
            crate::metrics::Source { usage, health: orchestrator.health(), started_unix: unix_now() },
        );
    }
    let watchdog: Box<dyn Watchdog> = match notify::SdNotify::from_env() {
        Some(n) => Box::new(n),
        None => Box::new(NoWatchdog),
    };
    let main = rt.spawn(orchestrator.run(rx, watchdog));
    {
        let tx = tx.clone();
        rt.spawn(async move {
            if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                term.recv().await;
                let _ = tx.send(Input::Shutdown);
            }
        });
    }
    let ui_result = match ui {
        UiMode::Headless => control::serve(scenes, &tx),
        UiMode::Screen => screen::serve(scenes, &tx),
    };
    let _ = tx.send(Input::Shutdown);
    rt.block_on(main).map_err(KioskError::EventLoop)?;
    // Links that came since the snapshot was last written (it is written at most once a
    // minute) are saved before the kiosk stops, so a restart while the shared store is
    // away still knows them.
    if let Some(store) = links.filter(|s| s.is_snapshot() && s.unsaved())
        && let Err(e) = store.write_snapshot()
    {
        tracing::error!(error = %e, "the link snapshot could not be written at shutdown");
    }
    ui_result
}
