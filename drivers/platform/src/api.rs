//! `api` mode: the platform's JSON API (version 1, under `/v1/`) over HTTPS with
//! mutual TLS. Every request carries `requestInfo` with a fresh UUIDv4 transaction ID;
//! every answer must echo it. Answers with fields outside the v1 contract are refused:
//! the platform must not hand the kiosk data (names, platform-wide IDs) it never asked for.
//!
//! Calls: `POST /v1/nonce`, then `POST /v1/verify` with the certificate, the nonce and
//! the card's signature. A library that does not ask for the PIN sends `POST /v1/status`
//! instead: the same request and answers without `nonce` and `signature` (no
//! `bad-signature` or `nonce-expired` refusals), the certificate's validity and the
//! patron it is linked to.

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::PublicKeyData as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::proof::CardTrust;
use crate::time::{format_rfc3339, parse_rfc3339};
use crate::tls::{Endpoint, http_client, send};
use crate::{
    BoxFuture, Challenge, ChallengeOrigin, JpkiCertificate, Platform, PlatformError, Possession, ServiceId,
    Untrusted, Verdict, hex, random_bytes, unhex,
};

/// The settings of `api` mode.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// The platform's base URL (`https://host:port`), its CA, and the terminal identity.
    pub endpoint: Endpoint,
    /// The terminal ID issued by the municipality.
    pub terminal_id: String,
    /// This library's ID-issuer id (`serviceProvider`).
    pub service_provider: String,
}

