//! The kiosk's decision half as one value: the patron session, the admin session, the
//! presentation (language, text size, contrast) and the staff's recent-events list.
//!
//! It turns taps, driver events and time into [`Work`] for whoever carries it out — the
//! orchestrator with the real drivers ([`crate::orchestrator`]) or the demo with
//! simulated ones ([`crate::demo_ui`]) — and draws the [`Scene`] the UI shows. Still no
//! I/O: effects leave as values.

use std::collections::VecDeque;

use kiosk_ui::{DemoControl, EventKind, EventRow, Scene, UiAction, event_row};

use crate::config::Config;
use crate::flow::{
    AdminAction, AdminAudit, AdminEffect, AdminEvent, AdminSession, AuditEvent, Effect, Event, Millis,
    PatronSession,
};
use crate::ui_bridge::{self, Input, Presentation};

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
}

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
    staff_pin_hash: crate::config::StaffPinHash,
    now: Millis,
    /// The symbology method B draws (the library's, from `[printer]`).
    symbology: kiosk_printer::Symbology,
}

impl core::fmt::Debug for Console {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Console({})", self.flow.state_name())
    }
}

impl Console {
    #[must_use]
    pub fn new(config: &Config) -> Console {
        Console {
            flow: PatronSession::new(config.session_policy()),
            admin: AdminSession::new(config.admin_policy()),
            presentation: Presentation::default(),
            events: VecDeque::new(),
            out_of_service: false,
            library_name: config.library.name.clone(),
            staff_pin_hash: config.admin.staff_pin_hash.clone(),
            now: Millis(0),
            symbology: config.job_settings().symbology,
        }
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
        match (self.flow.deadline(), self.admin.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Time passed to `now`: timers fire.
    pub fn advance(&mut self, now: Millis) -> Vec<Work> {
        self.now = self.now.max(now);
        let mut work = self.patron(Event::Tick);
        let fx = self.admin.on(self.now, AdminEvent::Tick);
        self.admin_effects(fx, &mut work);
        work
    }

    /// A driver event or reply for the patron session.
    pub fn event(&mut self, event: Event) -> Vec<Work> {
        self.patron(event)
    }

    /// A tap on the screen.
    pub fn action(&mut self, action: UiAction) -> Vec<Work> {
        let mut work = Vec::new();
        match ui_bridge::input(action, &mut self.presentation, self.out_of_service) {
            Input::Patron(e) if !self.admin.is_open() => work = self.patron(e),
            Input::Admin(e) => {
                let fx = self.admin.on(self.now, e);
                self.admin_effects(fx, &mut work);
            }
            Input::Demo(control) => work.push(Work::Demo(control)),
            Input::StartLinking if self.admin.is_open() => {
                if self.flow.is_counter() {
                    // Staff leave the menu; the next card is linked.
                    let fx = self.admin.on(self.now, AdminEvent::Close);
                    self.admin_effects(fx, &mut work);
                    work.extend(self.patron(Event::StartLinking));
                } else {
                    // A self-checkout kiosk has no link store to fill: refused, and said so.
                    self.log(EventKind::NotAtThisKiosk, 0, 0);
                }
            }
            Input::Patron(_) | Input::Presentation | Input::Ignored | Input::StartLinking => {}
        }
        work
    }

    /// What the screen shows now (the caller fills in device status and demo fields).
    #[must_use]
    pub fn scene(&self) -> Scene {
        let view = self.flow.view(self.now);
        let mut s = ui_bridge::scene(
            &view,
            self.admin.view(self.now),
            &self.presentation,
            &self.library_name,
            self.now,
        );
        s.out_of_service_on = self.out_of_service;
        s.recent_events = self.events.iter().rev().cloned().collect();
        s.counter_mode = self.flow.is_counter();
        if let crate::flow::Screen::HandOff {
            method: crate::flow::HandOff::Barcode, number: Some(n), ..
        } = &view.screen
        {
            s.hand_off.barcode = barcode(n.expose(), self.symbology);
        }
        s
    }

    /// Adds a line to the staff's recent events (no personal data: a kind and two counts).
    pub fn log(&mut self, kind: EventKind, a: usize, b: usize) {
        let secs = self.now.0 / 1000;
        let time = format!("{:02}:{:02}", secs / 60 % 60, secs % 60);
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
            let page = self.presentation.admin_page;
            self.presentation = Presentation { admin_page: page, ..Presentation::default() };
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
            AuditEvent::StaffCalled(_) => self.log(EventKind::StaffCalled, 0, 0),
            AuditEvent::StaffCallCleared => self.log(EventKind::StaffCallCleared, 0, 0),
            AuditEvent::SessionEnded { borrowed, refused } => {
                self.log(EventKind::SessionEnded, borrowed, refused)
            }
            AuditEvent::CardRemovedEarly => self.log(EventKind::CardRemovedEarly, 0, 0),
            AuditEvent::HandedOff(_) => self.log(EventKind::HandedOff, 0, 0),
            AuditEvent::Linked { replaced } => self.log(EventKind::CardLinked, usize::from(replaced), 0),
            AuditEvent::Unlinked => self.log(EventKind::CardUnlinked, 0, 0),
        }
    }

    fn admin_effects(&mut self, effects: Vec<AdminEffect>, work: &mut Vec<Work>) {
        for fx in effects {
            match fx {
                AdminEffect::CheckStaffPin(pin) => {
                    let ok = self.staff_pin_hash.verify(pin.as_ascii());
                    let more = self.admin.on(self.now, AdminEvent::StaffPinChecked { ok });
                    self.admin_effects(more, work);
                }
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
            AdminAction::ResetKiosk => work.extend(self.patron(Event::Reset)),
            AdminAction::ClearPaperOut => work.extend(self.patron(Event::PaperRestored)),
            AdminAction::SetOutOfService(on) => {
                self.out_of_service = on;
                work.extend(self.patron(Event::SetOutOfService(on)));
            }
            _ => {}
        }
        work.push(Work::Staff(action));
    }
}

/// Method B's picture: the number as the library's barcode, 2 px per printer dot (the
/// encoder's widest module, 3 dots, becomes 6 px ≈ 1 mm on a 10" 1280 × 800 screen: read
/// by a handheld scanner at arm's length). `None` when the number cannot be drawn (the
/// digits, method A, still can).
#[must_use]
pub fn barcode(number: &str, symbology: kiosk_printer::Symbology) -> Option<kiosk_ui::Gray> {
    const SCALE: usize = 2;
    let bits = kiosk_printer::symbology::render(number, symbology, 860 / SCALE, 120).ok()?;
    let (w, h) = (bits.width() * SCALE, bits.height() * SCALE);
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            pixels.push(if bits.get(x / SCALE, y / SCALE) { 0 } else { 255 });
        }
    }
    Some(kiosk_ui::Gray { width: u32::try_from(w).ok()?, height: u32::try_from(h).ok()?, pixels })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::flow::{Reply, SessionId};
    use kiosk_ui::{Key, Pad};

    #[test]
    fn pin_taps_reach_the_pad() {
        let mut c = Console::new(&Config::demo());
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
        assert_eq!(c.scene().screen, kiosk_ui::Screen::Pin);
        c.action(UiAction::Key(Pad::Card, Key::Digit(1)));
        assert_eq!(c.scene().pin_entered, 1);
    }
}
