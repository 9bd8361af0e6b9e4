//! The staff admin session: staff PIN with lock-out, then the staff menu.
//!
//! Entered by a hidden long-press. The staff PIN (4–8 digits) is checked by the
//! orchestrator against the configured argon2 hash (slow on purpose, so off the event
//! loop); this machine only counts failures: after `lockout_attempts` wrong PINs the pad
//! is closed for `lockout`. Every step leaves an audit event.

use core::time::Duration;

use super::{Millis, PinKey, SecretDigits};

/// Longest staff PIN.
pub const STAFF_PIN_MAX: usize = 8;
/// Shortest staff PIN.
pub const STAFF_PIN_MIN: usize = 4;

/// A staff PIN on its way to the hash check (and the staff keypad's buffer). Never
/// printed; wiped on drop.
pub type StaffPin = SecretDigits<STAFF_PIN_MAX>;

/// Lock-out and timeout settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminPolicy {
    pub lockout_attempts: u8,
    pub lockout: Duration,
    /// No touch for this long closes the menu.
    pub idle_timeout: Duration,
}

impl Default for AdminPolicy {
    fn default() -> Self {
        AdminPolicy {
            lockout_attempts: 5,
            lockout: Duration::from_secs(300),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// The admin menu's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAction {
    /// Refresh the status of every device and connection.
    RefreshStatus,
    /// Clear errors and alarms, end any session, return to Idle.
    ResetKiosk,
    /// Paper was loaded.
    ClearPaperOut,
    TestPrint,
    /// Play the test sound (a tone and the idle screen's prompt).
    TestSound,
    /// Turn the sound up or down a step (until the kiosk restarts).
    Volume {
        louder: bool,
    },
    SetOutOfService(bool),
    RegisterTerminal,
    RecentEvents,
    CheckForUpdate,
    /// Install a downloaded update the next time the kiosk is idle.
    InstallUpdateWhenIdle,
    Reboot,
    /// Turn the patrons' account screen on or off (until the kiosk restarts).
    ToggleAccountScreen,
    /// Turn returns at the kiosk on or off (until the kiosk restarts).
    ToggleReturns,
    /// The offline loans the library system refused were handled: clear their list.
    ClearOfflineRefusals,
}

/// What staff do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminEvent {
    /// The hidden long-press.
    Open,
    Key(PinKey),
    /// The orchestrator's answer to [`AdminEffect::CheckStaffPin`].
    StaffPinChecked {
        ok: bool,
    },
    Choose(AdminAction),
    /// "Yes" on the question a reset or a restart asks first.
    Confirm,
    /// "No" on that question.
    CancelConfirm,
    Close,
    Tick,
}

/// Audit events for staff actions. Never the PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAudit {
    Opened,
    PinRejected { failures: u8 },
    LockedOut,
    LoggedIn,
    Action(AdminAction),
    Closed,
    TimedOut,
}

/// What the admin session asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminEffect {
    CheckStaffPin(StaffPin),
    Perform(AdminAction),
    Audit(AdminAudit),
}

/// What the admin screens show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminView {
    Closed,
    PinEntry {
        entered: usize,
        failures: u8,
        checking: bool,
    },
    LockedOut {
        secs_left: u32,
    },
    /// The menu; `confirm` while it asks whether to go ahead with a reset or a restart.
    Menu {
        confirm: Option<AdminAction>,
    },
}

#[derive(Debug)]
enum AdminState {
    Closed,
    PinEntry { digits: StaffPin, checking: bool },
    Menu { confirm: Option<AdminAction> },
}

/// The admin session state machine.
#[derive(Debug)]
pub struct AdminSession {
    policy: AdminPolicy,
    state: AdminState,
    failures: u8,
    locked_until: Option<Millis>,
    last_activity: Millis,
}

impl AdminSession {
    #[must_use]
    pub fn new(policy: AdminPolicy) -> AdminSession {
        AdminSession {
            policy,
            state: AdminState::Closed,
            failures: 0,
            locked_until: None,
            last_activity: Millis(0),
        }
    }

    #[must_use]
    pub fn is_open(&self) -> bool {
        !matches!(self.state, AdminState::Closed)
    }