/// The JSON API back-end. Build once; it keeps one HTTP client (and its connection).
#[derive(Debug)]
pub struct ApiPlatform {
    client: reqwest::Client,
    config: ApiConfig,
    trust: CardTrust,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestInfo<'a> {
    transaction_id: &'a str,
    sender: &'a str,
    recipient: &'static str,
    ts: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NonceRequest<'a> {
    request_info: RequestInfo<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NonceAnswer {
    transaction_id: String,
    nonce: String,
    expires_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyRequest<'a> {
    request_info: RequestInfo<'a>,
    certificate: String,
    /// The proof, for `/v1/verify`; absent for `/v1/status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    service_provider: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifyGood {
    transaction_id: String,
    status: String,
    checked_at: String,
    next_update: String,
    service_id: Option<String>,
    reissued: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Refusal {
    transaction_id: String,
    reason: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RegisterRequest<'a> {
    request_info: RequestInfo<'a>,
    terminal_id: &'a str,
    password: &'a str,
    fingerprint: String,
    csr: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterAnswer {
    transaction_id: String,
    certificate_chain: String,
}

/// A UUIDv4 from the system CSPRNG.
pub fn transaction_id() -> Result<String, PlatformError> {
    let mut b = random_bytes::<16>()?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    Ok(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

fn request_info<'a>(transaction_id: &'a str, sender: &'a str) -> RequestInfo<'a> {
    RequestInfo { transaction_id, sender, recipient: "platform", ts: format_rfc3339(SystemTime::now()) }
}

fn malformed(e: impl std::fmt::Display) -> PlatformError {
    PlatformError::Malformed(e.to_string())
}

/// Posts JSON; returns the status and the whole body.
async fn post_json(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    url: &str,
    body: &impl Serialize,
) -> Result<(u16, Vec<u8>), PlatformError> {
    let body = serde_json::to_vec(body).map_err(malformed)?;
    let request = client.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    let resp = send(endpoint, request).await?;
    let status = resp.status().as_u16();
    let bytes = crate::tls::read_limited(resp, crate::tls::MAX_ANSWER, endpoint.request_timeout).await?;
    Ok((status, bytes))
}

fn check_tx(expected: &str, got: &str) -> Result<(), PlatformError> {
    if expected == got { Ok(()) } else { Err(PlatformError::TransactionMismatch) }
}

impl ApiPlatform {
    pub fn new(config: ApiConfig, trust: CardTrust) -> Result<Self, PlatformError> {
        if !config.endpoint.url.starts_with("https://") {
            return Err(PlatformError::Config("the platform API must be https".into()));
        }
        if config.endpoint.identity.is_none() {
            return Err(PlatformError::Config(
                "the platform API needs the terminal's client certificate".into(),
            ));
        }
        let client = http_client(&config.endpoint)?;
        Ok(ApiPlatform { client, config, trust })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.endpoint.url)
    }

    /// `POST /v1/nonce`.
    pub async fn nonce(&self) -> Result<Challenge, PlatformError> {
        let tx = transaction_id()?;
        let body = NonceRequest { request_info: request_info(&tx, &self.config.terminal_id) };
        let result = async {
            let (status, bytes) =
                post_json(&self.client, &self.config.endpoint, &self.url("/v1/nonce"), &body).await?;
            interpret_nonce(&tx, status, &bytes, SystemTime::now())
        }
        .await;
        match &result {
            Ok(_) => tracing::info!(transaction = %tx, "platform nonce"),
            Err(e) => tracing::warn!(transaction = %tx, error = %e, "platform nonce failed"),
        }
        result
    }

    async fn ask(&self, cert: &JpkiCertificate, possession: Possession<'_>) -> Verdict {
        if let Err(v) = self.trust.check_possession(cert, possession, SystemTime::now()) {
            return v;
        }
        if let Possession::Proven { challenge, .. } = possession
            && challenge.origin != ChallengeOrigin::Platform
        {
            // The platform only checks its own nonces: with a local one (grace path) it
            // cannot be asked.
            return Verdict::Unavailable(PlatformError::Offline);
        }
        let tx = match transaction_id() {
            Ok(tx) => tx,
            Err(e) => return Verdict::Unavailable(e),
        };
        // With a proof, `/v1/verify`; without (no PIN), `/v1/status`: the certificate's
        // validity and the patron it is linked to, no signature.
        let (path, body) = match possession {
            Possession::Proven { challenge, signature } => (
                "/v1/verify",
                VerifyRequest {
                    request_info: request_info(&tx, &self.config.terminal_id),
                    certificate: B64.encode(cert.der()),
                    nonce: Some(hex(&challenge.nonce)),
                    signature: Some(B64.encode(signature)),
                    service_provider: &self.config.service_provider,
                },
            ),
            Possession::NotAsked => (
                "/v1/status",
                VerifyRequest {
                    request_info: request_info(&tx, &self.config.terminal_id),
                    certificate: B64.encode(cert.der()),
                    nonce: None,
                    signature: None,
                    service_provider: &self.config.service_provider,
                },
            ),
        };
        let verdict = match post_json(&self.client, &self.config.endpoint, &self.url(path), &body).await {
            Ok((status, bytes)) => interpret_verify(&tx, status, &bytes).unwrap_or_else(Verdict::Unavailable),
            Err(e) => Verdict::Unavailable(e),
        };
        match &verdict {
            Verdict::Unavailable(e) => {
                tracing::warn!(transaction = %tx, verdict = verdict.label(), error = %e)
            }
            _ => tracing::info!(transaction = %tx, verdict = verdict.label()),
        }
        verdict
    }
}

/// Reads the answer to `/v1/nonce` (HTTP `status`, body `bytes`) for transaction `tx`,
/// asked at `now`.
///
/// # Errors
/// A body that is not the documented JSON, another transaction's answer, a nonce that is
/// not 32 bytes of hex, maintenance (503) or another HTTP status.
pub fn interpret_nonce(
    tx: &str,
    status: u16,
    bytes: &[u8],
    now: SystemTime,
) -> Result<Challenge, PlatformError> {
    match status {
        200 => {
            let a: NonceAnswer = serde_json::from_slice(bytes).map_err(malformed)?;
            check_tx(tx, &a.transaction_id)?;
            let nonce = unhex(&a.nonce).filter(|n| n.len() == 32).ok_or_else(|| malformed("nonce"))?;
            let expires_at = parse_rfc3339(&a.expires_at).ok_or_else(|| malformed("expiresAt"))?;
            // Never trust a challenge for longer than 60 s, whatever the platform says.
            let expires_at = expires_at.min(now + Duration::from_secs(60));
            Ok(Challenge { nonce, expires_at, origin: ChallengeOrigin::Platform })
        }
        503 => Err(PlatformError::Maintenance),
        other => Err(PlatformError::Http(other)),
    }
}

/// Maps the answer to `/v1/verify` or `/v1/status` (HTTP `status`, body `bytes`) for
/// transaction `tx` onto a verdict.
///
/// # Errors
/// What the caller turns into `Verdict::Unavailable`: a malformed body, another
/// transaction's answer, maintenance, an unexpected HTTP status.
pub fn interpret_verify(tx: &str, status: u16, bytes: &[u8]) -> Result<Verdict, PlatformError> {
    let refusal = || -> Result<Refusal, PlatformError> {
        let r: Refusal = serde_json::from_slice(bytes).map_err(malformed)?;
        check_tx(tx, &r.transaction_id)?;
        Ok(r)
    };
    match status {
        200 => {
            let g: VerifyGood = serde_json::from_slice(bytes).map_err(malformed)?;
            check_tx(tx, &g.transaction_id)?;
            if g.status != "good" {
                return Err(malformed(format!("status {:?}", g.status)));
            }
            parse_rfc3339(&g.checked_at).ok_or_else(|| malformed("checkedAt"))?;
            let next_update = parse_rfc3339(&g.next_update).ok_or_else(|| malformed("nextUpdate"))?;
            let service_id = match g.service_id {
                Some(s) => Some(ServiceId::new(&s).ok_or_else(|| malformed("serviceId"))?),
                None => None,
            };
            Ok(Verdict::Good { service_id, next_update: Some(next_update), reissued: g.reissued })
        }
        401 => match refusal()?.reason.as_str() {
            "revoked" => Ok(Verdict::Revoked),
            "bad-signature" => Ok(Verdict::Untrusted(Untrusted::PlatformRejectedSignature)),
            "nonce-expired" => Ok(Verdict::Untrusted(Untrusted::ChallengeExpired)),
            other => Err(malformed(format!("401 reason {other:?}"))),
        },
        404 => match refusal()?.reason.as_str() {
            // A call the platform does not have (one without `/v1/status`), or this library
            // unknown to it: a setup problem, never the patron's card.
            "no-such-call" => Err(PlatformError::Http(404)),
            "unknown-service-provider" => Err(PlatformError::Config(
                "the platform does not know this library's service_provider_id".into(),
            )),
            _ => Ok(Verdict::NotLinked),
        },
        410 => refusal().map(|_| Verdict::Expired),
        503 => Err(PlatformError::Maintenance),
        other => Err(PlatformError::Http(other)),
    }
}

impl Platform for ApiPlatform {
    fn challenge(&self) -> BoxFuture<'_, Result<Challenge, PlatformError>> {
        Box::pin(self.nonce())
    }

    fn verify<'a>(
        &'a self,
        certificate: &'a JpkiCertificate,
        possession: Possession<'a>,
    ) -> BoxFuture<'a, Verdict> {
        Box::pin(self.ask(certificate, possession))
    }
}

/// What terminal registration needs.
#[derive(Clone, Debug)]
pub struct Registration {
    /// The platform (server authentication only; no client identity yet).
    pub endpoint: Endpoint,
    pub terminal_id: String,
    pub password: Zeroizing<String>,
    /// SHA-256 over the hardware identifiers ([`crate::fingerprint`]).
    pub fingerprint: [u8; 32],
}

/// The terminal's new identity: the chain the platform issued and the key made here.
pub struct Registered {
    pub chain_pem: String,
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registered(..)")
    }
}

