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
    /// The slot the bootloader will boot next.
    fn get_primary(&self) -> zbus::Result<String>;
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
    /// D-Bus itself: the bus is unreachable or RAUC is not on it.
    #[error("RAUC is not reachable on D-Bus ({0}); check that rauc.service is running")]
    Bus(String),
    /// RAUC refused the bundle or the install failed; RAUC's own message.
    #[error("RAUC refused: {0}")]
    Refused(String),
    /// RAUC could not read or verify the bundle (signature, certificate chain, format).
    #[error(
        "RAUC cannot verify the bundle ({0}): its signature, its certificate chain or its \
         format is not accepted here; `journalctl -u rauc` has RAUC's reason"
    )]
    Unverifiable(String),
    /// RAUC left the bus while it was installing (crashed, killed, or restarted).
    #[error(
        "RAUC stopped in the middle of the install; the running slot is untouched and the \
         update is tried again at the next poll (see `journalctl -u rauc`)"
    )]
    ServiceLost,
    /// The install did not complete in time.
    #[error("RAUC did not finish the install within {0:?}; see `journalctl -u rauc`")]
    Timeout(Duration),
}

fn bus(e: zbus::Error) -> RaucError {
    match e {
        // The bus's own errors (no such name, access denied) mean RAUC is not there.
        zbus::Error::MethodError(name, msg, _) if !name.as_str().starts_with("org.freedesktop.DBus.") => {
            RaucError::Refused(msg.unwrap_or_else(|| name.to_string()))
        }
        other => RaucError::Bus(other.to_string()),
    }
}

/// A connection to RAUC.
#[derive(Debug, Clone)]
pub struct Rauc {
    proxy: InstallerProxy<'static>,
    /// The same object without zbus's property cache: `LastError` must be read fresh when
    /// `Completed` arrives, not from a cache the `PropertiesChanged` has not reached yet.
    fresh: InstallerProxy<'static>,
}

impl Rauc {
    /// Connects to RAUC on the system bus, or on `address` (a private bus in tests).
    pub async fn connect(address: Option<&str>) -> Result<Self, RaucError> {
        let conn = match address {
            None => zbus::Connection::system().await.map_err(bus)?,
            Some(a) => zbus::connection::Builder::address(a).map_err(bus)?.build().await.map_err(bus)?,
        };
        let proxy = InstallerProxy::new(&conn).await.map_err(bus)?;
        let fresh = InstallerProxy::builder(&conn)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(bus)?;
        Ok(Rauc { proxy, fresh })
    }

    /// `(compatible, version)` of a bundle, after RAUC checked its signature.
    ///
    /// RAUC 1.8 answers every failure of `Info` with the bare "rauc info error" and logs the
    /// reason (bad signature, unknown CA, wrong format) only to its journal; that is
    /// [`RaucError::Unverifiable`].
    pub async fn info(&self, bundle: &str) -> Result<(String, String), RaucError> {
        match self.proxy.info(bundle).await.map_err(bus) {
            Err(RaucError::Refused(why)) => Err(RaucError::Unverifiable(why)),
            other => other,
        }
    }

    /// The booted slot's bootname (`A`, `B`).
    pub async fn boot_slot(&self) -> Result<String, RaucError> {
        self.proxy.boot_slot().await.map_err(bus)
    }

    /// The slot the bootloader boots next (`rootfs.0`, `rootfs.1`).
    pub async fn primary(&self) -> Result<String, RaucError> {
        self.proxy.get_primary().await.map_err(bus)
    }

    /// `idle` or `installing`.
    pub async fn operation(&self) -> Result<String, RaucError> {
        self.proxy.operation().await.map_err(bus)
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
    /// reports it; returns when RAUC signals `Completed`, or with
    /// [`RaucError::ServiceLost`] as soon as RAUC leaves the bus mid-install.
    pub async fn install(
        &self,
        bundle: &str,
        timeout: Duration,
        mut progress: impl FnMut(u8, &str),
    ) -> Result<(), RaucError> {
        // Subscribe before starting, so a fast install cannot complete unseen.
        let mut completed = self.proxy.receive_completed().await.map_err(bus)?;
        let mut owner = self.proxy.inner().receive_owner_changed().await.map_err(bus)?;
        let mut changes = self.proxy.receive_progress_changed().await;
        self.proxy.install_bundle(bundle, HashMap::new()).await.map_err(bus)?;
        let wait = async {
            loop {
                tokio::select! {
                    signal = next(&mut completed) => {
                        let Some(signal) = signal else {
                            return Err(RaucError::ServiceLost);
                        };
                        let result = signal.args().map_err(bus)?.result;
                        if result == 0 {
                            progress(100, "installed");
                            return Ok(());
                        }
                        let why = self.fresh.last_error().await.map_err(bus)?;
                        return Err(RaucError::Refused(if why.is_empty() {
                            format!("the install failed (result {result}) without a reason")
                        } else {
                            why
                        }));
                    }
                    change = next(&mut owner) => {
                        // None: the stream ended; Some(None): the name has no owner now.
                        if matches!(change, None | Some(None)) {
                            return Err(RaucError::ServiceLost);
                        }
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
