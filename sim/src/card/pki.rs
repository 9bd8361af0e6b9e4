//! A throw-away JPKI-like PKI made at start: a test user-authentication CA and one user
//! certificate with an RSA-2048 key, in the profile of a JPKI user-authentication
//! certificate (`C=JP, CN=<opaque>` subject, `C=JP, O=JPKI-TEST, OU=…` issuer, sha256WithRSA).
//! Nothing here is a committed key: every key is generated when a test asks for one.

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use rsa::{RsaPrivateKey, RsaPublicKey};

/// `(year, month, day)`.
pub type Ymd = (i32, u8, u8);

/// What the user certificate looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertProfile {
    /// The opaque subject CN (a JPKI test card shows e.g. `997794E9AGCIEG13221003A`).
    pub subject_cn: String,
    /// The serial number content octets (the 発行番号).
    pub serial: Vec<u8>,
    pub not_before: Ymd,
    pub not_after: Ymd,
}

impl Default for CertProfile {
    fn default() -> Self {
        CertProfile {
            subject_cn: "997794E9AGCIEG13221003A".to_owned(),
            serial: vec![0x06, 0xD1, 0x80, 0x06, 0x42, 0x13],
            not_before: (2025, 1, 1),
            not_after: (2035, 1, 1),
        }
    }
}

/// Why the PKI could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("RSA key generation failed: {0}")]
    Rsa(#[from] rsa::Error),
    #[error("PKCS#8 encoding failed: {0}")]
    Pkcs8(#[from] rsa::pkcs8::Error),
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
}

/// A CA (one "generation") and a user certificate it issued.
#[derive(Clone, Debug)]
pub struct TestPki {
    pub ca_key: RsaPrivateKey,
    pub ca_cert_der: Vec<u8>,
    pub user_key: RsaPrivateKey,
    pub user_cert_der: Vec<u8>,
}

/// The issuer DN of the user-authentication CA (test profile). Two OUs, like the real
/// one; the second is pushed under its raw OID because rcgen keeps one value per type.
pub fn issuer_dn() -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "JP");
    dn.push(DnType::OrganizationName, "JPKI-TEST");
    dn.push(DnType::OrganizationalUnitName, "JPKI for user authentication");
    dn.push(DnType::CustomDnType(vec![2, 5, 4, 11]), "Japan Agency for Local Authority Information Systems");
    dn
}

fn rcgen_key(key: &RsaPrivateKey) -> Result<KeyPair, PkiError> {
    let der = key.to_pkcs8_der()?;
    let pair = KeyPair::try_from(der.as_bytes())?;
    if pair.algorithm() != &PKCS_RSA_SHA256 {
        return Err(PkiError::Rcgen(rcgen::Error::UnsupportedSignatureAlgorithm));
    }
    Ok(pair)
}

/// Generates an RSA-2048 key.
pub fn rsa_2048() -> Result<RsaPrivateKey, PkiError> {
    Ok(RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)?)
}

impl TestPki {
    /// A new CA and user certificate (two RSA-2048 key generations: about a second).
    pub fn generate(profile: &CertProfile) -> Result<Self, PkiError> {
        Self::generate_with_ca_key(profile, rsa_2048()?)
    }

    /// Like [`TestPki::generate`], with a given CA key (a second CA generation that
    /// shares the DN is a second call with another key).
    pub fn generate_with_ca_key(profile: &CertProfile, ca_key: RsaPrivateKey) -> Result<Self, PkiError> {
        let user_key = rsa_2048()?;
        let ca_pair = rcgen_key(&ca_key)?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = issuer_dn();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = rcgen::date_time_ymd(2023, 7, 16);
        ca_params.not_after = rcgen::date_time_ymd(2040, 7, 15);
        ca_params.serial_number = Some(SerialNumber::from(0x06D1_8006u64));
        let ca_cert = ca_params.self_signed(&ca_pair)?;

        let user_pair = rcgen_key(&user_key)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "JP");
        dn.push(DnType::CommonName, profile.subject_cn.as_str());
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.not_before =
            rcgen::date_time_ymd(profile.not_before.0, profile.not_before.1, profile.not_before.2);
        params.not_after =
            rcgen::date_time_ymd(profile.not_after.0, profile.not_after.1, profile.not_after.2);
        params.serial_number = Some(SerialNumber::from_slice(&profile.serial));
        params.use_authority_key_identifier_extension = true;
        let issuer = Issuer::new(ca_params, ca_pair);
        let user_cert = params.signed_by(&user_pair, &issuer)?;
        Ok(TestPki {
            ca_key,
            ca_cert_der: ca_cert.der().to_vec(),
            user_key,
            user_cert_der: user_cert.der().to_vec(),
        })
    }

    /// One PKI with the default profile, made once per process (tests share it).
    pub fn shared() -> Result<&'static TestPki, &'static PkiError> {
        static PKI: OnceLock<Result<TestPki, PkiError>> = OnceLock::new();
        PKI.get_or_init(|| TestPki::generate(&CertProfile::default())).as_ref()
    }

    pub fn user_public_key(&self) -> RsaPublicKey {
        self.user_key.to_public_key()
    }
}
