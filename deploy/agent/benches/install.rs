#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! Bundle size and install time with the real RAUC 1.8 on this machine (the simulated kiosk
//! of the tests: file-backed slots, private D-Bus).
//!
//! - `cargo test -p kiosk-update --bench install` (what `cargo xtask test` runs): quick mode,
//!   one 16 MiB test image, one install; checks it worked and prints the figures.
//! - `cargo test -p kiosk-update --bench install -- --bench`: also a 256 MiB image (mostly
//!   free space, like a fresh rootfs partition image), a 384 MiB image filled with this
//!   machine's real binaries (`/usr/bin`, `/usr/sbin`, `/usr/lib/systemd`) for a realistic
//!   compression ratio, and three installs each (median). Debug build of the agent: the
//!   time is RAUC's (Debian's optimised C) and the disk's, not the agent's.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::{COMPATIBLE, Format, Kiosk, KioskOptions, NEW, bundle, holds, rootfs, run};

fn mib(bytes: u64) -> String {
    format!("{:.2} MiB", bytes as f64 / f64::from(1 << 20))
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// An ext4 image of `size_mib` holding copies of `dirs` (real binaries).
fn real_content_image(dir: &Path, size_mib: u64, dirs: &[&str]) -> std::path::PathBuf {
    let tree = dir.join("real-tree");
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(tree.join("etc/os-release"), format!("VERSION_ID={NEW}\n")).unwrap();
    for d in dirs {
        let target = tree.join(d.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        run(Command::new("cp").arg("-a").arg(d).arg(&target));
    }
    let out = dir.join("real.ext4");
    run(Command::new("mkfs.ext4").args(["-q", "-F", "-d"]).arg(&tree).arg(&out).arg(format!("{size_mib}M")));
    std::fs::remove_dir_all(&tree).unwrap();
    out
}

struct Case {
    name: &'static str,
    bundle_plain: u64,
    bundle_verity: u64,
    build: Duration,
    vet: Duration,
    installs: Vec<Duration>,
}

async fn measure(name: &'static str, kiosk: &Kiosk, image: &Path, runs: usize) -> Case {
    let dir = kiosk.path("images");
    let t = Instant::now();
    let plain =
        bundle(&kiosk.pki, image, NEW, COMPATIBLE, Format::Plain, &dir.join(format!("{name}-plain.raucb")));
    let build = t.elapsed();
    let verity =
        bundle(&kiosk.pki, image, NEW, COMPATIBLE, Format::Verity, &dir.join(format!("{name}-verity.raucb")));
    let rauc = kiosk.rauc().await;
    let t = Instant::now();
    kiosk_update::agent::vet(
        &rauc,
        plain.to_str().unwrap(),
        COMPATIBLE,
        &kiosk_update::version::Version::parse(support::RUNNING).unwrap(),
    )
    .await
    .unwrap();
    let vet = t.elapsed();
    let mut installs = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        rauc.install(plain.to_str().unwrap(), Duration::from_secs(600), |_, _| {}).await.unwrap();
        installs.push(t.elapsed());
        assert!(holds(&kiosk.slot("B"), image), "{name}: slot B must hold the image");
    }
    installs.sort();
    Case { name, bundle_plain: size(&plain), bundle_verity: size(&verity), build, vet, installs }
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut cases = Vec::new();
    {
        let kiosk = Kiosk::new().await;
        let image = rootfs(&kiosk.path("images"), NEW, 16, 256);
        cases.push(
            measure("test image (16 MiB ext4, 256 KiB random)", &kiosk, &image, if full { 3 } else { 1 })
                .await,
        );
    }
    if full {
        let kiosk = Kiosk::with(KioskOptions { slot_mib: 400, ..KioskOptions::default() }).await;
        let image = rootfs(&kiosk.path("images"), NEW, 256, 256);
        cases.push(measure("256 MiB ext4, mostly free", &kiosk, &image, 3).await);
        let image =
            real_content_image(&kiosk.path("images"), 384, &["/usr/bin", "/usr/sbin", "/usr/lib/systemd"]);
        cases.push(measure("384 MiB ext4 of real binaries", &kiosk, &image, 3).await);
    }
    println!(
        "| image | bundle (plain) | bundle (verity) | build + sign | RAUC Info (vet) | install (median) |"
    );
    println!("|---|---|---|---|---|---|");
    for c in &cases {
        println!(
            "| {} | {} | {} | {:.2} s | {:.0} ms | {:.2} s (of {}) |",
            c.name,
            mib(c.bundle_plain),
            mib(c.bundle_verity),
            c.build.as_secs_f64(),
            c.vet.as_secs_f64() * 1000.0,
            c.installs[c.installs.len() / 2].as_secs_f64(),
            c.installs.len(),
        );
    }
}
