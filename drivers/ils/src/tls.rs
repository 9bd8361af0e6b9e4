//! Optional TLS to the library system (rustls, `ring` provider).
//!
//! Product rules:
//! - only the configured CA certificate(s) are trusted: no system or bundled roots, so a
//!   certificate some public CA issued for another purpose does not pass;
//! - TLS 1.2 or 1.3 only;
//! - the certificate must name the configured host (or the explicit `server_name`);
//! - an optional client certificate for servers that require mutual TLS;
//! - every failure is a named [`Sip2Error`] whose message says what to fix.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::rustls::{self, AlertDescription, CertificateError, RootCertStore};
use zeroize::Zeroizing;

use crate::codec::SipDate;
use crate::error::Sip2Error;

/// The kiosk's certificate and key for a library system that requires mutual TLS.
/// `Debug` does not show the key.
#[derive(Clone)]
pub struct ClientIdentity {
    /// PEM: the kiosk's certificate first, then any intermediates.
    pub cert_chain_pem: Vec<u8>,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key_pem: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientIdentity({} bytes of certificate PEM, key redacted)", self.cert_chain_pem.len())
    }
}

impl ClientIdentity {
    pub fn from_pem(cert_chain_pem: impl Into<Vec<u8>>, key_pem: impl Into<Vec<u8>>) -> Self {
        ClientIdentity { cert_chain_pem: cert_chain_pem.into(), key_pem: Zeroizing::new(key_pem.into()) }
    }

    pub fn from_files(cert_chain: &Path, key: &Path) -> Result<Self, Sip2Error> {
        Ok(ClientIdentity {
            cert_chain_pem: read(cert_chain, "client certificate")?,
            key_pem: Zeroizing::new(read(key, "client key")?),
        })
    }
}

/// TLS settings for one library system; maps one-to-one from the kiosk's `[ils] tls`
/// section (`ca_file`, optionally a client certificate).
#[derive(Clone)]
pub struct TlsSettings {
    /// PEM: the CA certificate(s) the library system's certificate must chain to. The
    /// only roots trusted.
    pub ca_pem: Vec<u8>,
    /// Where the CA came from, as staff know it; used in messages
    /// ("… is not signed by ils.ca_file (/etc/kiosk/ils-ca.pem)").
    pub ca_label: String,
    /// Name the certificate must carry; `None`: the host part of the client's `addr`
    /// (a DNS name or an IP address).
    pub server_name: Option<String>,
    /// For servers that require mutual TLS.
    pub client_identity: Option<ClientIdentity>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("ca", &self.ca_label)
            .field("ca_pem_bytes", &self.ca_pem.len())
            .field("server_name", &self.server_name)
            .field("client_identity", &self.client_identity)
            .finish()
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Sip2Error> {
    std::fs::read(path)
        .map_err(|e| Sip2Error::TlsSettings(format!("cannot read the {what} file {}: {e}", path.display())))
}

impl TlsSettings {
    /// Trusts the CA certificate(s) in `ca_pem`; `ca_label` names them in messages.
    pub fn from_ca_pem(ca_pem: impl Into<Vec<u8>>, ca_label: impl Into<String>) -> Self {
        TlsSettings {
            ca_pem: ca_pem.into(),
            ca_label: ca_label.into(),
            server_name: None,
            client_identity: None,
        }
    }

    /// Trusts the CA certificate(s) in the PEM file at `path` (the kiosk's
    /// `ils.ca_file`).
    pub fn from_ca_file(path: &Path) -> Result<Self, Sip2Error> {
        let pem = read(path, "CA certificate (ils.ca_file)")?;
        Ok(Self::from_ca_pem(pem, format!("ils.ca_file ({})", path.display())))
    }

    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    pub fn with_client_identity(mut self, identity: ClientIdentity) -> Self {
        self.client_identity = Some(identity);
        self
    }

    /// Builds the rustls configuration: fails with [`Sip2Error::TlsSettings`] when the
    /// CA file has no usable certificate or the client identity is unusable. The kiosk
    /// can call this at start-up to refuse a bad configuration early.
    pub fn check(&self) -> Result<(), Sip2Error> {
        self.client_config().map(|_| ())
    }

    fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, Sip2Error> {
        let bad = |what: String| Sip2Error::TlsSettings(what);
        let mut roots = RootCertStore::empty();
        let mut found = 0usize;
        for cert in CertificateDer::pem_slice_iter(&self.ca_pem) {
            let cert = cert.map_err(|e| bad(format!("{} is not a readable PEM file: {e}", self.ca_label)))?;
            found += 1;
            roots.add(cert).map_err(|e| {
                bad(format!("{} holds a certificate that cannot be used as a CA: {e}", self.ca_label))
            })?;
        }
        if found == 0 {
            return Err(bad(format!(
                "{} contains no certificate (expected PEM \"BEGIN CERTIFICATE\" blocks)",
                self.ca_label
            )));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| bad(format!("TLS 1.2/1.3 are not available: {e}")))?
            .with_root_certificates(roots);
        let config = match &self.client_identity {
            None => builder.with_no_client_auth(),
            Some(id) => {
                let chain = CertificateDer::pem_slice_iter(&id.cert_chain_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| bad(format!("the kiosk's client certificate is not readable PEM: {e}")))?;
                if chain.is_empty() {
                    return Err(bad("the kiosk's client certificate file contains no certificate".into()));
                }
                let key = PrivateKeyDer::from_pem_slice(&id.key_pem).map_err(|e| {
                    bad(format!("the kiosk's client key is not a readable PEM private key: {e}"))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    bad(format!("the kiosk's client certificate and key do not go together: {e}"))
                })?
            }
        };
        Ok(Arc::new(config))
    }

    /// The name the certificate must carry: `server_name`, else the host of `addr`.
    fn server_name(&self, addr: &str) -> Result<ServerName<'static>, Sip2Error> {
        let host = match &self.server_name {
            Some(n) => n.as_str(),
            None => host_of(addr),
        };
        ServerName::try_from(host.to_owned()).map_err(|_| {
            Sip2Error::TlsSettings(format!(
                "{host:?} is neither a host name nor an IP address the certificate could be checked against"
            ))
        })
    }
}

/// The host part of `host:port`, `[v6]:port`, or a bare host.
fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(h, _)| h);
    }
    match addr.rsplit_once(':') {
        // A bare IPv6 address has more than one colon and no port.
        Some((h, _)) if !h.contains(':') => h,
        _ => addr,
    }
}

/// Everything a connection needs, built once per client (so a reconnect can resume the
/// TLS session).
#[derive(Clone)]
pub(crate) struct Prepared {
    pub connector: TlsConnector,
    pub name: ServerName<'static>,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prepared({:?})", self.name)
    }
}

pub(crate) fn prepare(settings: &TlsSettings, addr: &str) -> Result<Prepared, Sip2Error> {
    let config = settings.client_config()?;
    Ok(Prepared { connector: TlsConnector::from(config), name: settings.server_name(addr)? })
}

fn utc(t: UnixTime) -> String {
    let secs = i64::try_from(t.as_secs()).unwrap_or(i64::MAX);
    let d = SipDate::from_unix(secs, 0);
    let s = d.as_str();
    // "YYYYMMDD    HHMMSS" → "YYYY-MM-DD HH:MM UTC"
    match (s.get(0..4), s.get(4..6), s.get(6..8), s.get(12..14), s.get(14..16)) {
        (Some(y), Some(m), Some(dd), Some(hh), Some(mm)) => format!("{y}-{m}-{dd} {hh}:{mm} UTC"),
        _ => s.to_owned(),
    }
}

fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// Alerts a server sends when it refuses the kiosk's client certificate (or its lack).
fn is_client_cert_alert(alert: &AlertDescription) -> bool {
    matches!(
        alert,
        AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::AccessDenied
    )
}

/// Names a failed TLS handshake.
pub(crate) fn handshake_error(
    addr: &str,
    settings: &TlsSettings,
    name: &ServerName<'_>,
    e: &io::Error,
) -> Sip2Error {
    let addr = addr.to_owned();
    let Some(err) = rustls_error(e) else {
        return match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
                Sip2Error::TlsClosed { addr }
            }
            _ => Sip2Error::Tls { addr, detail: e.to_string() },
        };
    };
    match err {
        rustls::Error::InvalidCertificate(cert) => certificate_error(addr, settings, name, cert),
        rustls::Error::AlertReceived(alert) if is_client_cert_alert(alert) => {
            Sip2Error::TlsClientCertificateRejected {
                addr,
                alert: format!("{alert:?}"),
                configured: settings.client_identity.is_some(),
            }
        }
        rustls::Error::InvalidMessage(_) => Sip2Error::TlsNotSpoken { addr },
        rustls::Error::PeerIncompatible(p) => Sip2Error::TlsIncompatible { addr, detail: format!("{p:?}") },
        other => Sip2Error::Tls { addr, detail: other.to_string() },
    }
}

