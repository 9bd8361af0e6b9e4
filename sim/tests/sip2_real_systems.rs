//! What real library systems do that the standard leaves open, each against the
//! simulator in the matching mode, over real TCP on loopback (or, where only tokio's
//! paused clock makes the case exact, the in-process pipe with the same frames):
//! 1. an idle connection closed by the server is found closed and opened again, and the
//!    keep-alive follows the server's timeout;
//! 2. a `97` answered with `AY0` and text encoded twice is accepted and repaired, and the
//!    request is sent again instead where that is harmless;
//! 3. a repeat checkout answered as a renewal is reported as one;
//! 4. reconciliation finds a loan whose charged items are listed by title, or by the
//!    borrower named in item information;
//! 5. a 98 that refuses checkout is named, with its override.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use kiosk_ils::client::{Client, ClientConfig, Credentials, Reconciled};
use kiosk_ils::{
    ChargedItems, CheckoutPermission, ItemProblem, Library, Profile, Resend, Sip2Error, Sip2Library,
};
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};

fn config(sim: &Sip2Sim, profile: Profile) -> ClientConfig {
    let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    cfg.location = "KIOSK1".into();
    // Generous: a busy machine must not turn a slow answer into a resend.
    cfg.request_timeout = Duration::from_secs(5);
    cfg.max_request_timeout = Duration::from_secs(60);
    cfg.resend = profile.resend();
    cfg.charged_items = profile.charged_items();
    cfg
}

async fn sim(behaviour: Behaviour) -> Sip2Sim {
    Sip2Sim::start(Catalogue::demo(), behaviour).await.unwrap()
}

/// Waits (bounded, generously) until `done` holds.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// 1. Idle connections.

/// The library system closes the kiosk's connection while nobody borrows; the next
/// patron is checked and borrows without an error, the book lent once.
#[tokio::test]
async fn the_next_patron_borrows_after_the_server_closed_the_idle_connection() {
    let behaviour =
        Behaviour { idle_close: Some(Duration::from_millis(300)), ..Behaviour::profile(Profile::Evergreen) };
    let sim = sim(behaviour).await;
    let lib = Sip2Library::new(config(&sim, Profile::Evergreen));
    lib.patron("P0001", Some("1234")).await.unwrap().unwrap();
    lib.checkout("P0001", "1000000001").await.unwrap().unwrap();
    lib.end_session("P0001").await.unwrap();
    wait_for("the server to close the idle connection", || sim.stats().idle_closes == 1).await;

    let standing = lib.patron("P0002", None).await.unwrap().unwrap();
    assert_eq!(standing.name, "Alice Smith");
    let loan = lib.checkout("P0002", "1000000003").await.unwrap().unwrap();
    assert_eq!(loan.title, "ポケットモンスター図鑑　第２版");
    assert!(!loan.recovered && !loan.renewed);
    assert_eq!(sim.item("1000000003").unwrap().checkouts_executed, 1);
    assert_eq!(sim.stats().duplicate_checkouts, 0);
    assert_eq!(lib.stats().await.reconnects, 1);
}

/// On tokio's paused clock the closed connection is seen before anything is sent: the
/// checkout goes out once, on the new connection, with nothing to reconcile.
#[tokio::test(start_paused = true)]
async fn a_connection_found_closed_is_replaced_before_the_checkout_goes_out() {
    let behaviour = Behaviour::profile(Profile::Evergreen);
    assert_eq!(behaviour.idle_close, Some(Duration::from_secs(60)));
    let sim = Sip2Sim::in_process(Catalogue::demo(), behaviour);
    let mut cfg = config(&sim, Profile::Evergreen);
    cfg.in_process = Some(sim.peer());
    let mut c = Client::new(cfg);
    c.patron_status("P0002", None).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_secs(61)).await;
    assert_eq!(sim.stats().idle_closes, 1);

    let loan = c.checkout("P0002", "2000000001").await.unwrap().unwrap();
    assert!(!loan.recovered);
    let s = c.stats();
    assert_eq!((s.reconnects, s.sent_again_after_close, s.reconciliations), (1, 0, 0));
    let sim_stats = sim.stats();
    assert_eq!(sim_stats.requests.get("11"), Some(&1));
    assert_eq!(sim_stats.connections, 2);
}

