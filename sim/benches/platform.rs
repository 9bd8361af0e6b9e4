#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! Platform driver (kiosk-platform) figures for docs/performance.md:
//! `cargo bench -p kiosk-sim --bench platform`. It lives beside the other simulator
//! benches because it drives kiosk-platform against kiosk-sim's simulators and PKI.
//!
//! 1. CRL: generate CRLs of 100 k and 1 M entries (16-byte serials, reasonCode on every
//!    entry, as a large CA issues them), then in a fresh child process each: our
//!    streaming load (verify + compact set) — time, peak RSS, lookup time — and
//!    rustls-webpki's own `OwnedCertRevocationList::from_der` (parse only) on the same file.
//! 2. `api` verify latency against the simulator, warm (one client) vs cold (a new client
//!    and TLS connection each time), beside a loopback TCP round trip and the kiosk's own
//!    signature + chain checks.
//! 3. `ocsp` check latency against `openssl ocsp`, beside `openssl ocsp -url` itself
//!    making the same request (one process per request, as its CLI works).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kiosk_platform::Possession;
use kiosk_platform::api::{ApiConfig, ApiPlatform};
use kiosk_platform::crl::{CrlBuilder, load_crl};
use kiosk_platform::links::LinkStore;
use kiosk_platform::ocsp::{OcspConfig, OcspPlatform};
use kiosk_platform::proof::CardTrust;
use kiosk_platform::tls::{Endpoint, Identity};
use kiosk_platform::{JpkiCertificate, Platform, Verdict};
use kiosk_sim::card::pki::{CertProfile, TestPki};
use kiosk_sim::platform::{PlatformPki, PlatformSim, ServerCert, TestCard};

mod support;
use support::{out_dir, vm};

fn serial(i: u64) -> [u8; 16] {
    // Spread like random serials, deterministic, top bit clear.
    let x = u128::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) | 1 << 120;
    (x & !(1 << 127)).to_be_bytes()
}

fn generate(n: u64, pki: &TestPki, path: &Path) {
    use x509_cert::der::{Decode, Encode};
    let issuer =
        x509_cert::Certificate::from_der(&pki.ca_cert_der).unwrap().tbs_certificate.subject.to_der().unwrap();
    let now = SystemTime::now();
    let b = CrlBuilder {
        issuer_der: issuer,
        this_update: now,
        next_update: now + Duration::from_secs(7 * 86_400),
        crl_number: 1,
        delta_of: None,
        reason: Some(1),
    };
    let tbs = b.tbs((0..n).map(serial), now);
    let der = CrlBuilder::finish(&tbs, &kiosk_sim::platform::pki::jpki_sign(pki, &tbs));
    std::fs::write(path, der).unwrap();
}

fn child(args: &[String]) {
    let (what, path, ca, n) = (&args[0], Path::new(&args[1]), &args[2], args[3].parse::<u64>().unwrap());
    let base = vm("VmHWM:");
    match what.as_str() {
        "ours" => {
            let trust = CardTrust::from_ders(&[std::fs::read(ca).unwrap()]).unwrap();
            let t = Instant::now();
            let crl = load_crl(std::fs::File::open(path).unwrap(), &trust, SystemTime::now(), Duration::ZERO)
                .unwrap();
            let load = t.elapsed();
            assert_eq!(crl.revoked.len() as u64, n);
            let probes: Vec<[u8; 16]> =
                (0..200_000u64).map(|i| serial(if i % 2 == 0 { i % n } else { n + i })).collect();
            let t = Instant::now();
            let hits = probes.iter().filter(|s| crl.revoked.contains(&s[..])).count();
            let lookup = t.elapsed() / probes.len() as u32;
            assert_eq!(hits, probes.len() / 2);
            println!(
                "load_ms={:.0} hwm_mib={:.1} base_mib={:.1} set_mib={:.1} lookup_ns={}",
                load.as_secs_f64() * 1e3,
                vm("VmHWM:") as f64 / 1024.0,
                base as f64 / 1024.0,
                crl.revoked.heap_bytes() as f64 / 1048576.0,
                lookup.as_nanos()
            );
        }
        _ => {
            let t = Instant::now();
            let bytes = std::fs::read(path).unwrap();
            let crl =
                webpki::CertRevocationList::Owned(webpki::OwnedCertRevocationList::from_der(&bytes).unwrap());
            let load = t.elapsed();
            let probes: Vec<Vec<u8>> = (0..20_000u64)
                .map(|i| {
                    let s = serial(if i % 2 == 0 { i % n } else { n + i });
                    let mut v = s.to_vec();
                    if v[0] & 0x80 != 0 {
                        v.insert(0, 0);
                    }
                    v
                })
                .collect();
            let t = Instant::now();
            let hits = probes.iter().filter(|s| crl.find_serial(s).unwrap().is_some()).count();
            let lookup = t.elapsed() / probes.len() as u32;
            assert_eq!(hits, probes.len() / 2);
            println!(
                "load_ms={:.0} hwm_mib={:.1} base_mib={:.1} lookup_ns={}",
                load.as_secs_f64() * 1e3,
                vm("VmHWM:") as f64 / 1024.0,
                base as f64 / 1024.0,
                lookup.as_nanos()
            );
        }
    }
}

