//! The library-card password pad (`card.library_card_login = "barcode+password"`): the
//! PIN pad's care, for a password the library system checks.
//!
//! The library system keeps its own lock-out rules (the kiosk cannot see them); what the
//! kiosk adds is the same care the card's PIN gets:
//! - the pad submits only when the patron presses OK, and never resubmits: a wrong
//!   password clears the entry and waits for the patron again;
//! - after two wrong passwords the patron is warned that the next is the last here, and
//!   must acknowledge it before the keypad works;
//! - the third wrong password ends the session ([`PinStage::Locked`]): the patron is sent
//!   to staff, and the kiosk never tries a password by itself;
//! - the digits live in one fixed-capacity buffer that is zeroized on every exit path
//!   (submit, clear, idle timeout, cancel, drop), and the [`Password`] that leaves the
//!   pad is wiped when the library system's answer is in.

use core::fmt;
use core::time::Duration;

use super::{Millis, PinKey, PinStage, PinView, SecretDigits};

/// The most digits a password may have (longer entries are ignored, as on the PIN pad).
pub const PASSWORD_MAX: usize = 16;

/// Wrong passwords a session allows; the last one ends it.
pub const PASSWORD_TRIES: u8 = 3;

/// A library-card password, as the ASCII digits typed. Not `Clone`: it moves from the pad
/// to the library-system driver and is wiped when dropped; `Debug` never shows it.
#[derive(PartialEq, Eq)]
pub struct Password(SecretDigits<PASSWORD_MAX>);

impl Password {
    /// The password for the library system's request (ASCII digits only). Copy it only
    /// into a buffer that is wiped after use.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever pushed, so this never falls back.
        core::str::from_utf8(self.0.as_ascii()).unwrap_or_default()
    }

    /// How many digits it has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(****)")
    }
}

/// The password pad. [`PinStage::Verifying`] is "the library system is checking it";
/// [`PinStage::Locked`] is "three wrong: see staff". It never uses `CheckingTries`: the
/// library system does not say how many tries it allows.
#[derive(Debug)]
pub struct PasswordPad {
    stage: PinStage,
    digits: SecretDigits<PASSWORD_MAX>,
    wrong: u8,
    idle_timeout: Duration,
    last_key: Millis,
    sent_at: Millis,
}

impl PasswordPad {
    /// A pad ready for the first digit; the entry clears itself after `idle_timeout`
    /// without a key press.
    #[must_use]
    pub fn new(now: Millis, idle_timeout: Duration) -> PasswordPad {
        PasswordPad {
            stage: PinStage::Entering,
            digits: SecretDigits::new(),
            wrong: 0,
            idle_timeout,
            last_key: now,
            sent_at: now,
        }
    }

    #[must_use]
    pub fn stage(&self) -> PinStage {
        self.stage
    }

    /// When the password last left for the library system.
    #[must_use]
    pub fn sent_at(&self) -> Millis {
        self.sent_at
    }

    /// What the screen draws: dots, and after a wrong password how many tries are left
    /// at this kiosk. Never a digit.
    #[must_use]
    pub fn view(&self) -> PinView {
        PinView {
            stage: self.stage,
            entered: self.digits.len(),
            tries_left: (self.wrong > 0).then(|| PASSWORD_TRIES.saturating_sub(self.wrong)),
            last_attempt_wrong: self.wrong > 0,
            can_submit: self.stage == PinStage::Entering && !self.digits.is_empty(),
        }
    }

    /// A key: digits, Clear and Backspace edit the entry; OK sends it (moved out).
    pub fn on_key(&mut self, now: Millis, key: PinKey) -> Option<Password> {
        self.last_key = now;
        match (self.stage, key) {
            (PinStage::LastTryWarning, PinKey::AcknowledgeLastTry) => self.stage = PinStage::Entering,
            (PinStage::Entering, PinKey::Digit(d)) if d <= 9 => self.digits.push(b'0' + d),
            (PinStage::Entering, PinKey::Backspace) => self.digits.pop(),
            (PinStage::Entering, PinKey::Clear) => self.digits.wipe(),
            (PinStage::Entering, PinKey::Submit) if !self.digits.is_empty() => {
                self.stage = PinStage::Verifying;
                self.sent_at = now;
                return Some(Password(self.digits.take()));
            }
            _ => {}
        }
        None
    }

    /// The library system said the password was wrong.
    pub fn wrong(&mut self) {
        if self.stage != PinStage::Verifying {
            return;
        }
        self.wrong = self.wrong.saturating_add(1);
        self.stage = match PASSWORD_TRIES.saturating_sub(self.wrong) {
            0 => PinStage::Locked,
            1 => PinStage::LastTryWarning,
            _ => PinStage::Entering,
        };
    }

    /// The library system accepted the password.
    pub fn accepted(&mut self) {
        if self.stage == PinStage::Verifying {
            self.stage = PinStage::Verified;
        }
    }

