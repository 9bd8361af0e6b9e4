//! The municipality's shared link store: PostgreSQL over TLS with a client certificate
//! (tokio-postgres, through the same rustls set-up as the platform: only the configured
//! CA, TLS ≥ 1.2). The schema, roles and tenancy rules are `deploy/links/schema.sql`.
//!
//! Kiosks read: every few seconds they ask for the changes after the last one they hold
//! ([`SharedLinks::sync`]), apply them to their [`LinkStore`] view, and write its signed
//! snapshot. Counters write through the database's `link_card` function, which checks
//! that the device may link for its municipality and serialises the writers, so change
//! numbers commit in order and a reader never skips one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_postgres::types::Type;

use super::{Change, Credential, LinkStore};
use crate::tls::{Identity, client_config};
use crate::{JpkiCertificate, PlatformError, ServiceId};

/// How many changes one query brings (a kiosk starting empty pages through the store).
pub const PAGE: i64 = 5_000;

/// Where the store is and who this device is.
#[derive(Clone, Debug)]
pub struct SharedConfig {
    /// `postgresql://ROLE@HOST:PORT/DATABASE` (the role is the client certificate's name).
    pub url: String,
    /// CA certificate(s), PEM, the server's certificate must chain to.
    pub ca_pem: Vec<u8>,
    /// The device's client certificate and key.
    pub identity: Identity,
    /// The municipality whose links this device reads (and, at a counter, writes).
    pub municipality: String,
    /// Connect and per-query timeout.
    pub timeout: Duration,
}

/// Whether `url` names a store this client can reach: `postgresql://ROLE@HOST[:PORT]/DATABASE`,
/// with no password (the device proves itself with its certificate).
pub fn check_url(url: &str) -> Result<(), String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| format!("not a PostgreSQL URL ({e})"))?;
    if !(url.starts_with("postgresql://") || url.starts_with("postgres://")) {
        return Err("not a postgresql:// URL".into());
    }
    if config.get_user().is_none() {
        return Err("no role before the @ (the name in this device's client certificate)".into());
    }
    if config.get_password().is_some() {
        return Err("holds a password; devices log in with their client certificate only".into());
    }
    if config.get_hosts().is_empty() {
        return Err("no host".into());
    }
    if config.get_dbname().is_none() {
        return Err("no database after the /".into());
    }
    Ok(())
}

fn store_err(what: &str, e: impl std::fmt::Display) -> PlatformError {
    PlatformError::LinkStore(format!("the shared store, {what}: {e}"))
}

/// A connection to the shared store, made again after any failure.
pub struct SharedLinks {
    config: tokio_postgres::Config,
    tls: RustlsConnect,
    municipality: String,
    timeout: Duration,
    client: tokio::sync::Mutex<Option<tokio_postgres::Client>>,
}

impl std::fmt::Debug for SharedLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLinks").field("municipality", &self.municipality).finish()
    }
}

impl SharedLinks {
    pub fn new(config: SharedConfig) -> Result<Self, PlatformError> {
        let mut pg: tokio_postgres::Config =
            config.url.parse().map_err(|e| PlatformError::Config(format!("link store url: {e}")))?;
        if pg.get_user().is_none() {
            return Err(PlatformError::Config(
                "link store url: no role (postgresql://ROLE@HOST:PORT/DATABASE)".into(),
            ));
        }
        pg.ssl_mode(tokio_postgres::config::SslMode::Require)
            .connect_timeout(config.timeout)
            .application_name("kiosk");
        let mut tls = client_config(&config.ca_pem, Some(&config.identity))?;
        tls.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(SharedLinks {
            config: pg,
            tls: RustlsConnect(Arc::new(tls)),
            municipality: config.municipality,
            timeout: config.timeout,
            client: tokio::sync::Mutex::new(None),
        })
    }

    pub fn municipality(&self) -> &str {
        &self.municipality
    }

