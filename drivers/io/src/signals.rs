//! A pattern per line, turned into level changes on the [`Pins`]. No clock inside: every
//! call takes `now`.

use std::time::Instant;

use crate::error::IoError;
use crate::line::{Line, Pattern};
use crate::pins::Pins;

#[derive(Clone, Copy, Debug)]
struct Slot {
    pattern: Pattern,
    since: Instant,
    /// The level last written successfully; `None` before the first write.
    written: Option<bool>,
}

/// The outputs' state: which pattern each line shows since when, and what was written.
#[derive(Debug)]
pub struct Signals<P> {
    pins: P,
    slots: [Slot; 3],
}

impl<P: Pins> Signals<P> {
    /// Every line [`Pattern::Off`]; the first [`tick`](Self::tick) writes every line low.
    pub fn new(pins: P, now: Instant) -> Signals<P> {
        let slot = Slot { pattern: Pattern::Off, since: now, written: None };
        Signals { pins, slots: [slot; 3] }
    }

    /// Shows `pattern` on `line` from `now`. Setting the pattern a line already shows
    /// keeps its phase, except a beep, which beeps again ([`Pattern::restarts`]).
    /// Nothing is written until the next [`tick`](Self::tick).
    pub fn set(&mut self, line: Line, pattern: Pattern, now: Instant) {
        let slot = &mut self.slots[line.index()];
        if slot.pattern != pattern || pattern.restarts() {
            slot.pattern = pattern;
            slot.since = now;
        }
    }

    /// The pattern `line` shows.
    #[must_use]
    pub fn pattern(&self, line: Line) -> Pattern {
        self.slots[line.index()].pattern
    }

    /// The level last written to `line` (`None` before the first tick, or while writes fail).
    #[must_use]
    pub fn level(&self, line: Line) -> Option<bool> {
        self.slots[line.index()].written
    }

