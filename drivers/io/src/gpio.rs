//! The lamp, buzzer and gate on Raspberry Pi GPIO (rppal), active high.

use rppal::gpio::{Gpio, OutputPin};

use crate::error::IoError;
use crate::line::Line;
use crate::pins::Pins;

/// Output pins by BCM number; the gate is optional (writes to it are ignored if absent).
#[derive(Debug)]
pub struct GpioPins {
    lamp: OutputPin,
    buzzer: OutputPin,
    gate: Option<OutputPin>,
}

/// Refuses two lines on one pin (before touching the hardware).
pub(crate) fn check_distinct(lamp: u8, buzzer: u8, gate: Option<u8>) -> Result<(), IoError> {
    let mut lines = vec![(Line::StaffLamp, lamp), (Line::Buzzer, buzzer)];
    lines.extend(gate.map(|g| (Line::Gate, g)));
    for (i, &(first, pin)) in lines.iter().enumerate() {
        if let Some(&(second, _)) = lines[i + 1..].iter().find(|(_, p)| *p == pin) {
            return Err(IoError::SamePin { pin, first, second });
        }
    }
    Ok(())
}

fn map_err(line: Line, pin: u8, e: rppal::gpio::Error) -> IoError {
    use rppal::gpio::Error;
    match e {
        Error::UnknownModel => IoError::NotRaspberryPi,
        Error::PermissionDenied(path) => IoError::PermissionDenied { path },
        Error::PinUsed(_) => IoError::PinBusy { line, pin },
        Error::PinNotAvailable(_) => IoError::NoSuchPin { line, pin },
        source => IoError::Gpio { line, source },
    }
}

impl GpioPins {
    /// Claims the pins (BCM numbers) as outputs, all low.
    ///
    /// # Errors
    /// [`IoError::SamePin`] for a pin given twice; [`IoError::NotRaspberryPi`] off a
    /// Raspberry Pi; [`IoError::PermissionDenied`], [`IoError::PinBusy`],
    /// [`IoError::NoSuchPin`], [`IoError::Gpio`] from the GPIO driver.
    pub fn open(lamp: u8, buzzer: u8, gate: Option<u8>) -> Result<GpioPins, IoError> {
        check_distinct(lamp, buzzer, gate)?;
        let gpio = Gpio::new().map_err(|e| map_err(Line::StaffLamp, lamp, e))?;
        let output = |line: Line, pin: u8| -> Result<OutputPin, IoError> {
            Ok(gpio.get(pin).map_err(|e| map_err(line, pin, e))?.into_output_low())
        };
        let pins = GpioPins {
            lamp: output(Line::StaffLamp, lamp)?,
            buzzer: output(Line::Buzzer, buzzer)?,
            gate: gate.map(|g| output(Line::Gate, g)).transpose()?,
        };
        tracing::info!(lamp, buzzer, gate, "outputs: GPIO pins claimed");
        Ok(pins)
    }
}

impl Pins for GpioPins {
    fn write(&mut self, line: Line, high: bool) -> Result<(), IoError> {
        let pin = match line {
            Line::StaffLamp => &mut self.lamp,
            Line::Buzzer => &mut self.buzzer,
            Line::Gate => match &mut self.gate {
                Some(pin) => pin,
                None => return Ok(()),
            },
        };
        if high {
            pin.set_high();
        } else {
            pin.set_low();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_lines_on_one_pin_are_refused_before_touching_gpio() {
        assert!(matches!(
            GpioPins::open(17, 17, None),
            Err(IoError::SamePin { pin: 17, first: Line::StaffLamp, second: Line::Buzzer })
        ));
        assert!(matches!(
            GpioPins::open(17, 27, Some(27)),
            Err(IoError::SamePin { pin: 27, first: Line::Buzzer, second: Line::Gate })
        ));
        assert!(matches!(
            check_distinct(5, 6, Some(5)),
            Err(IoError::SamePin { pin: 5, first: Line::StaffLamp, second: Line::Gate })
        ));
        assert!(check_distinct(17, 27, Some(22)).is_ok());
        assert!(check_distinct(17, 27, None).is_ok());
    }

    /// On this x86 build machine rppal cannot identify a Raspberry Pi: a named error, no panic.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn off_a_raspberry_pi_open_is_a_named_error_not_a_panic() {
        for gate in [None, Some(22)] {
            match GpioPins::open(17, 27, gate) {
                Err(e @ IoError::NotRaspberryPi) => {
                    let msg = e.to_string();
                    assert!(msg.contains("not a Raspberry Pi") && msg.contains("simulated"), "{msg}");
                }
                other => panic!("expected NotRaspberryPi, got {other:?}"),
            }
        }
    }

    #[test]
    fn rppal_errors_become_named_errors() {
        use rppal::gpio::Error;
        assert!(matches!(map_err(Line::Buzzer, 4, Error::UnknownModel), IoError::NotRaspberryPi));
        assert!(matches!(
            map_err(Line::Buzzer, 4, Error::PinUsed(4)),
            IoError::PinBusy { line: Line::Buzzer, pin: 4 }
        ));
        assert!(matches!(
            map_err(Line::Gate, 99, Error::PinNotAvailable(99)),
            IoError::NoSuchPin { line: Line::Gate, pin: 99 }
        ));
        match map_err(Line::StaffLamp, 4, Error::PermissionDenied("/dev/gpiomem".to_owned())) {
            e @ IoError::PermissionDenied { .. } => assert!(e.to_string().contains("`gpio` group"), "{e}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(map_err(Line::StaffLamp, 4, Error::ThreadPanic), IoError::Gpio { .. }));
    }
}
