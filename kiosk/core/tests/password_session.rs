//! The library-card login policy inside a patron session: a scanned library card asks for
//! the patron's library password (`library_card_login = "barcode+password"`), the library
//! system checks it, and the pad gives the PIN pad's care: never resent, a warning before
//! the last try here, three wrong and the patron is sent to staff.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_core::flow::{
    AccountView, AuditEvent, Effect, Event, LabelRefusal, LampPattern, LibraryCardLogin, Millis, Notice,
    PatronId, PatronRefusal, PatronSession, PinKey, PinStage, Reply, Scan, Screen, SessionPolicy, StaffCall,
    Tap,
};

struct Kiosk {
    flow: PatronSession,
    now: Millis,
}

fn patron() -> PatronId {
    PatronId::new("2300012345678").unwrap()
}

fn with_password() -> SessionPolicy {
    SessionPolicy { library_card_login: LibraryCardLogin::BarcodeAndPassword, ..SessionPolicy::default() }
}

impl Kiosk {
    /// The library card scanned: the password pad is up.
    fn at_the_pad() -> Kiosk {
        let mut k = Kiosk { flow: PatronSession::new(with_password()), now: Millis(0) };
        let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
        assert!(!fx.iter().any(|e| matches!(e, Effect::PatronStatus { .. })), "nothing asked yet: {fx:?}");
        assert!(
            matches!(k.screen(), Screen::Password(v) if v.stage == PinStage::Entering),
            "{:?}",
            k.screen()
        );
        k
    }

    fn on(&mut self, event: Event) -> Vec<Effect> {
        self.now = Millis(self.now.0 + 10);
        self.flow.on(self.now, event)
    }

    fn tap(&mut self, tap: Tap) -> Vec<Effect> {
        self.on(Event::Tap(tap))
    }

    fn wait(&mut self, d: Duration) -> Vec<Effect> {
        self.now = self.now.after(d);
        self.flow.on(self.now, Event::Tick)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        let session = self.flow.session();
        self.on(Event::Reply { session, reply })
    }

    fn screen(&self) -> Screen {
        self.flow.view(self.now).screen
    }

    /// Types `digits` and presses OK; the password the flow sent, if it sent one.
    fn enter(&mut self, digits: &[u8]) -> Option<String> {
        for &d in digits {
            assert!(self.tap(Tap::Pin(PinKey::Digit(d))).is_empty());
        }
        self.tap(Tap::Pin(PinKey::Submit)).into_iter().find_map(|e| match e {
            Effect::PatronStatus { patron: p, password: Some(password), pin_verified: false, .. } => {
                assert_eq!(p, patron());
                Some(password.as_str().to_owned())
            }
            _ => None,
        })
    }

    fn pad(&self) -> kiosk_core::flow::PinView {
        match self.screen() {
            Screen::Password(v) => v,
            other => panic!("not the password pad: {other:?}"),
        }
    }
}

#[test]
fn the_password_is_asked_and_checked_by_the_library_system() {
    let mut k = Kiosk::at_the_pad();
    assert!(!k.pad().can_submit, "OK waits for a digit");
    assert_eq!(k.enter(&[5, 6, 7, 8]).as_deref(), Some("5678"));
    assert_eq!(k.pad().stage, PinStage::Verifying);
    assert_eq!(k.pad().entered, 0, "the pad keeps no copy");
    k.reply(Reply::Standing(Ok(())));
    let Screen::Borrowing { can_open_account, .. } = k.screen() else { panic!("{:?}", k.screen()) };
    assert!(can_open_account, "a patron who gave the password may see their account");
    let fx = k.tap(Tap::Account);
    assert!(fx.iter().any(|e| matches!(e, Effect::Account { .. })), "{fx:?}");
    assert_eq!(k.screen(), Screen::Account(AccountView::Loading));
}

#[test]
fn the_barcode_alone_borrows_but_never_opens_the_account() {
    let mut k = Kiosk { flow: PatronSession::new(SessionPolicy::default()), now: Millis(0) };
    let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(fx.iter().any(|e| matches!(e, Effect::PatronStatus { password: None, .. })), "{fx:?}");
    k.reply(Reply::Standing(Ok(())));
    let Screen::Borrowing { can_open_account, .. } = k.screen() else { panic!("{:?}", k.screen()) };
    assert!(!can_open_account);
    assert!(!k.tap(Tap::Account).iter().any(|e| matches!(e, Effect::Account { .. })));
}