impl Registered {
    /// Stores the chain and the key, each atomically with mode 0600.
    pub fn store(&self, cert_path: &Path, key_path: &Path) -> Result<(), PlatformError> {
        crate::links::write_atomic(key_path, &self.key_pem)?;
        crate::links::write_atomic(cert_path, &self.chain_pem)
    }
}

/// `POST /v1/terminals/register`: makes a new P-256 key pair and CSR, sends them with
/// the terminal ID, password and fingerprint, and checks that the certificate returned
/// is for the new key.
pub async fn register(reg: &Registration) -> Result<Registered, PlatformError> {
    let mut endpoint = reg.endpoint.clone();
    endpoint.identity = None;
    let client = http_client(&endpoint)?;
    let key =
        rcgen::KeyPair::generate().map_err(|e| PlatformError::Config(format!("key generation: {e}")))?;
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name.push(rcgen::DnType::CommonName, reg.terminal_id.as_str());
    let csr = params.serialize_request(&key).map_err(|e| PlatformError::Config(format!("CSR: {e}")))?;
    let csr = csr.pem().map_err(|e| PlatformError::Config(format!("CSR: {e}")))?;
    let tx = transaction_id()?;
    let body = RegisterRequest {
        request_info: request_info(&tx, &reg.terminal_id),
        terminal_id: &reg.terminal_id,
        password: &reg.password,
        fingerprint: hex(&reg.fingerprint),
        csr,
    };
    let url = format!("{}/v1/terminals/register", endpoint.url);
    let (status, bytes) = post_json(&client, &endpoint, &url, &body).await?;
    tracing::info!(transaction = %tx, status, "terminal registration");
    match status {
        200 => {}
        401 => return Err(PlatformError::RegistrationRefused("wrong terminal ID or password".into())),
        409 => {
            return Err(PlatformError::RegistrationRefused(
                "this terminal ID is registered with another fingerprint".into(),
            ));
        }
        503 => return Err(PlatformError::Maintenance),
        other => return Err(PlatformError::Http(other)),
    }
    let a: RegisterAnswer = serde_json::from_slice(&bytes).map_err(malformed)?;
    check_tx(&tx, &a.transaction_id)?;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let leaf = CertificateDer::pem_slice_iter(a.certificate_chain.as_bytes())
        .next()
        .ok_or_else(|| malformed("empty certificate chain"))?
        .map_err(malformed)?;
    use x509_cert::der::{Decode, Encode};
    let leaf = x509_cert::Certificate::from_der(&leaf).map_err(malformed)?;
    let spki = leaf.tbs_certificate.subject_public_key_info.to_der().map_err(malformed)?;
    if spki != key.subject_public_key_info() {
        return Err(malformed("the issued certificate is not for the terminal's new key"));
    }
    Ok(Registered { chain_pem: a.certificate_chain, key_pem: Zeroizing::new(key.serialize_pem()) })
}

