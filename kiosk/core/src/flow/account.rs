//! The patron's account inside a session: loans with due dates (overdue marked), holds
//! ready for pickup, why borrowing is blocked, and renewals, one item or all, each with
//! its own answer. The patron session owns an [`AccountState`] while the account screen
//! is up; this module keeps its bookkeeping (which renewal is out, what each line says)
//! so the session's state machine only routes events to it.

use std::collections::VecDeque;

use super::Millis;
use super::patron::{ItemId, Refusal};

/// Why the library system says a patron may not borrow, from the SIP2 patron status flags
/// (each worded on screen in the patron's language; the library system's own message is
/// shown on a line of its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockReason {
    /// Too many items overdue, or a recall overdue.
    Overdue,
    /// Fines or fees outstanding.
    Fines,
    /// The card was reported lost.
    CardLost,
    /// Too many items on loan.
    TooManyItems,
    /// Items lost, billed or claimed returned: the counter has to look.
    ItemsLost,
    /// Borrowing denied without a reason the flags name.
    Other,
}

/// One loan on the account screen.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLoan {
    /// The barcode; `None` when the library system listed a title only (not renewable
    /// from the kiosk).
    pub item: Option<ItemId>,
    pub title: String,
    /// Due date as the library system wrote it (`YYYY-MM-DD` when it was a SIP2 date).
    pub due: String,
    pub overdue: bool,
}

impl core::fmt::Debug for AccountLoan {
    // What a patron borrows is private: titles stay out of logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "AccountLoan({:?}, due {}, overdue {})", self.item, self.due, self.overdue)
    }
}

/// A hold waiting for the patron.
#[derive(Clone, PartialEq, Eq)]
pub struct HoldReady {
    pub title: String,
    /// Where to collect it, in the library system's words.
    pub pickup: Option<String>,
    /// Last day to collect it, as the library system wrote it.
    pub until: Option<String>,
}

impl core::fmt::Debug for HoldReady {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HoldReady(..)")
    }
}

/// The patron's account as the library system gave it (loans sorted by due date).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub loans: Vec<AccountLoan>,
    pub holds: Vec<HoldReady>,
    /// Empty: the patron may borrow.
    pub blocks: Vec<BlockReason>,
    /// The library system's message to the patron, if it sent one.
    pub message: Option<String>,
    /// The library system counted more than it listed: the lists are not everything.
    pub incomplete: bool,
}

impl core::fmt::Debug for Account {
    // The library system's message may name the patron: never in logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "Account({:?}, {} holds, blocks {:?}, message {}, incomplete {})",
            self.loans,
            self.holds.len(),
            self.blocks,
            if self.message.is_some() { "given" } else { "none" },
            self.incomplete
        )
    }
}

/// Where a loan's renewal is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenewState {
    /// Not asked.
    NotAsked,
    /// Waiting for its turn or for the library system.
    Waiting,
    /// Renewed; the new due date.
    Renewed { due: String },
    /// Refused (or not answered): why.
    Refused(Refusal),
}

/// A loan line with its renewal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountLine {
    pub loan: AccountLoan,
    pub renew: RenewState,
}

/// What the account screen shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountView {
    /// Asking the library system.
    Loading,
    /// The library system could not be asked (the patron may go back and borrow).
    Unavailable,
    Shown {
        lines: Vec<AccountLine>,
        holds: Vec<HoldReady>,
        blocks: Vec<BlockReason>,
        message: Option<String>,
        incomplete: bool,
        /// Renewals still to answer.
        renewing: usize,
        /// The patron may go back to borrowing (false: the library system blocked them).
        can_borrow: bool,
    },
}

/// The account screen's bookkeeping.
#[derive(Debug)]
pub(super) struct AccountState {
    /// `None` while loading.
    pub(super) account: Option<Account>,
    pub(super) unavailable: bool,
    pub(super) renew: Vec<RenewState>,
    pub(super) queue: VecDeque<usize>,
    /// The renewal out now: its line and when it was sent.
    pub(super) in_flight: Option<(usize, Millis)>,
    /// When the account request was sent (its driver timeout).
    pub(super) asked_at: Millis,
}

impl AccountState {
    pub(super) fn loading(now: Millis) -> AccountState {
        AccountState {
            account: None,
            unavailable: false,
            renew: Vec::new(),
            queue: VecDeque::new(),
            in_flight: None,
            asked_at: now,
        }
    }