    async fn connected(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<tokio_postgres::Client>>, PlatformError> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            *guard = None;
            let (client, connection) = self
                .config
                .connect(self.tls.clone())
                .await
                .map_err(|e| store_err("connect", error_chain(&e)))?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %error_chain(&e), "the shared link store's connection ended");
                }
            });
            *guard = Some(client);
        }
        Ok(guard)
    }

    /// Runs `f` on the connection within the timeout; a failure drops the connection.
    async fn with_client<T, F>(&self, what: &str, f: F) -> Result<T, PlatformError>
    where
        F: for<'c> FnOnce(
            &'c mut tokio_postgres::Client,
        )
            -> Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + Send + 'c>>,
    {
        let attempt = async {
            let mut guard = self.connected().await?;
            let Some(client) = guard.as_mut() else { return Err(store_err(what, "not connected")) };
            let result = f(client).await;
            if result.is_err() {
                *guard = None;
            }
            result.map_err(|e| store_err(what, error_chain(&e)))
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(r) => r,
            Err(_) => {
                *self.client.lock().await = None;
                Err(store_err(what, format!("no answer within {:?}", self.timeout)))
            }
        }
    }

    /// Up to [`PAGE`] changes after `after`, in order.
    pub async fn changes_since(&self, after: i64) -> Result<Vec<Change>, PlatformError> {
        let municipality = self.municipality.clone();
        let rows = self
            .with_client("read", move |c| {
                Box::pin(async move {
                    // One round trip, no prepared statement: asked every few seconds.
                    c.query_typed(
                        "SELECT change, credential, patron FROM links \
                         WHERE municipality = $1 AND change > $2 ORDER BY change LIMIT $3",
                        &[(&municipality, Type::TEXT), (&after, Type::INT8), (&PAGE, Type::INT8)],
                    )
                    .await
                })
            })
            .await?;
        rows.iter()
            .map(|row| {
                let change: i64 = row.try_get(0).map_err(|e| store_err("read", e))?;
                let credential: Vec<u8> = row.try_get(1).map_err(|e| store_err("read", e))?;
                let patron: Option<String> = row.try_get(2).map_err(|e| store_err("read", e))?;
                let credential: Credential =
                    credential.try_into().map_err(|_| store_err("read", "a credential is not 32 bytes"))?;
                let patron = match patron {
                    Some(p) => Some(
                        ServiceId::new(&p).ok_or_else(|| store_err("read", "a malformed patron number"))?,
                    ),
                    None => None,
                };
                Ok(Change { change, credential, patron })
            })
            .collect()
    }

    /// The store's identity (`link_store.id`): another one means the database was restored
    /// or replaced, and its change numbers start again.
    pub async fn store_id(&self) -> Result<String, PlatformError> {
        let row = self
            .with_client("read", |c| {
                Box::pin(async move { c.query_one("SELECT id FROM link_store LIMIT 1", &[]).await })
            })
            .await?;
        row.try_get(0).map_err(|e| store_err("read", e))
    }

    /// Brings `store` up to date: every change after the last it holds, page by page (a
    /// view of another store starts over from nothing). Applying runs on a blocking
    /// thread: a first read of a large store merges big pages. Returns how many changes
    /// were applied.
    pub async fn sync(&self, store: &Arc<LinkStore>) -> Result<usize, PlatformError> {
        let id = self.store_id().await?;
        if store.store_id() != id {
            if !store.store_id().is_empty() {
                tracing::warn!(
                    "link store: the shared store is not the one the snapshot came from; reading it again"
                );
            }
            store.start_over(&id)?;
        }
        let mut applied = 0;
        loop {
            let changes = self.changes_since(store.change()).await?;
            let (full, n) = (changes.len() as i64 == PAGE, changes.len());
            let view = store.clone();
            tokio::task::spawn_blocking(move || view.apply(&changes))
                .await
                .map_err(|_| PlatformError::LinkStore("the link store's applier stopped".into()))??;
            applied += n;
            if !full {
                store.mark_read(SystemTime::now());
                return Ok(applied);
            }
        }
    }

    async fn link_card(&self, credential: Credential, patron: Option<String>) -> Result<bool, PlatformError> {
        let municipality = self.municipality.clone();
        let row = self
            .with_client("write", move |c| {
                Box::pin(async move {
                    c.query_one(
                        "SELECT link_card($1, $2, $3)",
                        &[&municipality, &credential.as_slice(), &patron],
                    )
                    .await
                })
            })
            .await?;
        row.try_get(0).map_err(|e| store_err("write", e))
    }

    /// Links the card to `patron` in the shared store (the patron's other cards are
    /// unlinked), then brings `store` up to date so this device sees it at once.
    /// A write that failed may still have been committed (the answer lost on the way):
    /// the store is read again, and the link as it stands there decides.
    pub async fn link(
        &self,
        store: &Arc<LinkStore>,
        cert: &JpkiCertificate,
        patron: &ServiceId,
    ) -> Result<(), PlatformError> {
        let written = self.link_card(store.keyed_hash(cert), Some(patron.expose().to_owned())).await;
        let read = self.sync(store).await;
        match written {
            Err(_) if read.is_ok() && store.resolve(cert).as_ref() == Some(patron) => Ok(()),
            Err(e) => Err(e),
            Ok(_) => read.map(|_| ()),
        }
    }

    /// Unlinks the card; `Ok(false)` when it had no link.
    pub async fn unlink(
        &self,
        store: &Arc<LinkStore>,
        cert: &JpkiCertificate,
    ) -> Result<bool, PlatformError> {
        let written = self.link_card(store.keyed_hash(cert), None).await;
        let read = self.sync(store).await;
        match written {
            Err(_) if read.is_ok() && store.resolve(cert).is_none() => Ok(true),
            Err(e) => Err(e),
            Ok(was) => read.map(|_| was),
        }
    }
}

