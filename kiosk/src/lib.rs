//! kiosk: My Number card self-checkout for public libraries.
//!
//! The library half of the `kiosk` binary: configuration, the pure decision-making core
//! ([`flow`]), logging policy, and the demo shell. See `docs/ARCHITECTURE.md`.

pub mod config;
pub mod console;
pub mod demo;
pub mod demo_ui;
pub mod flow;
pub mod journal;
pub mod logging;
pub mod orchestrator;
pub mod ui_bridge;
