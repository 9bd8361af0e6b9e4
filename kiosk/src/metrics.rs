//! The management endpoint: the kiosk's health and usage counters in the Prometheus text
//! exposition format, and the usage statistics as CSV, over HTTPS on the management
//! network (`[metrics]`).
//!
//! Why the kiosk serves it itself, with TLS and client certificates, rather than leaving
//! a file for node_exporter's textfile collector: the board image has no node_exporter
//! (a second daemon, and a Go toolchain in the image build, for one file); IT also needs
//! the CSV, which a textfile collector cannot serve; and the same mutual TLS the kiosk
//! already speaks to the platform keeps the endpoint to IT's own certificate holders. It
//! is small on purpose: the client's certificate is checked before a byte of HTTP is
//! read, only `GET` of three fixed paths is answered, a request head is at most 4 KiB
//! and 5 s, four requests at once, and what it serves is numbers only (the counters
//! and the status page's states: no patron, no book, no card).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kiosk_core::usage::{Counter, Counts};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::{Semaphore, watch};

use crate::usage::Usage;

/// Every metric the endpoint exposes (the alert rules and the dashboard in
/// `deploy/monitoring/` use these names only; `kiosk/tests/monitoring.rs` checks).
pub const NAMES: &[&str] = &[
    "kiosk_build_info",
    "kiosk_start_time_seconds",
    "kiosk_in_service",
    "kiosk_staff_call",
    "kiosk_device_ok",
    "kiosk_printer_paper_out",
    "kiosk_printer_paper_low",
    "kiosk_journal_backlog",
    "kiosk_offline_loans_waiting",
    "kiosk_offline_loans_refused",
    "kiosk_sessions_total",
    "kiosk_loans_total",
    "kiosk_offline_loans_total",
    "kiosk_renewals_total",
    "kiosk_returns_total",
    "kiosk_refusals_total",
    "kiosk_patrons_refused_total",
    "kiosk_pin_locks_total",
    "kiosk_password_locks_total",
    "kiosk_staff_calls_total",
    "kiosk_printer_faults_total",
    "kiosk_offline_replayed_total",
];

/// The kiosk's state as the endpoint shows it (the event loop publishes it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Started, and not set out of service by staff (device faults are `devices`).
    pub in_service: bool,
    /// The staff lamp calls for someone.
    pub staff_call: bool,
    /// Each configured device on the status page, and whether its line is green.
    pub devices: Vec<(&'static str, bool)>,
    pub paper_out: bool,
    pub paper_low: bool,
    /// Requests left open by a crash that could not be reconciled yet.
    pub journal_backlog: usize,
    pub offline_waiting: usize,
    pub offline_refused: usize,
}

