//! The patron session's rules, one scenario each, through the public API.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_core::flow::{
    AuditEvent, BuzzerPattern, CardFault, CheckStage, Effect, Event, ItemId, ItemRefusal, LabelRefusal,
    LampPattern, LibraryCardLogin, Loan, LoanLine, Millis, Notice, PatronId, PatronRefusal, PatronSession,
    PinKey, PinStage, PrintFault, PrintJob, ProofFailure, Refusal, Reply, Scan, Screen, SessionPolicy,
    StaffCall, Tap, Verdict,
};

struct Kiosk {
    flow: PatronSession,
    now: Millis,
}

fn patron() -> PatronId {
    PatronId::new("2300012345678").unwrap()
}

fn item(n: u8) -> ItemId {
    ItemId(format!("97841010100{n:02}"))
}

impl Kiosk {
    fn new(policy: SessionPolicy) -> Kiosk {
        Kiosk { flow: PatronSession::new(policy), now: Millis(0) }
    }

    fn on(&mut self, event: Event) -> Vec<Effect> {
        self.now = Millis(self.now.0 + 10);
        self.flow.on(self.now, event)
    }

    fn wait(&mut self, d: Duration) -> Vec<Effect> {
        self.now = self.now.after(d);
        self.flow.on(self.now, Event::Tick)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        let session = self.flow.session();
        self.on(Event::Reply { session, reply })
    }

    fn keys(&mut self, digits: &[u8]) -> Vec<Effect> {
        let mut fx = Vec::new();
        for &d in digits {
            fx.extend(self.on(Event::Tap(Tap::Pin(PinKey::Digit(d)))));
        }
        fx.extend(self.on(Event::Tap(Tap::Pin(PinKey::Submit))));
        fx
    }

    fn screen(&self) -> Screen {
        self.flow.view(self.now).screen
    }

    /// Card on, certificate read, tries answered.
    fn at_pin_pad(policy: SessionPolicy, tries: u8) -> Kiosk {
        let mut k = Kiosk::new(policy);
        let fx = k.on(Event::CardInserted);
        assert!(fx.iter().any(|e| matches!(e, Effect::ReadCertificate { .. })), "{fx:?}");
        let fx = k.reply(Reply::Certificate(Ok(())));
        assert!(fx.iter().any(|e| matches!(e, Effect::QueryPinTries { .. })), "{fx:?}");
        k.reply(Reply::PinTries(tries));
        k
    }

    /// All the way to the borrowing screen with a verified card.
    fn borrowing(policy: SessionPolicy) -> Kiosk {
        let mut k = Kiosk::at_pin_pad(policy, 3);
        let fx = k.keys(&[1, 2, 3, 4]);
        assert!(fx.iter().any(|e| matches!(e, Effect::VerifyPin { .. })), "{fx:?}");
        let fx = k.reply(Reply::PinVerified);
        assert!(fx.iter().any(|e| matches!(e, Effect::ProvePossession { .. })), "{fx:?}");
        let fx = k.reply(Reply::Proof(Ok(())));
        assert!(fx.iter().any(|e| matches!(e, Effect::CheckValidity { .. })), "{fx:?}");
        let fx = k.reply(Reply::Validity(Verdict::Good { patron: None }));
        assert!(fx.iter().any(|e| matches!(e, Effect::ResolvePatron { .. })), "{fx:?}");
        let fx = k.reply(Reply::Patron(Ok(patron())));
        assert!(
            fx.iter().any(|e| matches!(e, Effect::PatronStatus { pin_verified: true, .. })),
            "PIN-verified patron status: {fx:?}"
        );
        k.reply(Reply::Standing(Ok(())));
        assert!(matches!(k.screen(), Screen::Borrowing { .. }));
        k
    }

    fn borrow(&mut self, n: u8) {
        let fx = self.on(Event::Scanned(Scan::Item(item(n))));
        assert!(fx.iter().any(|e| matches!(e, Effect::Checkout { .. })), "{fx:?}");
        self.reply(Reply::Checkout {
            item: item(n),
            result: Ok(Loan {
                item: item(n),
                title: format!("本 {n}"),
                due: "2026-12-07".into(),
                renewed: false,
                desensitize: Some(true),
                security: kiosk_core::flow::Security::Unchanged,
            }),
        });
    }
}

