//! Books on the RFID pad: taken into the borrowing (and returns) list without a scan, each
//! once; a set lent only whole; two tags claiming one item refused; a book taken off
//! before it was sent not lent; security that could not be switched sends the patron and
//! staff to the counter.
#![allow(clippy::unwrap_used)]

use kiosk_core::flow::{
    AuditEvent, BuzzerPattern, Effect, Event, ItemId, ItemRefusal, Loan, LoanLine, Millis, OnPad, PatronId,
    PatronSession, Refusal, Reply, Return, ReturnLine, Returned, Scan, Screen, Security, SessionPolicy,
    StaffCall, Tap,
};

struct Kiosk {
    flow: PatronSession,
    now: Millis,
}

fn item(n: u8) -> ItemId {
    ItemId(format!("3000000{n:02}"))
}

fn on_pad(n: u8, parts: u8, present: &[u8]) -> Event {
    Event::Pad(OnPad { item: item(n), parts, present: present.to_vec(), duplicate: false })
}

fn loan(n: u8, security: Security) -> Loan {
    Loan {
        item: item(n),
        title: format!("本 {n}"),
        due: "2026-12-20".into(),
        renewed: false,
        desensitize: Some(true),
        security,
    }
}

fn checkouts(fx: &[Effect]) -> Vec<ItemId> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Checkout { item, .. } => Some(item.clone()),
            _ => None,
        })
        .collect()
}

impl Kiosk {
    fn new() -> Kiosk {
        Kiosk {
            flow: PatronSession::new(SessionPolicy {
                rfid_pad: true,
                returns: true,
                ..SessionPolicy::default()
            }),
            now: Millis(0),
        }
    }

    fn on(&mut self, event: Event) -> Vec<Effect> {
        self.now = Millis(self.now.0 + 10);
        self.flow.on(self.now, event)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        let session = self.flow.session();
        self.on(Event::Reply { session, reply })
    }

    /// A library card scanned and accepted: the effects of reaching the borrowing screen.
    fn log_in(&mut self) -> Vec<Effect> {
        let patron = PatronId::new("2300012345678").unwrap();
        let fx = self.on(Event::Scanned(Scan::LibraryCard(patron)));
        assert!(fx.iter().any(|e| matches!(e, Effect::PatronStatus { .. })), "{fx:?}");
        let fx = self.reply(Reply::Standing(Ok(())));
        assert!(matches!(self.screen(), Screen::Borrowing { .. }));
        fx
    }

    fn lent(&mut self, n: u8, security: Security) -> Vec<Effect> {
        self.reply(Reply::Checkout { item: item(n), result: Ok(loan(n, security)) })
    }

    fn lines(&self) -> Vec<LoanLine> {
        match self.screen() {
            Screen::Borrowing { lines, .. } => lines,
            other => panic!("not borrowing: {other:?}"),
        }
    }

    fn screen(&self) -> Screen {
        self.flow.view(self.now).screen
    }
}

/// Books put down before the patron logs in are taken when borrowing starts, one at a
/// time; a tag seen again (every inventory) is never lent twice.
#[test]
fn books_already_on_the_pad_are_lent_once_each_when_borrowing_starts() {
    let mut k = Kiosk::new();
    assert!(k.on(on_pad(1, 1, &[1])).is_empty(), "nobody logged in: nothing is sent");
    k.on(on_pad(2, 1, &[1]));
    let fx = k.log_in();
    assert_eq!(checkouts(&fx), [item(1)]);
    // The same tags again: nothing new.
    assert!(checkouts(&k.on(on_pad(1, 1, &[1]))).is_empty());
    let fx = k.lent(1, Security::Switched);
    assert_eq!(checkouts(&fx), [item(2)]);
    assert!(fx.contains(&Effect::ReleaseGate));
    k.lent(2, Security::Switched);
    assert!(checkouts(&k.on(on_pad(2, 1, &[1]))).is_empty());
    assert!(checkouts(&k.on(on_pad(1, 1, &[1]))).is_empty());
    assert_eq!(k.lines().len(), 2);
    // Taken off and put back after it was lent: still lent once.
    k.on(on_pad(1, 1, &[]));
    assert!(checkouts(&k.on(on_pad(1, 1, &[1]))).is_empty());
}

/// A set is lent only whole: the line names the parts missing, and goes when they come.
#[test]
fn a_set_with_a_part_missing_is_named_and_lent_when_whole() {
    let mut k = Kiosk::new();
    k.log_in();
    let fx = k.on(on_pad(3, 3, &[1, 3]));
    assert!(checkouts(&fx).is_empty(), "{fx:?}");
    let missing = ItemRefusal::PartsMissing { missing: vec![2], parts: 3 };
    assert_eq!(
        k.lines(),
        [LoanLine::Refused { item: item(3), refusal: Refusal { reason: missing, title: None } }]
    );
    // Part 3 taken off too: both named.
    k.on(on_pad(3, 3, &[1]));
    let LoanLine::Refused { refusal, .. } = &k.lines()[0] else { panic!() };
    assert_eq!(refusal.reason, ItemRefusal::PartsMissing { missing: vec![2, 3], parts: 3 });
    let fx = k.on(on_pad(3, 3, &[1, 2, 3]));
    assert_eq!(checkouts(&fx), [item(3)]);
    assert!(k.lines().is_empty(), "the missing-parts line goes: {:?}", k.lines());
    k.lent(3, Security::Switched);
    assert!(matches!(&k.lines()[..], [LoanLine::Borrowed(l)] if l.item == item(3)));
}

