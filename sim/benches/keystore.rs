#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! Key store figures for docs/performance.md: `cargo bench -p kiosk-sim --bench keystore`.
//!
//! The journal key opened at start: from its 0600 file, and sealed to a TPM 2.0 (Debian's
//! swtpm on loopback: libtpms in software, so a board's TPM chip on SPI is slower; the
//! figure is the kiosk's side and the protocol, not the chip). Sealing happens once per
//! board; unsealing at every start. 30 runs each, p50 and max.

use std::time::{Duration, Instant};

use kiosk_keystore::{Sealer, sealed_path};
use kiosk_sim::tpm::Swtpm;

fn figures(name: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{name:<40} p50 {:>8.3} ms   max {:>8.3} ms",
        v[v.len() / 2].as_secs_f64() * 1e3,
        v[v.len() - 1].as_secs_f64() * 1e3
    );
}

fn main() {
    let dir = std::env::temp_dir().join(format!("kiosk-bench-keystore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("journal.key");

    let mut file = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        Sealer::File.load_or_create(&path, 32).unwrap();
        file.push(t.elapsed());
    }
    figures("journal key from its 0600 file", file);
    std::fs::remove_file(&path).unwrap();

    let tpm = Swtpm::start(&dir.join("tpm")).unwrap();
    let sealer = Sealer::Tpm(tpm.tcti());
    let (mut seal, mut unseal) = (Vec::new(), Vec::new());
    for _ in 0..30 {
        let _ = std::fs::remove_file(sealed_path(&path));
        let t = Instant::now();
        sealer.load_or_create(&path, 32).unwrap();
        seal.push(t.elapsed());
        let t = Instant::now();
        sealer.load_or_create(&path, 32).unwrap();
        unseal.push(t.elapsed());
    }
    figures("sealed to the TPM (first start)", seal);
    figures("unsealed by the TPM (every start)", unseal);
    println!("sealed file: {} bytes", std::fs::metadata(sealed_path(&path)).unwrap().len());
    let _ = std::fs::remove_dir_all(&dir);
}
