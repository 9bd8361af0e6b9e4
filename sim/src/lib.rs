//! Simulators that speak the real protocols, for the demo and the tests: [`card`] (a
//! virtual JPKI card), [`platform`] (the local authentication platform), [`printer`] (an
//! ESC/POS printer sink), [`sip2`] (the library system) and [`tpm`] (a software TPM 2.0).

pub mod card;
pub mod links;
pub mod platform;
pub mod printer;
pub mod rfid;
pub mod sip2;
pub mod tpm;
