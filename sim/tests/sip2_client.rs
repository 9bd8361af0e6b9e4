//! The SIP2 client against the simulated library system over real TCP on loopback:
//! the checkout scenario, every named refusal, and every fault.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use kiosk_ils::client::{Client, ClientConfig, Credentials, OfflineCheckout};
use kiosk_sim::sip2::{Behaviour, Catalogue, ItemState, Sip2Sim};
mod common;

use common::checkout_scenario;
use kiosk_ils::{
    DecodeError, ItemProblem, Library, PatronProblem, Refused, Resend, Sip2Error, Sip2Library, SipDate,
};

fn config(sim: &Sip2Sim) -> ClientConfig {
    let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials {
        user: "kiosk".into(),
        password: "secret".into(),
        location: Some("KIOSK1".into()),
    });
    // Generous: on a busy machine a reply may be late, and a test that does not expect a
    // resend must not get one. Tests of resends set a shorter timeout of their own.
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.location = "KIOSK1".into();
    cfg
}

async fn sim() -> Sip2Sim {
    Sip2Sim::start(Catalogue::demo(), Behaviour::default()).await.unwrap()
}

#[tokio::test]
async fn checkout_scenario_against_the_simulator() {
    let sim = sim().await;
    let mut client = Client::new(config(&sim));
    checkout_scenario(&mut client).await;
    assert_eq!(sim.loans_of("P0001"), ["1000000001", "2000000001"]);
    let stats = sim.stats();
    assert_eq!((stats.checkouts_applied, stats.duplicate_checkouts, stats.no_block_checkouts), (2, 0, 0));
    assert_eq!(stats.connections, 1);
}

#[tokio::test]
async fn patron_outcomes_are_named() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    assert_eq!(c.patron_status("P0001", Some("9999")).await.unwrap(), Err(PatronProblem::WrongPassword));
    assert_eq!(c.patron_status("P0001", None).await.unwrap().map(|s| s.name), Ok("山田 太郎".into()));
    assert_eq!(c.patron_status("NOBODY", Some("1234")).await.unwrap(), Err(PatronProblem::Unknown));
    assert_eq!(c.patron_status("NOBODY", None).await.unwrap(), Err(PatronProblem::Unknown));
    let Err(PatronProblem::Blocked { reasons, message }) = c.patron_status("P0003", None).await.unwrap()
    else {
        panic!("blocked patron not refused")
    };
    assert!(reasons.contains(&"excessive outstanding fines"));
    assert!(message.unwrap().contains("カウンター"));
}

