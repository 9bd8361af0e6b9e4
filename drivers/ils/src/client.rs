//! The async SIP2 client: one connection, one request at a time.
//!
//! Reliability rules:
//! - on a timeout on a still-open socket, resend the **byte-identical** frame (same AY,
//!   same date, same AZ) up to the retries allowed; a server that caches replies answers
//!   from its cache, one that re-executes reports a renewal;
//! - a reply whose checksum fails is asked for once more ([`Resend`]): by sending the
//!   request again where doing it twice is harmless, else with a `97`, whose answer is
//!   accepted with the request's sequence number, with `0` or with none; a second failure
//!   is an error;
//! - a request that finds its connection closed (the server ends idle connections)
//!   reconnects, logs in, and is sent on the new connection; when the connection turns out
//!   closed only after the request went out, it is sent once more on a new connection,
//!   except a checkout;
//! - after any failure whose outcome is unknown the connection is dropped; a checkout is
//!   then **reconciled** on a new connection (item information, then the patron's charged
//!   items by barcode or title) before it is ever sent again, so it is never doubled and
//!   never lost;
//! - the keep-alive (`99` while idle) runs at the configured interval or at half the
//!   timeout the server's `98` gives, whichever is shorter;
//! - `no block` and `nb due date` are only set in the explicit offline-replay mode.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::codec::{
    Charset, DEFAULT_MAX_FRAME, DecodeOptions, FrameBuffer, SipDate, display_due_date, display_text,
    due_date_key,
};
use crate::dialect::{self, ChargedItems, Resend};
use crate::error::{DecodeError, Sip2Error};
use crate::library::{
    Account, AccountLoan, CheckinOutcome, HoldReady, ItemProblem, Library, Loan, PatronProblem, Refused,
    Standing,
};
use crate::messages::{
    AcsStatus, CheckinRequest, CheckoutRequest, CirculationResponse, EndSessionRequest,
    ItemInformationRequest, ItemInformationResponse, Login, Message, PatronInformationRequest,
    PatronInformationResponse, PatronStatusRequest, RenewRequest, ScStatus, Summary,
};
use crate::tls::{self, TlsSettings};

/// SIP2 login (93) credentials. `Debug` is redacted.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
    pub location: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({:?}, password redacted)", self.user)
    }
}

/// How to talk to one library system.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `host:port`.
    pub addr: String,
    /// TLS (rustls): `None` is plain TCP. With TLS, the host part of `addr` (or
    /// [`TlsSettings::server_name`]) must be named in the library system's certificate.
    pub tls: Option<TlsSettings>,
    /// Send a 93 login first (most servers require it).
    pub login: Option<Credentials>,
    /// AO institution id.
    pub institution: String,
    /// AC terminal password (often empty).
    pub terminal_password: String,
    /// AP current location, sent with returns.
    pub location: String,
    /// 3-digit language code (`000` unknown, `001` English, `014` Japanese).
    pub language: String,
    pub charset: Charset,
    /// Send AY/AZ and require AZ on replies.
    pub error_detection: bool,
    /// Limit for the TCP connect, and again for the TLS handshake.
    pub connect_timeout: Duration,
    /// Per-request timeout, used until the server's 98 gives one.
    pub request_timeout: Duration,
    /// The server's timeout is honoured up to this cap.
    pub max_request_timeout: Duration,
    /// Byte-identical resends on timeout, used until the server's 98 gives a number;
    /// the server's number is honoured up to this cap.
    pub resends: u32,
    /// Send a 99 when the connection has been idle this long (or for half the timeout
    /// the server's 98 gives, if that is shorter).
    pub keepalive: Duration,
    /// How to get again a reply whose checksum failed: the request again where that is
    /// harmless, or always a `97`.
    pub resend: Resend,
    /// What the server lists as a patron's charged items (for reconciliation).
    pub charged_items: ChargedItems,
    /// Offline replay: set `no block = Y` and the stored `nb due date`. Off by default;
    /// only a staff-approved replay of transactions done offline may turn it on.
    pub offline_replay: bool,
    /// Override a 98 that says checkout is not allowed (servers lie: Evergreen's stub
    /// always says N): `Some(true)` lends anyway. The kiosk's
    /// `ils.override_checkout_not_allowed`.
    pub checkout_allowed_override: Option<bool>,
    /// Send the transaction date as `nb due date` instead of 18 blanks (pysip2 rejects
    /// blanks).
    pub nb_due_date_is_transaction_date: bool,
    /// Largest frame accepted.
    pub max_frame: usize,
    /// The kiosk's offset from UTC for SIP2's local dates (Japan: 9 h).
    pub utc_offset_secs: i32,
    /// How many checkout sends/reconciliations one `checkout` call may make.
    pub checkout_attempts: u32,
    /// A peer in this process instead of `addr` (the demo's simulated library system):
    /// the same frames, over an in-memory pipe.
    pub in_process: Option<InProcessPeer>,
}

/// A library system in the same process: each call gives the client's end of a new
/// connection (an in-memory pipe whose other end the peer serves).
#[derive(Clone)]
pub struct InProcessPeer(Arc<dyn Fn() -> tokio::io::DuplexStream + Send + Sync>);

impl InProcessPeer {
    pub fn new(connect: impl Fn() -> tokio::io::DuplexStream + Send + Sync + 'static) -> Self {
        InProcessPeer(Arc::new(connect))
    }
}

impl fmt::Debug for InProcessPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InProcessPeer")
    }
}

impl ClientConfig {
    pub fn new(addr: impl Into<String>, institution: impl Into<String>) -> Self {
        ClientConfig {
            addr: addr.into(),
            tls: None,
            login: None,
            institution: institution.into(),
            terminal_password: String::new(),
            location: String::new(),
            language: "000".into(),
            charset: Charset::Utf8,
            error_detection: true,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            max_request_timeout: Duration::from_secs(30),
            resends: 2,
            keepalive: Duration::from_secs(240),
            resend: Resend::Request,
            charged_items: ChargedItems::Barcode,
            offline_replay: false,
            checkout_allowed_override: None,
            nb_due_date_is_transaction_date: false,
            max_frame: DEFAULT_MAX_FRAME,
            utc_offset_secs: JAPAN_UTC_OFFSET_SECS,
            checkout_attempts: 4,
            in_process: None,
        }
    }
}

/// Items asked for per patron information (63) request: small enough that a page of
/// long barcodes fits a frame any server accepts.
pub const ACCOUNT_PAGE: usize = 20;

/// The most items of one list the account reads (a bound against a server that keeps
/// sending full pages).
pub const ACCOUNT_LIST_LIMIT: usize = 500;

/// The keep-alive never runs more often than this because of the server's timeout (a
/// shorter configured interval is still honoured): a 98 timeout is often a request
/// timeout of a few seconds, not the server's idle limit.
pub const MIN_SERVER_KEEPALIVE: Duration = Duration::from_secs(10);

/// The default offset of SIP2's local dates: Japan Standard Time (UTC+9, no summer time
/// since 1951). The kiosk sets the library's own from the tz database.
pub const JAPAN_UTC_OFFSET_SECS: i32 = 9 * 3600;

