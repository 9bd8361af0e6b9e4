//! Counter mode's rules through the flow's public API: the hand-off by methods A–D, the
//! number wiped after its time, linking a card (new, replace with confirmation, remove,
//! a bad check digit), and a self-checkout kiosk refusing all of it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_core::flow::{
    AuditEvent, CounterPolicy, Effect, Event, HandOff, LinkFault, LinkStage, Millis, Notice, PatronId,
    PatronRefusal, PatronSession, PinKey, PrintJob, Reply, Scan, Screen, SessionPolicy, Tap, TypeFault,
    TypingView, Verdict,
};

const SHOW: Duration = Duration::from_secs(30);

fn patron() -> PatronId {
    PatronId::new("2300012345678").unwrap()
}

fn other() -> PatronId {
    PatronId::new("2300099999990").unwrap()
}

fn counter(methods: &[HandOff], check_validity: bool, require_pin: bool) -> SessionPolicy {
    SessionPolicy {
        require_pin,
        counter: Some(CounterPolicy { check_validity, methods: methods.to_vec(), show_for: SHOW }),
        ..SessionPolicy::default()
    }
}

const ALL: [HandOff; 4] = [HandOff::Digits, HandOff::Barcode, HandOff::Keyboard, HandOff::Label];

struct Desk {
    flow: PatronSession,
    now: Millis,
}

impl Desk {
    fn new(policy: SessionPolicy) -> Desk {
        Desk { flow: PatronSession::new(policy), now: Millis(0) }
    }

    fn on(&mut self, event: Event) -> Vec<Effect> {
        self.now = Millis(self.now.0 + 10);
        self.flow.on(self.now, event)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        let session = self.flow.session();
        self.on(Event::Reply { session, reply })
    }

    fn wait(&mut self, d: Duration) -> Vec<Effect> {
        self.now = self.now.after(d);
        self.flow.on(self.now, Event::Tick)
    }

    fn screen(&self) -> Screen {
        self.flow.view(self.now).screen
    }

    /// Card on, PIN (when asked), proof, and the validity check when the policy makes it;
    /// returns the effects of the last step.
    fn proven(&mut self) -> Vec<Effect> {
        let fx = self.on(Event::CardInserted);
        assert!(fx.iter().any(|e| matches!(e, Effect::ReadCertificate { .. })), "{fx:?}");
        let mut fx = self.reply(Reply::Certificate(Ok(())));
        if fx.iter().any(|e| matches!(e, Effect::QueryPinTries { .. })) {
            self.reply(Reply::PinTries(3));
            for d in [1, 2, 3, 4] {
                self.on(Event::Tap(Tap::Pin(PinKey::Digit(d))));
            }
            self.on(Event::Tap(Tap::Pin(PinKey::Submit)));
            self.reply(Reply::PinVerified);
            fx = self.reply(Reply::Proof(Ok(())));
        }
        if fx.iter().any(|e| matches!(e, Effect::CheckValidity { .. })) {
            fx = self.reply(Reply::Validity(Verdict::Good { patron: None }));
        }
        fx
    }

    /// Through to the hand-off screen; returns the effects of entering it.
    fn hand_off(&mut self) -> Vec<Effect> {
        let fx = self.proven();
        assert!(fx.iter().any(|e| matches!(e, Effect::ResolvePatron { .. })), "{fx:?}");
        self.reply(Reply::Patron(Ok(patron())))
    }

    fn method(&self) -> (HandOff, Option<PatronId>, TypingView) {
        match self.screen() {
            Screen::HandOff { method, number, typing, .. } => (method, number, typing),
            other => panic!("expected the hand-off screen, got {other:?}"),
        }
    }

    fn notice(&self) -> Notice {
        match self.screen() {
            Screen::Ending { notice, .. } => notice,
            other => panic!("expected an ending screen, got {other:?}"),
        }
    }

    /// Staff chose "link a card"; the card is proven; the link store answered `current`.
    fn linking(&mut self, current: Option<PatronId>) {
        self.on(Event::StartLinking);
        assert_eq!(self.screen(), Screen::LinkWaitingForCard);
        let fx = self.proven();
        assert!(fx.iter().any(|e| matches!(e, Effect::ResolvePatron { .. })), "{fx:?}");
        self.reply(Reply::Patron(current.ok_or(PatronRefusal::NotLinked)));
        assert!(
            matches!(self.screen(), Screen::Linking { stage: LinkStage::Scan, .. }),
            "{:?}",
            self.screen()
        );
    }
}

fn sends_patron_status(fx: &[Effect]) -> bool {
    fx.iter().any(|e| matches!(e, Effect::PatronStatus { .. } | Effect::Checkout { .. }))
}