/// When the first certificate of a PEM chain (the stored terminal certificate) stops
/// being valid, for the admin screen.
pub fn leaf_not_after(chain_pem: &[u8]) -> Result<std::time::SystemTime, PlatformError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use x509_cert::der::Decode;
    let leaf = CertificateDer::pem_slice_iter(chain_pem)
        .next()
        .ok_or_else(|| malformed("no certificate in the file"))?
        .map_err(malformed)?;
    let leaf = x509_cert::Certificate::from_der(&leaf).map_err(malformed)?;
    Ok(std::time::UNIX_EPOCH + leaf.tbs_certificate.validity.not_after.to_unix_duration())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_are_uuid_v4() {
        let a = transaction_id().unwrap();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(a, transaction_id().unwrap());
    }

    #[test]
    fn verify_answers_are_mapped_and_checked() {
        let good = br#"{"transactionId":"t","status":"good","checkedAt":"2026-01-01T00:00:00Z","nextUpdate":"2026-01-01T01:00:00Z","serviceId":"LIB-1","reissued":true}"#;
        let v = interpret_verify("t", 200, good).unwrap();
        assert!(matches!(v, Verdict::Good { reissued: true, service_id: Some(_), next_update: Some(_) }));
        assert_eq!(interpret_verify("u", 200, good), Err(PlatformError::TransactionMismatch));
        let extra = br#"{"transactionId":"t","status":"good","checkedAt":"2026-01-01T00:00:00Z","nextUpdate":"2026-01-01T01:00:00Z","serviceId":null,"reissued":false,"name":"x"}"#;
        assert!(matches!(interpret_verify("t", 200, extra), Err(PlatformError::Malformed(_))));
        let missing = br#"{"transactionId":"t","checkedAt":"2026-01-01T00:00:00Z","nextUpdate":"2026-01-01T01:00:00Z","reissued":false}"#;
        assert!(matches!(interpret_verify("t", 200, missing), Err(PlatformError::Malformed(_))));
        assert_eq!(
            interpret_verify("t", 401, br#"{"transactionId":"t","reason":"revoked"}"#),
            Ok(Verdict::Revoked)
        );
        assert_eq!(
            interpret_verify("t", 404, br#"{"transactionId":"t","reason":"not-linked"}"#),
            Ok(Verdict::NotLinked)
        );
        assert_eq!(
            interpret_verify("t", 410, br#"{"transactionId":"t","reason":"expired"}"#),
            Ok(Verdict::Expired)
        );
        assert_eq!(interpret_verify("t", 503, b""), Err(PlatformError::Maintenance));
        assert_eq!(interpret_verify("t", 500, b""), Err(PlatformError::Http(500)));
    }
}
