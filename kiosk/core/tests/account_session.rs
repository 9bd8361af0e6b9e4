//! The account screen inside a patron session: opening it, renewing one loan or all, each
//! answer on its own line, and every way out (back, finish, time, the card taken away).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_core::flow::{
    Account, AccountLoan, AccountView, BlockReason, BuzzerPattern, Effect, Event, HoldReady, ItemId,
    ItemRefusal, Loan, LoanLine, Millis, Notice, PatronId, PatronRefusal, PatronSession, PinKey, PrintJob,
    RenewState, Reply, Scan, Screen, SessionPolicy, Tap, Verdict,
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

fn loan(n: u8, due: &str, overdue: bool) -> AccountLoan {
    AccountLoan { item: Some(item(n)), title: format!("資料 {n}"), due: due.into(), overdue }
}

/// Two loans (the first overdue), one listed by title only, one hold ready.
fn account() -> Account {
    Account {
        loans: vec![
            loan(1, "2026-11-30", true),
            loan(2, "2026-12-10", false),
            AccountLoan {
                item: None, title: "題名だけの資料".into(), due: String::new(), overdue: false
            },
        ],
        holds: vec![HoldReady {
            title: "予約の本".into(),
            pickup: Some("本館 予約棚".into()),
            until: Some("2026-12-13".into()),
        }],
        ..Account::default()
    }
}

fn renewed(n: u8, due: &str) -> Reply {
    Reply::Renewed {
        item: item(n),
        result: Ok(Loan {
            item: item(n),
            title: format!("資料 {n}"),
            due: due.into(),
            renewed: true,
            desensitize: None,
            security: kiosk_core::flow::Security::Unchanged,
        }),
    }
}

impl Kiosk {
    /// A My Number card patron, PIN verified, at the library system's standing check.
    fn checking_standing(policy: SessionPolicy) -> Kiosk {
        let mut k = Kiosk { flow: PatronSession::new(policy), now: Millis(0) };
        k.on(Event::CardInserted);
        k.reply(Reply::Certificate(Ok(())));
        k.reply(Reply::PinTries(3));
        for d in [1, 2, 3, 4] {
            k.tap(Tap::Pin(PinKey::Digit(d)));
        }
        k.tap(Tap::Pin(PinKey::Submit));
        k.reply(Reply::PinVerified);
        k.reply(Reply::Proof(Ok(())));
        k.reply(Reply::Validity(Verdict::Good { patron: Some(patron()) }));
        k
    }

    /// A My Number card patron (PIN verified) on the borrowing screen.
    fn borrowing(policy: SessionPolicy) -> Kiosk {
        let mut k = Kiosk::checking_standing(policy);
        k.reply(Reply::Standing(Ok(())));
        assert!(matches!(k.screen(), Screen::Borrowing { .. }), "{:?}", k.screen());
        k
    }

