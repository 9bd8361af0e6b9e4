//! A library system that speaks real SIP2 over real TCP, for tests and the demo.
//!
//! In-memory catalogue and patrons (Japanese and English titles, a blocked patron, an
//! item on hold for someone else, an item already on loan, a patron with a PIN), loan
//! rules (limit, loan period), and fault switches: drop a reply, delay a reply, close
//! the connection before or after applying a checkout, corrupt a checksum, send garbage,
//! a 1 MiB frame with no terminator, a wrong sequence number, an unknown message id,
//! answer in CRLF, decomposed (NFD) Unicode titles, a lying 98, a refused login.
//!
//! Optionally over TLS ([`SimTls`], tokio-rustls), with or without requiring a client
//! certificate; [`TestPki`] makes the certificates (rcgen) for tests and the demo.
//!
//! Duplicate handling follows pysip2/FOLIO by default (a byte-identical request is
//! answered from the cache, not executed again); [`Behaviour::replay_duplicates`] off
//! makes it behave like Evergreen/Koha (re-execute; a second checkout becomes a renewal).
//!
//! Real servers' habits are switches of [`Behaviour`]: closing a connection idle for a
//! while ([`Behaviour::idle_close`]), answering a `97` like Evergreen (its last reply
//! rebuilt with `AY0` and its text encoded to UTF-8 twice,
//! [`Behaviour::resend_rebuilds_reply`]), titles instead of barcodes in a patron's charged
//! items ([`Behaviour::charged_items_titles`]), the borrower named in item information
//! ([`Behaviour::item_information_names_patron`]), a 98 that refuses checkout
//! ([`Behaviour::lie_checkout_not_ok`]). [`Behaviour::profile`] sets them as each common
//! library system does.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kiosk_ils::DecodeError;
use kiosk_ils::codec::{Charset, DecodeOptions, Field, FrameBuffer, SipDate, Trailer};
use kiosk_ils::messages::{
    AcsStatus, CheckinResponse, CirculationResponse, CirculationStatus, EndSessionResponse,
    ItemInformationResponse, LoginResponse, Message, PatronInformationResponse, PatronStatusFlags,
    PatronStatusResponse, Summary,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A patron of the simulated library.
#[derive(Clone, Debug)]
pub struct Patron {
    pub name: String,
    pub pin: Option<String>,
    /// Blocked for overdue items and fines (flags charge privileges denied, excessive
    /// fines; the message says to come to the counter).
    pub blocked: bool,
    /// The card is reported lost (flag card reported lost): no borrowing, no renewing.
    pub card_lost: bool,
}

/// Where an item is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemState {
    Available,
    OnLoan { patron: String, due: String },
    OnHoldFor(String),
}

/// An item of the simulated library.
#[derive(Clone, Debug)]
pub struct Item {
    pub title: String,
    pub state: ItemState,
    /// How many times a checkout of this item was executed (a duplicate counts).
    pub checkouts_executed: u32,
    /// Renewals of the current loan (a new loan starts from 0).
    pub renewals: u32,
    /// Patrons waiting for it, first in line first: it cannot be renewed, and when it
    /// comes back it goes to the hold shelf for the first.
    pub hold_queue: Vec<String>,
    /// How many times a renewal of this item was executed.
    pub renewals_executed: u32,
    /// How many times a return of this item was executed while it was on loan.
    pub returns_executed: u32,
}

/// Patrons, items, loan rules.
#[derive(Clone, Debug)]
pub struct Catalogue {
    pub patrons: BTreeMap<String, Patron>,
    pub items: BTreeMap<String, Item>,
    pub loan_limit: usize,
    pub loan_days: i64,
    /// How many times one loan may be renewed.
    pub renewal_limit: u32,
    /// The hold shelf, named in item information of a hold waiting (BS).
    pub hold_shelf: String,
}

impl Catalogue {
    /// The demo library: see the module docs.
    pub fn demo() -> Self {
        let mut c = Catalogue::empty();
        c.patron("P0001", "山田 太郎", Some("1234"), false);
        c.patron("P0002", "Alice Smith", None, false);
        c.patron("P0003", "佐藤 花子", None, true);
        c.patron("P0004", "Bob Jones", None, false);
        c.item("1000000001", "吾輩は猫である");
        c.item("1000000002", "ノルウェイの森");
        c.item("1000000003", "ポケットモンスター図鑑　第２版");
        c.item("2000000001", "The Deep Blue Alibi");
        c.item("2000000002", "Perl 5 Desktop Reference");
        c.item("3000000001", "Le Piège de Bogota");
        if let Some(i) = c.items.get_mut("2000000002") {
            i.state = ItemState::OnLoan { patron: "P0004".into(), due: "20261207    120000".into() };
        }
        if let Some(i) = c.items.get_mut("3000000001") {
            i.state = ItemState::OnHoldFor("P0004".into());
        }
        c
    }

    /// No patrons, no items, the demo's rules (5 loans, 14 days, 2 renewals).
    pub fn empty() -> Self {
        Catalogue {
            patrons: BTreeMap::new(),
            items: BTreeMap::new(),
            loan_limit: 5,
            loan_days: 14,
            renewal_limit: 2,
            hold_shelf: "本館 予約棚".into(),
        }
    }

    pub fn patron(&mut self, id: &str, name: &str, pin: Option<&str>, blocked: bool) {
        self.patrons.insert(
            id.into(),
            Patron { name: name.into(), pin: pin.map(str::to_owned), blocked, card_lost: false },
        );
    }

    pub fn item(&mut self, id: &str, title: &str) {
        self.items.insert(
            id.into(),
            Item {
                title: title.into(),
                state: ItemState::Available,
                checkouts_executed: 0,
                renewals: 0,
                hold_queue: Vec::new(),
                renewals_executed: 0,
                returns_executed: 0,
            },
        );
    }

    /// Puts `item` on loan to `patron`, due `due` (a SIP2 date, `YYYYMMDD    HHMMSS`).
    pub fn lend(&mut self, item: &str, patron: &str, due: &str) {
        if let Some(i) = self.items.get_mut(item) {
            i.state = ItemState::OnLoan { patron: patron.into(), due: due.into() };
            i.renewals = 0;
        }
    }