fn ending_notice(k: &Kiosk) -> Notice {
    match k.screen() {
        Screen::Ending { notice, .. } => notice,
        other => panic!("expected an ending screen, got {other:?}"),
    }
}

#[test]
fn happy_path_three_books_receipt_take_card() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    for n in 1..=3 {
        k.borrow(n);
    }
    let Screen::Borrowing { lines, waiting: 0, .. } = k.screen() else { panic!() };
    assert_eq!(lines.len(), 3);
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(k.screen(), Screen::ReceiptChoice);
    let fx = k.on(Event::Tap(Tap::PrintReceipt));
    let Some(Effect::Print { job: PrintJob::Receipt { loans, .. }, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(loans.len(), 3);
    let fx = k.reply(Reply::Printed(Ok(())));
    assert!(fx.contains(&Effect::PowerOffCard), "card powered off at the end: {fx:?}");
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Reminder)));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Audit(AuditEvent::SessionEnded(t)) if t.lent == 3 && t.not_done == 0)
        ),
        "{fx:?}"
    );
    assert_eq!(k.screen(), Screen::Ending { notice: Notice::ReceiptPrinted, card_present: true });
    let fx = k.on(Event::CardRemoved);
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Off)));
    assert!(k.flow.is_idle());
}

#[test]
fn without_require_pin_no_pin_is_asked() {
    let policy = SessionPolicy { require_pin: false, ..SessionPolicy::default() };
    let mut k = Kiosk::new(policy);
    k.on(Event::CardInserted);
    let fx = k.reply(Reply::Certificate(Ok(())));
    assert!(matches!(fx.as_slice(), [Effect::CheckValidity { .. }]), "{fx:?}");
    let fx = k.reply(Reply::Validity(Verdict::Good { patron: Some(patron()) }));
    assert!(fx.iter().any(|e| matches!(e, Effect::PatronStatus { pin_verified: false, .. })), "{fx:?}");
}

#[test]
fn locked_card_calls_staff_and_sends_nothing_to_the_card() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 0);
    assert_eq!(ending_notice(&k), Notice::CardLocked);
    assert_eq!(k.flow.view(k.now).staff_called, Some(StaffCall::CardLocked));
    let fx = k.keys(&[1, 2, 3, 4]);
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn last_try_warning_then_wrong_pin_locks() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 1);
    let Screen::Pin(pad) = k.screen() else { panic!() };
    assert_eq!(pad.stage, PinStage::LastTryWarning);
    assert!(k.keys(&[1, 2, 3, 4]).is_empty(), "no VERIFY before the warning is acknowledged");
    k.on(Event::Tap(Tap::Pin(PinKey::AcknowledgeLastTry)));
    let fx = k.keys(&[0, 0, 0, 0]);
    assert!(fx.iter().any(|e| matches!(e, Effect::VerifyPin { .. })));
    let fx = k.reply(Reply::WrongPin { tries_left: 0 });
    assert!(fx.contains(&Effect::Audit(AuditEvent::CardLocked)));
    assert!(fx.contains(&Effect::Lamp(LampPattern::Blink)));
    assert_eq!(ending_notice(&k), Notice::CardLocked);
}

#[test]
fn wrong_pin_shows_tries_and_asks_the_card_again() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
    k.keys(&[9, 9, 9, 9]);
    let fx = k.reply(Reply::WrongPin { tries_left: 2 });
    assert!(fx.contains(&Effect::Audit(AuditEvent::PinRejected { tries_left: 2 })));
    assert!(fx.iter().any(|e| matches!(e, Effect::QueryPinTries { .. })));
    let Screen::Pin(pad) = k.screen() else { panic!() };
    assert!(pad.last_attempt_wrong);
    assert_eq!(pad.tries_left, Some(2));
}

#[test]
fn patron_can_cancel_at_the_pin_pad() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
    let fx = k.on(Event::Tap(Tap::Cancel));
    assert!(fx.contains(&Effect::PowerOffCard));
    assert_eq!(ending_notice(&k), Notice::Cancelled);
}