fn certificate_error(
    addr: String,
    settings: &TlsSettings,
    name: &ServerName<'_>,
    cert: &CertificateError,
) -> Sip2Error {
    match cert {
        CertificateError::UnknownIssuer => Sip2Error::TlsUntrusted { addr, ca: settings.ca_label.clone() },
        CertificateError::Expired => Sip2Error::TlsCertificateExpired { addr, detail: String::new() },
        CertificateError::ExpiredContext { time, not_after } => Sip2Error::TlsCertificateExpired {
            addr,
            detail: format!(" on {} (the kiosk's clock says {})", utc(*not_after), utc(*time)),
        },
        CertificateError::NotValidYet => Sip2Error::TlsCertificateNotYetValid { addr, detail: String::new() },
        CertificateError::NotValidYetContext { time, not_before } => Sip2Error::TlsCertificateNotYetValid {
            addr,
            detail: format!(" before {} (the kiosk's clock says {})", utc(*not_before), utc(*time)),
        },
        CertificateError::NotValidForName => {
            Sip2Error::TlsNameMismatch { addr, expected: name.to_str().into_owned(), presented: Vec::new() }
        }
        CertificateError::NotValidForNameContext { expected, presented } => Sip2Error::TlsNameMismatch {
            addr,
            expected: expected.to_str().into_owned(),
            presented: presented.iter().map(|p| plain_name(p)).collect(),
        },
        other => Sip2Error::TlsCertificate { addr, detail: format!("{other:?}") },
    }
}

/// Names an I/O error on an established TLS connection when it is a TLS refusal (with
/// TLS 1.3 a server rejects the kiosk's client certificate only after the client has
/// finished its half of the handshake, so the refusal arrives with the first reply).
pub(crate) fn session_error(addr: &str, settings: &TlsSettings, e: &io::Error) -> Option<Sip2Error> {
    match rustls_error(e)? {
        rustls::Error::AlertReceived(alert) if is_client_cert_alert(alert) => {
            Some(Sip2Error::TlsClientCertificateRejected {
                addr: addr.to_owned(),
                alert: format!("{alert:?}"),
                configured: settings.client_identity.is_some(),
            })
        }
        _ => None,
    }
}

/// rustls lists the certificate's names as `DnsName("ils.example.org")` or
/// `IpAddress(10.0.0.5)`; staff need the bare name.
fn plain_name(presented: &str) -> String {
    match presented.split_once('(') {
        Some((_, rest)) if presented.ends_with(')') => {
            rest.trim_end_matches(')').trim_matches('"').to_owned()
        }
        _ => presented.to_owned(),
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn host_is_taken_from_the_address() {
        assert_eq!(host_of("ils.example.org:6001"), "ils.example.org");
        assert_eq!(host_of("127.0.0.1:6001"), "127.0.0.1");
        assert_eq!(host_of("[::1]:6001"), "::1");
        assert_eq!(host_of("ils.example.org"), "ils.example.org");
        assert_eq!(host_of("::1"), "::1");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_by_name() {
        let err = TlsSettings::from_ca_pem(b"not a certificate\n".to_vec(), "ils.ca_file (/x.pem)")
            .check()
            .unwrap_err();
        assert!(matches!(err, Sip2Error::TlsSettings(_)), "{err}");
        assert!(err.to_string().contains("ils.ca_file (/x.pem) contains no certificate"), "{err}");
    }

    #[test]
    fn a_missing_ca_file_is_refused_by_name() {
        let err = TlsSettings::from_ca_file(Path::new("/nonexistent/ils-ca.pem")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/ils-ca.pem"), "{err}");
    }

    #[test]
    fn presented_names_are_bare() {
        assert_eq!(plain_name("DnsName(\"ils.example.org\")"), "ils.example.org");
        assert_eq!(plain_name("IpAddress(10.0.0.5)"), "10.0.0.5");
        assert_eq!(plain_name("ils.example.org"), "ils.example.org");
    }

    #[test]
    fn utc_dates_are_readable() {
        assert_eq!(
            utc(UnixTime::since_unix_epoch(std::time::Duration::from_secs(978_307_200))),
            "2001-01-01 00:00 UTC"
        );
    }

    #[test]
    fn the_client_key_is_not_in_debug_output() {
        let id = ClientIdentity::from_pem(b"cert".to_vec(), b"-----BEGIN PRIVATE KEY-----secret".to_vec());
        assert!(
            !format!("{:?}", TlsSettings::from_ca_pem(vec![], "x").with_client_identity(id))
                .contains("secret")
        );
    }
}