    /// On the account screen with [`account`] shown.
    fn account() -> Kiosk {
        let mut k = Kiosk::borrowing(SessionPolicy::default());
        let fx = k.tap(Tap::Account);
        assert!(
            fx.iter().any(|e| matches!(e, Effect::Account { patron: p, .. } if *p == patron())),
            "{fx:?}"
        );
        assert_eq!(k.screen(), Screen::Account(AccountView::Loading));
        k.reply(Reply::Account(Some(account())));
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

    fn renew_states(&self) -> Vec<RenewState> {
        match self.screen() {
            Screen::Account(AccountView::Shown { lines, .. }) => lines.into_iter().map(|l| l.renew).collect(),
            other => panic!("not the account: {other:?}"),
        }
    }
}

fn renewals(fx: &[Effect]) -> Vec<(ItemId, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Renew { item, due, .. } => Some((item.clone(), due.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn the_account_shows_loans_holds_and_the_library_systems_words() {
    let k = Kiosk::account();
    let Screen::Account(AccountView::Shown {
        lines,
        holds,
        blocks,
        message,
        incomplete,
        renewing,
        can_borrow,
    }) = k.screen()
    else {
        panic!("{:?}", k.screen())
    };
    assert_eq!(lines.len(), 3);
    assert!(lines[0].loan.overdue && !lines[1].loan.overdue);
    assert!(lines.iter().all(|l| l.renew == RenewState::NotAsked));
    assert_eq!(holds[0].pickup.as_deref(), Some("本館 予約棚"));
    assert!(blocks.is_empty() && message.is_none() && !incomplete);
    assert_eq!(renewing, 0);
    assert!(can_borrow);
}

#[test]
fn one_renewal_sends_the_due_date_it_had_and_joins_the_receipt() {
    let mut k = Kiosk::account();
    let fx = k.tap(Tap::Renew(1));
    assert_eq!(renewals(&fx), [(item(2), "2026-12-10".to_owned())]);
    assert_eq!(k.renew_states()[1], RenewState::Waiting);
    // Back and finish wait for the answer: it must land where it was asked.
    k.tap(Tap::Dismiss);
    k.tap(Tap::Finish);
    assert!(matches!(k.screen(), Screen::Account(_)));
    let fx = k.reply(renewed(2, "2026-12-24"));
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Lent)), "{fx:?}");
    assert_eq!(k.renew_states()[1], RenewState::Renewed { due: "2026-12-24".into() });
    // Asking again does nothing: renewed once per session.
    assert!(renewals(&k.tap(Tap::Renew(1))).is_empty());
    // Finish: the receipt lists the renewal.
    k.tap(Tap::Finish);
    assert_eq!(k.screen(), Screen::ReceiptChoice);
    let fx = k.tap(Tap::PrintReceipt);
    let Some(Effect::Print { job: PrintJob::Receipt { loans, refused, .. }, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!("{fx:?}")
    };
    assert_eq!(loans.len(), 1);
    assert!(loans[0].renewed && loans[0].due == "2026-12-24");
    assert!(refused.is_empty(), "a renewal refused is not a book to take to the counter");
}

#[test]
fn renew_all_asks_one_at_a_time_in_order_and_skips_what_cannot_be_renewed() {
    let mut k = Kiosk::account();
    let fx = k.tap(Tap::RenewAll);
    assert_eq!(renewals(&fx), [(item(1), "2026-11-30".to_owned())], "one at a time");
    let fx = k.reply(Reply::Renewed { item: item(1), result: Err(ItemRefusal::OnHoldForAnother.into()) });
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Refused)), "{fx:?}");
    assert_eq!(renewals(&fx), [(item(2), "2026-12-10".to_owned())]);
    let fx = k.reply(renewed(2, "2026-12-24"));
    assert!(renewals(&fx).is_empty(), "the title-only loan has no barcode to renew");
    let states = k.renew_states();
    assert_eq!(states[0], RenewState::Refused(ItemRefusal::OnHoldForAnother.into()));
    assert_eq!(states[1], RenewState::Renewed { due: "2026-12-24".into() });
    assert_eq!(states[2], RenewState::NotAsked);
    // Nothing left to renew: renew all sends nothing.
    assert!(renewals(&k.tap(Tap::RenewAll)).is_empty());
}

#[test]
fn an_answer_for_another_item_changes_nothing() {
    let mut k = Kiosk::account();
    k.tap(Tap::Renew(0));
    let fx = k.reply(renewed(2, "2026-12-24"));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(k.renew_states()[0], RenewState::Waiting);
    assert_eq!(k.renew_states()[1], RenewState::NotAsked);
}

#[test]
fn a_renewal_without_an_answer_is_said_and_never_asked_again() {
    let mut k = Kiosk::account();
    k.tap(Tap::RenewAll);
    let fx = k.wait(Duration::from_secs(45));
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Refused)), "{fx:?}");
    assert_eq!(renewals(&fx), [(item(2), "2026-12-10".to_owned())], "the next one goes on");
    assert_eq!(k.renew_states()[0], RenewState::Refused(ItemRefusal::NoAnswer.into()));
    // The late answer for the first is not taken for the second.
    assert!(k.reply(renewed(1, "2026-12-14")).is_empty());
    k.reply(renewed(2, "2026-12-24"));
    // It may have happened: not asked again (the journal reconciles it).
    assert!(renewals(&k.tap(Tap::Renew(0))).is_empty());
    assert!(renewals(&k.tap(Tap::RenewAll)).is_empty());
}

