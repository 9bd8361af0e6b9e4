//! SIP2 over TLS (rustls) against the simulator over real sockets on loopback, with
//! certificates made at test time (rcgen): the checkout scenario, each certificate
//! problem as a named error, a plain port where TLS is expected, mutual TLS, and the
//! resend/reconciliation paths over TLS.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use kiosk_ils::client::{Client, ClientConfig, Credentials};
use kiosk_ils::{ClientIdentity, Sip2Error, TlsSettings};
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim, TestPki};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod common;

use common::checkout_scenario;

const CA_LABEL: &str = "ils.ca_file (/etc/kiosk/ils-ca.pem)";

fn pki() -> TestPki {
    TestPki::new("Test Library CA").unwrap()
}

fn config(addr: impl ToString, ca: &TestPki) -> ClientConfig {
    let mut cfg = ClientConfig::new(addr.to_string(), "KIOSKLIB");
    cfg.login = Some(Credentials {
        user: "kiosk".into(),
        password: "secret".into(),
        location: Some("KIOSK1".into()),
    });
    // Generous: a TLS handshake or a reply may be late on a busy machine, and a test that
    // does not expect a timeout or a resend must not get one.
    cfg.connect_timeout = Duration::from_secs(5);
    cfg.request_timeout = Duration::from_secs(5);
    cfg.location = "KIOSK1".into();
    cfg.tls = Some(TlsSettings::from_ca_pem(ca.ca_pem().as_bytes().to_vec(), CA_LABEL));
    cfg
}

async fn tls_sim(pki: &TestPki, names: &[&str]) -> Sip2Sim {
    Sip2Sim::start_tls(Catalogue::demo(), Behaviour::default(), &pki.server(names).unwrap()).await.unwrap()
}

async fn connect_err(cfg: ClientConfig) -> Sip2Error {
    let err = Client::new(cfg).connect().await.unwrap_err();
    eprintln!("{err}");
    err
}

#[tokio::test]
async fn checkout_scenario_over_tls() {
    let pki = pki();
    let sim = tls_sim(&pki, &["127.0.0.1"]).await;
    let mut client = Client::new(config(sim.addr(), &pki));
    checkout_scenario(&mut client).await;
    assert_eq!(sim.loans_of("P0001"), ["1000000001", "2000000001"]);
    let stats = sim.stats();
    assert_eq!((stats.checkouts_applied, stats.duplicate_checkouts), (2, 0));
    assert_eq!((stats.connections, stats.tls_handshakes), (1, 1));
}