/// Counters a test or the admin screen can read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    pub connects: u64,
    pub requests: u64,
    pub resends: u64,
    pub acs_resend_requests: u64,
    pub reconciliations: u64,
    pub keepalives: u64,
    /// New connections made because the server had closed the connection (found closed
    /// before a request, or closed under a request that was then sent again).
    pub reconnects: u64,
    /// Requests sent again on a new connection because the old one was closed under
    /// them (never a checkout).
    pub sent_again_after_close: u64,
    /// TLS connections that resumed an earlier session (a cheaper handshake).
    pub tls_resumptions: u64,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

struct Conn {
    stream: Box<dyn Stream>,
    buf: FrameBuffer,
    /// A reply with this sequence number may still arrive late (we resent it).
    stale_seq: Option<u8>,
    /// Whether a frame arrived yet: before that, a failure may be named as a TLS
    /// mismatch (nothing was applied); after, it must stay an unknown outcome.
    got_frame: bool,
}

/// Whether the library system lets this kiosk lend, from its last 98 and the override.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckoutPermission {
    /// No 98 yet (not connected since start).
    Unknown,
    /// The 98 says checkout is allowed.
    Allowed,
    /// The 98 says checkout is not allowed, and the configuration does not override it:
    /// every checkout is refused with [`Sip2Error::NotAllowed`].
    RefusedByServer,
    /// The 98 says checkout is not allowed, but the configuration overrides it: the kiosk
    /// lends anyway (staff should know).
    Overridden,
}

/// Result of reconciling a checkout whose reply was lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reconciled {
    /// The item is charged to this patron: the checkout happened.
    Lent(Loan),
    /// The item is not charged: the checkout did not happen; safe to send again.
    NotLent,
    /// The item is charged to someone else.
    Other(ItemProblem),
}

/// One SIP2 connection to the library system, re-established on demand.
pub struct Client {
    cfg: ClientConfig,
    /// Built on the first TLS connect and kept, so reconnects resume the TLS session.
    tls: Option<tls::Prepared>,
    conn: Option<Conn>,
    seq: u8,
    acs: Option<AcsStatus>,
    /// The library system's clock against this kiosk's, from its last 98
    /// (`date time sync`): seconds the kiosk's clock is behind (negative: ahead).
    clock_skew: Option<i64>,
    timeout: Duration,
    resends: u32,
    last_activity: Instant,
    last_resent: bool,
    /// A request is between its write and its reply: if its future is dropped (a caller's
    /// timeout), the connection still owes that reply and is not used again.
    in_request: bool,
    stats: ClientStats,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.cfg.addr)
            .field("connected", &self.conn.is_some())
            .field("stats", &self.stats)
            .finish()
    }
}

fn expected_reply(request: &Message) -> &'static [u8; 2] {
    match request {
        Message::Login(_) => b"94",
        Message::ScStatus(_) => b"98",
        Message::PatronStatus(_) => b"24",
        Message::PatronInformation(_) => b"64",
        Message::Checkout(_) => b"12",
        Message::Checkin(_) => b"10",
        Message::Renew(_) => b"30",
        Message::ItemInformation(_) => b"18",
        Message::EndSession(_) => b"36",
        _ => b"??",
    }
}

