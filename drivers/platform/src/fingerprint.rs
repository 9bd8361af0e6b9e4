//! The terminal fingerprint for registration: SHA-256 over the hardware identifiers — the
//! board's serial (`/proc/cpuinfo` `Serial`, or the device tree's `serial-number`),
//! `/etc/machine-id`, and the card reader's serial where the reader reports one.
//! Replacing any of them means registering again (as the platform requires).

use std::fs;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The identifiers that go into the fingerprint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HardwareIds {
    pub board_serial: Option<String>,
    pub machine_id: Option<String>,
    pub reader_serial: Option<String>,
}

impl HardwareIds {
    /// Reads them below `root` (`/` on the kiosk; a test directory in tests).
    pub fn read(root: &Path, reader_serial: Option<&str>) -> Self {
        let text = |p: &str| fs::read_to_string(root.join(p)).ok();
        let board_serial = text("proc/cpuinfo")
            .and_then(|c| {
                c.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    (k.trim() == "Serial").then(|| v.trim().to_owned())
                })
            })
            .or_else(|| text("sys/firmware/devicetree/base/serial-number"))
            .map(|s| s.trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_owned())
            .filter(|s| !s.is_empty());
        let machine_id = text("etc/machine-id").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        HardwareIds { board_serial, machine_id, reader_serial: reader_serial.map(str::to_owned) }
    }

    /// SHA-256 over the labelled identifiers (absent ones as empty values).
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for (label, value) in [
            ("board-serial", &self.board_serial),
            ("machine-id", &self.machine_id),
            ("reader-serial", &self.reader_serial),
        ] {
            h.update(label.as_bytes());
            h.update(b"=");
            h.update(value.as_deref().unwrap_or("").as_bytes());
            h.update(b"\n");
        }
        h.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_identifiers_and_each_one_changes_the_fingerprint() {
        let root = std::env::temp_dir().join(format!("kiosk-fp-{}", std::process::id()));
        fs::create_dir_all(root.join("proc")).unwrap();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("proc/cpuinfo"), "processor\t: 0\nSerial\t\t: 10000000abcdef01\n").unwrap();
        fs::write(root.join("etc/machine-id"), "0123456789abcdef0123456789abcdef\n").unwrap();
        let ids = HardwareIds::read(&root, Some("RDR-1"));
        assert_eq!(ids.board_serial.as_deref(), Some("10000000abcdef01"));
        assert_eq!(ids.machine_id.as_deref(), Some("0123456789abcdef0123456789abcdef"));
        let base = ids.fingerprint();
        assert_eq!(base, HardwareIds::read(&root, Some("RDR-1")).fingerprint());
        assert_ne!(base, HardwareIds::read(&root, Some("RDR-2")).fingerprint());
        assert_ne!(base, HardwareIds { machine_id: None, ..ids.clone() }.fingerprint());
        assert_ne!(base, HardwareIds { board_serial: Some("x".into()), ..ids }.fingerprint());
        fs::remove_dir_all(&root).unwrap();
    }
}