    /// Another patron waits for `item`.
    pub fn hold(&mut self, item: &str, patron: &str) {
        if let Some(i) = self.items.get_mut(item) {
            i.hold_queue.push(patron.into());
        }
    }

    fn loans_of(&self, patron: &str) -> Vec<String> {
        self.items
            .iter()
            .filter(|(_, i)| matches!(&i.state, ItemState::OnLoan { patron: p, .. } if p == patron))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// How the server behaves (not faults: its dialect).
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub institution: String,
    pub library_name: String,
    /// `Some((user, password))`: 93 required first.
    pub login: Option<(String, String)>,
    pub charset: Charset,
    /// Tenths of a second, as sent in 98.
    pub timeout_period: u16,
    pub retries_allowed: u16,
    /// Answer a byte-identical request from the cache (pysip2/FOLIO), or re-execute it
    /// (Evergreen/Koha).
    pub replay_duplicates: bool,
    /// Terminate replies with CRLF (Koha's default).
    pub crlf: bool,
    /// Send titles decomposed (NFD), as Evergreen does.
    pub nfd_titles: bool,
    /// A 98 that says checkout is not allowed although it is.
    pub lie_checkout_not_ok: bool,
    pub online: bool,
    /// How long the library system takes to answer a patron or circulation request (not
    /// login, status or keep-alive): the demo's "real" library system is not instant.
    pub latency: Duration,
    /// Close a connection that sent nothing for this long (Koha's `client_timeout`, the
    /// service timeout of Evergreen's server); the timeout is not announced.
    pub idle_close: Option<Duration>,
    /// Answer a `97` as Evergreen does: the last reply rebuilt with the sequence number
    /// `0` and its text encoded to UTF-8 a second time (with a valid checksum).
    pub resend_rebuilds_reply: bool,
    /// List titles, not barcodes, as a patron's charged items (`AU`; Evergreen's default).
    pub charged_items_titles: bool,
    /// Name the borrower (`AA`) in item information (`18`) of an item on loan.
    pub item_information_names_patron: bool,
    /// List at most this many items in a patron information answer, whatever range was
    /// asked (a server with a frame size limit that ignores BP/BQ).
    pub list_limit: Option<usize>,
}

impl Behaviour {
    /// The habits of a common library system, as far as they are known (see
    /// docs/library-systems.md): duplicates executed again or answered from a cache, the
    /// answer to a `97`, what `AU` lists, line ends, the idle limit, the 98's timeout.
    pub fn profile(profile: kiosk_ils::Profile) -> Self {
        use kiosk_ils::Profile as P;
        let base = Behaviour::default();
        match profile {
            P::Generic => base,
            P::Koha => Behaviour {
                replay_duplicates: false,
                crlf: true,
                // A typical client_timeout; the 98 gives the policy's timeout="100".
                idle_close: Some(Duration::from_secs(300)),
                timeout_period: 100,
                retries_allowed: 5,
                ..base
            },
            P::Evergreen => Behaviour {
                replay_duplicates: false,
                nfd_titles: true,
                resend_rebuilds_reply: true,
                charged_items_titles: true,
                idle_close: Some(Duration::from_secs(60)),
                timeout_period: 600,
                retries_allowed: 3,
                ..base
            },
            P::Folio => Behaviour { replay_duplicates: true, ..base },
            P::Sierra | P::Polaris => Behaviour { replay_duplicates: false, ..base },
        }
    }
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            institution: "KIOSKLIB".into(),
            library_name: "テスト図書館".into(),
            login: Some(("kiosk".into(), "secret".into())),
            charset: Charset::Utf8,
            timeout_period: 999,
            retries_allowed: 999,
            replay_duplicates: true,
            crlf: false,
            nfd_titles: false,
            lie_checkout_not_ok: false,
            online: true,
            latency: Duration::ZERO,
            idle_close: None,
            resend_rebuilds_reply: false,
            charged_items_titles: false,
            item_information_names_patron: false,
            list_limit: None,
        }
    }
}

/// One-shot fault switches; each counter is consumed by the next matching request.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Apply the next checkout(s) and send no reply.
    pub drop_checkout_reply: u32,
    /// Apply the next checkout(s) and reply only after this delay.
    pub delay_checkout_reply: Option<Duration>,
    /// Apply the next checkout(s), then close the connection without replying.
    pub disconnect_after_checkout: u32,
    /// Close the connection on the next checkout(s) without applying it.
    pub disconnect_before_checkout: u32,
    /// Corrupt the checksum of the next reply(ies) (97 answers are corrupted too while
    /// this counter lasts).
    pub corrupt_checksum: u32,
    /// Answer the next request with garbage bytes.
    pub garbage: u32,
    /// Answer the next request with 1 MiB and no CR.
    pub huge_frame: u32,
    /// Answer the next request with the wrong sequence number.
    pub wrong_sequence: u32,
    /// Answer the next request with an unknown message id.
    pub unknown_message: u32,
    /// Send the next reply(ies) one byte a second (a slow-loris peer); nothing else is
    /// read from that connection meanwhile.
    pub trickle: u32,
    /// Close the connection when the next request(s) of any kind arrive, without
    /// executing them (a server closing the connection just as a request comes).
    pub disconnect_on_request: u32,
    /// The next patron information answer(s) count fewer loans than they list.
    pub miscount_lists: u32,
    /// Execute the next renewal(s) or return(s) and answer without the item id (AB).
    pub omit_item_id: u32,
    /// Execute the next renewal(s) with a due date a week before the old one.
    pub renew_moves_back: u32,
    /// Execute the next renewal(s), then close the connection without replying.
    pub disconnect_after_renewal: u32,
    /// Execute the next renewal and reply only after this delay.
    pub delay_renewal_reply: Option<Duration>,
    /// Execute the next return(s), then close the connection without replying.
    pub disconnect_after_return: u32,
    /// Execute the next return and reply only after this delay.
    pub delay_return_reply: Option<Duration>,
}

