//! The kiosk's decision half as one value: the patron session, the admin session, the
//! presentation (language, text size, contrast) and the staff's recent-events list.
//!
//! It turns taps, driver events and time into [`Work`] for the orchestrator to carry out
//! and draws the [`Scene`] the UI shows. No I/O: effects leave as values, and so does the
//! staff PIN to check (its hash is slow on purpose; the orchestrator checks it off the
//! event loop and answers with [`Console::staff_pin_checked`]).

use std::collections::VecDeque;

use crate::flow::{
    AdminAction, AdminAudit, AdminEffect, AdminEvent, AdminPolicy, AdminSession, AuditEvent, Effect, Event,
    HandOff, Millis, PatronId, PatronSession, Screen, SessionPolicy, StaffPin,
};
use crate::scene::{AdminPage, DemoControl, EventKind, EventRow, Language, Scene, UiAction, event_row};
use crate::view::{self, Input, Presentation};

/// Something the console asks to be done.
#[derive(Debug, PartialEq, Eq)]
pub enum Work {
    /// A patron-session effect for the drivers.
    Effect(Effect),
    /// A staff action, after the console applied its own part (reset, out of service,
    /// paper loaded go to the patron session too).
    Staff(AdminAction),
    /// A demo control (demo mode only).
    Demo(DemoControl),
    /// Check the staff PIN against the configured hash, then call
    /// [`Console::staff_pin_checked`].
    CheckStaffPin(StaffPin),
}

/// What the console is set up with.
#[derive(Clone, Debug, Default)]
pub struct ConsoleSettings {
    pub session: SessionPolicy,
    pub admin: AdminPolicy,
    /// The library's name, on every patron screen.
    pub library_name: String,
    /// The library's own name for its card on the Japanese screens ("" for 図書館カード).
    pub card_name: String,
    /// The languages the screens offer, the first the one each patron starts in (empty:
    /// Japanese, then English).
    pub languages: Vec<Language>,
    /// Japanese screens start with readings on every kanji (a children's library).
    pub furigana: bool,
}

/// How long a language or display chosen between sessions stays when nobody starts one.
pub const PRESENTATION_RESET: Millis = Millis(60_000);

/// How many recent events the admin screen keeps.
const MAX_EVENTS: usize = 40;

/// The flow, the admin menu, the presentation and the event list.
pub struct Console {
    flow: PatronSession,
    admin: AdminSession,
    presentation: Presentation,
    events: VecDeque<EventRow>,
    out_of_service: bool,
    library_name: String,
    card_name: String,
    /// The languages offered, the default first; never empty.
    languages: Vec<Language>,
    /// The library's furigana setting, each session's start.
    furigana: bool,
    now: Millis,
    /// When the patron last changed how the screen looks (language, text size, colours).
    presentation_at: Millis,
    /// Local seconds since midnight at `Millis(0)`, when the orchestrator has said.
    time_of_day_at_start: Option<u32>,
    /// Headphones are in the tactile keypad's jack.
    headphones: bool,
}

impl core::fmt::Debug for Console {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Console({})", self.flow.state_name())
    }
}

impl Console {
    #[must_use]
    pub fn new(settings: ConsoleSettings) -> Console {
        let languages = if settings.languages.is_empty() {
            vec![Language::Japanese, Language::English]
        } else {
            settings.languages
        };
        let mut console = Console {
            flow: PatronSession::new(settings.session),
            admin: AdminSession::new(settings.admin),
            presentation: Presentation::default(),
            events: VecDeque::new(),
            out_of_service: false,
            library_name: settings.library_name,
            card_name: settings.card_name,
            languages,
            furigana: settings.furigana,
            now: Millis(0),
            presentation_at: Millis(0),
            time_of_day_at_start: None,
            headphones: false,
        };
        console.presentation = console.library_presentation(AdminPage::Status);
        console
    }