#[test]
fn each_bad_verdict_has_its_notice() {
    for (verdict, notice) in [
        (Verdict::Revoked, Notice::Revoked),
        (Verdict::Expired, Notice::Expired),
        (Verdict::NotLinked, Notice::NotLinked),
        (Verdict::Unavailable, Notice::PlatformUnavailable),
    ] {
        let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
        k.keys(&[1, 2, 3, 4]);
        k.reply(Reply::PinVerified);
        k.reply(Reply::Proof(Ok(())));
        assert_eq!(k.screen(), Screen::Checking { stage: CheckStage::Validity, since: k.now });
        k.reply(Reply::Validity(verdict));
        assert_eq!(ending_notice(&k), notice);
    }
}

#[test]
fn an_unchecked_card_is_never_lent_to() {
    // Whatever the offline policy, the flow refuses on Unavailable: a grace period lives in
    // the platform driver, which answers Good from its cache until nextUpdate, never longer.
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
    k.keys(&[1, 2, 3, 4]);
    k.reply(Reply::PinVerified);
    k.reply(Reply::Proof(Ok(())));
    let fx = k.reply(Reply::Validity(Verdict::Unavailable));
    assert!(!fx.iter().any(|e| matches!(e, Effect::ResolvePatron { .. } | Effect::PatronStatus { .. })));
    assert_eq!(ending_notice(&k), Notice::PlatformUnavailable);
}

#[test]
fn forged_card_is_refused() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
    k.keys(&[1, 2, 3, 4]);
    k.reply(Reply::PinVerified);
    k.reply(Reply::Proof(Err(ProofFailure::BadSignature)));
    assert_eq!(ending_notice(&k), Notice::ProofFailed(ProofFailure::BadSignature));
}

#[test]
fn unreadable_card_and_reader_failure() {
    let mut k = Kiosk::new(SessionPolicy::default());
    k.on(Event::CardInserted);
    k.reply(Reply::Certificate(Err(CardFault::NotMyNumberCard)));
    assert_eq!(ending_notice(&k), Notice::CardProblem(CardFault::NotMyNumberCard));
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
    k.reply(Reply::CardError(CardFault::ReaderFailed));
    assert_eq!(ending_notice(&k), Notice::CardProblem(CardFault::ReaderFailed));
}

#[test]
fn blocked_patron_is_told_to_see_staff() {
    // Without the account screen (with it, the account says why: account_session.rs).
    let mut k = Kiosk::new(SessionPolicy { account: false, ..SessionPolicy::default() });
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    k.reply(Reply::Standing(Err(PatronRefusal::Blocked(Some("延滞資料があります".into())))));
    assert_eq!(
        ending_notice(&k),
        Notice::PatronRefused(PatronRefusal::Blocked(Some("延滞資料があります".into())))
    );
    // A notice with no card to take goes away by itself.
    k.wait(Duration::from_secs(10));
    assert!(k.flow.is_idle());
}

#[test]
fn removing_the_card_mid_borrowing_ends_the_session() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.borrow(1);
    k.on(Event::Scanned(Scan::Item(item(2))));
    let session = k.flow.session();
    let fx = k.on(Event::CardRemoved);
    assert!(fx.contains(&Effect::EndSession { session }), "{fx:?}");
    assert!(fx.contains(&Effect::PowerOffCard));
    assert!(fx.contains(&Effect::Audit(AuditEvent::CardRemovedEarly)));
    assert!(k.flow.is_idle());
    // The late answer for item 2 belongs to the old session and is dropped.
    let late = k.on(Event::Reply {
        session,
        reply: Reply::Checkout { item: item(2), result: Err(ItemRefusal::NoAnswer.into()) },
    });
    assert!(late.is_empty());
}

#[test]
fn duplicate_scans_are_ignored_and_refusals_listed() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.borrow(1);
    assert!(k.on(Event::Scanned(Scan::Item(item(1)))).is_empty(), "already borrowed");
    k.on(Event::Scanned(Scan::Item(item(2))));
    k.on(Event::Scanned(Scan::Item(item(3))));
    assert!(k.on(Event::Scanned(Scan::Item(item(3)))).is_empty(), "already queued");
    let fx = k.reply(Reply::Checkout {
        item: item(2),
        result: Err(ItemRefusal::Refused(Some("予約".into())).into()),
    });
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Checkout { item: i, .. } if *i == item(3))),
        "queue moves on"
    );
    let Screen::Borrowing { lines, waiting, .. } = k.screen() else { panic!() };
    assert_eq!(waiting, 1);
    assert!(matches!(&lines[1], LoanLine::Refused { .. }));
}