/// What the server saw.
#[derive(Clone, Debug, Default)]
pub struct SimStats {
    pub connections: u64,
    /// The location code (CP) each login carried, in order.
    pub login_locations: Vec<Option<String>>,
    /// The institution IDs (AO) the patron status requests carried.
    pub institutions: std::collections::BTreeSet<String>,
    pub requests: BTreeMap<String, u64>,
    pub checkouts_applied: u64,
    /// Checkouts of an item already on loan to the same patron (executed as renewals):
    /// a kiosk that never doubles a checkout keeps this at 0.
    pub duplicate_checkouts: u64,
    pub replayed_from_cache: u64,
    pub acs_resends: u64,
    pub bad_checksums_received: u64,
    /// Checkouts that arrived with `no block = Y` (only an offline replay may send one).
    pub no_block_checkouts: u64,
    /// Each of those, in the order they came: `(item, transaction date, nb due date)`.
    pub no_block_log: Vec<(String, String, String)>,
    /// TLS handshakes that succeeded / failed (TLS listener only).
    pub tls_handshakes: u64,
    pub tls_handshake_failures: u64,
    /// Connections closed because they were idle for [`Behaviour::idle_close`] (counted
    /// once the socket is closed).
    pub idle_closes: u64,
    /// Connections closed by [`Faults::disconnect_on_request`].
    pub closed_on_request: u64,
}

/// TLS for the simulator's listener.
#[derive(Clone)]
pub struct SimTls {
    /// PEM: the server certificate, then intermediates.
    pub cert_chain_pem: String,
    /// PEM: its private key.
    pub key_pem: String,
    /// PEM: when set, a client certificate signed by this CA is required (mutual TLS).
    pub client_ca_pem: Option<String>,
}

impl std::fmt::Debug for SimTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTls").field("mutual", &self.client_ca_pem.is_some()).finish_non_exhaustive()
    }
}

fn invalid(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"))
}

impl SimTls {
    /// The rustls server side: TLS 1.2/1.3, `ring`.
    pub fn acceptor(&self) -> std::io::Result<TlsAcceptor> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = CertificateDer::pem_slice_iter(self.cert_chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("server certificate", e))?;
        let key =
            PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes()).map_err(|e| invalid("server key", e))?;
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| invalid("TLS versions", e))?;
        let builder = match &self.client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                    roots
                        .add(cert.map_err(|e| invalid("client CA", e))?)
                        .map_err(|e| invalid("client CA", e))?;
                }
                let verifier =
                    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .map_err(|e| invalid("client verifier", e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let config = builder.with_single_cert(chain, key).map_err(|e| invalid("server certificate", e))?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

/// A throwaway certificate authority (rcgen, ECDSA P-256) issuing server and client
/// certificates for tests and the demo. Never for production.
pub struct TestPki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}

/// A certificate and its key, both PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestPki {
    /// A new CA whose common name is `name`.
    pub fn new(name: &str) -> Result<Self, rcgen::Error> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(TestPki { ca_pem: cert.pem(), issuer: rcgen::Issuer::new(params, key) })
    }

    /// The CA certificate, PEM: what the kiosk's `ils.ca_file` holds.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A certificate for `names` (DNS names or IP addresses) valid from `not_before`
    /// to `not_after` (`(year, month, day)`), for a server or a client.
    pub fn issue(
        &self,
        names: &[&str],
        validity: ((i32, u8, u8), (i32, u8, u8)),
        client: bool,
    ) -> Result<Issued, rcgen::Error> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = rcgen::CertificateParams::new(names.clone())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, names.first().map_or("kiosk", String::as_str));
        let ((y0, m0, d0), (y1, m1, d1)) = validity;
        params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![if client {
            rcgen::ExtendedKeyUsagePurpose::ClientAuth
        } else {
            rcgen::ExtendedKeyUsagePurpose::ServerAuth
        }];
        let key = rcgen::KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// A server certificate for `names`, valid 2000–2100.
    pub fn server(&self, names: &[&str]) -> Result<SimTls, rcgen::Error> {
        let issued = self.issue(names, ((2000, 1, 1), (2100, 1, 1)), false)?;
        Ok(SimTls { cert_chain_pem: issued.cert_pem, key_pem: issued.key_pem, client_ca_pem: None })
    }

    /// A client certificate (mutual TLS) for `name`, valid 2000–2100.
    pub fn client(&self, name: &str) -> Result<Issued, rcgen::Error> {
        self.issue(&[name], ((2000, 1, 1), (2100, 1, 1)), true)
    }
}

#[derive(Debug)]
struct Shared {
    catalogue: Catalogue,
    behaviour: Behaviour,
    faults: Faults,
    stats: SimStats,
    /// Stopped ([`Sip2Sim::stop`]): connections still open are closed at their next
    /// request, unanswered.
    down: bool,
}

/// A running simulated library system.
#[derive(Debug)]
pub struct Sip2Sim {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    /// The listener (none in process).
    task: Option<JoinHandle<()>>,
}

impl Drop for Sip2Sim {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sip2Sim {
    /// Starts on 127.0.0.1 with an ephemeral port.
    pub async fn start(catalogue: Catalogue, behaviour: Behaviour) -> std::io::Result<Self> {
        Self::bind("127.0.0.1:0", catalogue, behaviour).await
    }

    /// Starts on 127.0.0.1 with an ephemeral port, speaking TLS.
    pub async fn start_tls(
        catalogue: Catalogue,
        behaviour: Behaviour,
        tls: &SimTls,
    ) -> std::io::Result<Self> {
        Self::bind_tls("127.0.0.1:0", catalogue, behaviour, Some(tls)).await
    }

    pub async fn bind(addr: &str, catalogue: Catalogue, behaviour: Behaviour) -> std::io::Result<Self> {
        Self::bind_tls(addr, catalogue, behaviour, None).await
    }

