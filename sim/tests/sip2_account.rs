//! The patron's account, renewals and returns against the simulated library system over
//! real TCP on loopback: 50 loans read page by page with titles and due dates, overdue
//! ones marked, holds ready with their shelf; renewal refusals by the library's rules;
//! returns routed to the hold shelf; and every malformed answer the account screen must
//! survive (a count that does not match its list, a list cut short, a 30 or 10 without
//! the item, a renewal that moves the due date back), each a named error or a marked
//! account.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_ils::client::{ACCOUNT_PAGE, Client, ClientConfig, Credentials};
use kiosk_ils::{ItemProblem, Sip2Error, Sip2Library, SipDate};
use kiosk_sim::sip2::{Behaviour, Catalogue, ItemState, Sip2Sim};

fn config(sim: &Sip2Sim) -> ClientConfig {
    let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.location = "KIOSK1".into();
    cfg
}

/// A SIP2 date `days` from now (negative: past), Japan time.
fn date(days: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    SipDate::from_unix(i64::try_from(now).unwrap() + days * 86_400, 9 * 3600).to_string()
}

/// Patron P0100 with 50 loans (3 overdue, due 3 to 1 days ago; the others due in 1 to 47
/// days, listed in a shuffled order), two holds ready, and one loan another patron waits
/// for.
fn catalogue() -> Catalogue {
    let mut c = Catalogue::demo();
    c.patron("P0100", "多読 花子", None, false);
    c.loan_limit = 100;
    for n in 0..50u32 {
        let id = format!("5{n:09}");
        c.item(&id, &format!("蔵書 {n}"));
        // Due dates shuffled against the barcode order: the account sorts them.
        let days = i64::from((n * 37) % 50) - 3;
        c.lend(&id, "P0100", &date(if days == 0 { 48 } else { days }));
    }
    for (id, title) in [("6000000001", "予約した本 一"), ("6000000002", "予約した本 二")] {
        c.item(id, title);
        if let Some(i) = c.items.get_mut(id) {
            i.state = ItemState::OnHoldFor("P0100".into());
        }
    }
    c.hold("5000000001", "P0001");
    c
}

async fn start(behaviour: Behaviour) -> (Sip2Sim, Client) {
    let sim = Sip2Sim::start(catalogue(), behaviour).await.unwrap();
    let client = Client::new(config(&sim));
    (sim, client)
}

#[tokio::test]
async fn fifty_loans_come_page_by_page_sorted_with_the_overdue_marked_and_two_holds_ready() {
    let (sim, mut c) = start(Behaviour::default()).await;
    let a = c.account("P0100", None).await.unwrap();
    assert_eq!(a.loans.len(), 50);
    assert!(!a.incomplete);
    assert_eq!(a.loans.iter().filter(|l| l.overdue).count(), 3, "{a:?}");
    assert!(a.loans[..3].iter().all(|l| l.overdue), "the overdue ones are due soonest");
    let dues: Vec<_> = a.loans.iter().map(|l| kiosk_ils::due_date_key(&l.due).unwrap()).collect();
    assert!(dues.windows(2).all(|w| w[0] <= w[1]), "sorted by due date");
    assert!(a.loans.iter().all(|l| l.title.starts_with("蔵書 ")), "titles from item information");
    assert_eq!(a.holds_ready.len(), 2);
    assert_eq!(a.holds_ready[0].title, "予約した本 一");
    assert_eq!(a.holds_ready[0].pickup.as_deref(), Some("本館 予約棚"));
    assert!(a.holds_ready[0].until.is_some());
    assert!(a.flags.0.iter().all(|f| !f));
    // Pages of 20: three 63s for the loans, one each for the overdue list and the holds.
    let asked = sim.stats().requests.get("63").copied().unwrap_or_default();
    assert_eq!(asked, 50u64.div_ceil(ACCOUNT_PAGE as u64) + 2, "{:?}", sim.stats().requests);
}

