//! The TLS client every back-end shares: rustls with the `ring` provider, **only** the
//! configured CA as root (no system roots), the terminal's client certificate (mutual
//! TLS), TLS 1.2 or 1.3 only, and one long-lived reqwest client whose pool reuses the
//! connection.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::PlatformError;

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