/// A server that closes the connection just as a request arrives: a patron status is
/// sent once more on a new connection; a checkout is not, it is reconciled.
#[tokio::test]
async fn a_request_the_server_closes_under_is_sent_once_more_but_a_checkout_is_reconciled() {
    let sim = sim(Behaviour::default()).await;
    let mut c = Client::new(config(&sim, Profile::Generic));
    c.connect().await.unwrap();
    sim.faults(|f| f.disconnect_on_request = 1);
    c.patron_status("P0002", None).await.unwrap().unwrap();
    assert_eq!((c.stats().sent_again_after_close, sim.stats().closed_on_request), (1, 1));

    sim.faults(|f| f.disconnect_on_request = 1);
    let loan = c.checkout("P0002", "2000000001").await.unwrap().unwrap();
    assert!(!loan.recovered);
    let s = c.stats();
    assert_eq!((s.sent_again_after_close, s.reconciliations), (1, 1));
    assert_eq!(sim.item("2000000001").unwrap().checkouts_executed, 1);
}

#[tokio::test]
async fn keep_alive_is_half_the_servers_timeout_when_that_is_shorter() {
    let sim = sim(Behaviour::profile(Profile::Evergreen)).await;
    let interval = |keepalive_s: u64| {
        let mut cfg = config(&sim, Profile::Evergreen);
        cfg.keepalive = Duration::from_secs(keepalive_s);
        async move {
            let mut c = Client::new(cfg);
            assert_eq!(c.keepalive_interval(), Duration::from_secs(keepalive_s), "before any 98");
            c.connect().await.unwrap();
            c.keepalive_interval()
        }
    };
    // The 98 says 60 s (600 tenths): the keep-alive runs at 30 s unless configured shorter.
    assert_eq!(interval(240).await, Duration::from_secs(30));
    assert_eq!(interval(20).await, Duration::from_secs(20));
    // A 98 timeout of 5 s is a request timeout, not an idle limit: not below 10 s.
    sim.behaviour(|b| b.timeout_period = 50);
    assert_eq!(interval(240).await, Duration::from_secs(10));
    // 999: unknown; the configured interval.
    sim.behaviour(|b| b.timeout_period = 999);
    assert_eq!(interval(240).await, Duration::from_secs(240));
}

/// With the keep-alive running, a server that closes connections idle for 60 s never
/// closes the kiosk's: ten quiet minutes on the paused clock, one connection.
#[tokio::test(start_paused = true)]
async fn keep_alive_holds_the_connection_a_server_would_close() {
    let sim = Sip2Sim::in_process(Catalogue::demo(), Behaviour::profile(Profile::Evergreen));
    let mut cfg = config(&sim, Profile::Evergreen);
    cfg.in_process = Some(sim.peer());
    let lib = Sip2Library::new(cfg);
    lib.patron("P0002", None).await.unwrap().unwrap();
    let task = lib.spawn_keepalive();
    tokio::time::sleep(Duration::from_secs(600)).await;
    task.abort();
    assert_eq!(sim.stats().idle_closes, 0);
    assert!(lib.stats().await.keepalives >= 10, "{:?}", lib.stats().await);
    lib.checkout("P0002", "2000000001").await.unwrap().unwrap();
    assert_eq!((lib.stats().await.reconnects, sim.stats().connections), (0, 1));
}

/// The keep-alive that finds the connection closed (the server restarted) opens a new
/// one at once, before any patron needs it.
#[tokio::test(start_paused = true)]
async fn keep_alive_reconnects_when_the_server_closed_the_connection() {
    let behaviour = Behaviour { idle_close: Some(Duration::from_secs(5)), ..Behaviour::default() };
    let sim = Sip2Sim::in_process(Catalogue::demo(), behaviour);
    let mut cfg = config(&sim, Profile::Generic);
    cfg.in_process = Some(sim.peer());
    cfg.keepalive = Duration::from_secs(240);
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(sim.stats().idle_closes, 1);
    c.keep_alive().await.unwrap();
    assert!(c.is_connected());
    assert_eq!((c.stats().reconnects, sim.stats().connections), (1, 2));
}

// 2. Resend.

/// Evergreen answers a 97 with its last reply rebuilt: AY0, text encoded twice. With
/// `resend = "97"` the answer is accepted and its title repaired.
#[tokio::test]
async fn a_97_answered_with_ay0_and_twice_encoded_text_is_accepted_and_repaired() {
    let sim = sim(Behaviour::profile(Profile::Evergreen)).await;
    let mut cfg = config(&sim, Profile::Evergreen);
    cfg.resend = Resend::AcsResend;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    sim.faults(|f| f.corrupt_checksum = 1);
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert_eq!(loan.title, "ポケットモンスター図鑑　第２版");
    assert!(!loan.recovered);
    assert_eq!((sim.stats().acs_resends, c.stats().acs_resend_requests), (1, 1));
    assert_eq!(sim.item("1000000003").unwrap().checkouts_executed, 1);
    // Patron status too: before, AY0 made this a sequence mismatch.
    sim.faults(|f| f.corrupt_checksum = 1);
    let standing = c.patron_status("P0001", Some("1234")).await.unwrap().unwrap();
    assert_eq!(standing.name, "山田 太郎");
    assert_eq!(sim.stats().acs_resends, 2);
}

