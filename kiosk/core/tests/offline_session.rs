//! Offline lending inside a patron session: when the library system does not answer the
//! patron status and the kiosk may lend offline (`Reply::StandingOffline`), the flow
//! decides for this patron by the library's rule, and every checkout of the session is an
//! offline one, said on the screen and the receipt.
#![allow(clippy::unwrap_used)]

use kiosk_core::flow::{
    Effect, Event, ItemId, LibraryCardLogin, Loan, Millis, Notice, OfflinePolicy, PatronId, PatronRefusal,
    PatronSession, PinKey, PrintJob, Reply, Scan, Screen, SessionPolicy, Tap, Verdict,
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

fn offline(library_card_patrons: bool) -> SessionPolicy {
    SessionPolicy { offline: Some(OfflinePolicy { library_card_patrons }), ..SessionPolicy::default() }
}

impl Kiosk {
    fn new(policy: SessionPolicy) -> Kiosk {
        Kiosk { flow: PatronSession::new(policy), now: Millis(0) }
    }

    /// A My Number card patron with the PIN, at the standing check.
    fn card_patron(policy: SessionPolicy) -> Kiosk {
        let mut k = Kiosk::new(policy);
        k.on(Event::CardInserted);
        k.reply(Reply::Certificate(Ok(())));
        k.reply(Reply::PinTries(3));
        for d in [1, 2, 3, 4] {
            k.on(Event::Tap(Tap::Pin(PinKey::Digit(d))));
        }
        k.on(Event::Tap(Tap::Pin(PinKey::Submit)));
        k.reply(Reply::PinVerified);
        k.reply(Reply::Proof(Ok(())));
        k.reply(Reply::Validity(Verdict::Good { patron: Some(patron()) }));
        k
    }

    fn on(&mut self, event: Event) -> Vec<Effect> {
        self.now = Millis(self.now.0 + 10);
        self.flow.on(self.now, event)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        let session = self.flow.session();
        self.on(Event::Reply { session, reply })
    }

    fn screen(&self) -> Screen {
        self.flow.view(self.now).screen
    }

    fn notice(&self) -> Notice {
        match self.screen() {
            Screen::Ending { notice, .. } => notice,
            other => panic!("not a notice: {other:?}"),
        }
    }
}

#[test]
fn a_card_patron_borrows_offline_with_the_screen_and_receipt_saying_so() {
    let mut k = Kiosk::card_patron(offline(false));
    k.reply(Reply::StandingOffline);
    let Screen::Borrowing { offline, can_open_account, .. } = k.screen() else { panic!("{:?}", k.screen()) };
    assert!(offline, "the screen says the library system is offline");
    assert!(!can_open_account, "no account without the library system");
    assert!(
        !k.on(Event::Tap(Tap::Account)).iter().any(|e| matches!(e, Effect::Account { .. })),
        "a stale tap neither"
    );
    let fx = k.on(Event::Scanned(Scan::Item(item(1))));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Checkout { offline: true, item: i, .. } if *i == item(1))),
        "{fx:?}"
    );
    let loan = Loan {
        item: item(1),
        title: String::new(),
        due: "2026-12-20".into(),
        renewed: false,
        desensitize: None,
        security: kiosk_core::flow::Security::Unchanged,
    };
    k.reply(Reply::Checkout { item: item(1), result: Ok(loan) });
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(k.screen(), Screen::ReceiptChoice);
    assert!(!k.flow.view(k.now).account_receipt, "no account summary offline");
    assert!(k.on(Event::Tap(Tap::PrintReceiptWithAccount)).is_empty(), "not offered, not taken");
    let fx = k.on(Event::Tap(Tap::PrintReceipt));
    assert!(
        fx.iter().any(|e| matches!(
            e,
            Effect::Print { job: PrintJob::Receipt { offline: true, account: false, .. }, .. }
        )),
        "{fx:?}"
    );
}

#[test]
fn library_card_patrons_borrow_offline_only_where_the_library_says() {
    for (allowed, borrows) in [(false, false), (true, true)] {
        let mut k = Kiosk::new(offline(allowed));
        k.on(Event::Scanned(Scan::LibraryCard(patron())));
        k.reply(Reply::StandingOffline);
        if borrows {
            assert!(matches!(k.screen(), Screen::Borrowing { offline: true, .. }), "{:?}", k.screen());
        } else {
            assert_eq!(k.notice(), Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable));
        }
    }
    // A Method D label was printed for a card patron: it may borrow offline.
    let mut k = Kiosk::new(offline(false));
    k.on(Event::Scanned(Scan::MethodDLabel(Ok(patron()))));
    k.reply(Reply::StandingOffline);
    assert!(matches!(k.screen(), Screen::Borrowing { offline: true, .. }), "{:?}", k.screen());
}

#[test]
fn without_offline_lending_or_with_a_password_nobody_can_check_the_patron_is_told() {
    let mut k = Kiosk::card_patron(SessionPolicy::default());
    k.reply(Reply::StandingOffline);
    assert_eq!(k.notice(), Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable));

    let policy = SessionPolicy { library_card_login: LibraryCardLogin::BarcodeAndPassword, ..offline(true) };
    let mut k = Kiosk::new(policy);
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    for d in [5, 6, 7, 8] {
        k.on(Event::Tap(Tap::Pin(PinKey::Digit(d))));
    }
    k.on(Event::Tap(Tap::Pin(PinKey::Submit)));
    k.reply(Reply::StandingOffline);
    assert_eq!(k.notice(), Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable));
}

#[test]
fn an_online_session_stays_online() {
    let mut k = Kiosk::card_patron(offline(true));
    k.reply(Reply::Standing(Ok(())));
    let fx = k.on(Event::Scanned(Scan::Item(item(2))));
    assert!(fx.iter().any(|e| matches!(e, Effect::Checkout { offline: false, .. })), "{fx:?}");
    assert!(matches!(k.screen(), Screen::Borrowing { offline: false, .. }));
}
