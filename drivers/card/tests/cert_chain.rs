#![allow(clippy::unwrap_used)]
//! Chain verification when several JPKI CA generations share one subject name: the issuer
//! is chosen by signature, never by name alone. The certificates are built here with
//! x509-cert and signed with rsa (this crate has no certificate generator); their names
//! follow the test profile of `kiosk_sim::card::pki`.

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use kiosk_card::{CertError, JpkiCertificate};
use rsa::pkcs8::EncodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{BitString, UtcTime};
use x509_cert::der::{Any, Decode, Encode};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

/// The user-authentication CA's DN (RFC 4514 order: last RDN first). Every generation of
/// the CA has this same name.
const CA_NAME: &str = "OU=Japan Agency for Local Authority Information Systems,\
                       OU=JPKI for user authentication,O=JPKI-TEST,C=JP";
const USER_NAME: &str = "CN=997794E9AGCIEG13221003A,C=JP";

/// 2030-01-01, inside every validity period below.
const NOW: Duration = Duration::from_secs(1_893_456_000);

fn utc(unix_secs: u64) -> Time {
    Time::UtcTime(UtcTime::from_unix_duration(Duration::from_secs(unix_secs)).unwrap())
}

/// A certificate for `subject_key` named `subject`, issued (signed) by `issuer_key` under
/// the name `issuer`; valid 2023-07-16 to 2040-07-15.
fn certificate(
    subject: &str,
    subject_key: &RsaPrivateKey,
    issuer: &str,
    issuer_key: &RsaPrivateKey,
    serial: u8,
) -> JpkiCertificate {
    let sha256_with_rsa = AlgorithmIdentifierOwned {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11"),
        parameters: Some(Any::null()),
    };
    let spki = subject_key.to_public_key().to_public_key_der().unwrap();
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[serial]).unwrap(),
        signature: sha256_with_rsa.clone(),
        issuer: Name::from_str(issuer).unwrap(),
        validity: Validity { not_before: utc(1_689_465_600), not_after: utc(2_225_923_200) },
        subject: Name::from_str(subject).unwrap(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(spki.as_bytes()).unwrap(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: None,
    };
    let digest = Sha256::digest(tbs.to_der().unwrap());
    let signature = issuer_key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).unwrap();
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: sha256_with_rsa,
        signature: BitString::from_bytes(&signature).unwrap(),
    };
    JpkiCertificate::from_der(&cert.to_der().unwrap()).unwrap()
}

/// Two CA generations with the same DN and different keys, a user certificate from each,
/// and a CA with the first generation's key under another name.
struct Generations {
    first_ca: JpkiCertificate,
    second_ca: JpkiCertificate,
    renamed_first_ca: JpkiCertificate,
    /// Issued by the first generation.
    user: JpkiCertificate,
    /// Same user key, issued by the second generation.
    user_of_second: JpkiCertificate,
}

fn generations() -> &'static Generations {
    static G: OnceLock<Generations> = OnceLock::new();
    G.get_or_init(|| {
        let key = || RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let (first_key, second_key, user_key) = (key(), key(), key());
        Generations {
            first_ca: certificate(CA_NAME, &first_key, CA_NAME, &first_key, 1),
            second_ca: certificate(CA_NAME, &second_key, CA_NAME, &second_key, 2),
            renamed_first_ca: certificate(
                "O=ANOTHER-CA,C=JP",
                &first_key,
                "O=ANOTHER-CA,C=JP",
                &first_key,
                3,
            ),
            user: certificate(USER_NAME, &user_key, CA_NAME, &first_key, 4),
            user_of_second: certificate(USER_NAME, &user_key, CA_NAME, &second_key, 5),
        }
    })
}

#[test]
fn the_issuer_is_chosen_by_signature_among_cas_that_share_a_name() {
    let g = generations();
    // The premise: one name, two keys.
    assert_eq!(g.first_ca.subject(), g.second_ca.subject());
    assert_eq!(g.user.issuer(), g.first_ca.subject());
    assert_eq!(g.user_of_second.issuer(), g.first_ca.subject());
    assert_ne!(g.first_ca.public_key(), g.second_ca.public_key());
    assert!(g.user.is_signed_by(&g.first_ca) && !g.user.is_signed_by(&g.second_ca));

    // The same-name CA that did not sign is skipped, wherever it is in the list.
    assert_eq!(g.user.verify_chain(&[g.second_ca.clone(), g.first_ca.clone()], NOW), Ok(1));
    assert_eq!(g.user.verify_chain(&[g.first_ca.clone(), g.second_ca.clone()], NOW), Ok(0));
    // Each generation's users chain to their own CA in one configured list.
    let both = [g.first_ca.clone(), g.second_ca.clone()];
    assert_eq!(g.user_of_second.verify_chain(&both, NOW), Ok(1));
    assert_eq!(g.second_ca.verify_chain(&both, NOW), Ok(1), "a self-signed CA picks itself");
}

#[test]
fn a_chain_with_only_the_wrong_same_name_ca_is_refused() {
    let g = generations();
    assert_eq!(g.user.verify_chain(std::slice::from_ref(&g.second_ca), NOW), Err(CertError::UntrustedIssuer));
    assert_eq!(
        g.user.verify_chain(&[g.second_ca.clone(), g.second_ca.clone()], NOW),
        Err(CertError::UntrustedIssuer)
    );
    assert_eq!(
        g.user_of_second.verify_chain(std::slice::from_ref(&g.first_ca), NOW),
        Err(CertError::UntrustedIssuer)
    );
    assert_eq!(g.user.verify_chain(&[], NOW), Err(CertError::UntrustedIssuer));
    // The right key under another name is not the issuer either.
    assert_eq!(
        g.user.verify_chain(std::slice::from_ref(&g.renamed_first_ca), NOW),
        Err(CertError::UntrustedIssuer)
    );
    // And the right CA still has to be valid at `now`.
    let after_expiry = Duration::from_secs(2_240_611_200);
    assert_eq!(
        g.user.verify_chain(&[g.second_ca.clone(), g.first_ca.clone()], after_expiry),
        Err(CertError::Expired)
    );
}
