//! A virtual My Number card (JPKI AP) for the tests and the demo.
//!
//! - [`applet`]: the card logic (files, PIN counters, signing).
//! - [`pki`]: a test CA and user certificate made at start (rcgen, RSA-2048).
//! - [`vpcd`]: attach it to the real pcscd through vsmartcard's vpcd reader driver.
//! - [`transport`]: attach it in process, as a [`kiosk_card::Transport`].
//! - [`stack`]: a private pcscd with a vpcd reader, for tests.

pub mod applet;
pub mod pki;
pub mod stack;
pub mod transport;
pub mod vpcd;

use std::sync::{Arc, Mutex};

pub use applet::{Application, CardConfig, Exchange, Fault, Garble, VirtualCard};
pub use pki::{CertProfile, TestPki};
pub use transport::InProcess;
pub use vpcd::{Inserted, SharedCard, lock};

/// A shared virtual card with `config`, on the process-wide test PKI.
pub fn shared_card(config: CardConfig) -> Result<SharedCard, &'static pki::PkiError> {
    Ok(Arc::new(Mutex::new(VirtualCard::new(config, TestPki::shared()?))))
}

/// Whether an APDU selects an application other than JPKI by DF name — the kiosk must
/// never send one (the My Number APs above all).
pub fn selects_other_application(command: &[u8]) -> bool {
    match kiosk_card::ParsedCommand::parse(command) {
        Ok(c) => {
            c.ins == kiosk_card::Ins::Select.byte() && c.p1 == 0x04 && c.data != kiosk_card::jpki::JPKI_AID
        }
        Err(_) => false,
    }
}