#[test]
fn finish_waits_for_checkouts_in_flight() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.on(Event::Scanned(Scan::Item(item(1))));
    k.on(Event::Tap(Tap::Finish));
    assert!(matches!(k.screen(), Screen::Borrowing { finishing: true, .. }));
    assert!(k.on(Event::Scanned(Scan::Item(item(2)))).is_empty(), "no new scans while finishing");
    k.reply(Reply::Checkout {
        item: item(1),
        result: Ok(Loan {
            item: item(1),
            title: "t".into(),
            due: "d".into(),
            renewed: false,
            desensitize: None,
            security: kiosk_core::flow::Security::Unchanged,
        }),
    });
    assert_eq!(k.screen(), Screen::ReceiptChoice);
}

#[test]
fn silent_library_system_marks_the_item_and_moves_on() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::borrowing(policy.clone());
    k.on(Event::Scanned(Scan::Item(item(1))));
    k.wait(policy.driver_timeout);
    let Screen::Borrowing { lines, waiting: 0, .. } = k.screen() else { panic!() };
    assert_eq!(lines, vec![LoanLine::Refused { item: item(1), refusal: ItemRefusal::NoAnswer.into() }]);
}

#[test]
fn idle_patron_is_warned_then_the_session_ends() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::at_pin_pad(policy.clone(), 3);
    let fx = k.wait(policy.idle_timeout);
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Beep)));
    assert_eq!(k.flow.view(k.now).timeout_warning, Some(15));
    k.on(Event::Tap(Tap::StillHere));
    assert_eq!(k.flow.view(k.now).timeout_warning, None);
    k.wait(policy.idle_timeout);
    k.wait(policy.warning);
    assert_eq!(ending_notice(&k), Notice::TimedOut);
}

#[test]
fn half_typed_pin_is_cleared_without_a_session_warning() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::at_pin_pad(policy.clone(), 3);
    k.on(Event::Tap(Tap::Pin(PinKey::Digit(1))));
    k.wait(policy.pin_idle_timeout);
    let view = k.flow.view(k.now);
    let Screen::Pin(pad) = view.screen else { panic!() };
    assert_eq!(pad.entered, 0);
    assert_eq!(view.timeout_warning, None);
}

#[test]
fn timeout_with_loans_offers_the_receipt_then_ends() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::borrowing(policy.clone());
    k.borrow(1);
    k.wait(policy.idle_timeout);
    k.wait(policy.warning);
    assert_eq!(k.screen(), Screen::ReceiptChoice);
    k.wait(policy.idle_timeout);
    k.wait(policy.warning);
    assert_eq!(ending_notice(&k), Notice::TimedOut);
}

#[test]
fn card_left_behind_calls_staff_until_taken() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::borrowing(policy.clone());
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(ending_notice(&k), Notice::Goodbye);
    let fx = k.wait(policy.take_card_alarm);
    assert!(fx.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::CardLeftBehind))));
    assert!(k.wait(policy.take_card_alarm).is_empty(), "called once");
    let fx = k.on(Event::CardRemoved);
    assert!(fx.contains(&Effect::Lamp(LampPattern::Off)));
    assert_eq!(k.flow.view(k.now).staff_called, None);
}

#[test]
fn out_of_paper_disables_receipts_until_staff_load_paper() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.borrow(1);
    k.on(Event::Tap(Tap::Finish));
    k.on(Event::Tap(Tap::PrintReceipt));
    k.reply(Reply::Printed(Err(PrintFault::OutOfPaper)));
    assert_eq!(ending_notice(&k), Notice::PrintFailed(PrintFault::OutOfPaper));
    k.on(Event::CardRemoved);
    assert!(k.flow.view(k.now).paper_out);
    // Next patron: no receipt offered.
    let mut k2 = k;
    k2.on(Event::CardInserted);
    k2.reply(Reply::Certificate(Ok(())));
    k2.reply(Reply::PinTries(3));
    k2.keys(&[1, 2, 3, 4]);
    k2.reply(Reply::PinVerified);
    k2.reply(Reply::Proof(Ok(())));
    k2.reply(Reply::Validity(Verdict::Good { patron: Some(patron()) }));
    k2.reply(Reply::Standing(Ok(())));
    k2.borrow(2);
    k2.on(Event::Tap(Tap::Finish));
    assert_eq!(ending_notice(&k2), Notice::Goodbye);
    let fx = k2.on(Event::PaperRestored);
    assert!(fx.contains(&Effect::Lamp(LampPattern::Off)));
    assert!(!k2.flow.view(k2.now).paper_out);
}

