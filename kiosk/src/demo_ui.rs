//! The demo with the real UI: the flow, the admin session and the simulated world
//! (`demo::World`) behind the Slint screens, either in a desktop window or headless from
//! a script, writing a screenshot per step.
//!
//! Simulated drivers answer after a realistic delay (the validity check takes 2.5 s, so
//! the "what is happening" line appears), delivered when time reaches them: real time in
//! the window, script time headless, so a scripted run is deterministic.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_ui::{DemoControl, Scene, UiAction};

use crate::config::Config;
use crate::demo::World;
use kiosk_core::console::{Console, Work};
use kiosk_core::flow::{AdminAction, Effect, Event, Millis, Reply, SessionId};

/// How long each simulated driver takes to answer.
fn latency(effect: &Effect) -> Duration {
    Duration::from_millis(match effect {
        Effect::ReadCertificate { .. } => 400,
        Effect::QueryPinTries { .. } => 100,
        Effect::VerifyPin { .. } => 300,
        Effect::ProvePossession { .. } => 500,
        Effect::CheckValidity { .. } => 2_500,
        Effect::ResolvePatron { .. } => 200,
        Effect::PatronStatus { .. } => 400,
        Effect::Checkout { .. } => 600,
        Effect::Print { .. } => 1_500,
        Effect::TypeNumber { .. } => 300,
        Effect::Link { .. } | Effect::Unlink { .. } => 200,
        _ => 0,
    })
}

/// The whole demo kiosk: the console and the simulated world behind it.
pub struct DemoKiosk {
    console: Console,
    world: World,
    pending: Vec<(Millis, SessionId, Reply)>,
    card_on_reader: bool,
    next_book: usize,
    staff_pin_hash: crate::config::StaffPinHash,
    symbology: kiosk_printer::Symbology,
}

impl core::fmt::Debug for DemoKiosk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DemoKiosk({})", self.console.flow().state_name())
    }
}

impl DemoKiosk {
    /// # Errors
    /// If the printer's output directory cannot be created.
    pub fn new(config: &Config, pages: &Path) -> io::Result<DemoKiosk> {
        Ok(DemoKiosk {
            console: Console::new(config.console_settings()),
            staff_pin_hash: config.admin.staff_pin_hash.clone(),
            symbology: config.job_settings().symbology,
            world: World::new(config, pages)?,
            pending: Vec::new(),
            card_on_reader: false,
            next_book: 0,
        })
    }

    /// What the screen shows now.
    #[must_use]
    pub fn scene(&self) -> Scene {
        let mut s = self.console.scene();
        s.demo_mode = true;
        s.demo_card_on_reader = self.card_on_reader;
        s.status_rows = self.status_rows();
        if let Some(number) = self.console.hand_off_barcode() {
            s.hand_off.barcode = crate::hand_off::barcode(number.expose(), self.symbology);
        }
        s
    }

    fn status_rows(&self) -> Vec<kiosk_ui::StatusRow> {
        use kiosk_ui::{Device, status_row};
        let paper_out = self.console.flow().view(self.console.now()).paper_out;
        vec![
            status_row(Device::Reader, true, "simulated"),
            status_row(Device::Printer, !paper_out, if paper_out { "paper out" } else { "simulated" }),
            status_row(Device::Platform, true, "simulated"),
            status_row(Device::LibrarySystem, true, "simulated"),
            status_row(Device::Network, true, "-"),
            status_row(Device::Update, true, env!("CARGO_PKG_VERSION")),
        ]
    }

    /// Advances time to `now`: answers that are due arrive, timers fire.
    pub fn advance(&mut self, now: Millis) {
        let now = self.console.now().max(now);
        loop {
            let due = self.pending.iter().position(|(at, _, _)| *at <= now);
            let Some(i) = due else { break };
            let (_, session, reply) = self.pending.remove(i);
            let work = self.console.event(Event::Reply { session, reply });
            self.run(work);
        }
        let work = self.console.advance(now);
        self.run(work);
    }

