#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! Link store figures for docs/performance.md: `cargo bench -p kiosk-sim --bench links`.
//!
//! 1. A signed snapshot of 1,000,000 links (patron numbers of 13 digits): its size, the
//!    time to write it, and, in a fresh child process, the time to load it (signature
//!    checked, then parsed into the index), the index's bytes and the process's peak
//!    RSS; then the lookup of a card (the keyed hash of its certificate and the search)
//!    and of a hash alone, p50 and p99.
//! 2. Against Debian's PostgreSQL (started in a private directory): the time from a
//!    counter's link to a kiosk following the store (asking every 2 s, the default)
//!    seeing it, over 20 links.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kiosk_platform::links::shared::{SharedConfig, SharedLinks, follow};
use kiosk_platform::links::{Credential, LinkIndex, LinkStore, Snapshot};
use kiosk_platform::tls::Identity;
use kiosk_platform::{JpkiCertificate, ServiceId};
use kiosk_sim::links::LinkServer;
use kiosk_sim::platform::TestCard;

mod support;
use support::{out_dir, vm};

const N: u32 = 1_000_000;
const KEY: [u8; 32] = [0x3c; 32];

fn credential(i: u32) -> Credential {
    let mut c = [0u8; 32];
    let x = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    c[..8].copy_from_slice(&x.to_be_bytes());
    c[8..12].copy_from_slice(&i.to_be_bytes());
    c
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p) as usize]
}

fn card() -> JpkiCertificate {
    JpkiCertificate::from_der(&TestCard::issue(&[0x40, 0x01], (2024, 1, 1), (2034, 1, 1)).unwrap().cert_der)
        .unwrap()
}

fn child(path: &Path) {
    let base = vm("VmHWM:");
    let t = Instant::now();
    let (store, refused) = LinkStore::snapshot_with_key(path, KEY.to_vec(), "282031").unwrap();
    let load = t.elapsed();
    let hwm = vm("VmHWM:");
    assert!(refused.is_none());
    assert_eq!(store.len(), N as usize + 1);
    let cert = card();
    let mut with_hash = Vec::new();
    for _ in 0..20_000 {
        let t = Instant::now();
        assert!(store.resolve(&cert).is_some());
        with_hash.push(t.elapsed());
    }
    let snapshot = Snapshot::decode(&std::fs::read(path).unwrap(), &KEY, "282031").unwrap();
    let index = snapshot.index;
    let mut search = Vec::new();
    for i in 0..200_000u32 {
        let key = credential(i.wrapping_mul(7919) % N);
        let t = Instant::now();
        assert!(index.get(&key).is_some());
        search.push(t.elapsed());
    }
    println!(
        "load_ms={:.0} index_mib={:.1} hwm_mib={:.1} base_mib={:.1} resolve_p50_ns={} resolve_p99_ns={} search_p50_ns={} search_p99_ns={}",
        load.as_secs_f64() * 1e3,
        index.heap_bytes() as f64 / 1048576.0,
        hwm as f64 / 1024.0,
        base as f64 / 1024.0,
        pct(&mut with_hash, 0.5).as_nanos(),
        pct(&mut with_hash, 0.99).as_nanos(),
        pct(&mut search, 0.5).as_nanos(),
        pct(&mut search, 0.99).as_nanos(),
    );
}