#[test]
fn method_a_shows_the_number_then_wipes_it_and_asks_for_the_card() {
    let mut k = Desk::new(counter(&ALL, true, true));
    let fx = k.hand_off();
    assert!(!sends_patron_status(&fx), "the counter never talks to the library system: {fx:?}");
    assert!(fx.contains(&Effect::Audit(AuditEvent::HandedOff(HandOff::Digits))), "{fx:?}");
    assert_eq!(k.method(), (HandOff::Digits, Some(patron()), TypingView::NotStarted));
    let Screen::HandOff { seconds_left, methods, .. } = k.screen() else { panic!() };
    assert_eq!((seconds_left, methods), (30, ALL.to_vec()));
    // Staff switching methods does not extend the time.
    k.wait(Duration::from_secs(20));
    k.on(Event::Tap(Tap::Method(HandOff::Barcode)));
    assert_eq!(k.method().0, HandOff::Barcode);
    let fx = k.wait(Duration::from_secs(10));
    assert_eq!(k.notice(), Notice::NumberCleared);
    assert!(fx.contains(&Effect::PowerOffCard), "{fx:?}");
    assert!(!format!("{:?}", k.screen()).contains("2300012345678"), "the number is gone from the view");
}

#[test]
fn only_methods_a_and_b_put_the_number_in_the_view() {
    for (method, shown) in [(HandOff::Digits, true), (HandOff::Barcode, true), (HandOff::Keyboard, false)] {
        let mut k = Desk::new(counter(&[method], true, true));
        k.hand_off();
        assert_eq!(k.method().1.is_some(), shown, "{method:?}");
    }
}

#[test]
fn method_c_types_once_and_a_missing_keyboard_leaves_a_b_d() {
    let mut k = Desk::new(counter(&[HandOff::Keyboard, HandOff::Digits, HandOff::Label], true, true));
    let fx = k.hand_off();
    let typed: Vec<_> = fx.iter().filter(|e| matches!(e, Effect::TypeNumber { .. })).collect();
    assert_eq!(typed.len(), 1, "{fx:?}");
    assert!(matches!(typed[0], Effect::TypeNumber { patron: p, .. } if *p == patron()));
    assert_eq!(k.method().2, TypingView::Typing);
    // A second tap on C while it types sends nothing.
    let fx = k.on(Event::Tap(Tap::Method(HandOff::Keyboard)));
    assert!(fx.is_empty(), "{fx:?}");
    k.reply(Reply::Typed(Err(TypeFault::NoKeyboard)));
    assert_eq!(k.method().2, TypingView::Failed(TypeFault::NoKeyboard));
    // Staff fall back to A, which shows the number at once.
    k.on(Event::Tap(Tap::Method(HandOff::Digits)));
    assert_eq!(k.method(), (HandOff::Digits, Some(patron()), TypingView::Failed(TypeFault::NoKeyboard)));
    // And to D, which prints the label.
    let fx = k.on(Event::Tap(Tap::Method(HandOff::Label)));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Print { job: PrintJob::MethodDLabel { patron: p }, .. } if *p == patron())
        ),
        "{fx:?}"
    );
    k.reply(Reply::Printed(Ok(())));
    assert_eq!(k.notice(), Notice::LabelPrinted);
}

#[test]
fn method_c_success_is_audited_and_a_silent_keyboard_times_out() {
    let mut k = Desk::new(counter(&[HandOff::Keyboard], true, true));
    k.hand_off();
    let fx = k.reply(Reply::Typed(Ok(())));
    assert!(fx.contains(&Effect::Audit(AuditEvent::HandedOff(HandOff::Keyboard))), "{fx:?}");
    assert_eq!(k.method().2, TypingView::Typed);
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(k.notice(), Notice::Goodbye);

    let policy =
        SessionPolicy { driver_timeout: Duration::from_secs(5), ..counter(&[HandOff::Keyboard], true, true) };
    let mut k = Desk::new(policy);
    k.hand_off();
    k.wait(Duration::from_secs(6));
    assert_eq!(k.method().2, TypingView::Failed(TypeFault::Failed));
}

#[test]
fn a_method_the_library_did_not_enable_is_ignored() {
    let mut k = Desk::new(counter(&[HandOff::Digits], true, true));
    k.hand_off();
    for m in [HandOff::Barcode, HandOff::Keyboard, HandOff::Label] {
        let fx = k.on(Event::Tap(Tap::Method(m)));
        assert!(fx.is_empty(), "{m:?}: {fx:?}");
        assert_eq!(k.method().0, HandOff::Digits);
    }
}

