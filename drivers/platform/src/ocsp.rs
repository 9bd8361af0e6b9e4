//! `ocsp` mode: RFC 6960. The request carries a 32-byte nonce and a SHA-256 CertID; the
//! response is verified here in full: status, response type, signer (the CA itself, or
//! a responder certificate the CA issued with the OCSP-signing EKU, within its validity),
//! signature, nonce echoed, CertID, thisUpdate/nextUpdate within the allowed skew. The
//! patron comes from the local link store, so the responder learns only that *a*
//! certificate was checked.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::Sha256;
use x509_cert::Certificate;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::oid::db::rfc5280::ID_KP_OCSP_SIGNING;
use x509_cert::der::oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
use x509_cert::der::oid::db::rfc6960::ID_PKIX_OCSP_BASIC;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_ocsp::builder::OcspRequestBuilder;
use x509_ocsp::ext::Nonce;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspResponse, OcspResponseStatus, Request, ResponderId,
};

use crate::links::LinkStore;
use crate::proof::CardTrust;
use crate::tls::{Endpoint, http_client};
use crate::{
    BoxFuture, Challenge, JpkiCertificate, OcspError, Platform, PlatformError, Possession, Untrusted,
    Verdict, random_bytes,
};

/// The settings of `ocsp` mode.
#[derive(Clone, Debug)]
pub struct OcspConfig {
    /// The responder (`http://` or `https://`), its TLS CA and optional client identity.
    pub endpoint: Endpoint,
    /// How far thisUpdate may be ahead of, and nextUpdate behind, the kiosk's clock.
    pub skew: Duration,
    /// Refuse responses without the nonce echoed (default true: a response without one
    /// may be a replay).
    pub require_nonce: bool,
}

impl OcspConfig {
    pub fn new(endpoint: Endpoint) -> Self {
        OcspConfig { endpoint, skew: Duration::from_secs(300), require_nonce: true }
    }
}

/// The certificate's status, from a verified response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    Good { next_update: Option<SystemTime> },
    Revoked,
    Unknown,
}

/// What the response must match.
#[derive(Clone, Debug)]
pub struct OcspQuery {
    pub cert_id: CertId,
    pub nonce: Vec<u8>,
    /// The DER request to POST.
    pub der: Vec<u8>,
}

/// Builds a request for `cert` issued by `issuer`, with a fresh 32-byte nonce.
pub fn build_request(issuer: &Certificate, cert: &Certificate) -> Result<OcspQuery, PlatformError> {
    let bad = |e: String| PlatformError::Config(format!("OCSP request: {e}"));
    let nonce = random_bytes::<32>()?.to_vec();
    let req = Request::from_cert::<Sha256>(issuer, cert).map_err(|e| bad(e.to_string()))?;
    let cert_id = req.req_cert.clone();
    let ocsp = OcspRequestBuilder::default()
        .with_request(req)
        .with_extension(Nonce::new(nonce.clone()).map_err(|e| bad(e.to_string()))?)
        .map_err(|e| bad(e.to_string()))?
        .build();
    let der = ocsp.to_der().map_err(|e| bad(e.to_string()))?;
    Ok(OcspQuery { cert_id, nonce, der })
}

fn unix(t: &x509_ocsp::OcspGeneralizedTime) -> SystemTime {
    UNIX_EPOCH + t.0.to_unix_duration()
}

/// Verifies an RSA PKCS#1 v1.5 SHA-256 signature with the key of `signer`.
fn verify_with(signer: &Certificate, alg: &ObjectIdentifier, msg: &[u8], sig: &[u8]) -> bool {
    if *alg != SHA_256_WITH_RSA_ENCRYPTION {
        return false;
    }
    let key = signer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(msg, sig)
        .is_ok()
}

fn key_hash(cert: &Certificate) -> Vec<u8> {
    let key = cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, key).as_ref().to_vec()
}

fn matches_responder(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => *name == cert.tbs_certificate.subject,
        ResponderId::ByKey(hash) => hash.as_bytes() == key_hash(cert).as_slice(),
    }
}

fn within(cert: &Certificate, now: SystemTime) -> bool {
    let v = &cert.tbs_certificate.validity;
    let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    v.not_before.to_unix_duration() <= now && now <= v.not_after.to_unix_duration()
}

fn has_ocsp_signing(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .get::<ExtendedKeyUsage>()
        .ok()
        .flatten()
        .is_some_and(|(_, eku)| eku.0.contains(&ID_KP_OCSP_SIGNING))
}

