//! Peers nobody here wrote: our client against a fake ILS built on `pysip2` (PyPI), and
//! our simulator driven by the `sip2` client (PyPI). Both are installed into
//! `target/py-venv` by `cargo xtask test` (or point `KIOSK_PY_VENV` at a venv).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::checkout_scenario;
use kiosk_ils::client::{Client, ClientConfig, Credentials};
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};

fn python() -> PathBuf {
    let venv = std::env::var_os("KIOSK_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv"));
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: run `cargo xtask test`, which installs pysip2 and sip2 from PyPI into target/py-venv",
        py.display()
    );
    py
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peer").join(name)
}

/// Kills the peer if the test fails half-way.
struct Peer(std::process::Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_passes_the_checkout_scenario_against_pysip2() {
    let mut peer = Peer(
        Command::new(python())
            .arg(script("pysip2_ils.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(peer.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line.trim().strip_prefix("PORT ").expect("pysip2 did not start").parse().unwrap();

    let mut cfg = ClientConfig::new(format!("127.0.0.1:{port}"), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    // pysip2 0.1.0 rejects a blank nb due date and closes the connection.
    cfg.nb_due_date_is_transaction_date = true;
    cfg.resends = 4;
    cfg.request_timeout = Duration::from_secs(2);
    let mut client = Client::new(cfg);
    checkout_scenario(&mut client).await;
    // The server's 98 timeout (0.2 s) is honoured.
    assert_eq!(client.request_timeout(), Duration::from_millis(200));
    // A reply slower than the timeout: the byte-identical resend is answered from
    // pysip2's duplicate cache; the checkout is executed once.
    let loan = client.checkout("P0001", "1000000002").await.unwrap().unwrap();
    assert_eq!(loan.title, "ノルウェイの森");
    assert!(client.stats().resends >= 1);
    let info = client.item_information("1000000002").await.unwrap();
    assert!(info.circulation_status.is_charged());
    // Reconciliation against pysip2 too: the loan is found among the patron's items.
    let r = client.reconcile_checkout("P0001", "1000000001").await.unwrap();
    assert!(matches!(r, kiosk_ils::client::Reconciled::Lent(_)), "{r:?}");

    // The account (63 page by page, 17 per loan), a renewal (29), returns (09).
    let account = client.account("P0001", None).await.unwrap();
    let items: Vec<&str> = account.loans.iter().map(|l| l.item.as_str()).collect();
    assert_eq!(items, ["1000000001", "1000000002", "2000000001"], "sorted by due date, then as listed");
    assert_eq!(account.loans[1].title, "ノルウェイの森");
    assert_eq!(account.loans[1].due, "20261207    120000");
    assert!(!account.incomplete);
    let renewed = client.renew("P0001", "1000000002", Some("2026-12-07")).await.unwrap().unwrap();
    assert_eq!(renewed.due, "20261221    120000");
    assert_eq!(
        client.renew("P0001", "9999999999", None).await.unwrap(),
        Err(kiosk_ils::ItemProblem::NotFound)
    );
    let back = client.checkin("2000000001").await.unwrap().unwrap();
    assert!(!back.alert);
    assert_eq!(client.checkin("2000000001").await.unwrap(), Err(kiosk_ils::ItemProblem::NotCheckedOut));

    drop(peer.0.stdin.take());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let counted = |prefix: &str| -> Vec<(String, u32)> {
        rest.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|l| {
                let (item, n) = l.split_once(' ').unwrap();
                (item.to_owned(), n.parse().unwrap())
            })
            .collect()
    };
    let once =
        |items: &[&str]| -> Vec<(String, u32)> { items.iter().map(|i| ((*i).to_owned(), 1)).collect() };
    assert_eq!(counted("EXECUTED "), once(&["1000000001", "1000000002", "2000000001"]));
    assert_eq!(counted("RENEWED "), once(&["1000000002"]));
    assert_eq!(counted("RETURNED "), once(&["2000000001"]));
}

/// pysip2 closes a connection idle for 2 s (its `idle_timeout`): the next patron's
/// requests reconnect and go through, and the book is lent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_reconnects_when_pysip2_closes_the_idle_connection() {
    let mut peer = Peer(
        Command::new(python())
            .arg(script("pysip2_ils.py"))
            .arg("2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(peer.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line.trim().strip_prefix("PORT ").expect("pysip2 did not start").parse().unwrap();

    let mut cfg = ClientConfig::new(format!("127.0.0.1:{port}"), "KIOSKLIB");
    cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
    cfg.nb_due_date_is_transaction_date = true;
    cfg.request_timeout = Duration::from_secs(5);
    let mut client = Client::new(cfg);
    client.patron_status("P0001", Some("1234")).await.unwrap().unwrap();
    // Wait (bounded) for pysip2 to say it closed the connection.
    let (stdout, closed) = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            while stdout.read_line(&mut line).unwrap_or(0) > 0 {
                if line.trim() == "IDLE-CLOSED" {
                    return (stdout, true);
                }
                line.clear();
            }
            (stdout, false)
        }),
    )
    .await
    .expect("pysip2 did not close the idle connection within 60 s")
    .unwrap();
    assert!(closed, "pysip2 ended without closing the idle connection");

    // Without a password: pysip2 says IDLE-CLOSED as it closes, so the request may still
    // meet the connection open and see it close under it; a request with a password is
    // never sent twice (`sip2_client.rs::a_password_is_never_sent_twice`), one without is
    // sent again on a new connection.
    let standing = client.patron_status("P0001", None).await.unwrap().unwrap();
    assert_eq!(standing.name, "山田 太郎");
    let loan = client.checkout("P0001", "1000000001").await.unwrap().unwrap();
    assert_eq!(loan.title, "吾輩は猫である");
    assert!(client.stats().reconnects >= 1, "{:?}", client.stats());

    drop(peer.0.stdin.take());
    let mut rest = String::new();
    let mut stdout = stdout;
    stdout.read_to_string(&mut rest).unwrap();
    let executed: Vec<&str> = rest.lines().filter_map(|l| l.strip_prefix("EXECUTED ")).collect();
    assert_eq!(executed, ["1000000001 1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pypi_sip2_client_drives_our_simulator() {
    let sim = Sip2Sim::start(Catalogue::demo(), Behaviour::default()).await.unwrap();
    let port = sim.addr().port().to_string();
    let (py, script) = (python(), script("sip2_client.py"));
    // The client writes sip2.log into its working directory: keep it out of the tree.
    let dir = env!("CARGO_TARGET_TMPDIR");
    let out =
        tokio::task::spawn_blocking(move || Command::new(py).arg(script).arg(port).current_dir(dir).output())
            .await
            .unwrap()
            .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sip2 client failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("sip2 client scenario ok"));
    // Lent, renewed and returned, each once.
    assert!(sim.loans_of("P0001").is_empty());
    let book = sim.item("1000000001").unwrap();
    assert_eq!((book.checkouts_executed, book.renewals_executed, book.returns_executed), (1, 1, 1));
    assert_eq!(sim.stats().duplicate_checkouts, 0);
}
