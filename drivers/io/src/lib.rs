//! `kiosk-io`: the staff-call lamp, the buzzer and an optional door/gate output.
//!
//! - [`line`]: the [`Line`]s and the [`Pattern`]s they show (`level_at` is pure);
//! - [`signals`]: a pattern per line since an instant, written to the [`Pins`] as level
//!   changes only; no clock inside;
//! - [`pins`]: the [`Pins`] trait, [`SimulatedPins`] (records writes), [`NoPins`];
//! - [`gpio`]: [`GpioPins`] on a Raspberry Pi (rppal), active high;
//! - [`ticker`]: [`spawn_ticker`], the thread that runs the patterns every 20 ms;
//! - [`desensitizer`]: the magnetic-strip [`Desensitizer`] unit (a pulse line and a "book
//!   present" input), on GPIO or simulated.
//!
//! Which pattern means what for the patron flow (a locked card, paper out, "take your
//! card") is the orchestrator's mapping, not this crate's.

pub mod desensitizer;
pub mod error;
pub mod gpio;
pub mod line;
pub mod pins;
pub mod signals;
pub mod ticker;

pub use desensitizer::{Desensitizer, GpioDesensitizer, SimulatedDesensitizer};
pub use error::IoError;
pub use gpio::GpioPins;
pub use line::{Line, Pattern};
pub use pins::{NoPins, Pins, SimulatedPins};
pub use signals::Signals;
pub use ticker::{TICK, Ticker, spawn_ticker};
