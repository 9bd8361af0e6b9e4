//! The orchestrator: the event loop that carries out the console's work with the real
//! drivers.
//!
//! One tokio task per driver feeds [`Input`]s into one channel; the loop hands each to
//! the [`Console`] (the pure flow) and runs the [`Work`] that comes back: card commands go
//! to the card threads, platform, library-system and printer calls become tasks tagged
//! with the session id, lamp and buzzer patterns go to the outputs. Card removal ends the
//! session: its tasks are cancelled, except a checkout already sent, which completes and
//! is journalled. The loop publishes the scene the UI shows after every step.

pub mod card;
pub mod control;
pub mod drivers;
mod notify;
pub mod registration;
pub mod scan;
mod screen;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kiosk_ils::Library;
use kiosk_platform::{Challenge, JpkiCertificate, Verdict as PlatformVerdict};
use kiosk_printer::{Receipt, ReceiptLine, compose_label, compose_receipt};
use kiosk_ui::{Scene, UiAction};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use zeroize::Zeroizing;

use crate::journal::{Operation, SessionJournal};
use card::{CardCommand, CardNews};
pub use drivers::{Drivers, StartError};
use kiosk_core::console::{Console, Work};
use kiosk_core::flow::{
    AdminAction, BuzzerPattern, Effect, Event, ItemId, ItemRefusal, LampPattern, LinkFault, Loan, Millis,
    PatronId, PatronRefusal, PrintFault, PrintJob, ProofFailure, Reply, Scan, SessionId, TypeFault, Verdict,
};

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
    Status(kiosk_ui::Device, bool, String),
    /// Terminal registration finished: the platform back-end built with the new
    /// certificate, or what the Registration page says went wrong.
    Registered(Result<drivers::NewPlatform, String>),
    /// The staff PIN's check finished.
    StaffPinChecked(bool),
    /// Stop the loop (SIGTERM, or the control channel closed).
    Shutdown,
}

/// The card's signature over a challenge.
pub struct Proof {
    challenge: Challenge,
    signature: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for Proof {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Proof(..)")
    }
}

/// What one card session holds besides the flow's own state; dropped (and wiped) when the
/// session ends.
#[derive(Default)]
struct SessionData {
    certificate: Option<Arc<JpkiCertificate>>,
    proof: Option<Arc<Proof>>,
    patron: Option<PatronId>,
}

/// The admin screen's device rows.
#[derive(Debug, Clone)]
struct DeviceStatus {
    rows: Vec<(kiosk_ui::Device, bool, String)>,
}

impl DeviceStatus {
    /// The rows this kiosk has: a counter has the USB keyboard instead of the library
    /// system (it hands numbers over through the counter PC, not SIP2).
    fn new(counter: bool) -> DeviceStatus {
        use kiosk_ui::Device::{Keyboard, LibrarySystem, Network, Platform, Printer, Reader, Update};
        let own = if counter { Keyboard } else { LibrarySystem };
        let rows = [Reader, Printer, Platform, own, Network]
            .into_iter()
            .map(|d| (d, false, "starting".to_owned()))
            .chain([(Update, true, env!("CARGO_PKG_VERSION").to_owned())])
            .collect();
        DeviceStatus { rows }
    }

    fn set(&mut self, device: kiosk_ui::Device, ok: bool, detail: String) {
        if let Some(row) = self.rows.iter_mut().find(|(d, _, _)| *d == device) {
            *row = (device, ok, detail);
        }
    }

    fn scene_rows(&self) -> Vec<kiosk_ui::StatusRow> {
        self.rows.iter().map(|(d, ok, detail)| kiosk_ui::status_row(*d, *ok, detail)).collect()
    }
}

/// A task running for a session.
struct Running {
    session: SessionId,
    handle: AbortHandle,
    /// A checkout already sent must finish (the journal records its outcome).
    must_finish: bool,
}

/// The kiosk at work.
pub struct Orchestrator {
    console: Console,
    drivers: Drivers,
    inputs: mpsc::UnboundedSender<Input>,
    session: Option<(SessionId, SessionData)>,
    journal: Option<Arc<std::sync::Mutex<SessionJournal>>>,
    running: Vec<Running>,
    status: DeviceStatus,
    scenes: watch::Sender<Scene>,
    started: Instant,
    /// Whether the busy file is there (see [`Orchestrator::mark_busy`]).
    busy_marked: bool,
    /// Terminal registration is running.
    registering: bool,
    /// What the Registration page says instead of the stored certificate's state: the
    /// registration running, or why the last one failed (until staff leave the menu).
    registration_note: Option<String>,
    /// The Registration page (hardware identifiers and the stored certificate read),
    /// kept while staff are in the menu and read again after a registration.
    terminal_view: Option<registration::TerminalView>,
}

