//! The outputs and the patterns they show.

use core::fmt;
use std::time::Duration;

/// One output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Line {
    /// The staff-call lamp (tower light).
    StaffLamp,
    /// The buzzer.
    Buzzer,
    /// The door or security gate release (optional).
    Gate,
}

impl Line {
    /// Every line, in a fixed order.
    pub const ALL: [Line; 3] = [Line::StaffLamp, Line::Buzzer, Line::Gate];

    pub(crate) fn index(self) -> usize {
        match self {
            Line::StaffLamp => 0,
            Line::Buzzer => 1,
            Line::Gate => 2,
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Line::StaffLamp => "staff-call lamp",
            Line::Buzzer => "buzzer",
            Line::Gate => "gate output",
        })
    }
}

/// What a line does over time, from the instant the pattern was set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Low.
    #[default]
    Off,
    /// High.
    Steady,
    /// High for `on`, low for `off`, repeating.
    Blink { on: Duration, off: Duration },
    /// High for `on`, once; then low.
    Beep { on: Duration },
    /// High for `on` at the start of every `period` (`on ≥ period` is steady).
    Repeat { on: Duration, period: Duration },
    /// `count` beeps of `on`, `off` apart; then low (an error tone).
    Pulses { on: Duration, off: Duration, count: u8 },
}

impl Pattern {
    /// The level `elapsed` after the pattern started (true = high).
    #[must_use]
    pub fn level_at(&self, elapsed: Duration) -> bool {
        match *self {
            Pattern::Off => false,
            Pattern::Steady => true,
            Pattern::Blink { on, off } => cycle(elapsed, on, on.saturating_add(off)),
            Pattern::Beep { on } => elapsed < on,
            Pattern::Repeat { on, period } => cycle(elapsed, on, period),
            Pattern::Pulses { on, off, count } => {
                let period = on.saturating_add(off);
                let end = period.saturating_mul(u32::from(count));
                elapsed < end && cycle(elapsed, on, period)
            }
        }
    }

    /// Whether setting this pattern again restarts it: a beep beeps again; a steady or
    /// periodic pattern keeps its phase (so an orchestrator repeating itself does not
    /// make a blink stutter).
    #[must_use]
    pub fn restarts(&self) -> bool {
        matches!(self, Pattern::Beep { .. } | Pattern::Pulses { .. })
    }
}

fn cycle(elapsed: Duration, on: Duration, period: Duration) -> bool {
    if period.is_zero() {
        return !on.is_zero();
    }
    elapsed.as_nanos() % period.as_nanos() < on.as_nanos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn off_and_steady() {
        for t in [0, 1, 1000, 86_400_000] {
            assert!(!Pattern::Off.level_at(ms(t)));
            assert!(Pattern::Steady.level_at(ms(t)));
        }
        assert_eq!(Pattern::default(), Pattern::Off);
    }

    #[test]
    fn blink_is_high_for_on_then_low_for_off() {
        let p = Pattern::Blink { on: ms(100), off: ms(300) };
        let levels: Vec<bool> =
            [0, 99, 100, 399, 400, 499, 500, 4_000_050].iter().map(|&t| p.level_at(ms(t))).collect();
        assert_eq!(levels, [true, true, false, false, true, true, false, true]);
    }

    #[test]
    fn beep_is_once() {
        let p = Pattern::Beep { on: ms(200) };
        assert!(p.level_at(ms(0)) && p.level_at(ms(199)));
        assert!(!p.level_at(ms(200)) && !p.level_at(ms(400)) && !p.level_at(ms(100_000)));
        assert!(!Pattern::Beep { on: Duration::ZERO }.level_at(ms(0)));
    }

    #[test]
    fn repeat_beeps_at_the_start_of_every_period() {
        let p = Pattern::Repeat { on: ms(100), period: ms(1000) };
        let levels: Vec<bool> =
            [0, 99, 100, 999, 1000, 1099, 1100, 7050].iter().map(|&t| p.level_at(ms(t))).collect();
        assert_eq!(levels, [true, true, false, false, true, true, false, true]);
        let always = Pattern::Repeat { on: ms(1000), period: ms(500) };
        assert!((0..50).all(|i| always.level_at(ms(i * 37))), "on ≥ period is steady");
    }

    #[test]
    fn pulses_beep_count_times_then_stop() {
        let p = Pattern::Pulses { on: ms(80), off: ms(70), count: 3 };
        let levels: Vec<bool> = [0, 79, 80, 149, 150, 229, 230, 300, 379, 380, 450, 10_000]
            .iter()
            .map(|&t| p.level_at(ms(t)))
            .collect();
        assert_eq!(levels, [true, true, false, false, true, true, false, true, true, false, false, false]);
        assert!(!Pattern::Pulses { on: ms(80), off: ms(70), count: 0 }.level_at(ms(0)), "no pulses: silent");
        assert!(p.restarts(), "a second error tone sounds again");
    }

    #[test]
    fn degenerate_durations_do_not_panic() {
        assert!(!Pattern::Blink { on: Duration::ZERO, off: ms(10) }.level_at(ms(5)), "never on");
        assert!(Pattern::Blink { on: ms(10), off: Duration::ZERO }.level_at(ms(15)), "never off");
        assert!(!Pattern::Blink { on: Duration::ZERO, off: Duration::ZERO }.level_at(ms(5)));
        assert!(Pattern::Repeat { on: ms(1), period: Duration::ZERO }.level_at(ms(5)));
        assert!(!Pattern::Repeat { on: Duration::ZERO, period: Duration::ZERO }.level_at(ms(5)));
        let huge = Pattern::Blink { on: Duration::MAX, off: Duration::MAX };
        assert!(huge.level_at(ms(5)));
    }

    #[test]
    fn only_beeps_restart() {
        assert!(Pattern::Beep { on: ms(1) }.restarts());
        assert!(Pattern::Pulses { on: ms(1), off: ms(1), count: 2 }.restarts());
        for p in [
            Pattern::Off,
            Pattern::Steady,
            Pattern::Blink { on: ms(1), off: ms(1) },
            Pattern::Repeat { on: ms(1), period: ms(2) },
        ] {
            assert!(!p.restarts(), "{p:?}");
        }
    }

    #[test]
    fn lines_have_names_for_messages() {
        assert_eq!(Line::StaffLamp.to_string(), "staff-call lamp");
        assert_eq!(Line::ALL.map(Line::index), [0, 1, 2]);
    }
}