#[tokio::test]
async fn a_password_the_charset_cannot_carry_is_refused_before_sending() {
    let behaviour = Behaviour { charset: kiosk_ils::Charset::Cp932, ..Behaviour::default() };
    let sim = Sip2Sim::start(Catalogue::demo(), behaviour).await.unwrap();
    let mut cfg = config(&sim);
    cfg.charset = kiosk_ils::Charset::Cp932;
    let mut c = Client::new(cfg);
    let err = c.patron_status("P0001", Some("12🔑34")).await.unwrap_err();
    assert!(
        matches!(
            err,
            Sip2Error::Encode(kiosk_ils::EncodeError::Unmappable { charset: kiosk_ils::Charset::Cp932 })
        ),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(!shown.contains("12") && !shown.contains("34"), "the password is never in a message: {shown}");
    assert_eq!(sim.stats().requests.get("23").copied().unwrap_or(0), 0, "nothing reached the library system");
    // The client goes on: the right password in the same charset is checked as usual.
    assert_eq!(c.patron_status("P0001", Some("1234")).await.unwrap().map(|s| s.name), Ok("山田 太郎".into()));
    assert_eq!(sim.stats().requests.get("23").copied(), Some(1));
}

#[tokio::test]
async fn item_outcomes_are_named() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    // Each refusal is named, with the item's title where the library system has one (so
    // the patron is told which book, not a barcode).
    let refused = |problem, title: Option<&str>| Err(Refused { problem, title: title.map(str::to_owned) });
    assert_eq!(
        c.checkout("P0002", "3000000001").await.unwrap(),
        refused(ItemProblem::OnHoldForAnother, Some("Le Piège de Bogota"))
    );
    assert_eq!(
        c.checkout("P0002", "2000000002").await.unwrap(),
        refused(ItemProblem::OnLoanToAnother, Some("Perl 5 Desktop Reference"))
    );
    assert_eq!(c.checkout("P0002", "0000").await.unwrap(), refused(ItemProblem::NotFound, None));
    // Loan limit: a refusal with the library's message.
    sim.catalogue(|c| c.loan_limit = 1);
    c.checkout("P0002", "1000000002").await.unwrap().unwrap();
    let Err(Refused { problem: ItemProblem::Refused(Some(msg)), title }) =
        c.checkout("P0002", "1000000001").await.unwrap()
    else {
        panic!()
    };
    assert!(msg.contains("Loan limit"));
    assert_eq!(title.as_deref(), Some("吾輩は猫である"));
    // Renew, account, return.
    let renewed = c.renew("P0002", "1000000002", None).await.unwrap().unwrap();
    assert_eq!(renewed.title, "ノルウェイの森");
    let account = c.account("P0002", None).await.unwrap();
    let loans: Vec<&str> = account.loans.iter().map(|l| l.item.as_str()).collect();
    assert_eq!(loans, ["1000000002"]);
    assert_eq!(account.loans[0].title, "ノルウェイの森");
    let back = c.checkin("1000000002").await.unwrap().unwrap();
    assert!(!back.alert);
    assert_eq!(sim.item("1000000002").unwrap().state, ItemState::Available);
    assert_eq!(c.checkin("0000").await.unwrap(), Err(ItemProblem::NotFound));
    let holds = c.account("P0004", None).await.unwrap();
    assert_eq!(holds.holds_ready.len(), 1);
    assert_eq!(holds.holds_ready[0].item, "3000000001");
}

#[tokio::test]
async fn login_refused_is_named() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "wrong".into(), location: None });
    let err = Client::new(cfg).patron_status("P0001", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::LoginRefused { ref user } if user == "kiosk"), "{err}");
    assert!(err.to_string().contains("password"));
}

#[tokio::test]
async fn unreachable_library_system_is_named() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    drop(sim);
    tokio::time::sleep(Duration::from_millis(20)).await;
    cfg.connect_timeout = Duration::from_millis(500);
    let err = Client::new(cfg).patron_status("P0001", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::Connect { .. } | Sip2Error::Disconnected { .. }), "{err}");
}

#[tokio::test]
async fn offline_library_system_is_named() {
    let sim = sim().await;
    sim.behaviour(|b| b.online = false);
    let err = Client::new(config(&sim)).patron_status("P0001", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::Offline), "{err}");
}

#[tokio::test]
async fn server_timeout_and_retries_are_honoured() {
    let sim = sim().await;
    sim.behaviour(|b| {
        b.timeout_period = 10;
        b.retries_allowed = 1;
    });
    let mut c = Client::new(config(&sim));
    c.connect().await.unwrap();
    assert_eq!(c.request_timeout(), Duration::from_secs(1));
    // With retries 1: one resend, then a timeout error after two waits.
    sim.faults(|f| f.drop_checkout_reply = 1);
    sim.behaviour(|b| b.replay_duplicates = false);
    sim.catalogue(|cat| cat.item("X1", "t"));
    // Re-executed resend becomes a renewal (Evergreen-like) and is reported as recovered.
    let loan = c.checkout("P0002", "X1").await.unwrap().unwrap();
    assert!(loan.recovered);
    assert_eq!(c.stats().resends, 1);
}

#[tokio::test]
async fn lost_reply_is_resent_byte_identically_and_answered_from_the_cache() {
    let sim = sim().await;
    // The reply never comes: the resend goes after 1 s; its answer from the cache has 1 s.
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_secs(1);
    let mut c = Client::new(cfg);
    sim.faults(|f| f.drop_checkout_reply = 1);
    let loan = c.checkout("P0001", "1000000002").await.unwrap().unwrap();
    assert_eq!(loan.title, "ノルウェイの森");
    let s = sim.stats();
    assert_eq!((s.checkouts_applied, s.duplicate_checkouts, s.replayed_from_cache), (1, 0, 1));
    assert_eq!(c.stats().resends, 1);
}

