//! The simulator's test PKI, made at start with rcgen: the platform's TLS CA, server
//! certificates (good, expired, from a stranger CA), terminal client certificates, and
//! JPKI card certificates issued by the JPKI test CA the virtual card shares
//! ([`crate::card::pki::TestPki::shared`]).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};

use crate::card::pki::{PkiError, TestPki, Ymd, issuer_dn};

/// A certificate chain and key, PEM.
#[derive(Clone, Debug)]
pub struct TlsIdentity {
    pub chain_pem: String,
    pub key_pem: String,
}

/// The platform's TLS PKI.
pub struct PlatformPki {
    /// The platform CA the kiosk trusts (PEM).
    pub ca_pem: String,
    pub(crate) ca: Issuer<'static, KeyPair>,
    pub server: TlsIdentity,
    pub expired_server: TlsIdentity,
    /// A server certificate from a CA the kiosk does not trust.
    pub stranger_server: TlsIdentity,
    /// A server certificate from the trusted CA, for another host name.
    pub other_name_server: TlsIdentity,
    /// The stranger CA (PEM), for tests that need to trust it explicitly.
    pub stranger_ca_pem: String,
    /// A registered terminal's client identity.
    pub terminal: TlsIdentity,
    /// A client identity from the stranger CA (refused by the platform).
    pub stranger_terminal: TlsIdentity,
}

impl std::fmt::Debug for PlatformPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformPki").finish_non_exhaustive()
    }
}

fn make_ca(cn: &str) -> Result<(Issuer<'static, KeyPair>, String), rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let cert = p.self_signed(&key)?;
    Ok((Issuer::new(p, key), cert.pem()))
}

fn leaf(
    issuer: &Issuer<'static, KeyPair>,
    issuer_pem: &str,
    cn: &str,
    server: bool,
    not_after: Ymd,
) -> Result<TlsIdentity, rcgen::Error> {
    leaf_named(issuer, issuer_pem, cn, server.then_some("localhost"), not_after)
}

/// A client certificate, or a server certificate for `server_name` (and 127.0.0.1 when
/// that is `localhost`).
fn leaf_named(
    issuer: &Issuer<'static, KeyPair>,
    issuer_pem: &str,
    cn: &str,
    server_name: Option<&str>,
    not_after: Ymd,
) -> Result<TlsIdentity, rcgen::Error> {
    let server = server_name.is_some();
    let key = KeyPair::generate()?;
    let mut p = CertificateParams::new(server_name.map(str::to_owned).into_iter().collect::<Vec<_>>())?;
    p.distinguished_name.push(DnType::CommonName, cn);
    if server_name == Some("localhost") {
        p.subject_alt_names.push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
    p.extended_key_usages =
        vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = p.signed_by(&key, issuer)?;
    Ok(TlsIdentity { chain_pem: format!("{}{issuer_pem}", cert.pem()), key_pem: key.serialize_pem() })
}

impl PlatformPki {
    pub fn generate() -> Result<Self, rcgen::Error> {
        let (ca, ca_pem) = make_ca("Test Platform CA")?;
        let (stranger, stranger_ca_pem) = make_ca("Stranger CA")?;
        Ok(PlatformPki {
            server: leaf(&ca, &ca_pem, "localhost", true, (2099, 1, 1))?,
            expired_server: leaf(&ca, &ca_pem, "localhost", true, (2021, 1, 1))?,
            stranger_server: leaf(&stranger, &stranger_ca_pem, "localhost", true, (2099, 1, 1))?,
            other_name_server: leaf_named(
                &ca,
                &ca_pem,
                "platform.other.invalid",
                Some("platform.other.invalid"),
                (2099, 1, 1),
            )?,
            terminal: leaf(&ca, &ca_pem, "kiosk-01", false, (2099, 1, 1))?,
            stranger_terminal: leaf(&stranger, &stranger_ca_pem, "kiosk-01", false, (2099, 1, 1))?,
            stranger_ca_pem,
            ca,
            ca_pem,
        })
    }

    /// A client identity for `cn` from the platform CA (a device of the shared link
    /// store logs in as the role its certificate names).
    pub fn client(&self, cn: &str) -> Result<TlsIdentity, rcgen::Error> {
        leaf(&self.ca, &self.ca_pem, cn, false, (2099, 1, 1))
    }

    /// One PKI per process (tests share it).
    pub fn shared() -> Result<&'static PlatformPki, &'static rcgen::Error> {
        static PKI: OnceLock<Result<PlatformPki, rcgen::Error>> = OnceLock::new();
        PKI.get_or_init(PlatformPki::generate).as_ref()
    }
}

/// A virtual card's user-authentication certificate and the key that signs with it.
#[derive(Clone)]
pub struct TestCard {
    pub cert_der: Vec<u8>,
    key: RsaPrivateKey,
}

impl std::fmt::Debug for TestCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCard").finish_non_exhaustive()
    }
}

impl TestCard {
    /// Issues a card certificate with `serial` from the shared JPKI test CA, reusing the
    /// shared PKI's user key (key generation is slow; the serial is what matters here).
    pub fn issue(serial: &[u8], not_before: Ymd, not_after: Ymd) -> Result<Self, PkiError> {
        let jpki = TestPki::shared().map_err(|e| PkiError::Rcgen(rcgen::Error::PemError(e.to_string())))?;
        Self::issue_by(jpki, serial, not_before, not_after)
    }

    pub fn issue_by(
        jpki: &TestPki,
        serial: &[u8],
        not_before: Ymd,
        not_after: Ymd,
    ) -> Result<Self, PkiError> {
        let ca_pair = KeyPair::try_from(jpki.ca_key.to_pkcs8_der()?.as_bytes())?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = issuer_dn();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = Issuer::new(ca_params, ca_pair);
        let user_pair = KeyPair::try_from(jpki.user_key.to_pkcs8_der()?.as_bytes())?;
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CountryName, "JP");
        p.distinguished_name.push(DnType::CommonName, "997794E9AGCIEG13221003A");
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
        p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        p.serial_number = Some(SerialNumber::from_slice(serial));
        let cert = p.signed_by(&user_pair, &issuer)?;
        Ok(TestCard { cert_der: cert.der().to_vec(), key: jpki.user_key.clone() })
    }

    /// The card's answer to the challenge: RSA PKCS#1 v1.5 over SHA-256(`message`).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let digest = Sha256::digest(message);
        self.key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).unwrap_or_default()
    }
}

/// Signs `tbs` with the JPKI CA key (sha256WithRSA): for CRLs.
pub fn jpki_sign(jpki: &TestPki, tbs: &[u8]) -> Vec<u8> {
    let digest = Sha256::digest(tbs);
    jpki.ca_key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).unwrap_or_default()
}