    /// A tap on the screen.
    pub fn action(&mut self, action: UiAction) {
        let work = self.console.action(action);
        self.run(work);
    }

    fn demo(&mut self, control: DemoControl) {
        let event = match control {
            DemoControl::Card => {
                self.card_on_reader = !self.card_on_reader;
                if self.card_on_reader { Event::CardInserted } else { Event::CardRemoved }
            }
            DemoControl::ScanBook => {
                let book = World::book(self.next_book);
                self.next_book += 1;
                Event::Scanned(kiosk_core::flow::Scan::Item(book))
            }
            DemoControl::ScanLibraryCard => match World::library_card() {
                Some(p) => Event::Scanned(kiosk_core::flow::Scan::LibraryCard(p)),
                None => return,
            },
        };
        let work = self.console.event(event);
        self.run(work);
    }

    /// A scanned barcode (the headless script's `scan`).
    pub fn scan(&mut self, code: &str) {
        let work = self.console.event(Event::Scanned(self.world.classify(code)));
        self.run(work);
    }

    /// Puts the card on the reader or takes it off.
    pub fn set_card(&mut self, on: bool) {
        if on != self.card_on_reader {
            self.demo(DemoControl::Card);
        }
    }

    /// Carries out the console's work with the simulated drivers: each answer arrives
    /// after its driver's latency.
    fn run(&mut self, work: Vec<Work>) {
        let now = self.console.now();
        for item in work {
            match item {
                Work::Effect(effect) => {
                    let mut sink = io::sink();
                    let Some(reply) = self.world.simulate(&effect, &mut sink).ok().flatten() else {
                        continue;
                    };
                    if let Some(session) = effect.session() {
                        self.pending.push((now.after(latency(&effect)), session, reply));
                    }
                }
                Work::Staff(AdminAction::ResetKiosk) => self.pending.clear(),
                Work::Staff(_) => {}
                Work::Demo(control) => self.demo(control),
                Work::CheckStaffPin(pin) => {
                    let ok = self.staff_pin_hash.verify(pin.as_ascii());
                    let more = self.console.staff_pin_checked(ok);
                    self.run(more);
                }
            }
        }
    }
}

/// One step of a headless script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    CardOn,
    CardOff,
    /// Types the digits and presses OK.
    Pin(String),
    Tap(String),
    Scan(String),
    Wait(Duration),
}

/// A script line that cannot be understood.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("{file}:{line}: {what}")]
    Bad { file: String, line: usize, what: String },
    #[error("cannot read the script {file}: {source}")]
    Read { file: String, source: io::Error },
    #[error("cannot write the screenshots: {0}")]
    Shot(String),
}

/// Parses a script: one step per line, `#` comments.
///
/// `card-on`, `card-off`, `pin 1234`, `tap <button name>`, `scan <barcode>`,
/// `wait <seconds>`.
///
/// # Errors
/// The first line that is not a step, with its number.
pub fn parse_script(text: &str, file: &str) -> Result<Vec<Step>, ScriptError> {
    let mut steps = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: String| ScriptError::Bad { file: file.to_owned(), line: n + 1, what };
        let (cmd, arg) = line.split_once(char::is_whitespace).map_or((line, ""), |(c, a)| (c, a.trim()));
        steps.push(match cmd {
            "card-on" => Step::CardOn,
            "card-off" => Step::CardOff,
            "pin" if arg.len() == 4 && arg.bytes().all(|b| b.is_ascii_digit()) => Step::Pin(arg.to_owned()),
            "pin" => return Err(bad(format!("`pin` needs four digits, not {arg:?}"))),
            "tap" if UiAction::parse(arg).is_some() => Step::Tap(arg.to_owned()),
            "tap" => return Err(bad(format!("there is no button {arg:?}"))),
            "scan" if !arg.is_empty() => Step::Scan(arg.to_owned()),
            "wait" => {
                let secs: f64 = arg.parse().map_err(|_| bad(format!("`wait` needs seconds, not {arg:?}")))?;
                if !(0.0..=600.0).contains(&secs) {
                    return Err(bad("`wait` is 0 to 600 seconds".to_owned()));
                }
                Step::Wait(Duration::from_secs_f64(secs))
            }
            other => {
                return Err(bad(format!("unknown step {other:?} (card-on, card-off, pin, tap, scan, wait)")));
            }
        });
    }
    Ok(steps)
}

