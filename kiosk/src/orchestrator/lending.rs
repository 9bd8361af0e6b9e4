//! Lending: the patron's standing and checkouts with the library system, through the
//! journal ([`super::journaled`]), and the library system's refusals in the flow's terms.

use kiosk_core::flow::{ItemId, ItemRefusal, Loan, PatronId, PatronRefusal, Refusal, Reply, SessionId};
use kiosk_ils::Library;

use super::{Input, Orchestrator};

/// The library system's refusal of a patron in the flow's terms.
fn patron_refusal(problem: &kiosk_ils::PatronProblem) -> PatronRefusal {
    use kiosk_ils::PatronProblem as P;
    match problem {
        P::Unknown => PatronRefusal::Unknown,
        P::WrongPin => PatronRefusal::Blocked(None),
        P::Blocked { message, .. } => PatronRefusal::Blocked(message.clone()),
    }
}

/// The library system's refusal as the flow's code (the screen words it), with the
/// item's title when the library system gave one.
fn item_refusal(refused: kiosk_ils::Refused) -> Refusal {
    use kiosk_ils::ItemProblem as P;
    let reason = match refused.problem {
        P::NotFound => ItemRefusal::NotInCatalogue,
        P::OnHoldForAnother => ItemRefusal::OnHoldForAnother,
        P::OnLoanToAnother => ItemRefusal::OnLoanToAnother,
        P::Refused(message) => ItemRefusal::Refused(message),
    };
    Refusal { reason, title: refused.title }
}

impl Orchestrator {
    /// The library system's answer about the patron.
    pub(super) fn patron_status(&mut self, session: SessionId, patron: PatronId) {
        self.begin(session);
        let Some(library) = self.drivers.library.clone() else {
            let reply = Reply::Standing(Err(PatronRefusal::LibrarySystemUnavailable));
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let timeout = self.drivers.timeout;
        self.spawn(session, false, async move {
            let answer = tokio::time::timeout(timeout, library.patron(patron.expose(), None)).await;
            let standing = match answer {
                Ok(Ok(Ok(_))) => Ok(()),
                Ok(Ok(Err(problem))) => Err(patron_refusal(&problem)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "patron status failed");
                    Err(PatronRefusal::LibrarySystemUnavailable)
                }
                Err(_) => Err(PatronRefusal::LibrarySystemUnavailable),
            };
            Some(Input::Reply { session, reply: Reply::Standing(standing) })
        });
    }

    /// A checkout through the journal; it completes even if the card is removed (its
    /// outcome must be journaled).
    pub(super) fn checkout(&mut self, session: SessionId, patron: PatronId, item: ItemId) {
        self.begin(session);
        let Some(lending) = &self.drivers.lending else {
            let reply = Reply::Checkout { item, result: Err(ItemRefusal::NoAnswer.into()) };
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let loans = self.loans.get_or_insert_with(|| lending.session(session.0)).clone();
        self.spawn(session, true, async move {
            let result = match loans.checkout(patron.expose(), &item.0).await {
                Ok(Ok(loan)) => Ok(Loan {
                    item: item.clone(),
                    title: loan.title,
                    due: kiosk_ils::display_due_date(&loan.due),
                    renewed: loan.renewed,
                    desensitize: loan.desensitize,
                }),
                Ok(Err(problem)) => Err(item_refusal(problem)),
                Err(e) => {
                    tracing::warn!(error = %e, "checkout not made or not answered");
                    Err(ItemRefusal::NoAnswer.into())
                }
            };
            // The session may have ended while this checkout was out: the last holder
            // closes its journal.
            loans.finish().await;
            Some(Input::Reply { session, reply: Reply::Checkout { item, result } })
        });
    }

    /// Before serving anyone: loans a crash left unanswered are settled with the library
    /// system (and counted on the staff menu's recent events).
    pub(super) async fn reconcile_journal(&mut self) {
        let Some(lending) = self.drivers.lending.clone() else { return };
        let done = lending.reconcile().await;
        for _ in 0..done.settled {
            self.console.log(kiosk_ui::EventKind::StaffAction, 1, 0);
        }
    }
}
