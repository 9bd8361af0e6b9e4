#![allow(clippy::unwrap_used)]
//! The unit files in `systemd/` as systemd 252 (Debian 12) reads them: `systemd-analyze
//! verify` must print nothing (no warning), and `systemd-analyze security --offline=yes`
//! must rate every unit at or below the threshold. The units are checked as shipped,
//! except that `/usr/bin/` is pointed at the binaries this build made (verify checks that
//! each `ExecStart` is executable).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The exposure every unit must stay at or below, in systemd's integer form (tenths:
/// 25 = 2.5; measured: kiosk 1.7, kiosk-health 2.0, kiosk-update 2.0, kiosk-usb-gadget
/// 1.1).
const SECURITY_THRESHOLD: &str = "25";

/// Every unit in `systemd/`.
const UNITS: [&str; 4] =
    ["kiosk.service", "kiosk-health.service", "kiosk-update.service", "kiosk-usb-gadget.service"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A directory of the units with `/usr/bin/kiosk-update` and `/usr/bin/kiosk` pointing at
/// the built binaries (`kiosk` may not be built when this crate is tested alone: then
/// `/bin/true` stands in for it).
fn units() -> PathBuf {
    // One directory per call: the tests run in parallel and must not remove each other's.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kiosk-units-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let update = env!("CARGO_BIN_EXE_kiosk-update");
    let kiosk = Path::new(update).with_file_name("kiosk");
    let kiosk = if kiosk.exists() { kiosk.display().to_string() } else { "/bin/true".to_owned() };
    let gadget = root().join("deploy/usb-gadget/kiosk-usb-gadget.sh");
    for unit in UNITS {
        let text = std::fs::read_to_string(root().join("systemd").join(unit)).unwrap();
        let text = text
            .replace("/usr/bin/kiosk-update", update)
            .replace("/usr/bin/kiosk ", &format!("{kiosk} "))
            .replace("/usr/lib/kiosk/kiosk-usb-gadget.sh", &gadget.display().to_string());
        std::fs::write(dir.join(unit), text).unwrap();
    }
    dir
}

#[test]
fn the_units_verify_without_a_single_warning() {
    let dir = units();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(UNITS.map(|u| dir.join(u)))
        .output()
        .expect("systemd-analyze (Debian systemd) is installed by cargo xtask test");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "systemd-analyze verify failed:\n{stdout}{stderr}");
    assert!(stderr.trim().is_empty() && stdout.trim().is_empty(), "warnings:\n{stdout}{stderr}");
}

#[test]
fn every_unit_is_hardened_below_the_threshold() {
    let dir = units();
    for unit in UNITS {
        let out = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(format!("--threshold={SECURITY_THRESHOLD}"))
            .arg(dir.join(unit))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let score = stdout.lines().find(|l| l.contains("Overall exposure level")).unwrap_or("").to_owned();
        println!("{score}");
        assert!(
            out.status.success(),
            "{unit}: exposure above {SECURITY_THRESHOLD} tenths:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(score.contains(unit), "no score for {unit} in:\n{stdout}");
    }
}
