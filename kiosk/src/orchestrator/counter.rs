//! The counter's work: method C typing the number on the USB keyboard gadget, and
//! linking a card to a library card in the link store (the conflict rule is
//! `kiosk_core::links`).

use kiosk_core::flow::{LinkFault, PatronId, Reply, SessionId, TypeFault};

use kiosk_platform::links::LinkStore;

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
            let result = super::spawn_scrubbed(move || {
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

    /// Links the session's card to `patron` and answers the flow. Without `replace`, a
    /// card linked to someone else, or a library card linked to another card, is a
    /// conflict for staff to confirm; nothing is written. A shared store is asked for
    /// its latest changes first, written, and read back (on a task: it is the network).
    pub(super) fn link(&mut self, session: SessionId, patron: &PatronId, replace: bool) {
        let Some(store) = self.drivers.links.clone() else {
            return self.answer(session, Reply::Linked(Err(LinkFault::NoLinkStore)));
        };
        let cert = self.data(session).and_then(|d| d.certificate.clone());
        let id = kiosk_platform::ServiceId::new(patron.expose());
        let (Some(cert), Some(id)) = (cert, id) else {
            return self.answer(session, Reply::Linked(Err(LinkFault::StoreFailed)));
        };
        let may_link = move |store: &LinkStore| {
            let current = store.resolve(&cert);
            let wanted_has_a_card = current.is_none() && !replace && store.has_patron(&id);
            kiosk_core::links::may_link(
                current.as_ref().map(|c| c.expose()),
                id.expose(),
                wanted_has_a_card,
                replace,
            )
            .map(|()| (cert, id))
        };
        let Some(shared) = self.drivers.shared_links.clone() else {
            let result = may_link(&store).and_then(|(cert, id)| store.link(&cert, &id).map_err(written));
            return self.answer(session, Reply::Linked(result));
        };
        self.spawn(session, false, async move {
            let result = match shared.sync(&store).await {
                Err(e) => Err(written(e)),
                Ok(_) => match may_link(&store) {
                    Ok((cert, id)) => shared.link(&store, &cert, &id).await.map_err(written),
                    Err(conflict) => Err(conflict),
                },
            };
            Some(Input::Reply { session, reply: Reply::Linked(result) })
        });
    }

    /// Removes the session's card's link and answers the flow.
    pub(super) fn unlink(&mut self, session: SessionId) {
        let Some(store) = self.drivers.links.clone() else {
            return self.answer(session, Reply::Unlinked(Err(LinkFault::NoLinkStore)));
        };
        let Some(cert) = self.data(session).and_then(|d| d.certificate.clone()) else {
            return self.answer(session, Reply::Unlinked(Err(LinkFault::StoreFailed)));
        };
        let Some(shared) = self.drivers.shared_links.clone() else {
            let result = store.unlink(&cert).map_err(written);
            return self.answer(session, Reply::Unlinked(result));
        };
        self.spawn(session, false, async move {
            let result = shared.unlink(&store, &cert).await.map_err(written);
            Some(Input::Reply { session, reply: Reply::Unlinked(result) })
        });
    }

    fn answer(&self, session: SessionId, reply: Reply) {
        let _ = self.inputs.send(Input::Reply { session, reply });
    }
}

/// A link store that could not be written: logged for IT, a plain fault for the screen.
fn written(e: kiosk_platform::PlatformError) -> LinkFault {
    tracing::error!(error = %e, "the link store could not be written");
    LinkFault::StoreFailed
}