    #[must_use]
    pub fn view(&self, now: Millis) -> AdminView {
        match &self.state {
            AdminState::Closed => AdminView::Closed,
            AdminState::PinEntry { .. } if self.locked(now) => {
                AdminView::LockedOut { secs_left: self.locked_until.map_or(0, |u| now.secs_until(u)) }
            }
            AdminState::PinEntry { digits, checking } => {
                AdminView::PinEntry { entered: digits.len(), failures: self.failures, checking: *checking }
            }
            AdminState::Menu { confirm } => AdminView::Menu { confirm: *confirm },
        }
    }

    /// When to send [`AdminEvent::Tick`].
    #[must_use]
    pub fn deadline(&self) -> Option<Millis> {
        match self.state {
            AdminState::Closed => None,
            AdminState::PinEntry { checking: true, .. } => None,
            _ => Some(self.last_activity.after(self.policy.idle_timeout)),
        }
    }

    pub fn on(&mut self, now: Millis, event: AdminEvent) -> Vec<AdminEffect> {
        let mut fx = Vec::new();
        if let Some(until) = self.locked_until
            && now >= until
        {
            self.locked_until = None;
            self.failures = 0;
        }
        if event == AdminEvent::Tick {
            if self.deadline().is_some_and(|d| now >= d) {
                self.close(&mut fx, AdminAudit::TimedOut);
            }
            return fx;
        }
        if !matches!(event, AdminEvent::StaffPinChecked { .. }) {
            self.last_activity = now;
        }
        match (&mut self.state, event) {
            (AdminState::Closed, AdminEvent::Open) => {
                self.state = AdminState::PinEntry { digits: StaffPin::new(), checking: false };
                fx.push(AdminEffect::Audit(AdminAudit::Opened));
            }
            (AdminState::PinEntry { digits, checking: false }, AdminEvent::Key(key)) => match key {
                _ if self.locked_until.is_some() => {}
                PinKey::Digit(d) if d <= 9 => digits.push(b'0' + d),
                PinKey::Backspace => digits.pop(),
                PinKey::Clear => digits.wipe(),
                PinKey::Submit if digits.len() >= STAFF_PIN_MIN => {
                    let pin = digits.take();
                    self.state = AdminState::PinEntry { digits: StaffPin::new(), checking: true };
                    fx.push(AdminEffect::CheckStaffPin(pin));
                }
                _ => {}
            },
            (AdminState::PinEntry { checking: true, .. }, AdminEvent::StaffPinChecked { ok: true }) => {
                self.failures = 0;
                self.state = AdminState::Menu { confirm: None };
                fx.push(AdminEffect::Audit(AdminAudit::LoggedIn));
            }
            (AdminState::PinEntry { checking: true, .. }, AdminEvent::StaffPinChecked { ok: false }) => {
                self.failures = self.failures.saturating_add(1);
                fx.push(AdminEffect::Audit(AdminAudit::PinRejected { failures: self.failures }));
                if self.failures >= self.policy.lockout_attempts {
                    self.locked_until = Some(now.after(self.policy.lockout));
                    fx.push(AdminEffect::Audit(AdminAudit::LockedOut));
                }
                self.state = AdminState::PinEntry { digits: StaffPin::new(), checking: false };
            }
            // A reset ends a patron's session and a restart stops the kiosk for a minute:
            // both ask first.
            (AdminState::Menu { confirm }, AdminEvent::Choose(action)) if needs_confirmation(action) => {
                *confirm = Some(action);
            }
            (AdminState::Menu { confirm }, AdminEvent::Choose(action)) => {
                *confirm = None;
                self.perform(action, &mut fx);
            }
            (AdminState::Menu { confirm }, AdminEvent::Confirm) => {
                if let Some(action) = confirm.take() {
                    self.perform(action, &mut fx);
                }
            }
            (AdminState::Menu { confirm }, AdminEvent::CancelConfirm) => *confirm = None,
            (AdminState::PinEntry { checking: false, .. } | AdminState::Menu { .. }, AdminEvent::Close) => {
                self.close(&mut fx, AdminAudit::Closed);
            }
            _ => {}
        }
        fx
    }

