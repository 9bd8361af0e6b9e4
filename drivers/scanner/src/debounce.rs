//! Dropping the same barcode read twice in a row.
//!
//! A scanner in presentation (hands-free) mode reads a book again while it stays in the
//! beam; a patron may also pull the trigger twice. Only the last text is remembered, so
//! `A, B, A` is three scans however fast it comes.

use std::time::{Duration, Instant};

/// Drops a scan equal to the previous one that came within `window` of it.
///
/// The window counts from the last time the text was *seen*, dropped or not, so a book
/// held under a scanner that re-reads it every second stays one scan.
#[derive(Clone, Debug)]
pub struct Debounce {
    window: Duration,
    last: Option<(String, Instant)>,
}

impl Debounce {
    /// The default window.
    pub const DEFAULT_WINDOW: Duration = Duration::from_millis(1500);

    /// A debounce with `window`; `Duration::ZERO` drops nothing.
    #[must_use]
    pub fn new(window: Duration) -> Debounce {
        Debounce { window, last: None }
    }

    /// The window.
    #[must_use]
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Whether `text`, seen at `now`, is a new scan (true) or a repeat to drop (false).
    pub fn accept(&mut self, text: &str, now: Instant) -> bool {
        let repeat = match &self.last {
            Some((last, at)) => last == text && now.saturating_duration_since(*at) < self.window,
            None => false,
        };
        match &mut self.last {
            Some((last, at)) if last == text => *at = now,
            _ => self.last = Some((text.to_owned(), now)),
        }
        !repeat
    }

    /// Forgets the last scan (e.g. at the end of a patron session, so the next patron
    /// may scan the same book at once).
    pub fn reset(&mut self) {
        self.last = None;
    }
}

impl Default for Debounce {
    /// 1.5 s.
    fn default() -> Debounce {
        Debounce::new(Debounce::DEFAULT_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_same_text_within_the_window_is_dropped() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert!(d.accept("111", t0));
        assert!(!d.accept("111", t0 + ms(1499)));
    }

    #[test]
    fn the_same_text_after_the_window_is_a_new_scan() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert!(d.accept("111", t0));
        assert!(d.accept("111", t0 + ms(1500)));
    }

    #[test]
    fn a_held_barcode_stays_one_scan() {
        let t0 = Instant::now();
        let mut d = Debounce::new(ms(1000));
        assert!(d.accept("111", t0));
        for i in 1..10 {
            assert!(!d.accept("111", t0 + ms(900 * i)), "re-read {i}");
        }
        assert!(d.accept("111", t0 + ms(8100 + 1000)));
    }

    #[test]
    fn different_text_is_always_accepted_and_only_the_last_is_remembered() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert!(d.accept("A", t0));
        assert!(d.accept("B", t0 + ms(1)));
        assert!(d.accept("A", t0 + ms(2)));
        assert!(!d.accept("A", t0 + ms(3)));
    }

    #[test]
    fn zero_window_drops_nothing() {
        let t0 = Instant::now();
        let mut d = Debounce::new(Duration::ZERO);
        assert!(d.accept("A", t0));
        assert!(d.accept("A", t0));
    }

    #[test]
    fn reset_forgets() {
        let t0 = Instant::now();
        let mut d = Debounce::default();
        assert!(d.accept("A", t0));
        d.reset();
        assert!(d.accept("A", t0 + ms(1)));
    }
}