#[test]
fn method_d_label_print_and_login() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    let Screen::Borrowing { can_print_label: true, .. } = k.screen() else { panic!() };
    let fx = k.on(Event::Tap(Tap::PrintLabel));
    assert!(fx.iter().any(|e| matches!(e, Effect::Print { job: PrintJob::MethodDLabel { .. }, .. })));
    k.reply(Reply::Printed(Ok(())));
    assert_eq!(ending_notice(&k), Notice::LabelPrinted);
    k.on(Event::CardRemoved);

    let fx = k.on(Event::Scanned(Scan::MethodDLabel(Ok(patron()))));
    assert!(
        fx.contains(&Effect::Audit(AuditEvent::SessionStarted(kiosk_core::flow::LoginMethod::MethodDLabel)))
    );
    k.reply(Reply::Standing(Ok(())));
    let Screen::Borrowing { can_print_label: false, .. } = k.screen() else {
        panic!("no label from a label")
    };
    k.on(Event::Tap(Tap::Finish));
    k.on(Event::Tap(Tap::Dismiss));
    assert!(k.flow.is_idle());

    k.on(Event::Scanned(Scan::MethodDLabel(Err(LabelRefusal::WrongDay))));
    assert_eq!(ending_notice(&k), Notice::LabelRefused(LabelRefusal::WrongDay));
}

#[test]
fn scanning_an_item_first_asks_to_identify() {
    let mut k = Kiosk::new(SessionPolicy::default());
    assert!(k.on(Event::Scanned(Scan::Item(item(1)))).is_empty());
    assert_eq!(ending_notice(&k), Notice::IdentifyFirst);
}

#[test]
fn library_card_login_can_be_disabled() {
    let policy = SessionPolicy { library_card_login: LibraryCardLogin::Off, ..SessionPolicy::default() };
    let mut k = Kiosk::new(policy);
    let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(!fx.iter().any(|e| matches!(e, Effect::PatronStatus { .. })), "{fx:?}");
    assert_eq!(ending_notice(&k), Notice::LibraryCardNotAccepted, "the patron is told to use the card");
    // The barcode alone (the default) logs in; the account stays closed.
    let mut k = Kiosk::new(SessionPolicy::default());
    let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(fx.iter().any(|e| matches!(e, Effect::PatronStatus { password: None, .. })), "{fx:?}");
}

#[test]
fn out_of_service_ignores_cards_and_lets_a_session_finish() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.on(Event::SetOutOfService(true));
    assert!(matches!(k.screen(), Screen::Borrowing { .. }), "the patron finishes");
    k.on(Event::Tap(Tap::Finish));
    k.on(Event::CardRemoved);
    assert_eq!(k.screen(), Screen::OutOfService);
    assert!(k.on(Event::CardInserted).is_empty());
    k.on(Event::CardRemoved);
    k.on(Event::SetOutOfService(false));
    assert!(k.on(Event::CardInserted).iter().any(|e| matches!(e, Effect::ReadCertificate { .. })));
}

#[test]
fn reset_ends_the_session_and_clears_the_alarm() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 0);
    assert!(k.flow.view(k.now).staff_called.is_some());
    let fx = k.on(Event::Reset);
    assert!(fx.contains(&Effect::Lamp(LampPattern::Off)));
    assert!(fx.contains(&Effect::PowerOffCard));
    assert!(k.flow.is_idle());
    assert_eq!(k.flow.view(k.now).staff_called, None);
}

#[test]
fn silent_driver_is_a_malfunction() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::new(policy.clone());
    k.on(Event::CardInserted);
    let fx = k.wait(policy.driver_timeout);
    assert!(fx.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::Malfunction))));
    assert_eq!(ending_notice(&k), Notice::Malfunction);
}

