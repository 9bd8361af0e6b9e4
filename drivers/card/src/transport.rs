//! The small backend trait the JPKI commands run over (openpgp-card's `CardBackend`
//! shape): PC/SC is one implementation ([`crate::pcsc::PcscCard`]), the virtual card in
//! `kiosk-sim` is another.

use crate::apdu::ResponseBuf;
use crate::error::CardError;

/// Sends APDUs inside a transaction.
pub trait Channel {
    /// Sends one command APDU; `response` receives data ‖ SW1 SW2.
    fn transmit(&mut self, command: &[u8], response: &mut ResponseBuf) -> Result<(), CardError>;
}

/// A connected card.
pub trait Transport {
    /// The transaction guard: holds the card for a sequence of APDUs and releases it
    /// (without resetting) when dropped.
    type Transaction<'a>: Channel
    where
        Self: 'a;

    /// Begins a transaction (PC/SC `SCardBeginTransaction`).
    fn transaction(&mut self) -> Result<Self::Transaction<'_>, CardError>;

    /// Whether to try extended-length APDUs (Le > 256): false when the reader is known
    /// not to pass them. The driver falls back to short APDUs if an extended one fails.
    fn extended_length(&self) -> bool;

    /// Takes the card for this process alone (PC/SC exclusive share mode), keeping its
    /// state. Called before a PIN is verified, so no other program can use the card
    /// while the PIN is verified.
    fn hold_exclusive(&mut self) -> Result<(), CardError>;

    /// Powers the card off and on again (cold reset): clears the verified PIN and any
    /// selection. The session ends with this (or with the PC/SC disconnect that unpowers).
    fn unpower(&mut self) -> Result<(), CardError>;

    /// Ends the connection, unpowering the card (PC/SC: disconnect with
    /// `SCARD_UNPOWER_CARD`). A card already removed is not an error. By default there is
    /// nothing to release.
    fn close(self) -> Result<(), CardError>
    where
        Self: Sized,
    {
        Ok(())
    }
}