#[test]
fn wrong_twice_then_right_with_a_warning_before_the_last_try() {
    let mut k = Kiosk::at_the_pad();
    assert!(k.enter(&[1, 1, 1, 1]).is_some());
    let fx = k.reply(Reply::Standing(Err(PatronRefusal::WrongPassword)));
    assert!(fx.contains(&Effect::Audit(AuditEvent::PasswordRejected { tries_left: 2 })), "{fx:?}");
    let v = k.pad();
    assert_eq!(
        (v.stage, v.tries_left, v.last_attempt_wrong, v.entered),
        (PinStage::Entering, Some(2), true, 0)
    );
    // The kiosk waits for the patron: nothing is resent by itself.
    assert!(k.wait(Duration::from_secs(5)).iter().all(|e| !matches!(e, Effect::PatronStatus { .. })));
    assert!(k.enter(&[2, 2, 2, 2]).is_some());
    k.reply(Reply::Standing(Err(PatronRefusal::WrongPassword)));
    assert_eq!(k.pad().stage, PinStage::LastTryWarning);
    assert!(k.enter(&[5, 6, 7, 8]).is_none(), "the keypad waits for the warning's OK");
    k.tap(Tap::Pin(PinKey::AcknowledgeLastTry));
    assert_eq!(k.enter(&[5, 6, 7, 8]).as_deref(), Some("5678"));
    k.reply(Reply::Standing(Ok(())));
    assert!(matches!(k.screen(), Screen::Borrowing { .. }), "{:?}", k.screen());
}

#[test]
fn three_wrong_passwords_send_the_patron_to_staff() {
    let mut k = Kiosk::at_the_pad();
    for (n, tries_left) in [(1u8, 2u8), (2, 1), (3, 0)] {
        if k.pad().stage == PinStage::LastTryWarning {
            k.tap(Tap::Pin(PinKey::AcknowledgeLastTry));
        }
        assert!(k.enter(&[n; 4]).is_some(), "try {n}");
        let fx = k.reply(Reply::Standing(Err(PatronRefusal::WrongPassword)));
        assert!(fx.contains(&Effect::Audit(AuditEvent::PasswordRejected { tries_left })), "{fx:?}");
    }
    let Screen::Ending { notice, .. } = k.screen() else { panic!("{:?}", k.screen()) };
    assert_eq!(notice, Notice::PasswordRefused);
    assert!(!k.flow.holds_password_pad());
    assert_eq!(k.flow.view(k.now).staff_called, Some(StaffCall::PasswordRefused));
    k.wait(Duration::from_secs(11));
    assert_eq!(k.screen(), Screen::Idle);
    // The same card again: refused at once, no pad, nothing sent, until staff reset.
    let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(!fx.iter().any(|e| matches!(e, Effect::PatronStatus { .. })), "{fx:?}");
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::PasswordRefused, .. }), "{:?}", k.screen());
    k.wait(Duration::from_secs(11));
    // Another patron's card still gets the pad.
    let other = PatronId::new("2300000000017").unwrap();
    k.on(Event::Scanned(Scan::LibraryCard(other)));
    assert!(k.flow.holds_password_pad());
    k.tap(Tap::Cancel);
    k.wait(Duration::from_secs(11));
    // Staff reset the kiosk: the card may try again.
    let fx = k.on(Event::Reset);
    assert!(fx.contains(&Effect::Lamp(LampPattern::Off)), "{fx:?}");
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(k.flow.holds_password_pad());
}

#[test]
fn three_wrong_passwords_call_staff() {
    let mut k = Kiosk::at_the_pad();
    let mut calls = Vec::new();
    for n in 1u8..=3 {
        if k.pad().stage == PinStage::LastTryWarning {
            k.tap(Tap::Pin(PinKey::AcknowledgeLastTry));
        }
        k.enter(&[n; 4]);
        calls.extend(k.reply(Reply::Standing(Err(PatronRefusal::WrongPassword))));
    }
    assert!(calls.contains(&Effect::Lamp(LampPattern::Blink)), "{calls:?}");
    assert!(calls.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::PasswordRefused))), "{calls:?}");
}

#[test]
fn a_my_number_card_put_down_at_the_password_pad_takes_over() {
    let mut k = Kiosk::at_the_pad();
    let first = k.flow.session();
    k.tap(Tap::Pin(PinKey::Digit(1)));
    let fx = k.on(Event::CardInserted);
    assert!(fx.contains(&Effect::EndSession { session: first }), "{fx:?}");
    assert!(fx.iter().any(|e| matches!(e, Effect::ReadCertificate { .. })), "{fx:?}");
    assert!(!k.flow.holds_password_pad(), "its digits are gone");
    assert_eq!(k.screen(), Screen::ReadingCard);
    assert_ne!(k.flow.session(), first);
    // While the password is being checked, the card waits (seconds) as it does elsewhere.
    let mut k = Kiosk::at_the_pad();
    k.enter(&[5, 6, 7, 8]);
    assert!(k.on(Event::CardInserted).is_empty());
    assert_eq!(k.pad().stage, PinStage::Verifying);
}

