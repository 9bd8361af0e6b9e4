//! The virtual card in process: a [`kiosk_card::Transport`] for unit tests and the demo.

use kiosk_card::apdu::ResponseBuf;
use kiosk_card::{CardError, Channel, Transport};

use super::applet::Answer;
use super::vpcd::{SharedCard, lock};

/// The virtual card attached directly, no pcscd.
#[derive(Debug, Clone)]
pub struct InProcess {
    card: SharedCard,
    extended: bool,
    removed: bool,
}

impl InProcess {
    /// `extended`: whether this "reader" passes extended-length APDUs.
    pub fn new(card: SharedCard, extended: bool) -> Self {
        lock(&card).power_on();
        InProcess { card, extended, removed: false }
    }
}

/// The in-process transaction: nothing to hold, the card is ours.
#[derive(Debug)]
pub struct InProcessTransaction<'a>(&'a mut InProcess);

impl Channel for InProcessTransaction<'_> {
    fn transmit(&mut self, command: &[u8], response: &mut ResponseBuf) -> Result<(), CardError> {
        if self.0.removed {
            return Err(CardError::CardRemoved);
        }
        match lock(&self.0.card).transmit(command) {
            Answer::Response(r) => {
                response.clear();
                response
                    .extend_from_slice(&r)
                    .map_err(|_| CardError::Malformed(kiosk_card::ApduError::TooLong))?;
                Ok(())
            }
            Answer::Yank => {
                self.0.removed = true;
                Err(CardError::CardRemoved)
            }
            // In process nothing can block: a reader's driver would give up the same way.
            Answer::Silence => Err(CardError::CardUnresponsive),
        }
    }
}

impl Transport for InProcess {
    type Transaction<'a> = InProcessTransaction<'a>;

    fn transaction(&mut self) -> Result<InProcessTransaction<'_>, CardError> {
        Ok(InProcessTransaction(self))
    }

    fn extended_length(&self) -> bool {
        self.extended
    }

    fn hold_exclusive(&mut self) -> Result<(), CardError> {
        Ok(())
    }

    fn unpower(&mut self) -> Result<(), CardError> {
        let mut card = lock(&self.card);
        card.power_off();
        card.power_on();
        Ok(())
    }
}
