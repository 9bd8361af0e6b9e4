#![allow(clippy::unwrap_used)]
//! The TLS client's check of the terminal's certificate (`kiosk_platform::tls`) against
//! the platform simulator and against one-connection rustls servers built on the
//! simulator's PKI: TLS 1.3 alerts, session tickets and data, TLS 1.2 handshakes, a
//! server that closes or stays silent, and how [`send`] names a connection closed before
//! an answer.

use std::io::Read as _;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use kiosk_platform::PlatformError;
use kiosk_platform::tls::{
    CertificateCheck, Endpoint, Identity, check_client_certificate, http_client, send,
};
use kiosk_sim::platform::{PlatformPki, PlatformSim, ServerCert, TlsIdentity};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;

/// Long enough never to be reached when the server gives its verdict: a test that
/// expects a verdict and gets none fails on the variant, not on a clock.
const NO_HURRY: Duration = Duration::from_secs(60);

fn pki() -> &'static PlatformPki {
    PlatformPki::shared().unwrap()
}

fn endpoint(port: u16, id: &TlsIdentity) -> Endpoint {
    let mut e = Endpoint::new(&format!("https://localhost:{port}"), Some(pki().ca_pem.as_bytes().to_vec()));
    e.identity = Some(Identity::from_pem(id.chain_pem.as_bytes(), id.key_pem.as_bytes()));
    e
}

/// The platform's server configuration, client certificates required, with the given
/// version and number of TLS 1.3 session tickets.
fn server_config(
    version: &'static rustls::SupportedProtocolVersion,
    tickets: usize,
) -> Arc<rustls::ServerConfig> {
    server_config_trusting(&pki().ca_pem, version, tickets)
}

/// The same, taking client certificates from `client_ca_pem` only.
fn server_config_trusting(
    client_ca_pem: &str,
    version: &'static rustls::SupportedProtocolVersion,
    tickets: usize,
) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(client_ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().unwrap();
    let chain =
        CertificateDer::pem_slice_iter(pki().server.chain_pem.as_bytes()).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(pki().server.key_pem.as_bytes()).unwrap();
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    cfg.send_tls13_tickets = tickets;
    Arc::new(cfg)
}

type After = fn(rustls::ServerConnection, std::net::TcpStream);

/// A one-connection TLS server on a thread: the handshake (an alert if it fails),
/// then `after` with the connection.
fn tls_server(cfg: Arc<rustls::ServerConfig>, after: After) -> u16 {
    tls_server_for(vec![(cfg, after)])
}

/// A TLS server on a thread taking one connection for each of `connections`, in turn.
fn tls_server_for(connections: Vec<(Arc<rustls::ServerConfig>, After)>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Entered so that `after` may hand the socket to tokio (for SO_LINGER 0).
    let runtime = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        let _runtime = runtime.enter();
        for (cfg, after) in connections {
            let (mut tcp, _) = listener.accept().unwrap();
            let mut tls = rustls::ServerConnection::new(cfg).unwrap();
            let handshake = loop {
                if !tls.is_handshaking() {
                    break true;
                }
                if tls.complete_io(&mut tcp).is_err() {
                    break false;
                }
            };
            if handshake {
                after(tls, tcp);
            }
        }
    });
    port
}

/// Waits for the client to go, saying nothing.
fn silent(_tls: rustls::ServerConnection, mut tcp: std::net::TcpStream) {
    let _ = tcp.read(&mut [0u8; 64]);
}

#[tokio::test]
async fn tls_1_3_a_refused_certificate_is_told_by_its_alert() {
    let sim = PlatformSim::start(ServerCert::Good).await.unwrap();
    let check =
        check_client_certificate(&endpoint(sim.addr().port(), &pki().stranger_terminal), NO_HURRY).await;
    assert!(matches!(&check, CertificateCheck::Refused(alert) if alert.contains("UnknownCA")), "{check:?}");
    assert_eq!(sim.requests(), 0);
}

#[tokio::test]
async fn tls_1_3_a_session_ticket_says_the_certificate_was_taken() {
    let sim = PlatformSim::start(ServerCert::Good).await.unwrap();
    let check = check_client_certificate(&endpoint(sim.addr().port(), &pki().terminal), NO_HURRY).await;
    assert_eq!(check, CertificateCheck::Accepted);
    assert_eq!(sim.requests(), 0, "the check sends no request");
}

