//! Property tests: the flow's safety invariants over random event sequences.
//!
//! The harness plays a random mix of patron actions, card movements, time, and driver
//! answers. Most answers are plausible replies to what the flow last asked for (so runs
//! reach deep states: borrowing, printing, ending); some are stale or random noise.
//! After every event it checks:
//! - no VERIFY without a fresh tries answer from the card since the last VERIFY;
//! - no VERIFY at 0 tries; no VERIFY at 1 try before the warning was acknowledged;
//! - card removal ends a card session in Idle with the pad gone and the card powered off;
//! - while idle, only what Idle allows leaves the flow; stale replies change nothing;
//! - card commands only while a card is present; checkouts only after the patron's
//!   standing was confirmed; proof of possession only after a verified PIN;
//! - the account is asked for, and renewals sent, only after the standing was answered
//!   (a blocked patron sees the account, and never borrows);
//!   only of a loan the account listed with a barcode, never again while its renewal is
//!   out, and never of an item the library system already renewed in the session;
//! - returns only where the library takes them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use kiosk_core::flow::{
    Account, AccountLoan, AdminAction, AdminAudit, AdminEffect, AdminEvent, AdminPolicy, AdminSession,
    CardFault, Effect, Event, ItemId, ItemRefusal, LabelRefusal, LibraryCardLogin, Loan, Millis,
    OfflinePolicy, PASSWORD_TRIES, PatronId, PatronRefusal, PatronSession, PinKey, PinPad, PinPadEffect,
    PinPadEvent, PinStage, PrintFault, ProofFailure, Reply, Return, Returned, Scan, SessionId, SessionPolicy,
    Tap, Verdict,
};
use proptest::prelude::*;

const CASES: u32 = 10_000;

#[derive(Clone, Debug)]
enum Action {
    CardIn,
    CardOut,
    Key(PinKey),
    /// Four digits and Submit in a row (a patron who knows the PIN): runs then get past
    /// the PIN pad often enough to reach what only a verified card may (the account).
    EnterPin,
    Tap(Tap),
    ScanItem(u8),
    /// The RFID pad: item, parts in its set, which parts lie there (bits), two tags for it.
    Pad(u8, u8, u8, bool),
    ScanLibraryCard,
    ScanLabel(bool),
    Wait(u64),
    /// A plausible answer to the oldest outstanding request; the selector picks the outcome.
    Answer(u8),
    /// A random reply for the current session.
    Noise(u8),
    /// A random reply for an old session.
    Stale(u8),
    OutOfService(bool),
    Reset,
    PaperRestored,
    PaperOut,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        3 => Just(Action::CardIn),
        2 => Just(Action::CardOut),
        10 => (0u8..=9).prop_map(|d| Action::Key(PinKey::Digit(d))),
        4 => Just(Action::Key(PinKey::Submit)),
        3 => Just(Action::EnterPin),
        1 => Just(Action::Key(PinKey::Backspace)),
        1 => Just(Action::Key(PinKey::Clear)),
        3 => Just(Action::Key(PinKey::AcknowledgeLastTry)),
        4 => prop_oneof![
            Just(Tap::Finish), Just(Tap::PrintReceipt), Just(Tap::NoReceipt), Just(Tap::PrintLabel),
            Just(Tap::Cancel), Just(Tap::StillHere), Just(Tap::Dismiss), Just(Tap::CallStaff)
        ].prop_map(Action::Tap),
        6 => Just(Action::Tap(Tap::Account)),
        2 => prop_oneof![Just(Tap::RenewAll), (0usize..5).prop_map(Tap::Renew)].prop_map(Action::Tap),
        2 => prop_oneof![Just(Tap::ReadAgain), (1u8..=10).prop_map(Tap::Count)].prop_map(Action::Tap),
        1 => Just(Action::Tap(Tap::Return)),
        4 => (0u8..6).prop_map(Action::ScanItem),
        3 => (0u8..6, 1u8..4, 0u8..8, prop::bool::weighted(0.1)).prop_map(|(i, n, m, d)| Action::Pad(i, n, m, d)),
        2 => Just(Action::ScanLibraryCard),
        1 => any::<bool>().prop_map(Action::ScanLabel),
        3 => prop_oneof![0u64..2_000, 10_000u64..120_000].prop_map(Action::Wait),
        16 => any::<u8>().prop_map(Action::Answer),
        1 => any::<u8>().prop_map(Action::Noise),
        1 => any::<u8>().prop_map(Action::Stale),
        1 => any::<bool>().prop_map(Action::OutOfService),
        1 => Just(Action::Reset),
        1 => Just(Action::PaperRestored),
        1 => Just(Action::PaperOut),
    ]
}