#[tokio::test]
async fn the_ca_is_read_from_ils_ca_file_and_the_name_can_be_given_explicitly() {
    let pki = pki();
    let sim = tls_sim(&pki, &["sip2.library.test"]).await;
    let path = std::env::temp_dir().join(format!("kiosk-ils-tls-ca-{}.pem", std::process::id()));
    std::fs::write(&path, pki.ca_pem()).unwrap();
    let settings = TlsSettings::from_ca_file(&path).unwrap().with_server_name("sip2.library.test");
    std::fs::remove_file(&path).unwrap();
    let mut cfg = config(sim.addr(), &pki);
    cfg.tls = Some(settings);
    let mut client = Client::new(cfg);
    client.checkout("P0002", "2000000001").await.unwrap().unwrap();
    assert_eq!(sim.loans_of("P0002"), ["2000000001"]);
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_named() {
    let (ours, theirs) = (pki(), TestPki::new("Someone Else's CA").unwrap());
    let sim = tls_sim(&theirs, &["127.0.0.1"]).await;
    let err = connect_err(config(sim.addr(), &ours)).await;
    assert!(matches!(err, Sip2Error::TlsUntrusted { ref ca, .. } if ca == CA_LABEL), "{err}");
    assert!(
        err.to_string().contains("certificate (at 127.0.0.1:")
            && err.to_string().contains("is not signed by ils.ca_file (/etc/kiosk/ils-ca.pem)"),
        "{err}"
    );
    assert!(!err.outcome_unknown());
    assert!(sim.stats().requests.is_empty(), "no SIP2 was sent over an untrusted connection");
}

#[tokio::test]
async fn a_certificate_for_another_host_is_a_name_mismatch() {
    let pki = pki();
    let sim = tls_sim(&pki, &["ils.other.example"]).await;
    let err = connect_err(config(sim.addr(), &pki)).await;
    let Sip2Error::TlsNameMismatch { ref expected, ref presented, .. } = err else { panic!("{err}") };
    assert_eq!(expected, "127.0.0.1");
    assert_eq!(presented, &["ils.other.example"]);
    assert!(err.to_string().starts_with("name mismatch"), "{err}");
    assert!(sim.stats().requests.is_empty());
}

#[tokio::test]
async fn an_expired_certificate_is_named_with_its_date() {
    let pki = pki();
    let issued = pki.issue(&["127.0.0.1"], ((2000, 1, 1), (2001, 1, 1)), false).unwrap();
    let tls = kiosk_sim::sip2::SimTls {
        cert_chain_pem: issued.cert_pem,
        key_pem: issued.key_pem,
        client_ca_pem: None,
    };
    let sim = Sip2Sim::start_tls(Catalogue::demo(), Behaviour::default(), &tls).await.unwrap();
    let err = connect_err(config(sim.addr(), &pki)).await;
    assert!(matches!(err, Sip2Error::TlsCertificateExpired { .. }), "{err}");
    assert!(err.to_string().contains("certificate (at 127.0.0.1:"), "{err}");
    assert!(err.to_string().contains("has expired on 2001-01-01 00:00 UTC"), "{err}");
    assert!(sim.stats().requests.is_empty());
}

#[tokio::test]
async fn a_plain_sip2_port_where_tls_is_expected_times_out_by_name_without_hanging() {
    let pki = pki();
    // The plain simulator waits for a CR-terminated SIP2 message and ignores the
    // ClientHello, like a real SIP2 server.
    let plain = Sip2Sim::start(Catalogue::demo(), Behaviour::default()).await.unwrap();
    let mut cfg = config(plain.addr(), &pki);
    cfg.connect_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = connect_err(cfg).await;
    assert!(
        matches!(err, Sip2Error::TlsHandshakeTimeout { waited, .. } if waited == Duration::from_millis(300)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert!(err.to_string().contains("tls off"), "{err}");
}

#[tokio::test]
async fn a_plain_port_that_answers_in_plain_text_is_named() {
    let pki = pki();
    // A SIP2 server that answers anything unreadable with a 96 (request resend).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).await.unwrap();
        s.write_all(b"96AZFEF6\r").await.unwrap();
        // Keep the socket open until the client has given up.
        let _ = s.read(&mut buf).await;
    });
    let err = connect_err(config(addr, &pki)).await;
    assert!(matches!(err, Sip2Error::TlsNotSpoken { .. }), "{err}");
    assert!(err.to_string().contains("not TLS"), "{err}");
    server.await.unwrap();
}

#[tokio::test]
async fn a_tls_port_with_tls_off_in_the_kiosk_is_named() {
    // The converse: TLS on the server, plain in the kiosk's configuration. The server
    // answers the kiosk's 93 with a TLS alert and closes: a named error, no hang.
    let pki = pki();
    let sim = tls_sim(&pki, &["127.0.0.1"]).await;
    let mut cfg = config(sim.addr(), &pki);
    cfg.tls = None;
    let err = connect_err(cfg).await;
    assert!(matches!(err, Sip2Error::TlsExpected { .. }), "{err}");
    assert!(err.to_string().contains("tls on"), "{err}");
}

#[tokio::test]
async fn mutual_tls_with_the_kiosk_certificate() {
    let pki = pki();
    let mut tls = pki.server(&["127.0.0.1"]).unwrap();
    tls.client_ca_pem = Some(pki.ca_pem().to_owned());
    let sim = Sip2Sim::start_tls(Catalogue::demo(), Behaviour::default(), &tls).await.unwrap();

    let kiosk = pki.client("kiosk-01.library.test").unwrap();
    let mut cfg = config(sim.addr(), &pki);
    cfg.tls =
        cfg.tls.map(|t| t.with_client_identity(ClientIdentity::from_pem(kiosk.cert_pem, kiosk.key_pem)));
    let mut client = Client::new(cfg);
    checkout_scenario(&mut client).await;
    assert_eq!(sim.stats().checkouts_applied, 2);

    // Without a client certificate: refused, and the message says none is configured.
    let err = connect_err(config(sim.addr(), &pki)).await;
    assert!(matches!(err, Sip2Error::TlsClientCertificateRejected { configured: false, .. }), "{err}");
    assert!(err.to_string().contains("NOT configured"), "{err}");

    // With a certificate the library system does not trust.
    let stranger = TestPki::new("Other CA").unwrap().client("kiosk-01.library.test").unwrap();
    let mut cfg = config(sim.addr(), &pki);
    cfg.tls = cfg
        .tls
        .map(|t| t.with_client_identity(ClientIdentity::from_pem(stranger.cert_pem, stranger.key_pem)));
    let err = connect_err(cfg).await;
    assert!(matches!(err, Sip2Error::TlsClientCertificateRejected { configured: true, .. }), "{err}");
    assert_eq!(sim.stats().checkouts_applied, 2);
}

#[tokio::test]
async fn a_bad_client_key_is_a_settings_error() {
    let pki = pki();
    let kiosk = pki.client("kiosk").unwrap();
    let other = pki.client("other").unwrap();
    let settings = TlsSettings::from_ca_pem(pki.ca_pem().as_bytes().to_vec(), CA_LABEL)
        .with_client_identity(ClientIdentity::from_pem(kiosk.cert_pem, other.key_pem));
    let err = settings.check().unwrap_err();
    assert!(matches!(err, Sip2Error::TlsSettings(_)), "{err}");
    assert!(err.to_string().contains("do not go together"), "{err}");
}

#[tokio::test]
async fn disconnect_after_applying_a_checkout_is_reconciled_over_tls() {
    let pki = pki();
    let sim = tls_sim(&pki, &["127.0.0.1"]).await;
    // Below, a lost reply is resent after this long; the cache's answer has as long again.
    let mut cfg = config(sim.addr(), &pki);
    cfg.request_timeout = Duration::from_secs(1);
    let mut c = Client::new(cfg);
    sim.faults(|f| f.disconnect_after_checkout = 1);
    let loan = c.checkout("P0001", "1000000003").await.unwrap().unwrap();
    assert!(loan.recovered);
    assert_eq!(loan.title, "ポケットモンスター図鑑　第２版");
    let s = sim.stats();
    assert_eq!((s.checkouts_applied, s.duplicate_checkouts), (1, 0));
    assert_eq!((s.connections, s.tls_handshakes), (2, 2));
    assert_eq!(c.stats().reconciliations, 1);
    // The reconnect resumed the TLS session.
    assert_eq!(c.stats().tls_resumptions, 1);
    assert_eq!(sim.item("1000000003").unwrap().checkouts_executed, 1);

    // A lost reply over TLS: the byte-identical resend is answered from the cache.
    sim.faults(|f| f.drop_checkout_reply = 1);
    let loan = c.checkout("P0001", "1000000002").await.unwrap().unwrap();
    assert_eq!(loan.title, "ノルウェイの森");
    let s = sim.stats();
    assert_eq!((s.checkouts_applied, s.duplicate_checkouts, s.replayed_from_cache), (2, 0, 1));
}