    /// Binds `addr`; with `tls`, every connection starts with a TLS handshake.
    pub async fn bind_tls(
        addr: &str,
        catalogue: Catalogue,
        behaviour: Behaviour,
        tls: Option<&SimTls>,
    ) -> std::io::Result<Self> {
        let acceptor = tls.map(SimTls::acceptor).transpose()?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            catalogue,
            behaviour,
            faults: Faults::default(),
            stats: SimStats::default(),
            down: false,
        }));
        let task = listen(listener, Arc::clone(&shared), acceptor);
        Ok(Sip2Sim { addr, shared, task: Some(task) })
    }

    /// The library system goes down: it stops listening, and connections still open are
    /// closed at their next request without an answer. Its catalogue and counts stay for
    /// [`Sip2Sim::restart`].
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        lock(&self.shared).down = true;
    }

    /// Comes back on the same address (plain TCP), with what it had.
    ///
    /// # Errors
    /// If the address cannot be bound again.
    pub async fn restart(&mut self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.addr).await?;
        lock(&self.shared).down = false;
        self.task = Some(listen(listener, Arc::clone(&self.shared), None));
        Ok(())
    }
}

/// Accepts connections on `listener` until aborted, each served on its own task.
fn listen(listener: TcpListener, s: Arc<Mutex<Shared>>, acceptor: Option<TlsAcceptor>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let s = Arc::clone(&s);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "SIP2 simulator: set_nodelay failed");
                }
                let result = match acceptor {
                    None => serve(stream, s).await,
                    Some(acceptor) => {
                        let handshake = acceptor.accept(stream);
                        match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                            Ok(Ok(tls)) => {
                                lock(&s).stats.tls_handshakes += 1;
                                serve(tls, s).await
                            }
                            Ok(Err(e)) => {
                                lock(&s).stats.tls_handshake_failures += 1;
                                Err(e)
                            }
                            Err(_) => {
                                lock(&s).stats.tls_handshake_failures += 1;
                                Err(std::io::ErrorKind::TimedOut.into())
                            }
                        }
                    }
                };
                if let Err(e) = result {
                    tracing::debug!(error = %e, "SIP2 simulator connection ended");
                }
            });
        }
    })
}

impl Sip2Sim {
    /// A library system in this process, with no socket: the client connects through
    /// [`Sip2Sim::peer`] (the demo's, whose clock may be tokio's paused one). Its
    /// [`Sip2Sim::addr`] is `127.0.0.1:0`, where nothing listens.
    pub fn in_process(catalogue: Catalogue, behaviour: Behaviour) -> Self {
        let shared = Arc::new(Mutex::new(Shared {
            catalogue,
            behaviour,
            faults: Faults::default(),
            stats: SimStats::default(),
            down: false,
        }));
        Sip2Sim { addr: SocketAddr::from(([127, 0, 0, 1], 0)), shared, task: None }
    }

    /// The client's way in: each connection is an in-memory pipe served by a task on
    /// the caller's runtime, with the same frames as over TCP.
    pub fn peer(&self) -> kiosk_ils::InProcessPeer {
        let shared = Arc::clone(&self.shared);
        kiosk_ils::InProcessPeer::new(move || {
            let (client, server) = tokio::io::duplex(64 * 1024);
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                if let Err(e) = serve(server, shared).await {
                    tracing::debug!(error = %e, "SIP2 simulator connection ended");
                }
            });
            client
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes fault switches.
    pub fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut lock(&self.shared).faults);
    }

    /// Changes behaviour.
    pub fn behaviour(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut lock(&self.shared).behaviour);
    }

    /// Changes the catalogue.
    pub fn catalogue(&self, f: impl FnOnce(&mut Catalogue)) {
        f(&mut lock(&self.shared).catalogue);
    }

    pub fn stats(&self) -> SimStats {
        lock(&self.shared).stats.clone()
    }

    pub fn item(&self, id: &str) -> Option<Item> {
        lock(&self.shared).catalogue.items.get(id).cloned()
    }

    pub fn loans_of(&self, patron: &str) -> Vec<String> {
        lock(&self.shared).catalogue.loans_of(patron)
    }
}

/// What to do with a reply.
enum Action {
    Reply(Message),
    /// No reply on the wire; `Some` is still cached for a resend (a lost reply).
    Silent(Option<Message>),
    Close,
    DelayedReply(Message, Duration),
}