#[test]
fn an_account_the_library_system_cannot_give_is_said_and_borrowing_goes_on() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.tap(Tap::Account);
    k.reply(Reply::Account(None));
    assert_eq!(k.screen(), Screen::Account(AccountView::Unavailable));
    k.tap(Tap::Dismiss);
    assert!(matches!(k.screen(), Screen::Borrowing { .. }));
    // And when it does not answer at all.
    k.tap(Tap::Account);
    k.wait(Duration::from_secs(45));
    assert_eq!(k.screen(), Screen::Account(AccountView::Unavailable));
    // A late answer does not bring it back.
    k.reply(Reply::Account(Some(account())));
    assert_eq!(k.screen(), Screen::Account(AccountView::Unavailable));
}

#[test]
fn back_to_borrowing_keeps_the_books_and_a_late_account_is_dropped() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.on(Event::Scanned(Scan::Item(item(7))));
    let lent = Loan {
        item: item(7),
        title: "本".into(),
        due: "2026-12-20".into(),
        renewed: false,
        desensitize: None,
        security: kiosk_core::flow::Security::Unchanged,
    };
    k.reply(Reply::Checkout { item: item(7), result: Ok(lent) });
    k.tap(Tap::Account);
    k.tap(Tap::Dismiss);
    let Screen::Borrowing { lines, can_open_account, .. } = k.screen() else { panic!("{:?}", k.screen()) };
    assert!(matches!(&lines[..], [LoanLine::Borrowed(l)] if l.item == item(7)));
    assert!(can_open_account);
    assert!(k.reply(Reply::Account(Some(account()))).is_empty());
    assert!(matches!(k.screen(), Screen::Borrowing { .. }));
}

#[test]
fn reopened_the_account_shows_what_this_session_renewed() {
    let mut k = Kiosk::account();
    k.tap(Tap::Renew(1));
    k.reply(renewed(2, "2026-12-24"));
    k.tap(Tap::Dismiss);
    k.tap(Tap::Account);
    // The library system lists the new due date; the line still says renewed.
    let mut again = account();
    again.loans[1].due = "2026-12-24".into();
    k.reply(Reply::Account(Some(again)));
    assert_eq!(k.renew_states()[1], RenewState::Renewed { due: "2026-12-24".into() });
    assert!(renewals(&k.tap(Tap::RenewAll)).iter().all(|(i, _)| *i != item(2)));
}

#[test]
fn a_library_that_turned_the_account_off_never_asks_for_it() {
    let mut k = Kiosk::borrowing(SessionPolicy { account: false, ..SessionPolicy::default() });
    let Screen::Borrowing { can_open_account, .. } = k.screen() else { panic!() };
    assert!(!can_open_account);
    assert!(k.tap(Tap::Account).is_empty());
    assert!(matches!(k.screen(), Screen::Borrowing { .. }));
}

#[test]
fn the_account_waits_for_a_checkout_in_flight() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.on(Event::Scanned(Scan::Item(item(7))));
    let Screen::Borrowing { can_open_account, .. } = k.screen() else { panic!() };
    assert!(!can_open_account);
    assert!(k.tap(Tap::Account).is_empty());
}

#[test]
fn time_runs_out_on_the_account_like_on_borrowing() {
    let mut k = Kiosk::account();
    k.tap(Tap::Renew(1));
    k.reply(renewed(2, "2026-12-24"));
    let fx = k.wait(Duration::from_secs(60));
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Beep)), "the warning first: {fx:?}");
    k.wait(Duration::from_secs(15));
    // A renewal was made: the receipt is offered, as after borrowing.
    assert_eq!(k.screen(), Screen::ReceiptChoice);

    let mut k = Kiosk::account();
    k.wait(Duration::from_secs(60));
    k.wait(Duration::from_secs(15));
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::TimedOut, .. }), "{:?}", k.screen());
}

#[test]
fn the_card_taken_away_ends_the_account_too() {
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.tap(Tap::Account);
    k.reply(Reply::Account(Some(account())));
    k.tap(Tap::Renew(0));
    let fx = k.on(Event::CardRemoved);
    assert!(fx.iter().any(|e| matches!(e, Effect::EndSession { .. })), "{fx:?}");
    assert!(k.flow.is_idle());
    assert!(k.reply(renewed(1, "2026-12-14")).is_empty(), "the renewal's late answer is dropped");
}

