#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ocsp` mode against an independent peer: Debian's `openssl ocsp` as the responder over
//! an `openssl ca` database (set up by `Ca` below), and `openssl ca -gencrl` CRLs for the
//! CRL parser. The card's signature is made by `openssl dgst`.
//! Responders listen on a port the kernel picks (`-port 0`, read back from their
//! "ACCEPT" line) and are killed by PID when the test ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kiosk_platform::Possession;
use kiosk_platform::crl::load_crl;
use kiosk_platform::links::LinkStore;
use kiosk_platform::ocsp::{OcspConfig, OcspPlatform, OcspStatus, build_request, check_response};
use kiosk_platform::proof::CardTrust;
use kiosk_platform::tls::Endpoint;
use kiosk_platform::{
    CrlError, JpkiCertificate, OcspError, Platform, PlatformError, ServiceId, Untrusted, Verdict,
};
use kiosk_sim::platform::{fixtures, openssl_ocsp};
use x509_cert::der::Decode;

const CNF: &str = r#"
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = DIR
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 365
default_crl_days = 7
policy = pol_any
unique_subject = no
[ pol_any ]
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_ocsp ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
noCheck = ignored
authorityKeyIdentifier = keyid
[ v3_card ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
authorityKeyIdentifier = keyid
"#;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian package openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An `openssl ca` database with a responder certificate, three cards and a stranger.
struct Ca {
    dir: PathBuf,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let dir = std::env::temp_dir().join(format!("kiosk-ocsp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("newcerts")).unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("serial"), "1000\n").unwrap();
        std::fs::write(dir.join("crlnumber"), "1000\n").unwrap();
        std::fs::write(dir.join("ca.cnf"), CNF.replace("DIR", dir.to_str().unwrap())).unwrap();
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-subj",
                "/CN=Test JPKI CA",
                "-config",
                "ca.cnf",
                "-extensions",
                "v3_ca",
                "-days",
                "3650",
                "-sha256",
            ],
        );
        let ca = Ca { dir };
        let d = &ca.dir;
        ca.issue("ocsp", "Test OCSP Responder", "v3_ocsp");
        ca.issue("good", "card-good", "v3_card");
        ca.issue("unlinked", "card-unlinked", "v3_card");
        ca.issue("revoked", "card-revoked", "v3_card");
        openssl(d, &["ca", "-config", "ca.cnf", "-revoke", "revoked.crt", "-crl_reason", "keyCompromise"]);
        // Signed by the CA but not in its database: the responder answers "unknown".
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "unknown.key",
                "-out",
                "unknown.csr",
                "-subj",
                "/CN=card-unknown",
                "-config",
                "ca.cnf",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "unknown.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                "0x9999",
                "-days",
                "30",
                "-sha256",
                "-out",
                "unknown.crt",
            ],
        );
        // A stranger claiming to be an OCSP responder (self-signed, OCSP-signing EKU).
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "stranger.key",
                "-out",
                "stranger.crt",
                "-subj",
                "/CN=Test OCSP Responder",
                "-config",
                "ca.cnf",
                "-extensions",
                "v3_ocsp",
                "-days",
                "30",
            ],
        );
        ca
    }

    fn issue(&self, file: &str, cn: &str, ext: &str) {
        let d = &self.dir;
        let (key, csr, crt) = (format!("{file}.key"), format!("{file}.csr"), format!("{file}.crt"));
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &csr,
                "-subj",
                &format!("/CN={cn}"),
                "-config",
                "ca.cnf",
            ],
        );
        openssl(
            d,
            &["ca", "-batch", "-config", "ca.cnf", "-in", &csr, "-out", &crt, "-extensions", ext, "-notext"],
        );
    }

    fn trust(&self) -> CardTrust {
        CardTrust::from_pem(&std::fs::read(self.dir.join("ca.crt")).unwrap()).unwrap()
    }

    fn cert(&self, name: &str) -> JpkiCertificate {
        let pem = std::fs::read(self.dir.join(format!("{name}.crt"))).unwrap();
        use tokio_rustls::rustls::pki_types::{CertificateDer, pem::PemObject};
        let der = CertificateDer::from_pem_slice(&pem).unwrap();
        JpkiCertificate::from_der(&der).unwrap()
    }

    /// The card's signature over `nonce`, made by `openssl dgst` with the card's key.
    fn sign(&self, name: &str, nonce: &[u8]) -> Vec<u8> {
        let input = self.dir.join(format!("nonce-{name}"));
        std::fs::write(&input, nonce).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign", &format!("{name}.key"), input.to_str().unwrap()])
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    }
}

