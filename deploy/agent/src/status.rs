//! The status file the admin screen reads: what the agent is doing, its progress and the
//! last error, in words a librarian can pass on to IT. Written atomically (temp + rename).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What the agent is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Up to date; nothing to do.
    Idle,
    /// An update is waiting (why).
    Deferred {
        /// Why it waits.
        reason: String,
    },
    /// Downloading.
    Downloading {
        /// 0–100.
        percent: u8,
    },
    /// RAUC is writing the other slot.
    Installing {
        /// 0–100, from RAUC's Progress.
        percent: u8,
        /// RAUC's progress message.
        step: String,
    },
    /// Installed; the kiosk reboots into it when idle.
    WaitingForReboot,
    /// The last attempt failed; the old version keeps running.
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// The whole status record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// What the agent is doing.
    #[serde(flatten)]
    pub phase: Phase,
    /// The version being installed (or that failed), if any.
    pub version: Option<String>,
    /// Seconds since the Unix epoch of this record.
    pub at: u64,
}

impl Status {
    /// A record stamped now.
    pub fn now(phase: Phase, version: Option<String>) -> Self {
        let at = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Status { phase, version, at }
    }
}

/// Writes `status` to `path` atomically. Errors are returned, not fatal: a full disk
/// must not stop the agent from reporting to the server.
pub fn write(path: &Path, status: &Status) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let json = serde_json::to_vec_pretty(status).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)
}

/// Reads the status file (the admin screen's side).
pub fn read(path: &Path) -> std::io::Result<Status> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_a_flat_phase_tag() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s/status.json");
        let s = Status::now(Phase::Failed { error: "disk full".into() }, Some("2026.11.0".into()));
        write(&p, &s).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"phase\": \"failed\""), "{text}");
        assert_eq!(read(&p).unwrap(), s);
    }
}
