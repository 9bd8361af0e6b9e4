//! RAUC's D-Bus API (`de.pengutronix.rauc.Installer` on `/`), through zbus.
//!
//! RAUC's documentation prefers D-Bus to its command line for applications. The install
//! is asynchronous: `InstallBundle` returns at once, `Progress` changes while it runs, and
//! the `Completed(i)` signal carries the result (`LastError` says why on failure).

use std::collections::HashMap;
use std::time::Duration;

use tokio_stream_shim::next;
use zbus::zvariant::{OwnedValue, Value};

/// RAUC's installer interface.
#[zbus::proxy(
    interface = "de.pengutronix.rauc.Installer",
    default_service = "de.pengutronix.rauc",
    default_path = "/"
)]
pub trait Installer {
    /// Starts installing a bundle.
    fn install_bundle(&self, source: &str, args: HashMap<&str, Value<'_>>) -> zbus::Result<()>;
    /// A bundle's `(compatible, version)`; verifies its signature first.
    fn info(&self, bundle: &str) -> zbus::Result<(String, String)>;
    /// Marks a slot `good`, `bad` or `active`; slot `booted`, `other` or a name.
    fn mark(&self, state: &str, slot_identifier: &str) -> zbus::Result<(String, String)>;
    /// Every slot and its status.
    fn get_slot_status(&self) -> zbus::Result<Vec<(String, HashMap<String, OwnedValue>)>>;
    /// The end of an install: 0 = success.
    #[zbus(signal)]
    fn completed(&self, result: i32) -> zbus::Result<()>;
    /// `idle` or `installing`.
    #[zbus(property)]
    fn operation(&self) -> zbus::Result<String>;
    /// The last error message.
    #[zbus(property)]
    fn last_error(&self) -> zbus::Result<String>;
    /// `(percent, message, depth)`.
    #[zbus(property)]
    fn progress(&self) -> zbus::Result<(i32, String, i32)>;
    /// The bootname of the booted slot.
    #[zbus(property)]
    fn boot_slot(&self) -> zbus::Result<String>;
    /// The system's `compatible`.
    #[zbus(property)]
    fn compatible(&self) -> zbus::Result<String>;
}

/// What went wrong with RAUC.
#[derive(Debug, thiserror::Error)]
pub enum RaucError {
    /// D-Bus itself (RAUC not running, bus unreachable).
    #[error("RAUC is not reachable on D-Bus: {0}")]
    Bus(String),
    /// RAUC refused the bundle or the install failed; RAUC's own message.
    #[error("{0}")]
    Refused(String),
    /// The install did not complete in time.
    #[error("the install did not complete within {0:?}")]
    Timeout(Duration),
}

fn bus(e: zbus::Error) -> RaucError {
    match e {
        zbus::Error::MethodError(_, Some(msg), _) => RaucError::Refused(msg),
        other => RaucError::Bus(other.to_string()),
    }
}

/// A connection to RAUC.
#[derive(Debug, Clone)]
pub struct Rauc {
    proxy: InstallerProxy<'static>,
}

impl Rauc {
    /// Connects to RAUC on the system bus, or on `address` (a private bus in tests).
    pub async fn connect(address: Option<&str>) -> Result<Self, RaucError> {
        let conn = match address {
            None => zbus::Connection::system().await.map_err(bus)?,
            Some(a) => zbus::connection::Builder::address(a).map_err(bus)?.build().await.map_err(bus)?,
        };
        let proxy = InstallerProxy::new(&conn).await.map_err(bus)?;
        Ok(Rauc { proxy })
    }

    /// `(compatible, version)` of a bundle, after RAUC checked its signature.
    pub async fn info(&self, bundle: &str) -> Result<(String, String), RaucError> {
        self.proxy.info(bundle).await.map_err(bus)
    }

    /// The booted slot's bootname (`A`, `B`).
    pub async fn boot_slot(&self) -> Result<String, RaucError> {
        self.proxy.boot_slot().await.map_err(bus)
    }

    /// Marks a slot.
    pub async fn mark(&self, state: &str, slot: &str) -> Result<String, RaucError> {
        self.proxy.mark(state, slot).await.map(|(_, msg)| msg).map_err(bus)
    }

    /// Slot name → its status map, flattened to strings.
    pub async fn slot_status(&self) -> Result<Vec<(String, HashMap<String, String>)>, RaucError> {
        let slots = self.proxy.get_slot_status().await.map_err(bus)?;
        Ok(slots
            .into_iter()
            .map(|(name, map)| {
                let flat = map
                    .into_iter()
                    .map(|(k, v)| {
                        let s = match &*v {
                            Value::Str(s) => s.to_string(),
                            other => format!("{other}"),
                        };
                        (k, s)
                    })
                    .collect();
                (name, flat)
            })
            .collect())
    }

    /// Installs `bundle` (an absolute path), calling `progress(percent, message)` as RAUC
    /// reports it; returns when RAUC signals `Completed`.
    pub async fn install(
        &self,
        bundle: &str,
        timeout: Duration,
        mut progress: impl FnMut(u8, &str),
    ) -> Result<(), RaucError> {
        // Subscribe before starting, so a fast install cannot complete unseen.
        let mut completed = self.proxy.receive_completed().await.map_err(bus)?;
        let mut changes = self.proxy.receive_progress_changed().await;
        self.proxy.install_bundle(bundle, HashMap::new()).await.map_err(bus)?;
        let wait = async {
            loop {
                tokio::select! {
                    signal = next(&mut completed) => {
                        let Some(signal) = signal else {
                            return Err(RaucError::Bus("RAUC left the bus during the install".into()));
                        };
                        let result = signal.args().map_err(bus)?.result;
                        if result == 0 {
                            progress(100, "installed");
                            return Ok(());
                        }
                        let why = self.proxy.last_error().await.map_err(bus)?;
                        return Err(RaucError::Refused(why));
                    }
                    change = next(&mut changes) => {
                        if let Some(change) = change
                            && let Ok((percent, message, _)) = change.get().await
                        {
                            progress(u8::try_from(percent.clamp(0, 100)).unwrap_or(0), &message);
                        }
                    }
                }
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| RaucError::Timeout(timeout))?
    }
}

/// `StreamExt::next` without pulling in a stream crate: zbus streams are
/// `futures_core::Stream`s, polled here with `std::future::poll_fn`.
mod tokio_stream_shim {
    use std::pin::Pin;

    /// The next item of a stream.
    pub async fn next<S: zbus::export::futures_core::Stream + Unpin>(s: &mut S) -> Option<S::Item> {
        std::future::poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
    }
}