impl Drop for Ca {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `openssl ocsp` over the test CA's database, signing with `signer` (`<signer>.crt`,
/// `<signer>.key`).
struct Responder;

impl Responder {
    fn start(ca: &Ca, signer: &str, extra: &[&str]) -> openssl_ocsp::Responder {
        let (crt, key) = (format!("{signer}.crt"), format!("{signer}.key"));
        openssl_ocsp::Responder::start(&ca.dir, &crt, &key, "ca.crt", extra).expect("openssl ocsp")
    }
}

fn ocsp(ca: &Ca, url: &str, links: Arc<LinkStore>) -> OcspPlatform {
    OcspPlatform::new(OcspConfig::new(Endpoint::new(url, None)), ca.trust(), links).unwrap()
}

fn links(ca: &Ca) -> Arc<LinkStore> {
    let store = LinkStore::with_key(&ca.dir.join("links"), vec![3; 32]).unwrap();
    store.link(&ca.cert("good"), &ServiceId::new("P-OCSP-1").unwrap()).unwrap();
    store.link(&ca.cert("revoked"), &ServiceId::new("P-OCSP-2").unwrap()).unwrap();
    Arc::new(store)
}

async fn check(ca: &Ca, p: &impl Platform, card: &str) -> Verdict {
    let challenge = p.challenge().await.unwrap();
    let signature = ca.sign(card, &challenge.nonce);
    p.verify(&ca.cert(card), Possession::Proven { challenge: &challenge, signature: &signature }).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_responder_good_revoked_unknown_and_ca_signed_by_key() {
    let ca = Ca::new("peer");
    let links = links(&ca);
    let delegated = Responder::start(&ca, "ocsp", &[]);
    let p = ocsp(&ca, &delegated.url(), links.clone());
    let v = check(&ca, &p, "good").await;
    assert!(
        matches!(&v, Verdict::Good { service_id: Some(id), next_update: Some(_), .. } if id.expose() == "P-OCSP-1"),
        "{v:?}"
    );
    assert_eq!(check(&ca, &p, "revoked").await, Verdict::Revoked);
    assert_eq!(check(&ca, &p, "unlinked").await, Verdict::NotLinked);
    // Without the PIN (no proof asked), the certificate alone: the same answers.
    let v = p.verify(&ca.cert("good"), Possession::NotAsked).await;
    assert!(matches!(&v, Verdict::Good { service_id: Some(id), .. } if id.expose() == "P-OCSP-1"), "{v:?}");
    assert_eq!(p.verify(&ca.cert("revoked"), Possession::NotAsked).await, Verdict::Revoked);
    assert_eq!(check(&ca, &p, "unknown").await, Verdict::Untrusted(Untrusted::UnknownToPlatform));
    // A forged card signature never reaches the responder's verdict.
    let challenge = p.challenge().await.unwrap();
    let forged = ca.sign("unlinked", &challenge.nonce);
    assert_eq!(
        p.verify(&ca.cert("good"), Possession::Proven { challenge: &challenge, signature: &forged }).await,
        Verdict::Untrusted(Untrusted::BadSignature)
    );
    drop(delegated);

    // The CA itself signs, naming itself by key hash, without certificates in the answer.
    let by_ca = Responder::start(&ca, "ca", &["-resp_key_id", "-resp_no_certs"]);
    let p = ocsp(&ca, &by_ca.url(), links);
    assert!(matches!(check(&ca, &p, "good").await, Verdict::Good { .. }));
    assert_eq!(check(&ca, &p, "revoked").await, Verdict::Revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stranger_signed_replayed_tampered_and_stale_responses_are_refused() {
    let ca = Ca::new("bad");
    let links = links(&ca);

    let stranger = Responder::start(&ca, "stranger", &[]);
    let v = check(&ca, &ocsp(&ca, &stranger.url(), links.clone()), "good").await;
    assert_eq!(v, Verdict::Unavailable(PlatformError::Ocsp(OcspError::UnknownSigner)));
    drop(stranger);

    let real = Responder::start(&ca, "ocsp", &[]);
    // Replays of a saved answer: one made without a nonce, one made for another request.
    for (no_nonce, expected) in [(true, OcspError::NonceMissing), (false, OcspError::NonceMismatch)] {
        let mut args = vec!["ocsp", "-sha256", "-issuer", "ca.crt", "-cert", "good.crt", "-url"];
        let url = real.url();
        args.push(&url);
        args.extend(["-respout", "saved.der", "-noverify"]);
        if no_nonce {
            args.push("-no_nonce");
        }
        openssl(&ca.dir, &args);
        let saved = std::fs::read(ca.dir.join("saved.der")).unwrap();
        let replay = fixtures::replay(saved).await.unwrap();
        let v = check(&ca, &ocsp(&ca, &replay.url(), links.clone()), "good").await;
        assert_eq!(v, Verdict::Unavailable(PlatformError::Ocsp(expected)), "no_nonce={no_nonce}");
    }

    // Tampering in transit: a proxy changes one digit of producedAt (the first
    // GeneralizedTime in the signed ResponseData).
    let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], real.port()));
    let proxy = fixtures::proxy(upstream, |mut body| {
        if let Some(i) = body.windows(2).position(|w| w == [0x18, 0x0f]) {
            body[i + 2 + 13] ^= 0x01; // last digit of the seconds: still a valid time
        }
        body
    })
    .await
    .unwrap();
    let v = check(&ca, &ocsp(&ca, &proxy.url(), links.clone()), "good").await;
    assert_eq!(v, Verdict::Unavailable(PlatformError::Ocsp(OcspError::BadSignature)));
    // An untouched pass through the same proxy is fine.
    let clean = fixtures::proxy(upstream, |body| body).await.unwrap();
    assert!(matches!(
        check(&ca, &ocsp(&ca, &clean.url(), links.clone()), "good").await,
        Verdict::Good { .. }
    ));

    // Stale: our own request answered by openssl (nonce echoed, nextUpdate = +60 min),
    // judged at a later clock.
    let trust = ca.trust();
    let issuer = x509_cert::Certificate::from_der(trust.cas()[0].der()).unwrap();
    let card = x509_cert::Certificate::from_der(ca.cert("good").der()).unwrap();
    let query = build_request(&issuer, &card).unwrap();
    std::fs::write(ca.dir.join("ours.req"), &query.der).unwrap();
    openssl(
        &ca.dir,
        &["ocsp", "-reqin", "ours.req", "-url", &real.url(), "-respout", "ours.resp", "-noverify"],
    );
    let resp = std::fs::read(ca.dir.join("ours.resp")).unwrap();
    let skew = Duration::from_secs(300);
    let now = SystemTime::now();
    assert!(matches!(check_response(&resp, &query, &issuer, now, skew, true), Ok(OcspStatus::Good { .. })));
    let later = now + Duration::from_secs(2 * 3600);
    assert_eq!(check_response(&resp, &query, &issuer, later, skew, true), Err(OcspError::Stale));
    // Judged before the delegated responder's certificate was valid: not a valid signer.
    let earlier = now - Duration::from_secs(3600);
    assert_eq!(check_response(&resp, &query, &issuer, earlier, skew, true), Err(OcspError::UnknownSigner));
    // The same answer for another certificate's query does not match.
    let other = x509_cert::Certificate::from_der(ca.cert("unlinked").der()).unwrap();
    let mut other_query = build_request(&issuer, &other).unwrap();
    other_query.nonce.clone_from(&query.nonce);
    assert_eq!(check_response(&resp, &other_query, &issuer, now, skew, true), Err(OcspError::CertIdMismatch));
    assert!(matches!(
        check_response(&resp[..resp.len() / 2], &query, &issuer, now, skew, true),
        Err(OcspError::Malformed(_))
    ));
}

#[test]
fn crls_made_by_openssl_ca_gencrl_are_read_and_checked() {
    let ca = Ca::new("crl");
    openssl(&ca.dir, &["ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem"]);
    openssl(&ca.dir, &["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"]);
    let der = std::fs::read(ca.dir.join("crl.der")).unwrap();
    let trust = ca.trust();
    let (now, skew) = (SystemTime::now(), Duration::from_secs(300));
    let crl = load_crl(&der[..], &trust, now, skew).unwrap();
    assert_eq!(crl.revoked.len(), 1);
    assert!(crl.revoked.contains(ca.cert("revoked").serial().expose()));
    assert!(!crl.revoked.contains(ca.cert("good").serial().expose()));
    assert!(crl.crl_number.is_some());
    // default_crl_days = 7: stale a fortnight later.
    assert_eq!(
        load_crl(&der[..], &trust, now + Duration::from_secs(14 * 86_400), skew).unwrap_err(),
        CrlError::Stale
    );
    let mut bad = der.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x80;
    assert_eq!(load_crl(&bad[..], &trust, now, skew).unwrap_err(), CrlError::BadSignature);
    // And openssl agrees with our verdict on the untouched CRL.
    openssl(&ca.dir, &["crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "ca.crt", "-noout"]);
}