/// The exposition: every metric with its `# HELP` and `# TYPE`, every counter series
/// present from the start (at 0), so a first loan is an increase.
#[must_use]
pub fn render(health: &Health, counts: &Counts, started_unix: u64, version: &str) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(4096);
    let gauge = |out: &mut String, name: &str, help: &str, series: &[(String, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, value) in series {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let one = |v: bool| if v { "1" } else { "0" }.to_owned();
    let plain = |v: String| vec![(String::new(), v)];
    gauge(
        &mut out,
        "kiosk_build_info",
        "The kiosk's software version.",
        &[(format!("{{version=\"{}\"}}", escape(version)), "1".to_owned())],
    );
    gauge(
        &mut out,
        "kiosk_start_time_seconds",
        "When the kiosk started (Unix time).",
        &plain(started_unix.to_string()),
    );
    gauge(
        &mut out,
        "kiosk_in_service",
        "1 unless staff set the kiosk out of service or it is starting.",
        &plain(one(health.in_service)),
    );
    gauge(
        &mut out,
        "kiosk_staff_call",
        "1 while the staff lamp calls for someone.",
        &plain(one(health.staff_call)),
    );
    let devices: Vec<(String, String)> =
        health.devices.iter().map(|(d, ok)| (format!("{{device=\"{d}\"}}"), one(*ok))).collect();
    gauge(&mut out, "kiosk_device_ok", "1 when the device's line on the status page is green.", &devices);
    gauge(
        &mut out,
        "kiosk_printer_paper_out",
        "1 when the printer is out of paper.",
        &plain(one(health.paper_out)),
    );
    gauge(
        &mut out,
        "kiosk_printer_paper_low",
        "1 when the printer's paper runs low.",
        &plain(one(health.paper_low)),
    );
    gauge(
        &mut out,
        "kiosk_journal_backlog",
        "Requests left open by a crash that could not be reconciled yet.",
        &plain(health.journal_backlog.to_string()),
    );
    gauge(
        &mut out,
        "kiosk_offline_loans_waiting",
        "Offline loans waiting to be sent to the library system.",
        &plain(health.offline_waiting.to_string()),
    );
    gauge(
        &mut out,
        "kiosk_offline_loans_refused",
        "Offline loans the library system refused, listed for staff.",
        &plain(health.offline_refused.to_string()),
    );
    let mut last = "";
    for c in Counter::all() {
        let m = c.metric();
        if m.name != last {
            let _ = writeln!(out, "# HELP {} {}\n# TYPE {} counter", m.name, m.help, m.name);
            last = m.name;
        }
        match m.label {
            Some((k, v)) => {
                let _ = writeln!(out, "{}{{{k}=\"{v}\"}} {}", m.name, counts.get(c));
            }
            None => {
                let _ = writeln!(out, "{} {}", m.name, counts.get(c));
            }
        }
    }
    out
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Why the endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("cannot read {what} {path}: {source}")]
    Read { what: &'static str, path: std::path::PathBuf, source: std::io::Error },
    #[error("{what} in {path} cannot be used: {why}")]
    Pem { what: &'static str, path: std::path::PathBuf, why: String },
    #[error("cannot listen on {addr}: {source} (is another program using the port?)")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// The endpoint's TLS: its certificate and key, and the CA whose certificates may
/// connect (a client without one is refused in the handshake).
///
/// # Errors
/// A file that cannot be read or holds no usable certificate or key.
pub fn tls(
    ca: &std::path::Path,
    certificate: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, EndpointError> {
    let read = |what, path: &std::path::Path| {
        std::fs::read(path).map_err(|source| EndpointError::Read { what, path: path.to_path_buf(), source })
    };
    let pem = |what, path: &std::path::Path, why: String| EndpointError::Pem {
        what,
        path: path.to_path_buf(),
        why,
    };
    let ca_pem = read("the management CA", ca)?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca_pem) {
        let cert = cert.map_err(|e| pem("the management CA", ca, e.to_string()))?;
        roots.add(cert).map_err(|e| pem("the management CA", ca, e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(pem("the management CA", ca, "no certificate".to_owned()));
    }
    let chain_pem = read("the endpoint's certificate", certificate)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| pem("the endpoint's certificate", certificate, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem("the endpoint's certificate", certificate, "no certificate".to_owned()));
    }
    let key_pem = zeroize::Zeroizing::new(read("the endpoint's key", key)?);
    let key_der =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| pem("the endpoint's key", key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| pem("the management CA", ca, e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pem("the endpoint's certificate", certificate, e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key_der)
        .map_err(|e| pem("the endpoint's certificate and key", certificate, e.to_string()))?;
    Ok(Arc::new(config))
}

/// What the endpoint reads from: the usage statistics and the kiosk's health.
#[derive(Clone, Debug)]
pub struct Source {
    pub usage: Arc<Usage>,
    pub health: watch::Receiver<Health>,
    pub started_unix: u64,
}

impl Source {
    /// The answer to `GET path`: its status, content type and body, or `None` (404).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<(&'static str, &'static str, String)> {
        match path {
            "/metrics" => Some((
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                render(
                    &self.health.borrow(),
                    &self.usage.since_start(),
                    self.started_unix,
                    env!("CARGO_PKG_VERSION"),
                ),
            )),
            "/usage.csv" | "/usage-daily.csv" => Some(match self.usage.all_hours() {
                Ok(hours) => (
                    "200 OK",
                    "text/csv; charset=utf-8",
                    crate::usage::csv(&hours, path == "/usage-daily.csv"),
                ),
                Err(e) => (
                    "500 Internal Server Error",
                    "text/plain; charset=utf-8",
                    format!("the usage statistics cannot be read: {e}\n"),
                ),
            }),
            _ => None,
        }
    }
}

/// How long a client may take for the TLS handshake, and then for its request head.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing an answer may take (a client that stops reading is dropped).
const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest request head read.
const MAX_HEAD: usize = 4096;
/// Handshakes in progress at once: a client without a certificate costs one of these
/// for the handshake's timeout at most, never a request's place.
const HANDSHAKES: usize = 256;
/// Requests answered at once, by clients that passed the handshake.
const CONNECTIONS: usize = 4;

/// Binds the endpoint's port.
///
/// # Errors
/// [`EndpointError::Listen`].
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, EndpointError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|source| EndpointError::Listen { addr, source })
}

/// Serves the endpoint until the runtime stops.
pub async fn serve(listener: tokio::net::TcpListener, tls: Arc<rustls::ServerConfig>, source: Source) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES));
    let requests = Arc::new(Semaphore::new(CONNECTIONS));
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "the management endpoint could not accept a connection");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let Ok(handshake) = handshakes.clone().try_acquire_owned() else {
            // Flooded: the connection is closed at once (Prometheus retries next scrape).
            continue;
        };
        let (acceptor, source, requests) = (acceptor.clone(), source.clone(), requests.clone());
        drop(tokio::spawn(async move {
            if let Err(why) = answer(acceptor, tcp, handshake, &requests, &source).await {
                tracing::debug!(%peer, why, "management request not answered");
            }
        }));
    }
}