#[test]
fn a_blocked_patron_with_the_right_password_sees_the_account_and_why() {
    let mut k = Kiosk::at_the_pad();
    k.enter(&[5, 6, 7, 8]);
    let fx = k.reply(Reply::Standing(Err(PatronRefusal::Blocked(Some("延滞資料があります".into())))));
    assert!(fx.iter().any(|e| matches!(e, Effect::Account { .. })), "{fx:?}");
    assert_eq!(k.screen(), Screen::Account(AccountView::Loading));
}

#[test]
fn the_other_answers_end_as_after_a_barcode() {
    for (answer, notice) in [
        (PatronRefusal::Unknown, Notice::PatronRefused(PatronRefusal::Unknown)),
        (
            PatronRefusal::LibrarySystemUnavailable,
            Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable),
        ),
    ] {
        let mut k = Kiosk::at_the_pad();
        k.enter(&[5, 6, 7, 8]);
        k.reply(Reply::Standing(Err(answer)));
        let Screen::Ending { notice: shown, .. } = k.screen() else { panic!("{:?}", k.screen()) };
        assert_eq!(shown, notice);
    }
}

#[test]
fn cancel_idle_and_a_silent_library_system() {
    // Cancel: the pad and its digits go.
    let mut k = Kiosk::at_the_pad();
    k.tap(Tap::Pin(PinKey::Digit(5)));
    k.tap(Tap::Cancel);
    assert!(!k.flow.holds_password_pad());
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::Cancelled, .. }));

    // Digits typed and left: cleared after the pad's idle time, then the session's warning.
    let mut k = Kiosk::at_the_pad();
    k.tap(Tap::Pin(PinKey::Digit(5)));
    k.wait(SessionPolicy::default().pin_idle_timeout);
    assert_eq!(k.pad().entered, 0);
    k.wait(Duration::from_secs(60));
    assert!(k.flow.view(k.now).timeout_warning.is_some());
    k.wait(Duration::from_secs(15));
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::TimedOut, .. }), "{:?}", k.screen());

    // No answer to the password: staff are called, as for any silent driver.
    let mut k = Kiosk::at_the_pad();
    k.wait(Duration::from_secs(40));
    k.enter(&[5, 6, 7, 8]);
    k.wait(Duration::from_secs(44));
    assert_eq!(k.pad().stage, PinStage::Verifying, "the driver timeout counts from OK");
    k.wait(Duration::from_secs(1));
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::Malfunction, .. }), "{:?}", k.screen());
}

#[test]
fn a_label_token_logs_in_without_the_password_but_its_linear_barcode_does_not() {
    // The label's signed token (printed after the card and its PIN, once, today).
    let mut k = Kiosk { flow: PatronSession::new(with_password()), now: Millis(0) };
    let fx = k.on(Event::Scanned(Scan::MethodDLabel(Ok(patron()))));
    assert!(fx.iter().any(|e| matches!(e, Effect::PatronStatus { password: None, .. })), "{fx:?}");
    // Its NW-7 barcode is the patron number: the scanner reads it as a library card
    // (it cannot be told from one), and the password is asked.
    let mut k = Kiosk::at_the_pad();
    assert!(k.flow.holds_password_pad());
    // A refused label is refused as before.
    let fx = k.tap(Tap::Cancel);
    assert!(!fx.is_empty());
    k.wait(Duration::from_secs(11));
    k.on(Event::Scanned(Scan::MethodDLabel(Err(LabelRefusal::AlreadyUsed))));
    assert!(matches!(
        k.screen(),
        Screen::Ending { notice: Notice::LabelRefused(LabelRefusal::AlreadyUsed), .. }
    ));
}

#[test]
fn a_library_card_is_refused_where_the_library_turned_it_off() {
    let policy = SessionPolicy { library_card_login: LibraryCardLogin::Off, ..SessionPolicy::default() };
    let mut k = Kiosk { flow: PatronSession::new(policy), now: Millis(0) };
    assert!(!k.flow.view(k.now).library_card_login, "the idle screen does not invite a scan");
    assert!(Kiosk::at_the_pad().flow.view(Millis(0)).library_card_login);
    let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(!fx.iter().any(|e| matches!(e, Effect::PatronStatus { .. })), "{fx:?}");
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::LibraryCardNotAccepted, .. }));
    k.wait(Duration::from_secs(11));
    assert_eq!(k.screen(), Screen::Idle);
}
