//! The counter's work: method C typing the number on the USB keyboard gadget, and
//! linking a card to a library card in the link store (the conflict rule is
//! `kiosk_core::links`).

use kiosk_core::flow::{LinkFault, PatronId, Reply, SessionId, TypeFault};

use super::{Input, Orchestrator};

impl Orchestrator {
    /// Method C: types the number on the gadget's thread; a missing gadget also shows on
    /// the admin screen.
    pub(super) fn type_number(&mut self, session: SessionId, patron: PatronId) {
        let Some((gadget, terminator)) = self.drivers.keyboard.clone() else {
            let reply = Reply::Typed(Err(TypeFault::NoKeyboard));
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let tx = self.inputs.clone();
        self.spawn(session, false, async move {
            let result = tokio::task::spawn_blocking(move || {
                gadget.type_text(patron.expose(), terminator).map_err(|e| {
                    tracing::warn!(error = %e, "method C: typing failed");
                    let fault = match e {
                        kiosk_keyboard::GadgetError::Missing { .. } => TypeFault::NoKeyboard,
                        kiosk_keyboard::GadgetError::Untypable(_) => TypeFault::Untypable,
                        kiosk_keyboard::GadgetError::Write { .. } => TypeFault::Failed,
                    };
                    (fault, e.to_string())
                })
            })
            .await
            .unwrap_or_else(|_| Err((TypeFault::Failed, "the typing thread stopped".to_owned())));
            use kiosk_ui::{Device, DeviceState, status_row};
            let _ = match &result {
                Ok(()) => tx.send(Input::Status(status_row(Device::Keyboard, DeviceState::Typed, 0, ""))),
                Err((TypeFault::NoKeyboard, why)) => {
                    tx.send(Input::Status(status_row(Device::Keyboard, DeviceState::NotWorking, 0, why)))
                }
                Err(_) => Ok(()),
            };
            Some(Input::Reply { session, reply: Reply::Typed(result.map_err(|(f, _)| f)) })
        });
    }

    /// Links the session's card to `patron` in the link store. Without `replace`, a card
    /// linked to someone else, or a library card linked to another card, is a conflict
    /// for staff to confirm; nothing is written.
    fn try_link(&self, session: SessionId, patron: &PatronId, replace: bool) -> Result<(), LinkFault> {
        let store = self.drivers.links.as_ref().ok_or(LinkFault::NoLinkStore)?;
        let cert = self.data(session).and_then(|d| d.certificate.clone()).ok_or(LinkFault::StoreFailed)?;
        let id = kiosk_platform::ServiceId::new(patron.expose()).ok_or(LinkFault::StoreFailed)?;
        let current = store.resolve(&cert);
        let wanted_has_a_card = current.is_none() && !replace && store.has_patron(&id);
        kiosk_core::links::may_link(
            current.as_ref().map(|c| c.expose()),
            id.expose(),
            wanted_has_a_card,
            replace,
        )?;
        store.link(&cert, &id).map_err(|e| {
            tracing::error!(error = %e, "the link store could not be written");
            LinkFault::StoreFailed
        })
    }

    fn try_unlink(&self, session: SessionId) -> Result<bool, LinkFault> {
        let store = self.drivers.links.as_ref().ok_or(LinkFault::NoLinkStore)?;
        let cert = self.data(session).and_then(|d| d.certificate.clone()).ok_or(LinkFault::StoreFailed)?;
        store.unlink(&cert).map_err(|e| {
            tracing::error!(error = %e, "the link store could not be written");
            LinkFault::StoreFailed
        })
    }

    /// Links the session's card to `patron` and answers the flow.
    pub(super) fn link(&mut self, session: SessionId, patron: &PatronId, replace: bool) {
        let reply = Reply::Linked(self.try_link(session, patron, replace));
        let _ = self.inputs.send(Input::Reply { session, reply });
    }

    /// Removes the session's card's link and answers the flow.
    pub(super) fn unlink(&mut self, session: SessionId) {
        let reply = Reply::Unlinked(self.try_unlink(session));
        let _ = self.inputs.send(Input::Reply { session, reply });
    }
}
