//! The PIN pad: the three-strike rule of the JPKI user-authentication PIN, as a state
//! machine.
//!
//! Rules:
//! - the remaining tries are queried (an empty VERIFY, which spends nothing) before every
//!   VERIFY, and after every wrong PIN;
//! - 0 tries, or a blocked answer: [`PinStage::Locked`]; no VERIFY is ever sent and staff
//!   are called;
//! - 1 try: [`PinStage::LastTryWarning`], which the patron must acknowledge before the
//!   keypad works;
//! - the pad submits only when the patron presses Submit with exactly four digits, and
//!   never resubmits: a wrong PIN clears the entry and waits for the patron again;
//! - the digits live in one fixed-capacity buffer that is zeroized on every exit path
//!   (submit, clear, idle timeout, cancel, drop).

use core::time::Duration;

use zeroize::Zeroize;

use super::{Millis, Pin, SecretDigits};

/// Digits in the JPKI user-authentication PIN.
pub const PIN_LEN: usize = 4;

/// A key on the PIN pad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinKey {
    /// A digit key, 0–9. Other values are ignored.
    Digit(u8),
    /// Erase everything typed.
    Clear,
    /// Erase the last digit.
    Backspace,
    /// Send the PIN to the card.
    Submit,
    /// "I understand: if this PIN is wrong my card will be locked."
    AcknowledgeLastTry,
}

/// What the pad is told: the patron's keys and the card's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinPadEvent {
    Key(PinKey),
    /// Answer to the tries query (`63 Cx`).
    TriesLeft(u8),
    /// The card accepted the PIN (`90 00`).
    Verified,
    /// The card refused the PIN (`63 Cx`, x ≥ 1 after the decrement).
    WrongPin {
        tries_left: u8,
    },
    /// The PIN is blocked (`63 C0` on the exhausting try, `69 84` afterwards).
    Blocked,
}

/// What the pad asks the card driver to do.
#[derive(Debug, PartialEq, Eq)]
pub enum PinPadEffect {
    /// Ask the card how many tries remain, without spending one.
    QueryTries,
    /// Send VERIFY with this PIN. The PIN is moved out; the pad keeps no copy.
    Verify(Pin),
    /// The card is locked: call staff.
    CardLocked,
}

/// Where the pad is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinStage {
    /// Waiting for the card's answer to the tries query.
    CheckingTries,
    /// One try left: the warning must be acknowledged first.
    LastTryWarning,
    /// The keypad is live.
    Entering,
    /// The PIN was sent; waiting for the card.
    Verifying,
    /// The card accepted the PIN.
    Verified,
    /// The PIN is blocked; only the municipal office can reset it.
    Locked,
}

/// What the screen needs to draw the pad. Never contains a digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PinView {
    pub stage: PinStage,
    /// How many digits are typed (drawn as dots).
    pub entered: usize,
    /// Remaining tries, once the card has said.
    pub tries_left: Option<u8>,
    /// The previous attempt was wrong.
    pub last_attempt_wrong: bool,
    /// Submit would be accepted now.
    pub can_submit: bool,
}

/// The PIN pad state machine. Create it with [`PinPad::start`], which also returns the
/// first effect (the tries query).
#[derive(Debug)]
pub struct PinPad {
    stage: PinStage,
    digits: Digits,
    tries_left: Option<u8>,
    last_attempt_wrong: bool,
    /// The card has answered a tries query since the last VERIFY (or since start).
    tries_fresh: bool,
    idle_timeout: Duration,
    last_key: Millis,
}

impl PinPad {
    /// A new pad. The entry clears itself after `idle_timeout` without a key press.
    #[must_use]
    pub fn start(now: Millis, idle_timeout: Duration) -> (PinPad, PinPadEffect) {
        let pad = PinPad {
            stage: PinStage::CheckingTries,
            digits: Digits::default(),
            tries_left: None,
            last_attempt_wrong: false,
            tries_fresh: false,
            idle_timeout,
            last_key: now,
        };
        (pad, PinPadEffect::QueryTries)
    }

