//! Counter mode's screens, from the real console (flow + bridge) rendered by the real UI:
//! method B's on-screen barcode is read back by zbarimg and must be the patron number;
//! method A shows the digits; the registration screens render. The screenshots are
//! compared with `docs/screens/counter-*.png` (`KIOSK_UPDATE_SCREENSHOTS=1` rewrites them;
//! look at each before committing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kiosk::config::Config;
use kiosk_core::console::{Console, Work};
use kiosk_core::flow::{Effect, Event, LinkFault, PatronId, Reply, Scan, SessionId, Verdict};
use kiosk_ui::headless::{Headless, Shot};
use kiosk_ui::{Key, Language, Pad, Scene, Screen, UiAction};

/// The demo's patron (`kiosk::demo`), whose number the console shows.
const PATRON: &str = "2300012345678";

fn session(work: &[Work]) -> Option<SessionId> {
    work.iter().find_map(|w| match w {
        Work::Effect(e) => e.session(),
        _ => None,
    })
}

/// Plays the orchestrator's part in a staff login: the PIN checked against the hash.
fn staff_pin_checked(console: &mut Console, config: &Config, work: Vec<Work>) -> Vec<Work> {
    let mut out = Vec::new();
    for w in work {
        match w {
            Work::CheckStaffPin(pin) => {
                let ok = config.admin.staff_pin_hash.verify(pin.as_ascii());
                out.extend(console.staff_pin_checked(ok));
            }
            other => out.push(other),
        }
    }
    out
}

/// Plays the drivers' part: card read, PIN, proof, validity, link store.
struct Desk {
    console: Console,
    session: SessionId,
    config: Config,
}

impl Desk {
    fn new() -> Desk {
        let config = Config::demo_counter(&std::env::temp_dir().join("counter-screens-hidg0"));
        Desk { console: Console::new(config.console_settings()), session: SessionId(0), config }
    }

    fn event(&mut self, e: Event) -> Vec<Work> {
        let work = self.console.event(e);
        if let Some(s) = session(&work) {
            self.session = s;
        }
        work
    }

    fn reply(&mut self, reply: Reply) -> Vec<Work> {
        let session = self.session;
        self.event(Event::Reply { session, reply })
    }

    fn tap(&mut self, a: UiAction) -> Vec<Work> {
        let work = self.console.action(a);
        let work = staff_pin_checked(&mut self.console, &self.config, work);
        if let Some(s) = session(&work) {
            self.session = s;
        }
        work
    }

    /// Card on, PIN 1234, proof and validity: returns the work asking for the patron.
    fn proven(&mut self) -> Vec<Work> {
        self.event(Event::CardInserted);
        self.reply(Reply::Certificate(Ok(())));
        self.reply(Reply::PinTries(3));
        for d in [1, 2, 3, 4] {
            self.tap(UiAction::Key(Pad::Card, Key::Digit(d)));
        }
        self.tap(UiAction::Key(Pad::Card, Key::Submit));
        self.reply(Reply::PinVerified);
        self.reply(Reply::Proof(Ok(())));
        self.reply(Reply::Validity(Verdict::Good { patron: None }))
    }

    /// The scene as the orchestrator publishes it: with method B's picture.
    fn scene(&self) -> Scene {
        let (mut s, barcode) = self.console.scene_and_barcode();
        if let Some(n) = barcode {
            s.hand_off.barcode = kiosk::hand_off::barcode(n.expose(), self.config.job_settings().symbology);
        }
        s
    }
}

fn references() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

/// Renders, saves under the test's temp dir, and compares with (or writes) the reference;
/// checks that no text is cut at either screen size, with either text size.
fn check(ui: &Headless, name: &str, scene: &Scene, failures: &mut Vec<String>) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("counter-screens");
    std::fs::create_dir_all(&out).unwrap();
    let mut last = PathBuf::new();
    for language in [Language::Japanese, Language::English] {
        let file = format!("counter-{name}-{}.png", language.code());
        let shot = ui.render(&Scene { language, ..scene.clone() }).unwrap();
        let path = out.join(&file);
        shot.save_png(&path).unwrap();
        let reference = references().join(&file);
        if std::env::var_os("KIOSK_UPDATE_SCREENSHOTS").is_some() {
            shot.save_png(&reference).unwrap();
        } else {
            match Shot::load_png(&reference) {
                Ok(r) if shot.difference(&r, 40) <= 0.002 => {}
                Ok(_) => failures.push(format!("{file} differs from its reference (see {})", path.display())),
                Err(e) => failures.push(format!("{file}: no reference ({e})")),
            }
        }
        last = path;
        // No glyph cut by its box, at the other size and with larger text too.
        for (w, h, large_text) in
            [(1280, 800, false), (1280, 800, true), (1024, 600, false), (1024, 600, true)]
        {
            ui.resize(w, h);
            let shot = ui.render(&Scene { language, large_text, ..scene.clone() }).unwrap();
            for cut in ui.cut_text(&shot) {
                let name = format!(
                    "counter-{name}-{}-{w}x{h}{}.png",
                    language.code(),
                    if large_text { "-large" } else { "" }
                );
                shot.save_png(&out.join(&name)).unwrap();
                failures.push(format!("{name}: {cut}"));
            }
        }
        ui.resize(1280, 800);
    }
    last
}

