//! The local authentication platform simulator: an HTTPS server (rustls, mutual TLS) that
//! implements the platform's `api` mode (the JSON API version 1 that `kiosk-platform`
//! speaks) — register, nonce, verify with real signature and chain checks against the
//! virtual card's JPKI test CA, a link table, a revocation list, the re-issue mapping,
//! maintenance 503 — and serves a CRL with conditional GET. It can be told to misbehave
//! ([`Fault`]) and to present an expired or a stranger's server certificate
//! ([`ServerCert`]). Also: fixtures for OCSP tests ([`fixtures`]), and a platform with no
//! network for the demo ([`in_process`]).

pub mod fixtures;
pub mod http;
pub mod in_process;
pub mod openssl_ocsp;
pub mod pki;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use kiosk_card::cert::{CertError, JpkiCertificate};
use kiosk_platform::crl::CrlBuilder;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::AbortHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::card::pki::TestPki;
use http::{Request, Response};
pub use pki::{PlatformPki, TestCard, TlsIdentity};

/// Which certificate the server presents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCert {
    Good,
    Expired,
    /// Issued by a CA the kiosk does not trust.
    Stranger,
    /// Issued by the trusted CA, for another host name (someone else's certificate).
    OtherName,
}

/// A misbehaviour, applied to every answer until cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Answer after this delay.
    Slow(Duration),
    /// Read the request, never answer.
    NeverAnswer,
    /// Close the connection instead of answering.
    DropConnection,
    /// Answer with this status (500, 503…).
    Status(u16),
    /// Announce more body than is sent, then close.
    TruncatedBody,
    /// Add a field outside the contract (`patronName`).
    ExtraField,
    /// Leave out a required field (`status` / `nonce`).
    MissingField,
    /// Echo another transaction ID.
    WrongTransactionId,
    /// A hostile platform: answer 200 with a body of this many bytes, sent as fast as the
    /// kiosk reads; with its length announced (`Content-Length`) or not (read until the
    /// connection closes, as HTTP/1.0 allows).
    HugeBody {
        bytes: usize,
        announced: bool,
    },
    /// Wait this long before each TLS handshake (a slow or hostile server; the kiosk's
    /// connect timeout must cover the handshake).
    SlowHandshake(Duration),
    /// Answer `307 Temporary Redirect` to another address (the kiosk follows none).
    Redirect,
    /// Answer as HTTP/1.0, with no length, and close after half the JSON.
    Http10CloseMidBody,
}

/// The platform's tables.
#[derive(Debug)]
struct State {
    fault: Fault,
    /// Body bytes a [`Fault::HugeBody`] got out before the kiosk hung up.
    hostile_sent: usize,
    /// serial content octets → this library's patron number.
    links: HashMap<Vec<u8>, String>,
    revoked: HashSet<Vec<u8>>,
    /// new serial → old serial (re-issue).
    reissued: HashMap<Vec<u8>, Vec<u8>>,
    nonces: HashMap<Vec<u8>, SystemTime>,
    /// terminal ID → (password, registered fingerprint).
    terminals: HashMap<String, (String, Option<String>)>,
    crl: Option<(Vec<u8>, String)>,
    service_provider: String,
    /// Every validity check asked, in order: with the card's proof or without.
    checks: Vec<Check>,
}

/// A validity check the simulator answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// `/v1/verify`: nonce and signature.
    Proven,
    /// `/v1/status`: the certificate alone (no PIN at the kiosk).
    CertificateOnly,
}

/// A running simulator; stops when dropped.
pub struct PlatformSim {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    jpki: &'static TestPki,
}

impl std::fmt::Debug for PlatformSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformSim").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl Drop for PlatformSim {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("PKI: {0}")]
    Pki(String),
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

fn identity(id: &TlsIdentity) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), SimError> {
    let chain = CertificateDer::pem_slice_iter(id.chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SimError::Pki(e.to_string()))?;
    let key =
        PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).map_err(|e| SimError::Pki(e.to_string()))?;
    Ok((chain, key))
}

