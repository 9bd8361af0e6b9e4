//! `kiosk-core`: every decision the kiosk makes, and nothing else.
//!
//! - [`flow`]: the state machines (`PinPad`, `PatronSession`, `AdminSession`), events in,
//!   effects out, time as an argument;
//! - [`console`]: the patron session, the staff menu, the presentation and the recent
//!   events as one value: taps, driver events and time in, [`console::Work`] out;
//! - [`scene`]: the view model the UI draws and the taps it reports;
//! - [`view`]: the flow's views to a [`scene::Scene`], a [`scene::UiAction`] to a flow event;
//! - [`scan`]: what a scanned code is (library card, item, Method D label, staff card);
//! - [`links`]: when linking a card to a library card needs staff to confirm;
//! - [`usage`]: what the usage statistics count, per hour, and their file's lines.
//!
//! Cargo keeps this crate pure: its dependencies have no async runtime, no UI toolkit,
//! no card, network or file access, and no driver (`tests/pure.rs` checks the whole
//! dependency tree). The binary (`kiosk`) carries out what it decides.

pub mod console;
pub mod flow;
pub mod links;
pub mod scan;
pub mod scene;
pub mod tactile;
pub mod usage;
pub mod view;
pub mod voice;
