//! What staff ask for on the kiosk's Software update page. The kiosk (which runs as its
//! own user, without the right to install or reboot) writes one word to
//! `policy.request_file` (`/run/kiosk/update-request`); the agent looks for it every
//! second between polls, acts, and removes it. The kiosk shows "asked" while the file is
//! there, so staff see whether the agent picked it up.
//!
//! - `check`: poll the server now instead of at the next interval.
//! - `install`: staff agree to install outside the maintenance window: the next
//!   deployment installs (and reboots) as soon as the kiosk is idle. Never during a
//!   patron session, and never against the server's own window.
//! - `reboot`: reboot the board now if no session runs (an installed update then starts).

use std::path::Path;

/// One request from the admin screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Check,
    Install,
    Reboot,
}

impl Request {
    /// The word in the file.
    pub fn word(self) -> &'static str {
        match self {
            Request::Check => "check",
            Request::Install => "install",
            Request::Reboot => "reboot",
        }
    }

    /// The request a file's text names.
    pub fn parse(text: &str) -> Option<Request> {
        [Request::Check, Request::Install, Request::Reboot].into_iter().find(|r| r.word() == text.trim())
    }
}

/// Reads and removes the request file: `None` when there is none. A file that cannot be
/// read or names no request is removed with a warning, so it does not come back.
pub fn take(path: &Path) -> Option<Request> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the admin screen's request cannot be read");
            let _ = std::fs::remove_file(path);
            return None;
        }
    };
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(path = %path.display(), error = %e, "the admin screen's request cannot be removed");
    }
    let request = Request::parse(&text);
    if request.is_none() {
        tracing::warn!(path = %path.display(), "the admin screen's request names nothing this agent does");
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("update-request");
        assert_eq!(take(&file), None);
        for r in [Request::Check, Request::Install, Request::Reboot] {
            std::fs::write(&file, format!("{}\n", r.word())).unwrap();
            assert_eq!(take(&file), Some(r));
            assert!(!file.exists());
            assert_eq!(take(&file), None);
        }
        std::fs::write(&file, "format the disk\n").unwrap();
        assert_eq!(take(&file), None);
        assert!(!file.exists(), "an unknown request is removed");
    }
}