/// Finishing with a set still incomplete counts it as not lent (the refused screen).
#[test]
fn finishing_with_an_incomplete_set_says_it_was_not_lent() {
    let mut k = Kiosk::new();
    k.log_in();
    k.on(on_pad(3, 2, &[2]));
    k.on(Event::Tap(Tap::Finish));
    assert!(matches!(k.screen(), Screen::Refused { count: 1, lent: 0, unsecured: 0 }), "{:?}", k.screen());
}

/// Two tags that say they are the same item are refused until one is taken away.
#[test]
fn two_tags_claiming_one_item_are_refused_until_one_goes() {
    let mut k = Kiosk::new();
    k.log_in();
    let twice = Event::Pad(OnPad { item: item(4), parts: 1, present: vec![1], duplicate: true });
    assert!(checkouts(&k.on(twice)).is_empty());
    assert!(
        matches!(&k.lines()[..], [LoanLine::Refused { refusal, .. }] if refusal.reason == ItemRefusal::DuplicateTags)
    );
    let fx = k.on(on_pad(4, 1, &[1]));
    assert_eq!(checkouts(&fx), [item(4)]);
}

/// A book taken off the pad before its checkout was sent is not lent; one the library
/// system refused is not asked again while it lies there, but is when put down again.
#[test]
fn a_book_taken_off_before_it_was_sent_is_not_lent_and_a_refusal_is_not_repeated() {
    let mut k = Kiosk::new();
    k.log_in();
    assert_eq!(checkouts(&k.on(on_pad(1, 1, &[1]))), [item(1)]);
    k.on(on_pad(2, 1, &[1]));
    k.on(on_pad(2, 1, &[]));
    let fx = k.reply(Reply::Checkout { item: item(1), result: Err(ItemRefusal::OnHoldForAnother.into()) });
    assert!(checkouts(&fx).is_empty(), "book 2 was taken off before it was sent: {fx:?}");
    assert!(checkouts(&k.on(on_pad(1, 1, &[1]))).is_empty(), "refused: not asked again while it lies there");
    k.on(on_pad(1, 1, &[]));
    assert_eq!(checkouts(&k.on(on_pad(1, 1, &[1]))), [item(1)], "put down again: asked again");
}

/// A loan whose security could not be switched off: three beeps, no gate release, staff
/// called, and the patron is told at Finish to take it to the counter.
#[test]
fn a_loan_whose_security_failed_sends_the_book_to_the_counter() {
    let mut k = Kiosk::new();
    k.log_in();
    k.on(on_pad(1, 1, &[1]));
    let fx = k.lent(1, Security::Failed);
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Refused)), "{fx:?}");
    assert!(!fx.contains(&Effect::ReleaseGate), "{fx:?}");
    assert!(fx.contains(&Effect::Audit(AuditEvent::StaffCalled(StaffCall::ItemSecurity))), "{fx:?}");
    assert_eq!(k.flow.view(k.now).staff_called, Some(StaffCall::ItemSecurity));
    k.on(Event::Tap(Tap::Finish));
    assert!(matches!(k.screen(), Screen::Refused { count: 0, lent: 1, unsecured: 1 }), "{:?}", k.screen());
    k.on(Event::Tap(Tap::Dismiss));
    assert!(matches!(k.screen(), Screen::ReceiptChoice), "the loan is real: a receipt is offered");
}

/// Returns take what is on the pad too, a set only whole.
#[test]
fn returns_take_the_books_on_the_pad() {
    let mut k = Kiosk::new();
    k.on(on_pad(1, 1, &[1]));
    k.on(on_pad(2, 2, &[1]));
    let fx = k.on(Event::Tap(Tap::Return));
    let returns: Vec<_> = fx.iter().filter(|e| matches!(e, Effect::Return { .. })).collect();
    assert_eq!(returns.len(), 1, "{fx:?}");
    let ret = Return { title: Some("本 1".into()), outcome: Returned::Done };
    k.reply(Reply::Returned { item: item(1), result: Ok(ret) });
    let Screen::Returning { lines, .. } = k.screen() else { panic!() };
    assert!(
        matches!(&lines[..], [ReturnLine::Refused { item: i, refusal }, ReturnLine::Returned { .. }]
        if *i == item(2) && refusal.reason == ItemRefusal::PartsMissing { missing: vec![2], parts: 2 }),
        "{lines:?}"
    );
    let fx = k.on(on_pad(2, 2, &[1, 2]));
    assert!(fx.iter().any(|e| matches!(e, Effect::Return { item: i, .. } if *i == item(2))), "{fx:?}");
}