/// Plays a script headlessly at 1280x800 and writes `NN-<step>.png` per step into
/// `shots`. Returns the files written.
///
/// # Errors
/// A bad script or a failed screenshot.
pub fn run_script(config: &Config, script: &Path, shots: &Path) -> Result<Vec<PathBuf>, ScriptError> {
    let file = script.display().to_string();
    let text =
        std::fs::read_to_string(script).map_err(|source| ScriptError::Read { file: file.clone(), source })?;
    let steps = parse_script(&text, &file)?;
    std::fs::create_dir_all(shots).map_err(|e| ScriptError::Shot(e.to_string()))?;
    let shot_err = |e: kiosk_ui::headless::ShotError| ScriptError::Shot(e.to_string());
    let ui = kiosk_ui::headless::Headless::new(1280, 800).map_err(shot_err)?;
    let mut kiosk =
        DemoKiosk::new(config, &shots.join("printed")).map_err(|e| ScriptError::Shot(e.to_string()))?;
    let mut now = Millis(0);
    let mut written = Vec::new();
    let save = |kiosk: &DemoKiosk, name: &str, written: &mut Vec<PathBuf>| -> Result<(), ScriptError> {
        let path = shots.join(format!("{:02}-{name}.png", written.len() + 1));
        ui.render(&kiosk.scene()).map_err(shot_err)?.save_png(&path).map_err(shot_err)?;
        written.push(path);
        Ok(())
    };
    save(&kiosk, "start", &mut written)?;
    for step in steps {
        let name = match &step {
            Step::CardOn => {
                kiosk.set_card(true);
                "card-on".to_owned()
            }
            Step::CardOff => {
                kiosk.set_card(false);
                "card-off".to_owned()
            }
            Step::Pin(digits) => {
                for d in digits.bytes() {
                    kiosk.action(UiAction::Key(kiosk_ui::Pad::Card, kiosk_ui::Key::Digit(d - b'0')));
                }
                kiosk.action(UiAction::Key(kiosk_ui::Pad::Card, kiosk_ui::Key::Submit));
                "pin".to_owned()
            }
            Step::Tap(name) => {
                if let Some(a) = UiAction::parse(name) {
                    kiosk.action(a);
                }
                format!("tap-{name}")
            }
            Step::Scan(code) => {
                kiosk.scan(code);
                "scan".to_owned()
            }
            Step::Wait(d) => {
                // Small steps, so every answer arrives in order and timers fire on time.
                let end = now.after(*d);
                while now < end {
                    now = Millis((now.0 + 100).min(end.0));
                    kiosk.advance(now);
                }
                format!("wait-{}s", d.as_secs_f64())
            }
        };
        kiosk.advance(now);
        save(&kiosk, &name, &mut written)?;
    }
    Ok(written)
}