/// The rustls server configuration: client certificates from the platform CA are
/// verified when offered (registration is server-auth only).
pub fn server_config(pki: &PlatformPki, which: ServerCert) -> Result<rustls::ServerConfig, SimError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(pki.ca_pem.as_bytes()) {
        roots.add(c.map_err(|e| SimError::Pki(e.to_string()))?)?;
    }
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| SimError::Pki(e.to_string()))?;
    let id = match which {
        ServerCert::Good => &pki.server,
        ServerCert::Expired => &pki.expired_server,
        ServerCert::Stranger => &pki.stranger_server,
        ServerCert::OtherName => &pki.other_name_server,
    };
    let (chain, key) = identity(id)?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

fn now_rfc3339(offset: Duration) -> String {
    kiosk_platform::time::format_rfc3339(SystemTime::now() + offset)
}

impl PlatformSim {
    /// Starts on 127.0.0.1 (a free port) with the shared PKIs; `service_provider` is the
    /// library's ID-issuer id the links belong to.
    pub async fn start(which: ServerCert) -> Result<Self, SimError> {
        let pki = PlatformPki::shared().map_err(|e| SimError::Pki(e.to_string()))?;
        let jpki = TestPki::shared().map_err(|e| SimError::Pki(e.to_string()))?;
        let acceptor = TlsAcceptor::from(Arc::new(server_config(pki, which)?));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut terminals = HashMap::new();
        terminals.insert("kiosk-01".to_owned(), ("secret-01".to_owned(), None));
        let state = Arc::new(Mutex::new(State {
            fault: Fault::None,
            hostile_sent: 0,
            links: HashMap::new(),
            revoked: HashSet::new(),
            reissued: HashMap::new(),
            nonces: HashMap::new(),
            terminals,
            crl: None,
            service_provider: "LIB-HIMEJI".to_owned(),
            checks: Vec::new(),
        }));
        let sim = PlatformSim {
            addr,
            state,
            tasks: Arc::new(Mutex::new(Vec::new())),
            connections: Arc::new(AtomicUsize::new(0)),
            requests: Arc::new(AtomicUsize::new(0)),
            jpki,
        };
        let (state, tasks, conns, reqs) =
            (sim.state.clone(), sim.tasks.clone(), sim.connections.clone(), sim.requests.clone());
        let tasks2 = tasks.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { continue };
                let _ = tcp.set_nodelay(true);
                let (acceptor, state, reqs) = (acceptor.clone(), state.clone(), reqs.clone());
                conns.fetch_add(1, Ordering::SeqCst);
                let conn = tokio::spawn(async move {
                    let slow = match state.lock().map(|s| s.fault) {
                        Ok(Fault::SlowHandshake(d)) => d,
                        _ => Duration::ZERO,
                    };
                    tokio::time::sleep(slow).await;
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let has_client_cert = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
                    serve(tls, has_client_cert, state, reqs, jpki, pki).await;
                });
                if let Ok(mut t) = tasks2.lock() {
                    t.retain(|h| !h.is_finished());
                    t.push(conn.abort_handle());
                }
            }
        });
        if let Ok(mut t) = tasks.lock() {
            t.push(accept.abort_handle());
        }
        Ok(sim)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://localhost:PORT` (the server certificate names `localhost`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// TCP connections accepted so far (connection reuse shows as 1 for many requests).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> Option<T> {
        self.state.lock().ok().map(|mut s| f(&mut s))
    }

    /// How many body bytes [`Fault::HugeBody`] answers got out before the kiosk hung up.
    pub fn hostile_bytes_sent(&self) -> usize {
        self.state.lock().map(|s| s.hostile_sent).unwrap_or(0)
    }

    pub fn set_fault(&self, fault: Fault) {
        self.with(|s| s.fault = fault);
    }

    pub fn service_provider(&self) -> String {
        self.with(|s| s.service_provider.clone()).unwrap_or_default()
    }

    /// The validity checks answered so far (`/v1/verify` and `/v1/status`), in order.
    pub fn checks(&self) -> Vec<Check> {
        self.with(|s| s.checks.clone()).unwrap_or_default()
    }

    /// Links a card serial to a patron number of this library.
    pub fn link(&self, serial: &[u8], patron: &str) {
        self.with(|s| s.links.insert(serial.to_vec(), patron.to_owned()));
    }

    pub fn revoke(&self, serial: &[u8]) {
        self.with(|s| s.revoked.insert(serial.to_vec()));
    }

    /// Records a re-issue: `new` replaces `old`.
    pub fn reissue(&self, old: &[u8], new: &[u8]) {
        self.with(|s| s.reissued.insert(new.to_vec(), old.to_vec()));
    }

    /// Adds a terminal that may register.
    pub fn add_terminal(&self, id: &str, password: &str) {
        self.with(|s| s.terminals.insert(id.to_owned(), (password.to_owned(), None)));
    }

    /// Serves these bytes as the CRL (tampered or foreign CRLs in tests).
    pub fn publish_raw_crl(&self, der: Vec<u8>) {
        let etag = format!("\"{}\"", kiosk_platform::hex(&sha2::Sha256::digest_of(&der)[..8]));
        self.with(|s| s.crl = Some((der, etag)));
    }

    /// Publishes a CRL (signed by the JPKI test CA) revoking `serials`, valid for
    /// `validity` from `this_update`.
    pub fn publish_crl(
        &self,
        serials: &[Vec<u8>],
        this_update: SystemTime,
        validity: Duration,
        crl_number: u64,
    ) {
        let der = make_crl(self.jpki, serials, this_update, validity, crl_number);
        let etag = format!("\"{}\"", kiosk_platform::hex(&sha2::Sha256::digest_of(&der)[..8]));
        self.with(|s| s.crl = Some((der, etag)));
    }
}

