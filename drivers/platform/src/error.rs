//! Named errors, each with a message staff can act on. None carries personal data.

use std::time::Duration;

/// Why a card's proof or the platform's answer refuses the card (never lend).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    #[error("the card's signature over the challenge does not verify: not the genuine card")]
    BadSignature,
    #[error("the card's certificate does not chain to a configured JPKI CA")]
    UntrustedIssuer,
    #[error("the card's certificate is not valid yet")]
    NotYetValid,
    #[error("the card's certificate is not a usable RSA sha256WithRSA certificate")]
    UnsupportedCertificate,
    #[error("the challenge expired before the card's answer was checked")]
    ChallengeExpired,
    #[error("the platform refused the card's signature")]
    PlatformRejectedSignature,
    #[error("the responder does not know this certificate")]
    UnknownToPlatform,
}

impl Untrusted {
    pub fn staff_message(&self) -> &'static str {
        match self {
            Untrusted::BadSignature | Untrusted::PlatformRejectedSignature => {
                "The card could not prove it is genuine. Ask the patron to use a library card or see the counter."
            }
            Untrusted::UntrustedIssuer | Untrusted::UnsupportedCertificate | Untrusted::UnknownToPlatform => {
                "This card's certificate is not from a trusted JPKI CA (check the configured CA certificates)."
            }
            Untrusted::NotYetValid => "The card's certificate is not valid yet: check the kiosk's clock.",
            Untrusted::ChallengeExpired => "The check took too long. Ask the patron to try again.",
        }
    }
}

/// An OCSP response that cannot be trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OcspError {
    #[error("the response is not valid DER OCSP: {0}")]
    Malformed(String),
    #[error("the responder answered status {0}")]
    NotSuccessful(String),
    #[error("the response type is not id-pkix-ocsp-basic")]
    NotBasic,
    #[error("the response is signed with an unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("the response's signer is neither the CA nor a responder certified by it for OCSP signing")]
    UnknownSigner,
    #[error("the response's signature does not verify")]
    BadSignature,
    #[error("the response carries no nonce (a replayed or pre-produced response)")]
    NonceMissing,
    #[error("the response's nonce is not the one sent")]
    NonceMismatch,
    #[error("the response is not about the certificate asked for")]
    CertIdMismatch,
    #[error("the response is stale (nextUpdate passed) or from the future")]
    Stale,
}

/// A CRL that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrlError {
    #[error("the CRL is not valid DER: {0}")]
    Malformed(String),
    #[error("the CRL is signed with an unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("no configured CA signed the CRL (bad signature or wrong issuer)")]
    BadSignature,
    #[error("the CRL is past its nextUpdate")]
    Stale,
    #[error("the CRL's thisUpdate is in the future")]
    NotYetValid,
    #[error("delta CRLs are not supported")]
    UnsupportedDelta,
    #[error("the CRL has an unsupported critical extension")]
    UnsupportedCriticalExtension,
    #[error("no CRL has been loaded yet")]
    NoCrl,
    #[error("the CRL is from another CA generation than the card")]
    OtherIssuer,
    #[error("reading or storing the CRL failed: {0}")]
    Io(String),
}