/// Opens the UI in a desktop window on simulated hardware (needs the `desktop` feature
/// and a display).
///
/// # Errors
/// No display, or the window cannot be created.
#[cfg(feature = "desktop")]
pub fn run_window(config: &Config) -> Result<(), crate::error::KioskError> {
    use std::cell::RefCell;
    use std::rc::Rc;

    use kiosk_ui::slint::ComponentHandle;

    let pages = std::env::temp_dir().join("kiosk-demo");
    let kiosk = DemoKiosk::new(config, &pages).map_err(|source| crate::error::KioskError::DemoOutput {
        what: pages.display().to_string(),
        source,
    })?;
    let kiosk = Rc::new(RefCell::new(kiosk));
    let ui = kiosk_ui::AppWindow::new().map_err(crate::error::KioskError::Screen)?;
    kiosk_ui::apply(&kiosk.borrow().scene(), &ui);
    let start = std::time::Instant::now();
    let now = move || Millis(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX));
    {
        let kiosk = kiosk.clone();
        let weak = ui.as_weak();
        kiosk_ui::on_action(&ui, move |a| {
            if let Ok(a) = a {
                let mut k = kiosk.borrow_mut();
                k.action(a);
                k.advance(now());
                if let Some(ui) = weak.upgrade() {
                    kiosk_ui::apply(&k.scene(), &ui);
                }
            }
        });
    }
    let timer = kiosk_ui::slint::Timer::default();
    {
        let weak = ui.as_weak();
        timer.start(kiosk_ui::slint::TimerMode::Repeated, Duration::from_millis(100), move || {
            let mut k = kiosk.borrow_mut();
            k.advance(now());
            if let Some(ui) = weak.upgrade() {
                kiosk_ui::apply(&k.scene(), &ui);
            }
        });
    }
    ui.run().map_err(crate::error::KioskError::Screen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_and_bad_lines_say_where() {
        let steps = parse_script("card-on # the patron\npin 1234\nwait 2.5\ntap finish\n", "s").unwrap();
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[2], Step::Wait(Duration::from_millis(2500)));
        let err = parse_script("card-on\npin 12\n", "s.txt").unwrap_err().to_string();
        assert!(err.starts_with("s.txt:2:"), "{err}");
        assert!(parse_script("tap self-destruct", "s").is_err());
        assert!(parse_script("dance", "s").is_err());
    }

    #[test]
    fn a_demo_patron_borrows_through_the_ui_actions() {
        let dir = std::env::temp_dir().join(format!("kiosk-demo-ui-{}", std::process::id()));
        let mut k = DemoKiosk::new(&Config::demo(), &dir).unwrap();
        let mut t = 0;
        let mut wait = |k: &mut DemoKiosk, ms: u64| {
            for _ in 0..ms / 100 {
                t += 100;
                k.advance(Millis(t));
            }
        };
        k.action(UiAction::Demo(DemoControl::Card));
        wait(&mut k, 1_000);
        assert_eq!(k.scene().screen, kiosk_ui::Screen::Pin);
        for d in [1, 2, 3, 4] {
            k.action(UiAction::Key(kiosk_ui::Pad::Card, kiosk_ui::Key::Digit(d)));
        }
        k.action(UiAction::Key(kiosk_ui::Pad::Card, kiosk_ui::Key::Submit));
        wait(&mut k, 1_000);
        assert_eq!(k.scene().screen, kiosk_ui::Screen::Checking);
        wait(&mut k, 2_000);
        assert!(k.scene().check_slow, "after 2 s the screen says what is happening");
        wait(&mut k, 2_000);
        assert_eq!(k.scene().screen, kiosk_ui::Screen::Borrowing);
        k.action(UiAction::Demo(DemoControl::ScanBook));
        wait(&mut k, 1_000);
        assert_eq!(k.scene().borrowed, 1);
        // Staff menu: wrong PIN, then the demo PIN 0000.
        k.action(UiAction::AdminOpen);
        assert_eq!(k.scene().screen, kiosk_ui::Screen::AdminPin);
        for d in [0, 0, 0, 0] {
            k.action(UiAction::Key(kiosk_ui::Pad::Staff, kiosk_ui::Key::Digit(d)));
        }
        k.action(UiAction::Key(kiosk_ui::Pad::Staff, kiosk_ui::Key::Submit));
        assert_eq!(k.scene().screen, kiosk_ui::Screen::AdminMenu);
        k.action(UiAction::AdminReset);
        assert_eq!(k.scene().screen, kiosk_ui::Screen::Idle);
        std::fs::remove_dir_all(dir).ok();
    }
}
