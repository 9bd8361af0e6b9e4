#![allow(clippy::unwrap_used)]
//! `crl` mode against the platform simulator's CRL endpoint over mutual TLS: conditional
//! GET, verification, swap-in, the cached file for an offline start, and bad CRLs (bad
//! signature, past nextUpdate, delta) that leave the CRL in force untouched.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kiosk_platform::Possession;
use kiosk_platform::crl::{CrlBuilder, CrlConfig, CrlPlatform, Refresh, load_crl};
use kiosk_platform::links::LinkStore;
use kiosk_platform::proof::CardTrust;
use kiosk_platform::tls::{Endpoint, Identity};
use kiosk_platform::{CrlError, JpkiCertificate, Platform, PlatformError, ServiceId, Verdict};
use kiosk_sim::card::pki::TestPki;
use kiosk_sim::platform::{PlatformPki, PlatformSim, ServerCert, TestCard, make_crl};

const GOOD: &[u8] = &[0x20, 0x01];
const REVOKED: &[u8] = &[0x20, 0x02];
const DAY: Duration = Duration::from_secs(86_400);

fn jpki() -> &'static TestPki {
    TestPki::shared().unwrap()
}

fn trust() -> CardTrust {
    CardTrust::from_ders(std::slice::from_ref(&jpki().ca_cert_der)).unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiosk-crl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn platform(sim_url: &str, dir: &std::path::Path, links: Arc<LinkStore>) -> CrlPlatform {
    platform_every(sim_url, dir, links, DAY)
}

/// [`platform`] fetching the CRL every `refresh`.
fn platform_every(
    sim_url: &str,
    dir: &std::path::Path,
    links: Arc<LinkStore>,
    refresh: Duration,
) -> CrlPlatform {
    let pki = PlatformPki::shared().unwrap();
    let mut endpoint = Endpoint::new(&format!("{sim_url}/crl"), Some(pki.ca_pem.as_bytes().to_vec()));
    endpoint.identity =
        Some(Identity::from_pem(pki.terminal.chain_pem.as_bytes(), pki.terminal.key_pem.as_bytes()));
    let config =
        CrlConfig { endpoint, refresh, cache_path: dir.join("jpki.crl"), skew: Duration::from_secs(300) };
    CrlPlatform::new(config, trust(), links).unwrap()
}

async fn check(p: &impl Platform, card: &TestCard) -> Verdict {
    let challenge = p.challenge().await.unwrap();
    let cert = JpkiCertificate::from_der(&card.cert_der).unwrap();
    p.verify(&cert, Possession::Proven { challenge: &challenge, signature: &card.sign(&challenge.nonce) })
        .await
}

/// `count` distinct 16-byte serials plus the revoked card's.
fn serials(count: usize) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..count as u64)
        .map(|i| {
            (0x4000_0000_0000_0000_0000_0000_0000_0000u128 + u128::from(i) * 7919).to_be_bytes().to_vec()
        })
        .collect();
    v.push(REVOKED.to_vec());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_verify_lookup_conditional_get_and_offline_restart() {
    let sim = PlatformSim::start(ServerCert::Good).await.unwrap();
    let dir = temp_dir("main");
    let links = Arc::new(LinkStore::with_key(&dir.join("links"), vec![9; 32]).unwrap());
    let good = TestCard::issue(GOOD, (2025, 1, 1), (2035, 1, 1)).unwrap();
    let revoked = TestCard::issue(REVOKED, (2025, 1, 1), (2035, 1, 1)).unwrap();
    links
        .link(&JpkiCertificate::from_der(&good.cert_der).unwrap(), &ServiceId::new("P-CRL-1").unwrap())
        .unwrap();

    let p = platform(&sim.url(), &dir, links.clone());
    assert_eq!(check(&p, &good).await, Verdict::Unavailable(PlatformError::Crl(CrlError::NoCrl)));

    let now = SystemTime::now();
    sim.publish_crl(&serials(20_000), now - DAY, 7 * DAY, 1);
    assert_eq!(p.refresh().await.unwrap(), Refresh::Updated { entries: 20_001 });
    assert_eq!(check(&p, &revoked).await, Verdict::Revoked);
    let v = check(&p, &good).await;
    assert!(matches!(&v, Verdict::Good { service_id: Some(id), .. } if id.expose() == "P-CRL-1"), "{v:?}");
    // Without the PIN (no proof asked), the certificate alone: the same answers.
    let unproven = |card: &TestCard| JpkiCertificate::from_der(&card.cert_der).unwrap();
    let v = p.verify(&unproven(&good), Possession::NotAsked).await;
    assert!(matches!(&v, Verdict::Good { service_id: Some(id), .. } if id.expose() == "P-CRL-1"), "{v:?}");
    assert_eq!(p.verify(&unproven(&revoked), Possession::NotAsked).await, Verdict::Revoked);
    links.unlink(&JpkiCertificate::from_der(&good.cert_der).unwrap()).unwrap();
    assert_eq!(check(&p, &good).await, Verdict::NotLinked);
    links
        .link(&JpkiCertificate::from_der(&good.cert_der).unwrap(), &ServiceId::new("P-CRL-1").unwrap())
        .unwrap();

    // Unchanged on the server: 304, nothing downloaded.
    assert_eq!(p.refresh().await.unwrap(), Refresh::NotModified);

    // A tampered CRL is refused; the one in force stays.
    let mut tampered = make_crl(jpki(), &serials(10), now, 7 * DAY, 2);
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    sim.publish_raw_crl(tampered);
    assert_eq!(p.refresh().await, Err(PlatformError::Crl(CrlError::BadSignature)));
    assert_eq!(check(&p, &revoked).await, Verdict::Revoked);

    // A CRL past its nextUpdate is refused too.
    sim.publish_crl(&serials(10), now - 10 * DAY, DAY, 3);
    assert_eq!(p.refresh().await, Err(PlatformError::Crl(CrlError::Stale)));

    // HTTP 503 keeps the CRL in force.
    sim.set_fault(kiosk_sim::platform::Fault::Status(503));
    assert_eq!(p.refresh().await, Err(PlatformError::Maintenance));
    assert_eq!(check(&p, &revoked).await, Verdict::Revoked);
    drop(p);

    // Restart without the server: the cached file is loaded and used.
    drop(sim);
    let offline = platform("https://localhost:9", &dir, links);
    assert_eq!(offline.current().map(|c| c.revoked.len()), Some(20_001));
    assert_eq!(check(&offline, &revoked).await, Verdict::Revoked);
    assert!(matches!(offline.refresh().await, Err(PlatformError::Connect(_) | PlatformError::Timeout(_))));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn issuer_der() -> Vec<u8> {
    use x509_cert::der::{Decode, Encode};
    x509_cert::Certificate::from_der(&jpki().ca_cert_der).unwrap().tbs_certificate.subject.to_der().unwrap()
}

fn signed(b: &CrlBuilder, serials: &[Vec<u8>]) -> Vec<u8> {
    let tbs = b.tbs(serials, b.this_update);
    CrlBuilder::finish(&tbs, &kiosk_sim::platform::pki::jpki_sign(jpki(), &tbs))
}

#[test]
fn delta_crls_other_issuers_truncation_and_garbage_are_refused() {
    let now = SystemTime::now();
    let base = CrlBuilder {
        issuer_der: issuer_der(),
        this_update: now,
        next_update: now + DAY,
        crl_number: 5,
        delta_of: None,
        reason: None,
    };
    let ok = signed(&base, &serials(3));
    let skew = Duration::from_secs(300);
    assert_eq!(load_crl(&ok[..], &trust(), now, skew).unwrap().revoked.len(), 4);
    let delta = signed(&CrlBuilder { delta_of: Some(4), ..base.clone() }, &serials(3));
    assert_eq!(load_crl(&delta[..], &trust(), now, skew).unwrap_err(), CrlError::UnsupportedDelta);
    let future =
        signed(&CrlBuilder { this_update: now + DAY, next_update: now + 2 * DAY, ..base.clone() }, &[]);
    assert_eq!(load_crl(&future[..], &trust(), now, skew).unwrap_err(), CrlError::NotYetValid);
    // Signed by another CA generation that is not configured.
    let other = TestPki::generate(&Default::default()).unwrap();
    let tbs = base.tbs(serials(3), now);
    let foreign = CrlBuilder::finish(&tbs, &kiosk_sim::platform::pki::jpki_sign(&other, &tbs));
    assert_eq!(load_crl(&foreign[..], &trust(), now, skew).unwrap_err(), CrlError::BadSignature);
    for cut in [0, 1, 10, ok.len() / 2, ok.len() - 1] {
        assert!(
            matches!(load_crl(&ok[..cut], &trust(), now, skew), Err(CrlError::Malformed(_))),
            "cut at {cut}"
        );
    }
    let mut trailing = ok.clone();
    trailing.push(0);
    assert!(matches!(load_crl(&trailing[..], &trust(), now, skew), Err(CrlError::Malformed(_))));
}

/// `platform.crl_refresh_s`: the refresher fetches the CRL again at that interval (a
/// short one here; the config allows 60 s to a day), and not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_fetches_the_crl_at_the_configured_interval() {
    let sim = PlatformSim::start(ServerCert::Good).await.unwrap();
    let now = SystemTime::now();
    sim.publish_crl(&serials(10), now - DAY, 7 * DAY, 1);
    let refreshed = |every: Duration, name: &str| {
        let dir = temp_dir(name);
        let links = Arc::new(LinkStore::with_key(&dir.join("links"), vec![9; 32]).unwrap());
        Arc::new(platform_every(&sim.url(), &dir, links, every))
    };
    // Every 200 ms: at least three fetches come (however slow the machine, within 20 s).
    let before = sim.requests();
    let fast = refreshed(Duration::from_millis(200), "refresh-fast");
    let task = fast.spawn_refresher();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sim.requests() < before + 3 {
        assert!(std::time::Instant::now() < deadline, "{} fetches", sim.requests() - before);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
    // Every hour: one fetch at start, none more in the next second.
    let slow = refreshed(Duration::from_secs(3600), "refresh-slow");
    let before = sim.requests();
    let task = slow.spawn_refresher();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while sim.requests() == before {
        assert!(std::time::Instant::now() < deadline, "no fetch at start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sim.requests() - before, 1, "one fetch at start, the next in an hour");
    task.abort();
}