async fn answer(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    handshake: tokio::sync::OwnedSemaphorePermit,
    requests: &Arc<Semaphore>,
    source: &Source,
) -> Result<(), &'static str> {
    let mut tls = tokio::time::timeout(REQUEST_TIMEOUT, acceptor.accept(tcp))
        .await
        .map_err(|_| "handshake timed out")?
        .map_err(|_| "handshake refused (no certificate from the management CA?)")?;
    drop(handshake);
    let Ok(_request) = requests.clone().try_acquire_owned() else { return Err("busy") };
    let head = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut tls))
        .await
        .map_err(|_| "request timed out")??;
    // The CSV reads the statistics file: off the event loop's threads.
    let source = source.clone();
    let (status, content_type, body) =
        tokio::task::spawn_blocking(move || respond(&head, &source)).await.map_err(|_| "answer failed")?;
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let write = async {
        tls.write_all(response.as_bytes()).await?;
        tls.write_all(body.as_bytes()).await?;
        tls.shutdown().await
    };
    tokio::time::timeout(WRITE_TIMEOUT, write)
        .await
        .map_err(|_| "write timed out")?
        .map_err(|_| "write failed")
}

async fn read_head<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Result<Vec<u8>, &'static str> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await.map_err(|_| "read failed")?;
        if n == 0 {
            return Err("closed before the request ended");
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return Err("request head too long");
        }
    }
    Ok(head)
}

/// The status line, content type and body for a request head.
fn respond(head: &[u8], source: &Source) -> (&'static str, &'static str, String) {
    let text = String::from_utf8_lossy(head);
    let mut first = text.lines().next().unwrap_or("").split(' ');
    let (method, target) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    if method != "GET" {
        return ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n".to_owned());
    }
    match source.get(path) {
        Some(answer) => answer,
        None => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "/metrics, /usage.csv and /usage-daily.csv are served here\n".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_named_and_typed_and_every_name_is_exposed() {
        let health = Health {
            in_service: true,
            devices: vec![("reader", true), ("printer", false)],
            offline_waiting: 3,
            ..Health::default()
        };
        let mut counts = Counts::default();
        counts.add(Counter::Loans, 2);
        let text = render(&health, &counts, 1_796_533_200, "1.2.3");
        assert!(text.contains("kiosk_loans_total 2\n"), "{text}");
        assert!(text.contains("kiosk_device_ok{device=\"printer\"} 0\n"), "{text}");
        assert!(text.contains("kiosk_refusals_total{reason=\"on_hold\"} 0\n"), "{text}");
        assert!(text.contains("kiosk_offline_loans_waiting 3\n"), "{text}");
        assert!(text.contains("kiosk_build_info{version=\"1.2.3\"} 1\n"), "{text}");
        for name in NAMES {
            assert_eq!(text.matches(&format!("# TYPE {name} ")).count(), 1, "{name}");
        }
        let typed = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(typed, NAMES.len(), "a metric not in NAMES");
    }

    #[test]
    fn a_key_that_is_not_the_certificate_s_is_refused_with_the_file_named() {
        let pki = kiosk_sim::platform::PlatformPki::shared().unwrap_or_else(|e| panic!("{e}"));
        let dir = std::env::temp_dir().join(format!("kiosk-metrics-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let file = |name: &str, text: &str| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
            p
        };
        let ca = file("ca.pem", &pki.ca_pem);
        let cert = file("server.pem", &pki.server.chain_pem);
        let key = file("server.key", &pki.server.key_pem);
        let other_key = file("other.key", &pki.terminal.key_pem);
        assert!(tls(&ca, &cert, &key).is_ok());
        let e = tls(&ca, &cert, &other_key).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("server.pem") && e.contains("cannot be used"), "{e}");
        let e = tls(&key, &cert, &key).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("the management CA"), "{e}");
        let e = tls(&dir.join("missing.pem"), &cert, &key).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("cannot read the management CA"), "{e}");
    }

    #[test]
    fn only_get_of_the_three_paths_is_answered() {
        let (_tx, health) = watch::channel(Health::default());
        let source = Source { usage: Arc::new(Usage::in_memory(30)), health, started_unix: 0 };
        assert_eq!(respond(b"GET /metrics HTTP/1.1\r\n\r\n", &source).0, "200 OK");
        assert_eq!(respond(b"GET /usage.csv?x=1 HTTP/1.1\r\n\r\n", &source).0, "200 OK");
        assert_eq!(respond(b"GET /usage-daily.csv HTTP/1.1\r\n\r\n", &source).0, "200 OK");
        assert_eq!(respond(b"GET /etc/passwd HTTP/1.1\r\n\r\n", &source).0, "404 Not Found");
        assert_eq!(respond(b"POST /metrics HTTP/1.1\r\n\r\n", &source).0, "405 Method Not Allowed");
        assert_eq!(respond(b"\xff\xfe\r\n\r\n", &source).0, "405 Method Not Allowed");
    }
}