#[tokio::test]
async fn late_reply_is_accepted_and_its_duplicate_dropped() {
    let sim = sim().await;
    // Resent after 1 s; the reply comes at 1.5 s, half a second either side of the resend
    // and of the second wait's end.
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_secs(1);
    let mut c = Client::new(cfg);
    sim.faults(|f| f.delay_checkout_reply = Some(Duration::from_millis(1500)));
    let loan = c.checkout("P0001", "1000000002").await.unwrap().unwrap();
    assert!(!loan.recovered);
    // The cached replay of the resend arrives after; the next request is not confused.
    let info = c.item_information("1000000002").await.unwrap();
    assert!(info.circulation_status.is_charged());
    let s = sim.stats();
    assert_eq!((s.checkouts_applied, s.duplicate_checkouts), (1, 0));
}

#[tokio::test]
async fn disconnect_after_applying_a_checkout_is_reconciled_not_repeated() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    sim.faults(|f| f.disconnect_after_checkout = 1);
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert!(loan.recovered);
    assert_eq!(loan.title, "ポケットモンスター図鑑　第２版");
    let s = sim.stats();
    assert_eq!((s.checkouts_applied, s.duplicate_checkouts, s.connections), (1, 0, 2));
    assert_eq!(c.stats().reconciliations, 1);
}

#[tokio::test]
async fn disconnect_before_applying_a_checkout_is_retried_once_reconciled() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    sim.faults(|f| f.disconnect_before_checkout = 1);
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert!(!loan.recovered);
    let s = sim.stats();
    assert_eq!((s.checkouts_applied, s.duplicate_checkouts), (1, 0));
    assert_eq!(sim.item("1000000003").unwrap().checkouts_executed, 1);
}

#[tokio::test]
async fn server_gone_for_good_leaves_the_outcome_unknown_not_guessed() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.checkout_attempts = 2;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    sim.faults(|f| {
        f.disconnect_after_checkout = 1;
        f.disconnect_before_checkout = 0;
    });
    sim.behaviour(|b| b.login = Some(("kiosk".into(), "changed".into())));
    let err = c.checkout("P0001", "1000000001").await.unwrap_err();
    assert!(matches!(err, Sip2Error::OutcomeUnknown { ref item } if item == "1000000001"), "{err}");
}

#[tokio::test]
async fn bad_checksum_gets_one_97_then_fails_clearly() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.resend = Resend::AcsResend;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    sim.faults(|f| f.corrupt_checksum = 1);
    c.patron_status("P0002", None).await.unwrap().unwrap();
    assert_eq!(sim.stats().acs_resends, 1);
    sim.faults(|f| f.corrupt_checksum = 2);
    let err = c.patron_status("P0002", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::ChecksumFailed { .. }), "{err}");
    assert!(err.to_string().contains("character set"));
    assert_eq!(sim.stats().acs_resends, 2);
    // The next request reconnects and works.
    c.patron_status("P0002", None).await.unwrap().unwrap();
}

#[tokio::test]
async fn garbage_huge_frames_wrong_sequence_and_unknown_ids_are_named() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.max_frame = 8 * 1024;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    sim.faults(|f| f.garbage = 1);
    let err = c.patron_status("P0002", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::Garbage(_)), "{err}");
    sim.faults(|f| f.huge_frame = 1);
    let err = c.patron_status("P0002", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::Garbage(DecodeError::FrameTooLong { limit: 8192 })), "{err}");
    sim.faults(|f| f.wrong_sequence = 1);
    let err = c.patron_status("P0002", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::SequenceMismatch { .. }), "{err}");
    sim.faults(|f| f.unknown_message = 1);
    let err = c.patron_status("P0002", None).await.unwrap_err();
    assert!(matches!(err, Sip2Error::Garbage(DecodeError::UnknownMessage(ref id)) if id == "XY"), "{err}");
    // And the client recovers.
    c.patron_status("P0002", None).await.unwrap().unwrap();
}