    /// The account arrived. Loans whose renewal this session already asked (`asked`:
    /// item and what is known of it) show that, so nothing is renewed twice in one
    /// session, not even one whose first renewal had no answer.
    pub(super) fn loaded(&mut self, account: Account, asked: &[(ItemId, RenewState)]) {
        self.renew = account
            .loans
            .iter()
            .map(|loan| {
                let known = loan.item.as_ref().and_then(|i| asked.iter().find(|(r, _)| r == i));
                known.map_or(RenewState::NotAsked, |(_, state)| match state {
                    // Its answer may still come; not asked again meanwhile.
                    RenewState::Waiting => RenewState::Refused(super::patron::ItemRefusal::NoAnswer.into()),
                    other => other.clone(),
                })
            })
            .collect();
        self.account = Some(account);
    }

    /// The barcode on `line`.
    pub(super) fn item(&self, line: usize) -> Option<ItemId> {
        self.account.as_ref()?.loans.get(line)?.item.clone()
    }

    /// A late answer for a renewal given up on: its line says what happened.
    pub(super) fn answered_late(&mut self, item: &ItemId, state: RenewState) {
        let Some(account) = &self.account else { return };
        if let Some(line) = account.loans.iter().position(|l| l.item.as_ref() == Some(item))
            && let Some(s) = self.renew.get_mut(line)
        {
            *s = state;
        }
    }

    /// Whether the library system is being asked something now.
    pub(super) fn busy(&self) -> bool {
        (self.account.is_none() && !self.unavailable) || self.in_flight.is_some()
    }

    /// Lines that may be renewed: a barcode, and not asked yet in this session. A renewal
    /// that was not answered is not asked again: it may have happened (the journal
    /// reconciles it), and a second one would move the due date twice. Whether the
    /// renewal is allowed is the library system's to say.
    pub(super) fn renewable(&self, line: usize) -> bool {
        let Some(account) = &self.account else { return false };
        let Some(loan) = account.loans.get(line) else { return false };
        loan.item.is_some() && matches!(self.renew.get(line), Some(RenewState::NotAsked))
    }

    /// Queues `line` for renewal; false when it cannot be renewed now.
    pub(super) fn queue(&mut self, line: usize) -> bool {
        if !self.renewable(line) || self.queue.contains(&line) {
            return false;
        }
        self.queue.push_back(line);
        if let Some(state) = self.renew.get_mut(line) {
            *state = RenewState::Waiting;
        }
        true
    }

    /// The next renewal to send: its line, barcode and the due date it has now.
    pub(super) fn next(&mut self, now: Millis) -> Option<(ItemId, String)> {
        if self.in_flight.is_some() {
            return None;
        }
        let account = self.account.as_ref()?;
        while let Some(line) = self.queue.pop_front() {
            let Some(loan) = account.loans.get(line) else { continue };
            let Some(item) = loan.item.clone() else { continue };
            self.in_flight = Some((line, now));
            return Some((item, loan.due.clone()));
        }
        None
    }

    /// The library system answered the renewal out now (`item` must be it).
    pub(super) fn answered(&mut self, item: &ItemId, result: RenewState) -> bool {
        let Some((line, _)) = self.in_flight else { return false };
        let out = self.account.as_ref().and_then(|a| a.loans.get(line)).and_then(|l| l.item.as_ref());
        if out != Some(item) {
            return false;
        }
        self.in_flight = None;
        if let Some(state) = self.renew.get_mut(line) {
            *state = result;
        }
        true
    }

    pub(super) fn view(&self, can_borrow: bool) -> AccountView {
        match &self.account {
            None if self.unavailable => AccountView::Unavailable,
            None => AccountView::Loading,
            Some(a) => AccountView::Shown {
                lines: a
                    .loans
                    .iter()
                    .zip(&self.renew)
                    .map(|(loan, renew)| AccountLine { loan: loan.clone(), renew: renew.clone() })
                    .collect(),
                holds: a.holds.clone(),
                blocks: a.blocks.clone(),
                message: a.message.clone(),
                incomplete: a.incomplete,
                renewing: self.queue.len() + usize::from(self.in_flight.is_some()),
                can_borrow,
            },
        }
    }
}
