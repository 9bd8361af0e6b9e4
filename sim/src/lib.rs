//! Simulators that speak the real protocols, for the demo and the tests. Each arrives
//! with the driver issue it serves; so far: [`sip2`], the library system.

pub mod card;
pub mod platform;
pub mod printer;
pub mod sip2;