#[tokio::test]
async fn a_blocked_patron_and_a_lost_card_are_named_by_their_flags_and_message() {
    let (sim, mut c) = start(Behaviour::default()).await;
    let blocked = c.account("P0003", None).await.unwrap();
    assert!(blocked.flags.denies_borrowing());
    assert!(blocked.flags.0[kiosk_ils::messages::PatronStatusFlags::EXCESSIVE_FINES]);
    assert_eq!(blocked.message.as_deref(), Some("延滞資料があります。カウンターへお越しください"));
    sim.catalogue(|c| {
        if let Some(p) = c.patrons.get_mut("P0002") {
            p.card_lost = true;
        }
    });
    let lost = c.account("P0002", None).await.unwrap();
    assert!(lost.flags.0[kiosk_ils::messages::PatronStatusFlags::CARD_REPORTED_LOST]);
}

#[tokio::test]
async fn renewals_follow_the_librarys_rules_each_with_its_reason() {
    let (sim, mut c) = start(Behaviour::default()).await;
    let a = c.account("P0100", None).await.unwrap();
    let due_of = |id: &str| a.loans.iter().find(|l| l.item == id).unwrap().due.clone();
    // Renewed: the due date moves on.
    let before = due_of("5000000002");
    let loan = c.renew("P0100", "5000000002", Some(&before)).await.unwrap().unwrap();
    assert!(loan.renewed);
    assert!(kiosk_ils::due_date_key(&loan.due) > kiosk_ils::due_date_key(&before));
    // Someone waits for it: refused as on hold for another.
    let held = c.renew("P0100", "5000000001", Some(&due_of("5000000001"))).await.unwrap();
    assert_eq!(held, Err(ItemProblem::OnHoldForAnother));
    // The renewal limit (2): the third is refused with the library system's words.
    c.renew("P0100", "5000000002", None).await.unwrap().unwrap();
    let third = c.renew("P0100", "5000000002", None).await.unwrap();
    assert!(matches!(&third, Err(ItemProblem::Refused(Some(m))) if m.contains("Renewal limit")), "{third:?}");
    assert_eq!(sim.item("5000000002").unwrap().renewals_executed, 2);
    // Not the patron's: refused.
    let other = c.renew("P0100", "1000000001", None).await.unwrap();
    assert!(other.is_err(), "{other:?}");
}

#[tokio::test]
async fn a_count_that_does_not_match_its_list_is_a_named_error() {
    let (sim, mut c) = start(Behaviour::default()).await;
    sim.catalogue(|c| c.lend("1000000001", "P0001", "20991231    000000"));
    sim.faults(|f| f.miscount_lists = 1);
    let err = c.account("P0001", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::ListLonger { counted: 0, listed: 1, .. }), "{err}");
    assert!(err.to_string().contains("inconsistent"), "{err}");
    // The next answer is whole again.
    assert_eq!(c.account("P0001", None).await.unwrap().loans.len(), 1);
}

#[tokio::test]
async fn a_list_cut_short_by_the_servers_frame_limit_is_shown_and_marked_incomplete() {
    let (_sim, mut c) = start(Behaviour { list_limit: Some(12), ..Behaviour::default() }).await;
    let a = c.account("P0100", None).await.unwrap();
    assert_eq!(a.loans.len(), 12, "what the server sent");
    assert!(a.incomplete, "and the patron is told it is not everything");
}

#[tokio::test]
async fn a_renewal_or_return_answered_without_the_item_is_a_named_error() {
    let (sim, mut c) = start(Behaviour::default()).await;
    sim.faults(|f| f.omit_item_id = 1);
    let err = c.renew("P0100", "5000000003", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::MissingItem { command: "renew (29)" }), "{err}");
    assert!(err.outcome_unknown(), "checked from the item's status, never guessed");
    sim.faults(|f| f.omit_item_id = 1);
    let err = c.checkin("5000000004").await.unwrap_err();
    assert!(matches!(err, Sip2Error::MissingItem { command: "checkin (09)" }), "{err}");
}

#[tokio::test]
async fn a_renewal_that_moves_the_due_date_back_is_named() {
    let (sim, mut c) = start(Behaviour::default()).await;
    sim.faults(|f| f.renew_moves_back = 1);
    let before = date(10);
    sim.catalogue(|c| c.lend("5000000005", "P0100", &before));
    let err = c.renew("P0100", "5000000005", Some(&before)).await.unwrap_err();
    assert!(matches!(err, Sip2Error::DueDateMovedBack { .. }), "{err}");
    assert!(err.to_string().contains("moved its due date back"), "{err}");
    assert!(!err.outcome_unknown(), "the library system did answer");
}

