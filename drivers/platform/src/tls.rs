//! The TLS client every back-end shares: rustls with the `ring` provider, **only** the
//! configured CA as root (no system roots), the terminal's client certificate (mutual
//! TLS), TLS 1.2 or 1.3 only, and one long-lived reqwest client whose pool reuses the
//! connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::PlatformError;
use crate::error::{Failure, classify_rustls};

/// How long an idle connection to the platform is kept.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(10);

/// Where a server is and how to reach it.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `https://…` (or `http://…` for OCSP and CRL, whose answers are signed).
    pub url: String,
    /// CA certificate(s), PEM, that the server's certificate must chain to. Required for
    /// `https`.
    pub ca_pem: Option<Vec<u8>>,
    /// The terminal's client certificate chain and key, PEM (mutual TLS).
    pub identity: Option<Identity>,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (connect, send, headers and body).
    pub request_timeout: Duration,
}

impl Endpoint {
    /// An endpoint at `url` (a trailing `/` dropped) whose server must chain to `ca_pem`,
    /// without a client identity, with a 3 s connect and a 5 s request timeout.
    pub fn new(url: &str, ca_pem: Option<Vec<u8>>) -> Self {
        Endpoint {
            url: url.trim_end_matches('/').to_owned(),
            ca_pem,
            identity: None,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// A client certificate chain and its private key, both PEM.
#[derive(Clone)]
pub struct Identity {
    pub chain_pem: Vec<u8>,
    pub key_pem: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(..)")
    }
}

impl Identity {
    /// From one PEM file holding the chain and the key, or two files' contents.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Self {
        Identity { chain_pem: chain_pem.to_vec(), key_pem: zeroize::Zeroizing::new(key_pem.to_vec()) }
    }
}

fn config_err(what: &str, e: impl std::fmt::Display) -> PlatformError {
    PlatformError::Config(format!("{what}: {e}"))
}

/// The rustls configuration: only `ca_pem` trusted, TLS ≥ 1.2, optional client auth.
pub fn client_config(
    ca_pem: &[u8],
    identity: Option<&Identity>,
) -> Result<rustls::ClientConfig, PlatformError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|e| config_err("CA file", e))?;
        roots.add(cert).map_err(|e| config_err("CA certificate", e))?;
    }
    if roots.is_empty() {
        return Err(PlatformError::Config("the CA file holds no certificate".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| config_err("TLS versions", e))?
        .with_root_certificates(roots);
    let mut cfg = match identity {
        Some(id) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&id.chain_pem)
                .collect::<Result<_, _>>()
                .map_err(|e| config_err("client certificate", e))?;
            if chain.is_empty() {
                return Err(PlatformError::Config("the client certificate file holds no certificate".into()));
            }
            let key = PrivateKeyDer::from_pem_slice(&id.key_pem).map_err(|e| config_err("client key", e))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| config_err("client identity", e))?
        }
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The most an answer of the platform's API or an OCSP responder may hold. Their answers
/// are a few KiB; a hostile or broken server sending more is cut off here, so the kiosk's
/// memory stays bounded whatever it sends.
pub const MAX_ANSWER: usize = 256 * 1024;

