//! The loan journal's policy around the library system: before a checkout is sent its
//! intent is written and fsync'ed, after the library system answers its outcome is; an
//! intent without an outcome (no answer, a crash, a power cut) is reconciled with the
//! library system before the next patron is served, so a loan is never lost or made
//! twice. The item's security follows inside the pair: switched off after the library
//! system accepted a loan (on after a return) and before the outcome is journaled, so an
//! intent left open by a power cut between the two is settled with its security too:
//! found lent, switched off; found not lent, on (where its tag is on the pad). Every
//! journal write runs on a blocking thread, never on an async worker: an fsync on a slow
//! SD card must not stall the event loop or another session's reply.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use kiosk_core::flow::{ItemId, Security};
use kiosk_ils::client::Reconciled;
use kiosk_ils::{Library, Loan, Refused, Sip2Error, Sip2Library};
use zeroize::Zeroizing;

use super::security::{SecurityFault, SecurityUnit};

use crate::journal::{Journal, JournalError, Operation, SessionJournal};

/// The library system with the journal in front of it.
#[derive(Clone)]
pub struct JournaledLibrary {
    library: Arc<Sip2Library>,
    journal: Arc<Journal>,
    security: Option<SecurityUnit>,
}

impl core::fmt::Debug for JournaledLibrary {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "JournaledLibrary({})", self.journal.dir().display())
    }
}

/// Why a checkout was not made, or not known to be.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutFailure {
    /// The intent could not be written: nothing was sent.
    #[error("the loan journal could not be written, so the checkout was not sent: {0}")]
    NotJournaled(#[source] JournalError),
    /// The library system did not answer: the intent stays open for reconciliation.
    #[error("the library system did not answer the checkout: {0}")]
    NoAnswer(#[source] Sip2Error),
    /// A journal thread stopped.
    #[error("a journal thread stopped: {0}")]
    Stopped(#[source] tokio::task::JoinError),
}

/// What the start-up reconciliation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciliation {
    /// Intents settled with the library system's answer.
    pub settled: usize,
    /// Intents that could not be settled now (tried again at the next start).
    pub pending: usize,
    /// Of those settled, what the library system had done: the usage statistics count
    /// them now (a session that crashed, or gave up waiting, counted none of them).
    pub lent: u32,
    pub renewed: u32,
    pub returned: u32,
    /// Items whose security could not be set to follow what was found (staff check
    /// them).
    pub security_not_set: u32,
}

impl JournaledLibrary {
    #[must_use]
    pub fn new(library: Arc<Sip2Library>, journal: Arc<Journal>) -> JournaledLibrary {
        JournaledLibrary { library, journal, security: None }
    }

    /// The unit that switches items' security with their loans (the RFID pad, a
    /// desensitizer).
    #[must_use]
    pub fn with_security(mut self, security: Option<SecurityUnit>) -> JournaledLibrary {
        self.security = security;
        self
    }

    /// One session's loans (its own journal file, made at the first checkout).
    #[must_use]
    pub fn session(&self, session: u32) -> SessionLoans {
        SessionLoans {
            library: self.library.clone(),
            journal: Arc::new(Mutex::new(self.journal.session(session))),
            security: self.security.clone(),
        }
    }

    /// Settles every intent a crash left open: found on loan to the patron, it was lent;
    /// not on loan, it was not. A journal file is deleted only when every intent in it
    /// was settled.
    pub async fn reconcile(&self) -> Reconciliation {
        let journal = self.journal.clone();
        let open = match super::spawn_scrubbed(move || journal.unfinished()).await {
            Ok(Ok(open)) => open,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the loan journal could not be read; nothing reconciled");
                return Reconciliation::default();
            }
            Err(e) => {
                tracing::error!(error = %e, "the journal thread stopped; nothing reconciled");
                return Reconciliation::default();
            }
        };
        let mut done = Reconciliation::default();
        let mut files = BTreeSet::<PathBuf>::new();
        let mut unsettled = BTreeSet::<PathBuf>::new();
        for u in open {
            let found = match u.operation {
                Operation::Checkout => {
                    self.library.reconcile_checkout(&u.patron, &u.item).await.map(|r| match r {
                        Reconciled::Lent(_) => "lent",
                        Reconciled::NotLent => "not lent",
                        Reconciled::Other(_) => "on loan to someone else",
                    })
                }
                Operation::Renew => self
                    .library
                    .reconcile_renewal(&u.item, u.due_before.as_deref().unwrap_or_default())
                    .await
                    .map(|renewed| if renewed { "renewed" } else { "not renewed" }),
                Operation::Return => self
                    .library
                    .reconcile_return(&u.item)
                    .await
                    .map(|returned| if returned { "returned" } else { "not returned" }),
            };
            match found {
                Ok(found) => {
                    match found {
                        "lent" => done.lent += 1,
                        "renewed" => done.renewed += 1,
                        "returned" => done.returned += 1,
                        _ => {}
                    }
                    // The security follows what was found: a loan made, off; a checkout
                    // not made (or a return made), on. A renewal changes neither.
                    let security = match (u.operation, found) {
                        (Operation::Checkout, "lent") => Some(true),
                        (Operation::Checkout, "not lent") | (Operation::Return, "returned") => Some(false),
                        _ => None,
                    };
                    match (security, &self.security) {
                        // A desensitizer pulses whatever lies in it now: not the book of a
                        // loan made before the restart. Staff check it.
                        (Some(true), Some(unit)) if unit.is_desensitizer() => {
                            tracing::warn!("a loan settled after a restart: its strip is for staff to check");
                            done.security_not_set += 1;
                        }
                        (Some(lent), Some(unit)) if !unit.is_desensitizer() => {
                            match unit.follow(&ItemId(u.item.to_string()), lent).await {
                                Ok(()) => {}
                                // A checkout not made was never switched off (that comes
                                // after the library system's yes): with its tag not here,
                                // nothing to undo. A return's tag not here is for staff.
                                Err(SecurityFault::NotOnPad | SecurityFault::NoTag)
                                    if u.operation == Operation::Checkout && !lent => {}
                                Err(e) => {
                                    tracing::error!(error = %e, lent, "an item's security could not be set after a restart");
                                    done.security_not_set += 1;
                                }
                            }
                        }
                        _ => {}
                    }
                    // What was found, never which patron or item. Nothing is sent again:
                    // a renewal or return not made is the patron's to ask for again.
                    tracing::info!(operation = ?u.operation, found, "reconciled a request left open by a crash");
                    done.settled += 1;
                    files.insert(u.file.clone());
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not reconcile a loan left open; will retry at the next start");
                    done.pending += 1;
                    unsettled.insert(u.file.clone());
                }
            }
        }
        let settle: Vec<PathBuf> = files.difference(&unsettled).cloned().collect();
        let journal = self.journal.clone();
        let settled = super::spawn_scrubbed(move || {
            for f in settle {
                if let Err(e) = journal.settle(&f) {
                    tracing::error!(error = %e, "journal settle failed");
                }
            }
        });
        if let Err(e) = settled.await {
            tracing::error!(error = %e, "the journal thread stopped while settling");
        }
        done
    }
}