/// Writes and flushes (a TLS stream may hold the record back until flushed).
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    shared: Arc<Mutex<Shared>>,
) -> std::io::Result<()> {
    lock(&shared).stats.connections += 1;
    let mut buf = FrameBuffer::new(64 * 1024);
    let mut chunk = [0u8; 4096];
    let mut logged_in = lock(&shared).behaviour.login.is_none();
    let mut last_request: Option<Vec<u8>> = None;
    let mut last_reply: Option<Vec<u8>> = None;
    loop {
        let frame = loop {
            match buf.next_frame() {
                Ok(Some(f)) => break f,
                Ok(None) => {}
                Err(_) => return Ok(()),
            }

            let idle = lock(&shared).behaviour.idle_close;
            let n = match idle {
                None => stream.read(&mut chunk).await?,
                Some(limit) => match tokio::time::timeout(limit, stream.read(&mut chunk)).await {
                    Ok(n) => n?,
                    Err(_) => {
                        // Closed before it is counted: a test that saw the count finds
                        // the connection closed.
                        let _ = stream.shutdown().await;
                        drop(stream);
                        lock(&shared).stats.idle_closes += 1;
                        return Ok(());
                    }
                },
            };
            if n == 0 {
                return Ok(());
            }
            buf.extend(&chunk[..n]);
        };
        // Stopped meanwhile: the request goes unanswered.
        if lock(&shared).down {
            return Ok(());
        }
        let (charset, crlf, replay) = {
            let s = lock(&shared);
            (s.behaviour.charset, s.behaviour.crlf, s.behaviour.replay_duplicates)
        };
        let terminate = |mut bytes: Vec<u8>| {
            if crlf {
                bytes.push(b'\n');
            }
            bytes
        };
        let decoded = match Message::decode(&frame, DecodeOptions { charset, require_checksum: false }) {
            Ok(d) => d,
            Err(DecodeError::BadChecksum { .. } | DecodeError::MalformedChecksum) => {
                lock(&shared).stats.bad_checksums_received += 1;
                send(&mut stream, &terminate(b"96AZFEF6\r".to_vec())).await?;
                continue;
            }
            // Unknown or unreadable messages get no reply at all (the spec's rule).
            Err(_) => continue,
        };
        let id = decoded.message.id().to_owned();
        *lock(&shared).stats.requests.entry(id).or_default() += 1;
        if decoded.message == Message::RequestAcsResend {
            let rebuild = {
                let mut s = lock(&shared);
                s.stats.acs_resends += 1;
                s.behaviour.resend_rebuilds_reply
            };
            if let Some(reply) = &last_reply {
                let reply = if rebuild { rebuilt_like_evergreen(reply) } else { reply.clone() };
                let bytes = corrupt_if_asked(&shared, reply);
                send(&mut stream, &bytes).await?;
            }
            continue;
        }
        if replay
            && last_request.as_deref() == Some(&frame[..])
            && decoded.seq.is_some()
            && let Some(reply) = &last_reply
        {
            lock(&shared).stats.replayed_from_cache += 1;
            send(&mut stream, reply).await?;
            continue;
        }
        if !logged_in && !matches!(decoded.message, Message::Login(_)) {
            return Ok(());
        }
        {
            let mut s = lock(&shared);
            if s.faults.disconnect_on_request > 0 {
                s.faults.disconnect_on_request -= 1;
                s.stats.closed_on_request += 1;
                return Ok(());
            }
        }
        let action = {
            let mut s = lock(&shared);
            handle(&mut s, &decoded.message, &mut logged_in)
        };
        let reply = match action {
            Action::Close => return Ok(()),
            Action::Silent(lost) => {
                // A lost reply is still in the cache, for a byte-identical resend.
                last_reply = match lost {
                    Some(m) => m
                        .encode(decoded.seq, charset, decoded.trailer == Trailer::Verified)
                        .ok()
                        .map(terminate),
                    None => None,
                };
                last_request = Some(frame);
                continue;
            }
            Action::Reply(m) => (m, None),
            Action::DelayedReply(m, d) => (m, Some(d)),
        };
        let (msg, delay) = reply;
        let latency = match decoded.message {
            Message::Login(_) | Message::ScStatus(_) => Duration::ZERO,
            _ => lock(&shared).behaviour.latency,
        };
        let delay = delay.map_or(latency, |d| d + latency);
        let seq = {
            let mut s = lock(&shared);
            if s.faults.wrong_sequence > 0 {
                s.faults.wrong_sequence -= 1;
                decoded.seq.map(|q| (q + 5) % 10)
            } else {
                decoded.seq
            }
        };
        let ed = decoded.trailer == Trailer::Verified;
        let Ok(bytes) = msg.encode(seq, charset, ed) else { return Ok(()) };
        let bytes = terminate(bytes);
        last_request = Some(frame);
        last_reply = Some(bytes.clone());
        if let Some(extra) = special_reply(&shared) {
            send(&mut stream, &extra).await?;
            continue;
        }
        let bytes = corrupt_if_asked(&shared, bytes);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let trickle = {
            let mut s = lock(&shared);
            let t = s.faults.trickle > 0;
            s.faults.trickle = s.faults.trickle.saturating_sub(1);
            t
        };
        if trickle {
            for byte in &bytes {
                send(&mut stream, std::slice::from_ref(byte)).await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            continue;
        }
        send(&mut stream, &bytes).await?;
    }
}

/// Evergreen's answer to a `97`: the stored reply with the `97`'s sequence number (`0`)
/// and its bytes, already UTF-8, encoded to UTF-8 again (each byte read as Latin-1), with
/// a checksum that is valid for those bytes.
fn rebuilt_like_evergreen(reply: &[u8]) -> Vec<u8> {
    let mut end = reply.len();
    while end > 0 && matches!(reply[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    let mut body = &reply[..end];
    // Drop the trailer "AY<n>AZxxxx" (or "AZxxxx").
    if body.len() >= 6 && &body[body.len() - 6..body.len() - 4] == b"AZ" {
        body = &body[..body.len() - 6];
        if body.len() >= 3 && &body[body.len() - 3..body.len() - 1] == b"AY" {
            body = &body[..body.len() - 3];
        }
    }
    let twice: String = body.iter().map(|b| char::from(*b)).collect();
    let mut out = twice.into_bytes();
    out.extend_from_slice(b"AY0AZ");
    let sum = kiosk_ils::codec::checksum(&out);
    out.extend_from_slice(&sum);
    out.extend_from_slice(&reply[end..]);
    out
}

fn corrupt_if_asked(shared: &Mutex<Shared>, mut bytes: Vec<u8>) -> Vec<u8> {
    let mut s = lock(shared);
    if s.faults.corrupt_checksum > 0 {
        s.faults.corrupt_checksum -= 1;
        if let Some(pos) = bytes.iter().rposition(|b| *b == b'\r')
            && pos >= 1
        {
            let i = pos - 1;
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        }
    }
    bytes
}

fn special_reply(shared: &Mutex<Shared>) -> Option<Vec<u8>> {
    let mut s = lock(shared);
    let f = &mut s.faults;
    if f.garbage > 0 {
        f.garbage -= 1;
        return Some(b"\x16\x03\x01\x02\x00garbage\xff\xfe\r".to_vec());
    }
    if f.huge_frame > 0 {
        f.huge_frame -= 1;
        return Some(vec![b'A'; 1 << 20]);
    }
    if f.unknown_message > 0 {
        f.unknown_message -= 1;
        return Some(b"XY1AY0AZFE5B\r".to_vec());
    }
    None
}

fn now() -> SipDate {
    SipDate::now(9 * 3600)
}

fn due_in(days: i64) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    SipDate::from_unix(secs + days * 86_400, 9 * 3600).to_string()
}

fn nfd_if(s: &Shared, title: &str) -> String {
    if s.behaviour.nfd_titles { decompose(title) } else { title.to_owned() }
}

/// The few decompositions the demo titles need (the simulator carries no Unicode tables).
fn decompose(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            'ポ' => out.push_str("ホ\u{309A}"),
            'パ' => out.push_str("ハ\u{309A}"),
            'ガ' => out.push_str("カ\u{3099}"),
            'è' => out.push_str("e\u{300}"),
            'é' => out.push_str("e\u{301}"),
            c => out.push(c),
        }
    }
    out
}