fn policy() -> impl Strategy<Value = SessionPolicy> {
    (any::<bool>(), 0..3u8, any::<bool>(), any::<bool>(), 0..3u8).prop_map(
        |(require_pin, login, print, returns, offline)| SessionPolicy {
            require_pin,
            library_card_login: match login {
                0 => LibraryCardLogin::Off,
                1 => LibraryCardLogin::Barcode,
                _ => LibraryCardLogin::BarcodeAndPassword,
            },
            allow_method_d_login: login != 1,
            offer_method_d_print: print,
            returns,
            offline: (offline > 0).then_some(OfflinePolicy { library_card_patrons: offline == 2 }),
            // An RFID kiosk with the count check in half the runs.
            rfid_pad: print,
            count_check: print,
            ..SessionPolicy::default()
        },
    )
}

fn patron() -> PatronId {
    PatronId::new("2300012345678").unwrap()
}

fn item(n: u8) -> ItemId {
    ItemId(format!("97841010100{n:02}"))
}

/// A request the flow made and the harness has not answered yet.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    Certificate,
    Tries,
    Verify,
    Proof,
    Validity,
    Patron,
    Standing,
    Checkout(ItemId),
    Account,
    Renew(ItemId),
    Return(ItemId),
    Print,
}

/// The account the harness's library system gives: three renewable loans (one overdue),
/// one listed by title only.
fn account() -> Account {
    let loan = |n: u8, overdue| AccountLoan {
        item: Some(item(n)),
        title: format!("資料 {n}"),
        due: "2026-12-07".into(),
        overdue,
    };
    Account {
        loans: vec![
            loan(3, true),
            loan(4, false),
            AccountLoan { item: None, title: "題名だけ".into(), due: String::new(), overdue: false },
            loan(5, false),
        ],
        ..Account::default()
    }
}