fn snapshot_section() {
    let path = out_dir("bench-links").join("links-1m.snapshot");
    let t = Instant::now();
    let mut links: Vec<(Credential, ServiceId)> =
        (0..N).map(|i| (credential(i), ServiceId::new(&format!("23{:011}", i)).unwrap())).collect();
    // The benchmark's card, so a whole resolve (keyed hash + search) finds something.
    let (store, _) =
        LinkStore::snapshot_with_key(&out_dir("bench-links").join("unused"), KEY.to_vec(), "282031").unwrap();
    links.push((store.keyed_hash(&card()), ServiceId::new("2300000000000").unwrap()));
    let index = LinkIndex::from_links(links);
    let build = t.elapsed();
    let snapshot = Snapshot {
        municipality: "282031".into(),
        store_id: "bench".into(),
        change: i64::from(N),
        taken: SystemTime::now(),
        index,
    };
    let t = Instant::now();
    let bytes = snapshot.encode(&KEY);
    std::fs::write(&path, &bytes).unwrap();
    let write = t.elapsed();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .arg(&path)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    let field = |k: &str| -> String {
        line.split_whitespace().find_map(|f| f.strip_prefix(&format!("{k}="))).unwrap_or("?").to_owned()
    };
    println!("## Link snapshot, {N} links (release build; load and lookups in a fresh child process)");
    println!("| what | figure |\n|---|---|");
    println!("| snapshot file | {:.1} MiB |", bytes.len() as f64 / 1048576.0);
    println!("| build the index from a list | {:.0} ms |", build.as_secs_f64() * 1e3);
    println!("| sign and write the snapshot | {:.0} ms |", write.as_secs_f64() * 1e3);
    println!("| load (signature checked, parsed, indexed) | {} ms |", field("load_ms"));
    println!("| index in memory | {} MiB |", field("index_mib"));
    println!(
        "| peak RSS of the loading process (before the load: {} MiB) | {} MiB |",
        field("base_mib"),
        field("hwm_mib")
    );
    println!(
        "| resolve a card: keyed hash + search, p50 / p99 | {} / {} ns |",
        field("resolve_p50_ns"),
        field("resolve_p99_ns")
    );
    println!(
        "| search a hash alone, p50 / p99 | {} / {} ns |",
        field("search_p50_ns"),
        field("search_p99_ns")
    );
    if !out.status.success() {
        println!("child failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

async fn follow_section() {
    let server = LinkServer::start("bench").unwrap();
    let dir = out_dir("bench-links");
    let device = |role: &str, may_link: bool, file: &str| {
        let id = server.add_device(role, "282031", may_link).unwrap();
        let shared = SharedLinks::new(SharedConfig {
            url: server.url(role),
            ca_pem: server.ca_pem().unwrap().into_bytes(),
            identity: Identity::from_pem(id.chain_pem.as_bytes(), id.key_pem.as_bytes()),
            municipality: "282031".into(),
            timeout: Duration::from_secs(5),
        })
        .unwrap();
        let _ = std::fs::remove_file(dir.join(file));
        let (store, _) = LinkStore::snapshot_with_key(&dir.join(file), KEY.to_vec(), "282031").unwrap();
        (Arc::new(shared), Arc::new(store))
    };
    let (counter, counter_store) = device("counter-01", true, "counter.snapshot");
    let (kiosk, kiosk_store) = device("kiosk-01", false, "kiosk.snapshot");
    let task = tokio::spawn(follow(
        kiosk_store.clone(),
        kiosk,
        Duration::from_secs(2),
        Duration::from_secs(60),
        |_| {},
    ));
    let mut seen = Vec::new();
    let mut writes = Vec::new();
    for i in 0..20u8 {
        let cert = JpkiCertificate::from_der(
            &TestCard::issue(&[0x41, i], (2024, 1, 1), (2034, 1, 1)).unwrap().cert_der,
        )
        .unwrap();
        let patron = ServiceId::new(&format!("2300000{i:03}")).unwrap();
        let t = Instant::now();
        counter.link(&counter_store, &cert, &patron).await.unwrap();
        writes.push(t.elapsed());
        while kiosk_store.resolve(&cert).is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        seen.push(t.elapsed());
        // Links do not come on the beat of the kiosk's timer.
        tokio::time::sleep(Duration::from_millis(u64::from(i) * 97 % 2000)).await;
    }
    task.abort();
    println!("\n## Shared store (PostgreSQL {} on loopback, TLS 1.3 with client certificates)", pg_version());
    println!("| what | p50 | max |\n|---|---|---|");
    let max = |v: &[Duration]| v.iter().max().copied().unwrap_or_default();
    println!(
        "| a counter's link written and read back | {:.1} ms | {:.1} ms |",
        pct(&mut writes, 0.5).as_secs_f64() * 1e3,
        max(&writes).as_secs_f64() * 1e3
    );
    println!(
        "| from a counter's link to a kiosk (asking every 2 s) knowing it | {:.2} s | {:.2} s |",
        pct(&mut seen, 0.5).as_secs_f64(),
        max(&seen).as_secs_f64()
    );
}

fn pg_version() -> String {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|d| d.filter_map(Result::ok).filter_map(|e| e.file_name().into_string().ok()).max())
        .unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(Path::new(&args[i + 1]));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    snapshot_section();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(follow_section());
}
