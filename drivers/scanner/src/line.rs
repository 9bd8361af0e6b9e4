//! Characters → scans: one scan is one line, ended by the scanner's configured suffix.

use std::time::{Duration, Instant};

use crate::error::LineTooLong;

/// What ends a scan: the suffix the scanner is configured to send after each barcode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Terminator {
    /// Carriage return or line feed (`'\r'`, `'\n'`; Enter on a wedge scanner). A CR LF
    /// pair ends one scan, not two: empty lines are never scans.
    #[default]
    Enter,
    /// Horizontal tab (`'\t'`).
    Tab,
    /// A printable character the scanner appends (it is not part of the scan).
    Char(char),
}

impl Terminator {
    fn ends_line(self, c: char) -> bool {
        match self {
            Terminator::Enter => c == '\r' || c == '\n',
            Terminator::Tab => c == '\t',
            Terminator::Char(t) => c == t,
        }
    }
}

/// How scans are cut into lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineConfig {
    /// What ends a scan.
    pub terminator: Terminator,
    /// The longest scan accepted, in characters; a longer one is discarded whole.
    pub max_len: usize,
    /// A pause longer than this between two characters discards the half line before
    /// it (a scan interrupted, or stray keys). `None`: no limit (files, FIFOs).
    pub idle_gap: Option<Duration>,
}

impl LineConfig {
    /// The default maximum scan length.
    pub const DEFAULT_MAX_LEN: usize = 256;
    /// The default idle gap: scanners send a whole barcode within a few tens of ms.
    pub const DEFAULT_IDLE_GAP: Duration = Duration::from_millis(500);
}

impl Default for LineConfig {
    /// Enter, 256 characters, 500 ms.
    fn default() -> LineConfig {
        LineConfig {
            terminator: Terminator::Enter,
            max_len: LineConfig::DEFAULT_MAX_LEN,
            idle_gap: Some(LineConfig::DEFAULT_IDLE_GAP),
        }
    }
}

/// Assembles characters into scans (the buffer holds ASCII only, so bytes = characters). No clock inside: each character comes with the
/// instant it arrived.
///
/// - Only printable ASCII is kept; other control characters (a scanner's STX/ETX
///   framing, Enter when the terminator is Tab, …) are dropped.
/// - A line longer than `max_len` is discarded whole and reported once, as soon as it
///   overflows ([`LineTooLong`]); the characters up to its terminator are dropped.
/// - A pause longer than `idle_gap` discards the half line before it.
/// - An empty line is not a scan.
#[derive(Clone, Debug)]
pub struct LineAssembler {
    config: LineConfig,
    buf: String,
    overflowed: bool,
    last: Option<Instant>,
    discarded: u64,
}