fn plausible(p: &Pending, pick: u8) -> Reply {
    let k = pick % 8;
    match p {
        Pending::Certificate => match k {
            0 => Reply::Certificate(Err(CardFault::NotMyNumberCard)),
            1 => Reply::CardError(CardFault::ReaderFailed),
            _ => Reply::Certificate(Ok(())),
        },
        Pending::Tries => Reply::PinTries([3, 3, 2, 1, 1, 0, 3, 2][usize::from(k)]),
        Pending::Verify => match k {
            0..=2 => Reply::PinVerified,
            3 | 4 => Reply::WrongPin { tries_left: 2 },
            5 => Reply::WrongPin { tries_left: 1 },
            6 => Reply::WrongPin { tries_left: 0 },
            _ => Reply::PinBlocked,
        },
        Pending::Proof => match k {
            0 => Reply::Proof(Err(ProofFailure::BadSignature)),
            _ => Reply::Proof(Ok(())),
        },
        Pending::Validity => Reply::Validity(match k {
            0 => Verdict::Revoked,
            1 => Verdict::Unavailable,
            2 => Verdict::NotLinked,
            3 => Verdict::Expired,
            4 => Verdict::Good { patron: Some(patron()) },
            5 => Verdict::Untrusted,
            _ => Verdict::Good { patron: None },
        }),
        Pending::Patron => match k {
            0 => Reply::Patron(Err(PatronRefusal::NotLinked)),
            _ => Reply::Patron(Ok(patron())),
        },
        Pending::Standing => match k {
            0 => Reply::Standing(Err(PatronRefusal::Blocked(None))),
            1 => Reply::Standing(Err(PatronRefusal::LibrarySystemUnavailable)),
            2 | 3 => Reply::Standing(Err(PatronRefusal::WrongPassword)),
            4 => Reply::StandingOffline,
            _ => Reply::Standing(Ok(())),
        },
        Pending::Checkout(i) => Reply::Checkout {
            item: i.clone(),
            result: match k {
                0 => Err(ItemRefusal::Refused(Some("on hold".into())).into()),
                1 => Err(ItemRefusal::NoAnswer.into()),
                _ => Ok(Loan {
                    item: i.clone(),
                    title: "坊っちゃん".into(),
                    due: "2026-12-07".into(),
                    renewed: false,
                    desensitize: None,
                    security: kiosk_core::flow::Security::Unchanged,
                }),
            },
        },
        Pending::Account => Reply::Account(match k {
            0 => None,
            _ => Some(account()),
        }),
        Pending::Renew(i) => Reply::Renewed {
            item: i.clone(),
            result: match k {
                0 => Err(ItemRefusal::OnHoldForAnother.into()),
                1 => Err(ItemRefusal::NoAnswer.into()),
                2 => Err(ItemRefusal::Unconfirmed.into()),
                _ => Ok(Loan {
                    item: i.clone(),
                    title: "資料".into(),
                    due: "2026-12-21".into(),
                    renewed: true,
                    desensitize: None,
                    security: kiosk_core::flow::Security::Unchanged,
                }),
            },
        },
        Pending::Return(i) => Reply::Returned {
            item: i.clone(),
            result: match k {
                0 => Err(ItemRefusal::NotCheckedOut.into()),
                1 => Err(ItemRefusal::NoAnswer.into()),
                2 => Ok(Return { title: None, outcome: Returned::ToHoldShelf { shelf: None } }),
                _ => Ok(Return { title: Some("本".into()), outcome: Returned::Done }),
            },
        },
        Pending::Print => Reply::Printed(match k {
            0 => Err(PrintFault::OutOfPaper),
            1 => Err(PrintFault::Offline),
            _ => Ok(()),
        }),
    }
}

fn noise(pick: u8) -> Reply {
    let all = [
        Pending::Certificate,
        Pending::Tries,
        Pending::Verify,
        Pending::Proof,
        Pending::Validity,
        Pending::Patron,
        Pending::Standing,
        Pending::Checkout(item(pick % 6)),
        Pending::Account,
        Pending::Renew(item(pick % 6)),
        Pending::Return(item(pick % 6)),
        Pending::Print,
    ];
    plausible(&all[usize::from(pick) % all.len()], pick / 9)
}

#[derive(Default)]
struct Harness {
    card_in: bool,
    pending: Vec<(SessionId, Pending)>,
    /// The card's tries answer since the last VERIFY (only answers to a query count).
    fresh_tries: Option<u8>,
    acknowledged: bool,
    query_outstanding: bool,
    card_sessions: HashSet<SessionId>,
    standing_ok: HashSet<SessionId>,
    pin_verified: HashSet<SessionId>,
    verify_sent: HashSet<SessionId>,
    /// Sessions whose patron the library system blocked (the account only, no loans).
    blocked: HashSet<SessionId>,
    /// Sessions the kiosk may lend offline in (the library system did not answer).
    offline: HashSet<SessionId>,
    /// Library-card passwords sent, per session.
    passwords_sent: Vec<SessionId>,
    /// Sessions whose library-card password the library system accepted.
    password_ok: HashSet<SessionId>,
    /// Renewals the flow asked for, per session.
    renew_sent: HashSet<(SessionId, ItemId)>,
    /// Items the library system renewed, per session.
    renewed: HashSet<(SessionId, ItemId)>,
}