    #[must_use]
    pub fn stage(&self) -> PinStage {
        self.stage
    }

    #[must_use]
    pub fn view(&self) -> PinView {
        PinView {
            stage: self.stage,
            entered: self.digits.len(),
            tries_left: self.tries_left,
            last_attempt_wrong: self.last_attempt_wrong,
            can_submit: self.stage == PinStage::Entering && self.digits.len() == PIN_LEN,
        }
    }

    /// Feeds one event; returns at most one effect.
    pub fn on(&mut self, now: Millis, event: PinPadEvent) -> Option<PinPadEffect> {
        match event {
            PinPadEvent::Key(key) => self.on_key(now, key),
            PinPadEvent::TriesLeft(n) => self.on_tries(n),
            PinPadEvent::Verified => {
                (self.stage == PinStage::Verifying).then(|| self.stage = PinStage::Verified);
                None
            }
            PinPadEvent::WrongPin { tries_left: 0 } | PinPadEvent::Blocked => {
                // A blocked answer is believed in any stage: it can only make us safer.
                self.lock()
            }
            PinPadEvent::WrongPin { tries_left } => {
                if self.stage != PinStage::Verifying {
                    return None;
                }
                self.last_attempt_wrong = true;
                self.tries_left = Some(tries_left);
                // Ask again rather than trusting our own arithmetic: the next VERIFY is
                // always preceded by the card's own count.
                self.stage = PinStage::CheckingTries;
                Some(PinPadEffect::QueryTries)
            }
        }
    }

    /// Clears the entry if no key was pressed for the idle timeout.
    pub fn on_tick(&mut self, now: Millis) {
        self.digits.wipe_if_idle(now, self.last_key, self.idle_timeout);
    }

    /// When [`PinPad::on_tick`] next has something to do.
    #[must_use]
    pub fn deadline(&self) -> Option<Millis> {
        self.digits.idle_deadline(self.last_key, self.idle_timeout)
    }

    /// Wipes the typed digits (the session is ending).
    pub fn wipe(&mut self) {
        self.digits.wipe();
    }

    fn lock(&mut self) -> Option<PinPadEffect> {
        self.digits.wipe();
        if self.stage == PinStage::Locked {
            return None;
        }
        self.stage = PinStage::Locked;
        self.tries_left = Some(0);
        Some(PinPadEffect::CardLocked)
    }

    fn on_tries(&mut self, n: u8) -> Option<PinPadEffect> {
        if self.stage != PinStage::CheckingTries {
            return None;
        }
        self.tries_left = Some(n);
        match n {
            0 => self.lock(),
            1 => {
                self.tries_fresh = true;
                self.stage = PinStage::LastTryWarning;
                None
            }
            _ => {
                self.tries_fresh = true;
                self.stage = PinStage::Entering;
                None
            }
        }
    }

    fn on_key(&mut self, now: Millis, key: PinKey) -> Option<PinPadEffect> {
        self.last_key = now;
        match (self.stage, key) {
            (PinStage::LastTryWarning, PinKey::AcknowledgeLastTry) => {
                self.stage = PinStage::Entering;
                None
            }
            (PinStage::Entering, PinKey::Digit(d)) if d <= 9 => {
                self.digits.push(b'0' + d);
                None
            }
            (PinStage::Entering, PinKey::Backspace) => {
                self.digits.pop();
                None
            }
            (PinStage::Entering, PinKey::Clear) => {
                self.digits.wipe();
                None
            }
            (PinStage::Entering, PinKey::Submit) => self.submit(),
            _ => None,
        }
    }

    fn submit(&mut self) -> Option<PinPadEffect> {
        // Both guards are already implied by the stage; they are checked again here
        // because this is the one place a PIN leaves the pad.
        if !self.tries_fresh || self.tries_left.unwrap_or(0) == 0 {
            return None;
        }
        let pin = take_pin(&mut self.digits)?;
        self.tries_fresh = false;
        self.stage = PinStage::Verifying;
        Some(PinPadEffect::Verify(pin))
    }
}

