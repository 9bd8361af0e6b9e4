//! Where levels go: GPIO, a simulator, or nowhere.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::IoError;
use crate::line::Line;

/// Drives the physical lines. `Signals` calls `write` only when a level changes (and
/// once per line at the start, to put every output in a known state).
pub trait Pins: Send {
    /// Sets `line` high (active) or low.
    ///
    /// # Errors
    /// [`IoError`] if the level could not be set; `Signals` tries again on the next tick.
    fn write(&mut self, line: Line, high: bool) -> Result<(), IoError>;
}

impl<P: Pins + ?Sized> Pins for Box<P> {
    fn write(&mut self, line: Line, high: bool) -> Result<(), IoError> {
        (**self).write(line, high)
    }
}

/// Outputs that go nowhere (a kiosk without lamp or buzzer).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPins;

impl Pins for NoPins {
    fn write(&mut self, _line: Line, _high: bool) -> Result<(), IoError> {
        Ok(())
    }
}

/// Records every write as `(line, level)` in a shared list the demo and tests read.
/// Clones share the list, so keep one clone and hand the other to `Signals`.
#[derive(Clone, Debug, Default)]
pub struct SimulatedPins {
    log: Arc<Mutex<Vec<(Line, bool)>>>,
    failing: Arc<[AtomicBool; 3]>,
}

impl SimulatedPins {
    /// Simulated pins with an empty record.
    #[must_use]
    pub fn new() -> SimulatedPins {
        SimulatedPins::default()
    }

    /// Every write so far, in order.
    #[must_use]
    pub fn transitions(&self) -> Vec<(Line, bool)> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The levels written to `line`, in order.
    #[must_use]
    pub fn transitions_of(&self, line: Line) -> Vec<bool> {
        self.transitions().into_iter().filter(|(l, _)| *l == line).map(|(_, high)| high).collect()
    }

    /// The last level written to `line`, if any.
    #[must_use]
    pub fn level(&self, line: Line) -> Option<bool> {
        self.transitions_of(line).last().copied()
    }

    /// Makes writes to `line` fail with [`IoError::SimulatedFault`] (or succeed again).
    pub fn set_failing(&self, line: Line, failing: bool) {
        self.failing[line.index()].store(failing, Ordering::SeqCst);
    }
}

impl Pins for SimulatedPins {
    fn write(&mut self, line: Line, high: bool) -> Result<(), IoError> {
        if self.failing[line.index()].load(Ordering::SeqCst) {
            return Err(IoError::SimulatedFault { line });
        }
        self.log.lock().unwrap_or_else(PoisonError::into_inner).push((line, high));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_pins_record_writes_and_share_them_between_clones() {
        let pins = SimulatedPins::new();
        let mut driver = pins.clone();
        assert!(driver.write(Line::StaffLamp, true).is_ok());
        assert!(driver.write(Line::Buzzer, true).is_ok());
        assert!(driver.write(Line::StaffLamp, false).is_ok());
        assert_eq!(
            pins.transitions(),
            [(Line::StaffLamp, true), (Line::Buzzer, true), (Line::StaffLamp, false)]
        );
        assert_eq!(pins.transitions_of(Line::StaffLamp), [true, false]);
        assert_eq!(pins.level(Line::Buzzer), Some(true));
        assert_eq!(pins.level(Line::Gate), None);
    }

    #[test]
    fn a_failing_simulated_line_records_nothing() {
        let pins = SimulatedPins::new();
        let mut driver = pins.clone();
        pins.set_failing(Line::Gate, true);
        match driver.write(Line::Gate, true) {
            Err(e @ IoError::SimulatedFault { line: Line::Gate }) => assert!(e.to_string().contains("gate")),
            other => panic!("{other:?}"),
        }
        assert!(pins.transitions().is_empty());
    }

    #[test]
    fn no_pins_and_boxed_pins() {
        let mut boxed: Box<dyn Pins> = Box::new(NoPins);
        assert!(boxed.write(Line::Buzzer, true).is_ok());
        let sim = SimulatedPins::new();
        let mut boxed: Box<dyn Pins> = Box::new(sim.clone());
        assert!(boxed.write(Line::Buzzer, true).is_ok());
        assert_eq!(sim.level(Line::Buzzer), Some(true));
    }
}