/// One session's journal, shared by the checkouts in flight; the last holder closes it.
#[derive(Clone)]
pub struct SessionLoans {
    library: Arc<Sip2Library>,
    journal: Arc<Mutex<SessionJournal>>,
    security: Option<SecurityUnit>,
}

impl core::fmt::Debug for SessionLoans {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionLoans(..)")
    }
}

fn lock(j: &Mutex<SessionJournal>) -> std::sync::MutexGuard<'_, SessionJournal> {
    j.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SessionLoans {
    /// Journals the intent (fsync), sends the checkout, switches the item's security off
    /// for a loan the library system accepted (unless it said to keep it on), journals
    /// the answer. An unknown outcome, or a power cut before the security switch, stays
    /// open in the journal and is reconciled at the next start.
    ///
    /// # Errors
    /// [`CheckoutFailure`]: not sent, or sent without an answer.
    pub async fn checkout(
        &self,
        patron: &str,
        item: &str,
    ) -> Result<Result<(Loan, Security), Refused>, CheckoutFailure> {
        let journal = self.journal.clone();
        let (p, i) = (Zeroizing::new(patron.to_owned()), Zeroizing::new(item.to_owned()));
        let intent = super::spawn_scrubbed(move || lock(&journal).intend(Operation::Checkout, &p, &i))
            .await
            .map_err(CheckoutFailure::Stopped)?
            .map_err(CheckoutFailure::NotJournaled)?;
        let answer = match self.library.checkout(patron, item).await.map_err(CheckoutFailure::NoAnswer)? {
            Ok(loan) => {
                let security = self.secure(item, loan.desensitize).await;
                Ok((loan, security))
            }
            Err(refused) => Err(refused),
        };
        let journal = self.journal.clone();
        let written = super::spawn_scrubbed(move || lock(&journal).answered(intent)).await;
        match written {
            Ok(Ok(())) => {}
            // The intent stays open and is reconciled at the next start: safe.
            Ok(Err(e)) => tracing::error!(error = %e, "journal write failed after the checkout"),
            Err(e) => tracing::error!(error = %e, "the journal thread stopped after the checkout"),
        }
        Ok(answer)
    }

    /// Journals the renewal's intent with the due date it has now (fsync), sends the
    /// renewal, journals the answer. An answer whose outcome is unknown (no answer, no
    /// item id) stays open and is reconciled at the next start by the item's due date;
    /// any other answer, even one the kiosk does not trust (a due date moved back), is
    /// the library system's and closes the intent.
    ///
    /// # Errors
    /// [`CheckoutFailure`]: not sent, or sent without a usable answer.
    pub async fn renew(
        &self,
        patron: &str,
        item: &str,
        due_before: &str,
    ) -> Result<Result<Loan, kiosk_ils::ItemProblem>, CheckoutFailure> {
        let sent = self.library.renew(patron, item, Some(due_before));
        self.journaled(Operation::Renew, patron, item, Some(due_before), sent).await
    }

    /// Journals the return's intent (fsync; no patron: a return needs none), sends the
    /// checkin, switches the item's security back on when it was returned, journals the
    /// answer; an outcome unknown stays open and is reconciled at the next start by the
    /// item's status. `Ok((_, false))`: returned, but its security could not be set.
    ///
    /// # Errors
    /// [`CheckoutFailure`]: not sent, or sent without a usable answer.
    pub async fn return_item(
        &self,
        item: &str,
    ) -> Result<(Result<kiosk_ils::CheckinOutcome, kiosk_ils::ItemProblem>, bool), CheckoutFailure> {
        let sent = async {
            let answer = self.library.return_item(item).await?;
            let secured = match (&answer, &self.security) {
                (Ok(_), Some(unit)) => match unit.follow(&ItemId(item.to_owned()), false).await {
                    Ok(()) | Err(SecurityFault::NoTag) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "a returned item's security could not be switched on");
                        false
                    }
                },
                _ => true,
            };
            Ok((answer, secured))
        };
        self.journaled(Operation::Return, "", item, None, sent).await
    }

    /// A loan's security switched off, unless the library system said to keep it on.
    async fn secure(&self, item: &str, desensitize: Option<bool>) -> Security {
        match &self.security {
            Some(unit) => unit.for_loan(&ItemId(item.to_owned()), desensitize).await,
            None => Security::Unchanged,
        }
    }

    /// The journal around one request other than a checkout: the intent fsync'ed before
    /// `send` runs, the outcome after it answers; an outcome unknown leaves the intent
    /// open for the next start's reconciliation.
    async fn journaled<T>(
        &self,
        operation: Operation,
        patron: &str,
        item: &str,
        due_before: Option<&str>,
        send: impl std::future::Future<Output = Result<T, kiosk_ils::Sip2Error>>,
    ) -> Result<T, CheckoutFailure> {
        let journal = self.journal.clone();
        let (p, i) = (Zeroizing::new(patron.to_owned()), Zeroizing::new(item.to_owned()));
        let due = due_before.map(str::to_owned);
        let intent =
            super::spawn_scrubbed(move || lock(&journal).intend_with(operation, &p, &i, due.as_deref()))
                .await
                .map_err(CheckoutFailure::Stopped)?
                .map_err(CheckoutFailure::NotJournaled)?;
        let answer = send.await;
        if matches!(&answer, Err(e) if e.outcome_unknown()) {
            return answer.map_err(CheckoutFailure::NoAnswer);
        }
        let journal = self.journal.clone();
        match super::spawn_scrubbed(move || lock(&journal).answered(intent)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, ?operation, "journal write failed after the answer"),
            Err(e) => tracing::error!(error = %e, ?operation, "the journal thread stopped after the answer"),
        }
        answer.map_err(CheckoutFailure::NoAnswer)
    }

    /// Gives up this holder's share; the last one closes the file (deleted when every
    /// intent was answered, kept for reconciliation otherwise), on a blocking thread.
    pub async fn finish(self) {
        let Ok(journal) = Arc::try_unwrap(self.journal) else { return };
        let journal = journal.into_inner().unwrap_or_else(PoisonError::into_inner);
        match super::spawn_scrubbed(move || journal.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "journal close failed"),
            Err(e) => tracing::error!(error = %e, "the journal thread stopped while closing"),
        }
    }
}