/// A library system that answers one byte a second: the request timeout bounds the wait
/// for a whole reply, not for each byte, so the patron waits the configured timeout
/// (times the configured attempts) and no longer; the half reply in the buffer stays
/// under `max_frame` (the memory bound), and the next request is answered.
#[tokio::test]
async fn a_reply_trickling_one_byte_a_second_times_out_at_the_request_timeout() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_secs(2);
    cfg.resends = 1;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    sim.faults(|f| f.trickle = 1);
    let started = std::time::Instant::now();
    let err = c.patron_status("P0002", None).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, Sip2Error::Timeout { attempts: 2, .. }), "{err}");
    assert!(took >= Duration::from_secs(4) && took < Duration::from_secs(6), "{took:?}");
    // The client dropped that connection with its half reply: the next request is
    // answered on a new one.
    c.patron_status("P0002", None).await.unwrap().unwrap();
    assert_eq!(sim.stats().connections, 2);
}

#[tokio::test]
async fn garbage_during_a_checkout_is_reconciled() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    c.connect().await.unwrap();
    sim.faults(|f| f.garbage = 1);
    let loan = c.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert!(loan.recovered);
    assert_eq!(sim.stats().duplicate_checkouts, 0);
}

#[tokio::test]
async fn crlf_replies_and_decomposed_titles() {
    let sim = sim().await;
    sim.behaviour(|b| {
        b.crlf = true;
        b.nfd_titles = true;
    });
    let mut c = Client::new(config(&sim));
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert_eq!(loan.title, "ポケットモンスター図鑑　第２版");
    assert_eq!(loan.title.chars().count(), 15);
    let loan = c.checkout("P0001", "3000000001").await.unwrap().map_err(|r| r.problem);
    assert_eq!(loan, Err(ItemProblem::OnHoldForAnother));
}

#[tokio::test]
async fn a_lying_98_is_refused_unless_overridden() {
    let sim = sim().await;
    sim.behaviour(|b| b.lie_checkout_not_ok = true);
    let err = Client::new(config(&sim)).checkout("P0001", "1000000001").await.unwrap_err();
    assert!(matches!(err, Sip2Error::NotAllowed { what: "checkout" }), "{err}");
    let mut cfg = config(&sim);
    cfg.checkout_allowed_override = Some(true);
    Client::new(cfg).checkout("P0001", "1000000001").await.unwrap().unwrap();
}

#[tokio::test]
async fn no_block_only_in_explicit_offline_replay() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    c.checkout("P0001", "1000000001").await.unwrap().unwrap();
    let offline = OfflineCheckout {
        made: SipDate::local(2026, 11, 30, 14, 5, 9),
        due: SipDate::local(2026, 12, 14, 0, 0, 0),
    };
    let err = c.replay_offline_checkout("P0001", "1000000002", &offline).await;
    assert!(matches!(err, Err(Sip2Error::OfflineReplayOff)));
    assert_eq!(sim.stats().no_block_checkouts, 0);
    let mut cfg = config(&sim);
    cfg.offline_replay = true;
    let mut c = Client::new(cfg);
    c.replay_offline_checkout("P0001", "1000000002", &offline).await.unwrap().unwrap();
    assert_eq!(sim.stats().no_block_checkouts, 1);
    // The loan's own time and provisional due date, not the replay's.
    assert_eq!(
        sim.stats().no_block_log,
        [("1000000002".to_owned(), offline.made.to_string(), offline.due.to_string())]
    );
}

#[tokio::test]
async fn keep_alive_sends_sc_status_when_idle() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.keepalive = Duration::from_millis(40);
    let lib = Sip2Library::new(cfg);
    lib.patron("P0002", None).await.unwrap().unwrap();
    let task = lib.spawn_keepalive();
    // Every 40 ms while idle: wait (bounded) for three, however busy the machine.
    let sc_status = || sim.stats().requests.get("99").copied().unwrap_or(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while sc_status() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "only {} SC status sent", sc_status());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    assert!(lib.stats().await.keepalives >= 2);
    // Through the trait, like the orchestrator.
    let loan = lib.checkout("P0002", "2000000001").await.unwrap().unwrap();
    assert_eq!(loan.item, "2000000001");
}