#[test]
fn deadline_tells_when_to_tick() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::new(policy.clone());
    assert_eq!(k.flow.deadline(), None);
    k.on(Event::CardInserted);
    assert_eq!(k.flow.deadline(), Some(k.now.after(policy.driver_timeout)));
}

#[test]
fn printer_watcher_paper_out_stops_receipts_and_labels() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    let fx = k.on(Event::PaperOut);
    assert!(fx.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::PrinterOutOfPaper))));
    assert!(k.on(Event::PaperOut).is_empty(), "called once");
    let Screen::Borrowing { can_print_label: false, .. } = k.screen() else {
        panic!("no label without paper")
    };
    k.borrow(1);
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(ending_notice(&k), Notice::Goodbye, "no receipt offered without paper");
}

/// A book the patron already had, scanned again, comes back renewed from the library
/// system: it is listed with its new due date and printed on the receipt, but it is not
/// counted as a new loan.
#[test]
fn a_book_the_patron_already_had_is_renewed_not_lent_again() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.borrow(1);
    let fx = k.on(Event::Scanned(Scan::Item(item(2))));
    assert!(fx.iter().any(|e| matches!(e, Effect::Checkout { .. })), "{fx:?}");
    let renewed = Loan {
        item: item(2),
        title: "本 2".into(),
        due: "2026-12-21".into(),
        renewed: true,
        desensitize: None,
        security: kiosk_core::flow::Security::Unchanged,
    };
    k.reply(Reply::Checkout { item: item(2), result: Ok(renewed.clone()) });
    let Screen::Borrowing { lines, .. } = k.screen() else { panic!() };
    assert_eq!(lines.get(1), Some(&LoanLine::Borrowed(renewed.clone())));
    k.on(Event::Tap(Tap::Finish));
    let fx = k.on(Event::Tap(Tap::PrintReceipt));
    let Some(Effect::Print { job: PrintJob::Receipt { loans, .. }, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(loans.iter().filter(|l| l.renewed).collect::<Vec<_>>(), [&renewed]);
    let fx = k.reply(Reply::Printed(Ok(())));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Audit(AuditEvent::SessionEnded(t)) if t.lent == 1 && t.not_done == 0)
        ),
        "one book lent, one renewed: {fx:?}"
    );
}

fn refuse(k: &mut Kiosk, n: u8, reason: ItemRefusal, title: Option<&str>) -> Vec<Effect> {
    let fx = k.on(Event::Scanned(Scan::Item(item(n))));
    assert!(fx.iter().any(|e| matches!(e, Effect::Checkout { .. })), "{fx:?}");
    k.reply(Reply::Checkout {
        item: item(n),
        result: Err(Refusal { reason, title: title.map(str::to_owned) }),
    })
}

/// Each answer has its tone: a short chirp for a loan, three beeps for a refusal (and for
/// a library system that did not answer).
#[test]
fn a_loan_chirps_and_a_refusal_beeps_three_times() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::borrowing(policy.clone());
    k.on(Event::Scanned(Scan::Item(item(1))));
    let fx = k.reply(Reply::Checkout {
        item: item(1),
        result: Ok(Loan {
            item: item(1),
            title: "本 1".into(),
            due: "d".into(),
            renewed: false,
            desensitize: None,
            security: kiosk_core::flow::Security::Unchanged,
        }),
    });
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Lent)), "{fx:?}");
    let fx = refuse(&mut k, 2, ItemRefusal::OnHoldForAnother, Some("こころ"));
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Refused)), "{fx:?}");
    k.on(Event::Scanned(Scan::Item(item(3))));
    let fx = k.wait(policy.driver_timeout);
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Refused)), "no answer sounds like a refusal: {fx:?}");
}