    /// Clears the entry if no key was pressed for the idle timeout.
    pub fn on_tick(&mut self, now: Millis) {
        self.digits.wipe_if_idle(now, self.last_key, self.idle_timeout);
    }

    /// When [`PasswordPad::on_tick`] next has something to do.
    #[must_use]
    pub fn deadline(&self) -> Option<Millis> {
        self.digits.idle_deadline(self.last_key, self.idle_timeout)
    }

    /// Wipes the typed digits (the session is ending).
    pub fn wipe(&mut self) {
        self.digits.wipe();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(30);

    fn typed(pad: &mut PasswordPad, digits: &[u8]) {
        for &d in digits {
            assert_eq!(pad.on_key(Millis(1), PinKey::Digit(d)), None);
        }
    }

    fn submit(pad: &mut PasswordPad) -> Option<Password> {
        pad.on_key(Millis(2), PinKey::Submit)
    }

    #[test]
    fn ok_sends_the_digits_once_and_keeps_no_copy() {
        let mut pad = PasswordPad::new(Millis(0), IDLE);
        assert!(!pad.view().can_submit, "nothing typed");
        assert!(submit(&mut pad).is_none());
        typed(&mut pad, &[0, 4, 2, 7, 1]);
        assert!(pad.view().can_submit);
        let Some(password) = submit(&mut pad) else { panic!("OK with digits sends") };
        assert_eq!(password.as_str(), "04271");
        assert_eq!(pad.view().entered, 0, "the pad keeps nothing");
        assert_eq!(pad.stage(), PinStage::Verifying);
        assert!(submit(&mut pad).is_none(), "never sent twice");
        typed(&mut pad, &[1]);
        assert_eq!(pad.view().entered, 0, "keys are dead while it is checked");
        pad.accepted();
        assert_eq!(pad.stage(), PinStage::Verified);
    }

    #[test]
    fn three_wrong_passwords_warn_once_then_end() {
        let mut pad = PasswordPad::new(Millis(0), IDLE);
        typed(&mut pad, &[1, 1, 1, 1]);
        assert!(submit(&mut pad).is_some());
        pad.wrong();
        let v = pad.view();
        assert_eq!((v.stage, v.tries_left, v.last_attempt_wrong), (PinStage::Entering, Some(2), true));
        assert!(submit(&mut pad).is_none(), "the patron types again: nothing is resent");
        typed(&mut pad, &[2, 2, 2, 2]);
        assert!(submit(&mut pad).is_some());
        pad.wrong();
        assert_eq!(pad.stage(), PinStage::LastTryWarning);
        typed(&mut pad, &[3]);
        assert_eq!(pad.view().entered, 0, "the keypad waits for the warning's OK");
        assert!(pad.on_key(Millis(3), PinKey::AcknowledgeLastTry).is_none());
        typed(&mut pad, &[3, 3, 3, 3]);
        assert!(submit(&mut pad).is_some());
        pad.wrong();
        assert_eq!(pad.stage(), PinStage::Locked);
        assert_eq!(pad.view().tries_left, Some(0));
        typed(&mut pad, &[4]);
        assert!(submit(&mut pad).is_none(), "nothing more is sent");
    }

    #[test]
    fn answers_out_of_turn_change_nothing() {
        let mut pad = PasswordPad::new(Millis(0), IDLE);
        pad.wrong();
        pad.accepted();
        assert_eq!(pad.stage(), PinStage::Entering);
        assert_eq!(pad.view().tries_left, None);
    }

    #[test]
    fn editing_idle_clearing_and_the_length_limit() {
        let mut pad = PasswordPad::new(Millis(0), IDLE);
        typed(&mut pad, &[1, 2, 3]);
        pad.on_key(Millis(1), PinKey::Backspace);
        assert_eq!(pad.view().entered, 2);
        pad.on_key(Millis(1), PinKey::Digit(12));
        assert_eq!(pad.view().entered, 2, "not a digit");
        pad.on_key(Millis(1), PinKey::Clear);
        assert_eq!(pad.view().entered, 0);
        typed(&mut pad, &[9; PASSWORD_MAX + 3]);
        assert_eq!(pad.view().entered, PASSWORD_MAX);
        assert_eq!(pad.deadline(), Some(Millis(30_001)));
        pad.on_tick(Millis(30_000));
        assert_eq!(pad.view().entered, PASSWORD_MAX);
        pad.on_tick(Millis(30_001));
        assert_eq!(pad.view().entered, 0);
        assert_eq!(pad.deadline(), None);
    }

    #[test]
    fn debug_never_shows_the_digits() {
        let mut pad = PasswordPad::new(Millis(0), IDLE);
        typed(&mut pad, &[8, 6, 4, 2]);
        let shown = format!("{pad:?}");
        assert!(!shown.contains("8642") && !shown.contains("56, 54"), "{shown}");
        let Some(password) = submit(&mut pad) else { panic!("sent") };
        assert_eq!(format!("{password:?}"), "Password(****)");
        assert_eq!(password.len(), 4);
    }
}