impl Harness {
    fn deliver(&mut self, flow: &mut PatronSession, now: Millis, event: Event, policy: &SessionPolicy) {
        let was_idle = flow.is_idle();
        let session_before = flow.session();
        let is_stale = matches!(&event, Event::Reply { session, .. } if *session != session_before);
        let removal = matches!(event, Event::CardRemoved) && self.card_in;
        let in_card_session = self.card_sessions.contains(&session_before) && !was_idle;

        // Bookkeeping of what the card said before the flow hears it.
        if let Event::Reply { session, reply } = &event
            && *session == session_before
        {
            if matches!(reply, Reply::Standing(_)) {
                // Answered (a noise answer too, for all the flow can tell).
                self.pending.retain(|(s, p)| !(s == session && matches!(p, Pending::Standing)));
            }
            match reply {
                Reply::PinTries(n) if self.query_outstanding => {
                    self.query_outstanding = false;
                    self.fresh_tries = Some(*n);
                    self.acknowledged = false;
                }
                Reply::PinVerified if self.verify_sent.contains(session) => {
                    self.pin_verified.insert(*session);
                }
                Reply::StandingOffline if policy.offline.is_some() => {
                    self.offline.insert(*session);
                }
                Reply::Standing(Ok(())) => {
                    self.standing_ok.insert(*session);
                    if self.passwords_sent.contains(session) {
                        self.password_ok.insert(*session);
                    }
                }
                Reply::Standing(Err(PatronRefusal::Blocked(_))) => {
                    self.blocked.insert(*session);
                    if self.passwords_sent.contains(session) {
                        self.password_ok.insert(*session);
                    }
                }
                // A renewal happened only if it was asked (noise may "answer" one that was not).
                Reply::Renewed { item, result: Ok(_) }
                    if self.renew_sent.contains(&(*session, item.clone())) =>
                {
                    self.renewed.insert((*session, item.clone()));
                }
                _ => {}
            }
        }
        if matches!(event, Event::Tap(Tap::Pin(PinKey::AcknowledgeLastTry))) && self.fresh_tries == Some(1) {
            self.acknowledged = true;
        }
        match event {
            Event::CardInserted => self.card_in = true,
            Event::CardRemoved => self.card_in = false,
            _ => {}
        }

        let effects = flow.on(now, event);

        if is_stale {
            assert!(effects.is_empty(), "a stale reply produced {effects:?}");
        }
        if was_idle {
            // Or the work of the session this event started (returns started with books
            // already on the RFID pad return them at once); never an older session's.
            let started = flow.session() != session_before;
            for e in &effects {
                let own = started && e.session() == Some(flow.session());
                assert!(e.allowed_in_idle() || own, "idle flow emitted {e:?}");
            }
        }
        if removal {
            assert!(effects.contains(&Effect::PowerOffCard), "card removed without power-off: {effects:?}");
            assert!(!flow.holds_pin_pad(), "PIN pad survived card removal");
            if in_card_session {
                assert!(flow.is_idle(), "card removal left the flow in {}", flow.state_name());
            }
        }
        for e in effects {
            self.check_effect(flow, &e, policy);
        }
    }

