//! Lending: the patron's standing, checkouts, the account, renewals and returns with the
//! library system, through the journal ([`super::journaled`]), and the library system's
//! answers in the flow's terms.

use kiosk_core::flow::{
    Account, AccountLoan, BlockReason, HoldReady, ItemId, ItemRefusal, Loan, Password, PatronId,
    PatronRefusal, Refusal, Reply, Return, Returned, SessionId,
};
use kiosk_ils::Library;
use kiosk_ils::messages::PatronStatusFlags;

use super::{Input, Orchestrator};

/// The library system's refusal of a patron in the flow's terms.
fn patron_refusal(problem: &kiosk_ils::PatronProblem) -> PatronRefusal {
    use kiosk_ils::PatronProblem as P;
    match problem {
        P::Unknown => PatronRefusal::Unknown,
        P::WrongPassword => PatronRefusal::WrongPassword,
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
        P::NotCheckedOut => ItemRefusal::NotCheckedOut,
    };
    Refusal { reason, title: refused.title }
}

/// Why the library system's flags say a patron may not borrow, in the screen's words
/// (empty: the patron may borrow). Each reason once; a denial the flags do not explain is
/// [`BlockReason::Other`].
#[must_use]
pub fn block_reasons(flags: &PatronStatusFlags) -> Vec<BlockReason> {
    if !flags.denies_borrowing() {
        return Vec::new();
    }
    let reason = |i: usize| match i {
        PatronStatusFlags::CARD_REPORTED_LOST => Some(BlockReason::CardLost),
        PatronStatusFlags::TOO_MANY_ITEMS_CHARGED => Some(BlockReason::TooManyItems),
        PatronStatusFlags::TOO_MANY_OVERDUE | 12 => Some(BlockReason::Overdue),
        PatronStatusFlags::EXCESSIVE_FINES | PatronStatusFlags::EXCESSIVE_FEES => Some(BlockReason::Fines),
        8 | 9 | 13 => Some(BlockReason::ItemsLost),
        _ => None,
    };
    let mut out: Vec<BlockReason> = Vec::new();
    for (i, set) in flags.0.iter().enumerate() {
        if let Some(r) = reason(i).filter(|_| *set)
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    if out.is_empty() {
        out.push(BlockReason::Other);
    }
    out
}

/// The library system's account in the flow's terms.
fn account(a: kiosk_ils::Account) -> Account {
    Account {
        blocks: block_reasons(&a.flags),
        loans: a
            .loans
            .into_iter()
            .map(|l| AccountLoan {
                item: Some(ItemId(l.item)).filter(|i| !i.0.trim().is_empty()),
                title: l.title,
                due: kiosk_ils::display_due_date(&l.due),
                overdue: l.overdue,
            })
            .collect(),
        holds: a
            .holds_ready
            .into_iter()
            .map(|h| HoldReady {
                title: h.title,
                pickup: h.pickup,
                until: h.until.map(|u| kiosk_ils::display_due_date(&u)),
            })
            .collect(),
        message: a.message,
        incomplete: a.incomplete,
    }
}

/// A renewal or return without a usable answer, for the patron's line: answered in a way
/// the kiosk cannot trust (no item id, a due date moved back) is "staff will check" (a
/// missing item id is also reconciled at the next start); anything else is "no answer".
fn unanswered(what: &'static str, e: &super::journaled::CheckoutFailure) -> Refusal {
    use kiosk_ils::Sip2Error as E;
    match e {
        super::journaled::CheckoutFailure::NoAnswer(
            e @ (E::DueDateMovedBack { .. } | E::MissingItem { .. }),
        ) => {
            tracing::warn!(error = %e, what, "the library system's answer cannot be trusted");
            ItemRefusal::Unconfirmed.into()
        }
        e => {
            tracing::warn!(error = %e, what, "not made or not answered");
            ItemRefusal::NoAnswer.into()
        }
    }
}

/// A return the library system accepted, in the flow's terms.
fn returned(o: kiosk_ils::CheckinOutcome) -> Return {
    let hold = matches!(o.alert_type.as_deref(), Some("01" | "02"))
        || (o.alert_type.is_none() && (o.destination.is_some() || o.sort_bin.is_some()));
    let outcome = match (o.alert, hold) {
        (false, _) => Returned::Done,
        (true, true) => Returned::ToHoldShelf { shelf: o.destination },
        (true, false) => Returned::StaffCheck { message: o.message },
    };
    Return { title: o.title, outcome }
}

impl Orchestrator {
    /// The patron's account from the library system (nothing is changed by asking).
    pub(super) fn account(&mut self, session: SessionId, patron: PatronId) {
        self.begin(session);
        let Some(library) = self.drivers.library.clone() else {
            let _ = self.inputs.send(Input::Reply { session, reply: Reply::Account(None) });
            return;
        };
        let timeout = self.drivers.timeout;
        self.spawn(session, false, async move {
            let answer = match tokio::time::timeout(timeout, library.account(patron.expose(), None)).await {
                Ok(Ok(a)) => Some(account(a)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the patron's account could not be read");
                    None
                }
                Err(_) => {
                    tracing::warn!(waited = ?timeout, "the library system did not send the account in time");
                    None
                }
            };
            Some(Input::Reply { session, reply: Reply::Account(answer) })
        });
    }

    /// A return through the journal; like a checkout, it completes even if the session
    /// ends. The library system's alert says where the book goes: a hold (its alert type,
    /// or a sort bin or destination with it) to the hold shelf, any other alert to staff.
    pub(super) fn return_item(&mut self, session: SessionId, item: ItemId) {
        self.begin(session);
        let Some(lending) = &self.drivers.lending else {
            let reply = Reply::Returned { item, result: Err(ItemRefusal::NoAnswer.into()) };
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let loans = self.loans.get_or_insert_with(|| lending.session(session.0)).clone();
        let offline = self.drivers.offline.clone();
        let inputs = self.inputs.clone();
        self.spawn(session, true, async move {
            if let Some(o) = offline
                && o.still_pending(&item).await
            {
                loans.finish().await;
                let result = Err(ItemRefusal::OfflinePending.into());
                return Some(Input::Reply { session, reply: Reply::Returned { item, result } });
            }
            let result = match loans.return_item(&item.0).await {
                Ok((Ok(outcome), secured)) => {
                    if !secured {
                        let _ = inputs.send(Input::SecurityNotSet);
                    }
                    Ok(returned(outcome))
                }
                Ok((Err(problem), _)) => Err(item_refusal(problem.into())),
                Err(e) => Err(unanswered("return", &e)),
            };
            loans.finish().await;
            Some(Input::Reply { session, reply: Reply::Returned { item, result } })
        });
    }

    /// A renewal through the journal; like a checkout, it completes even if the session
    /// ends (its outcome must be journaled).
    pub(super) fn renew(&mut self, session: SessionId, patron: PatronId, item: ItemId, due: String) {
        self.begin(session);
        let Some(lending) = &self.drivers.lending else {
            let reply = Reply::Renewed { item, result: Err(ItemRefusal::NoAnswer.into()) };
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let loans = self.loans.get_or_insert_with(|| lending.session(session.0)).clone();
        self.spawn(session, true, async move {
            let result = match loans.renew(patron.expose(), &item.0, &due).await {
                Ok(Ok(loan)) => Ok(Loan {
                    item: item.clone(),
                    title: loan.title,
                    due: kiosk_ils::display_due_date(&loan.due),
                    renewed: true,
                    desensitize: loan.desensitize,
                    security: kiosk_core::flow::Security::Unchanged,
                }),
                Ok(Err(problem)) => Err(item_refusal(problem.into())),
                Err(e) => Err(unanswered("renewal", &e)),
            };
            loans.finish().await;
            Some(Input::Reply { session, reply: Reply::Renewed { item, result } })
        });
    }

    /// The library system's answer about the patron.
    /// May the patron borrow? With a library-card password, the library system checks it
    /// too; the password is wiped when the answer (or the timeout) is in.
    pub(super) fn patron_status(&mut self, session: SessionId, patron: PatronId, password: Option<Password>) {
        self.begin(session);
        let Some(library) = self.drivers.library.clone() else {
            let reply = Reply::Standing(Err(PatronRefusal::LibrarySystemUnavailable));
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let timeout = self.drivers.timeout;
        let offline = self.drivers.offline.clone();
        self.spawn(session, false, async move {
            let asked = library.patron(patron.expose(), password.as_ref().map(Password::as_str));
            let answer = tokio::time::timeout(timeout, asked).await;
            drop(password);
            // Unreachable (down, cut off, silent) rather than misconfigured or garbled:
            // only then may the kiosk lend offline.
            let mut unreachable = false;
            let standing = match answer {
                Ok(Ok(Ok(_))) => Ok(()),
                Ok(Ok(Err(problem))) => Err(patron_refusal(&problem)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "patron status failed");
                    unreachable = e.unreachable();
                    Err(PatronRefusal::LibrarySystemUnavailable)
                }
                Err(_) => {
                    unreachable = true;
                    Err(PatronRefusal::LibrarySystemUnavailable)
                }
            };
            let reply = match (standing, &offline) {
                // The library system answers: loans made offline go to it now, before this
                // patron's (the loop would within seconds).
                (Ok(()), Some(o)) if o.view().waiting > 0 => {
                    let o = o.clone();
                    tokio::spawn(async move { o.replay().await });
                    Reply::Standing(Ok(()))
                }
                // No answer: the kiosk may lend offline, where the library allows it and
                // the kiosk's own conditions hold (the flow decides for this patron).
                (Err(PatronRefusal::LibrarySystemUnavailable), Some(o))
                    if unreachable && o.may_lend_now() =>
                {
                    Reply::StandingOffline
                }
                (standing, _) => Reply::Standing(standing),
            };
            Some(Input::Reply { session, reply })
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
        let offline = self.drivers.offline.clone();
        self.spawn(session, true, async move {
            if let Some(o) = offline
                && o.still_pending(&item).await
            {
                loans.finish().await;
                let result = Err(ItemRefusal::OfflinePending.into());
                return Some(Input::Reply { session, reply: Reply::Checkout { item, result } });
            }
            let result = match loans.checkout(patron.expose(), &item.0).await {
                Ok(Ok((loan, security))) => Ok(Loan {
                    item: item.clone(),
                    title: loan.title,
                    due: kiosk_ils::display_due_date(&loan.due),
                    renewed: loan.renewed,
                    desensitize: loan.desensitize,
                    security,
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

    /// A checkout while the library system is offline: into the offline queue (fsync'ed)
    /// within the library's limits, sent when the library system answers again.
    pub(super) fn offline_checkout(&mut self, session: SessionId, patron: PatronId, item: ItemId) {
        self.begin(session);
        let Some(offline) = self.drivers.offline.clone() else {
            let reply = Reply::Checkout { item, result: Err(ItemRefusal::OfflineStopped.into()) };
            let _ = self.inputs.send(Input::Reply { session, reply });
            return;
        };
        let security = self.drivers.security.clone();
        self.spawn(session, true, async move {
            let mut result = offline.lend(patron.expose(), &item).await;
            // Lent (kept in the queue): its security follows as for any loan.
            if let (Ok(loan), Some(unit)) = (&mut result, security) {
                loan.security = unit.for_loan(&item, None).await;
            }
            Some(Input::Reply { session, reply: Reply::Checkout { item, result } })
        });
    }

    /// Before serving anyone: loans a crash left unanswered are settled with the library
    /// system (and counted on the staff menu's recent events).
    pub(super) async fn reconcile_journal(&mut self) {
        let Some(lending) = self.drivers.lending.clone() else { return };
        let done = lending.reconcile().await;
        self.journal_backlog = done.pending;
        {
            use kiosk_core::usage::Counter;
            let usage = &self.drivers.usage;
            usage.count(Counter::Loans, done.lent);
            usage.count(Counter::Renewals, done.renewed);
            usage.count(Counter::Returns, done.returned);
        }
        for _ in 0..done.settled {
            self.console.log(kiosk_ui::EventKind::StaffAction, 1, 0);
        }
        for _ in 0..done.security_not_set {
            self.console.log(kiosk_ui::EventKind::SecurityNotSet, 0, 0);
        }
    }
}