/// The typed digits of the card PIN.
type Digits = SecretDigits<PIN_LEN>;

/// Moves exactly four typed digits out into a [`Pin`] and wipes the buffer; `None` (and
/// nothing wiped) unless exactly four digits are typed.
fn take_pin(digits: &mut Digits) -> Option<Pin> {
    if digits.len() != PIN_LEN {
        return None;
    }
    let mut ascii = [0u8; PIN_LEN];
    ascii.copy_from_slice(digits.as_ascii());
    digits.wipe();
    let pin = Pin::from_ascii(ascii);
    ascii.zeroize();
    pin
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_secs(30);

    fn pad_with(tries: u8) -> PinPad {
        let (mut pad, first) = PinPad::start(Millis(0), IDLE);
        assert_eq!(first, PinPadEffect::QueryTries);
        pad.on(Millis(1), PinPadEvent::TriesLeft(tries));
        pad
    }

    fn type_pin(pad: &mut PinPad, digits: &[u8]) {
        for &d in digits {
            assert_eq!(pad.on(Millis(2), PinPadEvent::Key(PinKey::Digit(d))), None);
        }
    }

    fn submit(pad: &mut PinPad) -> Option<PinPadEffect> {
        pad.on(Millis(3), PinPadEvent::Key(PinKey::Submit))
    }

    #[test]
    fn keypad_is_dead_until_the_card_reports_tries() {
        let (mut pad, _) = PinPad::start(Millis(0), IDLE);
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert_eq!(pad.view().entered, 0);
        assert_eq!(submit(&mut pad), None);
        assert_eq!(pad.stage(), PinStage::CheckingTries);
    }

    #[test]
    fn four_digits_then_submit_sends_verify_once() {
        let mut pad = pad_with(3);
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert!(pad.view().can_submit);
        let Some(PinPadEffect::Verify(pin)) = submit(&mut pad) else { panic!("expected VERIFY") };
        assert_eq!(pin.as_ascii(), b"1234");
        assert_eq!(pad.view().entered, 0, "digits wiped when the PIN leaves");
        assert_eq!(submit(&mut pad), None, "never resubmits");
        pad.on(Millis(4), PinPadEvent::Verified);
        assert_eq!(pad.stage(), PinStage::Verified);
    }

    #[test]
    fn fewer_than_four_digits_is_not_submitted_and_fifth_is_ignored() {
        let mut pad = pad_with(3);
        type_pin(&mut pad, &[1, 2, 3]);
        assert!(!pad.view().can_submit);
        assert_eq!(submit(&mut pad), None);
        type_pin(&mut pad, &[4, 5]);
        let Some(PinPadEffect::Verify(pin)) = submit(&mut pad) else { panic!("expected VERIFY") };
        assert_eq!(pin.as_ascii(), b"1234");
    }

    #[test]
    fn clear_backspace_and_bad_digit() {
        let mut pad = pad_with(3);
        type_pin(&mut pad, &[1, 2]);
        pad.on(Millis(2), PinPadEvent::Key(PinKey::Backspace));
        assert_eq!(pad.view().entered, 1);
        pad.on(Millis(2), PinPadEvent::Key(PinKey::Digit(10)));
        assert_eq!(pad.view().entered, 1);
        pad.on(Millis(2), PinPadEvent::Key(PinKey::Clear));
        assert_eq!(pad.view().entered, 0);
        pad.on(Millis(2), PinPadEvent::Key(PinKey::Backspace));
        assert_eq!(pad.view().entered, 0);
    }

    #[test]
    fn zero_tries_locks_without_verify() {
        let (mut pad, _) = PinPad::start(Millis(0), IDLE);
        assert_eq!(pad.on(Millis(1), PinPadEvent::TriesLeft(0)), Some(PinPadEffect::CardLocked));
        assert_eq!(pad.stage(), PinStage::Locked);
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert_eq!(submit(&mut pad), None);
    }

    #[test]
    fn one_try_needs_acknowledgement() {
        let mut pad = pad_with(1);
        assert_eq!(pad.stage(), PinStage::LastTryWarning);
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert_eq!(pad.view().entered, 0, "keypad disabled during the warning");
        assert_eq!(submit(&mut pad), None);
        pad.on(Millis(2), PinPadEvent::Key(PinKey::AcknowledgeLastTry));
        assert_eq!(pad.stage(), PinStage::Entering);
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert!(matches!(submit(&mut pad), Some(PinPadEffect::Verify(_))));
    }

    #[test]
    fn wrong_pin_requeries_before_the_next_verify() {
        let mut pad = pad_with(3);
        type_pin(&mut pad, &[0, 0, 0, 0]);
        submit(&mut pad);
        assert_eq!(
            pad.on(Millis(4), PinPadEvent::WrongPin { tries_left: 2 }),
            Some(PinPadEffect::QueryTries)
        );
        let v = pad.view();
        assert!(v.last_attempt_wrong);
        assert_eq!(v.tries_left, Some(2));
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert_eq!(submit(&mut pad), None, "no VERIFY before the card's count");
        pad.on(Millis(5), PinPadEvent::TriesLeft(2));
        type_pin(&mut pad, &[1, 2, 3, 4]);
        assert!(matches!(submit(&mut pad), Some(PinPadEffect::Verify(_))));
    }

    #[test]
    fn second_wrong_pin_leads_to_last_try_warning() {
        let mut pad = pad_with(2);
        type_pin(&mut pad, &[0, 0, 0, 0]);
        submit(&mut pad);
        pad.on(Millis(4), PinPadEvent::WrongPin { tries_left: 1 });
        pad.on(Millis(5), PinPadEvent::TriesLeft(1));
        assert_eq!(pad.stage(), PinStage::LastTryWarning);
    }

    #[test]
    fn exhausting_try_and_blocked_both_lock() {
        for answer in [PinPadEvent::WrongPin { tries_left: 0 }, PinPadEvent::Blocked] {
            let mut pad = pad_with(1);
            pad.on(Millis(2), PinPadEvent::Key(PinKey::AcknowledgeLastTry));
            type_pin(&mut pad, &[0, 0, 0, 0]);
            submit(&mut pad);
            assert_eq!(pad.on(Millis(4), answer), Some(PinPadEffect::CardLocked));
            assert_eq!(pad.stage(), PinStage::Locked);
            assert_eq!(pad.on(Millis(5), answer), None, "staff called once");
            assert_eq!(pad.on(Millis(5), PinPadEvent::TriesLeft(3)), None);
            assert_eq!(pad.stage(), PinStage::Locked);
        }
    }

    #[test]
    fn answers_out_of_turn_are_ignored() {
        let mut pad = pad_with(3);
        assert_eq!(pad.on(Millis(2), PinPadEvent::Verified), None);
        assert_eq!(pad.on(Millis(2), PinPadEvent::WrongPin { tries_left: 2 }), None);
        assert_eq!(pad.stage(), PinStage::Entering);
        assert_eq!(pad.on(Millis(2), PinPadEvent::TriesLeft(1)), None);
        assert_eq!(pad.stage(), PinStage::Entering);
    }

    #[test]
    fn idle_timeout_clears_the_entry() {
        let mut pad = pad_with(3);
        type_pin(&mut pad, &[1, 2]);
        assert_eq!(pad.deadline(), Some(Millis(30_002)));
        pad.on_tick(Millis(30_001));
        assert_eq!(pad.view().entered, 2);
        pad.on_tick(Millis(30_002));
        assert_eq!(pad.view().entered, 0);
        assert_eq!(pad.deadline(), None);
    }

    #[test]
    fn backspace_then_retype_keeps_the_right_digits() {
        let mut d = Digits::default();
        for b in *b"1234" {
            d.push(b);
        }
        d.pop();
        d.pop();
        d.push(b'0');
        d.push(b'0');
        assert_eq!(d.as_ascii(), b"1200");
        d.wipe();
        assert!(d.is_empty());
    }
}
