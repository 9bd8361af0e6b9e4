//! kiosk: My Number card self-checkout for public libraries.
//!
//! The library half of the `kiosk` binary: configuration, the orchestrator that carries
//! out what `kiosk-core` decides, the loan journal, logging policy, and the demo shell.
//! See `docs/ARCHITECTURE.md`.

pub mod clock;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "screens")]
pub mod error;
pub mod hand_off;
pub mod journal;
pub mod logging;
pub mod metrics;
pub mod offline;
#[cfg(feature = "screens")]
pub mod orchestrator;
pub mod usage;