/// The demo's way: the same client and frames over an in-memory pipe, on tokio's paused
/// clock, with the library system's latency counted in that clock.
#[tokio::test(start_paused = true)]
async fn in_process_peer_on_a_paused_clock() {
    let behaviour = Behaviour { latency: Duration::from_millis(600), ..Behaviour::default() };
    let sim = Sip2Sim::in_process(Catalogue::demo(), behaviour);
    let mut cfg = config(&sim);
    cfg.in_process = Some(sim.peer());
    let mut client = Client::new(cfg);
    let started = tokio::time::Instant::now();
    checkout_scenario(&mut client).await;
    assert_eq!(sim.loans_of("P0001"), ["1000000001", "2000000001"]);
    let waited = started.elapsed();
    let requests: u64 = sim
        .stats()
        .requests
        .iter()
        .filter(|(id, _)| !["93", "99"].contains(&id.as_str()))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(waited, Duration::from_millis(600) * u32::try_from(requests).unwrap(), "{:?}", sim.stats());
}

/// A server whose 98 gives no timeout and no retries (999): the kiosk's own
/// `ils.request_timeout_s` and `ils.retries` decide how long it waits for a lost reply and
/// whether it asks again.
#[tokio::test]
async fn the_configured_timeout_and_retries_apply_when_the_server_gives_none() {
    let sim = sim().await;
    sim.behaviour(|b| {
        b.timeout_period = 999;
        b.retries_allowed = 999;
    });
    // No resend: after the configured wait (not the default's) the kiosk asks about the
    // item instead of sending the checkout again.
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_secs(1);
    cfg.resends = 0;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    assert_eq!(c.request_timeout(), Duration::from_secs(1));
    sim.faults(|f| f.drop_checkout_reply = 1);
    let started = std::time::Instant::now();
    // Not asked again: found lent by asking about the item instead (reconciled).
    let loan = c.checkout("P0001", "1000000002").await.unwrap().unwrap();
    assert!(loan.recovered, "{loan:?}");
    assert_eq!(c.stats().resends, 0);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "gave up after {:?}, not the 5 s default",
        started.elapsed()
    );
    // One resend allowed: the same lost reply is asked for again and answered.
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_secs(1);
    cfg.resends = 1;
    let mut c = Client::new(cfg);
    sim.faults(|f| f.drop_checkout_reply = 1);
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert_eq!(c.stats().resends, 1, "{loan:?}");
}

/// A patron's password is sent once: the library system may count each wrong one against
/// its lock-out. A reply that fails its checksum is asked for again with 97 (even where the
/// profile resends requests), and a connection closed under the request is an error, not
/// a second copy on a new connection.
#[tokio::test]
async fn a_password_is_never_sent_twice() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.resend = Resend::Request;
    let mut c = Client::new(cfg);
    c.connect().await.unwrap();
    let sent = |sim: &Sip2Sim| sim.stats().requests.get("23").copied().unwrap_or(0);

    sim.faults(|f| f.corrupt_checksum = 1);
    assert_eq!(c.patron_status("P0001", Some("9999")).await.unwrap(), Err(PatronProblem::WrongPassword));
    assert_eq!((sent(&sim), sim.stats().acs_resends), (1, 1), "asked again by 97, not by the password");
    // Without a password the profile's rule applies: the request itself is sent again.
    sim.faults(|f| f.corrupt_checksum = 1);
    c.patron_status("P0002", None).await.unwrap().unwrap();
    assert_eq!((sent(&sim), sim.stats().acs_resends), (3, 1));

    sim.faults(|f| f.disconnect_on_request = 1);
    let err = c.patron_status("P0001", Some("1234")).await.unwrap_err();
    assert!(err.connection_closed(), "{err}");
    assert_eq!(sent(&sim), 4, "not sent again on a new connection");
    assert_eq!(c.patron_status("P0001", Some("1234")).await.unwrap().map(|s| s.name), Ok("山田 太郎".into()));
}

/// The library system's clock, read from its 98's date: the simulator keeps the machine's
/// time, so the kiosk's clock agrees with it (offline lending trusts a clock that agreed).
#[tokio::test]
async fn the_library_system_s_clock_is_read_from_its_status() {
    let sim = sim().await;
    let mut c = Client::new(config(&sim));
    assert_eq!(c.clock_skew(), None, "not before a 98");
    c.connect().await.unwrap();
    let skew = c.clock_skew().expect("a 98 came");
    assert!(skew.abs() <= 2, "{skew}");
}
