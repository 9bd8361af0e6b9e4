//! Revocation check and patron resolution against the local authentication platform
//! (地方認証プラットフォーム), over TLS on a closed network.
//!
//! One trait, [`Platform`], three back-ends chosen by configuration:
//!
//! | back-end | module | asks the network | patron from |
//! |---|---|---|---|
//! | JSON API (mutual TLS) | [`api`] | platform, for every card | the platform's `serviceId` |
//! | OCSP (RFC 6960, nonce) | [`ocsp`] | responder, for every card | the local [`links::LinkStore`] |
//! | CRL (conditional GET) | [`crl`] | CRL server, on a schedule only | the local [`links::LinkStore`] |
//!
//! Every back-end first checks, itself, the card's signature over the challenge and the
//! certificate chain to the configured JPKI CA(s) ([`proof`]); no verdict of the network
//! is trusted for a card that fails that. [`cache::Guarded`] adds the policies: a bounded
//! in-memory cache and the optional grace period for an unreachable platform.
//!
//! Privacy: nothing about loans is ever sent; logs carry the transaction ID and the
//! verdict, never a certificate, serial or patron number.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

pub mod api;
pub mod cache;
pub mod crl;
mod der;
pub mod error;
pub mod fingerprint;
pub mod links;
pub mod ocsp;
pub mod proof;
pub mod time;
pub mod tls;

pub use error::{CrlError, OcspError, PlatformError, Untrusted};
pub use kiosk_card::cert::JpkiCertificate;

/// A boxed future, so that [`Platform`] stays object-safe (`Box<dyn Platform>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The library's patron number (barcode) for this card. Personal data: `Debug` is
/// redacted; use [`ServiceId::expose`] to hand it to the library system.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServiceId(String);

impl ServiceId {
    /// A patron number: 1 to 64 printable ASCII characters, no spaces.
    pub fn new(barcode: &str) -> Option<Self> {
        let ok = !barcode.is_empty() && barcode.len() <= 64 && barcode.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| ServiceId(barcode.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServiceId(redacted)")
    }
}

/// Where a challenge came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeOrigin {
    /// Issued by the platform (`POST /v1/nonce`); the platform checks it.
    Platform,
    /// Made by the kiosk (OCSP and CRL modes, or the grace path when the platform is
    /// unreachable).
    Local,
}

/// The bytes the card signs to prove possession of its key.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge {
    pub nonce: Vec<u8>,
    /// After this instant the challenge is refused.
    pub expires_at: SystemTime,
    pub origin: ChallengeOrigin,
}

impl fmt::Debug for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge").field("len", &self.nonce.len()).field("origin", &self.origin).finish()
    }
}

impl Challenge {
    /// 32 random bytes, valid for 60 s.
    pub fn local() -> Result<Self, PlatformError> {
        Ok(Challenge {
            nonce: random_bytes::<32>()?.to_vec(),
            expires_at: SystemTime::now() + std::time::Duration::from_secs(60),
            origin: ChallengeOrigin::Local,
        })
    }
}

/// The answer on a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The certificate is valid and not revoked.
    Good {
        /// The patron number for this library, when known (API: the platform's answer;
        /// OCSP/CRL: the link store).
        service_id: Option<ServiceId>,
        /// Until when this answer may be relied on (the grace policy never goes past it).
        next_update: Option<SystemTime>,
        /// The platform followed an old→new serial link after a card re-issue.
        reissued: bool,
    },
    /// Revoked (lost, stolen, or the holder moved away or died).
    Revoked,
    /// The certificate's validity period is over.
    Expired,
    /// Valid, but not linked to a patron of this library.
    NotLinked,
    /// The card's proof failed or the platform refused it: never lend.
    Untrusted(Untrusted),
    /// No trustworthy answer could be had (network, TLS, platform or response fault).
    Unavailable(PlatformError),
}

impl Verdict {
    /// A short word for logs (no personal data).
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Good { .. } => "good",
            Verdict::Revoked => "revoked",
            Verdict::Expired => "expired",
            Verdict::NotLinked => "not-linked",
            Verdict::Untrusted(_) => "untrusted",
            Verdict::Unavailable(_) => "unavailable",
        }
    }
}

/// How the card showed it is the one the certificate names.
#[derive(Clone, Copy, Debug)]
pub enum Possession<'a> {
    /// It signed the challenge with its user-authentication key, after its PIN.
    Proven { challenge: &'a Challenge, signature: &'a [u8] },
    /// The library does not ask for the PIN (`require_pin = false`), so the card was not
    /// asked to sign: the certificate alone is checked (its chain, dates and revocation)
    /// and names the patron. A copy of the certificate would pass: the library accepts
    /// that when it turns the PIN off.
    NotAsked,
}

/// A revocation check and patron resolution service.
///
/// The kiosk asks for a [`Challenge`], has the card sign its nonce (RSA PKCS#1 v1.5
/// SHA-256 with the user-authentication key), then calls [`Platform::verify`] with the
/// proof; without the PIN, with [`Possession::NotAsked`].
pub trait Platform: Send + Sync {
    /// A fresh challenge for the card to sign.
    fn challenge(&self) -> BoxFuture<'_, Result<Challenge, PlatformError>>;

    /// Checks the card's proof (when there is one), then its revocation status, and
    /// resolves the patron.
    fn verify<'a>(
        &'a self,
        certificate: &'a JpkiCertificate,
        possession: Possession<'a>,
    ) -> BoxFuture<'a, Verdict>;
}

/// `N` bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], PlatformError> {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| PlatformError::Config("the system random generator failed".into()))?;
    Ok(out)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses hex (either case).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_rejects_odd_or_non_hex() {
        assert_eq!(unhex(&hex(&[0, 1, 0xab, 0xff])).unwrap(), vec![0, 1, 0xab, 0xff]);
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn service_id_is_redacted_and_validated() {
        let id = ServiceId::new("LIB-000123").unwrap();
        assert_eq!(format!("{id:?}"), "ServiceId(redacted)");
        assert_eq!(id.expose(), "LIB-000123");
        assert!(ServiceId::new("has space").is_none());
        assert!(ServiceId::new("").is_none());
    }
}