/// Verifies `response` for `query` against the CA that issued the card, at `now`.
pub fn check_response(
    response: &[u8],
    query: &OcspQuery,
    ca: &Certificate,
    now: SystemTime,
    skew: Duration,
    require_nonce: bool,
) -> Result<OcspStatus, OcspError> {
    let malformed = |e: x509_cert::der::Error| OcspError::Malformed(e.to_string());
    let resp = OcspResponse::from_der(response).map_err(malformed)?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(format!("{:?}", resp.response_status)));
    }
    let bytes = resp.response_bytes.ok_or(OcspError::NotBasic)?;
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(OcspError::NotBasic);
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(malformed)?;
    if basic.signature_algorithm.oid != SHA_256_WITH_RSA_ENCRYPTION {
        return Err(OcspError::UnsupportedAlgorithm);
    }
    let responder = &basic.tbs_response_data.responder_id;
    // The signer: the CA itself, or a delegated responder the CA certified.
    let signer: &Certificate = if matches_responder(responder, ca) {
        ca
    } else {
        let delegated = basic.certs.iter().flatten().find(|c| matches_responder(responder, c));
        let d = delegated.ok_or(OcspError::UnknownSigner)?;
        let tbs = d.tbs_certificate.to_der().map_err(malformed)?;
        let sig = d.signature.as_bytes().ok_or(OcspError::UnknownSigner)?;
        if d.tbs_certificate.issuer != ca.tbs_certificate.subject
            || !verify_with(ca, &d.signature_algorithm.oid, &tbs, sig)
            || !has_ocsp_signing(d)
            || !within(d, now)
        {
            return Err(OcspError::UnknownSigner);
        }
        d
    };
    // Re-encoding is exact: `der` accepts only DER, so the bytes signed are these.
    let tbs = basic.tbs_response_data.to_der().map_err(malformed)?;
    let sig = basic.signature.as_bytes().ok_or(OcspError::BadSignature)?;
    if !verify_with(signer, &basic.signature_algorithm.oid, &tbs, sig) {
        return Err(OcspError::BadSignature);
    }
    match basic.nonce() {
        Some(n) if n.0.as_bytes() == query.nonce.as_slice() => {}
        Some(_) => return Err(OcspError::NonceMismatch),
        None if require_nonce => return Err(OcspError::NonceMissing),
        None => {}
    }
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| r.cert_id == query.cert_id)
        .ok_or(OcspError::CertIdMismatch)?;
    let this_update = unix(&single.this_update);
    if this_update > now + skew {
        return Err(OcspError::Stale);
    }
    let next_update = single.next_update.as_ref().map(unix);
    match next_update {
        Some(next) if next + skew < now => return Err(OcspError::Stale),
        // No nextUpdate: "newer information is always available"; accept only a fresh one.
        None if this_update + skew < now => return Err(OcspError::Stale),
        _ => {}
    }
    Ok(match single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good { next_update },
        CertStatus::Revoked(_) => OcspStatus::Revoked,
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    })
}

/// The OCSP back-end.
#[derive(Debug)]
pub struct OcspPlatform {
    client: reqwest::Client,
    config: OcspConfig,
    trust: CardTrust,
    links: Arc<LinkStore>,
}

impl OcspPlatform {
    pub fn new(config: OcspConfig, trust: CardTrust, links: Arc<LinkStore>) -> Result<Self, PlatformError> {
        let client = http_client(&config.endpoint)?;
        Ok(OcspPlatform { client, config, trust, links })
    }

    /// POSTs the request and returns the raw answer.
    pub async fn fetch(&self, query: &OcspQuery) -> Result<Vec<u8>, PlatformError> {
        let timeout = self.config.endpoint.request_timeout;
        let request = self
            .client
            .post(&self.config.endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/ocsp-request")
            .body(query.der.clone());
        let resp = crate::tls::send(&self.config.endpoint, request).await?;
        match resp.status().as_u16() {
            200 => {}
            503 => return Err(PlatformError::Maintenance),
            other => return Err(PlatformError::Http(other)),
        }
        crate::tls::read_limited(resp, crate::tls::MAX_ANSWER, timeout).await
    }

    async fn ask(&self, cert: &JpkiCertificate, possession: Possession<'_>) -> Verdict {
        let ca_index = match self.trust.check_possession(cert, possession, SystemTime::now()) {
            Ok(i) => i,
            Err(v) => return v,
        };
        let (Some(ca), Ok(card)) = (self.trust.parsed(ca_index), Certificate::from_der(cert.der())) else {
            return Verdict::Untrusted(Untrusted::UnsupportedCertificate);
        };
        let query = match build_request(ca, &card) {
            Ok(q) => q,
            Err(e) => return Verdict::Unavailable(e),
        };
        let verdict = match self.fetch(&query).await {
            Err(e) => Verdict::Unavailable(e),
            Ok(body) => match check_response(
                &body,
                &query,
                ca,
                SystemTime::now(),
                self.config.skew,
                self.config.require_nonce,
            ) {
                Err(e) => Verdict::Unavailable(PlatformError::Ocsp(e)),
                Ok(OcspStatus::Revoked) => Verdict::Revoked,
                Ok(OcspStatus::Unknown) => Verdict::Untrusted(Untrusted::UnknownToPlatform),
                Ok(OcspStatus::Good { next_update }) => match self.links.resolve(cert) {
                    Some(id) => Verdict::Good { service_id: Some(id), next_update, reissued: false },
                    None => Verdict::NotLinked,
                },
            },
        };
        match &verdict {
            Verdict::Unavailable(e) => tracing::warn!(verdict = verdict.label(), error = %e, "ocsp check"),
            _ => tracing::info!(verdict = verdict.label(), "ocsp check"),
        }
        verdict
    }
}

impl Platform for OcspPlatform {
    fn challenge(&self) -> BoxFuture<'_, Result<Challenge, PlatformError>> {
        Box::pin(async { Challenge::local() })
    }

    fn verify<'a>(
        &'a self,
        certificate: &'a JpkiCertificate,
        possession: Possession<'a>,
    ) -> BoxFuture<'a, Verdict> {
        Box::pin(self.ask(certificate, possession))
    }
}
