//! The user-authentication certificate: DER parsing, the card's signature, the chain to
//! the configured JPKI CA certificates, and the keyed hash of the serial that the link
//! store uses instead of the serial in clear.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

/// sha256WithRSAEncryption.
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";

/// Why a certificate cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("the certificate is not valid DER X.509")]
    NotDer,
    #[error("the certificate's key is not an RSA key")]
    NotRsa,
    #[error("the certificate is signed with an algorithm other than sha256WithRSAEncryption")]
    UnsupportedAlgorithm,
    #[error("the signature does not match the certificate's public key: not the genuine card")]
    BadSignature,
    #[error("no configured JPKI CA certificate signed this certificate")]
    UntrustedIssuer,
    #[error("the certificate is not valid yet")]
    NotYetValid,
    #[error("the certificate has expired")]
    Expired,
}

/// The serial number (発行番号) of a certificate: opaque bytes, compared as bytes. Its
/// `Debug` is redacted: it is personal data and never logged in clear.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertificateSerial(Vec<u8>);

impl CertificateSerial {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        CertificateSerial(bytes.to_vec())
    }

    /// The DER content octets of the serial (as the CA encoded them).
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 of the serial under the kiosk's link-store key: the only form in which
    /// the serial is stored or sent.
    pub fn keyed_hash(&self, key: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length; the error branch cannot happen.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return [0; 32] };
        mac.update(&self.0);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for CertificateSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateSerial({} bytes, redacted)", self.0.len())
    }
}

/// A parsed X.509 certificate with an RSA key (the card's, or a CA's).
#[derive(Clone)]
pub struct JpkiCertificate {
    der: Vec<u8>,
    cert: Certificate,
    key: RsaPublicKey,
}

impl fmt::Debug for JpkiCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JpkiCertificate")
            .field("issuer", &self.issuer())
            .field("der_len", &self.der.len())
            .finish_non_exhaustive()
    }
}

impl JpkiCertificate {
    /// Parses a DER certificate. Anything but DER X.509 with an RSA key is an error.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let cert = Certificate::from_der(der).map_err(|_| CertError::NotDer)?;
        let spki = cert.tbs_certificate.subject_public_key_info.to_der().map_err(|_| CertError::NotDer)?;
        let key = RsaPublicKey::from_public_key_der(&spki).map_err(|_| CertError::NotRsa)?;
        Ok(JpkiCertificate { der: der.to_vec(), cert, key })
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The issuer DN, RFC 4514 style (e.g. `C=JP,O=JPKI,…`; the order is as printed by
    /// `x509-cert`).
    pub fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// The subject DN. For the auth certificate it is `C=JP, CN=<opaque>`: no name.
    pub fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    pub fn serial(&self) -> CertificateSerial {
        CertificateSerial::from_bytes(self.cert.tbs_certificate.serial_number.as_bytes())
    }

    /// Not before, as time since the Unix epoch.
    pub fn not_before(&self) -> Duration {
        self.cert.tbs_certificate.validity.not_before.to_unix_duration()
    }

    /// Not after, as time since the Unix epoch.
    pub fn not_after(&self) -> Duration {
        self.cert.tbs_certificate.validity.not_after.to_unix_duration()
    }

    pub fn public_key(&self) -> &RsaPublicKey {
        &self.key
    }

    /// Checks `now` (since the Unix epoch) against the validity period.
    pub fn check_validity(&self, now: Duration) -> Result<(), CertError> {
        if now < self.not_before() {
            Err(CertError::NotYetValid)
        } else if now > self.not_after() {
            Err(CertError::Expired)
        } else {
            Ok(())
        }
    }

    /// Verifies an RSA PKCS#1 v1.5 signature over SHA-256 `digest` with this
    /// certificate's key (what the card returns for `80 2A 00 80`).
    pub fn verify_sha256(&self, digest: &[u8; 32], signature: &[u8]) -> Result<(), CertError> {
        self.key.verify(Pkcs1v15Sign::new::<Sha256>(), digest, signature).map_err(|_| CertError::BadSignature)
    }

    /// Verifies a signature over SHA-256(`message`).
    pub fn verify_message(&self, message: &[u8], signature: &[u8]) -> Result<(), CertError> {
        self.verify_sha256(&Sha256::digest(message).into(), signature)
    }

    /// Whether `issuer`'s key made this certificate's signature.
    pub fn is_signed_by(&self, issuer: &JpkiCertificate) -> bool {
        if self.cert.signature_algorithm.oid.to_string() != SHA256_WITH_RSA {
            return false;
        }
        let Ok(tbs) = self.cert.tbs_certificate.to_der() else { return false };
        let Some(sig) = self.cert.signature.as_bytes() else { return false };
        issuer.verify_message(&tbs, sig).is_ok()
    }

    /// Verifies the chain to one of the configured CA certificates and both validity
    /// periods at `now`. Several CA generations share one DN, so the issuer is chosen by
    /// signature, not by name. Returns the index of the CA that signed.
    pub fn verify_chain(&self, cas: &[JpkiCertificate], now: Duration) -> Result<usize, CertError> {
        if self.cert.signature_algorithm.oid.to_string() != SHA256_WITH_RSA {
            return Err(CertError::UnsupportedAlgorithm);
        }
        let issuer_name = &self.cert.tbs_certificate.issuer;
        let index = cas
            .iter()
            .position(|ca| &ca.cert.tbs_certificate.subject == issuer_name && self.is_signed_by(ca))
            .ok_or(CertError::UntrustedIssuer)?;
        self.check_validity(now)?;
        cas[index].check_validity(now)?;
        Ok(index)
    }
}
