//! A USB HID keyboard-wedge scanner read through evdev, grabbed so that its keystrokes
//! reach nothing else (no desktop, no terminal, no other program).
//!
//! This file only opens, grabs and reads; decoding is [`Wedge`]'s.

use std::collections::VecDeque;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use evdev::{Device, KeyCode};

use crate::error::ScannerError;
use crate::keymap::Layout;
use crate::line::LineConfig;
use crate::poll::{Readiness, wait_readable};
use crate::scanner::Scanner;
use crate::wedge::{Wedge, choose_device};

/// Where udev lists input devices by stable names (`usb-<vendor>_<model>-event-kbd`).
pub const BY_ID_DIR: &str = "/dev/input/by-id";

/// Which input device is the scanner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    /// An event device path (`/dev/input/event3`, or a `by-id`/`by-path` link).
    Path(PathBuf),
    /// Part of the device's name under `/dev/input/by-id` (case-insensitive), e.g.
    /// `Honeywell` or `DENSO_WAVE`; see [`choose_device`].
    Name(String),
}

/// Finds the device matching `pattern` in `dir` (normally [`BY_ID_DIR`]).
///
/// # Errors
/// [`ScannerError::DeviceNotFound`] if nothing matches or `dir` cannot be read (it does not
/// exist while no input device is plugged in).
pub fn find_device(dir: &Path, pattern: &str) -> Result<PathBuf, ScannerError> {
    let not_found = || ScannerError::DeviceNotFound { pattern: pattern.to_owned(), dir: dir.to_owned() };
    let entries = std::fs::read_dir(dir).map_err(|_| not_found())?;
    let names: Vec<String> =
        entries.filter_map(Result::ok).filter_map(|e| e.file_name().into_string().ok()).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    choose_device(&refs, pattern).map(|n| dir.join(n)).ok_or_else(not_found)
}

/// A grabbed keyboard-wedge scanner.
#[derive(Debug)]
pub struct EvdevScanner {
    device: Device,
    path: PathBuf,
    wedge: Wedge,
    pending: VecDeque<Result<String, ScannerError>>,
}

impl EvdevScanner {
    /// Opens and grabs the scanner.
    ///
    /// # Errors
    /// [`ScannerError::DeviceNotFound`], [`ScannerError::Open`] (no such path, no
    /// permission), [`ScannerError::NotAKeyboard`], [`ScannerError::GrabFailed`]
    /// (another program holds it: the kiosk never reads a scanner it cannot hold).
    pub fn open(spec: &DeviceSpec, layout: Layout, config: LineConfig) -> Result<EvdevScanner, ScannerError> {
        let path = match spec {
            DeviceSpec::Path(p) => p.clone(),
            DeviceSpec::Name(pattern) => find_device(Path::new(BY_ID_DIR), pattern)?,
        };
        let mut device =
            Device::open(&path).map_err(|source| ScannerError::Open { path: path.clone(), source })?;
        let has_keys = device.supported_keys().is_some_and(|keys| keys.contains(KeyCode::KEY_ENTER));
        if !has_keys {
            return Err(ScannerError::NotAKeyboard { path });
        }
        device.grab().map_err(|source| ScannerError::GrabFailed { path: path.clone(), source })?;
        device.set_nonblocking(true).map_err(|source| ScannerError::Open { path: path.clone(), source })?;
        tracing::info!(path = %path.display(), name = device.name().unwrap_or("?"), "scanner: grabbed");
        Ok(EvdevScanner { device, path, wedge: Wedge::new(layout, config), pending: VecDeque::new() })
    }

    /// The device path that was opened.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn unplugged(&self) -> ScannerError {
        ScannerError::Unplugged { device: self.path.display().to_string() }
    }

    fn read_available(&mut self) -> Result<(), ScannerError> {
        let fetched = match self.device.fetch_events() {
            Ok(events) => {
                let now = Instant::now();
                for ev in events {
                    if let Some(r) =
                        self.wedge.event(ev.event_type().0, ev.code(), ev.value(), now).transpose()
                    {
                        self.pending.push_back(r.map_err(ScannerError::from));
                    }
                }
                Ok(())
            }
            Err(e) => Err(e),
        };
        match fetched {
            Ok(()) => Ok(()),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Ok(()),
            Err(e) if e.raw_os_error() == Some(nix::libc::ENODEV) => Err(self.unplugged()),
            Err(source) => Err(ScannerError::Io { device: self.path.display().to_string(), source }),
        }
    }
}

impl Scanner for EvdevScanner {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, ScannerError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.pending.pop_front() {
                return r.map(Some);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let ready = wait_readable(self.device.as_fd(), left)
                .map_err(|source| ScannerError::Io { device: self.path.display().to_string(), source })?;
            match ready {
                Readiness::Readable => self.read_available()?,
                Readiness::Hangup => return Err(self.unplugged()),
                Readiness::TimedOut if Instant::now() >= deadline => return Ok(None),
                Readiness::TimedOut => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn temp_dir(tag: &str) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kiosk-scanner-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        dir
    }

    #[test]
    fn find_device_picks_the_keyboard_interface_in_a_by_id_directory() {
        let dir = temp_dir("byid");
        for name in ["usb-Honeywell_1900g-event-if01", "usb-Honeywell_1900g-event-kbd", "usb-Other-event-kbd"]
        {
            if let Err(e) = std::fs::write(dir.join(name), b"") {
                panic!("{e}");
            }
        }
        match find_device(&dir, "honeywell") {
            Ok(p) => assert_eq!(p, dir.join("usb-Honeywell_1900g-event-kbd")),
            Err(e) => panic!("{e}"),
        }
        match find_device(&dir, "zebra") {
            Err(ScannerError::DeviceNotFound { pattern, .. }) => assert_eq!(pattern, "zebra"),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_by_id_directory_is_device_not_found_with_advice() {
        let dir = temp_dir("nodir").join("absent");
        match find_device(&dir, "honeywell") {
            Err(e @ ScannerError::DeviceNotFound { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("plug the scanner in"), "{msg}");
                assert!(e.is_fatal());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn opening_a_path_that_does_not_exist_is_an_open_error() {
        let spec = DeviceSpec::Path(PathBuf::from("/nonexistent/dev/input/event99"));
        match EvdevScanner::open(&spec, Layout::Us, LineConfig::default()) {
            Err(e @ ScannerError::Open { .. }) => assert!(e.to_string().contains("check the path"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn opening_something_that_is_not_an_input_device_fails_cleanly() {
        // A regular file: the evdev ioctls fail, so this is an Open error, not a panic.
        let dir = temp_dir("notinput");
        let file = dir.join("event0");
        if let Err(e) = std::fs::write(&file, b"not an input device") {
            panic!("{e}");
        }
        let r = EvdevScanner::open(&DeviceSpec::Path(file), Layout::Us, LineConfig::default());
        assert!(matches!(r, Err(ScannerError::Open { .. } | ScannerError::NotAKeyboard { .. })), "{r:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