fn crl_section() {
    let dir = out_dir("bench-platform");
    let pki = TestPki::generate(&CertProfile::default()).unwrap();
    let ca = dir.join("ca.der");
    std::fs::write(&ca, &pki.ca_cert_der).unwrap();
    println!("## CRL (release build, child process per row; peak RSS = VmHWM of the whole process)");
    println!("| entries | DER size | parser | load (parse + verify) | peak RSS | lookup |");
    println!("|---|---|---|---|---|---|");
    for n in [100_000u64, 1_000_000] {
        let path = dir.join(format!("crl-{n}.der"));
        generate(n, &pki, &path);
        let size = std::fs::metadata(&path).unwrap().len();
        for what in ["ours", "webpki"] {
            let exe = std::env::current_exe().unwrap();
            let out = Command::new(exe)
                .args(["--child", what, path.to_str().unwrap(), ca.to_str().unwrap(), &n.to_string()])
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            let f = |k: &str| {
                line.split(' ').find_map(|kv| kv.strip_prefix(&format!("{k}="))).unwrap_or("?").to_owned()
            };
            let label = if what == "ours" {
                format!("kiosk-platform stream (set {} MiB)", f("set_mib"))
            } else {
                "rustls-webpki Owned (parse only, no signature check)".to_owned()
            };
            println!(
                "| {n} | {:.1} MB | {label} | {} ms | {} MiB (base {} MiB) | {} ns |",
                size as f64 / 1e6,
                f("load_ms"),
                f("hwm_mib"),
                f("base_mib"),
                f("lookup_ns")
            );
        }
        std::fs::remove_file(&path).unwrap();
    }
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

fn api(sim: &PlatformSim, trust: &CardTrust) -> ApiPlatform {
    let pki = PlatformPki::shared().unwrap();
    let mut e = Endpoint::new(&sim.url(), Some(pki.ca_pem.as_bytes().to_vec()));
    e.identity = Some(Identity::from_pem(pki.terminal.chain_pem.as_bytes(), pki.terminal.key_pem.as_bytes()));
    let config =
        ApiConfig { endpoint: e, terminal_id: "kiosk-01".into(), service_provider: sim.service_provider() };
    ApiPlatform::new(config, trust.clone()).unwrap()
}

async fn timed_verify(p: &impl Platform, card: &TestCard, cert: &JpkiCertificate) -> Duration {
    let ch = p.challenge().await.unwrap();
    let sig = card.sign(&ch.nonce);
    let t = Instant::now();
    let v = p.verify(cert, Possession::Proven { challenge: &ch, signature: &sig }).await;
    let took = t.elapsed();
    assert!(matches!(v, Verdict::Good { .. }), "{v:?}");
    took
}

fn tcp_rtt() -> Vec<Duration> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 64];
        while let Ok(n) = s.read(&mut b) {
            if n == 0 || s.write_all(&b[..n]).is_err() {
                break;
            }
        }
    });
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_nodelay(true).unwrap();
    let mut v = Vec::new();
    let mut b = [0u8; 64];
    for _ in 0..500 {
        let t = Instant::now();
        c.write_all(&[1; 64]).unwrap();
        c.read_exact(&mut b).unwrap();
        v.push(t.elapsed());
    }
    drop(c);
    server.join().unwrap();
    v
}

async fn api_section() {
    let jpki = TestPki::shared().unwrap();
    let trust = CardTrust::from_ders(std::slice::from_ref(&jpki.ca_cert_der)).unwrap();
    let card = TestCard::issue(&[0x30, 0x01], (2025, 1, 1), (2035, 1, 1)).unwrap();
    let cert = JpkiCertificate::from_der(&card.cert_der).unwrap();
    let sim = PlatformSim::start(ServerCert::Good).await.unwrap();
    sim.link(&[0x30, 0x01], "P-BENCH");
    let warm = api(&sim, &trust);
    timed_verify(&warm, &card, &cert).await;
    let mut w = Vec::new();
    for _ in 0..200 {
        w.push(timed_verify(&warm, &card, &cert).await);
    }
    let mut c = Vec::new();
    for _ in 0..30 {
        let cold = api(&sim, &trust);
        c.push(timed_verify(&cold, &card, &cert).await);
    }
    let ch = kiosk_platform::Challenge::local().unwrap();
    let sig = card.sign(&ch.nonce);
    let mut s = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        trust.check(&cert, &ch, &sig, SystemTime::now()).unwrap();
        s.push(t.elapsed());
    }
    let mut rtt = tcp_rtt();
    println!("\n## api verify against the simulator (mutual TLS 1.3, loopback; one POST /v1/verify)");
    println!("| what | p50 | p99 |\n|---|---|---|");
    println!(
        "| warm (one client, reused connection), n=200 | {:.2} ms | {:.2} ms |",
        pct(&mut w, 0.5),
        pct(&mut w, 0.99)
    );
    println!(
        "| cold (new client + TCP + TLS handshake), n=30 | {:.2} ms | {:.2} ms |",
        pct(&mut c, 0.5),
        pct(&mut c, 0.99)
    );
    println!(
        "| kiosk's own signature + chain check (RSA-2048, rsa crate), n=200 | {:.3} ms | {:.3} ms |",
        pct(&mut s, 0.5),
        pct(&mut s, 0.99)
    );
    println!(
        "| loopback TCP round trip (64 bytes), n=500 | {:.3} ms | {:.3} ms |",
        pct(&mut rtt, 0.5),
        pct(&mut rtt, 0.99)
    );
    println!(
        "\nwarm p50 / (RTT + 2 x signature checks: the kiosk's and the simulator's) = {:.2}",
        pct(&mut w, 0.5) / (pct(&mut rtt, 0.5) + 2.0 * pct(&mut s, 0.5))
    );
}