/// A card patron the library system blocks: with the account on, the account shows why;
/// without it, or without an account to show, the notice does.
fn blocked(policy: SessionPolicy) -> (Kiosk, Vec<Effect>) {
    let mut k = Kiosk::checking_standing(policy);
    let fx = k.reply(Reply::Standing(Err(PatronRefusal::Blocked(Some("延滞資料があります".into())))));
    (k, fx)
}

#[test]
fn a_blocked_patron_sees_why_on_the_account_and_can_renew_but_never_borrow() {
    let (mut k, fx) = blocked(SessionPolicy::default());
    assert!(fx.iter().any(|e| matches!(e, Effect::Account { .. })), "{fx:?}");
    let mut a = account();
    a.blocks = vec![BlockReason::Overdue, BlockReason::Fines];
    a.message = Some("延滞資料があります".into());
    k.reply(Reply::Account(Some(a)));
    let Screen::Account(AccountView::Shown { blocks, can_borrow, .. }) = k.screen() else {
        panic!("{:?}", k.screen())
    };
    assert_eq!(blocks, [BlockReason::Overdue, BlockReason::Fines]);
    assert!(!can_borrow, "no way back to borrowing");
    // Renewing is the library system's to allow or refuse.
    assert_eq!(renewals(&k.tap(Tap::Renew(0))).len(), 1);
    k.reply(Reply::Renewed {
        item: item(1),
        result: Err(ItemRefusal::Refused(Some("貸出停止中".into())).into()),
    });
    // Back is finish: nothing was renewed, so goodbye; nothing was ever lent.
    let fx = k.tap(Tap::Dismiss);
    assert!(!fx.iter().any(|e| matches!(e, Effect::Checkout { .. })), "{fx:?}");
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::Goodbye, .. }), "{:?}", k.screen());
    // Scans on the way are never loans.
    assert!(k.on(Event::Scanned(Scan::Item(item(9)))).iter().all(|e| !matches!(e, Effect::Checkout { .. })));
}

#[test]
fn a_blocked_patron_without_an_account_to_show_gets_the_notice() {
    let (mut k, _) = blocked(SessionPolicy::default());
    k.reply(Reply::Account(None));
    assert!(
        matches!(
            k.screen(),
            Screen::Ending { notice: Notice::PatronRefused(PatronRefusal::Blocked(Some(_))), .. }
        ),
        "{:?}",
        k.screen()
    );
    let (k, fx) = blocked(SessionPolicy { account: false, ..SessionPolicy::default() });
    assert!(!fx.iter().any(|e| matches!(e, Effect::Account { .. })));
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::PatronRefused(_), .. }));
}

/// What a patron borrows is private: a library card's barcode or a Method D label is a
/// number anyone holding a copy can scan, so those logins borrow but see no account (a
/// blocked one gets the notice); a My Number card without its PIN neither.
#[test]
fn only_a_patron_who_proved_who_they_are_sees_the_account() {
    for scan in [Scan::LibraryCard(patron()), Scan::MethodDLabel(Ok(patron()))] {
        let mut k = Kiosk { flow: PatronSession::new(SessionPolicy::default()), now: Millis(0) };
        k.on(Event::Scanned(scan.clone()));
        k.reply(Reply::Standing(Ok(())));
        let Screen::Borrowing { can_open_account, .. } = k.screen() else { panic!("{:?}", k.screen()) };
        assert!(!can_open_account, "{scan:?}");
        assert!(k.tap(Tap::Account).is_empty(), "{scan:?}");
        let mut b = Kiosk { flow: PatronSession::new(SessionPolicy::default()), now: Millis(0) };
        b.on(Event::Scanned(scan.clone()));
        let fx = b.reply(Reply::Standing(Err(PatronRefusal::Blocked(None))));
        assert!(!fx.iter().any(|e| matches!(e, Effect::Account { .. })), "{scan:?}: {fx:?}");
    }
    let mut k = Kiosk {
        flow: PatronSession::new(SessionPolicy { require_pin: false, ..SessionPolicy::default() }),
        now: Millis(0),
    };
    k.on(Event::CardInserted);
    k.reply(Reply::Certificate(Ok(())));
    k.reply(Reply::Validity(Verdict::Good { patron: Some(patron()) }));
    k.reply(Reply::Standing(Ok(())));
    let Screen::Borrowing { can_open_account, .. } = k.screen() else { panic!("{:?}", k.screen()) };
    assert!(!can_open_account, "a card without its PIN");
}

