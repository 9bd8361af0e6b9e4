//! The checks the kiosk makes itself before trusting any verdict: the card's signature
//! over the challenge, the chain to a configured JPKI CA (chosen by signature: several
//! CA generations share one name), and the validity dates.

use std::time::{SystemTime, UNIX_EPOCH};

use kiosk_card::cert::{CertError, JpkiCertificate};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

use crate::{Challenge, PlatformError, Possession, Untrusted, Verdict};

/// The configured JPKI CA certificates (all generations).
#[derive(Clone, Debug)]
pub struct CardTrust {
    cas: Vec<JpkiCertificate>,
    /// Each CA's subject DN, DER (CRL issuer matching).
    subjects: Vec<Vec<u8>>,
    /// Each CA parsed (OCSP CertID and responder checks).
    parsed: Vec<Certificate>,
}

impl CardTrust {
    /// From PEM text holding one or more CA certificates.
    pub fn from_pem(pem: &[u8]) -> Result<Self, PlatformError> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let ders: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(pem)
            .map(|c| c.map(|c| c.to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|e| PlatformError::Config(format!("JPKI CA file: {e}")))?;
        Self::from_ders(&ders)
    }

    pub fn from_ders(ders: &[Vec<u8>]) -> Result<Self, PlatformError> {
        if ders.is_empty() {
            return Err(PlatformError::Config("no JPKI CA certificate configured".into()));
        }
        let mut trust = CardTrust { cas: Vec::new(), subjects: Vec::new(), parsed: Vec::new() };
        for der in ders {
            let bad = |e: String| PlatformError::Config(format!("JPKI CA certificate: {e}"));
            let ca = JpkiCertificate::from_der(der).map_err(|e| bad(e.to_string()))?;
            let parsed = Certificate::from_der(der).map_err(|e| bad(e.to_string()))?;
            let subject = parsed.tbs_certificate.subject.to_der().map_err(|e| bad(e.to_string()))?;
            trust.cas.push(ca);
            trust.subjects.push(subject);
            trust.parsed.push(parsed);
        }
        Ok(trust)
    }

    pub fn cas(&self) -> &[JpkiCertificate] {
        &self.cas
    }

    pub(crate) fn subject_der(&self, index: usize) -> Option<&[u8]> {
        self.subjects.get(index).map(Vec::as_slice)
    }

    pub(crate) fn parsed(&self, index: usize) -> Option<&Certificate> {
        self.parsed.get(index)
    }

    /// Checks the proof at `now`. `Ok(index)` of the CA that issued the card; `Err` is
    /// the verdict to return without asking the network.
    pub fn check(
        &self,
        cert: &JpkiCertificate,
        challenge: &Challenge,
        signature: &[u8],
        now: SystemTime,
    ) -> Result<usize, Verdict> {
        if now > challenge.expires_at {
            return Err(Verdict::Untrusted(Untrusted::ChallengeExpired));
        }
        cert.verify_message(&challenge.nonce, signature)
            .map_err(|_| Verdict::Untrusted(Untrusted::BadSignature))?;
        self.check_certificate(cert, now)
    }

    /// [`CardTrust::check`] for a proof, or the certificate alone when the card was not
    /// asked to sign.
    pub fn check_possession(
        &self,
        cert: &JpkiCertificate,
        possession: Possession<'_>,
        now: SystemTime,
    ) -> Result<usize, Verdict> {
        match possession {
            Possession::Proven { challenge, signature } => self.check(cert, challenge, signature, now),
            Possession::NotAsked => self.check_certificate(cert, now),
        }
    }

    /// The chain to a configured CA and the validity dates: the index of the CA.
    pub fn check_certificate(&self, cert: &JpkiCertificate, now: SystemTime) -> Result<usize, Verdict> {
        let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        cert.verify_chain(&self.cas, since).map_err(|e| match e {
            CertError::Expired => Verdict::Expired,
            CertError::NotYetValid => Verdict::Untrusted(Untrusted::NotYetValid),
            CertError::UntrustedIssuer | CertError::BadSignature => {
                Verdict::Untrusted(Untrusted::UntrustedIssuer)
            }
            CertError::NotDer | CertError::NotRsa | CertError::UnsupportedAlgorithm => {
                Verdict::Untrusted(Untrusted::UnsupportedCertificate)
            }
        })
    }
}

/// The card certificate's issuer DN (DER) and serial content octets: what the link store
/// and the caches hash.
pub(crate) fn issuer_and_serial(cert: &JpkiCertificate) -> (Vec<u8>, Vec<u8>) {
    let issuer = Certificate::from_der(cert.der())
        .ok()
        .and_then(|c| c.tbs_certificate.issuer.to_der().ok())
        .unwrap_or_default();
    (issuer, cert.serial().expose().to_vec())
}