/// `Sha256::digest` under a name that does not clash with `Digest` imports elsewhere.
trait DigestOf {
    fn digest_of(data: &[u8]) -> [u8; 32];
}

impl DigestOf for sha2::Sha256 {
    fn digest_of(data: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(data).into()
    }
}

/// A CRL of the JPKI test CA revoking `serials`.
pub fn make_crl(
    jpki: &TestPki,
    serials: &[Vec<u8>],
    this_update: SystemTime,
    validity: Duration,
    crl_number: u64,
) -> Vec<u8> {
    use x509_cert::der::{Decode, Encode};
    let issuer = x509_cert::Certificate::from_der(&jpki.ca_cert_der)
        .ok()
        .and_then(|c| c.tbs_certificate.subject.to_der().ok())
        .unwrap_or_default();
    let b = CrlBuilder {
        issuer_der: issuer,
        this_update,
        next_update: this_update + validity,
        crl_number,
        delta_of: None,
        reason: Some(1),
    };
    let tbs = b.tbs(serials, this_update);
    CrlBuilder::finish(&tbs, &pki::jpki_sign(jpki, &tbs))
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    has_client_cert: bool,
    state: Arc<Mutex<State>>,
    reqs: Arc<AtomicUsize>,
    jpki: &'static TestPki,
    pki: &'static PlatformPki,
) {
    let mut buf = Vec::new();
    while let Some(req) = http::read_request(&mut s, &mut buf).await {
        reqs.fetch_add(1, Ordering::SeqCst);
        let fault = state.lock().map(|s| s.fault).unwrap_or(Fault::None);
        match fault {
            Fault::NeverAnswer => std::future::pending::<()>().await,
            Fault::DropConnection => return,
            Fault::Slow(d) => tokio::time::sleep(d).await,
            _ => {}
        }
        if let Fault::HugeBody { bytes, announced } = fault {
            let sent = huge_body(&mut s, bytes, announced).await;
            if let Ok(mut st) = state.lock() {
                st.hostile_sent += sent;
            }
            return;
        }
        if fault == Fault::Http10CloseMidBody {
            use tokio::io::AsyncWriteExt;
            let _ = s
                .write_all(
                    b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"transactionId\": \"2f1c",
                )
                .await;
            let _ = s.shutdown().await;
            return;
        }
        let mut resp = handle(&req, has_client_cert, &state, jpki, pki, fault);
        if fault == Fault::Redirect {
            resp = Response::new(307, "text/plain", Vec::new());
            // Back to this server: a kiosk that followed would be counted twice.
            resp.headers.push(("Location".into(), "/v1/nonce".into()));
        }
        let mut close = req.close;
        if fault == Fault::TruncatedBody {
            resp.claimed_len = Some(resp.body.len() + 100);
            close = true;
        }
        if http::write_response(&mut s, &resp, close).await.is_err() || close {
            return;
        }
    }
}