#[test]
fn label_is_refused_while_the_printer_is_out_of_paper() {
    let mut k = Desk::new(counter(&[HandOff::Digits, HandOff::Label], true, true));
    k.on(Event::PaperOut);
    k.hand_off();
    let fx = k.on(Event::Tap(Tap::Method(HandOff::Label)));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Print { .. })), "{fx:?}");
    assert_eq!(k.method().0, HandOff::Digits);
}

#[test]
fn pin_and_revocation_check_are_each_optional_at_the_counter() {
    // No PIN: straight from the certificate to the check.
    let mut k = Desk::new(counter(&ALL, true, false));
    k.on(Event::CardInserted);
    let fx = k.reply(Reply::Certificate(Ok(())));
    assert!(fx.iter().any(|e| matches!(e, Effect::CheckValidity { .. })), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::QueryPinTries { .. })));
    // No check: from the proof to the link store, never to the platform.
    let mut k = Desk::new(counter(&ALL, false, true));
    let fx = k.proven();
    assert!(fx.iter().any(|e| matches!(e, Effect::ResolvePatron { .. })), "{fx:?}");
    let mut k = Desk::new(counter(&ALL, false, false));
    k.on(Event::CardInserted);
    let fx = k.reply(Reply::Certificate(Ok(())));
    assert!(fx.iter().any(|e| matches!(e, Effect::ResolvePatron { .. })), "{fx:?}");
    assert!(!fx.iter().any(|e| matches!(e, Effect::CheckValidity { .. })));
    // With the check on, a revoked card never reaches the hand-off.
    let mut k = Desk::new(counter(&ALL, true, true));
    k.on(Event::CardInserted);
    k.reply(Reply::Certificate(Ok(())));
    k.reply(Reply::PinTries(3));
    for d in [1, 2, 3, 4] {
        k.on(Event::Tap(Tap::Pin(PinKey::Digit(d))));
    }
    k.on(Event::Tap(Tap::Pin(PinKey::Submit)));
    k.reply(Reply::PinVerified);
    k.reply(Reply::Proof(Ok(())));
    k.reply(Reply::Validity(Verdict::Revoked));
    assert_eq!(k.notice(), Notice::Revoked);
}

#[test]
fn card_removed_at_the_hand_off_wipes_the_number() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.hand_off();
    let fx = k.on(Event::CardRemoved);
    assert!(fx.iter().any(|e| matches!(e, Effect::EndSession { .. })), "{fx:?}");
    assert_eq!(k.screen(), Screen::Idle);
}

#[test]
fn scans_at_the_counter_start_nothing() {
    let mut k = Desk::new(counter(&ALL, true, true));
    for scan in
        [Scan::LibraryCard(patron()), Scan::BadLibraryCard, Scan::Item(kiosk_core::flow::ItemId("1".into()))]
    {
        let fx = k.on(Event::Scanned(scan));
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(k.screen(), Screen::Idle);
    }
}

#[test]
fn linking_a_new_card() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(None);
    let Screen::Linking { current: None, bad_scan: false, .. } = k.screen() else {
        panic!("{:?}", k.screen())
    };
    // A misread library card: said so, nothing saved.
    let fx = k.on(Event::Scanned(Scan::BadLibraryCard));
    assert!(fx.is_empty(), "{fx:?}");
    assert!(matches!(k.screen(), Screen::Linking { bad_scan: true, stage: LinkStage::Scan, .. }));
    let fx = k.on(Event::Scanned(Scan::LibraryCard(patron())));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Link { patron: p, replace: false, .. } if *p == patron())),
        "{fx:?}"
    );
    assert!(matches!(k.screen(), Screen::Linking { stage: LinkStage::Saving, .. }));
    let fx = k.reply(Reply::Linked(Ok(())));
    assert!(fx.contains(&Effect::Audit(AuditEvent::Linked { replaced: false })), "{fx:?}");
    assert_eq!(k.notice(), Notice::Linked);
    // The link session never hands off or borrows.
    assert!(!sends_patron_status(&fx));
}