/// `resend = "request"`: a patron status is asked again with the same request (no 97),
/// unless it carries the patron's password (sent once: a 97); a checkout is reconciled,
/// never sent twice; a renewal still uses the 97.
#[tokio::test]
async fn request_mode_sends_harmless_requests_again_and_reconciles_a_checkout() {
    let sim = sim(Behaviour::profile(Profile::Evergreen)).await;
    let cfg = config(&sim, Profile::Evergreen);
    assert_eq!(cfg.resend, Resend::Request);
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    sim.faults(|f| f.corrupt_checksum = 1);
    c.patron_status("P0001", None).await.unwrap().unwrap();
    assert_eq!(sim.stats().requests.get("23"), Some(&2));
    assert_eq!(sim.stats().acs_resends, 0);
    sim.faults(|f| f.corrupt_checksum = 1);
    c.patron_status("P0001", Some("1234")).await.unwrap().unwrap();
    assert_eq!(sim.stats().requests.get("23"), Some(&3), "a password is sent once");
    assert_eq!(sim.stats().acs_resends, 1);

    sim.faults(|f| f.corrupt_checksum = 1);
    let loan = c.checkout("P0001", "1000000002").await.unwrap().unwrap();
    assert_eq!(loan.title, "ノルウェイの森");
    assert!(loan.recovered);
    assert_eq!(c.stats().reconciliations, 1);
    assert_eq!(sim.item("1000000002").unwrap().checkouts_executed, 1);
    assert_eq!((sim.stats().duplicate_checkouts, sim.stats().acs_resends), (0, 1));

    sim.faults(|f| f.corrupt_checksum = 1);
    let renewed = c.renew("P0001", "1000000002", None).await.unwrap().unwrap();
    assert_eq!(renewed.title, "ノルウェイの森");
    assert_eq!(sim.stats().acs_resends, 2);
}

// 3. A repeat checkout.

#[tokio::test]
async fn a_repeat_checkout_answered_as_a_renewal_is_reported_as_renewed() {
    let sim = sim(Behaviour::profile(Profile::Sierra)).await;
    let mut c = Client::new(config(&sim, Profile::Sierra));
    let first = c.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert!(!first.renewed && !first.recovered);
    let again = c.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert!(again.renewed, "{again:?}");
    assert!(!again.recovered);
    assert_eq!(again.title, "吾輩は猫である");
    assert_eq!(again.due.len(), 18);
    assert_eq!(sim.loans_of("P0001"), ["1000000001"]);
    assert_eq!((sim.stats().checkouts_applied, sim.stats().duplicate_checkouts), (1, 1));
}

// 4. Reconciliation without barcodes in AU.

#[tokio::test]
async fn reconciliation_finds_a_loan_listed_by_title() {
    let sim = sim(Behaviour::profile(Profile::Evergreen)).await;
    let cfg = config(&sim, Profile::Evergreen);
    assert_eq!(cfg.charged_items, ChargedItems::Title);
    let mut c = Client::new(cfg);
    sim.faults(|f| f.disconnect_after_checkout = 1);
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert!(loan.recovered);
    assert_eq!(loan.title, "ポケットモンスター図鑑　第２版");
    assert_eq!(sim.stats().requests.get("63"), Some(&1));
    assert_eq!(sim.item("1000000003").unwrap().checkouts_executed, 1);
    // Matched by barcode only, the same titles would say "on loan to another patron":
    // what ils.charged_items = "title" is for.
    let mut cfg = config(&sim, Profile::Evergreen);
    cfg.charged_items = ChargedItems::Barcode;
    let r = Client::new(cfg).reconcile_checkout("P0001", "1000000003").await.unwrap();
    assert_eq!(r, Reconciled::Other(ItemProblem::OnLoanToAnother));
    // Someone else's loan of another copy is not taken for the patron's.
    let r = c.reconcile_checkout("P0002", "1000000003").await.unwrap();
    assert_eq!(r, Reconciled::Other(ItemProblem::OnLoanToAnother));
}