    /// The screen as the library set it up: its first language, normal text and colours,
    /// and furigana as it chose.
    fn library_presentation(&self, admin_page: AdminPage) -> Presentation {
        let language = self.languages.first().copied().unwrap_or(Language::Japanese);
        Presentation { language, admin_page, furigana: self.furigana, ..Presentation::default() }
    }

    /// The keypad's state: the presentation's, and on whenever headphones are in.
    fn tactile(&self) -> crate::tactile::Tactile {
        let mut t = self.presentation.tactile.clone();
        t.on |= self.headphones;
        t
    }

    /// The library's local time of day at `Millis(0)`, in seconds since midnight: the
    /// recent events then show wall-clock times (`14:05`), not time since start. The
    /// console itself reads no clock.
    pub fn set_time_of_day_at_start(&mut self, secs: u32) {
        self.time_of_day_at_start = Some(secs % 86_400);
    }

    /// The time the console last saw.
    #[must_use]
    pub fn now(&self) -> Millis {
        self.now
    }

    /// The patron session (read only).
    #[must_use]
    pub fn flow(&self) -> &PatronSession {
        &self.flow
    }

    #[must_use]
    pub fn out_of_service(&self) -> bool {
        self.out_of_service
    }

    /// When the console next needs [`Console::advance`] even if nothing happens.
    #[must_use]
    pub fn deadline(&self) -> Option<Millis> {
        [self.flow.deadline(), self.admin.deadline(), self.presentation_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Between sessions, a language or display chosen (or the language list opened) and
    /// left: the library's defaults come back after [`PRESENTATION_RESET`], so the next
    /// patron starts in them.
    fn presentation_deadline(&self) -> Option<Millis> {
        let default = self.library_presentation(self.presentation.admin_page);
        (self.flow.is_idle() && !self.admin.is_open() && self.presentation != default)
            .then(|| Millis(self.presentation_at.0 + PRESENTATION_RESET.0))
    }

    /// Time passed to `now`: timers fire.
    pub fn advance(&mut self, now: Millis) -> Vec<Work> {
        self.now = self.now.max(now);
        if self.presentation_deadline().is_some_and(|d| self.now >= d) {
            self.presentation = self.library_presentation(self.presentation.admin_page);
        }
        let mut work = self.patron(Event::Tick);
        let fx = self.admin.on(self.now, AdminEvent::Tick);
        self.admin_effects(fx, &mut work);
        work
    }

    /// A driver event or reply for the patron session; a staff card opens the staff
    /// menu's PIN screen instead.
    pub fn event(&mut self, event: Event) -> Vec<Work> {
        if event == Event::Scanned(crate::flow::Scan::StaffCard) {
            let mut work = Vec::new();
            if !self.admin.is_open() {
                self.presentation.admin_page = crate::scene::AdminPage::Status;
                self.presentation.languages_open = false;
                let fx = self.admin.on(self.now, AdminEvent::Open);
                self.admin_effects(fx, &mut work);
            }
            return work;
        }
        self.patron(event)
    }

    /// A tap on the screen.
    pub fn action(&mut self, action: UiAction) -> Vec<Work> {
        let mut work = Vec::new();
        let offered = match action {
            // One language: no list; the staff menu has none.
            UiAction::Languages => self.languages.len() > 1 && !self.admin.is_open(),
            UiAction::Language(l) => self.languages.contains(&l) && !self.admin.is_open(),
            _ => true,
        };
        if !offered {
            return work;
        }
        match view::input(action, &mut self.presentation, self.out_of_service) {
            Input::Patron(e) if !self.admin.is_open() => work = self.patron(e),
            Input::Admin(e) => {
                let fx = self.admin.on(self.now, e);
                self.admin_effects(fx, &mut work);
            }
            Input::Demo(control) => work.push(Work::Demo(control)),
            Input::StartLinking if self.admin.is_open() => {
                if self.flow.is_counter() {
                    // Staff leave the menu; the next card is linked, on staff's screens in
                    // the library's language.
                    self.presentation = self.library_presentation(self.presentation.admin_page);
                    let fx = self.admin.on(self.now, AdminEvent::Close);
                    self.admin_effects(fx, &mut work);
                    work.extend(self.patron(Event::StartLinking));
                } else {
                    // A self-checkout kiosk has no link store to fill: refused, and said so.
                    self.log(EventKind::NotAtThisKiosk, 0, 0);
                }
            }
            Input::Presentation => {
                self.presentation_at = self.now;
                // Choosing a language among seven takes a moment: it is the patron at
                // work, not away (the session's timeout starts again).
                if !self.flow.is_idle() && !self.admin.is_open() {
                    work = self.patron(Event::Tap(crate::flow::Tap::StillHere));
                }
            }
            Input::Patron(_) | Input::Ignored | Input::StartLinking => {}
        }
        work
    }

    /// A key of the tactile keypad (`crate::tactile`): a button chosen and named, or
    /// pressed as if tapped. Staff use the screen: the keypad does nothing in their menu.
    pub fn keypad(&mut self, key: crate::tactile::Key) -> Vec<Work> {
        if self.admin.is_open() {
            return Vec::new();
        }
        let scene = self.scene();
        let mut tactile = self.tactile();
        let pressed = crate::tactile::press(&scene, &mut tactile, key);
        self.presentation.tactile = tactile;
        self.presentation_at = self.now;
        match pressed {
            Some(action) => self.action(action),
            // Moving between buttons is the patron at work: the session's timeout starts
            // again (and "are you still there?" is answered).
            None if !self.flow.is_idle() => self.patron(Event::Tap(crate::flow::Tap::StillHere)),
            None => Vec::new(),
        }
    }

    /// Headphones plugged into the tactile keypad's jack (`true`) or out. In, the voice
    /// speaks through them only and keypad mode is on while they stay in, the screen said
    /// as the help key says it (plugged in over the staff menu: from when it closes);
    /// out, the voice goes back to the speaker and keypad mode stays for the session.
    pub fn headphones(&mut self, inserted: bool) -> Vec<Work> {
        if self.headphones == inserted {
            return Vec::new();
        }
        self.headphones = inserted;
        if self.admin.is_open() {
            return Vec::new();
        }
        if !inserted {
            // A session that began with them in keeps its keypad mode.
            self.presentation.tactile.on |= !self.flow.is_idle();
            return Vec::new();
        }
        let tactile = &mut self.presentation.tactile;
        tactile.on = true;
        tactile.repeat = tactile.repeat.wrapping_add(1);
        self.presentation_at = self.now;
        if self.flow.is_idle() {
            Vec::new()
        } else {
            // A patron at work: the session's timeout starts again.
            self.patron(Event::Tap(crate::flow::Tap::StillHere))
        }
    }

    /// The answer to [`Work::CheckStaffPin`].
    pub fn staff_pin_checked(&mut self, ok: bool) -> Vec<Work> {
        let mut work = Vec::new();
        let fx = self.admin.on(self.now, AdminEvent::StaffPinChecked { ok });
        self.admin_effects(fx, &mut work);
        work
    }

    /// The language the screen speaks now (receipts and labels are printed in it): the
    /// patron's, or the library's first while the staff menu is open.
    #[must_use]
    pub fn language(&self) -> Language {
        if self.admin.is_open() {
            self.languages.first().copied().unwrap_or(Language::Japanese)
        } else {
            self.presentation.language
        }
    }

    /// What the screen shows now (the caller fills in device status, method B's picture
    /// and demo fields).
    #[must_use]
    pub fn scene(&self) -> Scene {
        self.scene_and_barcode().0
    }

    /// What the screen shows now, and the number counter method B shows as a barcode
    /// while it does (the caller draws the picture into [`Scene`]'s `hand_off.barcode`),
    /// from one look at the flow.
    #[must_use]
    pub fn scene_and_barcode(&self) -> (Scene, Option<PatronId>) {
        let view = self.flow.view(self.now);
        let mut s =
            view::scene(&view, self.admin.view(self.now), &self.presentation, &self.library_name, self.now);
        s.out_of_service_on = self.out_of_service;
        (s.account_on, s.returns_on) = self.flow.services();
        s.card_name.clone_from(&self.card_name);
        s.languages.clone_from(&self.languages);
        if self.admin.is_open() {
            // Staff read their menu in the library's language, whatever a patron chose.
            s.language = self.language();
            s.languages_open = false;
        }
        s.recent_events = self.events.iter().rev().cloned().collect();
        s.counter_mode = self.flow.is_counter();
        s.focus = crate::tactile::focused(&s, &self.tactile()).unwrap_or_default();
        s.repeat = self.presentation.tactile.repeat;
        s.headphones = self.headphones;
        let barcode = match view.screen {
            Screen::HandOff { method: HandOff::Barcode, number, .. } => number,
            _ => None,
        };
        (s, barcode)
    }

    /// Adds a line to the staff's recent events (no personal data: a kind and two counts).
    pub fn log(&mut self, kind: EventKind, a: usize, b: usize) {
        let secs = self.now.0 / 1000;
        let time = match self.time_of_day_at_start {
            // Wall-clock hours and minutes (the monotonic clock may drift from the wall
            // clock by the seconds NTP corrects; a staff log does not mind).
            Some(start) => {
                let t = (u64::from(start) + secs) % 86_400;
                format!("{:02}:{:02}", t / 3600, t / 60 % 60)
            }
            // Not told the time (tests): minutes and seconds since start, marked as such.
            None => format!("+{:02}:{:02}", secs / 60 % 60, secs % 60),
        };
        let n = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
        self.events.push_back(event_row(&time, kind, n(a), n(b)));
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
    }

    fn patron(&mut self, event: Event) -> Vec<Work> {
        let was_idle = self.flow.is_idle();
        let effects = self.flow.on(self.now, event);
        if !was_idle && self.flow.is_idle() {
            // Between patrons, the screen returns to the library's defaults.
            self.presentation = self.library_presentation(self.presentation.admin_page);
        }
        let mut work = Vec::with_capacity(effects.len());
        for effect in effects {
            if let Effect::Audit(a) = &effect {
                self.audit(*a);
            }
            work.push(Work::Effect(effect));
        }
        work
    }

    fn audit(&mut self, a: AuditEvent) {
        match a {
            AuditEvent::SessionStarted(_) => self.log(EventKind::SessionStarted, 0, 0),
            AuditEvent::PinRejected { tries_left } => {
                self.log(EventKind::PinRejected, usize::from(tries_left), 0)
            }
            AuditEvent::CardLocked => self.log(EventKind::CardLocked, 0, 0),
            AuditEvent::StaffCalled(why) => {
                self.log(EventKind::StaffCalled, view::call_reason(why).code().into(), 0)
            }
            AuditEvent::StaffCallCleared => self.log(EventKind::StaffCallCleared, 0, 0),
            AuditEvent::SessionEnded(t) => {
                self.log(EventKind::SessionEnded, t.lent.into(), t.not_done.into())
            }
            // The ending notice is on the screen; the staff list has the session's end.
            AuditEvent::TurnedAway(_) => {}
            AuditEvent::CardRemovedEarly => self.log(EventKind::CardRemovedEarly, 0, 0),
            AuditEvent::HandedOff(_) => self.log(EventKind::HandedOff, 0, 0),
            AuditEvent::Linked { replaced } => self.log(EventKind::CardLinked, usize::from(replaced), 0),
            AuditEvent::Unlinked => self.log(EventKind::CardUnlinked, 0, 0),
            AuditEvent::ReturnsStarted => self.log(EventKind::ReturnsStarted, 0, 0),
            AuditEvent::ReturnsEnded(t) => {
                self.log(EventKind::ReturnsEnded, t.returned.into(), t.not_done.into())
            }
            AuditEvent::PasswordRejected { tries_left } => {
                self.log(EventKind::PasswordRejected, usize::from(tries_left), 0)
            }
        }
    }

    fn admin_effects(&mut self, effects: Vec<AdminEffect>, work: &mut Vec<Work>) {
        for fx in effects {
            match fx {
                AdminEffect::CheckStaffPin(pin) => work.push(Work::CheckStaffPin(pin)),
                AdminEffect::Perform(action) => self.perform(action, work),
                AdminEffect::Audit(AdminAudit::LoggedIn) => self.log(EventKind::StaffLogin, 0, 0),
                AdminEffect::Audit(AdminAudit::PinRejected { .. }) => {
                    self.log(EventKind::StaffPinRejected, 0, 0)
                }
                AdminEffect::Audit(AdminAudit::LockedOut) => self.log(EventKind::StaffLockedOut, 0, 0),
                AdminEffect::Audit(AdminAudit::Action(_)) => self.log(EventKind::StaffAction, 0, 0),
                AdminEffect::Audit(_) => {}
            }
        }
    }

    fn perform(&mut self, action: AdminAction, work: &mut Vec<Work>) {
        match action {
            AdminAction::ResetKiosk => {
                work.extend(self.patron(Event::Reset));
                self.presentation = self.library_presentation(self.presentation.admin_page);
            }
            AdminAction::ClearPaperOut => work.extend(self.patron(Event::PaperRestored)),
            AdminAction::SetOutOfService(on) => {
                self.out_of_service = on;
                self.presentation = self.library_presentation(self.presentation.admin_page);
                work.extend(self.patron(Event::SetOutOfService(on)));
            }
            // A counter offers neither: its patrons hand their number to staff.
            AdminAction::ToggleAccountScreen | AdminAction::ToggleReturns if !self.flow.is_counter() => {
                let (account, returns) = self.flow.services();
                let (account, returns) = if action == AdminAction::ToggleAccountScreen {
                    (!account, returns)
                } else {
                    (account, !returns)
                };
                work.extend(self.patron(Event::SetServices { account, returns }));
            }
            _ => {}
        }
        work.push(Work::Staff(action));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Reply, SessionId};
    use crate::scene::CallReason;
    use crate::scene::{Key, Pad, Screen as UiScreen};

    /// A card in, its certificate read, its PIN's tries counted: the PIN pad.
    fn at_the_pin_pad(c: &mut Console) {
        let work = c.event(Event::CardInserted);
        let session = work
            .iter()
            .find_map(|w| match w {
                Work::Effect(e) => e.session(),
                _ => None,
            })
            .unwrap_or(SessionId(0));
        c.event(Event::Reply { session, reply: Reply::Certificate(Ok(())) });
        c.event(Event::Reply { session, reply: Reply::PinTries(3) });
    }

    #[test]
    fn pin_taps_reach_the_pad() {
        let mut c = Console::new(ConsoleSettings::default());
        at_the_pin_pad(&mut c);
        assert_eq!(c.scene().screen, UiScreen::Pin);
        c.action(UiAction::Key(Pad::Card, Key::Digit(1)));
        assert_eq!(c.scene().pin_entered, 1);
    }

    #[test]
    fn the_keypad_types_the_pin_and_enter_is_ok_whatever_was_chosen_before() {
        use crate::tactile::Key as K;
        let mut c = Console::new(ConsoleSettings::default());
        // Help at the idle screen: keypad mode on, the first button chosen (Call staff).
        c.keypad(K::Help);
        assert_eq!(c.scene().focus, "call-staff");
        at_the_pin_pad(&mut c);
        assert_eq!(c.scene().screen, UiScreen::Pin);
        assert_eq!(c.scene().focus, "submit", "a new screen: its first button");
        for d in [1, 2, 3, 4] {
            c.keypad(K::Digit(d));
        }
        assert_eq!(c.scene().pin_entered, 4);
        c.keypad(K::Correct);
        assert_eq!(c.scene().pin_entered, 3);
        c.keypad(K::Digit(4));
        let work = c.keypad(K::Select);
        assert!(
            work.iter().any(|w| matches!(w, Work::Effect(crate::flow::Effect::VerifyPin { .. }))),
            "Enter is OK: {work:?}"
        );
    }

    #[test]
    fn headphones_turn_keypad_mode_on_and_keep_it_while_they_stay_in() {
        use crate::tactile::Key as K;
        let mut c = Console::new(ConsoleSettings::default());
        assert!(!c.scene().headphones);
        assert!(c.scene().focus.is_empty(), "keypad mode off");
        c.headphones(true);
        let s = c.scene();
        assert!(s.headphones);
        assert_eq!((s.focus.as_str(), s.repeat), ("call-staff", 1), "keypad mode on, the screen said");
        c.headphones(true);
        assert_eq!(c.scene().repeat, 1, "no change, nothing said again");
        at_the_pin_pad(&mut c);
        assert_eq!(c.scene().focus, "submit");
        // The patron leaves, the headphones stay: the next session is in keypad mode too.
        c.event(Event::CardRemoved);
        assert_eq!(c.scene().screen, UiScreen::Idle);
        assert_eq!(c.scene().focus, "call-staff");
        // Out: the voice back on the speaker; the session's keypad mode stays (this
        // session began with them in, no key pressed yet).
        at_the_pin_pad(&mut c);
        c.headphones(false);
        let s = c.scene();
        assert!(!s.headphones);
        assert_eq!(s.focus, "submit");
        c.event(Event::CardRemoved);
        assert!(c.scene().focus.is_empty(), "the next session starts by touch");
        // Plugged in with the staff menu open: the menu stays as it is...
        c.event(Event::Scanned(crate::flow::Scan::StaffCard));
        c.headphones(true);
        assert!(c.scene().focus.is_empty(), "staff screens have no keypad mode");
        c.keypad(K::Help);
        assert!(c.scene().focus.is_empty());
        // ...and keypad mode is on from when it closes (the idle screen said, its first
        // button named: a new screen).
        c.action(UiAction::AdminClose);
        assert_eq!(c.scene().screen, UiScreen::Idle);
        assert_eq!(c.scene().focus, "call-staff");
    }

    /// Recent events carry the library's wall-clock time once the orchestrator has said
    /// what time it was at start (past midnight too), and why staff were called.
    #[test]
    fn recent_events_show_the_time_of_day_and_why_staff_were_called() {
        let mut c = Console::new(ConsoleSettings::default());
        c.log(EventKind::SessionStarted, 0, 0);
        assert_eq!(c.events[0].time, "+00:00", "not told the time: time since start, marked");
        c.set_time_of_day_at_start(23 * 3600 + 59 * 60 + 30);
        c.advance(Millis(45_000));
        c.event(Event::Tap(crate::flow::Tap::CallStaff));
        let newest = c.events.back().map(|e| (e.time.clone(), e.kind, e.a));
        assert_eq!(
            newest,
            Some(("00:00".to_owned(), EventKind::StaffCalled, CallReason::PatronAsked.code().into()))
        );
    }

    /// A staff card opens the staff menu's PIN screen, never a patron login; the menu
    /// opens only with the staff PIN.
    #[test]
    fn a_staff_card_asks_for_the_staff_pin_and_logs_nobody_in() {
        let mut c = Console::new(ConsoleSettings::default());
        let work = c.event(Event::Scanned(crate::flow::Scan::StaffCard));
        assert!(!work.iter().any(|w| matches!(w, Work::Effect(_))), "no patron session: {work:?}");
        assert_eq!(c.scene().screen, UiScreen::AdminPin);
        for _ in 0..4 {
            c.action(UiAction::Key(Pad::Staff, Key::Digit(0)));
        }
        let work = c.action(UiAction::Key(Pad::Staff, Key::Submit));
        assert!(work.iter().any(|w| matches!(w, Work::CheckStaffPin(_))), "the PIN is checked: {work:?}");
        c.staff_pin_checked(true);
        assert_eq!(c.scene().screen, UiScreen::AdminMenu);
        // Scanned again with the menu open: nothing changes.
        assert!(c.event(Event::Scanned(crate::flow::Scan::StaffCard)).is_empty());
        assert_eq!(c.scene().screen, UiScreen::AdminMenu);
    }
}