fn handle(s: &mut Shared, msg: &Message, logged_in: &mut bool) -> Action {
    let inst = s.behaviour.institution.clone();
    match msg {
        Message::Login(m) => {
            s.stats.login_locations.push(m.location.clone());
            let ok = match &s.behaviour.login {
                Some((u, p)) => *u == m.user && *p == m.password,
                None => true,
            };
            *logged_in = ok;
            Action::Reply(Message::LoginResponse(LoginResponse { ok, extra: vec![] }))
        }
        Message::ScStatus(_) => {
            let b = &s.behaviour;
            Action::Reply(Message::AcsStatus(AcsStatus {
                online: b.online,
                checkin_ok: true,
                checkout_ok: !b.lie_checkout_not_ok,
                renewal_policy: true,
                status_update_ok: false,
                offline_ok: false,
                timeout_period: Some(b.timeout_period),
                retries_allowed: Some(b.retries_allowed),
                date_time_sync: now(),
                protocol_version: "2.00".into(),
                institution: inst,
                supported_messages: "YYYNYYYYYNYNNNYN".into(),
                library_name: Some(b.library_name.clone()),
                terminal_location: None,
                screen_messages: vec![],
                print_lines: vec![],
                extra: vec![],
            }))
        }
        Message::PatronStatus(m) => {
            s.stats.institutions.insert(m.institution.clone());
            let (status, name, bl, cq, af) = patron_view(s, &m.patron, Some(&m.patron_password));
            Action::Reply(Message::PatronStatusResponse(PatronStatusResponse {
                status,
                language: "014".into(),
                date: now(),
                institution: inst,
                patron: m.patron.clone(),
                name,
                valid_patron: Some(bl),
                valid_password: Some(cq),
                currency: Some("JPY".into()),
                fee_amount: None,
                screen_messages: af,
                print_lines: vec![],
                extra: vec![],
            }))
        }
        Message::PatronInformation(m) => {
            let (status, name, bl, cq, af) = patron_view(s, &m.patron, m.patron_password.as_deref());
            let today = now().to_string();
            let mut loans = s.catalogue.loans_of(&m.patron);
            let overdue: Vec<String> = loans
                .iter()
                .filter(|id| {
                    matches!(s.catalogue.items.get(*id).map(|i| &i.state),
                        Some(ItemState::OnLoan { due, .. }) if due.as_str() < today.as_str())
                })
                .cloned()
                .collect();
            if s.behaviour.charged_items_titles {
                loans = loans
                    .iter()
                    .map(|id| s.catalogue.items.get(id).map_or_else(String::new, |i| nfd_if(s, &i.title)))
                    .collect();
            }
            let holds: Vec<String> = s
                .catalogue
                .items
                .iter()
                .filter(|(_, i)| i.state == ItemState::OnHoldFor(m.patron.clone()))
                .map(|(id, _)| id.clone())
                .collect();
            let count = |v: &Vec<String>| Some(u16::try_from(v.len()).unwrap_or(u16::MAX));
            let mut charged_count = count(&loans);
            if s.faults.miscount_lists > 0 && m.summary == Summary::ChargedItems && !loans.is_empty() {
                s.faults.miscount_lists -= 1;
                charged_count = charged_count.map(|c| c.saturating_sub(1));
            }
            // BP/BQ: 1-based, inclusive; a server with a frame limit lists at most so many.
            let bound = |n: Option<&String>| n.and_then(|v| v.trim().parse::<usize>().ok());
            let first = bound(m.start_item.as_ref()).unwrap_or(1).max(1);
            let last = bound(m.end_item.as_ref()).unwrap_or(usize::MAX);
            let limit = s.behaviour.list_limit;
            let range = |v: Vec<String>| -> Vec<String> {
                match limit {
                    Some(n) => v.into_iter().take(n).collect(),
                    None => v.into_iter().skip(first - 1).take(last.saturating_sub(first - 1)).collect(),
                }
            };
            Action::Reply(Message::PatronInformationResponse(PatronInformationResponse {
                status,
                language: "014".into(),
                date: now(),
                hold_items_count: count(&holds),
                overdue_items_count: count(&overdue),
                charged_items_count: charged_count,
                fine_items_count: Some(0),
                recall_items_count: Some(0),
                unavailable_holds_count: Some(0),
                institution: inst,
                patron: m.patron.clone(),
                name,
                valid_patron: Some(bl),
                valid_password: Some(cq),
                hold_items: if m.summary == Summary::HoldItems { range(holds) } else { vec![] },
                overdue_items: if m.summary == Summary::OverdueItems { range(overdue) } else { vec![] },
                charged_items: if m.summary == Summary::ChargedItems { range(loans) } else { vec![] },
                fine_items: vec![],
                recall_items: vec![],
                unavailable_hold_items: vec![],
                screen_messages: af,
                print_lines: vec![],
                extra: vec![],
            }))
        }
        Message::Checkout(m) => {
            if m.no_block || !m.nb_due_date.is_blank() {
                s.stats.no_block_checkouts += 1;
                s.stats.no_block_log.push((m.item.clone(), m.date.to_string(), m.nb_due_date.to_string()));
            }
            checkout(s, &inst, &m.patron, &m.item)
        }
        Message::Renew(m) => renew(s, &inst, &m.patron, m.item.as_deref().unwrap_or_default()),
        Message::Checkin(m) => checkin(s, &inst, &m.item),
        Message::ItemInformation(m) => {
            let mut r = ItemInformationResponse {
                circulation_status: CirculationStatus::Other,
                security_marker: "02".into(),
                fee_type: "01".into(),
                date: now(),
                item: m.item.clone(),
                title: String::new(),
                hold_queue_length: None,
                due_date: None,
                recall_date: None,
                hold_pickup_date: None,
                owner: Some(inst),
                media_type: Some("001".into()),
                permanent_location: None,
                current_location: None,
                screen_messages: vec![],
                print_lines: vec![],
                extra: vec![],
            };
            match s.catalogue.items.get(&m.item) {
                Some(i) => {
                    r.title = nfd_if(s, &i.title);
                    match &i.state {
                        ItemState::Available => r.circulation_status = CirculationStatus::Available,
                        ItemState::OnLoan { due, patron } => {
                            r.circulation_status = CirculationStatus::Charged;
                            r.due_date = Some(due.clone());
                            if !i.hold_queue.is_empty() {
                                r.hold_queue_length = Some(i.hold_queue.len().to_string());
                            }
                            if s.behaviour.item_information_names_patron {
                                r.extra.push(Field::new(b"AA", patron.clone()));
                            }
                        }
                        ItemState::OnHoldFor(_) => {
                            r.circulation_status = CirculationStatus::WaitingOnHoldShelf;
                            r.hold_queue_length = Some("1".into());
                            r.hold_pickup_date = Some(due_in(7));
                            r.extra.push(Field::new(b"BS", s.catalogue.hold_shelf.clone()));
                        }
                    }
                }
                None => r.screen_messages.push("Invalid item".into()),
            }
            Action::Reply(Message::ItemInformationResponse(r))
        }
        Message::EndSession(m) => Action::Reply(Message::EndSessionResponse(EndSessionResponse {
            end_session: true,
            date: now(),
            institution: inst,
            patron: m.patron.clone(),
            screen_messages: vec!["ご利用ありがとうございました".into()],
            print_lines: vec![],
            extra: vec![],
        })),
        // Replies sent to a server, 96: ignored.
        _ => Action::Silent(None),
    }
}

