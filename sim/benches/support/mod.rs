//! What the simulator's benches share.

use std::path::{Path, PathBuf};

/// A `/proc/self/status` figure in KiB (`VmHWM:`, `VmRSS:`), 0 when absent.
pub fn vm(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// `target/<name>`, made if missing: where a bench keeps the files it generates.
pub fn out_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target").join(name);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}