/// Why no trustworthy answer could be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("the platform's TLS certificate is not trusted: {0}")]
    ServerCertificate(String),
    #[error("the platform refused this terminal's client certificate: {0}")]
    ClientCertificateRefused(String),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("could not connect to the platform: {0}")]
    Connect(String),
    #[error("the platform did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the platform is in maintenance (HTTP 503)")]
    Maintenance,
    #[error("the platform answered HTTP {0}")]
    Http(u16),
    #[error("the platform's answer was cut short")]
    Truncated,
    #[error("the platform's answer is malformed: {0}")]
    Malformed(String),
    #[error("the platform's answer belongs to another transaction")]
    TransactionMismatch,
    #[error("the platform's answer is not trustworthy: {0}")]
    Ocsp(#[from] OcspError),
    #[error("CRL: {0}")]
    Crl(#[from] CrlError),
    #[error("the platform could not be asked (no platform challenge)")]
    Offline,
    #[error("terminal registration refused: {0}")]
    RegistrationRefused(String),
    #[error("this kiosk is not registered with the platform yet")]
    NotRegistered,
    #[error("link store: {0}")]
    LinkStore(String),
    #[error("configuration: {0}")]
    Config(String),
}

impl PlatformError {
    /// What staff should do (shown in the admin menu and on the refusal screen's staff
    /// view).
    pub fn staff_message(&self) -> &'static str {
        match self {
            PlatformError::ServerCertificate(_) => {
                "The platform presented a certificate the kiosk does not trust (wrong CA or expired). \
                 Card checks are refused; call IT. Library cards still work."
            }
            PlatformError::ClientCertificateRefused(_) => {
                "The platform refused this kiosk's terminal certificate: register the terminal again \
                 from the admin menu. Library cards still work."
            }
            PlatformError::Tls(_) => {
                "The secure connection to the platform failed (protocol mismatch). Call IT. \
                 Library cards still work."
            }
            PlatformError::Connect(_) | PlatformError::Timeout(_) | PlatformError::Offline => {
                "The platform cannot be reached (network). Card checks are refused until it is back; \
                 library cards still work."
            }
            PlatformError::Maintenance => {
                "The platform is in maintenance. Card checks resume when it is back; library cards still work."
            }
            PlatformError::Http(_)
            | PlatformError::Truncated
            | PlatformError::Malformed(_)
            | PlatformError::TransactionMismatch => {
                "The platform gave an answer the kiosk cannot use. Card checks are refused; call IT if it \
                 persists. Library cards still work."
            }
            PlatformError::Ocsp(_) => {
                "The revocation responder's answer failed verification (possible attack or misconfiguration). \
                 Card checks are refused; call IT. Library cards still work."
            }
            PlatformError::Crl(CrlError::Stale | CrlError::NoCrl) => {
                "The kiosk has no current revocation list (download failing). Card checks are refused; \
                 check the network. Library cards still work."
            }
            PlatformError::Crl(_) => {
                "The revocation list failed verification. Card checks are refused; call IT. \
                 Library cards still work."
            }
            PlatformError::RegistrationRefused(_) => {
                "Registration refused: check the terminal ID and password issued by the municipality. \
                 'Registered with another fingerprint' means the hardware changed: ask the municipality to reset it."
            }
            PlatformError::NotRegistered => {
                "This kiosk is not registered with the platform yet: open the staff menu, Registration, \
                 and press Register this terminal. Library cards still work."
            }
            PlatformError::LinkStore(_) => "The kiosk's link store cannot be read or written. Call IT.",
            PlatformError::Config(_) => "The platform settings are wrong. Call IT.",
        }
    }

    /// Classifies a reqwest error by walking its source chain for the rustls error.
    pub(crate) fn from_reqwest(err: &reqwest::Error, timeout: Duration) -> Self {
        if err.is_timeout() {
            return PlatformError::Timeout(timeout);
        }
        if let Some(tls) = find_rustls_error(err) {
            return classify_rustls(tls);
        }
        let text = chain_text(err);
        if err.is_body() || err.is_decode() {
            return PlatformError::Truncated;
        }
        if text.contains("timed out") {
            return PlatformError::Timeout(timeout);
        }
        if err.is_connect() {
            return PlatformError::Connect(text);
        }
        if text.contains("connection closed before message completed")
            || text.contains("unexpected end of file")
            || text.contains("IncompleteMessage")
        {
            // Closed before the headers: TLS 1.3 reports a refused client certificate
            // only here (the alert may be lost), and a dropped connection looks the same.
            return PlatformError::Truncated;
        }
        PlatformError::Connect(text)
    }
}

fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cur = e.source();
    }
    text
}

fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // io::Error::source() skips the wrapped error itself: look inside.
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
        {
            if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                return Some(tls);
            }
            if let Some(found) = find_rustls_error(inner) {
                return Some(found);
            }
        }
        cur = e.source();
    }
    None
}

pub(crate) fn classify_rustls(err: &rustls::Error) -> PlatformError {
    use rustls::AlertDescription as A;
    match err {
        rustls::Error::InvalidCertificate(why) => PlatformError::ServerCertificate(format!("{why:?}")),
        rustls::Error::AlertReceived(
            alert @ (A::BadCertificate
            | A::CertificateRequired
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied),
        ) => PlatformError::ClientCertificateRefused(format!("{alert:?}")),
        other => PlatformError::Tls(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_staff_message() {
        let all = [
            PlatformError::ServerCertificate(String::new()),
            PlatformError::ClientCertificateRefused(String::new()),
            PlatformError::Tls(String::new()),
            PlatformError::Timeout(Duration::from_secs(5)),
            PlatformError::Maintenance,
            PlatformError::Truncated,
            PlatformError::Ocsp(OcspError::NonceMissing),
            PlatformError::Crl(CrlError::Stale),
            PlatformError::Crl(CrlError::BadSignature),
            PlatformError::NotRegistered,
        ];
        for e in all {
            assert!(e.staff_message().len() > 20, "{e}");
        }
    }

    #[test]
    fn rustls_alerts_are_classified() {
        let e = classify_rustls(&rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired));
        assert!(matches!(e, PlatformError::ClientCertificateRefused(_)));
        let e = classify_rustls(&rustls::Error::InvalidCertificate(rustls::CertificateError::Expired));
        assert!(matches!(e, PlatformError::ServerCertificate(_)));
    }
}