fn patron_view(
    s: &Shared,
    patron: &str,
    password: Option<&str>,
) -> (PatronStatusFlags, String, bool, bool, Vec<String>) {
    match s.catalogue.patrons.get(patron) {
        None => (PatronStatusFlags([true; 14]), String::new(), false, false, vec!["Unknown patron".into()]),
        Some(p) => {
            let mut flags = PatronStatusFlags::default();
            let mut af = Vec::new();
            if p.blocked {
                flags.0[PatronStatusFlags::CHARGE_PRIVILEGES_DENIED] = true;
                flags.0[PatronStatusFlags::EXCESSIVE_FINES] = true;
                af.push("延滞資料があります。カウンターへお越しください".into());
            }
            if p.card_lost {
                flags.0[PatronStatusFlags::CARD_REPORTED_LOST] = true;
                flags.0[PatronStatusFlags::RENEWAL_PRIVILEGES_DENIED] = true;
                af.push("このカードは紛失届が出ています / This card was reported lost".into());
            }
            let cq = match (&p.pin, password) {
                (Some(pin), Some(given)) => pin == given,
                (Some(_), None) => false,
                (None, _) => true,
            };
            (flags, p.name.clone(), true, cq, af)
        }
    }
}

fn circulation(inst: &str, patron: &str, item: &str) -> CirculationResponse {
    CirculationResponse {
        ok: false,
        renewal_ok: false,
        magnetic_media: Some(false),
        desensitize: Some(false),
        date: now(),
        institution: inst.to_owned(),
        patron: patron.to_owned(),
        item: item.to_owned(),
        title: String::new(),
        due_date: String::new(),
        fee_type: None,
        security_inhibit: None,
        currency: None,
        fee_amount: None,
        media_type: Some("001".into()),
        item_properties: None,
        transaction_id: None,
        screen_messages: vec![],
        print_lines: vec![],
        extra: vec![],
    }
}

fn checkout(s: &mut Shared, inst: &str, patron: &str, item: &str) -> Action {
    if s.faults.disconnect_before_checkout > 0 {
        s.faults.disconnect_before_checkout -= 1;
        return Action::Close;
    }
    let mut r = circulation(inst, patron, item);
    let limit = s.catalogue.loan_limit;
    let loans = s.catalogue.loans_of(patron).len();
    let loan_days = s.catalogue.loan_days;
    let nfd = s.behaviour.nfd_titles;
    let Some(p) = s.catalogue.patrons.get(patron).cloned() else {
        r.screen_messages.push("Unknown patron".into());
        return Action::Reply(Message::CheckoutResponse(r));
    };
    let mut applied = false;
    match s.catalogue.items.get_mut(item) {
        None => r.screen_messages.push("Invalid item".into()),
        Some(i) => {
            r.title = if nfd { decompose(&i.title) } else { i.title.clone() };
            match i.state.clone() {
                _ if p.blocked => r.screen_messages.push("貸出できません / Borrowing blocked".into()),
                ItemState::OnLoan { patron: holder, .. } if holder == patron => {
                    // Like Koha/Evergreen/Sierra: a checkout of an item the patron
                    // already has is executed as a renewal.
                    let due = due_in(loan_days);
                    i.state = ItemState::OnLoan { patron: patron.into(), due: due.clone() };
                    i.checkouts_executed += 1;
                    r.ok = true;
                    r.renewal_ok = true;
                    r.desensitize = Some(true);
                    r.due_date = due;
                    s.stats.duplicate_checkouts += 1;
                    applied = true;
                }
                ItemState::OnLoan { .. } => r.screen_messages.push("貸出中の資料です / Item on loan".into()),
                ItemState::OnHoldFor(holder) if holder != patron => {
                    r.screen_messages.push("予約資料です / Reserved for another patron".into());
                }
                _ if loans >= limit => r.screen_messages.push("貸出上限です / Loan limit reached".into()),
                _ => {
                    let due = due_in(loan_days);
                    i.state = ItemState::OnLoan { patron: patron.into(), due: due.clone() };
                    i.renewals = 0;
                    i.checkouts_executed += 1;
                    r.ok = true;
                    r.desensitize = Some(true);
                    r.due_date = due;
                    s.stats.checkouts_applied += 1;
                    applied = true;
                }
            }
        }
    }
    let reply = Message::CheckoutResponse(r);
    if applied {
        if s.faults.disconnect_after_checkout > 0 {
            s.faults.disconnect_after_checkout -= 1;
            return Action::Close;
        }
        if s.faults.drop_checkout_reply > 0 {
            s.faults.drop_checkout_reply -= 1;
            return Action::Silent(Some(reply));
        }
        if let Some(d) = s.faults.delay_checkout_reply.take() {
            return Action::DelayedReply(reply, d);
        }
    }
    Action::Reply(reply)
}