#[tokio::test]
async fn tls_1_2_the_handshake_itself_says_it() {
    let cfg = server_config(&rustls::version::TLS12, 0);
    let port = tls_server(cfg.clone(), silent);
    let check = check_client_certificate(&endpoint(port, &pki().stranger_terminal), NO_HURRY).await;
    assert!(matches!(check, CertificateCheck::Refused(_)), "{check:?}");
    let port = tls_server(cfg, silent);
    let check = check_client_certificate(&endpoint(port, &pki().terminal), NO_HURRY).await;
    assert_eq!(check, CertificateCheck::Accepted);
}

#[tokio::test]
async fn tls_1_3_data_after_the_handshake_says_the_certificate_was_taken() {
    let port = tls_server(server_config(&rustls::version::TLS13, 0), |mut tls, mut tcp| {
        use std::io::Write as _;
        let _ = tls.writer().write_all(b"hello");
        let _ = tls.complete_io(&mut tcp);
        silent(tls, tcp);
    });
    let check = check_client_certificate(&endpoint(port, &pki().terminal), NO_HURRY).await;
    assert_eq!(check, CertificateCheck::Accepted);
}

#[tokio::test]
async fn tls_1_3_closed_without_an_alert_or_silent_is_no_verdict() {
    let cfg = server_config(&rustls::version::TLS13, 0);
    let port = tls_server(cfg.clone(), |_tls, tcp| drop(tcp));
    let check = check_client_certificate(&endpoint(port, &pki().terminal), NO_HURRY).await;
    assert!(matches!(check, CertificateCheck::NoVerdict(_)), "{check:?}");
    let port = tls_server(cfg.clone(), |_tls, tcp| {
        let _ = socket_reset(tcp);
    });
    let check = check_client_certificate(&endpoint(port, &pki().terminal), NO_HURRY).await;
    assert!(matches!(check, CertificateCheck::NoVerdict(_)), "{check:?}");
    // No ticket, no word: the wait ends without a verdict.
    let port = tls_server(cfg, silent);
    let check = check_client_certificate(&endpoint(port, &pki().terminal), Duration::from_millis(300)).await;
    assert!(matches!(check, CertificateCheck::NoVerdict(_)), "{check:?}");
}

/// Closes with a reset (SO_LINGER 0).
fn socket_reset(tcp: std::net::TcpStream) -> std::io::Result<()> {
    let tcp = tokio::net::TcpStream::from_std(tcp)?;
    tcp.set_zero_linger()
}

#[tokio::test]
async fn nothing_listening_is_no_verdict() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let check = check_client_certificate(&endpoint(port, &pki().terminal), NO_HURRY).await;
    assert!(matches!(check, CertificateCheck::NoVerdict(_)), "{check:?}");
}

/// Closes, once the handshake is done, without an answer nor an alert (whether the
/// request has come in yet or not: the client sees one of hyper's closed-connection
/// errors, or a reset).
fn closes_without_answering(_tls: rustls::ServerConnection, tcp: std::net::TcpStream) {
    drop(tcp);
}

/// A request on [`http_client`] through [`send`]; the response itself is not needed.
async fn get(endpoint: &Endpoint) -> Result<(), PlatformError> {
    let client = http_client(endpoint).unwrap();
    send(endpoint, client.get(format!("{}/v1/nonce", endpoint.url))).await.map(drop)
}

#[tokio::test]
async fn closed_before_an_answer_is_a_refused_certificate_only_when_the_check_says_so() {
    let taken = server_config(&rustls::version::TLS13, 0);
    // The check's connection meets a server that does not take the certificate.
    let refusing = server_config_trusting(&pki().stranger_ca_pem, &rustls::version::TLS13, 0);
    let port = tls_server_for(vec![(taken.clone(), closes_without_answering), (refusing, silent)]);
    let got = get(&endpoint(port, &pki().terminal)).await.unwrap_err();
    assert!(
        matches!(&got, PlatformError::ClientCertificateRefused(why) if why.contains("UnknownCA")),
        "{got:?}"
    );
    // The check's connection meets a server that takes it (and says so with tickets).
    let port = tls_server_for(vec![
        (taken, closes_without_answering),
        (server_config(&rustls::version::TLS13, 2), silent),
    ]);
    let got = get(&endpoint(port, &pki().terminal)).await.unwrap_err();
    assert!(matches!(got, PlatformError::Connect(_)), "{got:?}");
}
