//! The desensitizer of a library whose books carry magnetic security strips: a unit the
//! patron lays the book in, switched by one output line (a pulse desensitizes the strip),
//! and, on units that have one, a "book present" input.
//!
//! The unit only desensitizes: strips are sensitized again by the library's return
//! process (staff, or a sorter), so a return at the kiosk leaves them as they are.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::IoError;

/// How often the "book present" input is read while waiting for a book.
const SENSE_EVERY: Duration = Duration::from_millis(20);

/// A desensitizer unit. Calls block (a pulse lasts its length): call from a blocking
/// thread.
pub trait Desensitizer: Send + Sync {
    /// Whether a book lies in the unit (`None`: the unit has no sensor).
    ///
    /// # Errors
    /// The input cannot be read.
    fn book_present(&self) -> Result<Option<bool>, IoError>;

    /// One pulse: the strip of the book in the unit is desensitized.
    ///
    /// # Errors
    /// The output cannot be written.
    fn pulse(&self) -> Result<(), IoError>;

    /// Pulses once a book is in the unit: at once on a unit without a sensor, else when
    /// the sensor sees one, within `wait`.
    ///
    /// # Errors
    /// [`IoError::NoBookInUnit`] when none came in time; the unit's own errors.
    fn desensitize(&self, wait: Duration) -> Result<(), IoError> {
        let until = Instant::now() + wait;
        loop {
            match self.book_present()? {
                None | Some(true) => return self.pulse(),
                Some(false) if Instant::now() >= until => return Err(IoError::NoBookInUnit),
                Some(false) => std::thread::sleep(SENSE_EVERY),
            }
        }
    }
}

/// The unit on Raspberry Pi GPIO (rppal): the pulse line active high, the sensor's input
/// high while a book is in (pulled down).
#[derive(Debug)]
pub struct GpioDesensitizer {
    pulse: Mutex<rppal::gpio::OutputPin>,
    sensor: Option<rppal::gpio::InputPin>,
    length: Duration,
}

impl GpioDesensitizer {
    /// Claims `pulse_pin` (output, low) and `sensor_pin` (input, pulled down), BCM numbers.
    ///
    /// # Errors
    /// The same as the lamp's pins: not a Raspberry Pi, permission, a pin in use or
    /// missing; [`IoError::SameDesensitizerPin`] for one pin given twice.
    pub fn open(
        pulse_pin: u8,
        sensor_pin: Option<u8>,
        length: Duration,
    ) -> Result<GpioDesensitizer, IoError> {
        if sensor_pin == Some(pulse_pin) {
            return Err(IoError::SameDesensitizerPin { pin: pulse_pin });
        }
        let gpio = rppal::gpio::Gpio::new().map_err(|e| desensitizer_error(pulse_pin, e))?;
        let pulse = gpio.get(pulse_pin).map_err(|e| desensitizer_error(pulse_pin, e))?.into_output_low();
        let sensor = sensor_pin
            .map(|p| {
                gpio.get(p).map(rppal::gpio::Pin::into_input_pulldown).map_err(|e| desensitizer_error(p, e))
            })
            .transpose()?;
        tracing::info!(pulse_pin, sensor_pin, "desensitizer: GPIO pins claimed");
        Ok(GpioDesensitizer { pulse: Mutex::new(pulse), sensor, length })
    }
}

fn desensitizer_error(pin: u8, e: rppal::gpio::Error) -> IoError {
    use rppal::gpio::Error;
    match e {
        Error::UnknownModel => IoError::NotRaspberryPi,
        Error::PermissionDenied(path) => IoError::PermissionDenied { path },
        source => IoError::Desensitizer { pin, source },
    }
}

impl Desensitizer for GpioDesensitizer {
    fn book_present(&self) -> Result<Option<bool>, IoError> {
        Ok(self.sensor.as_ref().map(rppal::gpio::InputPin::is_high))
    }

    fn pulse(&self) -> Result<(), IoError> {
        let mut pin = self.pulse.lock().unwrap_or_else(PoisonError::into_inner);
        pin.set_high();
        std::thread::sleep(self.length);
        pin.set_low();
        Ok(())
    }
}

/// A simulated unit for the demo and the tests: it counts its pulses; its sensor (when it
/// has one) says what the test set.
#[derive(Debug, Default)]
pub struct SimulatedDesensitizer {
    pulses: AtomicUsize,
    has_sensor: AtomicBool,
    book_in: AtomicBool,
    failing: AtomicBool,
}

impl SimulatedDesensitizer {
    /// A unit without a sensor.
    #[must_use]
    pub fn new() -> SimulatedDesensitizer {
        SimulatedDesensitizer::default()
    }

    /// A unit with a sensor, with a book in it or not.
    #[must_use]
    pub fn with_sensor(book_in: bool) -> SimulatedDesensitizer {
        let d = SimulatedDesensitizer::default();
        d.has_sensor.store(true, Ordering::SeqCst);
        d.book_in.store(book_in, Ordering::SeqCst);
        d
    }

    /// Pulses so far.
    #[must_use]
    pub fn pulses(&self) -> usize {
        self.pulses.load(Ordering::SeqCst)
    }

    /// A book is laid in the unit (or taken out).
    pub fn set_book_in(&self, book_in: bool) {
        self.book_in.store(book_in, Ordering::SeqCst);
    }

    /// Makes pulses fail (a unit unplugged), or work again.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

impl Desensitizer for SimulatedDesensitizer {
    fn book_present(&self) -> Result<Option<bool>, IoError> {
        Ok(self.has_sensor.load(Ordering::SeqCst).then(|| self.book_in.load(Ordering::SeqCst)))
    }

    fn pulse(&self) -> Result<(), IoError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(IoError::DesensitizerFault);
        }
        self.pulses.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_without_a_sensor_pulses_at_once_and_counts() {
        let d = SimulatedDesensitizer::new();
        assert!(d.desensitize(Duration::ZERO).is_ok());
        assert!(d.desensitize(Duration::ZERO).is_ok());
        assert_eq!(d.pulses(), 2);
    }

    #[test]
    fn with_a_sensor_it_waits_for_the_book_and_never_pulses_an_empty_unit() {
        let d = SimulatedDesensitizer::with_sensor(false);
        assert!(matches!(d.desensitize(Duration::from_millis(50)), Err(IoError::NoBookInUnit)));
        assert_eq!(d.pulses(), 0);
        d.set_book_in(true);
        assert!(d.desensitize(Duration::from_millis(50)).is_ok());
        assert_eq!(d.pulses(), 1);
    }

    #[test]
    fn a_failing_unit_says_so_and_counts_nothing() {
        let d = SimulatedDesensitizer::new();
        d.set_failing(true);
        let e = d.desensitize(Duration::ZERO).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("desensitizer"), "{e}");
        assert_eq!(d.pulses(), 0);
    }
}
