//! Returns at the kiosk: no card, books one at a time, each answer on its own line (the
//! return box, the hold shelf, staff, or why not), and every way out.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_core::flow::{
    AuditEvent, BuzzerPattern, CounterPolicy, Effect, Event, HandOff, ItemId, ItemRefusal, Millis, Notice,
    PatronSession, Reply, Return, ReturnLine, Returned, Scan, Screen, SessionPolicy, Tap,
};

struct Kiosk {
    flow: PatronSession,
    now: Millis,
}

fn item(n: u8) -> ItemId {
    ItemId(format!("97841010100{n:02}"))
}

fn returns_on() -> SessionPolicy {
    SessionPolicy { returns: true, ..SessionPolicy::default() }
}

fn back(n: u8, outcome: Returned) -> Reply {
    Reply::Returned { item: item(n), result: Ok(Return { title: Some(format!("本 {n}")), outcome }) }
}

impl Kiosk {
    fn new(policy: SessionPolicy) -> Kiosk {
        Kiosk { flow: PatronSession::new(policy), now: Millis(0) }
    }

    fn on(&mut self, event: Event) -> Vec<Effect> {
        self.now = Millis(self.now.0 + 10);
        self.flow.on(self.now, event)
    }

    fn reply(&mut self, reply: Reply) -> Vec<Effect> {
        let session = self.flow.session();
        self.on(Event::Reply { session, reply })
    }

    fn scan(&mut self, n: u8) -> Vec<Effect> {
        self.on(Event::Scanned(Scan::Item(item(n))))
    }

    fn screen(&self) -> Screen {
        self.flow.view(self.now).screen
    }

    fn lines(&self) -> Vec<ReturnLine> {
        match self.screen() {
            Screen::Returning { lines, .. } => lines,
            other => panic!("not returning: {other:?}"),
        }
    }
}

fn returns_sent(fx: &[Effect]) -> Vec<ItemId> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Return { item, .. } => Some(item.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn three_books_are_returned_one_at_a_time_each_with_where_it_goes() {
    let mut k = Kiosk::new(returns_on());
    assert!(k.flow.view(k.now).can_return);
    let fx = k.on(Event::Tap(Tap::Return));
    assert!(fx.contains(&Effect::Audit(AuditEvent::ReturnsStarted)), "{fx:?}");
    assert!(!k.flow.view(k.now).can_return, "the button is the idle screen's only");
    assert_eq!(returns_sent(&k.scan(1)), [item(1)]);
    assert!(returns_sent(&k.scan(2)).is_empty(), "one at a time");
    assert!(returns_sent(&k.scan(1)).is_empty(), "a book read twice is returned once");
    k.scan(3);
    let fx = k.reply(back(1, Returned::Done));
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Lent)), "{fx:?}");
    assert_eq!(returns_sent(&fx), [item(2)]);
    let fx = k.reply(back(2, Returned::ToHoldShelf { shelf: Some("本館 予約棚".into()) }));
    assert_eq!(returns_sent(&fx), [item(3)]);
    let fx = k.reply(Reply::Returned { item: item(3), result: Err(ItemRefusal::NotCheckedOut.into()) });
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Refused)), "{fx:?}");
    let lines = k.lines();
    assert_eq!(lines.len(), 3);
    assert!(
        matches!(&lines[1], ReturnLine::Returned { ret, .. } if matches!(ret.outcome, Returned::ToHoldShelf { .. }))
    );
    assert!(
        matches!(&lines[2], ReturnLine::Refused { refusal, .. } if refusal.reason == ItemRefusal::NotCheckedOut)
    );
    // Nobody logged in: no checkout, no patron, ever.
    let fx = k.on(Event::Tap(Tap::Finish));
    assert!(
        fx.iter().any(
            |e| matches!(e, Effect::Audit(AuditEvent::ReturnsEnded(t)) if t.returned == 2 && t.not_done == 1)
        ),
        "{fx:?}"
    );
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::ReturnsDone, card_present: false }));
    k.on(Event::Tap(Tap::Dismiss));
    assert!(k.flow.is_idle());
}