    fn check_effect(&mut self, flow: &PatronSession, e: &Effect, policy: &SessionPolicy) {
        let current = flow.session();
        let card_cmd = matches!(
            e,
            Effect::ReadCertificate { .. }
                | Effect::QueryPinTries { .. }
                | Effect::VerifyPin { .. }
                | Effect::ProvePossession { .. }
        );
        if card_cmd {
            assert!(self.card_in, "card command {e:?} without a card");
        }
        if let Effect::Renew { session, item, .. } = e {
            assert!(
                self.standing_ok.contains(session) || self.blocked.contains(session),
                "renewal before patron status"
            );
            assert!(
                account().loans.iter().any(|l| l.item.as_ref() == Some(item)),
                "renewal of an item the account did not list: {item:?}"
            );
            assert!(!self.renewed.contains(&(*session, item.clone())), "{item:?} renewed twice");
            assert!(
                !self.pending.iter().any(|(s, p)| s == session && *p == Pending::Renew(item.clone())),
                "{item:?} asked again while its renewal is out"
            );
        }
        if let Effect::PatronStatus { session, password: Some(_), .. } = e {
            assert!(
                !self.pending.iter().any(|(s, p)| s == session && matches!(p, Pending::Standing)),
                "a password sent while the last one is still being checked"
            );
        }
        let mut request = |s: &SessionId, p: Pending| {
            assert_eq!(*s, current, "request for another session: {e:?}");
            self.pending.push((*s, p));
        };
        match e {
            Effect::ReadCertificate { session } => {
                self.card_sessions.insert(*session);
                self.fresh_tries = None;
                self.query_outstanding = false;
                request(session, Pending::Certificate);
            }
            Effect::QueryPinTries { session } => {
                request(session, Pending::Tries);
                self.query_outstanding = true;
            }
            Effect::VerifyPin { session, pin } => {
                assert!(policy.require_pin, "VERIFY although no PIN is required");
                assert_eq!(pin.as_ascii().len(), 4);
                let n = self.fresh_tries.expect("VERIFY without a fresh tries answer");
                assert!(n >= 1, "VERIFY at 0 tries");
                if n == 1 {
                    assert!(self.acknowledged, "VERIFY at 1 try before the warning was acknowledged");
                }
                self.fresh_tries = None;
                self.verify_sent.insert(*session);
                request(session, Pending::Verify);
            }
            Effect::ProvePossession { session } => {
                assert!(self.pin_verified.contains(session), "proof without a verified PIN");
                request(session, Pending::Proof);
            }
            Effect::CheckValidity { session } => {
                if policy.require_pin {
                    assert!(self.pin_verified.contains(session), "validity check before the PIN");
                }
                request(session, Pending::Validity);
            }
            Effect::ResolvePatron { session } => request(session, Pending::Patron),
            Effect::PatronStatus { session, password, .. } => {
                if let Some(password) = password {
                    assert_eq!(
                        policy.library_card_login,
                        LibraryCardLogin::BarcodeAndPassword,
                        "a password asked although the library does not use them"
                    );
                    assert!(!password.is_empty() && password.as_str().bytes().all(|b| b.is_ascii_digit()));
                    let sent = self.passwords_sent.iter().filter(|s| *s == session).count();
                    assert!(sent < usize::from(PASSWORD_TRIES), "a fourth password in one session");
                    self.passwords_sent.push(*session);
                }
                request(session, Pending::Standing);
            }
            Effect::Checkout { session, item, offline, .. } => {
                if *offline {
                    assert!(policy.offline.is_some(), "an offline loan where the library lends none");
                    assert!(
                        self.offline.contains(session),
                        "an offline loan the kiosk was not told it may make"
                    );
                } else {
                    assert!(self.standing_ok.contains(session), "checkout before patron status");
                }
                request(session, Pending::Checkout(item.clone()));
            }
            Effect::Account { session, .. } => {
                assert!(
                    self.standing_ok.contains(session) || self.blocked.contains(session),
                    "account before patron status"
                );
                assert!(
                    self.pin_verified.contains(session) || self.password_ok.contains(session),
                    "the account of a patron who proved nothing (a barcode alone)"
                );
                request(session, Pending::Account);
            }
            Effect::Renew { session, item, .. } => {
                self.renew_sent.insert((*session, item.clone()));
                request(session, Pending::Renew(item.clone()));
            }
            Effect::Return { session, item } => {
                assert!(policy.returns, "a return although the library takes none here");
                request(session, Pending::Return(item.clone()));
            }
            Effect::Print { session, .. } => request(session, Pending::Print),
            // A self-checkout kiosk never types, links or unlinks (counter mode only).
            Effect::TypeNumber { .. } | Effect::Link { .. } | Effect::Unlink { .. } => {
                assert!(policy.counter.is_some(), "counter effect {e:?} on a self-checkout kiosk");
            }
            Effect::EndSession { .. }
            | Effect::PowerOffCard
            | Effect::Lamp(_)
            | Effect::Buzzer(_)
            | Effect::ReleaseGate
            | Effect::Audit(_) => {}
        }
    }
}