/// [`Fault::HugeBody`]: a JSON-looking body of `bytes` bytes, written in 64 KiB pieces
/// until all is sent or the kiosk hangs up.
/// Returns how many body bytes went out before the kiosk hung up (or all of them).
async fn huge_body<S: tokio::io::AsyncWrite + Unpin>(s: &mut S, bytes: usize, announced: bool) -> usize {
    let mut sent = 0;
    let _ = write_huge_body(s, bytes, announced, &mut sent).await;
    sent
}

async fn write_huge_body<S: tokio::io::AsyncWrite + Unpin>(
    s: &mut S,
    bytes: usize,
    announced: bool,
    sent: &mut usize,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let length = if announced { format!("Content-Length: {bytes}\r\n") } else { String::new() };
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n{{\"x\":\""
    );
    s.write_all(head.as_bytes()).await?;
    let piece = vec![b'a'; 64 * 1024];
    let mut left = bytes.saturating_sub(7);
    while left > 0 {
        let n = left.min(piece.len());
        s.write_all(&piece[..n]).await?;
        *sent += n;
        left -= n;
    }
    s.write_all(b"\"}").await?;
    s.shutdown().await
}

fn tx_of(body: &Value) -> String {
    body.pointer("/requestInfo/transactionId").and_then(Value::as_str).unwrap_or("").to_owned()
}

fn handle(
    req: &Request,
    has_client_cert: bool,
    state: &Mutex<State>,
    jpki: &TestPki,
    pki: &PlatformPki,
    fault: Fault,
) -> Response {
    if req.method == "GET" && req.path == "/crl" {
        let Ok(st) = state.lock() else { return Response::new(500, "text/plain", vec![]) };
        if let Fault::Status(code) = fault {
            return Response::new(code, "text/plain", vec![]);
        }
        return match &st.crl {
            None => Response::new(404, "text/plain", vec![]),
            Some((_, etag)) if req.header("if-none-match") == Some(etag.as_str()) => {
                let mut r = Response::new(304, "application/pkix-crl", vec![]);
                r.headers.push(("ETag".into(), etag.clone()));
                r
            }
            Some((der, etag)) => {
                let mut r = Response::new(200, "application/pkix-crl", der.clone());
                r.headers.push(("ETag".into(), etag.clone()));
                r
            }
        };
    }
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return Response::json(400, &json!({"reason": "malformed"}));
    };
    let mut tx = tx_of(&body);
    if fault == Fault::WrongTransactionId {
        tx = "00000000-0000-4000-8000-000000000000".to_owned();
    }
    if let Fault::Status(code) = fault {
        return Response::json(code, &json!({"transactionId": tx, "reason": "maintenance"}));
    }
    let Ok(mut st) = state.lock() else { return Response::new(500, "text/plain", vec![]) };
    let mut answer = match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/v1/terminals/register") => register(&body, &tx, &mut st, pki),
        (_, "/v1/nonce" | "/v1/verify" | "/v1/status") if !has_client_cert => {
            Response::json(401, &json!({"transactionId": tx, "reason": "client-certificate-required"}))
        }
        ("POST", "/v1/nonce") => {
            let nonce: [u8; 32] = rand_bytes();
            st.nonces.retain(|_, exp| *exp > SystemTime::now());
            st.nonces.insert(nonce.to_vec(), SystemTime::now() + Duration::from_secs(60));
            let mut v = json!({"transactionId": tx, "nonce": kiosk_platform::hex(&nonce), "expiresAt": now_rfc3339(Duration::from_secs(60))});
            if fault == Fault::MissingField
                && let Some(o) = v.as_object_mut()
            {
                o.remove("nonce");
            }
            Response::json(200, &v)
        }
        ("POST", "/v1/verify") => verify(&body, &tx, &mut st, jpki, true),
        // The certificate alone, for a library that does not ask for the PIN.
        ("POST", "/v1/status") => verify(&body, &tx, &mut st, jpki, false),
        _ => Response::json(404, &json!({"transactionId": tx, "reason": "no-such-call"})),
    };
    if answer.status == 200
        && matches!(fault, Fault::ExtraField | Fault::MissingField)
        && let Ok(mut v) = serde_json::from_slice::<Value>(&answer.body)
        && let Some(o) = v.as_object_mut()
    {
        if fault == Fault::ExtraField {
            o.insert("patronName".into(), json!("Yamada Taro"));
        } else {
            o.remove("status");
        }
        answer = Response::json(200, &v);
    }
    answer
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut b = [0u8; N];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b
}