#[test]
fn finish_waits_for_the_book_still_out() {
    let mut k = Kiosk::new(returns_on());
    k.on(Event::Tap(Tap::Return));
    k.scan(1);
    k.on(Event::Tap(Tap::Finish));
    assert!(matches!(k.screen(), Screen::Returning { finishing: true, waiting: 1, .. }));
    assert!(k.scan(2).is_empty(), "no new books once finishing");
    k.reply(back(1, Returned::StaffCheck { message: Some("他館資料".into()) }));
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::ReturnsDone, .. }), "{:?}", k.screen());
}

#[test]
fn a_return_without_an_answer_is_said_and_the_next_book_goes_on() {
    let mut k = Kiosk::new(returns_on());
    k.on(Event::Tap(Tap::Return));
    k.scan(1);
    k.scan(2);
    k.now = k.now.after(Duration::from_secs(45));
    let fx = k.flow.on(k.now, Event::Tick);
    assert_eq!(returns_sent(&fx), [item(2)]);
    assert!(
        matches!(&k.lines()[0], ReturnLine::Refused { refusal, .. } if refusal.reason == ItemRefusal::NoAnswer)
    );
    // The late answer is not taken for the second book.
    assert!(k.reply(back(1, Returned::Done)).is_empty());
}

#[test]
fn time_runs_out_on_returns_too() {
    let mut k = Kiosk::new(returns_on());
    k.on(Event::Tap(Tap::Return));
    k.now = k.now.after(Duration::from_secs(60));
    let fx = k.flow.on(k.now, Event::Tick);
    assert!(fx.contains(&Effect::Buzzer(BuzzerPattern::Beep)), "{fx:?}");
    k.now = k.now.after(Duration::from_secs(15));
    k.flow.on(k.now, Event::Tick);
    assert!(matches!(k.screen(), Screen::Ending { notice: Notice::TimedOut, .. }), "{:?}", k.screen());
}

#[test]
fn a_card_put_down_during_returns_is_read_when_they_end() {
    let mut k = Kiosk::new(returns_on());
    k.on(Event::Tap(Tap::Return));
    assert!(k.on(Event::CardInserted).iter().all(|e| !matches!(e, Effect::ReadCertificate { .. })));
    k.on(Event::Tap(Tap::Finish));
    let fx = k.on(Event::Tap(Tap::Dismiss));
    assert!(fx.iter().any(|e| matches!(e, Effect::ReadCertificate { .. })), "{fx:?}");
}

#[test]
fn returns_are_offered_only_where_the_library_turned_them_on() {
    // Off (the default), at a counter, or out of service: no button, the tap does nothing.
    let counter = SessionPolicy {
        returns: true,
        counter: Some(CounterPolicy {
            check_validity: true,
            methods: vec![HandOff::Digits],
            show_for: Duration::from_secs(30),
        }),
        ..SessionPolicy::default()
    };
    for policy in [SessionPolicy::default(), counter] {
        let mut k = Kiosk::new(policy);
        assert!(!k.flow.view(k.now).can_return);
        assert!(k.on(Event::Tap(Tap::Return)).is_empty());
        assert!(k.flow.is_idle());
    }
    let mut k = Kiosk::new(returns_on());
    k.on(Event::SetOutOfService(true));
    assert!(!k.flow.view(k.now).can_return);
    assert!(k.on(Event::Tap(Tap::Return)).is_empty());
}

/// A return given up on may have happened: the book scanned again is not sent again, and
/// the late answer replaces the "no answer" line.
#[test]
fn a_return_given_up_on_is_never_sent_again_and_its_late_answer_is_shown() {
    let mut k = Kiosk::new(returns_on());
    k.on(Event::Tap(Tap::Return));
    k.scan(1);
    k.now = k.now.after(Duration::from_secs(45));
    k.flow.on(k.now, Event::Tick);
    assert!(returns_sent(&k.scan(1)).is_empty(), "not sent again");
    k.reply(back(1, Returned::ToHoldShelf { shelf: None }));
    let lines = k.lines();
    assert_eq!(lines.len(), 1);
    assert!(
        matches!(&lines[0], ReturnLine::Returned { ret, .. } if matches!(ret.outcome, Returned::ToHoldShelf { .. }))
    );
}
