//! The platform in this process, for the demo: the same answers a CRL or OCSP back-end
//! gives (the card's proof checked against the trusted CA, the patron from the local link
//! store), after the time a real validity check takes, counted on tokio's clock.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kiosk_card::cert::JpkiCertificate;
use kiosk_platform::links::LinkStore;
use kiosk_platform::proof::CardTrust;
use kiosk_platform::{BoxFuture, Challenge, Platform, PlatformError, Possession, Verdict};

/// A platform with no network: see the module docs.
pub struct InProcessPlatform {
    trust: CardTrust,
    links: Arc<LinkStore>,
    latency: Duration,
}

impl std::fmt::Debug for InProcessPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcessPlatform").field("latency", &self.latency).finish_non_exhaustive()
    }
}

impl InProcessPlatform {
    /// Checks proofs against `trust`, names patrons from `links`, and answers each
    /// validity check after `latency`.
    pub fn new(trust: CardTrust, links: Arc<LinkStore>, latency: Duration) -> Self {
        InProcessPlatform { trust, links, latency }
    }
}

impl Platform for InProcessPlatform {
    fn challenge(&self) -> BoxFuture<'_, Result<Challenge, PlatformError>> {
        Box::pin(async { Challenge::local() })
    }

    fn verify<'a>(
        &'a self,
        certificate: &'a JpkiCertificate,
        possession: Possession<'a>,
    ) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            if let Err(verdict) = self.trust.check_possession(certificate, possession, SystemTime::now()) {
                return verdict;
            }
            match self.links.resolve(certificate) {
                Some(id) => Verdict::Good { service_id: Some(id), next_update: None, reissued: false },
                None => Verdict::NotLinked,
            }
        })
    }
}