/// The receipt's account summary is offered, and printed, only where the account is: a
/// patron who proved who they are.
#[test]
fn the_receipt_with_the_account_is_only_for_a_patron_who_may_see_it() {
    let print = |k: &mut Kiosk, tap| -> Option<bool> {
        k.tap(tap).into_iter().find_map(|e| match e {
            Effect::Print { job: PrintJob::Receipt { account, .. }, .. } => Some(account),
            _ => None,
        })
    };
    let lent = |n| Loan {
        item: item(n),
        title: "本".into(),
        due: "2026-12-20".into(),
        renewed: false,
        desensitize: None,
        security: kiosk_core::flow::Security::Unchanged,
    };
    // A card patron with its PIN: offered, and asked for.
    let mut k = Kiosk::borrowing(SessionPolicy::default());
    k.on(Event::Scanned(Scan::Item(item(7))));
    k.reply(Reply::Checkout { item: item(7), result: Ok(lent(7)) });
    k.tap(Tap::Finish);
    assert!(k.flow.view(k.now).account_receipt);
    assert_eq!(print(&mut k, Tap::PrintReceiptWithAccount), Some(true));
    // A library-card patron: not offered, and the tap prints nothing.
    let mut k = Kiosk { flow: PatronSession::new(SessionPolicy::default()), now: Millis(0) };
    k.on(Event::Scanned(Scan::LibraryCard(patron())));
    k.reply(Reply::Standing(Ok(())));
    k.on(Event::Scanned(Scan::Item(item(7))));
    k.reply(Reply::Checkout { item: item(7), result: Ok(lent(7)) });
    k.tap(Tap::Finish);
    assert_eq!(k.screen(), Screen::ReceiptChoice);
    assert!(!k.flow.view(k.now).account_receipt);
    assert_eq!(print(&mut k, Tap::PrintReceiptWithAccount), None);
    assert_eq!(print(&mut k, Tap::PrintReceipt), Some(false));
}

/// A renewal given up on (no answer in time) may still have happened: reopened, the
/// account does not offer it again, and its late answer still reaches the receipt.
#[test]
fn a_renewal_given_up_on_is_never_asked_again_and_its_late_answer_still_counts() {
    let mut k = Kiosk::account();
    k.tap(Tap::Renew(1));
    k.wait(Duration::from_secs(45));
    assert_eq!(k.renew_states()[1], RenewState::Refused(ItemRefusal::NoAnswer.into()));
    k.tap(Tap::Dismiss);
    k.tap(Tap::Account);
    k.reply(Reply::Account(Some(account())));
    assert_eq!(k.renew_states()[1], RenewState::Refused(ItemRefusal::NoAnswer.into()), "reopened");
    assert!(renewals(&k.tap(Tap::Renew(1))).is_empty(), "not asked again");
    assert!(renewals(&k.tap(Tap::RenewAll)).iter().all(|(i, _)| *i != item(2)));
    // The late answer arrives (here after going back to borrowing): it counts.
    k.reply(renewed(1, "2026-12-14")); // the one renew-all sent just now
    k.tap(Tap::Dismiss);
    k.reply(renewed(2, "2026-12-24"));
    k.tap(Tap::Finish);
    let fx = k.tap(Tap::PrintReceipt);
    let Some(Effect::Print { job: PrintJob::Receipt { loans, .. }, .. }) =
        fx.iter().find(|e| matches!(e, Effect::Print { .. }))
    else {
        panic!("{fx:?}")
    };
    let items: Vec<&ItemId> = loans.iter().map(|l| &l.item).collect();
    assert_eq!(items, [&item(1), &item(2)], "both renewals on the receipt, once each");
}

#[test]
fn a_blocked_patron_whose_account_never_comes_gets_the_notice() {
    let (mut k, _) = blocked(SessionPolicy::default());
    k.wait(Duration::from_secs(45));
    assert!(
        matches!(
            k.screen(),
            Screen::Ending { notice: Notice::PatronRefused(PatronRefusal::Blocked(Some(_))), .. }
        ),
        "{:?}",
        k.screen()
    );
}