fn play(policy: SessionPolicy, actions: Vec<Action>) -> HashSet<&'static str> {
    let mut visited = HashSet::new();
    let mut flow = PatronSession::new(policy.clone());
    let mut h = Harness::default();
    let mut now = Millis(0);
    for a in actions {
        now = Millis(now.0 + 100);
        let event = match a {
            Action::CardIn => Event::CardInserted,
            Action::CardOut => Event::CardRemoved,
            Action::Key(k) => Event::Tap(Tap::Pin(k)),
            Action::EnterPin => {
                for d in [4, 9, 2] {
                    h.deliver(&mut flow, now, Event::Tap(Tap::Pin(PinKey::Digit(d))), &policy);
                }
                h.deliver(&mut flow, now, Event::Tap(Tap::Pin(PinKey::Digit(7))), &policy);
                Event::Tap(Tap::Pin(PinKey::Submit))
            }
            Action::Tap(t) => Event::Tap(t),
            Action::ScanItem(n) => Event::Scanned(Scan::Item(item(n))),
            Action::Pad(n, parts, mask, duplicate) => Event::Pad(kiosk_core::flow::OnPad {
                item: item(n),
                parts,
                present: (1..=parts).filter(|p| mask & (1 << (p - 1)) != 0).collect(),
                duplicate,
            }),
            Action::ScanLibraryCard => Event::Scanned(Scan::LibraryCard(patron())),
            Action::ScanLabel(ok) => Event::Scanned(Scan::MethodDLabel(if ok {
                Ok(patron())
            } else {
                Err(LabelRefusal::WrongDay)
            })),
            Action::Wait(ms) => {
                now = Millis(now.0 + ms);
                Event::Tick
            }
            Action::Answer(pick) => {
                // The current session's oldest request first (runs then reach deep states);
                // an ended session's requests are answered late, as stale replies.
                let current = flow.session();
                let at = h.pending.iter().position(|(s, _)| *s == current).unwrap_or(0);
                if h.pending.is_empty() {
                    Event::Tick
                } else {
                    let (session, p) = h.pending.remove(at);
                    Event::Reply { session, reply: plausible(&p, pick) }
                }
            }
            Action::Noise(pick) => Event::Reply { session: flow.session(), reply: noise(pick) },
            Action::Stale(pick) => {
                Event::Reply { session: SessionId(flow.session().0.wrapping_sub(1)), reply: noise(pick) }
            }
            Action::OutOfService(b) => Event::SetOutOfService(b),
            Action::Reset => Event::Reset,
            Action::PaperRestored => Event::PaperRestored,
            Action::PaperOut => Event::PaperOut,
        };
        h.deliver(&mut flow, now, event, &policy);
        // The view is always computable.
        let _view = flow.view(now);
        visited.insert(flow.state_name());
    }
    visited
}