/// An error and its sources, one line (tokio-postgres puts the server's message and the
/// TLS failure in the sources).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// tokio-postgres' TLS hook over tokio-rustls.
#[derive(Clone)]
struct RustlsConnect(Arc<rustls::ClientConfig>);

struct RustlsConnector {
    config: Arc<rustls::ClientConfig>,
    name: Result<ServerName<'static>, String>,
}

impl<S> MakeTlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnector;
    type Error = std::io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnector, std::io::Error> {
        let name = ServerName::try_from(domain.to_owned()).map_err(|e| format!("{domain}: {e}"));
        Ok(RustlsConnector { config: self.0.clone(), name })
    }
}

impl<S> TlsConnect<S> for RustlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<RustlsStream<S>, std::io::Error>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name.map_err(std::io::Error::other)?;
            let tls = tokio_rustls::TlsConnector::from(self.config).connect(name, stream).await?;
            Ok(RustlsStream(tls))
        })
    }
}

struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // Authentication is by client certificate; no SCRAM channel binding needed.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// What a kiosk following the store last saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Following {
    /// The store answered; the view is current.
    Current,
    /// The store cannot be reached: the kiosk lends from its snapshot, taken at `taken`.
    Unreachable { taken: Option<SystemTime>, why: String },
}

/// Follows the shared store for as long as the task lives: a sync every `every`, the
/// snapshot written after a sync that changed something (at most every `save_every`),
/// and `report` told the state after every sync (the snapshot's age grows while the store
/// is away; a state change is also logged).
pub async fn follow(
    store: Arc<LinkStore>,
    shared: Arc<SharedLinks>,
    every: Duration,
    save_every: Duration,
    mut report: impl FnMut(Following) + Send + 'static,
) {
    let mut last: Option<Following> = None;
    let mut saved_at: Option<tokio::time::Instant> = None;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = match shared.sync(&store).await {
            Ok(n) => {
                if n > 0 {
                    tracing::info!(
                        changes = n,
                        links = store.len(),
                        "link store: changes from the shared store"
                    );
                }
                let due = saved_at.is_none_or(|t| t.elapsed() >= save_every);
                if store.unsaved() && due {
                    let s = store.clone();
                    // Patron numbers pass through this thread's stack: scrubbed after.
                    let write = move || {
                        let written = s.write_snapshot();
                        kiosk_card::scrub::scrub::<{ 64 * 1024 / 8 }>();
                        written
                    };
                    match tokio::task::spawn_blocking(write).await {
                        Ok(Ok(())) => saved_at = Some(tokio::time::Instant::now()),
                        Ok(Err(e)) => tracing::error!(error = %e, "the link snapshot could not be written"),
                        Err(_) => tracing::error!("the link snapshot writer stopped"),
                    }
                }
                Following::Current
            }
            Err(e) => Following::Unreachable { taken: store.taken(), why: e.to_string() },
        };
        if last.as_ref() != Some(&now) {
            match &now {
                Following::Current => tracing::info!("link store: following the shared store"),
                Following::Unreachable { why, .. } => {
                    tracing::warn!(error = %why, "link store: the shared store cannot be reached; lending from the snapshot")
                }
            }
            last = Some(now.clone());
        }
        report(now);
    }
}
