//! The update tests' harness: a simulated kiosk with the real RAUC 1.8 from Debian, its own
//! private D-Bus, file-backed A/B slots and a file-backed U-Boot environment (the recipe of
//! the OTA research, `rauc-ci-recipe.sh`), bundles built and signed with
//! `deploy/rauc/make-bundle.sh` and keys from `deploy/rauc/make-keys.sh`, a private gooseBit
//! server, a fault-injecting HTTP proxy, and a static file server (manifest sites).
//!
//! Every [`Kiosk`] and [`GooseBit`] lives in its own temporary directory and stops its own
//! processes when dropped, so tests run in parallel and leave nothing behind. Needs root
//! (RAUC loop-mounts bundles); CI runs as root.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

pub mod files;
pub mod goosebit;
pub mod kiosk;
pub mod proxy;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use files::FileServer;
pub use goosebit::GooseBit;
pub use kiosk::{Boot, Kiosk, KioskOptions};
pub use proxy::Proxy;

/// The `compatible` of deploy/rauc/system.conf.
pub const COMPATIBLE: &str = "kiosk-rpi4";
/// The version each simulated kiosk runs at first (slot A).
pub const RUNNING: &str = "2026.9.0";
/// The update.
pub const NEW: &str = "2026.11.0";

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `deploy/rauc`: system.conf, the boot script and the key and bundle scripts.
pub fn rauc_dir() -> PathBuf {
    repo().join("deploy/rauc")
}

/// Runs `cmd`, panics with its output unless it succeeds; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unique() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A signing PKI from `make-keys.sh all`: root CA and code-signing leaf.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The root CA certificate (the kiosk's keyring).
    pub ca: PathBuf,
    /// The signing certificate.
    pub cert: PathBuf,
    /// The signing key.
    pub key: PathBuf,
}

impl Pki {
    /// Generates a fresh PKI into `dir` (2048-bit keys: quicker, same structure).
    pub fn generate(dir: &Path, org: &str) -> Pki {
        run(Command::new(rauc_dir().join("make-keys.sh"))
            .arg("all")
            .arg(dir)
            .env("KIOSK_PKI_BITS", "2048")
            .env("KIOSK_PKI_ORG", org));
        Pki {
            ca: dir.join("ca.cert.pem"),
            cert: dir.join("signing.cert.pem"),
            key: dir.join("signing.key.pem"),
        }
    }
}

/// An ext4 root file system image of `size_mib` MiB whose `/etc/os-release` says
/// `VERSION_ID=version`, with `random_kib` KiB of random data (a verity bundle's squashfs
/// must be larger than 4 KiB, and two images must differ).
pub fn rootfs(dir: &Path, version: &str, size_mib: u64, random_kib: usize) -> PathBuf {
    let n = unique();
    let tree = dir.join(format!("tree-{n}"));
    std::fs::create_dir_all(tree.join("etc")).unwrap();
    std::fs::write(tree.join("etc/os-release"), format!("NAME=\"Kiosk\"\nVERSION_ID={version}\n")).unwrap();
    let mut random = vec![0u8; random_kib * 1024];
    use std::io::Read;
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut random).unwrap();
    std::fs::write(tree.join("etc/padding"), random).unwrap();
    let out = dir.join(format!("rootfs-{version}-{n}.ext4"));
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-L", "rootfs", "-d"])
        .arg(&tree)
        .arg(&out)
        .arg(format!("{size_mib}M")));
    std::fs::remove_dir_all(&tree).unwrap();
    out
}

/// The bundle format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// What CI can install (no dm-verity in its kernel).
    Plain,
    /// What the kiosk accepts.
    Verity,
}

/// Builds and signs a bundle with `deploy/rauc/make-bundle.sh` (which also verifies it
/// against `pki.ca`).
pub fn bundle(
    pki: &Pki,
    image: &Path,
    version: &str,
    compatible: &str,
    format: Format,
    out: &Path,
) -> PathBuf {
    let format = match format {
        Format::Plain => "plain",
        Format::Verity => "verity",
    };
    run(Command::new(rauc_dir().join("make-bundle.sh"))
        .arg("--rootfs")
        .arg(image)
        .args(["--version", version, "--compatible", compatible, "--format", format])
        .arg("--cert")
        .arg(&pki.cert)
        .arg("--key")
        .arg(&pki.key)
        .arg("--keyring")
        .arg(&pki.ca)
        .arg("--out")
        .arg(out));
    out.to_path_buf()
}

/// Whether the first bytes of `slot` are exactly `image`.
pub fn holds(slot: &Path, image: &Path) -> bool {
    use std::io::Read;
    let (mut a, mut b) = (std::fs::File::open(image).unwrap(), std::fs::File::open(slot).unwrap());
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = a.read(&mut x).unwrap();
        if n == 0 {
            return true;
        }
        if b.read_exact(&mut y[..n]).is_err() || x[..n] != y[..n] {
            return false;
        }
    }
}

/// The agent's status file, as the admin screen reads it.
pub fn status(path: &Path) -> kiosk_update::status::Status {
    kiosk_update::status::read(path).unwrap_or_else(|e| panic!("status file {}: {e}", path.display()))
}