impl LineAssembler {
    /// An assembler with nothing pending.
    #[must_use]
    pub fn new(config: LineConfig) -> LineAssembler {
        LineAssembler { config, buf: String::new(), overflowed: false, last: None, discarded: 0 }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &LineConfig {
        &self.config
    }

    /// Whether part of a line is waiting for its terminator.
    #[must_use]
    pub fn pending(&self) -> bool {
        !self.buf.is_empty() || self.overflowed
    }

    /// How many half lines the idle gap has discarded so far.
    #[must_use]
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Feeds one character that arrived at `now`.
    ///
    /// Returns the finished scan when `c` is the terminator.
    ///
    /// # Errors
    /// [`LineTooLong`] once for a line that grows past `max_len` (the line is dropped,
    /// and so is the rest of it up to the terminator).
    pub fn push(&mut self, c: char, now: Instant) -> Result<Option<String>, LineTooLong> {
        self.expire(now);
        // The latest instant seen: an instant out of order never makes a gap.
        self.last = Some(self.last.map_or(now, |last| last.max(now)));
        if self.config.terminator.ends_line(c) {
            let line = std::mem::take(&mut self.buf);
            let overflowed = std::mem::replace(&mut self.overflowed, false);
            return Ok((!overflowed && !line.is_empty()).then_some(line));
        }
        if !(' '..='~').contains(&c) || self.overflowed {
            return Ok(None);
        }
        if self.buf.len() >= self.config.max_len {
            self.buf.clear();
            self.overflowed = true;
            return Err(LineTooLong { max: self.config.max_len });
        }
        self.buf.push(c);
        Ok(None)
    }

    /// Feeds bytes (a serial port, a file) that arrived at `now`; bytes outside ASCII are
    /// dropped. Returns every result in order.
    pub fn push_bytes(&mut self, bytes: &[u8], now: Instant) -> Vec<Result<String, LineTooLong>> {
        bytes
            .iter()
            .filter(|b| b.is_ascii())
            .filter_map(|&b| self.push(char::from(b), now).transpose())
            .collect()
    }

    /// Discards a half line whose last character is older than the idle gap at `now`.
    /// Returns whether something was discarded.
    pub fn expire(&mut self, now: Instant) -> bool {
        let (Some(gap), Some(last)) = (self.config.idle_gap, self.last) else {
            return false;
        };
        if self.pending() && now.saturating_duration_since(last) > gap {
            tracing::debug!(chars = self.buf.len(), "scanner: idle gap, half line discarded");
            self.buf.clear();
            self.overflowed = false;
            self.discarded += 1;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Pushes `text` one character per millisecond from `t`; returns results and the end instant.
    fn type_text(
        a: &mut LineAssembler,
        text: &str,
        t: Instant,
    ) -> (Vec<Result<String, LineTooLong>>, Instant) {
        let mut now = t;
        let mut out = Vec::new();
        for c in text.chars() {
            if let Some(r) = a.push(c, now).transpose() {
                out.push(r);
            }
            now += ms(1);
        }
        (out, now)
    }

    fn ok(s: &str) -> Result<String, LineTooLong> {
        Ok(s.to_owned())
    }

    #[test]
    fn enter_ends_a_scan_and_crlf_is_one_scan() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig::default());
        let (out, _) = type_text(&mut a, "123\r\n456\n\n789\r", t0);
        assert_eq!(out, [ok("123"), ok("456"), ok("789")]);
        assert!(!a.pending());
    }

    #[test]
    fn tab_terminator_ignores_enter() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { terminator: Terminator::Tab, ..LineConfig::default() });
        let (out, _) = type_text(&mut a, "12\n3\t45\t", t0);
        assert_eq!(out, [ok("123"), ok("45")]);
    }

    #[test]
    fn char_terminator_is_not_part_of_the_scan() {
        let t0 = Instant::now();
        let mut a =
            LineAssembler::new(LineConfig { terminator: Terminator::Char('#'), ..LineConfig::default() });
        let (out, _) = type_text(&mut a, "A123B#\rX#", t0);
        assert_eq!(out, [ok("A123B"), ok("X")]);
    }

    #[test]
    fn control_and_non_ascii_characters_are_dropped() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig::default());
        let (out, _) = type_text(&mut a, "\u{2}12\u{7f}3é\u{3}\n", t0);
        assert_eq!(out, [ok("123")]);
        let bytes = a.push_bytes(b"\x0245\xff6\x03\r\n", t0 + ms(100));
        assert_eq!(bytes, [ok("456")]);
    }

    #[test]
    fn exactly_max_len_is_accepted() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { max_len: 5, ..LineConfig::default() });
        let (out, _) = type_text(&mut a, "12345\n", t0);
        assert_eq!(out, [ok("12345")]);
    }

    #[test]
    fn an_over_long_line_is_reported_once_and_discarded_not_truncated() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { max_len: 5, ..LineConfig::default() });
        let (out, _) = type_text(&mut a, "123456789\nabc\n", t0);
        assert_eq!(out, [Err(LineTooLong { max: 5 }), ok("abc")]);
    }

    #[test]
    fn default_max_len_is_256() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { idle_gap: None, ..LineConfig::default() });
        let long = "7".repeat(256);
        let (out, _) = type_text(&mut a, &format!("{long}\n{long}8\n"), t0);
        assert_eq!(out, [Ok(long), Err(LineTooLong { max: 256 })]);
    }

    #[test]
    fn an_idle_gap_discards_the_half_line() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { idle_gap: Some(ms(100)), ..LineConfig::default() });
        let (out, t) = type_text(&mut a, "999", t0);
        assert!(out.is_empty());
        assert!(a.pending());
        let (out, _) = type_text(&mut a, "123\n", t + ms(101));
        assert_eq!(out, [ok("123")]);
        assert_eq!(a.discarded(), 1);
    }

    #[test]
    fn a_pause_within_the_idle_gap_keeps_the_line() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { idle_gap: Some(ms(100)), ..LineConfig::default() });
        let (_, t) = type_text(&mut a, "12", t0);
        let (out, _) = type_text(&mut a, "3\n", t - ms(1) + ms(100));
        assert_eq!(out, [ok("123")]);
        assert_eq!(a.discarded(), 0);
    }

    #[test]
    fn expire_without_a_new_character() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { idle_gap: Some(ms(100)), ..LineConfig::default() });
        assert!(!a.expire(t0 + ms(1000)), "nothing pending");
        let (_, t) = type_text(&mut a, "12", t0);
        assert!(!a.expire(t + ms(50)));
        assert!(a.expire(t + ms(200)));
        assert!(!a.pending());
    }

    #[test]
    fn an_idle_gap_also_ends_an_overflowed_line() {
        let t0 = Instant::now();
        let mut a =
            LineAssembler::new(LineConfig { max_len: 3, idle_gap: Some(ms(100)), ..LineConfig::default() });
        let (out, t) = type_text(&mut a, "12345", t0);
        assert_eq!(out, [Err(LineTooLong { max: 3 })]);
        // The rest of that line never arrived; the next scan is read normally.
        let (out, _) = type_text(&mut a, "67\n", t + ms(500));
        assert_eq!(out, [ok("67")]);
    }

    #[test]
    fn no_idle_gap_means_no_limit() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { idle_gap: None, ..LineConfig::default() });
        let (_, t) = type_text(&mut a, "12", t0);
        let (out, _) = type_text(&mut a, "3\n", t + Duration::from_secs(3600));
        assert_eq!(out, [ok("123")]);
    }

    #[test]
    fn a_terminator_after_a_gap_ends_nothing() {
        let t0 = Instant::now();
        let mut a = LineAssembler::new(LineConfig { idle_gap: Some(ms(100)), ..LineConfig::default() });
        let (_, t) = type_text(&mut a, "12", t0);
        assert_eq!(a.push('\n', t + ms(500)), Ok(None));
    }

    #[test]
    fn instants_going_backwards_do_not_panic_or_discard() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut a = LineAssembler::new(LineConfig::default());
        assert_eq!(a.push('1', t0), Ok(None));
        assert_eq!(a.push('2', t0 - Duration::from_secs(5)), Ok(None));
        assert_eq!(a.push('\n', t0), Ok(Some("12".to_owned())));
    }
}