#[tokio::test]
async fn a_return_goes_to_the_hold_shelf_when_someone_waits_and_a_second_return_is_named() {
    let (sim, mut c) = start(Behaviour::default()).await;
    let held = c.checkin("5000000001").await.unwrap().unwrap();
    assert!(held.alert, "staff or the patron must route it");
    assert_eq!(held.destination.as_deref(), Some("本館 予約棚"));
    assert_eq!(held.title.as_deref(), Some("蔵書 1"));
    assert_eq!(sim.item("5000000001").unwrap().state, ItemState::OnHoldFor("P0001".into()));
    let plain = c.checkin("5000000006").await.unwrap().unwrap();
    assert!(!plain.alert && plain.destination.is_none());
    // The same book again: not on loan, named (the library system still knows it).
    assert_eq!(c.checkin("5000000006").await.unwrap(), Err(ItemProblem::NotCheckedOut));
    assert_eq!(sim.item("5000000006").unwrap().returns_executed, 1);
    assert_eq!(c.checkin("9999999999").await.unwrap(), Err(ItemProblem::NotFound));
}

#[tokio::test]
async fn reconciliation_tells_a_renewal_or_return_that_happened_from_one_that_did_not() {
    let sim = Sip2Sim::start(catalogue(), Behaviour::default()).await.unwrap();
    let lib = Sip2Library::new(config(&sim));
    let before = date(5);
    sim.catalogue(|c| c.lend("5000000007", "P0100", &before));
    assert!(!lib.reconcile_renewal("5000000007", &kiosk_ils::display_due_date(&before)).await.unwrap());
    use kiosk_ils::Library;
    lib.renew("P0100", "5000000007", Some(&before)).await.unwrap().unwrap();
    assert!(lib.reconcile_renewal("5000000007", &kiosk_ils::display_due_date(&before)).await.unwrap());
    assert!(!lib.reconcile_return("5000000008").await.unwrap());
    lib.return_item("5000000008").await.unwrap().unwrap();
    assert!(lib.reconcile_return("5000000008").await.unwrap());
}

#[tokio::test]
async fn a_renewal_or_return_is_never_sent_twice_by_the_client() {
    let (sim, mut c) = start(Behaviour::default()).await;
    // The connection closes under the renewal: not sent again on a new one.
    sim.faults(|f| f.disconnect_after_renewal = 1);
    c.item_information("5000000012").await.unwrap(); // a connection to close under
    let err = c.renew("P0100", "5000000012", None).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    assert_eq!(sim.item("5000000012").unwrap().renewals_executed, 1);
    // No answer in time: not sent again (the journal reconciles it).
    let mut cfg = config(&sim);
    // Wide margins: a loaded machine must not turn the login's answer into a timeout.
    cfg.request_timeout = Duration::from_secs(1);
    let mut quick = Client::new(cfg);
    sim.faults(|f| f.delay_renewal_reply = Some(Duration::from_secs(4)));
    let err = quick.renew("P0100", "5000000013", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::Timeout { attempts: 1, .. }), "{err}");
    // The same for a return.
    c.item_information("5000000014").await.unwrap();
    sim.faults(|f| f.disconnect_after_return = 1);
    let err = c.checkin("5000000014").await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(sim.item("5000000013").unwrap().renewals_executed, 1);
    assert_eq!(sim.item("5000000014").unwrap().returns_executed, 1);
}

#[tokio::test]
async fn a_request_abandoned_by_its_caller_leaves_no_stale_reply_for_the_next() {
    let (sim, mut c) = start(Behaviour::default()).await;
    c.item_information("5000000015").await.unwrap();
    sim.faults(|f| f.delay_renewal_reply = Some(Duration::from_millis(500)));
    // The caller gives up on the renewal (its own timeout) before the reply comes.
    let abandoned =
        tokio::time::timeout(Duration::from_millis(100), c.renew("P0100", "5000000015", None)).await;
    assert!(abandoned.is_err());
    tokio::time::sleep(Duration::from_millis(600)).await;
    // The next request gets its own answer, not the renewal's late one.
    let info = c.item_information("5000000016").await.unwrap();
    assert_eq!(info.item, "5000000016");
    let a = c.account("P0100", None).await.unwrap();
    assert_eq!(a.loans.len(), 50);
}