/// Reads `resp`'s body, at most `limit` bytes: a larger announced length is refused before
/// reading, a longer body when it passes the limit.
///
/// # Errors
/// [`PlatformError::TooLarge`]; a transport error or timeout as [`PlatformError::from_reqwest`].
pub async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, PlatformError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(PlatformError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| PlatformError::from_reqwest(&e, timeout))? {
        if body.len() + chunk.len() > limit {
            return Err(PlatformError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One long-lived HTTP client for `endpoint`: build it once and reuse it, so the pool
/// keeps the TLS connection alive between checks.
pub fn http_client(endpoint: &Endpoint) -> Result<reqwest::Client, PlatformError> {
    let https = endpoint.url.starts_with("https://");
    if !https && !endpoint.url.starts_with("http://") {
        return Err(PlatformError::Config(format!("not an http(s) URL: {}", endpoint.url)));
    }
    // reqwest builds its default TLS even for plain-HTTP clients; give it ring (never
    // aws-lc-rs). Fails harmlessly when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .connect_timeout(endpoint.connect_timeout)
        .timeout(endpoint.request_timeout)
        // Kept for a session's nonce + verify and for the next patron soon after; closed
        // after 10 s idle, so the last answer (with a patron number) does not stay in the
        // connection's read buffer (freed memory is zeroed by the kiosk's allocator).
        .pool_idle_timeout(IDLE_CONNECTION)
        .pool_max_idle_per_host(2)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("kiosk-platform/", env!("CARGO_PKG_VERSION")));
    match (&endpoint.ca_pem, https) {
        (Some(ca), _) => {
            builder = builder.tls_backend_preconfigured(client_config(ca, endpoint.identity.as_ref())?)
        }
        (None, true) => return Err(PlatformError::Config("an https endpoint needs its CA file".into())),
        (None, false) => {}
    }
    builder.build().map_err(|e| config_err("HTTP client", e))
}

/// Sends a request built on [`http_client`]`(endpoint)` and names its failure.
///
/// When the connection was closed before any answer without saying why
/// ([`Failure::ClosedBeforeAnswer`]) and the kiosk presents a client certificate, the
/// platform is asked on a connection of its own whether it takes the certificate
/// ([`check_client_certificate`]), within what is left of the request timeout (at most the
/// connect timeout). Only an explicit refusal there makes it
/// [`PlatformError::ClientCertificateRefused`]; anything else leaves it a connection failure.
pub async fn send(
    endpoint: &Endpoint,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, PlatformError> {
    let started = Instant::now();
    let err = match request.send().await {
        Ok(response) => return Ok(response),
        Err(e) => e,
    };
    let text = match Failure::of(&err, endpoint.request_timeout) {
        Failure::Known(e) => return Err(e),
        Failure::ClosedBeforeAnswer(text) => text,
    };
    let wait = endpoint.request_timeout.saturating_sub(started.elapsed()).min(endpoint.connect_timeout);
    if endpoint.identity.is_none() || !endpoint.url.starts_with("https://") || wait.is_zero() {
        return Err(PlatformError::Connect(text));
    }
    match check_client_certificate(endpoint, wait).await {
        CertificateCheck::Refused(alert) => {
            tracing::warn!(alert = %alert, first = %text, "the platform refused the terminal certificate");
            Err(PlatformError::ClientCertificateRefused(format!(
                "{alert} (the request's connection was closed: {text})"
            )))
        }
        check => {
            tracing::info!(
                ?check,
                "connection closed before an answer; the terminal certificate is not refused"
            );
            Err(PlatformError::Connect(text))
        }
    }
}

/// What the platform says about the terminal's client certificate when asked on a
/// connection of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateCheck {
    /// Refused, with this TLS alert (`UnknownCA`, `BadCertificate`, `CertificateRequired`…).
    Refused(String),
    /// Taken: a TLS 1.2 handshake completed (the server's Finished follows its check of
    /// the client's certificate), or a TLS 1.3 server sent a session ticket or data after
    /// the client's Finished (servers send tickets only once the client is authenticated).
    Accepted,
    /// No verdict: no connection, another TLS failure, closed without an alert, or
    /// silence for the whole wait (a server waiting for a request).
    NoVerdict(String),
}

/// Connects to `endpoint` with its client identity, completes the TLS handshake, sends
/// **nothing** and waits up to `wait` (in all) for the server's first word.
///
/// Sending nothing is what removes the race of a real request: a TLS 1.3 server that
/// refuses the certificate answers the client's Finished with its alert and closes a
/// connection with nothing unread, so no reset can overtake the alert; one that takes
/// it sends its session tickets (rustls, OpenSSL) or waits for a request.
pub async fn check_client_certificate(endpoint: &Endpoint, wait: Duration) -> CertificateCheck {
    match tokio::time::timeout(wait, handshake_and_listen(endpoint)).await {
        Ok(Ok(check)) => check,
        Ok(Err(why)) => CertificateCheck::NoVerdict(why),
        Err(_) => CertificateCheck::NoVerdict(format!("no word from the server within {wait:?}")),
    }
}

/// Remembers nothing; notes that the server issued a TLS 1.3 session ticket.
#[derive(Debug, Default)]
struct TicketSeen(AtomicBool);

impl rustls::client::ClientSessionStore for TicketSeen {
    fn set_kx_hint(&self, _: ServerName<'static>, _: rustls::NamedGroup) {}
    fn kx_hint(&self, _: &ServerName<'_>) -> Option<rustls::NamedGroup> {
        None
    }
    fn set_tls12_session(&self, _: ServerName<'static>, _: rustls::client::Tls12ClientSessionValue) {}
    fn tls12_session(&self, _: &ServerName<'_>) -> Option<rustls::client::Tls12ClientSessionValue> {
        None
    }
    fn remove_tls12_session(&self, _: &ServerName<'static>) {}
    fn insert_tls13_ticket(&self, _: ServerName<'static>, _: rustls::client::Tls13ClientSessionValue) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<rustls::client::Tls13ClientSessionValue> {
        None
    }
}

/// A TLS failure during the check: a certificate refusal is the verdict; anything else
/// is no verdict.
fn verdict_of(err: rustls::Error) -> CertificateCheck {
    match classify_rustls(&err) {
        PlatformError::ClientCertificateRefused(alert) => CertificateCheck::Refused(alert),
        other => CertificateCheck::NoVerdict(other.to_string()),
    }
}

async fn handshake_and_listen(endpoint: &Endpoint) -> Result<CertificateCheck, String> {
    let ca = endpoint.ca_pem.as_deref().ok_or("no CA configured")?;
    let url = reqwest::Url::parse(&endpoint.url).map_err(|e| e.to_string())?;
    let port = url.port_or_known_default().ok_or("no port")?;
    let host = url.host_str().ok_or("no host in the URL")?;
    let (tcp, name) = match host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>() {
        Ok(ip) => (TcpStream::connect((ip, port)).await, ServerName::IpAddress(ip.into())),
        Err(_) => (
            TcpStream::connect((host, port)).await,
            ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?,
        ),
    };
    let mut tcp = tcp.map_err(|e| format!("connect: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let tickets = Arc::new(TicketSeen::default());
    let mut config = client_config(ca, endpoint.identity.as_ref()).map_err(|e| e.to_string())?;
    config.resumption = rustls::client::Resumption::store(tickets.clone());
    let mut tls = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while tls.wants_write() {
            let mut out = Vec::new();
            tls.write_tls(&mut out).map_err(|e| e.to_string())?;
            tcp.write_all(&out).await.map_err(|e| format!("write: {e}"))?;
        }
        if !tls.is_handshaking() {
            break;
        }
        let n = tcp.read(&mut buf).await.map_err(|e| format!("handshake: {e}"))?;
        if n == 0 {
            return Err("closed during the handshake without an alert".into());
        }
        let mut data = &buf[..n];
        while !data.is_empty() {
            // 0: rustls takes no more (the peer sent close_notify); what follows is moot.
            if tls.read_tls(&mut data).map_err(|e| e.to_string())? == 0 {
                break;
            }
            if let Err(e) = tls.process_new_packets() {
                return Ok(verdict_of(e));
            }
        }
    }
    if tls.protocol_version() != Some(rustls::ProtocolVersion::TLSv1_3) {
        return Ok(CertificateCheck::Accepted);
    }
    // TLS 1.3: the handshake is over for the client; the server's verdict follows (it may
    // already have come with the handshake's last bytes).
    loop {
        match tls.process_new_packets() {
            Err(e) => return Ok(verdict_of(e)),
            Ok(state) if state.plaintext_bytes_to_read() > 0 => return Ok(CertificateCheck::Accepted),
            Ok(state) if state.peer_has_closed() => {
                return Err("closed (close_notify) without an alert".into());
            }
            Ok(_) => {}
        }
        if tickets.0.load(Ordering::SeqCst) {
            return Ok(CertificateCheck::Accepted);
        }
        let n = tcp.read(&mut buf).await.map_err(|e| format!("closed without an alert: {e}"))?;
        if n == 0 {
            return Err("closed without an alert".into());
        }
        let mut data = &buf[..n];
        while !data.is_empty() {
            if tls.read_tls(&mut data).map_err(|e| e.to_string())? == 0 {
                break;
            }
            if let Err(e) = tls.process_new_packets() {
                return Ok(verdict_of(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! What needs no simulator. The checks against a platform that takes or refuses the
    //! terminal's certificate are in `sim/tests/platform_tls.rs`, with the simulator's PKI.

    use super::*;

    async fn get(endpoint: &Endpoint) -> Result<reqwest::Response, PlatformError> {
        let client = http_client(endpoint).unwrap();
        send(endpoint, client.get(format!("{}/v1/nonce", endpoint.url))).await
    }

    #[tokio::test]
    async fn without_a_client_certificate_closed_before_an_answer_is_a_connection_failure() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let _ = tcp.read(&mut [0u8; 64]).await;
            // One connection only: a check would find nobody listening.
        });
        let got = get(&Endpoint::new(&url, None)).await.unwrap_err();
        assert!(matches!(got, PlatformError::Connect(_)), "{got:?}");
    }
}