#[test]
fn a_card_linked_elsewhere_needs_staff_to_confirm() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(Some(other()));
    let Screen::Linking { current: Some(c), .. } = k.screen() else { panic!() };
    assert_eq!(c, "…9990", "staff see only the last four characters");
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    k.reply(Reply::Linked(Err(LinkFault::CardLinkedElsewhere)));
    let Screen::Linking { stage: LinkStage::Confirm { new, conflict }, .. } = k.screen() else { panic!() };
    assert_eq!((new.as_str(), conflict), ("…5678", LinkFault::CardLinkedElsewhere));
    assert!(!format!("{:?}", k.screen()).contains("2300012345678"), "no whole number on the confirm screen");
    let fx = k.on(Event::Tap(Tap::ConfirmReplace));
    assert!(fx.iter().any(|e| matches!(e, Effect::Link { replace: true, .. })), "{fx:?}");
    let fx = k.reply(Reply::Linked(Ok(())));
    assert!(fx.contains(&Effect::Audit(AuditEvent::Linked { replaced: true })), "{fx:?}");
    assert_eq!(k.notice(), Notice::Linked);
}

#[test]
fn a_reissued_card_replaces_the_patrons_old_link_after_confirmation() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(None);
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    k.reply(Reply::Linked(Err(LinkFault::PatronLinkedElsewhere)));
    assert!(matches!(
        k.screen(),
        Screen::Linking { stage: LinkStage::Confirm { conflict: LinkFault::PatronLinkedElsewhere, .. }, .. }
    ));
    // Cancel at the confirmation ends the link session (no card was linked before).
    k.on(Event::Tap(Tap::Cancel));
    assert_eq!(k.notice(), Notice::Cancelled);
}

#[test]
fn removing_a_link() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(Some(patron()));
    let fx = k.on(Event::Tap(Tap::Unlink));
    assert!(fx.iter().any(|e| matches!(e, Effect::Unlink { .. })), "{fx:?}");
    let fx = k.reply(Reply::Unlinked(Ok(true)));
    assert!(fx.contains(&Effect::Audit(AuditEvent::Unlinked)), "{fx:?}");
    assert_eq!(k.notice(), Notice::Unlinked(true));
    // Unlink needs a link to remove.
    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(None);
    assert!(k.on(Event::Tap(Tap::Unlink)).is_empty());
}

#[test]
fn a_store_that_cannot_be_written_ends_with_nothing_changed() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(None);
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    k.reply(Reply::Linked(Err(LinkFault::StoreFailed)));
    assert_eq!(k.notice(), Notice::LinkFailed(LinkFault::StoreFailed));
}

#[test]
fn linking_without_a_card_times_out_and_a_yanked_card_ends_it() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.on(Event::StartLinking);
    k.wait(Duration::from_secs(120));
    assert_eq!(k.notice(), Notice::TimedOut);
    k.wait(Duration::from_secs(20));
    assert_eq!(k.screen(), Screen::Idle);

    let mut k = Desk::new(counter(&ALL, true, true));
    k.linking(None);
    k.on(Event::CardRemoved);
    assert_eq!(k.screen(), Screen::Idle);
    // The next card is a patron's again, not a link.
    let fx = k.hand_off();
    assert!(fx.contains(&Effect::Audit(AuditEvent::HandedOff(HandOff::Digits))), "{fx:?}");
}

#[test]
fn a_verdict_of_not_linked_while_linking_goes_to_the_scan() {
    let mut k = Desk::new(counter(&ALL, true, true));
    k.on(Event::StartLinking);
    k.on(Event::CardInserted);
    k.reply(Reply::Certificate(Ok(())));
    k.reply(Reply::PinTries(3));
    for d in [1, 2, 3, 4] {
        k.on(Event::Tap(Tap::Pin(PinKey::Digit(d))));
    }
    k.on(Event::Tap(Tap::Pin(PinKey::Submit)));
    k.reply(Reply::PinVerified);
    k.reply(Reply::Proof(Ok(())));
    k.reply(Reply::Validity(Verdict::NotLinked));
    assert!(matches!(k.screen(), Screen::Linking { current: None, stage: LinkStage::Scan, .. }));
}

#[test]
fn a_self_checkout_kiosk_refuses_every_counter_action() {
    let mut k = Desk::new(SessionPolicy::default());
    assert!(k.on(Event::StartLinking).is_empty());
    assert_eq!(k.screen(), Screen::Idle);
    let mut k = Desk::new(SessionPolicy::default());
    k.proven();
    k.reply(Reply::Patron(Ok(patron())));
    for tap in
        [Tap::Method(HandOff::Digits), Tap::Method(HandOff::Keyboard), Tap::ConfirmReplace, Tap::Unlink]
    {
        let fx = k.on(Event::Tap(tap));
        assert!(fx.is_empty(), "{tap:?}: {fx:?}");
    }
    assert!(matches!(k.screen(), Screen::Checking { .. }), "still checking standing: {:?}", k.screen());
    let fx = k.reply(Reply::Linked(Ok(())));
    assert!(fx.is_empty(), "{fx:?}");
}
