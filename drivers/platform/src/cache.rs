//! The policies around any back-end: a bounded in-memory verdict cache keyed by a keyed
//! hash of (issuer, serial) under a per-process random key (dropped on restart), and the
//! optional grace for an unreachable platform: a cached `Good` for the same certificate
//! is accepted until its `nextUpdate`, never beyond. The card's own proof (signature and
//! chain) is always checked by the back-end first, grace or not.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use crate::{
    BoxFuture, Challenge, JpkiCertificate, Platform, PlatformError, Possession, ServiceId, Verdict, links,
    proof,
};

/// What to do when no answer can be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grace {
    /// Refuse (the default).
    Refuse,
    /// Accept a cached `Good` until its `nextUpdate`.
    UntilNextUpdate,
}

struct Entry {
    service_id: Option<ServiceId>,
    next_update: SystemTime,
}

/// A back-end wrapped with the cache and the grace policy.
pub struct Guarded<P> {
    inner: P,
    grace: Grace,
    capacity: usize,
    key: [u8; 32],
    cache: Mutex<HashMap<[u8; 32], Entry>>,
}

impl<P> std::fmt::Debug for Guarded<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guarded").field("grace", &self.grace).field("capacity", &self.capacity).finish()
    }
}

impl<P: Platform> Guarded<P> {
    /// `capacity` bounds the cache (the soonest-expiring entry is evicted first).
    pub fn new(inner: P, grace: Grace, capacity: usize) -> Result<Self, PlatformError> {
        Ok(Guarded {
            inner,
            grace,
            capacity: capacity.max(1),
            key: crate::random_bytes::<32>()?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    pub fn inner(&self) -> &P {
        &self.inner
    }

    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn hash(&self, cert: &JpkiCertificate) -> [u8; 32] {
        let (issuer, serial) = proof::issuer_and_serial(cert);
        links::keyed_hash(&self.key, &issuer, &serial)
    }

    async fn run(&self, cert: &JpkiCertificate, possession: Possession<'_>) -> Verdict {
        let verdict = self.inner.verify(cert, possession).await;
        let now = SystemTime::now();
        let key = self.hash(cert);
        let Ok(mut cache) = self.cache.lock() else { return verdict };
        cache.retain(|_, e| e.next_update > now);
        match &verdict {
            // Without grace nothing is kept: the cache would only hold patron numbers.
            Verdict::Good { service_id, next_update: Some(next), .. }
                if *next > now && self.grace == Grace::UntilNextUpdate =>
            {
                if cache.len() >= self.capacity && !cache.contains_key(&key) {
                    let soonest = cache.iter().min_by_key(|(_, e)| e.next_update).map(|(k, _)| *k);
                    if let Some(k) = soonest {
                        cache.remove(&k);
                    }
                }
                cache.insert(key, Entry { service_id: service_id.clone(), next_update: *next });
                verdict
            }
            Verdict::Unavailable(_) if self.grace == Grace::UntilNextUpdate => match cache.get(&key) {
                Some(e) => {
                    tracing::warn!(verdict = "good", "platform unavailable: cached verdict used (grace)");
                    Verdict::Good {
                        service_id: e.service_id.clone(),
                        next_update: Some(e.next_update),
                        reissued: false,
                    }
                }
                None => verdict,
            },
            Verdict::Unavailable(_) => verdict,
            _ => {
                cache.remove(&key);
                verdict
            }
        }
    }
}

impl<P: Platform> Platform for Guarded<P> {
    fn challenge(&self) -> BoxFuture<'_, Result<Challenge, PlatformError>> {
        Box::pin(async move {
            match self.inner.challenge().await {
                Ok(c) => Ok(c),
                // With grace, the card still proves possession over a local challenge.
                Err(e) if self.grace == Grace::UntilNextUpdate => {
                    tracing::warn!(error = %e, "platform challenge failed; local challenge for the grace path");
                    Challenge::local()
                }
                Err(e) => Err(e),
            }
        })
    }

    fn verify<'a>(
        &'a self,
        certificate: &'a JpkiCertificate,
        possession: Possession<'a>,
    ) -> BoxFuture<'a, Verdict> {
        Box::pin(self.run(certificate, possession))
    }
}
