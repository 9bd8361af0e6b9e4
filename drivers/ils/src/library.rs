//! What the flow needs from a library system, independent of the protocol.

use std::future::Future;

use crate::error::Sip2Error;
use crate::messages::PatronStatusFlags;

/// A patron the library system lets borrow.
#[derive(Clone, PartialEq, Eq)]
pub struct Standing {
    /// The patron's name as the library system sent it (NFC); shown on screen only.
    pub name: String,
    /// Screen messages from the library system (NFC).
    pub messages: Vec<String>,
}

impl std::fmt::Debug for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A patron's name is personal data: never in logs.
        f.write_str("Standing(..)")
    }
}

/// Why a patron may not borrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatronProblem {
    /// The library system does not know this patron (BL=N).
    Unknown,
    /// The patron's password was not accepted (one was sent in AD and CQ is not Y).
    WrongPassword,
    /// Borrowing is blocked: the status flags set, and the library system's message.
    Blocked { reasons: Vec<&'static str>, message: Option<String> },
}

/// A loan the library system confirmed.
#[derive(Clone, PartialEq, Eq)]
pub struct Loan {
    pub item: String,
    /// Title, NFC-normalised for display and printing.
    pub title: String,
    /// Due date, as the library system formatted it.
    pub due: String,
    /// The loan was confirmed by reconciliation after a lost reply, or a retried
    /// checkout came back as a renewal: worth a log line for staff.
    pub recovered: bool,
    /// The library system answered this checkout as a renewal: the patron already had
    /// the item on loan, and its due date moved (tell the patron "renewed, due …"; it is
    /// not a new loan, so it must not be counted again). Always true for a renewal.
    pub renewed: bool,
    /// The checkout answer's desensitize flag: switch the item's security off
    /// (`Some(true)`), leave it on (`Some(false)`), or not said (`None`: unknown, or a
    /// loan found by reconciliation).
    pub desensitize: Option<bool>,
}

impl std::fmt::Debug for Loan {
    // What a patron borrows is private: titles stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Loan({:?}, due {}, recovered {}, renewed {})",
            self.item, self.due, self.recovered, self.renewed
        )
    }
}

/// Why an item was not lent or returned; each maps to a sentence the screen can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemProblem {
    /// The library system does not know the barcode.
    NotFound,
    /// Reserved for another patron: "Please take this book to the counter".
    OnHoldForAnother,
    /// On loan to someone else.
    OnLoanToAnother,
    /// Refused for another reason; the library system's screen message, if any.
    Refused(Option<String>),
    /// A return of an item that is not on loan (returned already, or never lent).
    NotCheckedOut,
}

/// A checkout the library system refused: why, and the item's title when the library
/// system gave one (the checkout's answer, or item information), so the patron is told
/// which book, not a bare barcode. (`Debug` leaves the title out: never log a title.)
#[derive(Clone, PartialEq, Eq)]
pub struct Refused {
    pub problem: ItemProblem,
    pub title: Option<String>,
}

impl std::fmt::Debug for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Refused({:?}, title {})",
            self.problem,
            if self.title.is_some() { "given" } else { "none" }
        )
    }
}

impl From<ItemProblem> for Refused {
    fn from(problem: ItemProblem) -> Refused {
        Refused { problem, title: None }
    }
}

/// Result of a return.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckinOutcome {
    /// Staff should look at the item (alert flag: hold for someone, other branch…).
    pub alert: bool,
    /// Why, when the library system says (CV, Koha's and Evergreen's extension: `01` hold
    /// here, `02` hold elsewhere, `04` send to another branch, `99` other).
    pub alert_type: Option<String>,
    pub sort_bin: Option<String>,
    /// Where the item goes next when the library system says (CT: a hold shelf, another
    /// branch).
    pub destination: Option<String>,
    /// The title (NFC), when the library system gave one.
    pub title: Option<String>,
    pub message: Option<String>,
}

impl std::fmt::Debug for CheckinOutcome {
    // Titles stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckinOutcome(alert {}, sort bin {:?})", self.alert, self.sort_bin)
    }
}

/// One of the patron's loans, for the account screen.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountLoan {
    pub item: String,
    /// Title (NFC); "" when the library system gave none.
    pub title: String,
    /// Due date as the library system wrote it ("" when it gave none).
    pub due: String,
    /// The library system lists it among the patron's overdue items.
    pub overdue: bool,
}

impl std::fmt::Debug for AccountLoan {
    // What a patron borrows is private: titles stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccountLoan({:?}, due {}, overdue {})", self.item, self.due, self.overdue)
    }
}

/// A hold waiting for the patron.
#[derive(Clone, PartialEq, Eq)]
pub struct HoldReady {
    pub item: String,
    /// Title (NFC); "" when the library system gave none.
    pub title: String,
    /// Where to collect it, when the library system says (its own words).
    pub pickup: Option<String>,
    /// The last day to collect it, as the library system wrote it.
    pub until: Option<String>,
}

impl std::fmt::Debug for HoldReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HoldReady({:?})", self.item)
    }
}

/// A patron's account: loans (sorted by due date, earliest first), holds ready for
/// pickup, the patron status flags and the library system's message.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Account {
    pub loans: Vec<AccountLoan>,
    pub holds_ready: Vec<HoldReady>,
    pub flags: PatronStatusFlags,
    /// The library system's first screen message (NFC), if any.
    pub message: Option<String>,
    /// The library system counted more loans or holds than it listed, even when asked
    /// page by page (a frame size limit): the lists are what it sent, not everything.
    pub incomplete: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Account({} loans, {} holds ready, incomplete {})",
            self.loans.len(),
            self.holds_ready.len(),
            self.incomplete
        )
    }
}

/// Failure of the library system itself (not a refusal).
pub type LibraryError = Sip2Error;

/// What the flow asks of a library system.
pub trait Library: Send + Sync {
    /// May this patron borrow? With a PIN, the PIN must be confirmed.
    fn patron(
        &self,
        patron: &str,
        pin: Option<&str>,
    ) -> impl Future<Output = Result<Result<Standing, PatronProblem>, LibraryError>> + Send;

    /// Lend an item. Never lends twice: an unknown outcome is reconciled first.
    fn checkout(
        &self,
        patron: &str,
        item: &str,
    ) -> impl Future<Output = Result<Result<Loan, Refused>, LibraryError>> + Send;

    /// Renew an item on loan to the patron; `due_before` (the due date the account
    /// showed) lets an answer that moves the due date back be named.
    fn renew(
        &self,
        patron: &str,
        item: &str,
        due_before: Option<&str>,
    ) -> impl Future<Output = Result<Result<Loan, ItemProblem>, LibraryError>> + Send;

    /// Return an item.
    fn return_item(
        &self,
        item: &str,
    ) -> impl Future<Output = Result<Result<CheckinOutcome, ItemProblem>, LibraryError>> + Send;

    /// The patron's loans (with titles and due dates) and holds ready.
    fn account(
        &self,
        patron: &str,
        pin: Option<&str>,
    ) -> impl Future<Output = Result<Account, LibraryError>> + Send;

    /// End the patron's session in the library system (best effort).
    fn end_session(&self, patron: &str) -> impl Future<Output = Result<(), LibraryError>> + Send;
}