/// The random runs are only worth something if they reach deep states; this checks that
/// the generator does (deterministic seed, so it cannot flake).
#[test]
fn random_runs_reach_every_state() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut visited = HashSet::new();
    for _ in 0..2_000 {
        let p = policy().new_tree(&mut runner).unwrap().current();
        let actions = prop::collection::vec(action(), 1..120).new_tree(&mut runner).unwrap().current();
        visited.extend(play(p, actions));
    }
    for state in [
        "idle",
        "reading-certificate",
        "pin-entry",
        "password-entry",
        "proving",
        "checking-validity",
        "resolving-patron",
        "checking-standing",
        "borrowing",
        "account",
        "returning",
        "receipt-choice",
        "printing",
        "ending",
    ] {
        assert!(visited.contains(state), "random runs never reached {state}: {visited:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn patron_session_invariants(policy in policy(), actions in prop::collection::vec(action(), 1..120)) {
        let _visited = play(policy, actions);
    }

    #[test]
    fn pin_pad_never_verifies_unsafely(events in prop::collection::vec(pad_event(), 1..60)) {
        let (mut pad, _) = PinPad::start(Millis(0), Duration::from_secs(30));
        let mut fresh: Option<u8> = None;
        let mut acknowledged = false;
        let mut query_outstanding = true;
        let mut locked = false;
        for (i, ev) in events.into_iter().enumerate() {
            if let PinPadEvent::TriesLeft(n) = ev
                && query_outstanding { fresh = Some(n); acknowledged = false; query_outstanding = false; }
            if ev == PinPadEvent::Key(PinKey::AcknowledgeLastTry) && fresh == Some(1) { acknowledged = true; }
            match pad.on(Millis(i as u64), ev) {
                Some(PinPadEffect::Verify(_)) => {
                    let n = fresh.take().expect("VERIFY without fresh tries");
                    prop_assert!(n >= 1);
                    prop_assert!(n > 1 || acknowledged);
                    prop_assert!(!locked);
                }
                Some(PinPadEffect::QueryTries) => query_outstanding = true,
                Some(PinPadEffect::CardLocked) => { prop_assert!(!locked, "locked twice"); locked = true; }
                None => {}
            }
            prop_assert_eq!(pad.stage() == PinStage::Locked, locked);
            prop_assert!(pad.view().entered <= 4);
        }
    }

    #[test]
    fn admin_lockout_holds(events in prop::collection::vec(admin_event(), 1..80)) {
        let policy = AdminPolicy::default();
        let mut admin = AdminSession::new(policy.clone());
        let mut now = Millis(0);
        let mut failures_in_a_row = 0u8;
        let mut locked_until: Option<Millis> = None;
        for (dt, ev) in events {
            now = Millis(now.0 + dt);
            if locked_until.is_some_and(|u| now >= u) { locked_until = None; failures_in_a_row = 0; }
            let is_check_answer = matches!(ev, AdminEvent::StaffPinChecked { .. });
            for fx in admin.on(now, ev) {
                match fx {
                    AdminEffect::CheckStaffPin(_) => prop_assert!(locked_until.is_none(), "PIN checked during lock-out"),
                    AdminEffect::Audit(AdminAudit::PinRejected { failures }) => {
                        prop_assert!(is_check_answer);
                        failures_in_a_row += 1;
                        prop_assert_eq!(failures, failures_in_a_row);
                    }
                    AdminEffect::Audit(AdminAudit::LockedOut) => {
                        prop_assert_eq!(failures_in_a_row, policy.lockout_attempts);
                        locked_until = Some(now.after(policy.lockout));
                    }
                    AdminEffect::Audit(AdminAudit::LoggedIn) => failures_in_a_row = 0,
                    AdminEffect::Perform(_) | AdminEffect::Audit(_) => {}
                }
            }
        }
    }
}

fn pad_event() -> impl Strategy<Value = PinPadEvent> {
    prop_oneof![
        8 => (0u8..=10).prop_map(|d| PinPadEvent::Key(PinKey::Digit(d))),
        3 => Just(PinPadEvent::Key(PinKey::Submit)),
        1 => Just(PinPadEvent::Key(PinKey::Backspace)),
        1 => Just(PinPadEvent::Key(PinKey::Clear)),
        2 => Just(PinPadEvent::Key(PinKey::AcknowledgeLastTry)),
        3 => (0u8..=4).prop_map(PinPadEvent::TriesLeft),
        2 => Just(PinPadEvent::Verified),
        2 => (0u8..=3).prop_map(|n| PinPadEvent::WrongPin { tries_left: n }),
        1 => Just(PinPadEvent::Blocked),
    ]
}

fn admin_event() -> impl Strategy<Value = (u64, AdminEvent)> {
    let ev = prop_oneof![
        2 => Just(AdminEvent::Open),
        6 => (0u8..=9).prop_map(|d| AdminEvent::Key(PinKey::Digit(d))),
        3 => Just(AdminEvent::Key(PinKey::Submit)),
        4 => Just(AdminEvent::StaffPinChecked { ok: false }),
        1 => any::<bool>().prop_map(|ok| AdminEvent::StaffPinChecked { ok }),
        1 => Just(AdminEvent::Choose(AdminAction::ResetKiosk)),
        1 => Just(AdminEvent::Confirm),
        1 => Just(AdminEvent::CancelConfirm),
        1 => Just(AdminEvent::Close),
        1 => Just(AdminEvent::Tick),
    ];
    (prop_oneof![0u64..1_000, 60_000u64..400_000], ev)
}