fn refuse(status: u16, tx: &str, reason: &str) -> Response {
    Response::json(status, &json!({"transactionId": tx, "reason": reason}))
}

/// `/v1/verify` (`proven`: nonce and signature checked) or `/v1/status` (the
/// certificate alone; a nonce or signature sent there is refused as malformed).
fn verify(body: &Value, tx: &str, st: &mut State, jpki: &TestPki, proven: bool) -> Response {
    let field = |k: &str| body.get(k).and_then(Value::as_str);
    let Some(cert) = field("certificate") else { return refuse(400, tx, "malformed") };
    if !proven && (body.get("nonce").is_some() || body.get("signature").is_some()) {
        return refuse(400, tx, "malformed");
    }
    if field("serviceProvider") != Some(st.service_provider.as_str()) {
        return refuse(404, tx, "unknown-service-provider");
    }
    let Ok(cert) = B64.decode(cert) else { return refuse(400, tx, "malformed") };
    let Ok(cert) = JpkiCertificate::from_der(&cert) else { return refuse(400, tx, "malformed") };
    if proven {
        let (Some(nonce), Some(sig)) = (field("nonce"), field("signature")) else {
            return refuse(400, tx, "malformed");
        };
        let (Some(nonce), Ok(sig)) = (kiosk_platform::unhex(nonce), B64.decode(sig)) else {
            return refuse(400, tx, "malformed");
        };
        match st.nonces.remove(&nonce) {
            Some(exp) if exp > SystemTime::now() => {}
            _ => return refuse(401, tx, "nonce-expired"),
        }
        if cert.verify_message(&nonce, &sig).is_err() {
            return refuse(401, tx, "bad-signature");
        }
    }
    st.checks.push(if proven { Check::Proven } else { Check::CertificateOnly });
    let Ok(ca) = JpkiCertificate::from_der(&jpki.ca_cert_der) else { return refuse(500, tx, "internal") };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    match cert.verify_chain(std::slice::from_ref(&ca), now) {
        Ok(_) => {}
        Err(CertError::Expired) => return refuse(410, tx, "expired"),
        Err(_) => return refuse(401, tx, "bad-signature"),
    }
    let serial = cert.serial().expose().to_vec();
    if st.revoked.contains(&serial) {
        return refuse(401, tx, "revoked");
    }
    let (patron, reissued) = match st.links.get(&serial) {
        Some(p) => (Some(p.clone()), false),
        None => match st.reissued.get(&serial).and_then(|old| st.links.get(old)) {
            Some(p) => (Some(p.clone()), true),
            None => (None, false),
        },
    };
    let Some(patron) = patron else { return refuse(404, tx, "not-linked") };
    if reissued {
        // The platform updates the link on first use after the re-issue.
        st.links.insert(serial, patron.clone());
    }
    Response::json(
        200,
        &json!({
            "transactionId": tx,
            "status": "good",
            "checkedAt": now_rfc3339(Duration::ZERO),
            "nextUpdate": now_rfc3339(Duration::from_secs(3600)),
            "serviceId": patron,
            "reissued": reissued,
        }),
    )
}