impl core::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Orchestrator({:?})", self.console)
    }
}

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
        let (scenes, rx) = watch::channel(console.scene());
        let status = DeviceStatus::new(drivers.counter.is_some());
        let o = Orchestrator {
            console,
            drivers,
            inputs,
            session: None,
            journal: None,
            running: Vec::new(),
            status,
            scenes,
            started: Instant::now(),
            busy_marked: false,
            registering: false,
            registration_note: None,
            terminal_view: None,
        };
        (o, rx)
    }

    /// The data of `session`, if it is the running one (a late answer for an ended
    /// session finds none).
    fn data(&self, session: SessionId) -> Option<&SessionData> {
        self.session.as_ref().filter(|(s, _)| *s == session).map(|(_, d)| d)
    }

    fn data_mut(&mut self, session: SessionId) -> Option<&mut SessionData> {
        self.session.as_mut().filter(|(s, _)| *s == session).map(|(_, d)| d)
    }

    fn now(&self) -> Millis {
        Millis(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// Runs until [`Input::Shutdown`] or every sender is gone.
    pub async fn run(mut self, mut inputs: mpsc::UnboundedReceiver<Input>, mut watchdog: Box<dyn Watchdog>) {
        self.reconcile_journal().await;
        self.probe();
        watchdog.ready();
        self.publish();
        let mut alive = tokio::time::interval(Duration::from_secs(2));
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
            }
            let work = self.console.advance(self.now());
            self.run_work(work);
            self.running.retain(|r| !r.handle.is_finished());
            self.publish();
        }
        self.end_session();
        if let Some(c) = &self.drivers.card {
            c.send(CardCommand::PowerOff);
        }
    }

    fn publish(&mut self) {
        let mut scene = self.console.scene();
        scene.status_rows = self.status.scene_rows();
        if let Some(number) = self.console.hand_off_barcode() {
            scene.hand_off.barcode =
                crate::hand_off::barcode(number.expose(), self.drivers.job_settings.symbology);
        }
        if scene.screen == kiosk_ui::Screen::AdminMenu {
            // Read only while staff look at the menu: a small file on a tmpfs.
            scene.update_state =
                drivers::update_page(&self.drivers.update_status, &self.drivers.update_request);
            if scene.admin_page == kiosk_ui::AdminPage::Registration {
                let view = self.terminal_view.get_or_insert_with(|| registration::view(&self.drivers.config));
                scene.terminal_id.clone_from(&view.id);
                scene.terminal_fingerprint.clone_from(&view.fingerprint);
                scene.registration_state =
                    self.registration_note.clone().unwrap_or_else(|| view.state.clone());
            }
        } else {
            self.terminal_view = None;
            if !self.registering {
                self.registration_note = None;
            }
        }
        self.scenes.send_replace(scene);
        self.mark_busy();
    }

    /// Keeps the update agent's busy file in step with the flow: present while a patron
    /// (or staff linking a card) is in a session, so no update installs or reboots then.
    fn mark_busy(&mut self) {
        let busy = !self.console.flow().is_idle();
        if busy == self.busy_marked {
            return;
        }
        let path = &self.drivers.busy_file;
        let result = if busy { std::fs::write(path, b"session\n") } else { std::fs::remove_file(path) };
        match result {
            Ok(()) => self.busy_marked = busy,
            Err(e) if !busy && e.kind() == std::io::ErrorKind::NotFound => self.busy_marked = false,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "the update agent's busy file could not be written");
                // Not retried on every scene: the next change tries again.
                self.busy_marked = busy;
            }
        }
    }

    fn on_input(&mut self, input: Input) {
        // Timers due before this input fire first, so it meets the state they left.
        let due = self.console.advance(self.now());
        self.run_work(due);
        let work = match input {
            Input::Card(news) => self.on_card(news),
            Input::Scan(text) => {
                let scan = self.classify(&text);
                self.console.event(Event::Scanned(scan))
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
            Input::Reply { session, reply } => self.console.event(Event::Reply { session, reply }),
            Input::PaperOut(out) => {
                self.console.event(if out { Event::PaperOut } else { Event::PaperRestored })
            }
            Input::Status(device, ok, detail) => {
                self.status.set(device, ok, detail);
                Vec::new()
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
                let (ok, detail) = match state {
                    Ok(name) => (true, name),
                    Err(problem) => (false, problem),
                };
                self.status.set(kiosk_ui::Device::Reader, ok, detail);
                Vec::new()
            }
        }
    }

    /// The platform's verdict in the flow's terms; a Good verdict's patron is kept for
    /// `ResolvePatron`.
    fn verdict(&mut self, session: SessionId, verdict: PlatformVerdict) -> Verdict {
        match verdict {
            PlatformVerdict::Good { service_id, .. } => {
                let patron = service_id.and_then(|s| PatronId::new(s.expose()));
                if let Some(data) = self.data_mut(session) {
                    data.patron.clone_from(&patron);
                }
                Verdict::Good { patron }
            }
            PlatformVerdict::Revoked => Verdict::Revoked,
            PlatformVerdict::Expired => Verdict::Expired,
            PlatformVerdict::NotLinked => Verdict::NotLinked,
            PlatformVerdict::Untrusted(_) => Verdict::Untrusted,
            PlatformVerdict::Unavailable(e) => {
                self.status.set(kiosk_ui::Device::Platform, false, e.to_string());
                Verdict::Unavailable
            }
        }
    }

    /// What a scan is (`kiosk-core`'s rules); a Method D token is verified here.
    fn classify(&self, text: &str) -> Scan {
        let (today, _) = crate::clock::local_now();
        let d = &self.drivers;
        scan::classify(&d.classifier, d.job_settings.symbology, &d.label_keys, today, text)
    }

    fn run_work(&mut self, work: Vec<Work>) {
        for item in work {
            match item {
                Work::Effect(effect) => self.effect(effect),
                Work::Staff(action) => self.staff(action),
                Work::Demo(_) => {}
                Work::CheckStaffPin(pin) => self.check_staff_pin(pin),
            }
        }
    }

    /// The staff PIN's hash (argon2, slow on purpose) is checked on a blocking thread, not
    /// on the event loop; the answer comes back as [`Input::StaffPinChecked`].
    fn check_staff_pin(&mut self, pin: kiosk_core::flow::StaffPin) {
        let hash = self.drivers.config.admin.staff_pin_hash.clone();
        let tx = self.inputs.clone();
        tokio::spawn(async move {
            let ok = tokio::task::spawn_blocking(move || hash.verify(pin.as_ascii())).await.unwrap_or(false);
            let _ = tx.send(Input::StaffPinChecked(ok));
        });
    }

    fn staff(&mut self, action: AdminAction) {
        match action {
            AdminAction::ResetKiosk => {
                self.end_session();
                if let Some(c) = &self.drivers.card {
                    c.send(CardCommand::PowerOff);
                }
            }
            AdminAction::TestPrint => self.test_print(),
            AdminAction::RefreshStatus => self.probe(),
            AdminAction::RegisterTerminal => self.register_terminal(),
            AdminAction::CheckForUpdate => self.ask_agent(drivers::AgentRequest::Check),
            AdminAction::InstallUpdateWhenIdle => self.ask_agent(drivers::AgentRequest::Install),
            AdminAction::Reboot => self.ask_agent(drivers::AgentRequest::Reboot),
            other => tracing::info!(action = ?other, "staff action"),
        }
    }

    /// Leaves a request for the update agent (it runs as root; the kiosk cannot install
    /// or reboot). The update page shows it until the agent takes it.
    fn ask_agent(&mut self, request: drivers::AgentRequest) {
        let path = &self.drivers.update_request;
        match drivers::ask_agent(path, request) {
            Ok(()) => tracing::info!(?request, "asked the update agent"),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "the request for the update agent could not be written");
            }
        }
    }

    /// Registers the terminal at the platform (see [`registration`]); on success the new
    /// certificate is used from the next card on, without a restart.
    fn register_terminal(&mut self) {
        if self.registering {
            return;
        }
        let config = self.drivers.config.clone();
        if !matches!(config.platform, crate::config::Platform::Api { .. }) {
            self.registration_note = None;
            return;
        }
        self.registering = true;
        self.registration_note = Some("Registering with the platform…".to_owned());
        let tx = self.inputs.clone();
        tokio::spawn(async move {
            let result = match registration::register(&config).await {
                Ok(()) => match drivers::rebuild_platform(&config) {
                    Ok(Some(platform)) => Ok(drivers::NewPlatform(platform)),
                    Ok(None) => {
                        Err("Registered, but no platform back-end was built: restart the kiosk.".to_owned())
                    }
                    Err(e) => Err(format!(
                        "Registered, but the new certificate cannot be used ({e}): restart the kiosk."
                    )),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "terminal registration failed");
                    Err(format!("Registration failed: {e}. {}", e.advice()))
                }
            };
            let input = Input::Registered(result);
            let _ = tx.send(input);
        });
    }

    /// Checks the platform, the library system and the network for the admin screen
    /// (at start, and when staff open the status page). Nothing about patrons is sent.
    fn probe(&mut self) {
        use kiosk_ui::Device;
        let (ok, detail) = drivers::network_state();
        self.status.set(Device::Network, ok, detail);
        if let Some(c) = &self.drivers.counter {
            let (ok, detail) = match drivers::keyboard_state(c) {
                Ok(d) => (true, d),
                Err(d) => (false, d),
            };
            self.status.set(Device::Keyboard, ok, detail);
        }
        let tx = self.inputs.clone();
        let (platform, library, timeout) =
            (self.drivers.platform.clone(), self.drivers.library.clone(), self.drivers.timeout);
        tokio::spawn(async move {
            let started = Instant::now();
            let state = match &platform {
                Some(p) => match tokio::time::timeout(timeout, p.challenge()).await {
                    Ok(Ok(_)) => (true, format!("answers ({} ms)", started.elapsed().as_millis())),
                    Ok(Err(e)) => (false, e.to_string()),
                    Err(_) => (false, format!("no answer within {} s", timeout.as_secs())),
                },
                None => (false, "not configured".to_owned()),
            };
            let _ = tx.send(Input::Status(Device::Platform, state.0, state.1));
            let started = Instant::now();
            let state = match &library {
                Some(l) => match tokio::time::timeout(timeout, l.probe()).await {
                    Ok(Ok(())) => (true, format!("SIP2 connected ({} ms)", started.elapsed().as_millis())),
                    Ok(Err(e)) => (false, e.to_string()),
                    Err(_) => (false, format!("no answer within {} s", timeout.as_secs())),
                },
                None => (false, "not configured".to_owned()),
            };
            let _ = tx.send(Input::Status(Device::LibrarySystem, state.0, state.1));
        });
    }

    fn begin(&mut self, session: SessionId) {
        if self.session.as_ref().is_none_or(|(s, _)| *s != session) {
            self.end_session();
            self.session = Some((session, SessionData::default()));
        }
    }

    /// Cancels the session's work (a sent checkout completes), forgets its data, closes
    /// its journal (deleted when every loan was answered).
    fn end_session(&mut self) {
        if let Some((session, _data)) = self.session.take() {
            for r in self.running.iter().filter(|r| r.session == session && !r.must_finish) {
                r.handle.abort();
            }
        }
        if let Some(j) = self.journal.take() {
            // Tasks still holding it (a sent checkout) close it when they finish.
            if let Ok(j) = Arc::try_unwrap(j) {
                let j = j.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = j.close() {
                    tracing::error!(error = %e, "journal close failed");
                }
            }
        }
    }

    fn spawn<F>(&mut self, session: SessionId, must_finish: bool, task: F)
    where
        F: std::future::Future<Output = Option<Input>> + Send + 'static,
    {
        let tx = self.inputs.clone();
        let handle = tokio::spawn(async move {
            if let Some(input) = task.await {
                let _ = tx.send(input);
            }
        });
        self.running.push(Running { session, handle: handle.abort_handle(), must_finish });
    }

    fn effect(&mut self, effect: Effect) {
        tracing::debug!(?effect, "effect");
        let timeout = self.drivers.timeout;
        match effect {
            Effect::ReadCertificate { session } => {
                self.begin(session);
                self.card(CardCommand::ReadCertificate { session }, session);
            }
            Effect::QueryPinTries { session } => self.card(CardCommand::QueryPinTries { session }, session),
            Effect::VerifyPin { session, pin } => self.card(CardCommand::VerifyPin { session, pin }, session),
            Effect::ProvePossession { session } => self.prove(session),
            Effect::CheckValidity { session } => self.check(session),
            Effect::ResolvePatron { session } => {
                // The platform's answer named the patron, or the local link store does
                // (OCSP and CRL modes, and a counter that skips the online check).
                let data = self.data(session);
                let patron = data.and_then(|d| d.patron.clone()).or_else(|| {
                    let cert = data.and_then(|d| d.certificate.clone())?;
                    let found = self.drivers.links.as_ref()?.resolve(&cert)?;
                    PatronId::new(found.expose())
                });
                let reply = Reply::Patron(patron.ok_or(PatronRefusal::NotLinked));
                let _ = self.inputs.send(Input::Reply { session, reply });
            }
            Effect::TypeNumber { session, patron } => self.type_number(session, patron),
            Effect::Link { session, patron, replace } => {
                let reply = Reply::Linked(self.link(session, &patron, replace));
                let _ = self.inputs.send(Input::Reply { session, reply });
            }
            Effect::Unlink { session } => {
                let reply = Reply::Unlinked(self.unlink(session));
                let _ = self.inputs.send(Input::Reply { session, reply });
            }
            Effect::PatronStatus { session, patron, .. } => {
                self.begin(session);
                let Some(library) = self.drivers.library.clone() else {
                    let reply = Reply::Standing(Err(PatronRefusal::LibrarySystemUnavailable));
                    let _ = self.inputs.send(Input::Reply { session, reply });
                    return;
                };
                self.spawn(session, false, async move {
                    let answer = tokio::time::timeout(timeout, library.patron(patron.expose(), None)).await;
                    let standing = match answer {
                        Ok(Ok(Ok(_))) => Ok(()),
                        Ok(Ok(Err(problem))) => Err(patron_refusal(&problem)),
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "patron status failed");
                            Err(PatronRefusal::LibrarySystemUnavailable)
                        }
                        Err(_) => Err(PatronRefusal::LibrarySystemUnavailable),
                    };
                    Some(Input::Reply { session, reply: Reply::Standing(standing) })
                });
            }
            Effect::Checkout { session, patron, item } => self.checkout(session, patron, item),
            Effect::Print { session, job } => self.print(session, job),
            Effect::PowerOffCard => {
                if let Some(c) = &self.drivers.card {
                    c.send(CardCommand::PowerOff);
                }
            }
            Effect::EndSession { session } => {
                if self.session.as_ref().is_some_and(|(s, _)| *s == session) {
                    self.end_session();
                }
            }
            Effect::Lamp(p) => self.drivers.outputs.lamp(match p {
                LampPattern::Off => kiosk_io::Pattern::Off,
                LampPattern::Steady => kiosk_io::Pattern::Steady,
                LampPattern::Blink => kiosk_io::Pattern::Blink {
                    on: Duration::from_millis(500),
                    off: Duration::from_millis(500),
                },
            }),
            Effect::Buzzer(p) => self.drivers.outputs.buzzer(match p {
                BuzzerPattern::Off => kiosk_io::Pattern::Off,
                BuzzerPattern::Beep => kiosk_io::Pattern::Beep { on: Duration::from_millis(200) },
                BuzzerPattern::Reminder => kiosk_io::Pattern::Repeat {
                    on: Duration::from_millis(150),
                    period: Duration::from_secs(3),
                },
            }),
            Effect::Audit(a) => tracing::info!(event = ?a, "audit"),
        }
    }

    /// Method C: types the number on the gadget's thread; a missing gadget also shows on
    /// the admin screen.
    fn type_number(&mut self, session: SessionId, patron: PatronId) {
        let Some((gadget, terminator)) = self.drivers.keyboard.clone() else {
            let reply = Reply::Typed(Err(TypeFault::NoKeyboard));
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let tx = self.inputs.clone();
        self.spawn(session, false, async move {
            let result = tokio::task::spawn_blocking(move || {
                gadget.type_text(patron.expose(), terminator).map_err(|e| {
                    tracing::warn!(error = %e, "method C: typing failed");
                    let fault = match e {
                        kiosk_keyboard::GadgetError::Missing { .. } => TypeFault::NoKeyboard,
                        kiosk_keyboard::GadgetError::Untypable(_) => TypeFault::Untypable,
                        kiosk_keyboard::GadgetError::Write { .. } => TypeFault::Failed,
                    };
                    (fault, e.to_string())
                })
            })
            .await
            .unwrap_or_else(|_| Err((TypeFault::Failed, "the typing thread stopped".to_owned())));
            let _ = match &result {
                Ok(()) => tx.send(Input::Status(kiosk_ui::Device::Keyboard, true, "typed".to_owned())),
                Err((TypeFault::NoKeyboard, why)) => {
                    tx.send(Input::Status(kiosk_ui::Device::Keyboard, false, why.clone()))
                }
                Err(_) => Ok(()),
            };
            Some(Input::Reply { session, reply: Reply::Typed(result.map_err(|(f, _)| f)) })
        });
    }

    /// Links the session's card to `patron` in the link store. Without `replace`, a card
    /// linked to someone else, or a library card linked to another card, is a conflict
    /// for staff to confirm; nothing is written.
    fn link(&self, session: SessionId, patron: &PatronId, replace: bool) -> Result<(), LinkFault> {
        let store = self.drivers.links.as_ref().ok_or(LinkFault::NoLinkStore)?;
        let cert = self.data(session).and_then(|d| d.certificate.clone()).ok_or(LinkFault::StoreFailed)?;
        let id = kiosk_platform::ServiceId::new(patron.expose()).ok_or(LinkFault::StoreFailed)?;
        let current = store.resolve(&cert);
        let wanted_has_a_card = current.is_none() && !replace && store.has_patron(&id);
        kiosk_core::links::may_link(
            current.as_ref().map(|c| c.expose()),
            id.expose(),
            wanted_has_a_card,
            replace,
        )?;
        store.link(&cert, &id).map_err(|e| {
            tracing::error!(error = %e, "the link store could not be written");
            LinkFault::StoreFailed
        })
    }

    fn unlink(&self, session: SessionId) -> Result<bool, LinkFault> {
        let store = self.drivers.links.as_ref().ok_or(LinkFault::NoLinkStore)?;
        let cert = self.data(session).and_then(|d| d.certificate.clone()).ok_or(LinkFault::StoreFailed)?;
        store.unlink(&cert).map_err(|e| {
            tracing::error!(error = %e, "the link store could not be written");
            LinkFault::StoreFailed
        })
    }

    fn card(&mut self, command: CardCommand, session: SessionId) {
        match &self.drivers.card {
            Some(c) => c.send(command),
            None => {
                let reply = Reply::CardError(kiosk_core::flow::CardFault::ReaderFailed);
                let _ = self.inputs.send(Input::Reply { session, reply });
            }
        }
    }

    /// Challenge (from the platform, or made here), the card's signature, and the
    /// kiosk's own check of signature and chain before anything is sent anywhere.
    fn prove(&mut self, session: SessionId) {
        let (Some(card), Some(cert)) =
            (self.drivers.card.clone(), self.data(session).and_then(|d| d.certificate.clone()))
        else {
            let outcome = Err(ProofFailure::UntrustedCertificate);
            let _ = self.inputs.send(Input::Proof { session, outcome });
            return;
        };
        let platform = self.drivers.platform.clone();
        let trust = self.drivers.trust.clone();
        let timeout = self.drivers.timeout;
        self.spawn(session, false, async move {
            let challenge = match &platform {
                Some(p) => match tokio::time::timeout(timeout, p.challenge()).await {
                    Ok(Ok(c)) => c,
                    // No challenge from the platform: the check that follows will not be
                    // able to reach it either; a local challenge still proves the card.
                    _ => kiosk_platform::Challenge::local().ok()?,
                },
                None => kiosk_platform::Challenge::local().ok()?,
            };
            let (tx, rx) = oneshot::channel();
            card.send(CardCommand::Sign { message: challenge.nonce.clone(), reply: tx });
            let signature = match rx.await {
                Ok(Ok(sig)) => Zeroizing::new(sig),
                Ok(Err(e)) => {
                    let reply = Reply::CardError(card::fault(&e));
                    return Some(Input::Reply { session, reply });
                }
                Err(_) => return None,
            };
            let outcome = match trust.check(&cert, &challenge, &signature, SystemTime::now()) {
                Ok(_) => Ok(Proof { challenge, signature }),
                Err(PlatformVerdict::Untrusted(kiosk_platform::Untrusted::BadSignature)) => {
                    Err(ProofFailure::BadSignature)
                }
                Err(_) => Err(ProofFailure::UntrustedCertificate),
            };
            Some(Input::Proof { session, outcome })
        });
    }

    fn check(&mut self, session: SessionId) {
        let data = self.data(session).map(|d| (d.certificate.clone(), d.proof.clone()));
        let (Some(platform), Some((Some(cert), Some(proof)))) = (self.drivers.platform.clone(), data) else {
            let verdict = PlatformVerdict::Unavailable(kiosk_platform::PlatformError::Config(
                "no platform configured".into(),
            ));
            let _ = self.inputs.send(Input::Verdict { session, verdict });
            return;
        };
        let timeout = self.drivers.timeout;
        self.spawn(session, false, async move {
            let verdict = match tokio::time::timeout(
                timeout,
                platform.verify(&cert, &proof.challenge, &proof.signature),
            )
            .await
            {
                Ok(v) => v,
                Err(_) => PlatformVerdict::Unavailable(kiosk_platform::PlatformError::Timeout(timeout)),
            };
            Some(Input::Verdict { session, verdict })
        });
    }

    fn session_journal(&mut self, session: SessionId) -> Option<Arc<std::sync::Mutex<SessionJournal>>> {
        if self.journal.is_none() {
            self.journal = Some(Arc::new(std::sync::Mutex::new(self.drivers.journal.session(session.0))));
        }
        self.journal.clone()
    }

    /// Journal the intent (fsync), send, journal the answer.
    fn checkout(&mut self, session: SessionId, patron: PatronId, item: ItemId) {
        self.begin(session);
        let Some(library) = self.drivers.library.clone() else {
            let reply = Reply::Checkout { item, result: Err(ItemRefusal::NoAnswer) };
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let journal = self.session_journal(session);
        self.spawn(session, true, async move {
            let intent = journal.as_ref().map(|j| {
                j.lock().unwrap_or_else(std::sync::PoisonError::into_inner).intend(
                    Operation::Checkout,
                    patron.expose(),
                    &item.0,
                )
            });
            let intent = match intent {
                Some(Ok(i)) => Some(i),
                Some(Err(e)) => {
                    tracing::error!(error = %e, "journal write failed: not lending");
                    let reply = Reply::Checkout { item, result: Err(ItemRefusal::NoAnswer) };
                    return Some(Input::Reply { session, reply });
                }
                None => None,
            };
            let answer = library.checkout(patron.expose(), &item.0).await;
            let result = match answer {
                Ok(Ok(loan)) => Ok(Loan {
                    item: item.clone(),
                    title: loan.title,
                    due: kiosk_ils::display_due_date(&loan.due),
                }),
                Ok(Err(problem)) => Err(item_refusal(problem)),
                Err(e) => {
                    tracing::warn!(error = %e, "checkout got no answer");
                    Err(ItemRefusal::NoAnswer)
                }
            };
            // An unknown outcome stays open in the journal and is reconciled at start.
            if let (Some(j), Some(i)) = (journal.as_ref(), intent)
                && !matches!(result, Err(ItemRefusal::NoAnswer))
            {
                let mut j = j.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = j.answered(i) {
                    tracing::error!(error = %e, "journal write failed after the checkout");
                }
            }
            // The session may have ended while this checkout was out: the last holder of
            // its journal closes it (deleted when every intent was answered).
            if let Some(j) = journal
                && let Ok(j) = Arc::try_unwrap(j)
            {
                let j = j.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Err(e) = j.close() {
                    tracing::error!(error = %e, "journal close failed");
                }
            }
            Some(Input::Reply { session, reply: Reply::Checkout { item, result } })
        });
    }

    fn print(&mut self, session: SessionId, job: PrintJob) {
        let Some(printer) = self.drivers.printer.clone() else {
            let _ =
                self.inputs.send(Input::Reply { session, reply: Reply::Printed(Err(PrintFault::Offline)) });
            return;
        };
        let settings = self.drivers.job_settings.clone();
        let keys = self.drivers.label_keys.clone();
        self.spawn(session, false, async move {
            let result = tokio::task::spawn_blocking(move || {
                let (today, now_text) = crate::clock::local_now();
                let composed = match &job {
                    PrintJob::Receipt { loans } => compose_receipt(
                        &settings,
                        &Receipt {
                            printed_at: now_text,
                            lines: loans
                                .iter()
                                .map(|l| ReceiptLine { title: l.title.clone(), due: l.due.clone() })
                                .collect(),
                            patron: None,
                        },
                    ),
                    PrintJob::MethodDLabel { patron } => match keys.first() {
                        Some(key) => compose_label(&settings, patron.expose(), today, key),
                        None => return Err(PrintFault::Failed),
                    },
                };
                let composed = composed.map_err(|e| {
                    tracing::warn!(error = %e, "print job could not be composed");
                    PrintFault::Failed
                })?;
                let device = printer.lock().map_err(|_| PrintFault::Failed)?;
                device.print(&composed).map(|_| ()).map_err(|e| print_fault(&e))
            })
            .await
            .unwrap_or(Err(PrintFault::Failed));
            Some(Input::Reply { session, reply: Reply::Printed(result) })
        });
    }

    fn test_print(&mut self) {
        let Some(printer) = self.drivers.printer.clone() else { return };
        let settings = self.drivers.job_settings.clone();
        tokio::task::spawn_blocking(move || {
            let (_, now_text) = crate::clock::local_now();
            let receipt = Receipt { printed_at: now_text, lines: Vec::new(), patron: None };
            if let (Ok(job), Ok(device)) = (compose_receipt(&settings, &receipt), printer.lock())
                && let Err(e) = device.print(&job)
            {
                tracing::warn!(error = %e, "test print failed");
            }
        });
    }

    /// Before serving anyone: loans a crash left unanswered are settled with the library
    /// system. Found already on loan to the patron → it was lent; otherwise not.
    async fn reconcile_journal(&mut self) {
        let Ok(open) = self.drivers.journal.unfinished() else { return };
        let Some(library) = self.drivers.library.clone() else { return };
        let mut files = Vec::new();
        for u in open {
            let outcome = library.reconcile_checkout(&u.patron, &u.item).await;
            match &outcome {
                Ok(r) => {
                    // What was found, never which patron or item.
                    let found = match r {
                        kiosk_ils::client::Reconciled::Lent(_) => "lent",
                        kiosk_ils::client::Reconciled::NotLent => "not lent",
                        kiosk_ils::client::Reconciled::Other(_) => "on loan to someone else",
                    };
                    tracing::info!(found, "reconciled a loan left open by a crash");
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not reconcile a loan left open; will retry at the next start")
                }
            }
            if outcome.is_ok() {
                files.push(u.file.clone());
                self.console.log(kiosk_ui::EventKind::StaffAction, 1, 0);
            } else {
                files.retain(|f| *f != u.file);
            }
        }
        files.dedup();
        for f in files {
            if let Err(e) = self.drivers.journal.settle(&f) {
                tracing::error!(error = %e, "journal settle failed");
            }
        }
    }
}

fn patron_refusal(problem: &kiosk_ils::PatronProblem) -> PatronRefusal {
    use kiosk_ils::PatronProblem as P;
    match problem {
        P::Unknown => PatronRefusal::Unknown,
        P::WrongPin => PatronRefusal::Blocked(None),
        P::Blocked { message, .. } => PatronRefusal::Blocked(message.clone()),
    }
}

/// The library system's refusal as the flow's code (the screen words it).
fn item_refusal(problem: kiosk_ils::ItemProblem) -> ItemRefusal {
    use kiosk_ils::ItemProblem as P;
    match problem {
        P::NotFound => ItemRefusal::NotInCatalogue,
        P::OnHoldForAnother => ItemRefusal::OnHoldForAnother,
        P::OnLoanToAnother => ItemRefusal::OnLoanToAnother,
        P::Refused(message) => ItemRefusal::Refused(message),
    }
}

fn print_fault(e: &kiosk_printer::PrintError) -> PrintFault {
    use kiosk_printer::PrintError as E;
    tracing::warn!(error = %e, "print failed");
    match e {
        E::OutOfPaper | E::PaperRanOutDuringJob => PrintFault::OutOfPaper,
        E::CoverOpen | E::Offline | E::NoStatusReply { .. } | E::Open { .. } | E::Disconnected { .. } => {
            PrintFault::Offline
        }
        _ => PrintFault::Failed,
    }
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

/// Runs the kiosk on real drivers until SIGTERM (or `quit` on the headless control).
///
/// # Errors
/// A driver that cannot start, or the UI.
pub fn run(config: &crate::config::Config, ui: UiMode) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let drivers = {
        let _guard = rt.enter();
        Drivers::start(config, &state_dir().join("journal"), &tx).map_err(|e| e.to_string())?
    };
    let (orchestrator, scenes) =
        Orchestrator::new(Console::new(config.console_settings()), drivers, tx.clone());
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
    rt.block_on(main).map_err(|e| format!("the event loop failed: {e}"))?;
    ui_result
}
