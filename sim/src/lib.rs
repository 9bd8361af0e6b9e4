//! Simulators that speak the real protocols, for the demo and the tests: [`card`] (a
//! virtual JPKI card), [`platform`] (the local authentication platform), [`printer`] (an
//! ESC/POS printer sink) and [`sip2`] (the library system).

pub mod card;
pub mod links;
pub mod platform;
pub mod printer;
pub mod sip2;