impl Client {
    pub fn new(cfg: ClientConfig) -> Self {
        let timeout = cfg.request_timeout;
        let resends = cfg.resends;
        Client {
            cfg,
            tls: None,
            conn: None,
            seq: 9,
            acs: None,
            clock_skew: None,
            timeout,
            resends,
            last_activity: Instant::now(),
            last_resent: false,
            in_request: false,
            stats: ClientStats::default(),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    /// The last 98 the server sent.
    pub fn acs_status(&self) -> Option<&AcsStatus> {
        self.acs.as_ref()
    }

    /// The per-request timeout in force (the server's, if it gave one).
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// The keep-alive interval in force: the configured one, or half the timeout of the
    /// server's last 98 (not below [`MIN_SERVER_KEEPALIVE`]) if that is shorter. Half, so
    /// that a 99 checked for every half interval always goes before the server's limit.
    pub fn keepalive_interval(&self) -> Duration {
        let server =
            self.acs.as_ref().and_then(AcsStatus::timeout).map(|t| (t / 2).max(MIN_SERVER_KEEPALIVE));
        server.map_or(self.cfg.keepalive, |s| s.min(self.cfg.keepalive))
    }

    /// How far this kiosk's clock was from the library system's at its last 98 (seconds
    /// the kiosk is behind), if a 98 with a readable date came in this process.
    #[must_use]
    pub fn clock_skew(&self) -> Option<i64> {
        self.clock_skew
    }

    /// Whether checkouts are allowed, from the last 98 and the override.
    pub fn checkout_permission(&self) -> CheckoutPermission {
        match &self.acs {
            None => CheckoutPermission::Unknown,
            Some(a) if a.checkout_ok => CheckoutPermission::Allowed,
            Some(_) if self.cfg.checkout_allowed_override == Some(true) => CheckoutPermission::Overridden,
            Some(_) => CheckoutPermission::RefusedByServer,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// Drops the connection (the next request reconnects).
    pub fn disconnect(&mut self) {
        self.conn = None;
    }

    fn now(&self) -> SipDate {
        SipDate::now(self.cfg.utc_offset_secs)
    }

    fn next_seq(&mut self) -> u8 {
        self.seq = (self.seq + 1) % 10;
        self.seq
    }

    fn opts(&self) -> DecodeOptions {
        DecodeOptions { charset: self.cfg.charset, require_checksum: self.cfg.error_detection }
    }

    /// Connects, logs in, and reads the server's status, unless already connected.
    pub async fn connect(&mut self) -> Result<(), Sip2Error> {
        if self.conn.is_some() {
            return Ok(());
        }
        let stream = match self.cfg.in_process.clone() {
            Some(peer) => Box::new((peer.0)()),
            None => self.dial().await?,
        };
        self.attach(stream);
        self.stats.connects += 1;
        let result = self.handshake().await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// A TCP connection to `addr`, with TLS when configured.
    async fn dial(&mut self) -> Result<Box<dyn Stream>, Sip2Error> {
        let addr = self.cfg.addr.clone();
        let stream = match tokio::time::timeout(self.cfg.connect_timeout, TcpStream::connect(&addr)).await {
            Err(_) => return Err(Sip2Error::ConnectTimeout { addr, waited: self.cfg.connect_timeout }),
            Ok(Err(source)) => return Err(Sip2Error::Connect { addr, source }),
            Ok(Ok(s)) => s,
        };
        stream.set_nodelay(true)?;
        Ok(match self.cfg.tls.clone() {
            None => Box::new(stream),
            Some(settings) => Box::new(self.tls_handshake(&settings, stream).await?),
        })
    }

    async fn tls_handshake(
        &mut self,
        settings: &TlsSettings,
        stream: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Sip2Error> {
        let prepared = match &self.tls {
            Some(p) => p.clone(),
            None => {
                let p = tls::prepare(settings, &self.cfg.addr)?;
                self.tls = Some(p.clone());
                p
            }
        };
        let addr = &self.cfg.addr;
        let waited = self.cfg.connect_timeout;
        let handshake = prepared.connector.connect(prepared.name.clone(), stream);
        match tokio::time::timeout(waited, handshake).await {
            Err(_) => Err(Sip2Error::TlsHandshakeTimeout { addr: addr.clone(), waited }),
            Ok(Err(e)) => {
                let err = tls::handshake_error(addr, settings, &prepared.name, &e);
                tracing::warn!(error = %err, "TLS handshake with the library system failed");
                Err(err)
            }
            Ok(Ok(s)) => {
                let (_, session) = s.get_ref();
                if session.handshake_kind() == Some(tokio_rustls::rustls::HandshakeKind::Resumed) {
                    self.stats.tls_resumptions += 1;
                }
                tracing::debug!(
                    version = ?session.protocol_version(),
                    kind = ?session.handshake_kind(),
                    suite = ?session.negotiated_cipher_suite().map(|c| c.suite()),
                    "TLS to the library system established"
                );
                Ok(s)
            }
        }
    }

    fn attach(&mut self, stream: Box<dyn Stream>) {
        self.conn = Some(Conn {
            stream,
            buf: FrameBuffer::new(self.cfg.max_frame),
            stale_seq: None,
            got_frame: false,
        });
        self.timeout = self.cfg.request_timeout;
        self.resends = self.cfg.resends;
    }

    async fn handshake(&mut self) -> Result<(), Sip2Error> {
        if let Some(c) = self.cfg.login.clone() {
            let login = Message::Login(Login {
                uid_algorithm: '0',
                pwd_algorithm: '0',
                user: c.user.clone(),
                password: c.password,
                location: c.location,
                extra: Vec::new(),
            });
            match self.transact(&login).await? {
                Message::LoginResponse(r) if r.ok => {}
                _ => return Err(Sip2Error::LoginRefused { user: c.user }),
            }
        }
        self.sc_status().await
    }

    /// Sends 99 and applies the 98: the server's timeout and retries are honoured (capped).
    async fn sc_status(&mut self) -> Result<(), Sip2Error> {
        let msg = Message::ScStatus(ScStatus {
            status: '0',
            max_print_width: 40,
            protocol_version: "2.00".into(),
            extra: Vec::new(),
        });
        let Message::AcsStatus(acs) = self.transact(&msg).await? else {
            return Err(Sip2Error::UnexpectedReply { command: "SC status (99)", got: "?".into() });
        };
        if let Some(t) = acs.timeout() {
            self.timeout = t.min(self.cfg.max_request_timeout);
        }
        if let Some(r) = acs.retries() {
            self.resends = u32::from(r).min(self.cfg.resends);
        }
        let was = self.acs.as_ref().map(|a| a.checkout_ok);
        if !acs.checkout_ok && was != Some(false) {
            if self.cfg.checkout_allowed_override == Some(true) {
                tracing::warn!(
                    "the library system's status says checkout is not allowed; lending anyway, as the \
                     configuration overrides it (ils.override_checkout_not_allowed)"
                );
            } else {
                tracing::warn!(
                    "the library system's status says checkout is not allowed: checkouts will be refused \
                     until it says otherwise"
                );
            }
        }
        let online = acs.online;
        if let Some(theirs) = acs.date_time_sync.to_unix(self.cfg.utc_offset_secs) {
            let ours = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
            self.clock_skew = Some(theirs - ours);
        }
        self.acs = Some(acs);
        if !online {
            self.conn = None;
            return Err(Sip2Error::Offline);
        }
        Ok(())
    }

    /// Sends a 99 if the connection has been idle for the keep-alive interval (servers
    /// drop silent connections after a few minutes). Does nothing when disconnected. A
    /// connection the server has closed is opened again now (login, status), so that the
    /// next patron does not wait for it.
    pub async fn keep_alive(&mut self) -> Result<(), Sip2Error> {
        if self.conn.is_none() {
            return Ok(());
        }
        if self.found_closed() {
            tracing::info!("the library system closed the idle connection; reconnecting");
            self.conn = None;
            self.stats.reconnects += 1;
            return self.connect().await;
        }
        if self.last_activity.elapsed() < self.keepalive_interval() {
            return Ok(());
        }
        self.stats.keepalives += 1;
        let result = self.sc_status().await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// Whether the server has closed the connection: its end of stream (FIN, or a TLS
    /// close) is waiting to be read. Looks without waiting; bytes that are there (a late
    /// duplicate reply) go to the frame buffer.
    fn found_closed(&mut self) -> bool {
        let Some(conn) = self.conn.as_mut() else { return false };
        let mut cx = Context::from_waker(Waker::noop());
        let mut chunk = [0u8; 1024];
        let mut closed = false;
        // Bounded: a server that keeps sending is not closed.
        for _ in 0..64 {
            let mut buf = ReadBuf::new(&mut chunk);
            match Pin::new(&mut conn.stream).poll_read(&mut cx, &mut buf) {
                Poll::Pending => break,
                Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                    closed = true;
                    break;
                }
                Poll::Ready(Ok(())) => conn.buf.extend(buf.filled()),
                Poll::Ready(Err(_)) => {
                    closed = true;
                    break;
                }
            }
        }
        zeroize::Zeroize::zeroize(&mut chunk);
        closed
    }

    /// Connects if needed, then sends one request and returns the reply. Any failure
    /// drops the connection (its state is unknown).
    ///
    /// A connection the server has closed (it ends idle connections) is found closed
    /// before the request goes out, and a new one is made. If it closes under the request
    /// instead, the request is sent once more on a new connection, except a checkout
    /// (whose outcome the caller reconciles), a renewal or a return (sent twice, a renewal
    /// moves the due date twice and a return answers "not on loan": their journal
    /// reconciles them instead).
    pub async fn request(&mut self, msg: &Message) -> Result<Message, Sip2Error> {
        if self.in_request {
            // The last request's future was dropped before its reply: that reply may
            // still come on this connection, and would be taken for this one's.
            tracing::info!("a request was abandoned before its reply; using a new connection");
            self.conn = None;
        }
        self.in_request = true;
        let result = self.request_once(msg).await;
        self.in_request = false;
        result
    }

    async fn request_once(&mut self, msg: &Message) -> Result<Message, Sip2Error> {
        // Let the runtime read its I/O events first: a close the server sent just now is
        // then seen before the request goes out (a request with a password is never sent
        // twice, so it must not go out on a connection already closed).
        tokio::task::yield_now().await;
        if self.found_closed() {
            tracing::info!(
                command = msg.name(),
                "the library system had closed the connection; reconnecting"
            );
            self.conn = None;
            self.stats.reconnects += 1;
        }
        let reused = self.conn.is_some();
        self.connect().await?;
        let mut result = self.transact(msg).await;
        if reused && !once_only(msg) && result.as_ref().is_err_and(Sip2Error::connection_closed) {
            tracing::info!(
                command = msg.name(),
                "the library system closed the connection under the request; sending it again on a new one"
            );
            self.conn = None;
            self.stats.reconnects += 1;
            self.stats.sent_again_after_close += 1;
            self.connect().await?;
            result = self.transact(msg).await;
        }
        if let Err(e) = &result
            && !matches!(e, Sip2Error::Encode(_))
        {
            self.conn = None;
        }
        result
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Sip2Error> {
        let conn = self.conn.as_mut().ok_or(Sip2Error::Disconnected { command: "write" })?;
        conn.stream.write_all(bytes).await?;
        conn.stream.flush().await?;
        Ok(())
    }

    async fn read_frame(&mut self, command: &'static str) -> Result<Vec<u8>, Sip2Error> {
        let conn = self.conn.as_mut().ok_or(Sip2Error::Disconnected { command })?;
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(frame) = conn.buf.next_frame()? {
                conn.got_frame = true;
                zeroize::Zeroize::zeroize(&mut chunk);
                return Ok(frame);
            }
            let n = match conn.stream.read(&mut chunk).await {
                Ok(n) => n,
                // A TLS peer that closes without close_notify reads as UnexpectedEof.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::UnexpectedEof
                    ) =>
                {
                    0
                }
                Err(e) => {
                    let named = match &self.cfg.tls {
                        Some(t) if !conn.got_frame => tls::session_error(&self.cfg.addr, t, &e),
                        _ => None,
                    };
                    return Err(named.unwrap_or(e.into()));
                }
            };
            if n == 0 {
                // A TLS server answers a plain SIP2 message with a TLS alert record
                // (content type 0x15 or a handshake 0x16, version 0x03 0x0N) and closes.
                if self.cfg.tls.is_none()
                    && !conn.got_frame
                    && matches!(conn.buf.pending_bytes(), [0x15 | 0x16, 0x03, ..])
                {
                    return Err(Sip2Error::TlsExpected { addr: self.cfg.addr.clone() });
                }
                return Err(Sip2Error::Disconnected { command });
            }
            conn.buf.extend(&chunk[..n]);
        }
    }

    /// One request/reply exchange on the open connection, with resend and 97.
    async fn transact(&mut self, msg: &Message) -> Result<Message, Sip2Error> {
        let command = msg.name();
        let seq = self.next_seq();
        let frame = Zeroizing::new(msg.encode(Some(seq), self.cfg.charset, self.cfg.error_detection)?);
        let expected = expected_reply(msg);
        let opts = self.opts();
        self.stats.requests += 1;
        self.last_resent = false;
        self.write(&frame).await?;
        let mut attempts: u32 = 1;
        // Asked once more after a failed checksum (by the request again, or a 97).
        let mut asked_again = false;
        // That was a 97: its answer may carry AY0 or no AY, and text encoded twice.
        let mut acs_resend = false;
        let mut deadline = Instant::now() + self.timeout;
        loop {
            let bytes = match tokio::time::timeout_at(deadline, self.read_frame(command)).await {
                Err(_) => {
                    // A renewal or return is not sent twice: no answer is an unknown
                    // outcome, reconciled from the item's status.
                    let once = matches!(msg, Message::Renew(_) | Message::Checkin(_)) || checks_password(msg);
                    if attempts > self.resends || once {
                        return Err(Sip2Error::Timeout { command, attempts, waited: self.timeout });
                    }
                    tracing::warn!(
                        command,
                        attempts,
                        "no reply from the library system; resending the same frame"
                    );
                    self.write(&frame).await?;
                    attempts += 1;
                    self.stats.resends += 1;
                    self.last_resent = true;
                    deadline = Instant::now() + self.timeout;
                    continue;
                }
                Ok(r) => r?,
            };
            let mut decoded = match Message::decode(&bytes, opts) {
                Ok(d) => d,
                Err(DecodeError::BadChecksum { .. } | DecodeError::MalformedChecksum) => {
                    if asked_again {
                        return Err(Sip2Error::ChecksumFailed { command });
                    }
                    asked_again = true;
                    match self.resend_for(msg) {
                        AskAgain::Request => {
                            tracing::warn!(command, "reply failed its checksum; sending the request again");
                            self.write(&frame).await?;
                            self.stats.resends += 1;
                            self.last_resent = true;
                        }
                        AskAgain::AcsResend => {
                            tracing::warn!(
                                command,
                                "reply failed its checksum; asking the library system to resend (97)"
                            );
                            acs_resend = true;
                            self.stats.acs_resend_requests += 1;
                            self.write(&Message::RequestAcsResend.encode(None, Charset::Utf8, true)?).await?;
                        }
                        AskAgain::Reconcile => {
                            tracing::warn!(
                                command,
                                "reply failed its checksum; the outcome will be reconciled"
                            );
                            return Err(Sip2Error::ChecksumFailed { command });
                        }
                    }
                    deadline = Instant::now() + self.timeout;
                    continue;
                }
                Err(e) => return Err(Sip2Error::Garbage(e)),
            };
            // Evergreen encodes its stored reply to UTF-8 once more when it answers a 97.
            if acs_resend
                && self.cfg.charset == Charset::Utf8
                && let Some(fixed) = dialect::undo_double_utf8(&bytes)
                && let Ok(d) = Message::decode(&fixed, opts)
            {
                tracing::warn!(command, "the answer to a 97 had its text encoded twice; repaired");
                decoded = d;
            }
            if decoded.message == Message::RequestScResend {
                if attempts > self.resends {
                    return Err(Sip2Error::ChecksumFailed { command });
                }
                tracing::warn!(command, "library system asked for a resend (96)");
                self.write(&frame).await?;
                attempts += 1;
                self.stats.resends += 1;
                self.last_resent = true;
                deadline = Instant::now() + self.timeout;
                continue;
            }
            // An answer to a 97 may carry the 97's own sequence number (none, read as 0).
            if let Some(got) = decoded.seq
                && got != seq
                && !(acs_resend && got == 0)
            {
                let stale = self.conn.as_ref().and_then(|c| c.stale_seq);
                if stale == Some(got) {
                    tracing::debug!(command, got, "dropping a late duplicate reply");
                    continue;
                }
                return Err(Sip2Error::SequenceMismatch { command, sent: seq, got });
            }
            if decoded.message.id().as_bytes() != expected {
                return Err(Sip2Error::UnexpectedReply { command, got: decoded.message.name().to_owned() });
            }
            let resent = attempts > 1 || asked_again;
            if let Some(c) = self.conn.as_mut() {
                c.stale_seq = resent.then_some(seq);
            }
            self.last_activity = Instant::now();
            return Ok(decoded.message);
        }
    }

    /// How to ask again for the reply to `msg` whose checksum failed.
    fn resend_for(&self, msg: &Message) -> AskAgain {
        match (self.cfg.resend, msg) {
            (Resend::AcsResend, _) => AskAgain::AcsResend,
            // Sent twice it may lend twice (or renew): reconcile instead.
            (Resend::Request, Message::Checkout(_)) => AskAgain::Reconcile,
            // Not harmless twice, and no reconciliation: the 97 is the only way.
            (Resend::Request, Message::Renew(_) | Message::Checkin(_)) => AskAgain::AcsResend,
            // A password is not sent twice either.
            (Resend::Request, m) if checks_password(m) => AskAgain::AcsResend,
            (Resend::Request, _) => AskAgain::Request,
        }
    }

    /// Patron status (23). With the patron's password (AD), both BL=Y and CQ=Y are
    /// required; a password the configured charset cannot carry is refused before anything
    /// is sent ([`EncodeError::Unmappable`](crate::error::EncodeError::Unmappable)).
    pub async fn patron_status(
        &mut self,
        patron: &str,
        pin: Option<&str>,
    ) -> Result<Result<Standing, PatronProblem>, Sip2Error> {
        let msg = WipedOnDrop(Message::PatronStatus(PatronStatusRequest {
            language: self.cfg.language.clone(),
            date: self.now(),
            institution: self.cfg.institution.clone(),
            patron: patron.to_owned(),
            terminal_password: self.cfg.terminal_password.clone(),
            patron_password: pin.unwrap_or_default().to_owned(),
            extra: Vec::new(),
        }));
        // The patron's password leaves memory with the request (the frame is wiped too).
        let reply = self.request(&msg.0).await;
        drop(msg);
        let Message::PatronStatusResponse(r) = reply? else {
            return Err(unexpected("patron status (23)"));
        };
        let first_message = r.screen_messages.first().map(|m| display_text(m));
        match r.valid_patron {
            Some(true) => {}
            Some(false) => return Ok(Err(PatronProblem::Unknown)),
            // A server that omits BL cannot confirm a PIN.
            None if pin.is_some() => return Ok(Err(PatronProblem::Unknown)),
            None => {}
        }
        if pin.is_some() && r.valid_password != Some(true) {
            return Ok(Err(PatronProblem::WrongPassword));
        }
        if r.status.denies_borrowing() {
            return Ok(Err(PatronProblem::Blocked { reasons: r.status.reasons(), message: first_message }));
        }
        Ok(Ok(Standing {
            name: display_text(&r.name),
            messages: r.screen_messages.iter().map(|m| display_text(m)).collect(),
        }))
    }

    fn checkout_request(
        &self,
        patron: &str,
        item: &str,
        offline: Option<&OfflineCheckout>,
    ) -> CheckoutRequest {
        let date = offline.map_or_else(|| self.now(), |o| o.made.clone());
        let (no_block, nb_due_date) = match offline {
            Some(o) if self.cfg.offline_replay => (true, o.due.clone()),
            _ if self.cfg.nb_due_date_is_transaction_date => (false, date.clone()),
            _ => (false, SipDate::blank()),
        };
        CheckoutRequest {
            sc_renewal_policy: false,
            no_block,
            date,
            nb_due_date,
            institution: self.cfg.institution.clone(),
            patron: patron.to_owned(),
            item: item.to_owned(),
            terminal_password: self.cfg.terminal_password.clone(),
            item_properties: None,
            patron_password: None,
            fee_acknowledged: Some(false),
            cancel: Some(false),
            extra: Vec::new(),
        }
    }

    /// Checkout (11), never doubled: when a reply is lost, the item's state is
    /// reconciled on a fresh connection before the checkout is sent again.
    pub async fn checkout(&mut self, patron: &str, item: &str) -> Result<Result<Loan, Refused>, Sip2Error> {
        self.checkout_inner(patron, item, None).await
    }

    /// Offline replay of a checkout done while the library system was down: sends
    /// `no block = Y`, the loan's own time as the transaction date and its provisional
    /// due date as `nb due date`. Refused unless `offline_replay` is on.
    pub async fn replay_offline_checkout(
        &mut self,
        patron: &str,
        item: &str,
        offline: &OfflineCheckout,
    ) -> Result<Result<Loan, Refused>, Sip2Error> {
        if !self.cfg.offline_replay {
            return Err(Sip2Error::OfflineReplayOff);
        }
        self.checkout_inner(patron, item, Some(offline)).await
    }

    async fn checkout_inner(
        &mut self,
        patron: &str,
        item: &str,
        offline: Option<&OfflineCheckout>,
    ) -> Result<Result<Loan, Refused>, Sip2Error> {
        let mut unknown = false;
        let mut last_error = None;
        for _ in 0..self.cfg.checkout_attempts.max(1) {
            if unknown {
                self.stats.reconciliations += 1;
                match self.reconcile_checkout(patron, item).await {
                    Ok(Reconciled::Lent(loan)) => return Ok(Ok(loan)),
                    Ok(Reconciled::Other(problem)) => return Ok(Err(problem.into())),
                    // Not lent: safe to send the checkout again (below).
                    Ok(Reconciled::NotLent) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "could not reconcile a checkout yet");
                        continue;
                    }
                }
            }
            self.connect().await?;
            if let Some(acs) = &self.acs
                && !acs.checkout_ok
                && self.cfg.checkout_allowed_override != Some(true)
            {
                return Err(Sip2Error::NotAllowed { what: "checkout" });
            }
            let msg = Message::Checkout(self.checkout_request(patron, item, offline));
            match self.request(&msg).await {
                Ok(Message::CheckoutResponse(r)) => return self.interpret_checkout(r).await,
                Ok(_) => return Err(unexpected("checkout (11)")),
                Err(e) if e.outcome_unknown() => {
                    tracing::warn!(error = %e, "checkout outcome unknown; will reconcile before any retry");
                    unknown = true;
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        match (unknown, last_error) {
            (false, Some(e)) => Err(e),
            _ => Err(Sip2Error::OutcomeUnknown { item: item.to_owned() }),
        }
    }

    async fn interpret_checkout(
        &mut self,
        r: CirculationResponse,
    ) -> Result<Result<Loan, Refused>, Sip2Error> {
        if r.ok {
            // Servers that execute a repeated request again (Koha, Evergreen, Sierra) answer
            // a checkout of an item the patron already has as a renewal: after our own resend
            // it is the original checkout; otherwise the patron had the item already.
            let recovered = r.renewal_ok && self.last_resent;
            let renewed = r.renewal_ok && !self.last_resent;
            if recovered {
                tracing::warn!("a resent checkout came back as a renewal; counted as the original checkout");
            }
            if renewed {
                tracing::info!("a checkout came back as a renewal: the patron already had this item");
            }
            return Ok(Ok(Loan {
                item: r.item,
                title: display_text(&r.title),
                due: r.due_date,
                recovered,
                renewed,
                desensitize: r.desensitize,
            }));
        }
        let message = r.screen_messages.first().map(|m| display_text(m));
        let (problem, info_title) = self.classify_refusal(&r.item, message).await;
        let title = Some(display_text(&r.title)).filter(|t| !t.trim().is_empty()).or(info_title);
        Ok(Err(Refused { problem, title }))
    }

    /// Why an item was refused: asks the item's status (best effort), and the item's
    /// title if item information gave one.
    async fn classify_refusal(
        &mut self,
        item: &str,
        message: Option<String>,
    ) -> (ItemProblem, Option<String>) {
        match self.item_information(item).await {
            Ok(info) => {
                let title = Some(display_text(&info.title)).filter(|t| !t.trim().is_empty());
                (classify(&info, message), title)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not ask why an item was refused");
                (ItemProblem::Refused(message), None)
            }
        }
    }

    /// Item information (17).
    pub async fn item_information(&mut self, item: &str) -> Result<ItemInformationResponse, Sip2Error> {
        let msg = Message::ItemInformation(ItemInformationRequest {
            date: self.now(),
            institution: self.cfg.institution.clone(),
            item: item.to_owned(),
            terminal_password: Some(self.cfg.terminal_password.clone()),
            extra: Vec::new(),
        });
        match self.request(&msg).await? {
            Message::ItemInformationResponse(r) => Ok(r),
            _ => Err(unexpected("item information (17)")),
        }
    }

    /// Patron information (63) for one item list.
    pub async fn patron_information(
        &mut self,
        patron: &str,
        pin: Option<&str>,
        summary: Summary,
    ) -> Result<PatronInformationResponse, Sip2Error> {
        self.patron_information_range(patron, pin, summary, None).await
    }

    /// Patron information (63) for items `first..=last` (1-based, BP/BQ) of one list.
    pub async fn patron_information_range(
        &mut self,
        patron: &str,
        pin: Option<&str>,
        summary: Summary,
        range: Option<(usize, usize)>,
    ) -> Result<PatronInformationResponse, Sip2Error> {
        let msg = WipedOnDrop(Message::PatronInformation(PatronInformationRequest {
            language: self.cfg.language.clone(),
            date: self.now(),
            summary,
            institution: self.cfg.institution.clone(),
            patron: patron.to_owned(),
            terminal_password: Some(self.cfg.terminal_password.clone()),
            patron_password: pin.map(str::to_owned),
            start_item: range.map(|(first, _)| first.to_string()),
            end_item: range.map(|(_, last)| last.to_string()),
            extra: Vec::new(),
        }));
        let reply = self.request(&msg.0).await;
        drop(msg);
        match reply? {
            // Another patron's answer (a stale reply on a reused connection) is never
            // shown as this patron's account.
            Message::PatronInformationResponse(r)
                if !r.patron.trim().is_empty() && r.patron.trim() != patron =>
            {
                Err(Sip2Error::UnexpectedReply {
                    command: "patron information (63)",
                    got: "the information of another patron".into(),
                })
            }
            Message::PatronInformationResponse(r) => Ok(r),
            _ => Err(unexpected("patron information (63)")),
        }
    }

    /// Decides whether a checkout whose reply was lost happened: item information first
    /// (not charged: it did not; charged to a patron it names: to whom), then whether the
    /// item is among the patron's charged items, by barcode, or by the title item
    /// information gave when the server lists titles ([`ChargedItems::Title`]).
    pub async fn reconcile_checkout(&mut self, patron: &str, item: &str) -> Result<Reconciled, Sip2Error> {
        let info = self.item_information(item).await?;
        if !info.circulation_status.is_charged() {
            return Ok(Reconciled::NotLent);
        }
        let title = display_text(&info.title);
        let lent = Reconciled::Lent(Loan {
            item: item.to_owned(),
            title: title.clone(),
            due: info.due_date.clone().unwrap_or_default(),
            recovered: true,
            renewed: false,
            desensitize: None,
        });
        // Some servers name the borrower (AA) in the item information.
        if let Some(holder) = info.extra.iter().find(|f| &f.id == b"AA").map(|f| f.value.trim())
            && !holder.is_empty()
        {
            return Ok(if holder == patron { lent } else { Reconciled::Other(ItemProblem::OnLoanToAnother) });
        }
        let account = self.patron_information(patron, None, Summary::ChargedItems).await?;
        let title = title.trim();
        let by_title = self.cfg.charged_items == ChargedItems::Title && !title.is_empty();
        let listed = |au: &String| au.trim() == item || (by_title && display_text(au.trim()).trim() == title);
        if account.charged_items.iter().any(listed) {
            Ok(lent)
        } else {
            Ok(Reconciled::Other(ItemProblem::OnLoanToAnother))
        }
    }

    /// Renew (29). A renewal is safe to resend byte-identically; across a reconnect it
    /// is simply asked again (renewing twice only moves the due date once more).
    /// `due_before` is the due date the patron saw: an answer that moves it back is
    /// [`Sip2Error::DueDateMovedBack`]; one that does not name the item is
    /// [`Sip2Error::MissingItem`] (its outcome is then checked, never guessed).
    pub async fn renew(
        &mut self,
        patron: &str,
        item: &str,
        due_before: Option<&str>,
    ) -> Result<Result<Loan, ItemProblem>, Sip2Error> {
        let date = self.now();
        let nb = if self.cfg.nb_due_date_is_transaction_date { date.clone() } else { SipDate::blank() };
        let msg = Message::Renew(RenewRequest {
            third_party_allowed: false,
            no_block: false,
            date,
            nb_due_date: nb,
            institution: self.cfg.institution.clone(),
            patron: patron.to_owned(),
            patron_password: None,
            item: Some(item.to_owned()),
            title: None,
            terminal_password: Some(self.cfg.terminal_password.clone()),
            fee_acknowledged: Some(false),
            extra: Vec::new(),
        });
        let Message::RenewResponse(r) = self.request(&msg).await? else {
            return Err(unexpected("renew (29)"));
        };
        // A renewal made but not named: whether it was this item is checked, not guessed.
        // (A refusal without AB is still a refusal: nothing was done.)
        if r.ok && r.item.trim().is_empty() {
            return Err(Sip2Error::MissingItem { command: "renew (29)" });
        }
        if r.ok {
            if let Some(before) = due_before
                && let (Some(old), Some(new)) = (due_date_key(before), due_date_key(&r.due_date))
                && new < old
            {
                return Err(Sip2Error::DueDateMovedBack {
                    before: display_due_date(before),
                    after: display_due_date(&r.due_date),
                });
            }
            return Ok(Ok(Loan {
                item: r.item,
                title: display_text(&r.title),
                due: r.due_date,
                recovered: false,
                renewed: true,
                desensitize: r.desensitize,
            }));
        }
        // Refused: someone waits for it, or the library system's own reason (a renewal
        // limit, a block) in its words. The item is on loan to this patron, so its being
        // charged says nothing.
        let message = r.screen_messages.first().map(|m| display_text(m));
        match self.classify_refusal(item, message.clone()).await.0 {
            problem @ (ItemProblem::OnHoldForAnother | ItemProblem::NotFound) => Ok(Err(problem)),
            _ => Ok(Err(ItemProblem::Refused(message))),
        }
    }

    /// Checkin (09).
    pub async fn checkin(&mut self, item: &str) -> Result<Result<CheckinOutcome, ItemProblem>, Sip2Error> {
        let date = self.now();
        let msg = Message::Checkin(CheckinRequest {
            no_block: false,
            return_date: date.clone(),
            date,
            current_location: self.cfg.location.clone(),
            institution: self.cfg.institution.clone(),
            item: item.to_owned(),
            terminal_password: self.cfg.terminal_password.clone(),
            item_properties: None,
            cancel: Some(false),
            extra: Vec::new(),
        });
        let Message::CheckinResponse(r) = self.request(&msg).await? else {
            return Err(unexpected("checkin (09)"));
        };
        if r.ok && r.item.trim().is_empty() {
            return Err(Sip2Error::MissingItem { command: "checkin (09)" });
        }
        let message = r.screen_messages.first().map(|m| display_text(m));
        let title = r.title.as_deref().map(|t| display_text(t.trim())).filter(|t| !t.is_empty());
        if r.ok {
            let destination = r
                .extra
                .iter()
                .find(|f| &f.id == b"CT")
                .map(|f| display_text(f.value.trim()))
                .filter(|d| !d.is_empty());
            let alert_type = r
                .extra
                .iter()
                .find(|f| &f.id == b"CV")
                .map(|f| f.value.trim().to_owned())
                .filter(|v| !v.is_empty());
            return Ok(Ok(CheckinOutcome {
                alert: r.alert,
                alert_type,
                sort_bin: r.sort_bin,
                destination,
                title,
                message,
            }));
        }
        if title.is_none() {
            return Ok(Err(ItemProblem::NotFound));
        }
        // Refused: not on loan (a book returned twice), or the library system's reason.
        match self.item_information(item).await {
            Ok(info) if !info.circulation_status.is_charged() => Ok(Err(ItemProblem::NotCheckedOut)),
            Ok(_) => Ok(Err(ItemProblem::Refused(message))),
            Err(e) => {
                tracing::warn!(error = %e, "could not ask why a return was refused");
                Ok(Err(ItemProblem::Refused(message)))
            }
        }
    }

    /// One item list of patron information, page by page (BP/BQ) until the count the
    /// library system gave is reached. The first page's answer comes back too (its
    /// counts, flags and messages). A list longer than its count is
    /// [`Sip2Error::ListLonger`]; a list that stays shorter (the server's frame limit, or
    /// a server that ignores the range) is returned with `incomplete` set.
    async fn item_list(
        &mut self,
        patron: &str,
        pin: Option<&str>,
        summary: Summary,
    ) -> Result<(Vec<String>, PatronInformationResponse, bool), Sip2Error> {
        let pick = |r: &PatronInformationResponse| -> (Vec<String>, Option<u16>, &'static str) {
            match summary {
                Summary::HoldItems => (r.hold_items.clone(), r.hold_items_count, "holds"),
                Summary::OverdueItems => (r.overdue_items.clone(), r.overdue_items_count, "overdue items"),
                _ => (r.charged_items.clone(), r.charged_items_count, "loans"),
            }
        };
        let mut items: Vec<String> = Vec::new();
        let mut first_answer = None;
        let mut start = 1;
        // Bounded: a server that keeps sending full pages stops at this many items.
        while start <= ACCOUNT_LIST_LIMIT {
            let range = (start, start + ACCOUNT_PAGE - 1);
            let r = self.patron_information_range(patron, pin, summary, Some(range)).await?;
            let (page, counted, list) = pick(&r);
            let counted_or = counted.map_or(usize::MAX, usize::from);
            if let Some(counted) = counted
                && page.len() > usize::from(counted)
            {
                return Err(Sip2Error::ListLonger { list, counted, listed: page.len() });
            }
            first_answer.get_or_insert(r);
            let fresh: Vec<String> = page.into_iter().filter(|i| !items.contains(i)).collect();
            let got = fresh.len();
            items.extend(fresh);
            if items.len() >= counted_or || got < ACCOUNT_PAGE {
                let incomplete = counted.is_some_and(|c| items.len() < usize::from(c));
                let Some(first) = first_answer else { break };
                return Ok((items, first, incomplete));
            }
            start += ACCOUNT_PAGE;
        }
        let Some(first) = first_answer else {
            return Err(unexpected("patron information (63)"));
        };
        Ok((items, first, true))
    }

    /// The patron's account: loans with titles and due dates (item information, 17, for
    /// each; sorted by due date, overdue ones marked from the overdue list), holds ready
    /// for pickup with where and until when, the status flags and the library system's
    /// message.
    pub async fn account(&mut self, patron: &str, pin: Option<&str>) -> Result<Account, Sip2Error> {
        let (charged, first, mut incomplete) = self.item_list(patron, pin, Summary::ChargedItems).await?;
        let overdue = if first.overdue_items_count == Some(0) {
            Vec::new()
        } else {
            let (list, _, short) = self.item_list(patron, pin, Summary::OverdueItems).await?;
            incomplete |= short;
            list
        };
        let holds = if first.hold_items_count == Some(0) {
            Vec::new()
        } else {
            let (list, _, short) = self.item_list(patron, pin, Summary::HoldItems).await?;
            incomplete |= short;
            list
        };
        let mut loans = Vec::with_capacity(charged.len());
        for entry in charged {
            let entry = entry.trim().to_owned();
            let info = self.item_information(&entry).await?;
            let known = !info.title.trim().is_empty() || info.circulation_status.is_charged();
            let loan = if known {
                AccountLoan {
                    overdue: overdue.iter().any(|o| o.trim() == entry),
                    item: entry,
                    title: display_text(info.title.trim()),
                    due: info.due_date.clone().unwrap_or_default(),
                }
            } else if self.cfg.charged_items == ChargedItems::Title {
                // A title, not a barcode: shown, but it cannot be renewed from here.
                AccountLoan {
                    overdue: overdue.iter().any(|o| o.trim() == entry),
                    title: display_text(&entry),
                    item: String::new(),
                    due: String::new(),
                }
            } else {
                AccountLoan {
                    overdue: overdue.iter().any(|o| o.trim() == entry),
                    item: entry,
                    title: String::new(),
                    due: String::new(),
                }
            };
            loans.push(loan);
        }
        // Earliest due first; dates the kiosk cannot read go last, in the server's order.
        loans.sort_by_key(|l| due_date_key(&l.due).map_or((1, (0, 0)), |k| (0, k)));
        let mut holds_ready = Vec::with_capacity(holds.len());
        for item in holds {
            let item = item.trim().to_owned();
            let info = self.item_information(&item).await?;
            let field = |id: &[u8; 2]| {
                info.extra
                    .iter()
                    .find(|f| &f.id == id)
                    .map(|f| display_text(f.value.trim()))
                    .filter(|v| !v.is_empty())
            };
            let pickup = field(b"BS").or_else(|| {
                info.current_location.as_deref().map(|l| display_text(l.trim())).filter(|l| !l.is_empty())
            });
            holds_ready.push(HoldReady {
                title: display_text(info.title.trim()),
                pickup,
                until: info.hold_pickup_date.clone().filter(|d| !d.trim().is_empty()),
                item,
            });
        }
        Ok(Account {
            loans,
            holds_ready,
            flags: first.status,
            message: first.screen_messages.first().map(|m| display_text(m.trim())).filter(|m| !m.is_empty()),
            incomplete,
        })
    }

    /// End patron session (35).
    pub async fn end_session(&mut self, patron: &str) -> Result<(), Sip2Error> {
        let msg = Message::EndSession(EndSessionRequest {
            date: self.now(),
            institution: self.cfg.institution.clone(),
            patron: patron.to_owned(),
            terminal_password: Some(self.cfg.terminal_password.clone()),
            patron_password: None,
            extra: Vec::new(),
        });
        match self.request(&msg).await? {
            Message::EndSessionResponse(_) => Ok(()),
            _ => Err(unexpected("end patron session (35)")),
        }
    }
}

/// How to ask again for a reply whose checksum failed.
enum AskAgain {
    /// The same request, byte for byte.
    Request,
    /// A 97.
    AcsResend,
    /// Nothing: the outcome is unknown and the caller reconciles it.
    Reconcile,
}

/// Requests never sent twice on their own: a checkout (reconciled by its caller), a
/// renewal and a return (reconciled by the journal).
/// A checkout made while the library system was down, as it is replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineCheckout {
    /// When the patron borrowed it (the transaction date sent).
    pub made: SipDate,
    /// The provisional due date the patron was given (`nb due date`).
    pub due: SipDate,
}

fn once_only(msg: &Message) -> bool {
    matches!(msg, Message::Checkout(_) | Message::Renew(_) | Message::Checkin(_)) || checks_password(msg)
}

/// A request carrying the patron's password (AD): sent once. The library system may count
/// each wrong password against its lock-out, so a copy it may already have seen is never
/// sent again (no answer is an error; a reply that fails its checksum is asked for by 97).
fn checks_password(msg: &Message) -> bool {
    match msg {
        Message::PatronStatus(m) => !m.patron_password.is_empty(),
        Message::PatronInformation(m) => m.patron_password.as_deref().is_some_and(|p| !p.is_empty()),
        _ => false,
    }
}

/// The patron-status request, its password wiped when it is dropped: after the answer, or
/// when the request is abandoned (a timeout above, the session cancelled).
struct WipedOnDrop(Message);

impl Drop for WipedOnDrop {
    fn drop(&mut self) {
        match &mut self.0 {
            Message::PatronStatus(m) => zeroize::Zeroize::zeroize(&mut m.patron_password),
            Message::PatronInformation(m) => {
                if let Some(p) = m.patron_password.as_mut() {
                    zeroize::Zeroize::zeroize(p);
                }
            }
            _ => {}
        }
    }
}

fn unexpected(command: &'static str) -> Sip2Error {
    Sip2Error::UnexpectedReply { command, got: "another message".into() }
}

/// Names a refusal from the item's status.
pub fn classify(info: &ItemInformationResponse, message: Option<String>) -> ItemProblem {
    use crate::messages::CirculationStatus as S;
    let holds = info.hold_queue_length.as_deref().and_then(|h| h.trim().parse::<u32>().ok()).unwrap_or(0);
    if info.title.is_empty() && matches!(info.circulation_status, S::Other | S::Unknown(_) | S::Missing) {
        ItemProblem::NotFound
    } else if matches!(info.circulation_status, S::WaitingOnHoldShelf) || holds > 0 {
        ItemProblem::OnHoldForAnother
    } else if info.circulation_status.is_charged() {
        ItemProblem::OnLoanToAnother
    } else {
        ItemProblem::Refused(message)
    }
}

/// The [`Library`] implementation over SIP2: one client behind a lock, shared by the
/// orchestrator and the keep-alive task.
#[derive(Debug)]
pub struct Sip2Library {
    client: tokio::sync::Mutex<Client>,
}

impl Sip2Library {
    pub fn new(cfg: ClientConfig) -> Arc<Self> {
        Arc::new(Sip2Library { client: tokio::sync::Mutex::new(Client::new(cfg)) })
    }

    /// Runs the keep-alive: every half interval (the interval in force, which the
    /// server's 98 may shorten), a 99 if the connection was idle, or a new connection if
    /// the server closed it.
    pub fn spawn_keepalive(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                let period = this.client.lock().await.keepalive_interval() / 2;
                tokio::time::sleep(period.max(Duration::from_millis(10))).await;
                if let Err(e) = this.client.lock().await.keep_alive().await {
                    tracing::warn!(error = %e, "SIP2 keep-alive failed; will reconnect on the next request");
                }
            }
        })
    }

    pub async fn stats(&self) -> ClientStats {
        self.client.lock().await.stats()
    }

    /// For the staff status page: whether the library system lets this kiosk lend, and
    /// whether that is the configuration's override.
    pub async fn checkout_permission(&self) -> CheckoutPermission {
        self.client.lock().await.checkout_permission()
    }

    /// See [`Client::clock_skew`].
    pub async fn clock_skew(&self) -> Option<i64> {
        self.client.lock().await.clock_skew()
    }

    /// The keep-alive interval in force (see [`Client::keepalive_interval`]).
    pub async fn keepalive_interval(&self) -> Duration {
        self.client.lock().await.keepalive_interval()
    }

    /// For the admin screen: connects (login and SC status) if not connected. `Ok` means
    /// the library system answers.
    pub async fn probe(&self) -> Result<(), Sip2Error> {
        self.client.lock().await.connect().await
    }

    /// After a crash: was `item` lent to `patron`? (Item information and the patron's
    /// charged items; nothing is sent that could lend it.)
    pub async fn reconcile_checkout(&self, patron: &str, item: &str) -> Result<Reconciled, Sip2Error> {
        self.client.lock().await.reconcile_checkout(patron, item).await
    }

    /// After a crash: did the renewal of `item` happen? Only item information is asked
    /// (nothing that could renew it): still on loan with a due date later than
    /// `due_before`, it did. A due date the kiosk cannot compare counts as not renewed,
    /// which is safe: the patron may renew again, and a second renewal only moves the
    /// date once more.
    pub async fn reconcile_renewal(&self, item: &str, due_before: &str) -> Result<bool, Sip2Error> {
        let info = self.client.lock().await.item_information(item).await?;
        let moved = match (due_date_key(due_before), info.due_date.as_deref().and_then(due_date_key)) {
            // Dates only: a due date shown without its time must not look moved.
            (Some(before), Some(now)) => now.0 > before.0,
            _ => false,
        };
        Ok(info.circulation_status.is_charged() && moved)
    }

    /// Replays a checkout made while the library system was down (see
    /// [`Client::replay_offline_checkout`]); a lost answer is reconciled before any resend.
    ///
    /// # Errors
    /// [`Sip2Error::OfflineReplayOff`] unless `offline_replay` is on; the library system's
    /// failures as for a checkout.
    pub async fn replay_offline_checkout(
        &self,
        patron: &str,
        item: &str,
        offline: &OfflineCheckout,
    ) -> Result<Result<Loan, Refused>, Sip2Error> {
        self.client.lock().await.replay_offline_checkout(patron, item, offline).await
    }

    /// After a crash: did the return of `item` happen? Only item information is asked:
    /// no longer charged, it did.
    pub async fn reconcile_return(&self, item: &str) -> Result<bool, Sip2Error> {
        let info = self.client.lock().await.item_information(item).await?;
        Ok(!info.circulation_status.is_charged())
    }
}

impl Library for Sip2Library {
    async fn patron(
        &self,
        patron: &str,
        pin: Option<&str>,
    ) -> Result<Result<Standing, PatronProblem>, Sip2Error> {
        self.client.lock().await.patron_status(patron, pin).await
    }

    async fn checkout(&self, patron: &str, item: &str) -> Result<Result<Loan, Refused>, Sip2Error> {
        self.client.lock().await.checkout(patron, item).await
    }

    async fn renew(
        &self,
        patron: &str,
        item: &str,
        due_before: Option<&str>,
    ) -> Result<Result<Loan, ItemProblem>, Sip2Error> {
        self.client.lock().await.renew(patron, item, due_before).await
    }

    async fn return_item(&self, item: &str) -> Result<Result<CheckinOutcome, ItemProblem>, Sip2Error> {
        self.client.lock().await.checkin(item).await
    }

    async fn account(&self, patron: &str, pin: Option<&str>) -> Result<Account, Sip2Error> {
        self.client.lock().await.account(patron, pin).await
    }

    async fn end_session(&self, patron: &str) -> Result<(), Sip2Error> {
        self.client.lock().await.end_session(patron).await
    }
}