#[tokio::test]
async fn reconciliation_takes_the_borrower_item_information_names() {
    let behaviour = Behaviour {
        item_information_names_patron: true,
        charged_items_titles: true,
        ..Behaviour::profile(Profile::Generic)
    };
    let sim = sim(behaviour).await;
    let mut c = Client::new(config(&sim, Profile::Generic));
    sim.faults(|f| f.disconnect_after_checkout = 1);
    let loan = c.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert!(loan.recovered);
    // Decided by item information alone, with barcode matching configured.
    assert_eq!(sim.stats().requests.get("63"), None);
    let r = c.reconcile_checkout("P0002", "1000000001").await.unwrap();
    assert_eq!(r, Reconciled::Other(ItemProblem::OnLoanToAnother));
    assert_eq!(sim.stats().requests.get("63"), None);
}

// 5. A 98 that refuses checkout.

#[tokio::test]
async fn a_98_refusing_checkout_is_named_with_its_override() {
    let sim = sim(Behaviour { lie_checkout_not_ok: true, ..Behaviour::default() }).await;
    let mut c = Client::new(config(&sim, Profile::Generic));
    assert_eq!(c.checkout_permission(), CheckoutPermission::Unknown);
    let err = c.checkout("P0001", "1000000001").await.unwrap_err();
    assert!(matches!(err, Sip2Error::NotAllowed { what: "checkout" }), "{err}");
    assert!(err.to_string().contains("ils.override_checkout_not_allowed = true"), "{err}");
    assert_eq!(c.checkout_permission(), CheckoutPermission::RefusedByServer);
    // Returns still work.
    c.checkin("2000000002").await.unwrap().unwrap();

    let mut cfg = config(&sim, Profile::Generic);
    cfg.checkout_allowed_override = Some(true);
    let lib = Sip2Library::new(cfg);
    lib.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert_eq!(lib.checkout_permission().await, CheckoutPermission::Overridden);
    sim.behaviour(|b| b.lie_checkout_not_ok = false);
    let mut c = Client::new(config(&sim, Profile::Generic));
    c.connect().await.unwrap();
    assert_eq!(c.checkout_permission(), CheckoutPermission::Allowed);
}

// Every profile, end to end.

#[tokio::test]
async fn every_profile_passes_the_checkout_scenario() {
    for profile in Profile::ALL {
        let sim = sim(Behaviour::profile(profile)).await;
        let mut c = Client::new(config(&sim, profile));
        common::checkout_scenario(&mut c).await;
        assert_eq!(sim.loans_of("P0001"), ["1000000001", "2000000001"], "{profile:?}");
        assert_eq!(sim.stats().duplicate_checkouts, 0, "{profile:?}");
    }
}

/// The simulator's Evergreen mode on the wire: the answer to a 97 carries `AY0` and the
/// title's UTF-8 bytes encoded once more, under a checksum that is valid for them.
#[tokio::test]
async fn the_simulator_answers_97_like_evergreen() {
    use kiosk_ils::codec::checksum_verifies;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let sim = sim(Behaviour { login: None, ..Behaviour::profile(Profile::Evergreen) }).await;
    let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let read = async |s: &mut tokio::net::TcpStream| {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while got.last() != Some(&b'\r') {
            assert_eq!(s.read(&mut byte).await.unwrap(), 1, "closed");
            got.push(byte[0]);
        }
        got.pop();
        got
    };
    let mut item = b"1720261123    003420AOKIOSKLIB|AB1000000001|AY4AZ".to_vec();
    let sum = kiosk_ils::codec::checksum(&item);
    item.extend_from_slice(&sum);
    item.push(b'\r');
    s.write_all(&item).await.unwrap();
    let first = read(&mut s).await;
    assert!(first.windows(4).any(|w| w == b"AY4A"));
    assert!(first.windows("吾輩".len()).any(|w| w == "吾輩".as_bytes()));
    s.write_all(b"97AZFEF5\r").await.unwrap();
    let again = read(&mut s).await;
    let n = again.len();
    assert_eq!(&again[n - 9..n - 4], b"AY0AZ");
    assert!(checksum_verifies(&again[..n - 4], &again[n - 4..]));
    let twice: String = "吾輩".bytes().map(char::from).collect();
    assert!(again.windows(twice.len()).any(|w| w == twice.as_bytes()));
    // Repaired, it is the first answer again but for its sequence number.
    let fixed = kiosk_ils::dialect::undo_double_utf8(&again).unwrap();
    assert_eq!(fixed[..fixed.len() - 9], first[..first.len() - 9]);
}