/// Finish with refused books: a screen names how many before anything else; OK goes on
/// to the receipt, which lists the refused books with why.
#[test]
fn finish_with_refused_books_says_so_and_the_receipt_lists_them() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.borrow(1);
    refuse(&mut k, 2, ItemRefusal::OnHoldForAnother, Some("こころ"));
    refuse(&mut k, 3, ItemRefusal::NotInCatalogue, None);
    let Screen::Borrowing { lines, .. } = k.screen() else { panic!() };
    assert_eq!(
        lines[1],
        LoanLine::Refused {
            item: item(2),
            refusal: Refusal { reason: ItemRefusal::OnHoldForAnother, title: Some("こころ".into()) }
        }
    );
    let fx = k.on(Event::Tap(Tap::Finish));
    assert_eq!(k.screen(), Screen::Refused { count: 2, lent: 1, unsecured: 0 }, "{fx:?}");
    assert!(k.on(Event::Tap(Tap::PrintReceipt)).is_empty(), "no receipt before the patron has seen it");
    k.on(Event::Tap(Tap::Dismiss));
    assert_eq!(k.screen(), Screen::ReceiptChoice);
    let fx = k.on(Event::Tap(Tap::PrintReceipt));
    let Some(Effect::Print { job: PrintJob::Receipt { loans, refused, .. }, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(loans.len(), 1);
    let refused: Vec<_> =
        refused.iter().map(|(i, r)| (i.clone(), r.reason.clone(), r.title.clone())).collect();
    assert_eq!(
        refused,
        [
            (item(2), ItemRefusal::OnHoldForAnother, Some("こころ".into())),
            (item(3), ItemRefusal::NotInCatalogue, None)
        ]
    );
    let fx = k.reply(Reply::Printed(Ok(())));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Audit(AuditEvent::SessionEnded(t)) if t.lent == 1 && t.not_done == 2)
        ),
        "{fx:?}"
    );
}

/// Only refused books: the screen says so, then goodbye (no receipt of nothing lent).
#[test]
fn only_refused_books_end_without_a_receipt_after_the_refused_screen() {
    let policy = SessionPolicy::default();
    let mut k = Kiosk::borrowing(policy.clone());
    refuse(&mut k, 1, ItemRefusal::OnLoanToAnother, None);
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(
        k.screen(),
        Screen::Refused { count: 1, lent: 0, unsecured: 0 },
        "nothing lent: the screen must not say otherwise"
    );
    // Walking away: the warning, then the session ends as for any silence.
    k.wait(policy.idle_timeout);
    assert!(k.flow.view(k.now).timeout_warning.is_some());
    let fx = k.wait(policy.warning);
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Audit(AuditEvent::SessionEnded(t)) if t.lent == 0 && t.not_done == 1)
        ),
        "{fx:?}"
    );
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::TimedOut, .. }));
}

/// "Call staff" works on any patron screen: the lamp, and a staff-menu event saying the
/// patron asked; pressing it again changes nothing; a reset clears it.
#[test]
fn the_patron_can_call_staff_from_any_screen() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    let fx = k.on(Event::Tap(Tap::CallStaff));
    assert!(fx.contains(&Effect::Lamp(LampPattern::Blink)), "{fx:?}");
    assert!(fx.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::PatronAsked))), "{fx:?}");
    assert_eq!(k.flow.view(k.now).staff_called, Some(StaffCall::PatronAsked));
    assert!(matches!(k.screen(), Screen::Borrowing { .. }), "the patron stays where they were");
    assert!(k.on(Event::Tap(Tap::CallStaff)).is_empty(), "once is enough");
    // Paper running out and coming back does not clear the patron's call.
    k.on(Event::PaperOut);
    let fx = k.on(Event::PaperRestored);
    assert!(!fx.contains(&Effect::Lamp(LampPattern::Off)), "{fx:?}");
    assert_eq!(k.flow.view(k.now).staff_called, Some(StaffCall::PatronAsked));
    let fx = k.on(Event::Reset);
    assert!(fx.contains(&Effect::Lamp(LampPattern::Off)), "{fx:?}");
    let mut idle = Kiosk::new(SessionPolicy::default());
    // A device call latched first: the patron's call still counts, and outlasts it.
    idle.on(Event::PaperOut);
    let fx = idle.on(Event::Tap(Tap::CallStaff));
    assert!(fx.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::PatronAsked))), "idle too: {fx:?}");
    idle.on(Event::PaperRestored);
    assert_eq!(idle.flow.view(idle.now).staff_called, Some(StaffCall::PatronAsked));
}