fn sh(dir: &Path, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "openssl {args:?}");
}

async fn ocsp_section() {
    let dir = out_dir("bench-platform").join("ocsp");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("newcerts")).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "1000\n").unwrap();
    let cnf = format!(
        "[ca]\ndefault_ca=c\n[c]\ndir={}\ndatabase=$dir/index.txt\nnew_certs_dir=$dir/newcerts\ncertificate=$dir/ca.crt\nprivate_key=$dir/ca.key\nserial=$dir/serial\ndefault_md=sha256\ndefault_days=30\npolicy=p\n[p]\ncommonName=supplied\n[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=x\n[v3_ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n[v3_ocsp]\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,OCSPSigning\n",
        dir.display()
    );
    std::fs::write(dir.join("ca.cnf"), cnf).unwrap();
    let d = dir.as_path();
    sh(
        d,
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
            "/CN=Bench CA",
            "-config",
            "ca.cnf",
            "-extensions",
            "v3_ca",
            "-days",
            "30",
        ],
    );
    for (f, ext) in [("ocsp", "v3_ocsp"), ("card", "v3_ocsp")] {
        sh(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{f}.key"),
                "-out",
                &format!("{f}.csr"),
                "-subj",
                &format!("/CN={f}"),
                "-config",
                "ca.cnf",
            ],
        );
        sh(
            d,
            &[
                "ca",
                "-batch",
                "-config",
                "ca.cnf",
                "-in",
                &format!("{f}.csr"),
                "-out",
                &format!("{f}.crt"),
                "-extensions",
                ext,
                "-notext",
            ],
        );
    }
    let responder =
        kiosk_sim::platform::openssl_ocsp::Responder::start(d, "ocsp.crt", "ocsp.key", "ca.crt", &[])
            .unwrap();
    let url = responder.url();
    let trust = CardTrust::from_pem(&std::fs::read(d.join("ca.crt")).unwrap()).unwrap();
    use rustls_pki_types::pem::PemObject;
    let card_der = rustls_pki_types::CertificateDer::from_pem_file(d.join("card.crt")).unwrap();
    let cert = JpkiCertificate::from_der(&card_der).unwrap();
    let links = LinkStore::with_key(&d.join("links"), vec![1; 32]).unwrap();
    links.link(&cert, &kiosk_platform::ServiceId::new("P-BENCH").unwrap()).unwrap();
    let p = OcspPlatform::new(OcspConfig::new(Endpoint::new(&url, None)), trust, Arc::new(links)).unwrap();
    let mut ours = Vec::new();
    for _ in 0..50 {
        let ch = p.challenge().await.unwrap();
        std::fs::write(d.join("nonce"), &ch.nonce).unwrap();
        let sig = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign", "card.key", "nonce"])
            .current_dir(d)
            .output()
            .unwrap()
            .stdout;
        let t = Instant::now();
        let v = p.verify(&cert, Possession::Proven { challenge: &ch, signature: &sig }).await;
        ours.push(t.elapsed());
        assert!(matches!(v, Verdict::Good { .. }), "{v:?}");
    }
    let mut cli = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        sh(
            d,
            &["ocsp", "-sha256", "-issuer", "ca.crt", "-cert", "card.crt", "-url", &url, "-CAfile", "ca.crt"],
        );
        cli.push(t.elapsed());
    }
    drop(responder);
    println!("\n## ocsp check against `openssl ocsp` (HTTP/1.0, one connection per request: no warm path)");
    println!("| what | p50 | p99 |\n|---|---|---|");
    println!(
        "| kiosk-platform OcspPlatform::verify (nonce, full response verification), n=50 | {:.2} ms | {:.2} ms |",
        pct(&mut ours, 0.5),
        pct(&mut ours, 0.99)
    );
    println!(
        "| `openssl ocsp -url` making the same request (process per request), n=30 | {:.2} ms | {:.2} ms |",
        pct(&mut cli, 0.5),
        pct(&mut cli, 0.99)
    );
    println!("\nratio openssl CLI p50 / ours p50 = {:.1}", pct(&mut cli, 0.5) / pct(&mut ours, 0.5));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1..]);
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --benches` runs a harness = false bench with no arguments: only
        // `cargo bench` (which passes --bench) generates million-entry CRLs.
        return;
    }
    crl_section();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(api_section());
    rt.block_on(ocsp_section());
}