    /// Writes the level every line should have at `now`, where it changed.
    ///
    /// # Errors
    /// The first [`IoError`] from the pins; every line is still attempted, and a line
    /// whose write failed is written again on the next tick.
    pub fn tick(&mut self, now: Instant) -> Result<(), IoError> {
        let mut first_error = None;
        for line in Line::ALL {
            let slot = &mut self.slots[line.index()];
            let level = slot.pattern.level_at(now.saturating_duration_since(slot.since));
            if slot.written == Some(level) {
                continue;
            }
            match self.pins.write(line, level) {
                Ok(()) => slot.written = Some(level),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The pins.
    pub fn pins(&self) -> &P {
        &self.pins
    }

    /// The pins, back.
    pub fn into_pins(self) -> P {
        self.pins
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pins::SimulatedPins;
    use std::time::Duration;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn setup() -> (Signals<SimulatedPins>, SimulatedPins, Instant) {
        let pins = SimulatedPins::new();
        let t0 = Instant::now();
        (Signals::new(pins.clone(), t0), pins, t0)
    }

    fn ok(r: Result<(), IoError>) {
        if let Err(e) = r {
            panic!("{e}");
        }
    }

    #[test]
    fn the_first_tick_writes_every_line_low_and_later_ticks_write_nothing_new() {
        let (mut s, pins, t0) = setup();
        assert_eq!(s.level(Line::Gate), None);
        ok(s.tick(t0));
        assert_eq!(
            pins.transitions(),
            [(Line::StaffLamp, false), (Line::Buzzer, false), (Line::Gate, false)]
        );
        for i in 1..20 {
            ok(s.tick(t0 + ms(20 * i)));
        }
        assert_eq!(pins.transitions().len(), 3, "no change, no write");
        assert_eq!(s.level(Line::Gate), Some(false));
    }

    #[test]
    fn steady_then_off() {
        let (mut s, pins, t0) = setup();
        ok(s.tick(t0));
        s.set(Line::StaffLamp, Pattern::Steady, t0 + ms(10));
        assert_eq!(pins.transitions().len(), 3, "set writes nothing by itself");
        ok(s.tick(t0 + ms(20)));
        ok(s.tick(t0 + ms(40)));
        s.set(Line::StaffLamp, Pattern::Off, t0 + ms(50));
        ok(s.tick(t0 + ms(60)));
        assert_eq!(pins.transitions_of(Line::StaffLamp), [false, true, false]);
        assert_eq!(pins.transitions_of(Line::Buzzer), [false]);
    }

    #[test]
    fn a_blink_toggles_at_its_edges_only() {
        let (mut s, pins, t0) = setup();
        s.set(Line::StaffLamp, Pattern::Blink { on: ms(100), off: ms(100) }, t0);
        // Ticks every 20 ms for 1 s: 5 on-phases, 5 off-phases.
        for i in 0..50 {
            ok(s.tick(t0 + ms(20 * i)));
        }
        let lamp = pins.transitions_of(Line::StaffLamp);
        assert_eq!(lamp, [true, false, true, false, true, false, true, false, true, false]);
    }

    #[test]
    fn setting_the_same_blink_again_keeps_its_phase() {
        let (mut s, pins, t0) = setup();
        let blink = Pattern::Blink { on: ms(100), off: ms(100) };
        s.set(Line::StaffLamp, blink, t0);
        ok(s.tick(t0));
        s.set(Line::StaffLamp, blink, t0 + ms(150));
        ok(s.tick(t0 + ms(150)));
        assert_eq!(s.level(Line::StaffLamp), Some(false), "still in the off phase of the first start");
        assert_eq!(pins.transitions_of(Line::StaffLamp), [true, false]);
    }

    #[test]
    fn setting_a_beep_again_beeps_again() {
        let (mut s, pins, t0) = setup();
        let beep = Pattern::Beep { on: ms(100) };
        s.set(Line::Buzzer, beep, t0);
        ok(s.tick(t0));
        ok(s.tick(t0 + ms(120)));
        s.set(Line::Buzzer, beep, t0 + ms(200));
        ok(s.tick(t0 + ms(200)));
        ok(s.tick(t0 + ms(320)));
        ok(s.tick(t0 + ms(1000)));
        assert_eq!(pins.transitions_of(Line::Buzzer), [true, false, true, false]);
        assert_eq!(s.pattern(Line::Buzzer), beep, "the pattern stays set after it ends");
    }

    #[test]
    fn a_repeating_buzzer_and_a_blinking_lamp_run_independently() {
        let (mut s, pins, t0) = setup();
        s.set(Line::StaffLamp, Pattern::Blink { on: ms(500), off: ms(500) }, t0);
        for i in 0..=12 {
            ok(s.tick(t0 + ms(20 * i)));
        }
        s.set(Line::Buzzer, Pattern::Repeat { on: ms(100), period: ms(1000) }, t0 + ms(250));
        for i in 13..=100 {
            ok(s.tick(t0 + ms(20 * i)));
        }
        // 2 s: the lamp toggles at 0, .5, 1, 1.5, 2; the buzzer rises at .25, 1.25.
        assert_eq!(pins.transitions_of(Line::StaffLamp), [true, false, true, false, true]);
        assert_eq!(pins.transitions_of(Line::Buzzer), [false, true, false, true, false]);
        assert_eq!(pins.transitions_of(Line::Gate), [false]);
    }

    #[test]
    fn a_failing_line_is_retried_and_does_not_stop_the_others() {
        let (mut s, pins, t0) = setup();
        pins.set_failing(Line::Buzzer, true);
        s.set(Line::StaffLamp, Pattern::Steady, t0);
        s.set(Line::Buzzer, Pattern::Steady, t0);
        match s.tick(t0) {
            Err(IoError::SimulatedFault { line: Line::Buzzer }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(s.level(Line::StaffLamp), Some(true));
        assert_eq!(s.level(Line::Gate), Some(false));
        assert_eq!(s.level(Line::Buzzer), None);
        assert!(s.tick(t0 + ms(20)).is_err(), "still failing");
        pins.set_failing(Line::Buzzer, false);
        ok(s.tick(t0 + ms(40)));
        assert_eq!(s.level(Line::Buzzer), Some(true));
        assert_eq!(pins.transitions_of(Line::Buzzer), [true]);
    }

    #[test]
    fn a_tick_before_the_pattern_started_counts_as_its_start() {
        let (mut s, pins, t0) = setup();
        s.set(Line::Buzzer, Pattern::Beep { on: ms(50) }, t0 + ms(100));
        ok(s.tick(t0));
        assert_eq!(pins.transitions_of(Line::Buzzer), [true]);
    }
}