    fn perform(&mut self, action: AdminAction, fx: &mut Vec<AdminEffect>) {
        fx.push(AdminEffect::Audit(AdminAudit::Action(action)));
        fx.push(AdminEffect::Perform(action));
        if action == AdminAction::ResetKiosk {
            // A reset returns the kiosk to patrons; the menu closes with it.
            self.close(fx, AdminAudit::Closed);
        }
    }

    fn locked(&self, now: Millis) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    fn close(&mut self, fx: &mut Vec<AdminEffect>, why: AdminAudit) {
        self.state = AdminState::Closed;
        fx.push(AdminEffect::Audit(why));
    }
}

/// The actions staff must confirm: they end a patron's session or stop the kiosk.
fn needs_confirmation(action: AdminAction) -> bool {
    matches!(action, AdminAction::ResetKiosk | AdminAction::Reboot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_and_type(admin: &mut AdminSession, now: Millis, digits: &[u8]) -> Vec<AdminEffect> {
        admin.on(now, AdminEvent::Open);
        for &d in digits {
            admin.on(now, AdminEvent::Key(PinKey::Digit(d)));
        }
        admin.on(now, AdminEvent::Key(PinKey::Submit))
    }

    fn wrong(admin: &mut AdminSession, now: Millis) -> Vec<AdminEffect> {
        let fx = open_and_type(admin, now, &[1, 1, 1, 1]);
        assert!(matches!(fx.as_slice(), [AdminEffect::CheckStaffPin(_)]), "{fx:?}");
        admin.on(now, AdminEvent::StaffPinChecked { ok: false })
    }

    #[test]
    fn correct_pin_opens_the_menu_and_actions_are_audited() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        let fx = open_and_type(&mut admin, Millis(0), &[2, 4, 6, 8]);
        let [AdminEffect::CheckStaffPin(pin)] = fx.as_slice() else { panic!("{fx:?}") };
        assert_eq!(pin.as_ascii(), b"2468");
        assert_eq!(format!("{pin:?}"), "SecretDigits(4 typed)");
        admin.on(Millis(1), AdminEvent::StaffPinChecked { ok: true });
        assert_eq!(admin.view(Millis(1)), AdminView::Menu { confirm: None });
        let fx = admin.on(Millis(2), AdminEvent::Choose(AdminAction::TestPrint));
        assert_eq!(
            fx,
            vec![
                AdminEffect::Audit(AdminAudit::Action(AdminAction::TestPrint)),
                AdminEffect::Perform(AdminAction::TestPrint)
            ]
        );
    }

    #[test]
    fn menu_actions_need_a_login() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        assert!(admin.on(Millis(0), AdminEvent::Choose(AdminAction::ResetKiosk)).is_empty());
        admin.on(Millis(0), AdminEvent::Open);
        assert!(admin.on(Millis(0), AdminEvent::Choose(AdminAction::ResetKiosk)).is_empty());
        assert!(
            admin.on(Millis(0), AdminEvent::StaffPinChecked { ok: true }).is_empty(),
            "unasked answer ignored"
        );
        assert_eq!(admin.view(Millis(0)), AdminView::PinEntry { entered: 0, failures: 0, checking: false });
    }

    #[test]
    fn short_pin_is_not_checked() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        assert!(open_and_type(&mut admin, Millis(0), &[1, 2, 3]).is_empty());
    }

    #[test]
    fn five_wrong_pins_lock_out_for_five_minutes() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        for i in 1..=4u8 {
            let fx = wrong(&mut admin, Millis(u64::from(i)));
            assert_eq!(fx, vec![AdminEffect::Audit(AdminAudit::PinRejected { failures: i })]);
        }
        let fx = wrong(&mut admin, Millis(5));
        assert!(fx.contains(&AdminEffect::Audit(AdminAudit::LockedOut)));
        assert_eq!(admin.view(Millis(5)), AdminView::LockedOut { secs_left: 300 });
        // During the lock-out nothing is checked.
        let fx = open_and_type(&mut admin, Millis(100_000), &[2, 4, 6, 8]);
        assert!(fx.is_empty(), "{fx:?}");
        // Afterwards, the pad works again and the count restarts.
        admin.on(Millis(305_005), AdminEvent::Close);
        let fx = open_and_type(&mut admin, Millis(305_005), &[2, 4, 6, 8]);
        assert!(matches!(fx.as_slice(), [.., AdminEffect::CheckStaffPin(_)]), "{fx:?}");
        admin.on(Millis(305_006), AdminEvent::StaffPinChecked { ok: false });
        assert_eq!(
            admin.view(Millis(305_006)),
            AdminView::PinEntry { entered: 0, failures: 1, checking: false }
        );
    }

    #[test]
    fn idle_menu_closes_itself() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        open_and_type(&mut admin, Millis(0), &[2, 4, 6, 8]);
        admin.on(Millis(0), AdminEvent::StaffPinChecked { ok: true });
        assert_eq!(admin.deadline(), Some(Millis(120_000)));
        assert!(admin.on(Millis(119_999), AdminEvent::Tick).is_empty());
        assert_eq!(
            admin.on(Millis(120_000), AdminEvent::Tick),
            vec![AdminEffect::Audit(AdminAudit::TimedOut)]
        );
        assert!(!admin.is_open());
    }

    #[test]
    fn reset_asks_first_then_closes_the_menu() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        open_and_type(&mut admin, Millis(0), &[2, 4, 6, 8]);
        admin.on(Millis(0), AdminEvent::StaffPinChecked { ok: true });
        let fx = admin.on(Millis(1), AdminEvent::Choose(AdminAction::ResetKiosk));
        assert!(fx.is_empty(), "nothing happens before staff confirm: {fx:?}");
        assert_eq!(admin.view(Millis(1)), AdminView::Menu { confirm: Some(AdminAction::ResetKiosk) });
        let fx = admin.on(Millis(2), AdminEvent::Confirm);
        assert!(fx.contains(&AdminEffect::Perform(AdminAction::ResetKiosk)));
        assert!(!admin.is_open());
    }

    #[test]
    fn restart_asks_first_and_no_means_no() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        open_and_type(&mut admin, Millis(0), &[2, 4, 6, 8]);
        admin.on(Millis(0), AdminEvent::StaffPinChecked { ok: true });
        assert!(admin.on(Millis(1), AdminEvent::Choose(AdminAction::Reboot)).is_empty());
        assert!(admin.on(Millis(2), AdminEvent::CancelConfirm).is_empty());
        assert_eq!(admin.view(Millis(2)), AdminView::Menu { confirm: None });
        assert!(admin.on(Millis(3), AdminEvent::Confirm).is_empty(), "a stray yes does nothing");
        // Another action drops the question and is done at once.
        admin.on(Millis(4), AdminEvent::Choose(AdminAction::Reboot));
        let fx = admin.on(Millis(5), AdminEvent::Choose(AdminAction::TestPrint));
        assert!(fx.contains(&AdminEffect::Perform(AdminAction::TestPrint)));
        assert_eq!(admin.view(Millis(5)), AdminView::Menu { confirm: None });
        // A double tap on the button is not a yes: only the question's own button is.
        admin.on(Millis(6), AdminEvent::Choose(AdminAction::Reboot));
        assert!(admin.on(Millis(7), AdminEvent::Choose(AdminAction::Reboot)).is_empty());
        let fx = admin.on(Millis(8), AdminEvent::Confirm);
        assert!(fx.contains(&AdminEffect::Perform(AdminAction::Reboot)));
        assert!(admin.is_open());
    }

    #[test]
    fn backspace_clear_and_length_cap() {
        let mut admin = AdminSession::new(AdminPolicy::default());
        admin.on(Millis(0), AdminEvent::Open);
        for d in 0..10 {
            admin.on(Millis(0), AdminEvent::Key(PinKey::Digit(d)));
        }
        assert_eq!(admin.view(Millis(0)), AdminView::PinEntry { entered: 8, failures: 0, checking: false });
        admin.on(Millis(0), AdminEvent::Key(PinKey::Backspace));
        assert_eq!(admin.view(Millis(0)), AdminView::PinEntry { entered: 7, failures: 0, checking: false });
        admin.on(Millis(0), AdminEvent::Key(PinKey::Clear));
        assert_eq!(admin.view(Millis(0)), AdminView::PinEntry { entered: 0, failures: 0, checking: false });
    }
}