/// The CSR's public key, for rcgen to certify.
struct CsrKey {
    spki_bits: Vec<u8>,
}

impl rcgen::PublicKeyData for CsrKey {
    fn der_bytes(&self) -> &[u8] {
        &self.spki_bits
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

fn register(body: &Value, tx: &str, st: &mut State, pki: &PlatformPki) -> Response {
    use x509_cert::der::oid::db::rfc5912::{ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, SECP_256_R_1};
    use x509_cert::der::{Decode, Encode};
    let field = |k: &str| body.get(k).and_then(Value::as_str);
    let (Some(id), Some(password), Some(fp), Some(csr)) =
        (field("terminalId"), field("password"), field("fingerprint"), field("csr"))
    else {
        return refuse(400, tx, "malformed");
    };
    if kiosk_platform::unhex(fp).is_none_or(|f| f.len() != 32) {
        return refuse(400, tx, "malformed");
    }
    match st.terminals.get(id) {
        Some((pw, _)) if pw == password => {}
        _ => return refuse(401, tx, "wrong-terminal-or-password"),
    }
    if let Some((_, Some(registered))) = st.terminals.get(id)
        && registered != fp
    {
        return refuse(409, tx, "registered-with-another-fingerprint");
    }
    let csr = rustls::pki_types::CertificateSigningRequestDer::from_pem_slice(csr.as_bytes());
    let Ok(csr) = csr else { return refuse(400, tx, "malformed") };
    let Ok(req) = x509_cert::request::CertReq::from_der(csr.as_ref()) else {
        return refuse(400, tx, "malformed");
    };
    let spki = &req.info.public_key;
    let p256 = spki.algorithm.oid == ID_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<x509_cert::der::oid::ObjectIdentifier>().ok())
            == Some(SECP_256_R_1);
    if !p256 || req.algorithm.oid != ECDSA_WITH_SHA_256 {
        return refuse(400, tx, "unsupported-key");
    }
    // Proof of possession: the CSR's own signature.
    let (Ok(info), Some(sig)) = (req.info.to_der(), req.signature.as_bytes()) else {
        return refuse(400, tx, "malformed");
    };
    let key = spki.subject_public_key.raw_bytes().to_vec();
    if ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, &key)
        .verify(&info, sig)
        .is_err()
    {
        return refuse(400, tx, "bad-csr-signature");
    }
    let Ok(mut params) = rcgen::CertificateParams::new(Vec::<String>::new()) else {
        return refuse(500, tx, "internal");
    };
    params.distinguished_name.push(rcgen::DnType::CommonName, id);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let Ok(cert) = params.signed_by(&CsrKey { spki_bits: key }, &pki.ca) else {
        return refuse(500, tx, "internal");
    };
    st.terminals.entry(id.to_owned()).and_modify(|t| t.1 = Some(fp.to_owned()));
    Response::json(
        200,
        &json!({"transactionId": tx, "certificateChain": format!("{}{}", cert.pem(), pki.ca_pem)}),
    )
}