/// Cancel while the card or the services are being asked: the session ends at once and
/// the late answer changes nothing.
#[test]
fn cancel_while_checking_ends_the_session_and_drops_the_late_answer() {
    let mut k = Kiosk::at_pin_pad(SessionPolicy::default(), 3);
    k.keys(&[1, 2, 3, 4]);
    k.reply(Reply::PinVerified);
    assert!(matches!(k.screen(), Screen::Checking { .. }), "{:?}", k.screen());
    let session = k.flow.session();
    let fx = k.on(Event::Tap(Tap::Cancel));
    assert!(fx.contains(&Effect::EndSession { session }), "{fx:?}");
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::Cancelled, .. }));
    let late = k.on(Event::Reply { session, reply: Reply::Proof(Ok(())) });
    assert!(!late.iter().any(|e| matches!(e, Effect::CheckValidity { .. })), "{late:?}");
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::Cancelled, .. }));
}

/// The security gate opens for a book the library system lent, unless it said to keep
/// the item's security on; never for a refused book.
#[test]
fn the_gate_is_released_for_a_lent_book_as_the_library_system_says() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    let lend = |k: &mut Kiosk, n: u8, desensitize: Option<bool>| {
        k.on(Event::Scanned(Scan::Item(item(n))));
        let result = Ok(Loan {
            item: item(n),
            title: format!("本 {n}"),
            due: "d".into(),
            renewed: false,
            desensitize,
            security: kiosk_core::flow::Security::Unchanged,
        });
        k.reply(Reply::Checkout { item: item(n), result })
    };
    let released = |fx: &[Effect]| fx.iter().filter(|e| **e == Effect::ReleaseGate).count();
    assert_eq!(released(&lend(&mut k, 1, Some(true))), 1, "desensitize Y");
    assert_eq!(released(&lend(&mut k, 2, None)), 1, "not said: a lent book may leave");
    assert_eq!(released(&lend(&mut k, 3, Some(false))), 0, "desensitize N: security stays on");
    k.on(Event::Scanned(Scan::Item(item(4))));
    let fx = k.reply(Reply::Checkout { item: item(4), result: Err(ItemRefusal::OnHoldForAnother.into()) });
    assert_eq!(released(&fx), 0, "a refused book never opens the gate");
}

/// What the usage statistics get: a patron turned away by why, a session's loans and its
/// refusals by kind, and no turned-away count for a session that let the patron borrow.
#[test]
fn the_statistics_get_why_a_patron_was_turned_away_and_a_session_s_refusals_by_kind() {
    use kiosk_core::flow::{RefusalKind, TurnedAway};
    let mut k = Kiosk::new(SessionPolicy { account: false, ..SessionPolicy::default() });
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    let fx = k.reply(Reply::Standing(Err(PatronRefusal::Blocked(None))));
    assert!(fx.contains(&Effect::Audit(AuditEvent::TurnedAway(TurnedAway::Blocked))), "{fx:?}");

    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.borrow(1);
    k.on(Event::Scanned(Scan::Item(item(2))));
    k.reply(Reply::Checkout { item: item(2), result: Err(ItemRefusal::OnHoldForAnother.into()) });
    k.on(Event::Scanned(Scan::Item(item(3))));
    k.reply(Reply::Checkout { item: item(3), result: Err(ItemRefusal::Refused(Some("x".into())).into()) });
    let fx = k.on(Event::CardRemoved);
    let tally = fx.iter().find_map(|e| match e {
        Effect::Audit(AuditEvent::SessionEnded(t)) => Some(*t),
        _ => None,
    });
    let tally = tally.unwrap_or_else(|| panic!("{fx:?}"));
    assert_eq!((tally.lent, tally.not_done), (1, 2));
    assert_eq!((tally.refusals(RefusalKind::OnHold), tally.refusals(RefusalKind::Other)), (1, 1));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Audit(AuditEvent::TurnedAway(_)))), "{fx:?}");

    // A label from another day starts no session but counts as turned away.
    let mut k = Kiosk::new(SessionPolicy::default());
    let fx = k.on(Event::Scanned(Scan::MethodDLabel(Err(LabelRefusal::WrongDay))));
    assert!(fx.contains(&Effect::Audit(AuditEvent::TurnedAway(TurnedAway::LabelRefused))), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::Audit(AuditEvent::SessionStarted(_)))), "{fx:?}");
}