fn renew(s: &mut Shared, inst: &str, patron: &str, item: &str) -> Action {
    let mut r = circulation(inst, patron, item);
    let limit = s.catalogue.renewal_limit;
    let loan_days = s.catalogue.loan_days;
    let barred = s.catalogue.patrons.get(patron).map(|p| p.blocked || p.card_lost);
    let mut applied = false;
    match s.catalogue.items.get_mut(item) {
        Some(i) if matches!(&i.state, ItemState::OnLoan { patron: p, .. } if p == patron) => {
            r.title = i.title.clone();
            let old = match &i.state {
                ItemState::OnLoan { due, .. } => due.clone(),
                _ => String::new(),
            };
            if barred == Some(true) {
                r.screen_messages.push("更新できません。カウンターへ / Renewal blocked: see staff".into());
            } else if !i.hold_queue.is_empty() {
                r.screen_messages.push("予約が入っています / Reserved for another patron".into());
            } else if i.renewals >= limit {
                r.screen_messages.push("更新回数の上限です / Renewal limit reached".into());
            } else {
                // From the later of today and the old due date: a renewal never shortens a loan.
                let days_left = sip_days(&old).zip(sip_days(&due_in(0))).map_or(0, |(o, t)| (o - t).max(0));
                let mut due = due_in(loan_days + days_left);
                if s.faults.renew_moves_back > 0 {
                    s.faults.renew_moves_back -= 1;
                    due = due_in(days_left - 7);
                }
                i.state = ItemState::OnLoan { patron: patron.into(), due: due.clone() };
                i.renewals += 1;
                i.renewals_executed += 1;
                r.ok = true;
                r.renewal_ok = true;
                r.due_date = due;
                applied = true;
            }
        }
        Some(i) => {
            r.title = i.title.clone();
            r.screen_messages.push("この資料は借りていません / Not on loan to you".into());
        }
        None => r.screen_messages.push("Invalid item".into()),
    }
    r.title = nfd_if(s, &r.title);
    if applied {
        if s.faults.omit_item_id > 0 {
            s.faults.omit_item_id -= 1;
            r.item = String::new();
        }
        if s.faults.disconnect_after_renewal > 0 {
            s.faults.disconnect_after_renewal -= 1;
            return Action::Close;
        }
        if let Some(d) = s.faults.delay_renewal_reply.take() {
            return Action::DelayedReply(Message::RenewResponse(r), d);
        }
    }
    Action::Reply(Message::RenewResponse(r))
}

/// Days since the epoch of a SIP2 date (`YYYYMMDD    HHMMSS`), for renewal arithmetic.
fn sip_days(date: &str) -> Option<i64> {
    let (ymd, _) = kiosk_ils::due_date_key(date)?;
    let (y, m, d) = (i64::from(ymd / 10_000), i64::from(ymd / 100 % 100), i64::from(ymd % 100));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + (153 * m + 2) / 5 + d - 1;
    Some(era * 146_097 + doe - 719_468)
}

fn checkin(s: &mut Shared, inst: &str, item: &str) -> Action {
    let mut r = CheckinResponse {
        ok: false,
        resensitize: true,
        magnetic_media: Some(false),
        alert: false,
        date: now(),
        institution: inst.to_owned(),
        item: item.to_owned(),
        permanent_location: "本館".into(),
        title: None,
        sort_bin: None,
        patron: None,
        media_type: Some("001".into()),
        screen_messages: vec![],
        print_lines: vec![],
        extra: vec![],
    };
    let shelf = s.catalogue.hold_shelf.clone();
    let mut applied = false;
    match s.catalogue.items.get_mut(item) {
        Some(i) => {
            r.title = Some(i.title.clone());
            if let ItemState::OnLoan { patron, .. } = &i.state {
                r.patron = Some(patron.clone());
                r.ok = true;
                i.returns_executed += 1;
                i.renewals = 0;
                applied = true;
                if i.hold_queue.is_empty() {
                    i.state = ItemState::Available;
                } else {
                    // Like Koha: the return is accepted, the alert says where it goes.
                    let next = i.hold_queue.remove(0);
                    i.state = ItemState::OnHoldFor(next);
                    r.alert = true;
                    r.sort_bin = Some("HOLD".into());
                    r.extra.push(Field::new(b"CT", shelf));
                    r.extra.push(Field::new(b"CV", "01"));
                    r.screen_messages.push("予約資料です。カウンターへ / Hold for another patron".into());
                }
            } else {
                // Koha's answer to a return of an item nobody has: not checked in, alert.
                r.alert = true;
                r.screen_messages.push("貸出されていません / Item not checked out".into());
            }
        }
        None => r.screen_messages.push("Invalid item".into()),
    }
    if applied {
        if s.faults.omit_item_id > 0 {
            s.faults.omit_item_id -= 1;
            r.item = String::new();
        }
        if s.faults.disconnect_after_return > 0 {
            s.faults.disconnect_after_return -= 1;
            return Action::Close;
        }
        if let Some(d) = s.faults.delay_return_reply.take() {
            return Action::DelayedReply(Message::CheckinResponse(r), d);
        }
    }
    Action::Reply(Message::CheckinResponse(r))
}

/// Items keyed by id, for tests that need many.
pub fn numbered_items(catalogue: &mut Catalogue, prefix: &str, count: usize) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for n in 0..count {
        let id = format!("{prefix}{n:06}");
        let title = format!("資料 {n}");
        catalogue.item(&id, &title);
        out.insert(id, title);
    }
    out
}
