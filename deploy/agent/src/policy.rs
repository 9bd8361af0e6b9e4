//! When the agent may install and reboot: never during a patron session, only inside the
//! maintenance window when one is set, never when the server says the window is closed.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// A daily local-time window, `"22:00-06:00"` (wraps midnight when end < start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: u32,
    end: u32,
}

impl Window {
    /// Parses `"HH:MM-HH:MM"`.
    pub fn parse(text: &str) -> Result<Self, WindowError> {
        let minutes = |hm: &str| -> Result<u32, WindowError> {
            let time = || WindowError::Time(hm.trim().to_owned());
            let (h, m) = hm.trim().split_once(':').ok_or_else(time)?;
            let (h, m): (u32, u32) = (h.parse().map_err(|_| time())?, m.parse().map_err(|_| time())?);
            if h > 23 || m > 59 {
                return Err(time());
            }
            Ok(h * 60 + m)
        };
        let (a, b) = text.split_once('-').ok_or_else(|| WindowError::Format(text.to_owned()))?;
        let w = Window { start: minutes(a)?, end: minutes(b)? };
        if w.start == w.end {
            return Err(WindowError::Empty);
        }
        Ok(w)
    }

    /// Whether `minute_of_day` (local) is inside.
    pub fn contains(&self, minute_of_day: u32) -> bool {
        if self.start < self.end {
            (self.start..self.end).contains(&minute_of_day)
        } else {
            minute_of_day >= self.start || minute_of_day < self.end
        }
    }
}

/// A maintenance window that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// Not two times with a dash.
    #[error("{0:?} is not HH:MM-HH:MM (for example \"22:00-06:00\")")]
    Format(String),
    /// Not a time of day.
    #[error("{0:?} is not a time of day (00:00 to 23:59)")]
    Time(String),
    /// Start equals end.
    #[error("the window is empty (start equals end)")]
    Empty,
}

/// Why an install (or reboot) waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Defer {
    /// A patron or staff session is running.
    SessionActive,
    /// Outside the configured maintenance window.
    OutsideWindow,
    /// The server said the maintenance window is not open.
    ServerWindowClosed,
}

impl Defer {
    /// For the admin screen and the log.
    pub fn reason(&self) -> &'static str {
        match self {
            Defer::SessionActive => "waiting for the patron session to end",
            Defer::OutsideWindow => "waiting for the maintenance window",
            Defer::ServerWindowClosed => "the server's maintenance window is closed",
        }
    }
}

/// The local minute of the day now, for a fixed UTC offset.
pub fn local_minute_now(utc_offset_minutes: i32) -> u32 {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let minutes = i64::try_from(secs / 60).unwrap_or(0) + i64::from(utc_offset_minutes);
    u32::try_from(minutes.rem_euclid(24 * 60)).unwrap_or(0)
}

/// The decision: `None` = go ahead.
pub fn may_act(
    busy_file: &Path,
    window: Option<Window>,
    minute_of_day: u32,
    server_window: Option<&str>,
) -> Option<Defer> {
    if busy_file.exists() {
        return Some(Defer::SessionActive);
    }
    if server_window == Some("unavailable") {
        return Some(Defer::ServerWindowClosed);
    }
    match window {
        Some(w) if !w.contains(minute_of_day) => Some(Defer::OutsideWindow),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_wrap_midnight() {
        let night = Window::parse("22:00-06:00").unwrap();
        assert!(night.contains(23 * 60));
        assert!(night.contains(5 * 60 + 59));
        assert!(!night.contains(6 * 60));
        assert!(!night.contains(12 * 60));
        let lunch = Window::parse("12:00-13:00").unwrap();
        assert!(lunch.contains(12 * 60 + 30));
        assert!(!lunch.contains(13 * 60));
        assert!(Window::parse("12:00-12:00").is_err());
        assert!(Window::parse("noon").is_err());
    }

    #[test]
    fn session_beats_everything() {
        let dir = tempfile::tempdir().unwrap();
        let busy = dir.path().join("busy");
        assert_eq!(may_act(&busy, None, 0, None), None);
        assert_eq!(may_act(&busy, None, 0, Some("unavailable")), Some(Defer::ServerWindowClosed));
        let w = Window::parse("22:00-06:00").ok();
        assert_eq!(may_act(&busy, w, 12 * 60, None), Some(Defer::OutsideWindow));
        assert_eq!(may_act(&busy, w, 23 * 60, Some("available")), None);
        std::fs::write(&busy, b"").unwrap();
        assert_eq!(may_act(&busy, w, 23 * 60, None), Some(Defer::SessionActive));
    }
}