fn zbarimg(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(png).output().expect("zbarimg");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_matches(|c: char| "ABCDabcd".contains(c)).to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn method_b_draws_a_barcode_that_zbarimg_reads_as_the_patron_number() {
    let ui = Headless::new(1280, 800).unwrap();
    let mut failures = Vec::new();
    let mut d = Desk::new();
    let work = d.proven();
    assert!(work.iter().any(|w| matches!(w, Work::Effect(Effect::ResolvePatron { .. }))));
    d.reply(Reply::Patron(Ok(PatronId::new(PATRON).unwrap())));
    let a = d.scene();
    assert_eq!(a.screen, Screen::HandOff);
    assert_eq!(a.hand_off.number, PATRON, "method A shows the digits");
    assert!(a.hand_off.barcode.is_none(), "no barcode under method A");
    check(&ui, "a-digits", &a, &mut failures);

    d.tap(UiAction::Method(kiosk_ui::HandOffMethod::Barcode));
    let b = d.scene();
    assert!(b.hand_off.number.is_empty(), "method B shows no digits");
    let picture = b.hand_off.barcode.clone().expect("a barcode picture");
    assert!(picture.width >= 400, "wide enough for a handheld scanner: {} px", picture.width);
    let png = check(&ui, "b-barcode", &b, &mut failures);
    assert_eq!(zbarimg(&png), vec![PATRON.to_owned()], "the screen's barcode is the patron number");
    // In high contrast the bars stay black on white.
    let contrast = check(&ui, "b-barcode-contrast", &Scene { high_contrast: true, ..b }, &mut failures);
    assert_eq!(zbarimg(&contrast), vec![PATRON.to_owned()]);

    d.tap(UiAction::Method(kiosk_ui::HandOffMethod::Keyboard));
    d.reply(Reply::Typed(Err(kiosk_core::flow::TypeFault::NoKeyboard)));
    check(&ui, "c-no-keyboard", &d.scene(), &mut failures);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn the_registration_screens() {
    let ui = Headless::new(1280, 800).unwrap();
    let mut failures = Vec::new();
    let mut d = Desk::new();
    // Staff PIN 0000, then "Link a card".
    d.tap(UiAction::AdminOpen);
    for _ in 0..4 {
        d.tap(UiAction::Key(Pad::Staff, Key::Digit(0)));
    }
    d.tap(UiAction::Key(Pad::Staff, Key::Submit));
    let menu = d.scene();
    assert!(menu.counter_mode && menu.screen == Screen::AdminMenu);
    check(&ui, "admin-menu", &menu, &mut failures);
    d.tap(UiAction::AdminLinkCard);
    assert_eq!(d.scene().screen, Screen::LinkWaiting);
    check(&ui, "link-waiting", &d.scene(), &mut failures);
    d.proven();
    d.reply(Reply::Patron(Ok(PatronId::new("2300099999990").unwrap())));
    let linking = d.scene();
    assert_eq!((linking.screen, linking.link.current.as_str()), (Screen::Linking, "…9990"));
    check(&ui, "linking", &linking, &mut failures);
    d.event(Event::Scanned(Scan::BadLibraryCard));
    check(&ui, "linking-bad-check-digit", &d.scene(), &mut failures);
    d.event(Event::Scanned(Scan::LibraryCard(PatronId::new(PATRON).unwrap())));
    d.reply(Reply::Linked(Err(LinkFault::CardLinkedElsewhere)));
    let confirm = d.scene();
    assert_eq!(confirm.link.new, "…5678");
    check(&ui, "link-confirm", &confirm, &mut failures);
    d.tap(UiAction::LinkConfirm);
    d.reply(Reply::Linked(Ok(())));
    assert_eq!(d.scene().notice, kiosk_ui::Notice::Linked);
    check(&ui, "linked", &d.scene(), &mut failures);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_self_checkout_console_refuses_link_a_card() {
    let config = Config::demo();
    let mut c = Console::new(config.console_settings());
    c.action(UiAction::AdminOpen);
    for _ in 0..4 {
        c.action(UiAction::Key(Pad::Staff, Key::Digit(0)));
    }
    let work = c.action(UiAction::Key(Pad::Staff, Key::Submit));
    staff_pin_checked(&mut c, &config, work);
    assert!(!c.scene().counter_mode, "the menu offers no link button");
    let work = c.action(UiAction::AdminLinkCard);
    assert!(work.is_empty(), "{work:?}");
    assert_eq!(c.scene().screen, Screen::AdminMenu, "still in the staff menu");
    assert!(
        c.scene().recent_events.iter().any(|e| e.kind == kiosk_ui::EventKind::NotAtThisKiosk),
        "the refusal is in the recent events"
    );
}
