//! What can go wrong driving the outputs, each with a message an installer can act on.

use crate::line::Line;

/// Why an output could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error(
        "GPIO is not available: this machine is not a Raspberry Pi (rppal cannot identify the \
         model); off the board, configure the lamp, buzzer and gate as simulated or none"
    )]
    NotRaspberryPi,
    #[error(
        "permission denied opening {path}; add the kiosk user to the `gpio` group (or check the \
         udev rule for /dev/gpiomem and /dev/gpiochip*)"
    )]
    PermissionDenied { path: String },
    #[error(
        "GPIO {pin} (BCM) for the {line} is already in use by another program; stop it, or check \
         the pin numbers in the configuration"
    )]
    PinBusy { line: Line, pin: u8 },
    #[error(
        "GPIO {pin} (BCM) for the {line} does not exist on this board; use the BCM number \
         (GPIO 0–27 on the 40-pin header), not the physical pin number"
    )]
    NoSuchPin { line: Line, pin: u8 },
    #[error("the {first} and the {second} are both configured on GPIO {pin}; give each output its own pin")]
    SamePin { pin: u8, first: Line, second: Line },
    #[error("GPIO error for the {line}: {source}")]
    Gpio { line: Line, source: rppal::gpio::Error },
    #[error("the simulated {line} was told to fail (fault injection)")]
    SimulatedFault { line: Line },
    #[error("the output ticker thread has stopped; restart the kiosk, and see the journal for why")]
    TickerStopped,
    #[error(
        "GPIO {pin} is given as both the desensitizer's pulse line and its book sensor; give each its own pin"
    )]
    SameDesensitizerPin { pin: u8 },
    #[error("GPIO error for the desensitizer on GPIO {pin}: {source}")]
    Desensitizer { pin: u8, source: rppal::gpio::Error },
    #[error(
        "no book was laid in the desensitizer in time; the patron is asked to take the book to the counter"
    )]
    NoBookInUnit,
    #[error("the simulated desensitizer was told to fail (fault injection)")]
    DesensitizerFault,
    #[error("the output ticker thread could not be started: {0}")]
    Spawn(#[source] std::io::Error),
}