/// The view says the kiosk has a pad (the screens then say "put your books on the pad").
#[test]
fn the_view_says_there_is_a_pad() {
    let k = Kiosk::new();
    assert!(k.flow.view(k.now).rfid_pad);
    assert!(!PatronSession::new(SessionPolicy::default()).view(Millis(0)).rfid_pad);
}

/// Books a session took stay taken while they lie on the pad: a patron who borrowed them
/// and then returns another book does not return them, and the next patron does not
/// borrow what the last one left; put down again, a book is taken again.
#[test]
fn books_left_on_the_pad_are_not_taken_again_by_the_next_session() {
    let mut k = Kiosk::new();
    k.log_in();
    k.on(on_pad(1, 1, &[1]));
    k.lent(1, Security::Switched);
    k.on(Event::Tap(Tap::Finish));
    k.on(Event::Tap(Tap::NoReceipt));
    k.on(Event::Tap(Tap::Dismiss));
    assert!(matches!(k.screen(), Screen::Idle), "{:?}", k.screen());
    let fx = k.on(Event::Tap(Tap::Return));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Return { .. })),
        "the book just borrowed is not returned: {fx:?}"
    );
    k.on(on_pad(2, 1, &[1]));
    let Screen::Returning { waiting, .. } = k.screen() else { panic!() };
    assert_eq!(waiting, 1, "a book put down now is returned");
    k.reply(Reply::Returned { item: item(2), result: Ok(Return { title: None, outcome: Returned::Done }) });
    k.on(Event::Tap(Tap::Finish));
    k.now = k.now.after(std::time::Duration::from_secs(11));
    k.on(Event::Tick);
    assert!(matches!(k.screen(), Screen::Idle), "{:?}", k.screen());
    // The first book taken off and put down again: taken again.
    k.on(on_pad(1, 1, &[]));
    k.on(on_pad(1, 1, &[1]));
    let fx = k.log_in();
    assert_eq!(checkouts(&fx), [item(1)]);
}

/// A set taken off while the patron looks at the account: its "parts missing" line goes.
#[test]
fn a_set_taken_off_during_the_account_loses_its_line() {
    let mut k = Kiosk::new();
    k.log_in();
    k.on(on_pad(3, 2, &[1]));
    assert_eq!(k.lines().len(), 1);
    k.on(Event::Tap(Tap::Account));
    k.on(on_pad(3, 2, &[]));
    k.reply(Reply::Account(None));
    k.on(Event::Tap(Tap::Dismiss));
    assert!(k.lines().is_empty(), "{:?}", k.lines());
}

/// The count check (a library's setting): at Finish the patron says how many items they
/// brought; more than were read sends them back to the pad, or on to finish anyway; as
/// many (or fewer) goes on.
#[test]
fn the_count_check_catches_a_tag_hidden_under_the_stack() {
    let policy = SessionPolicy { rfid_pad: true, count_check: true, ..SessionPolicy::default() };
    let mut k = Kiosk { flow: PatronSession::new(policy), now: Millis(0) };
    k.log_in();
    k.on(on_pad(1, 1, &[1]));
    k.lent(1, Security::Switched);
    k.on(Event::Tap(Tap::Finish));
    assert_eq!(k.screen(), Screen::Count { seen: 1, said: None });
    k.on(Event::Tap(Tap::Count(2)));
    assert_eq!(k.screen(), Screen::Count { seen: 1, said: Some(2) });
    // Back to the pad: the hidden book is read now.
    k.on(Event::Tap(Tap::ReadAgain));
    let fx = k.on(on_pad(2, 1, &[1]));
    assert_eq!(checkouts(&fx), [item(2)]);
    k.lent(2, Security::Switched);
    k.on(Event::Tap(Tap::Finish));
    k.on(Event::Tap(Tap::Count(2)));
    assert!(matches!(k.screen(), Screen::ReceiptChoice), "{:?}", k.screen());
    // Finishing anyway after a mismatch goes on too.
    let mut k = Kiosk {
        flow: PatronSession::new(SessionPolicy {
            rfid_pad: true,
            count_check: true,
            ..SessionPolicy::default()
        }),
        now: Millis(0),
    };
    k.log_in();
    k.on(on_pad(1, 1, &[1]));
    k.lent(1, Security::Switched);
    k.on(Event::Tap(Tap::Finish));
    k.on(Event::Tap(Tap::Count(10)));
    k.on(Event::Tap(Tap::Finish));
    assert!(matches!(k.screen(), Screen::ReceiptChoice), "{:?}", k.screen());
}

/// The pad's reader stopped: the screens say to scan instead (where the kiosk has a pad).
#[test]
fn a_pad_that_stops_reading_is_said_on_screen() {
    let mut k = Kiosk::new();
    assert!(!k.flow.view(k.now).pad_fault);
    k.on(Event::PadWorking(false));
    assert!(k.flow.view(k.now).pad_fault);
    k.on(Event::PadWorking(true));
    assert!(!k.flow.view(k.now).pad_fault);
    let mut none = PatronSession::new(SessionPolicy::default());
    none.on(Millis(1), Event::PadWorking(false));
    assert!(!none.view(Millis(1)).pad_fault, "no pad, nothing to say");
}
