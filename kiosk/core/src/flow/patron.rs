//! The patron session: from a card on the reader (or a scanned library card or Method D
//! label) to "take your card", with every way it can go wrong.
//!
//! ```text
//! Idle ─card─▶ ReadingCertificate ─▶ PinEntry ─▶ Proving ─▶ CheckingValidity
//!   │                 (require_pin = false skips PinEntry and Proving) │
//!   │                                      ResolvingPatron ◀─ Good, no patron
//!   └─library card / label scan─▶ CheckingStanding ◀───────────────────┘
//!                                       │
//!                    Borrowing ◀────────┘ ─Finish─▶ ReceiptChoice ─▶ Printing
//!                        └─PrintLabel (Method D)────────────────────▶ Printing
//! any state ─problem / timeout / done─▶ Ending (notice; "take your card") ─card out─▶ Idle
//! ```
//!
//! At a counter ([`SessionPolicy::counter`]), a resolved patron goes to `HandOff`
//! instead (methods A–D, switched by staff; the number is wiped after `show_for`), and
//! staff can start `Linking`: the next card, once proven, is linked to a scanned library
//! card in the local link store (replacing a link only when staff confirm).
//!
//! Card removal ends a card session from any state: the session's in-flight work is
//! cancelled, the card is powered off, the PIN pad (and its digits) dropped, and the flow
//! is back in `Idle`.

use core::time::Duration;
use std::collections::VecDeque;

use super::account::{Account, AccountState, AccountView, RenewState};
use super::returns::{Return, ReturnLine, Returns};
use super::tally::{self, Tally, TurnedAway};
use super::{
    Millis, Password, PasswordPad, PatronId, Pin, PinKey, PinPad, PinPadEffect, PinPadEvent, PinView,
    SessionId,
};

/// The library's choices that shape a session (from the config file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ask for the card's PIN and prove possession with a signature (default true).
    pub require_pin: bool,
    /// Whether a scanned library card logs a patron in, and with what.
    pub library_card_login: LibraryCardLogin,
    /// Patrons may log in by scanning a same-day Method D label.
    pub allow_method_d_login: bool,
    /// Card patrons may print a Method D label instead of borrowing here.
    pub offer_method_d_print: bool,
    /// No touch or scan for this long shows the "are you still there?" warning.
    pub idle_timeout: Duration,
    /// How long the warning counts down before the session ends.
    pub warning: Duration,
    /// No key for this long clears a half-typed PIN.
    pub pin_idle_timeout: Duration,
    /// A card still on the reader this long after the session ended calls staff.
    pub take_card_alarm: Duration,
    /// A driver that has not answered after this long is treated as failed.
    pub driver_timeout: Duration,
    /// A notice without a card to remove returns to Idle after this long.
    pub notice_timeout: Duration,
    /// A staffed counter instead of a self-checkout kiosk (`None`: self-checkout).
    pub counter: Option<CounterPolicy>,
    /// The borrowing screen offers the patron's account (loans, holds, renewals).
    pub account: bool,
    /// The idle screen offers returns (no card needed).
    pub returns: bool,
    /// Who may borrow while the library system does not answer (`None`: nobody).
    pub offline: Option<OfflinePolicy>,
    /// Books are read from an RFID pad (they are still scanned where they have no tag).
    pub rfid_pad: bool,
    /// At Finish, ask how many items the patron brought and compare with those read (a
    /// tag hidden under the stack is not read): RFID pads only.
    pub count_check: bool,
}

/// Offline lending's patron rule (the kiosk's own limits are the orchestrator's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OfflinePolicy {
    /// Library-card patrons too (My Number card and label patrons always).
    pub library_card_patrons: bool,
}

/// What a scanned library-card barcode (or a Method D label's linear barcode, which is the
/// same number) may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LibraryCardLogin {
    /// Not a login: the patron is told to use their My Number card.
    Off,
    /// The barcode alone logs in (anyone holding the card can borrow with it; the account
    /// stays closed).
    #[default]
    Barcode,
    /// The barcode, then the patron's library password, checked by the library system
    /// (SIP2 AD, answered in CQ). A patron who gave it may see their account.
    BarcodeAndPassword,
}

/// The counter profile's choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterPolicy {
    /// Ask the platform about revocation (off: the patron comes from the link store).
    pub check_validity: bool,
    /// The hand-off methods staff may switch between, the first shown first. Never empty.
    pub methods: Vec<HandOff>,
    /// The number is on screen (A, B) at most this long, then wiped.
    pub show_for: Duration,
}

/// How the patron number reaches the library system at the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandOff {
    /// A: large digits for staff to type.
    Digits,
    /// B: an on-screen barcode for the counter's scanner.
    Barcode,
    /// C: typed into the counter PC through the USB keyboard gadget.
    Keyboard,
    /// D: printed as a Method D label.
    Label,
}

/// Why method C could not type the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeFault {
    /// The USB keyboard gadget is not there (cable, or the gadget is not set up).
    NoKeyboard,
    /// The number has a character the counter PC's layout cannot type; nothing was typed.
    Untypable,
    /// Typing stopped part-way.
    Failed,
}

/// Why a link could not be saved or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkFault {
    /// The card is already linked to another library card: staff must confirm.
    CardLinkedElsewhere,
    /// The library card is linked to another My Number card (a re-issue?): staff must confirm.
    PatronLinkedElsewhere,
    /// This kiosk keeps no link store (`platform.mode = "api"`: links live at the platform).
    NoLinkStore,
    /// The link store could not be written.
    StoreFailed,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            require_pin: true,
            library_card_login: LibraryCardLogin::Barcode,
            allow_method_d_login: true,
            offer_method_d_print: true,
            idle_timeout: Duration::from_secs(60),
            warning: Duration::from_secs(15),
            pin_idle_timeout: Duration::from_secs(30),
            take_card_alarm: Duration::from_secs(60),
            driver_timeout: Duration::from_secs(45),
            notice_timeout: Duration::from_secs(10),
            counter: None,
            account: true,
            returns: false,
            offline: None,
            rfid_pad: false,
            count_check: false,
        }
    }
}

/// How many library cards a kiosk keeps refused after three wrong passwords, until staff
/// reset it.
pub const PASSWORD_LOCKS: usize = 32;

/// An item barcode. Not personal by itself; never logged together with a patron.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ItemId(pub String);

impl core::fmt::Debug for ItemId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ItemId({})", self.0)
    }
}

/// A loan the library system confirmed.
#[derive(Clone, PartialEq, Eq)]
pub struct Loan {
    pub item: ItemId,
    /// Title, as the library system sent it (NFC-normalised by the driver).
    pub title: String,
    /// Due date, as the library system formatted it.
    pub due: String,
    /// The library system renewed the item instead: the patron had it already (scanned
    /// again), so it is not a new loan; `due` is the new due date.
    pub renewed: bool,
    /// The library system's answer about the item's security: switch it off (`Some(true)`),
    /// leave it on (`Some(false)`), or not said (`None`).
    pub desensitize: Option<bool>,
    /// What became of the item's security (its RFID tag's AFI or EAS, its magnetic strip).
    pub security: Security,
}

/// What became of a lent book's security, switched by the orchestrator after the library
/// system accepted the loan (and before the answer reaches the flow).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Security {
    /// Nothing to switch: the kiosk has no security unit, or the library system said to
    /// keep the item's security on.
    #[default]
    Unchanged,
    /// Switched off: the book passes the gate.
    Switched,
    /// Could not be switched off (tried again, then given up): the patron takes the book
    /// to the counter, and staff are called.
    Failed,
}

/// A library item on the RFID pad as the reader sees it now: its identifier, how many
/// parts its set has, and which of them are on the pad (none: it was taken off).
#[derive(Clone, PartialEq, Eq)]
pub struct OnPad {
    pub item: ItemId,
    /// Parts in the set (1 for a single book).
    pub parts: u8,
    /// The parts on the pad, 1-based, each once.
    pub present: Vec<u8>,
    /// Two tags on the pad say they are the same part of this item.
    pub duplicate: bool,
}

impl core::fmt::Debug for OnPad {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "OnPad({:?}, {:?} of {})", self.item, self.present, self.parts)
    }
}

impl OnPad {
    /// The parts not on the pad, in order.
    #[must_use]
    pub fn missing(&self) -> Vec<u8> {
        (1..=self.parts.max(1)).filter(|p| !self.present.contains(p)).collect()
    }

    /// Every part is on the pad.
    #[must_use]
    pub fn complete(&self) -> bool {
        !self.present.is_empty() && self.missing().is_empty()
    }

    /// Why it cannot be sent as it lies (`None`: it can).
    fn problem(&self) -> Option<ItemRefusal> {
        if self.duplicate {
            Some(ItemRefusal::DuplicateTags)
        } else if self.complete() {
            None
        } else {
            Some(ItemRefusal::PartsMissing { missing: self.missing(), parts: self.parts })
        }
    }
}

impl core::fmt::Debug for Loan {
    // What a patron borrows is private: titles stay out of logs.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let renewed = if self.renewed { ", renewed" } else { "" };
        write!(f, "Loan({:?}, due {}{renewed})", self.item, self.due)
    }
}

/// Why the library system would not lend an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemRefusal {
    /// The library system does not know the item.
    NotInCatalogue,
    /// The item is on hold for another patron.
    OnHoldForAnother,
    /// The item is on loan to another patron.
    OnLoanToAnother,
    /// Refused for another reason: the library system's screen message, if it sent one.
    Refused(Option<String>),
    /// The library system did not answer; the orchestrator reconciles before any retry.
    NoAnswer,
    /// The library system answered something the kiosk cannot trust (no item id, a
    /// renewal that moved the due date back): staff check it.
    Unconfirmed,
    /// A return of a book that is not on loan (returned already, or never lent).
    NotCheckedOut,
    /// Offline: the patron (or the kiosk) has as many offline loans as the library
    /// allows.
    OfflineLimit,
    /// Offline lending stopped (the clock cannot be trusted, the oldest offline loan is
    /// too old, or the queue cannot be written): the book is not lent.
    OfflineStopped,
    /// The book was lent offline and that loan has not reached the library system yet:
    /// it is neither lent nor returned here until it has (staff check it).
    OfflinePending,
    /// Part of a set (a book with its CD, volumes sold together) is not on the RFID pad:
    /// the set is lent or returned only whole. `missing` are the parts' numbers.
    PartsMissing { missing: Vec<u8>, parts: u8 },
    /// Two tags on the RFID pad say they are this item (and part): one is not what it
    /// says, so neither is lent or returned (staff check them).
    DuplicateTags,
}

impl ItemRefusal {
    /// A refusal that lasts only while the pad shows it (a set made whole, a duplicate
    /// taken away, and the item is sent).
    fn is_pad_problem(&self) -> bool {
        matches!(self, ItemRefusal::PartsMissing { .. } | ItemRefusal::DuplicateTags)
    }
}

/// A refused item: why (a code the screen words in the patron's language), and the
/// item's title when the library system gave one, so the patron is told which book.
#[derive(Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: ItemRefusal,
    pub title: Option<String>,
}

impl core::fmt::Debug for Refusal {
    // Titles stay out of logs, as for loans.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let title = if self.title.is_some() { "with title" } else { "no title" };
        match &self.reason {
            ItemRefusal::Refused(Some(_)) => write!(f, "Refusal(Refused(message), {title})"),
            reason => write!(f, "Refusal({reason:?}, {title})"),
        }
    }
}

impl From<ItemRefusal> for Refusal {
    fn from(reason: ItemRefusal) -> Refusal {
        Refusal { reason, title: None }
    }
}

/// One line of the borrowing list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoanLine {
    Borrowed(Loan),
    Refused { item: ItemId, refusal: Refusal },
}

/// How the patron identified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginMethod {
    MyNumberCard,
    LibraryCard,
    MethodDLabel,
}

/// Why a scanned Method D label was refused (the verifier lives in the printer driver).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelRefusal {
    /// Printed on another day.
    WrongDay,
    /// The signature does not verify.
    BadSignature,
    /// Signed with a key this kiosk does not know.
    UnknownKey,
    /// Not a label token at all.
    Malformed,
    /// Let in once already today (a photocopy, or the label scanned again): a label
    /// works once.
    AlreadyUsed,
}

/// A scan, already classified by the scanner driver's rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scan {
    LibraryCard(PatronId),
    /// Looked like a library card but its check digit is wrong (a misread or a typo'd
    /// card): never linked, never logged in with.
    BadLibraryCard,
    Item(ItemId),
    /// A Method D label, verified (or refused) by the orchestrator.
    MethodDLabel(Result<PatronId, LabelRefusal>),
    /// A staff card (`scanner.staff_card_prefix`): it opens the staff menu's PIN screen
    /// (the console's job; the patron session ignores it). Never a patron login.
    StaffCard,
}

/// A patron's touch on the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tap {
    Pin(PinKey),
    /// "I'm done" on the borrowing screen.
    Finish,
    PrintReceipt,
    /// A receipt with the account's summary.
    PrintReceiptWithAccount,
    NoReceipt,
    /// Print a Method D label instead of borrowing here.
    PrintLabel,
    /// Stop and take the card back.
    Cancel,
    /// Answer to the timeout warning.
    StillHere,
    /// Close a notice (and "OK" on the refused-books screen).
    Dismiss,
    /// The patron asked for staff (the button on every patron screen).
    CallStaff,
    /// Counter: staff switch the hand-off method.
    Method(HandOff),
    /// Counter, linking: staff confirm replacing an existing link.
    ConfirmReplace,
    /// Counter, linking: staff remove the card's link.
    Unlink,
    /// Open the patron's account (from the borrowing screen).
    Account,
    /// Renew the account's loan on this line (0 for the first, due soonest).
    Renew(usize),
    /// Renew every loan on the account that can be.
    RenewAll,
    /// Return books (the idle screen's button, where the library offers returns).
    Return,
    /// How many items the patron brought (the count check; 10 means "10 or more").
    Count(u8),
    /// After a count that does not match: back to the pad to read the stack again.
    ReadAgain,
}

/// Card trouble the card driver reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardFault {
    /// Not a My Number card, or its JPKI applet is missing.
    NotMyNumberCard,
    /// The card answered something malformed or failed mid-read.
    Unreadable,
    /// The reader disappeared or pcscd failed.
    ReaderFailed,
}

/// Why proof of possession failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofFailure {
    /// The signature does not verify with the certificate's key: not the genuine card.
    BadSignature,
    /// The certificate does not chain to a configured JPKI CA.
    UntrustedCertificate,
}

/// The platform's answer on the certificate (from the platform driver).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid. The patron, when the platform (or link store) already resolved it.
    Good {
        patron: Option<PatronId>,
    },
    Revoked,
    Expired,
    NotLinked,
    /// The platform refused the card's proof (a forged or replayed signature): never lend.
    Untrusted,
    /// No answer could be had (network, TLS, platform error).
    Unavailable,
}

/// Why a patron may not borrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatronRefusal {
    /// The card is not linked to a patron of this library.
    NotLinked,
    /// The library system does not know the patron.
    Unknown,
    /// Borrowing blocked (overdue items, fines, expired registration…): see staff.
    Blocked(Option<String>),
    /// The library system could not be reached.
    LibrarySystemUnavailable,
    /// The library system did not accept the library-card password.
    WrongPassword,
}

/// Why printing failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrintFault {
    OutOfPaper,
    Offline,
    Failed,
}

/// A driver's answer to an effect. Delivered as [`Event::Reply`] with the session id the
/// effect carried.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Certificate(Result<(), CardFault>),
    PinTries(u8),
    PinVerified,
    WrongPin {
        tries_left: u8,
    },
    PinBlocked,
    /// A card operation failed (any stage).
    CardError(CardFault),
    Proof(Result<(), ProofFailure>),
    Validity(Verdict),
    /// Link-store resolution of the verified certificate.
    Patron(Result<PatronId, PatronRefusal>),
    /// SIP2 patron status: may this patron borrow?
    Standing(Result<(), PatronRefusal>),
    /// The library system did not answer the patron status, and this kiosk may lend
    /// offline now (the flow decides whether this patron may).
    StandingOffline,
    Checkout {
        item: ItemId,
        result: Result<Loan, Refusal>,
    },
    Printed(Result<(), PrintFault>),
    /// Method C finished typing (or could not).
    Typed(Result<(), TypeFault>),
    /// The link was saved (or why not).
    Linked(Result<(), LinkFault>),
    /// The card's link was removed (`Ok(false)`: it had none).
    Unlinked(Result<bool, LinkFault>),
    /// The patron's account (`None`: the library system could not be asked).
    Account(Option<Account>),
    /// A renewal's answer: the loan with its new due date, or why not.
    Renewed {
        item: ItemId,
        result: Result<Loan, Refusal>,
    },
    /// A return's answer: where the book goes, or why it was not returned.
    Returned {
        item: ItemId,
        result: Result<Return, Refusal>,
    },
}

/// Everything the session can be told.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    CardInserted,
    CardRemoved,
    Scanned(Scan),
    Tap(Tap),
    /// Only time passed.
    Tick,
    Reply {
        session: SessionId,
        reply: Reply,
    },
    /// Staff took the kiosk out of (or back into) service. A running session finishes.
    SetOutOfService(bool),
    /// Staff reset the kiosk: end any session, clear alarms.
    Reset,
    /// Staff turned the account screen and returns on or off (a session running keeps
    /// what it has; the next one follows).
    SetServices {
        account: bool,
        returns: bool,
    },
    /// The printer's status watcher saw the roll run out: stop offering receipts and
    /// labels, call staff.
    PaperOut,
    /// Staff loaded paper.
    PaperRestored,
    /// Counter: staff chose "link a card" (ignored by a self-checkout kiosk).
    StartLinking,
    /// The RFID pad: an item placed, a part added, or taken off (`present` empty).
    Pad(OnPad),
    /// The RFID pad's reader stopped working (`false`) or works again.
    PadWorking(bool),
}

/// What is printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrintJob {
    /// The books lent (and renewed), and the books refused with why; the patron, for a
    /// library that prints the (masked) number on receipts (`receipt_shows_patron`).
    Receipt {
        loans: Vec<Loan>,
        refused: Vec<(ItemId, Refusal)>,
        patron: PatronId,
        /// The patron asked for their account's summary on it too (books on loan, the
        /// next due date, holds ready): only a patron who may see the account.
        account: bool,
        /// Lent offline: the due dates are provisional, and the receipt says so.
        offline: bool,
    },
    MethodDLabel {
        patron: PatronId,
    },
}

/// Staff-call lamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LampPattern {
    Off,
    Steady,
    Blink,
}

/// Buzzer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuzzerPattern {
    Off,
    /// One short beep (timeout warning).
    Beep,
    /// A chirp every few seconds until stopped ("take your card").
    Reminder,
    /// A short chirp: the book is lent.
    Lent,
    /// Three short beeps: the book was not lent.
    Refused,
}

/// Why staff are called. Latched until staff reset the kiosk (or the cause goes away).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffCall {
    /// The patron pressed "call staff".
    PatronAsked,
    CardLocked,
    /// Three wrong library-card passwords (the card is refused here until staff reset).
    PasswordRefused,
    CardLeftBehind,
    PrinterOutOfPaper,
    PrinterFault,
    Malfunction,
    /// A lent book's security could not be switched off: the patron was told to bring it
    /// to the counter.
    ItemSecurity,
}

/// Events for the audit log. No personal data: no PIN, serial, patron or item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditEvent {
    SessionStarted(LoginMethod),
    PinRejected {
        tries_left: u8,
    },
    CardLocked,
    StaffCalled(StaffCall),
    StaffCallCleared,
    /// A borrowing session ended: what it did, in numbers.
    SessionEnded(Tally),
    /// A session ended without letting the patron borrow, and why.
    TurnedAway(TurnedAway),
    CardRemovedEarly,
    /// Counter: the number was handed off by this method.
    HandedOff(HandOff),
    /// Counter: a card was linked (`replaced`: an earlier link was replaced).
    Linked {
        replaced: bool,
    },
    Unlinked,
    /// A returns session started (no card, no patron).
    ReturnsStarted,
    /// The library system did not accept a library-card password; `tries_left` at this
    /// kiosk (0: the session ended).
    PasswordRejected {
        tries_left: u8,
    },
    /// A returns session ended: books returned, not returned, and why.
    ReturnsEnded(Tally),
}

/// What the session asks the orchestrator to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Effect {
    ReadCertificate {
        session: SessionId,
    },
    QueryPinTries {
        session: SessionId,
    },
    VerifyPin {
        session: SessionId,
        pin: Pin,
    },
    /// Have the card sign a fresh challenge; verify it and the certificate chain.
    ProvePossession {
        session: SessionId,
    },
    CheckValidity {
        session: SessionId,
    },
    ResolvePatron {
        session: SessionId,
    },
    PatronStatus {
        session: SessionId,
        patron: PatronId,
        pin_verified: bool,
        /// The library-card password the patron typed, for the library system to check
        /// (moved out of the pad; wiped once the request is made).
        password: Option<Password>,
    },
    Checkout {
        session: SessionId,
        patron: PatronId,
        item: ItemId,
        /// Lent offline: kept in the offline queue and sent when the library system
        /// answers again.
        offline: bool,
    },
    /// Ask the library system for the patron's account.
    Account {
        session: SessionId,
        patron: PatronId,
    },
    /// Return `item` (journaled: reconciliation looks at the item's status).
    Return {
        session: SessionId,
        item: ItemId,
    },
    /// Renew `item`, due `due` now (journaled: reconciliation compares the due date).
    Renew {
        session: SessionId,
        patron: PatronId,
        item: ItemId,
        due: String,
    },
    Print {
        session: SessionId,
        job: PrintJob,
    },
    /// Method C: type the number into the counter PC.
    TypeNumber {
        session: SessionId,
        patron: PatronId,
    },
    /// Link the session's card to `patron`; `replace` only after staff confirmed.
    Link {
        session: SessionId,
        patron: PatronId,
        replace: bool,
    },
    /// Remove the session's card's link.
    Unlink {
        session: SessionId,
    },
    /// Power the card off (clears its verified PIN). Idempotent.
    PowerOffCard,
    /// The session is over: cancel its card and platform work and forget its data. A
    /// checkout already sent completes and is reconciled through the journal.
    EndSession {
        session: SessionId,
    },
    Lamp(LampPattern),
    Buzzer(BuzzerPattern),
    /// Release the security gate (`io.gate_pin`) for a book just lent: the library
    /// system accepted the checkout and did not say to keep the item's security on.
    ReleaseGate,
    Audit(AuditEvent),
}

impl Effect {
    /// The session a driver's answer to this effect belongs to (`None` for effects with
    /// no answer).
    #[must_use]
    pub fn session(&self) -> Option<SessionId> {
        match self {
            Effect::ReadCertificate { session }
            | Effect::QueryPinTries { session }
            | Effect::VerifyPin { session, .. }
            | Effect::ProvePossession { session }
            | Effect::CheckValidity { session }
            | Effect::ResolvePatron { session }
            | Effect::PatronStatus { session, .. }
            | Effect::Checkout { session, .. }
            | Effect::Account { session, .. }
            | Effect::Renew { session, .. }
            | Effect::Return { session, .. }
            | Effect::Print { session, .. }
            | Effect::TypeNumber { session, .. }
            | Effect::Link { session, .. }
            | Effect::Unlink { session } => Some(*session),
            Effect::PowerOffCard
            | Effect::EndSession { .. }
            | Effect::Lamp(_)
            | Effect::Buzzer(_)
            | Effect::ReleaseGate
            | Effect::Audit(_) => None,
        }
    }

    /// Effects that may leave the flow while it is idle: starting a session and resetting
    /// outputs. Anything else in Idle would be a stale session leaking through.
    #[must_use]
    pub fn allowed_in_idle(&self) -> bool {
        matches!(
            self,
            Effect::ReadCertificate { .. }
                | Effect::PatronStatus { .. }
                | Effect::PowerOffCard
                | Effect::EndSession { .. }
                | Effect::Lamp(_)
                | Effect::Buzzer(_)
                | Effect::Audit(_)
        )
    }
}

/// What the patron is told at the end of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Goodbye,
    ReceiptPrinted,
    LabelPrinted,
    Cancelled,
    TimedOut,
    CardLocked,
    CardProblem(CardFault),
    ProofFailed(ProofFailure),
    Revoked,
    Expired,
    NotLinked,
    PlatformUnavailable,
    PatronRefused(PatronRefusal),
    LabelRefused(LabelRefusal),
    PrintFailed(PrintFault),
    /// An item was scanned before anyone identified.
    IdentifyFirst,
    /// Something did not answer; staff have been called.
    Malfunction,
    /// Counter: the number was shown its time and wiped.
    NumberCleared,
    /// Counter: the card is now linked.
    Linked,
    /// Counter: the card's link was removed (`false`: it had none).
    Unlinked(bool),
    /// Counter: the link could not be saved.
    LinkFailed(LinkFault),
    /// Returns are done (the books stay at the kiosk's return box or with staff).
    ReturnsDone,
    /// A library card was scanned where the library takes only My Number cards.
    LibraryCardNotAccepted,
    /// Three wrong library-card passwords: the patron is sent to staff.
    PasswordRefused,
}

/// The waiting screens between PIN and borrowing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStage {
    Proving,
    Validity,
    Patron,
    Standing,
}

/// What the screen shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    Idle,
    OutOfService,
    ReadingCard,
    Pin(PinView),
    /// The library-card password pad (same keys, dots and last-try warning as the PIN's).
    Password(PinView),
    Checking {
        stage: CheckStage,
        since: Millis,
    },
    Borrowing {
        lines: Vec<LoanLine>,
        /// Items scanned and not yet answered.
        waiting: usize,
        finishing: bool,
        can_print_label: bool,
        /// The account button is offered (the library turned it on, nothing is waiting).
        can_open_account: bool,
        /// The library system is offline: the loans are kept here and sent later; the due
        /// dates are provisional.
        offline: bool,
    },
    /// At Finish, when books were refused: how many, and "take them to the counter",
    /// before the patron can leave.
    Refused {
        count: usize,
        /// Books lent or renewed in the same session (the screen says the others are
        /// borrowed only when there are some).
        lent: usize,
        /// Of the books lent, those whose security could not be switched off: to the
        /// counter too.
        unsecured: usize,
    },
    ReceiptChoice,
    /// The count check: how many items did the patron bring (`said` `None`), or they
    /// said more than were read (`seen`).
    Count {
        seen: usize,
        said: Option<u8>,
    },
    Printing {
        label: bool,
    },
    /// The patron's account: loans, holds, renewals.
    Account(AccountView),
    /// Returns: the books scanned, newest last, each with its answer.
    Returning {
        lines: Vec<ReturnLine>,
        /// Books scanned and not yet answered.
        waiting: usize,
        finishing: bool,
    },
    Ending {
        notice: Notice,
        card_present: bool,
    },
    /// Counter: the patron number handed off by `method`. `number` is set only for the
    /// methods that show it (A, B); `seconds_left` until it is wiped.
    HandOff {
        method: HandOff,
        methods: Vec<HandOff>,
        number: Option<PatronId>,
        typing: TypingView,
        seconds_left: u32,
    },
    /// Counter: staff started linking; waiting for the patron's card.
    LinkWaitingForCard,
    /// Counter: the card is proven; scan the library card.
    Linking {
        /// The last four characters of the library card the card is linked to now.
        current: Option<String>,
        /// The last scan was a library card with a wrong check digit.
        bad_scan: bool,
        stage: LinkStage,
    },
}

/// Method C's progress, for the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypingView {
    NotStarted,
    Typing,
    Typed,
    Failed(TypeFault),
}

/// Where linking is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkStage {
    /// Waiting for the library card scan.
    Scan,
    /// Staff must confirm replacing a link (the new library card's last four).
    Confirm { new: String, conflict: LinkFault },
    /// Saving or removing.
    Saving,
}

/// The view model: screen plus the overlays that can sit on any screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub screen: Screen,
    /// "Are you still there?" with this many seconds left.
    pub timeout_warning: Option<u32>,
    /// No receipts until staff load paper.
    pub paper_out: bool,
    pub staff_called: Option<StaffCall>,
    /// The idle screen offers returns.
    pub can_return: bool,
    /// The idle screen invites a library-card scan (the library takes them as a login).
    pub library_card_login: bool,
    /// The receipt choice offers the account's summary too.
    pub account_receipt: bool,
    /// The kiosk reads RFID tags: the screens say to put books on the pad.
    pub rfid_pad: bool,
    /// The pad's reader is not working now: the screens say to scan instead.
    pub pad_fault: bool,
}

#[derive(Debug)]
struct Basket {
    patron: PatronId,
    method: LoginMethod,
    lines: Vec<LoanLine>,
    queue: VecDeque<ItemId>,
    in_flight: Option<(ItemId, Millis)>,
    finishing: bool,
    /// The library system refused to let this patron borrow (its message, if any): the
    /// account shows why, and the session never lends.
    blocked: Option<Option<String>>,
    /// Every renewal asked in this session, with what is known of it: none is asked
    /// twice (one without an answer may have happened), and a late answer still counts.
    renew_log: Vec<(ItemId, RenewState)>,
    /// Lending offline (the library system did not answer the patron status).
    offline: bool,
    /// Where the count check is.
    count: CountStep,
}

/// The count check's step (an RFID library's setting, at Finish).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum CountStep {
    #[default]
    NotAsked,
    Asking,
    /// The patron said more items than were read.
    Mismatch(u8),
    /// Checked (or the patron finished anyway).
    Done,
}

impl Basket {
    fn new(patron: PatronId, method: LoginMethod) -> Basket {
        Basket {
            patron,
            method,
            lines: Vec::new(),
            queue: VecDeque::new(),
            in_flight: None,
            finishing: false,
            blocked: None,
            renew_log: Vec::new(),
            offline: false,
            count: CountStep::NotAsked,
        }
    }

    /// Moves the basket out, leaving an empty one for the same patron.
    fn take(&mut self) -> Basket {
        let offline = self.offline;
        let mut empty = Basket::new(self.patron.clone(), self.method);
        empty.offline = offline;
        core::mem::replace(self, empty)
    }

    fn knows(&self, item: &ItemId) -> bool {
        self.queue.contains(item)
            || self.in_flight.as_ref().is_some_and(|(i, _)| i == item)
            || self.lines.iter().any(|l| match l {
                LoanLine::Borrowed(loan) => &loan.item == item,
                // A refused item may be scanned again (e.g. after a staff fix).
                LoanLine::Refused { .. } => false,
            })
    }

    fn refusals(&self) -> Vec<(ItemId, Refusal)> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                LoanLine::Refused { item, refusal } => Some((item.clone(), refusal.clone())),
                LoanLine::Borrowed(_) => None,
            })
            .collect()
    }

    fn loans(&self) -> Vec<Loan> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                LoanLine::Borrowed(loan) => Some(loan.clone()),
                LoanLine::Refused { .. } => None,
            })
            .collect()
    }

    /// What this session knows of each item's renewal: asked on the account screen (with
    /// its answer, or none yet), or a checkout the library system answered as a renewal.
    fn renewals(&self) -> Vec<(ItemId, RenewState)> {
        let mut known = self.renew_log.clone();
        for l in &self.lines {
            if let LoanLine::Borrowed(loan) = l
                && loan.renewed
                && !known.iter().any(|(i, _)| *i == loan.item)
            {
                known.push((loan.item.clone(), RenewState::Renewed { due: loan.due.clone() }));
            }
        }
        known
    }

    /// A renewal's answer, on time or late: logged, and a renewal made joins the receipt
    /// (once).
    fn renewal_answered(&mut self, item: &ItemId, result: &Result<Loan, Refusal>) {
        let state = match result {
            Ok(loan) => RenewState::Renewed { due: loan.due.clone() },
            Err(refusal) => RenewState::Refused(refusal.clone()),
        };
        if let Some((_, s)) = self.renew_log.iter_mut().find(|(i, _)| i == item) {
            *s = state;
        }
        if let Ok(loan) = result {
            let listed =
                self.lines.iter().any(|l| matches!(l, LoanLine::Borrowed(b) if b.item == *item && b.renewed));
            if !listed {
                self.lines.push(LoanLine::Borrowed(Loan { renewed: true, ..loan.clone() }));
            }
        }
    }

    /// A renewal sent without an answer in time (the journal reconciles it).
    fn renewal_unanswered(&mut self, item: &ItemId) {
        if let Some((_, s)) = self.renew_log.iter_mut().find(|(i, _)| i == item) {
            *s = RenewState::Refused(ItemRefusal::NoAnswer.into());
        }
    }

    /// Whether `item`'s renewal is known to have had no answer yet.
    fn renewal_unanswered_yet(&self, item: &ItemId) -> bool {
        self.renew_log.iter().any(|(i, s)| {
            i == item && matches!(s, RenewState::Refused(r) if r.reason == ItemRefusal::NoAnswer)
        })
    }

    /// The items the patron brought that the session has seen: each item on the list
    /// once (a refused one too: the patron holds it; not a renewal asked on the account
    /// screen: that book is at home), and those still waiting for the library system.
    fn items_seen(&self) -> usize {
        let mut seen: Vec<&ItemId> = Vec::new();
        for line in &self.lines {
            let item = match line {
                LoanLine::Borrowed(loan)
                    if loan.renewed && self.renew_log.iter().any(|(i, _)| *i == loan.item) =>
                {
                    continue;
                }
                LoanLine::Borrowed(loan) => &loan.item,
                LoanLine::Refused { item, .. } => item,
            };
            if !seen.contains(&item) {
                seen.push(item);
            }
        }
        for item in self.queue.iter().chain(self.in_flight.as_ref().map(|(i, _)| i)) {
            if !seen.contains(&item) {
                seen.push(item);
            }
        }
        seen.len()
    }

    /// Lent books whose security could not be switched off (the patron brings them to
    /// the counter).
    fn unsecured(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l, LoanLine::Borrowed(loan) if loan.security == Security::Failed))
            .count()
    }

    /// `(lent, refused)`: a renewal is neither.
    fn counts(&self) -> (usize, usize) {
        let lent =
            self.lines.iter().filter(|l| matches!(l, LoanLine::Borrowed(loan) if !loan.renewed)).count();
        let refused = self.lines.iter().filter(|l| matches!(l, LoanLine::Refused { .. })).count();
        (lent, refused)
    }

    /// The session's numbers: loans (offline ones too), renewals, refusals by kind.
    fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for line in &self.lines {
            match line {
                LoanLine::Borrowed(loan) if loan.renewed => tally::bump(&mut t.renewed),
                LoanLine::Borrowed(_) => {
                    tally::bump(&mut t.lent);
                    if self.offline {
                        tally::bump(&mut t.lent_offline);
                    }
                }
                LoanLine::Refused { refusal, .. } => {
                    tally::bump(&mut t.not_done);
                    t.refused(&refusal.reason);
                }
            }
        }
        for (_, state) in &self.renew_log {
            if let RenewState::Refused(refusal) = state {
                t.refused(&refusal.reason);
            }
        }
        t
    }
}

#[derive(Debug)]
enum State {
    Idle,
    ReadingCertificate,
    PinEntry(PinPad),
    /// A library card was scanned; its password is asked (and checked).
    PasswordEntry {
        patron: PatronId,
        pad: PasswordPad,
    },
    Proving,
    CheckingValidity,
    ResolvingPatron,
    CheckingStanding {
        patron: PatronId,
        method: LoginMethod,
    },
    Borrowing(Basket),
    /// The account screen, over the session's basket (renewals join it for the receipt).
    Account(Basket, AccountState),
    /// Returns, no patron.
    Returning(Returns),
    /// Finish pressed with refused books in the basket: the patron must see it.
    Refusals(Basket),
    ReceiptChoice(Basket),
    Printing {
        label: bool,
        tally: Tally,
    },
    Ending {
        notice: Notice,
        since: Millis,
        alarmed: bool,
    },
    HandOff(HandOffState),
    LinkWaitingForCard,
    Linking(LinkState),
}

#[derive(Debug)]
struct HandOffState {
    patron: PatronId,
    method: HandOff,
    until: Millis,
    typing: TypingView,
    /// When the typing request left (its driver timeout).
    typing_since: Millis,
}

#[derive(Debug)]
struct LinkState {
    current: Option<PatronId>,
    bad_scan: bool,
    stage: LinkStep,
}

#[derive(Debug)]
enum LinkStep {
    Scan,
    Confirm { patron: PatronId, conflict: LinkFault },
    Saving { patron: PatronId, replace: bool },
    Removing,
}

/// What a card session is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    /// A patron borrows (self-checkout) or hands their number off (counter).
    Patron,
    /// Staff link the card to a library card (counter).
    Link,
}

/// The last four characters of a library card number, for staff to recognise it.
fn last_four(patron: &PatronId) -> String {
    let chars: Vec<char> = patron.expose().chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("…{tail}")
}

/// The patron session state machine.
#[derive(Debug)]
pub struct PatronSession {
    policy: SessionPolicy,
    state: State,
    session: SessionId,
    /// The current (or last) session was started by a card.
    card_session: bool,
    card_present: bool,
    pin_verified: bool,
    /// The library system accepted this session's library-card password.
    password_verified: bool,
    /// Library cards refused after three wrong passwords: refused at once here until staff
    /// reset the kiosk (as a locked PIN waits for the city office). At most
    /// [`PASSWORD_LOCKS`]; the oldest goes first. Wiped on reset.
    password_locked: VecDeque<PatronId>,
    out_of_service: bool,
    paper_out: bool,
    staff_call: Option<StaffCall>,
    entered_at: Millis,
    last_activity: Millis,
    warning_until: Option<Millis>,
    purpose: Purpose,
    /// The library items on the RFID pad now (kept between sessions: books put down
    /// before the patron logs in join the list when borrowing starts).
    pad: Vec<OnPad>,
    /// Items on the pad that a session took (sent, refused, or named as incomplete):
    /// not taken again, by this session or the next, until they leave the pad (a patron
    /// who borrowed books and then returns another does not return them; the next
    /// patron does not borrow what the last one left).
    pad_handled: Vec<ItemId>,
    /// The pad's reader is not working.
    pad_fault: bool,
}

/// The effects of one event, in order.
pub type Effects = Vec<Effect>;

impl PatronSession {
    #[must_use]
    pub fn new(policy: SessionPolicy) -> PatronSession {
        PatronSession {
            policy,
            state: State::Idle,
            session: SessionId(0),
            card_session: false,
            card_present: false,
            pin_verified: false,
            password_verified: false,
            password_locked: VecDeque::new(),
            out_of_service: false,
            paper_out: false,
            staff_call: None,
            entered_at: Millis(0),
            last_activity: Millis(0),
            warning_until: None,
            purpose: Purpose::Patron,
            pad: Vec::new(),
            pad_handled: Vec::new(),
            pad_fault: false,
        }
    }

    /// `(account screen, returns)` as offered now.
    #[must_use]
    pub fn services(&self) -> (bool, bool) {
        (self.policy.account, self.policy.returns)
    }

    /// True at a staffed counter.
    #[must_use]
    pub fn is_counter(&self) -> bool {
        self.policy.counter.is_some()
    }

    /// The id replies must carry to be heard.
    #[must_use]
    pub fn session(&self) -> SessionId {
        self.session
    }

    #[must_use]
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle)
    }

    /// True while the card's PIN pad (and so possibly typed digits) exists.
    #[must_use]
    pub fn holds_pin_pad(&self) -> bool {
        matches!(self.state, State::PinEntry(_))
    }

    /// True while a library-card password pad (and so possibly typed digits) exists.
    #[must_use]
    pub fn holds_password_pad(&self) -> bool {
        matches!(self.state, State::PasswordEntry { .. })
    }

    /// A short name of the state, for logs and the admin screen.
    #[must_use]
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::Idle => "idle",
            State::ReadingCertificate => "reading-certificate",
            State::PinEntry(_) => "pin-entry",
            State::PasswordEntry { .. } => "password-entry",
            State::Proving => "proving",
            State::CheckingValidity => "checking-validity",
            State::ResolvingPatron => "resolving-patron",
            State::CheckingStanding { .. } => "checking-standing",
            State::Borrowing(_) => "borrowing",
            State::Account(..) => "account",
            State::Returning(_) => "returning",
            State::Refusals(_) => "refused-books",
            State::ReceiptChoice(_) => "receipt-choice",
            State::Printing { .. } => "printing",
            State::Ending { .. } => "ending",
            State::HandOff(_) => "hand-off",
            State::LinkWaitingForCard => "link-waiting-for-card",
            State::Linking(_) => "linking",
        }
    }

    /// The view model.
    #[must_use]
    pub fn view(&self, now: Millis) -> View {
        let screen = match &self.state {
            State::Idle if self.out_of_service => Screen::OutOfService,
            State::Idle => Screen::Idle,
            State::ReadingCertificate => Screen::ReadingCard,
            State::PinEntry(pad) => Screen::Pin(pad.view()),
            State::PasswordEntry { pad, .. } => Screen::Password(pad.view()),
            State::Proving => self.checking(CheckStage::Proving),
            State::CheckingValidity => self.checking(CheckStage::Validity),
            State::ResolvingPatron => self.checking(CheckStage::Patron),
            State::CheckingStanding { .. } => self.checking(CheckStage::Standing),
            State::Borrowing(b) if matches!(b.count, CountStep::Asking | CountStep::Mismatch(_)) => {
                Screen::Count {
                    seen: b.items_seen(),
                    said: match b.count {
                        CountStep::Mismatch(n) => Some(n),
                        _ => None,
                    },
                }
            }
            State::Borrowing(b) => Screen::Borrowing {
                lines: b.lines.clone(),
                waiting: b.queue.len() + usize::from(b.in_flight.is_some()),
                finishing: b.finishing,
                can_print_label: self.can_print_label(b),
                offline: b.offline,
                can_open_account: self.account_allowed()
                    && !b.offline
                    && !b.finishing
                    && b.in_flight.is_none()
                    && b.queue.is_empty(),
            },
            State::Refusals(b) => Screen::Refused {
                count: b.counts().1,
                lent: b.lines.iter().filter(|l| matches!(l, LoanLine::Borrowed(_))).count(),
                unsecured: b.unsecured(),
            },
            State::ReceiptChoice(_) => Screen::ReceiptChoice,
            State::Account(basket, account) => Screen::Account(account.view(basket.blocked.is_none())),
            State::Returning(r) => Screen::Returning {
                lines: r.lines.clone(),
                waiting: r.queue.len() + usize::from(r.in_flight.is_some()),
                finishing: r.finishing,
            },
            State::Printing { label, .. } => Screen::Printing { label: *label },
            State::Ending { notice, .. } => Screen::Ending {
                notice: notice.clone(),
                card_present: self.card_present && self.card_session,
            },
            State::HandOff(h) => Screen::HandOff {
                method: h.method,
                methods: self.policy.counter.as_ref().map(|c| c.methods.clone()).unwrap_or_default(),
                number: matches!(h.method, HandOff::Digits | HandOff::Barcode).then(|| h.patron.clone()),
                typing: h.typing,
                seconds_left: now.secs_until(h.until),
            },
            State::LinkWaitingForCard => Screen::LinkWaitingForCard,
            State::Linking(l) => Screen::Linking {
                current: l.current.as_ref().map(last_four),
                bad_scan: l.bad_scan,
                stage: match &l.stage {
                    LinkStep::Scan => LinkStage::Scan,
                    LinkStep::Confirm { patron, conflict } => {
                        LinkStage::Confirm { new: last_four(patron), conflict: *conflict }
                    }
                    LinkStep::Saving { .. } | LinkStep::Removing => LinkStage::Saving,
                },
            },
        };
        View {
            screen,
            timeout_warning: self.warning_until.map(|until| now.secs_until(until)),
            paper_out: self.paper_out,
            staff_called: self.staff_call,
            account_receipt: matches!(&self.state, State::ReceiptChoice(b) if !b.offline)
                && self.account_allowed(),
            library_card_login: self.policy.library_card_login != LibraryCardLogin::Off,
            rfid_pad: self.policy.rfid_pad,
            pad_fault: self.policy.rfid_pad && self.pad_fault,
            can_return: self.policy.returns
                && self.policy.counter.is_none()
                && !self.out_of_service
                && matches!(self.state, State::Idle),
        }
    }

    /// When the orchestrator should next send [`Event::Tick`], if ever.
    #[must_use]
    pub fn deadline(&self) -> Option<Millis> {
        let pad = match &self.state {
            State::PinEntry(pad) => pad.deadline(),
            State::PasswordEntry { pad, .. } => pad.deadline(),
            _ => None,
        };
        min_opt(self.session_deadline(), pad)
    }

    /// The next session-level timeout: the idle warning and its end, a silent driver, the
    /// left-behind card, the end of a notice. (The PIN pad's own entry timeout is separate.)
    fn session_deadline(&self) -> Option<Millis> {
        let p = &self.policy;
        if self.waiting_for_patron() {
            return Some(self.warning_until.unwrap_or(self.last_activity.after(p.idle_timeout)));
        }
        match &self.state {
            State::Idle => None,
            State::Borrowing(Basket { in_flight: Some((_, sent)), .. })
            | State::Returning(Returns { in_flight: Some((_, sent)), .. }) => {
                Some(sent.after(p.driver_timeout))
            }
            State::Account(_, a) => {
                let sent = a.in_flight.map_or(a.asked_at, |(_, sent)| sent);
                Some(sent.after(p.driver_timeout))
            }
            State::PasswordEntry { pad, .. } => Some(pad.sent_at().after(p.driver_timeout)),
            State::HandOff(h) if h.typing == TypingView::Typing => {
                Some(h.until.min(h.typing_since.after(p.driver_timeout)))
            }
            State::HandOff(h) => Some(h.until),
            // Staff are at the counter: linking waits as long as a patron would.
            State::LinkWaitingForCard
            | State::Linking(LinkState { stage: LinkStep::Scan | LinkStep::Confirm { .. }, .. }) => {
                Some(self.last_activity.after(p.idle_timeout.saturating_add(p.warning)))
            }
            State::Ending { since, alarmed, .. } => {
                if self.card_present && self.card_session {
                    (!alarmed).then(|| since.after(p.take_card_alarm))
                } else {
                    Some(since.after(p.notice_timeout))
                }
            }
            _ => Some(self.entered_at.after(p.driver_timeout)),
        }
    }

    /// Feeds one event at time `now`; returns the effects to carry out, in order.
    pub fn on(&mut self, now: Millis, event: Event) -> Effects {
        let mut fx = Effects::new();
        match event {
            Event::CardInserted => self.on_card_inserted(now, &mut fx),
            Event::CardRemoved => self.on_card_removed(now, &mut fx),
            Event::Scanned(scan) => {
                self.activity(now);
                self.on_scan(now, scan, &mut fx);
            }
            Event::Tap(tap) => {
                self.activity(now);
                self.on_tap(now, tap, &mut fx);
            }
            Event::Tick => {}
            // A late answer for an ended session changes nothing, not even timers: the
            // orchestrator's next Tick (at `deadline()`) handles time.
            Event::Reply { session, .. } if session != self.session => return fx,
            Event::Reply { reply, .. } => self.on_reply(now, reply, &mut fx),
            Event::SetOutOfService(oos) => self.out_of_service = oos,
            Event::SetServices { account, returns } => {
                self.policy.account = account;
                self.policy.returns = returns;
            }
            Event::Reset => self.on_reset(now, &mut fx),
            Event::PaperOut => {
                if !self.paper_out {
                    self.paper_out = true;
                    self.call_staff(StaffCall::PrinterOutOfPaper, &mut fx);
                }
            }
            Event::PaperRestored => {
                self.paper_out = false;
                if matches!(self.staff_call, Some(StaffCall::PrinterOutOfPaper)) {
                    self.clear_staff_call(&mut fx);
                }
            }
            Event::StartLinking => self.on_start_linking(now, &mut fx),
            Event::Pad(news) => self.on_pad(now, news),
            Event::PadWorking(working) => self.pad_fault = !working,
        }
        self.on_time(now, &mut fx);
        // After the timers: a session they ended takes nothing more from the pad.
        self.take_from_pad(now, &mut fx);
        fx
    }

    // ---- events -------------------------------------------------------------------

    fn on_card_inserted(&mut self, now: Millis, fx: &mut Effects) {
        if self.card_present {
            return;
        }
        self.card_present = true;
        let at_password_pad = matches!(&self.state, State::PasswordEntry { pad, .. }
            if pad.stage() != super::PinStage::Verifying);
        if at_password_pad && !self.out_of_service {
            // A My Number card put down at the password pad: the card is the login (and
            // its PIN must never be typed into a pad that sends it to the library system).
            self.finish_session(fx);
            self.start_card_session(now, fx);
        } else if matches!(self.state, State::Idle | State::LinkWaitingForCard) {
            self.start_card_session(now, fx);
        }
    }

    fn on_start_linking(&mut self, now: Millis, fx: &mut Effects) {
        // Counter only, and only between patrons; a card left on the reader is read now.
        if !self.is_counter() || !matches!(self.state, State::Idle) {
            return;
        }
        self.new_session_id();
        self.card_session = true;
        self.enter(now, State::LinkWaitingForCard);
        if self.card_present {
            self.start_card_session(now, fx);
        }
    }

    fn on_card_removed(&mut self, now: Millis, fx: &mut Effects) {
        if !self.card_present {
            return;
        }
        self.card_present = false;
        fx.push(Effect::PowerOffCard);
        if !self.card_session || matches!(self.state, State::Idle) {
            return;
        }
        if !matches!(self.state, State::Ending { .. }) {
            fx.push(Effect::Audit(AuditEvent::CardRemovedEarly));
            self.finish_session(fx);
        }
        if matches!(self.staff_call, Some(StaffCall::CardLeftBehind)) {
            self.clear_staff_call(fx);
        }
        fx.push(Effect::Buzzer(BuzzerPattern::Off));
        self.enter(now, State::Idle);
    }

    fn on_scan(&mut self, now: Millis, scan: Scan, fx: &mut Effects) {
        if self.is_counter() {
            // At the counter the scanner only reads library cards for linking.
            if let State::Linking(link) = &mut self.state {
                match (&link.stage, scan) {
                    (LinkStep::Scan | LinkStep::Confirm { .. }, Scan::LibraryCard(patron)) => {
                        link.bad_scan = false;
                        fx.push(Effect::Link {
                            session: self.session,
                            patron: patron.clone(),
                            replace: false,
                        });
                        link.stage = LinkStep::Saving { patron, replace: false };
                    }
                    (LinkStep::Scan | LinkStep::Confirm { .. }, Scan::BadLibraryCard) => link.bad_scan = true,
                    _ => {}
                }
            }
            return;
        }
        match (&mut self.state, scan) {
            (State::Idle, scan) if !self.out_of_service => match scan {
                Scan::LibraryCard(patron) => match self.policy.library_card_login {
                    LibraryCardLogin::Barcode => {
                        self.start_scan_session(now, patron, LoginMethod::LibraryCard, fx);
                    }
                    LibraryCardLogin::BarcodeAndPassword if self.password_locked.contains(&patron) => {
                        self.turn_away(now, Notice::PasswordRefused, fx);
                    }
                    LibraryCardLogin::BarcodeAndPassword => {
                        self.new_session_id();
                        self.card_session = false;
                        fx.push(Effect::Audit(AuditEvent::SessionStarted(LoginMethod::LibraryCard)));
                        let pad = PasswordPad::new(now, self.policy.pin_idle_timeout);
                        self.enter(now, State::PasswordEntry { patron, pad });
                    }
                    LibraryCardLogin::Off => self.turn_away(now, Notice::LibraryCardNotAccepted, fx),
                },
                Scan::MethodDLabel(Ok(patron)) if self.policy.allow_method_d_login => {
                    self.start_scan_session(now, patron, LoginMethod::MethodDLabel, fx);
                }
                Scan::MethodDLabel(Err(why)) if self.policy.allow_method_d_login => {
                    self.turn_away(now, Notice::LabelRefused(why), fx);
                }
                Scan::Item(_) => {
                    self.new_session_id();
                    self.card_session = false;
                    self.enter(
                        now,
                        State::Ending { notice: Notice::IdentifyFirst, since: now, alarmed: false },
                    );
                }
                _ => {}
            },
            (State::Borrowing(basket), Scan::Item(item)) if !basket.finishing && !basket.knows(&item) => {
                // Scanned while it lies on the pad: the pad does not send it again.
                if self.pad.iter().any(|p| p.item == item) && !self.pad_handled.contains(&item) {
                    self.pad_handled.push(item.clone());
                }
                basket.queue.push_back(item);
                self.send_next_checkout(now, fx);
            }
            (State::Returning(r), Scan::Item(item)) if !r.finishing && !r.knows(&item) => {
                if self.pad.iter().any(|p| p.item == item) && !self.pad_handled.contains(&item) {
                    self.pad_handled.push(item.clone());
                }
                r.queue.push_back(item);
                self.send_next_return(now, fx);
            }
            _ => {}
        }
    }

    fn on_tap(&mut self, now: Millis, tap: Tap, fx: &mut Effects) {
        let account_allowed = self.account_allowed();
        if tap == Tap::StillHere {
            return; // activity() already dismissed the warning
        }
        if tap == Tap::CallStaff {
            // Any screen: the lamp, and the staff menu's events say the patron asked. The
            // patron's call outranks a latched device call (which would clear itself when
            // the device recovers): only staff's reset clears it.
            if self.staff_call != Some(StaffCall::PatronAsked) {
                self.call_staff(StaffCall::PatronAsked, fx);
            }
            return;
        }
        match (&mut self.state, tap) {
            (State::PinEntry(_) | State::PasswordEntry { .. }, Tap::Cancel) => {
                self.end(now, Notice::Cancelled, fx);
            }
            (State::PasswordEntry { patron, pad }, Tap::Pin(key)) => {
                if let Some(password) = pad.on_key(now, key) {
                    fx.push(Effect::PatronStatus {
                        session: self.session,
                        patron: patron.clone(),
                        pin_verified: false,
                        password: Some(password),
                    });
                }
            }
            (State::Idle, Tap::Return)
                if self.policy.returns && self.policy.counter.is_none() && !self.out_of_service =>
            {
                self.new_session_id();
                self.card_session = false;
                fx.push(Effect::Audit(AuditEvent::ReturnsStarted));
                self.enter(now, State::Returning(Returns::default()));
            }
            (State::Returning(r), Tap::Finish | Tap::Cancel) => {
                r.finishing = true;
                if r.in_flight.is_none() && r.queue.is_empty() {
                    self.end(now, Notice::ReturnsDone, fx);
                }
            }
            // Leaving while the card or the services are asked is safe: their answers
            // belong to the ended session and are dropped.
            (
                State::ReadingCertificate
                | State::Proving
                | State::CheckingValidity
                | State::ResolvingPatron
                | State::CheckingStanding { .. },
                Tap::Cancel,
            ) => self.end(now, Notice::Cancelled, fx),
            (State::Refusals(_), Tap::Dismiss | Tap::Finish) => self.offer_receipt(now, fx),
            (State::PinEntry(pad), Tap::Pin(key)) => {
                let effect = pad.on(now, PinPadEvent::Key(key));
                self.pin_effect(now, effect, fx);
            }
            // The count check, where the library asks (an RFID pad, something read).
            (State::Borrowing(basket), Tap::Finish)
                if self.policy.count_check
                    && self.policy.rfid_pad
                    && basket.count == CountStep::NotAsked
                    && basket.items_seen() > 0 =>
            {
                basket.count = CountStep::Asking;
            }
            // Asked how many: Finish is the answer's buttons, not a way round them.
            (State::Borrowing(basket), Tap::Finish) if basket.count == CountStep::Asking => {}
            (State::Borrowing(basket), Tap::Count(n)) if basket.count == CountStep::Asking => {
                if usize::from(n) > basket.items_seen() {
                    basket.count = CountStep::Mismatch(n);
                } else {
                    basket.count = CountStep::Done;
                    self.finish_borrowing(now, fx);
                }
            }
            (State::Borrowing(basket), Tap::ReadAgain | Tap::Cancel)
                if matches!(basket.count, CountStep::Asking | CountStep::Mismatch(_)) =>
            {
                basket.count = CountStep::NotAsked;
            }
            (State::Borrowing(basket), Tap::Finish) if matches!(basket.count, CountStep::Mismatch(_)) => {
                basket.count = CountStep::Done;
                self.finish_borrowing(now, fx);
            }
            (State::Borrowing(_), Tap::Finish | Tap::Cancel) => self.finish_borrowing(now, fx),
            (State::Borrowing(basket), Tap::PrintLabel) => {
                let patron = basket.patron.clone();
                let tally = basket.tally();
                if let State::Borrowing(basket) = &self.state
                    && self.can_print_label(basket)
                {
                    fx.push(Effect::Print { session: self.session, job: PrintJob::MethodDLabel { patron } });
                    self.enter(now, State::Printing { label: true, tally });
                }
            }
            (State::Borrowing(basket), Tap::Account)
                if account_allowed
                    && !basket.offline
                    && !basket.finishing
                    && basket.in_flight.is_none()
                    && basket.queue.is_empty() =>
            {
                let basket = basket.take();
                fx.push(Effect::Account { session: self.session, patron: basket.patron.clone() });
                self.enter(now, State::Account(basket, AccountState::loading(now)));
            }
            (State::Account(_, account), Tap::Renew(line)) => {
                let queued = account.queue(line);
                if queued {
                    self.send_next_renewal(now, fx);
                }
            }
            (State::Account(_, account), Tap::RenewAll) => {
                let lines = account.account.as_ref().map_or(0, |a| a.loans.len());
                let mut any = false;
                for line in 0..lines {
                    any |= account.queue(line);
                }
                if any {
                    self.send_next_renewal(now, fx);
                }
            }
            // Back to borrowing (or finish), once no renewal is out: its answer must be
            // seen where it was asked.
            (State::Account(basket, account), Tap::Dismiss | Tap::Cancel)
                if account.in_flight.is_none() && basket.blocked.is_none() =>
            {
                self.leave_account(now);
            }
            // A blocked patron has no borrowing to go back to: back is finish. Finish from
            // the account is Finish on the borrowing screen (the count check first).
            (State::Account(_, account), Tap::Finish | Tap::Dismiss | Tap::Cancel)
                if account.in_flight.is_none() =>
            {
                self.leave_account(now);
                let count = self.count_check();
                if let State::Borrowing(basket) = &mut self.state {
                    if count
                        && basket.blocked.is_none()
                        && basket.count == CountStep::NotAsked
                        && basket.items_seen() > 0
                    {
                        basket.count = CountStep::Asking;
                        return;
                    }
                    basket.finishing = true;
                }
                self.checkout_done(now, fx);
            }
            (State::ReceiptChoice(basket), tap @ (Tap::PrintReceipt | Tap::PrintReceiptWithAccount))
                if tap == Tap::PrintReceipt || (account_allowed && !basket.offline) =>
            {
                let (loans, refused, patron) = (basket.loans(), basket.refusals(), basket.patron.clone());
                let tally = basket.tally();
                let account = tap == Tap::PrintReceiptWithAccount;
                let offline = basket.offline;
                fx.push(Effect::Print {
                    session: self.session,
                    job: PrintJob::Receipt { loans, refused, patron, account, offline },
                });
                self.enter(now, State::Printing { label: false, tally });
            }
            (State::ReceiptChoice(_), Tap::NoReceipt | Tap::Cancel) => self.end(now, Notice::Goodbye, fx),
            (State::Ending { .. }, Tap::Dismiss) if !(self.card_present && self.card_session) => {
                self.go_idle(now, fx);
            }
            (State::HandOff(h), Tap::Method(method)) if h.method != method => {
                let allowed = self.policy.counter.as_ref().is_some_and(|c| c.methods.contains(&method));
                let paper = !(method == HandOff::Label && self.paper_out);
                if allowed && paper {
                    h.method = method;
                    self.begin_method(now, fx);
                }
            }
            (State::HandOff(_), Tap::Finish | Tap::Cancel) => self.end(now, Notice::Goodbye, fx),
            (
                State::Linking(LinkState { stage: LinkStep::Confirm { patron, .. }, .. }),
                Tap::ConfirmReplace,
            ) => {
                let patron = patron.clone();
                fx.push(Effect::Link { session: self.session, patron: patron.clone(), replace: true });
                if let State::Linking(link) = &mut self.state {
                    link.stage = LinkStep::Saving { patron, replace: true };
                }
            }
            (
                State::Linking(link @ LinkState { stage: LinkStep::Scan, current: Some(_), .. }),
                Tap::Unlink,
            ) => {
                link.stage = LinkStep::Removing;
                fx.push(Effect::Unlink { session: self.session });
            }
            (State::Linking(LinkState { stage: LinkStep::Confirm { .. }, current, .. }), Tap::Cancel)
                if current.is_some() =>
            {
                // Back to the scan: staff may scan the right library card instead.
                if let State::Linking(link) = &mut self.state {
                    link.stage = LinkStep::Scan;
                }
            }
            (State::Linking(_) | State::LinkWaitingForCard, Tap::Cancel) => {
                self.end(now, Notice::Cancelled, fx)
            }
            _ => {}
        }
    }

    fn on_reply(&mut self, now: Millis, reply: Reply, fx: &mut Effects) {
        let require_pin = self.policy.require_pin;
        let account_allowed = self.account_allowed();
        match (&mut self.state, reply) {
            (State::ReadingCertificate | State::PinEntry(_) | State::Proving, Reply::CardError(fault))
            | (State::ReadingCertificate, Reply::Certificate(Err(fault))) => {
                self.end(now, Notice::CardProblem(fault), fx);
            }
            (State::ReadingCertificate, Reply::Certificate(Ok(()))) => {
                if require_pin {
                    let (pad, first) = PinPad::start(now, self.policy.pin_idle_timeout);
                    self.enter(now, State::PinEntry(pad));
                    self.pin_effect(now, Some(first), fx);
                } else {
                    self.check_validity(now, fx);
                }
            }
            (
                State::PinEntry(pad),
                reply
                @ (Reply::PinTries(_) | Reply::PinVerified | Reply::WrongPin { .. } | Reply::PinBlocked),
            ) => {
                let event = match reply {
                    Reply::PinTries(n) => PinPadEvent::TriesLeft(n),
                    Reply::PinVerified => PinPadEvent::Verified,
                    Reply::WrongPin { tries_left } => PinPadEvent::WrongPin { tries_left },
                    _ => PinPadEvent::Blocked,
                };
                if let PinPadEvent::WrongPin { tries_left } = event {
                    fx.push(Effect::Audit(AuditEvent::PinRejected { tries_left }));
                }
                let effect = pad.on(now, event);
                let verified = pad.stage() == super::PinStage::Verified;
                self.pin_effect(now, effect, fx);
                if verified {
                    self.pin_verified = true;
                    fx.push(Effect::ProvePossession { session: self.session });
                    self.enter(now, State::Proving);
                }
            }
            (State::Proving, Reply::Proof(Ok(()))) => self.check_validity(now, fx),
            (State::Proving, Reply::Proof(Err(why))) => self.end(now, Notice::ProofFailed(why), fx),
            (State::CheckingValidity, Reply::Validity(verdict)) => self.on_verdict(now, verdict, fx),
            (State::ResolvingPatron, Reply::Patron(Ok(patron))) => self.patron_found(now, patron, fx),
            (State::ResolvingPatron, Reply::Patron(Err(PatronRefusal::NotLinked)))
                if self.purpose == Purpose::Link =>
            {
                self.start_link(now, None);
            }
            (State::ResolvingPatron, Reply::Patron(Err(why))) => {
                let notice = match why {
                    PatronRefusal::NotLinked => Notice::NotLinked,
                    other => Notice::PatronRefused(other),
                };
                self.end(now, notice, fx);
            }
            (State::Returning(r), Reply::Returned { item, result })
                if r.in_flight.as_ref().is_none_or(|(i, _)| *i != item) =>
            {
                // The late answer of a return given up on: its line says what happened.
                let line = match result {
                    Ok(ret) => ReturnLine::Returned { item: item.clone(), ret },
                    Err(refusal) => ReturnLine::Refused { item: item.clone(), refusal },
                };
                r.answered_late(&item, line);
            }
            (State::Returning(r), Reply::Returned { item, result }) => {
                r.in_flight = None;
                fx.push(Effect::Buzzer(if result.is_ok() {
                    BuzzerPattern::Lent
                } else {
                    BuzzerPattern::Refused
                }));
                r.lines.push(match result {
                    Ok(ret) => ReturnLine::Returned { item, ret },
                    Err(refusal) => ReturnLine::Refused { item, refusal },
                });
                self.send_next_return(now, fx);
            }
            (State::PasswordEntry { pad, .. }, Reply::Standing(Err(PatronRefusal::WrongPassword)))
                if pad.stage() == super::PinStage::Verifying =>
            {
                pad.wrong();
                let tries_left = pad.view().tries_left.unwrap_or(0);
                fx.push(Effect::Audit(AuditEvent::PasswordRejected { tries_left }));
                fx.push(Effect::Buzzer(BuzzerPattern::Refused));
                if pad.stage() == super::PinStage::Locked {
                    if let State::PasswordEntry { patron, .. } = &self.state {
                        if self.password_locked.len() >= PASSWORD_LOCKS {
                            self.password_locked.pop_front();
                        }
                        self.password_locked.push_back(patron.clone());
                    }
                    self.call_staff(StaffCall::PasswordRefused, fx);
                    self.end(now, Notice::PasswordRefused, fx);
                } else {
                    self.activity(now);
                }
            }
            (State::PasswordEntry { patron, pad }, Reply::Standing(answer))
                if pad.stage() == super::PinStage::Verifying =>
            {
                // Anything but "wrong password" means the library system took it (or could
                // not be asked): from here on as after a barcode alone.
                pad.accepted();
                self.password_verified = matches!(answer, Ok(()) | Err(PatronRefusal::Blocked(_)));
                let patron = patron.clone();
                self.enter(now, State::CheckingStanding { patron, method: LoginMethod::LibraryCard });
                self.on_reply(now, Reply::Standing(answer), fx);
            }
            // A password nobody can check now: no offline loan on it (the library asks for
            // passwords; a barcode alone is not enough).
            (State::PasswordEntry { pad, .. }, Reply::StandingOffline)
                if pad.stage() == super::PinStage::Verifying =>
            {
                self.end(now, Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable), fx);
            }
            (State::CheckingStanding { patron, method }, Reply::StandingOffline) => {
                let allowed = self.policy.offline.is_some_and(|o| match method {
                    LoginMethod::MyNumberCard | LoginMethod::MethodDLabel => true,
                    LoginMethod::LibraryCard => o.library_card_patrons,
                });
                if allowed {
                    let mut basket = Basket::new(patron.clone(), *method);
                    basket.offline = true;
                    self.enter(now, State::Borrowing(basket));
                } else {
                    self.end(now, Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable), fx);
                }
            }
            (State::CheckingStanding { patron, method }, Reply::Standing(Ok(()))) => {
                let basket = Basket::new(patron.clone(), *method);
                self.enter(now, State::Borrowing(basket));
            }
            (State::Account(basket, account), Reply::Account(answer))
                if account.busy() && account.account.is_none() =>
            {
                match (answer, &basket.blocked) {
                    (Some(a), _) => account.loaded(a, &basket.renewals()),
                    // Blocked and no account to show: the notice with the library
                    // system's words, as without the account screen.
                    (None, Some(message)) => {
                        let why = PatronRefusal::Blocked(message.clone());
                        self.end(now, Notice::PatronRefused(why), fx);
                    }
                    (None, None) => account.unavailable = true,
                }
            }
            (State::Account(basket, account), Reply::Renewed { item, result }) => {
                let state = match &result {
                    Ok(loan) => RenewState::Renewed { due: loan.due.clone() },
                    Err(refusal) => RenewState::Refused(refusal.clone()),
                };
                if account.answered(&item, state.clone()) {
                    fx.push(Effect::Buzzer(if result.is_ok() {
                        BuzzerPattern::Lent
                    } else {
                        BuzzerPattern::Refused
                    }));
                    // A renewal goes on the receipt with the session's loans.
                    basket.renewal_answered(&item, &result);
                    self.send_next_renewal(now, fx);
                } else if basket.renewal_unanswered_yet(&item) {
                    // The late answer of a renewal given up on: it still counts.
                    account.answered_late(&item, state);
                    basket.renewal_answered(&item, &result);
                }
            }
            // The same, after the patron went back to borrowing.
            (State::Borrowing(basket), Reply::Renewed { item, result })
                if basket.renewal_unanswered_yet(&item) =>
            {
                basket.renewal_answered(&item, &result);
            }
            // Blocked, with the account on: the account says why in plain words, with the
            // overdue books and the holds; borrowing stays closed.
            (
                State::CheckingStanding { patron, method },
                Reply::Standing(Err(PatronRefusal::Blocked(message))),
            ) if account_allowed => {
                let mut basket = Basket::new(patron.clone(), *method);
                basket.blocked = Some(message);
                fx.push(Effect::Account { session: self.session, patron: basket.patron.clone() });
                self.enter(now, State::Account(basket, AccountState::loading(now)));
            }
            (State::CheckingStanding { .. }, Reply::Standing(Err(why))) => {
                self.end(now, Notice::PatronRefused(why), fx);
            }
            (State::Borrowing(basket), Reply::Checkout { item, result })
                if basket.in_flight.as_ref().is_some_and(|(i, _)| *i == item) =>
            {
                basket.in_flight = None;
                let unsecured = matches!(&result, Ok(loan) if loan.security == Security::Failed);
                fx.push(Effect::Buzzer(if result.is_ok() && !unsecured {
                    BuzzerPattern::Lent
                } else {
                    BuzzerPattern::Refused
                }));
                // The gate lets a lent book out, unless the library system said to keep
                // its security on or it could not be switched off; a refused book never
                // releases it.
                if let Ok(loan) = &result
                    && loan.desensitize != Some(false)
                    && !unsecured
                {
                    fx.push(Effect::ReleaseGate);
                }
                if result.is_ok() {
                    // Lent (a set's barcode scanned): its "parts missing" line goes.
                    basket.lines.retain(|l| {
                        !matches!(l, LoanLine::Refused { item: i, refusal }
                        if *i == item && refusal.reason.is_pad_problem())
                    });
                }
                basket.lines.push(match result {
                    Ok(loan) => LoanLine::Borrowed(loan),
                    Err(refusal) => LoanLine::Refused { item, refusal },
                });
                if unsecured {
                    self.call_staff(StaffCall::ItemSecurity, fx);
                }
                self.send_next_checkout(now, fx);
            }
            (State::HandOff(h), Reply::Typed(result)) if h.typing == TypingView::Typing => {
                h.typing = match result {
                    Ok(()) => {
                        fx.push(Effect::Audit(AuditEvent::HandedOff(HandOff::Keyboard)));
                        TypingView::Typed
                    }
                    Err(fault) => TypingView::Failed(fault),
                };
            }
            (State::Linking(link), Reply::Linked(result)) => {
                let LinkStep::Saving { patron, replace } = &link.stage else { return };
                let (patron, replace) = (patron.clone(), *replace);
                let replaced = replace || link.current.as_ref().is_some_and(|c| *c != patron);
                match result {
                    Ok(()) => {
                        fx.push(Effect::Audit(AuditEvent::Linked { replaced }));
                        self.end(now, Notice::Linked, fx);
                    }
                    Err(conflict @ (LinkFault::CardLinkedElsewhere | LinkFault::PatronLinkedElsewhere))
                        if !replace =>
                    {
                        link.stage = LinkStep::Confirm { patron, conflict };
                    }
                    Err(fault) => self.end(now, Notice::LinkFailed(fault), fx),
                }
            }
            (State::Linking(LinkState { stage: LinkStep::Removing, .. }), Reply::Unlinked(result)) => {
                match result {
                    Ok(had) => {
                        fx.push(Effect::Audit(AuditEvent::Unlinked));
                        self.end(now, Notice::Unlinked(had), fx);
                    }
                    Err(fault) => self.end(now, Notice::LinkFailed(fault), fx),
                }
            }
            (State::Printing { label, .. }, Reply::Printed(result)) => {
                let notice = match (result, *label) {
                    (Ok(()), true) => Notice::LabelPrinted,
                    (Ok(()), false) => Notice::ReceiptPrinted,
                    (Err(fault), _) => {
                        // Out of paper already known (the printer's status said so
                        // first): staff were called for it once.
                        let known = fault == PrintFault::OutOfPaper && self.paper_out;
                        let call = if fault == PrintFault::OutOfPaper {
                            self.paper_out = true;
                            StaffCall::PrinterOutOfPaper
                        } else {
                            StaffCall::PrinterFault
                        };
                        if !known {
                            self.call_staff(call, fx);
                        }
                        Notice::PrintFailed(fault)
                    }
                };
                self.end(now, notice, fx);
            }
            _ => {}
        }
    }

    fn on_verdict(&mut self, now: Millis, verdict: Verdict, fx: &mut Effects) {
        match verdict {
            Verdict::Good { patron: Some(patron) } => self.patron_found(now, patron, fx),
            Verdict::Good { patron: None } => self.resolve(now, fx),
            Verdict::NotLinked if self.purpose == Purpose::Link => self.start_link(now, None),
            // Never lend on an unchecked card. A library that wants a grace period sets
            // `offline_policy = "grace"`: the platform driver then answers Good from its
            // cache until that answer's nextUpdate, never longer; past it, Unavailable.
            Verdict::Unavailable => self.end(now, Notice::PlatformUnavailable, fx),
            Verdict::Revoked => self.end(now, Notice::Revoked, fx),
            Verdict::Expired => self.end(now, Notice::Expired, fx),
            Verdict::NotLinked => self.end(now, Notice::NotLinked, fx),
            Verdict::Untrusted => self.end(now, Notice::ProofFailed(ProofFailure::UntrustedCertificate), fx),
        }
    }

    fn on_reset(&mut self, now: Millis, fx: &mut Effects) {
        if !matches!(self.state, State::Idle | State::Ending { .. }) {
            self.finish_session(fx);
        }
        if self.card_session {
            fx.push(Effect::PowerOffCard);
        }
        if self.staff_call.is_some() {
            self.clear_staff_call(fx);
        }
        fx.push(Effect::Buzzer(BuzzerPattern::Off));
        self.paper_out = false;
        self.password_locked.clear();
        self.purpose = Purpose::Patron;
        self.enter(now, State::Idle);
    }

    /// Timeouts: the warning, the end of a session, the left-behind card, a silent driver.
    fn on_time(&mut self, now: Millis, fx: &mut Effects) {
        match &mut self.state {
            State::PinEntry(pad) => pad.on_tick(now),
            State::PasswordEntry { pad, .. } => pad.on_tick(now),
            _ => {}
        }
        let Some(deadline) = self.session_deadline() else { return };
        if now < deadline {
            return;
        }
        let waiting_for_patron = self.waiting_for_patron();
        match &mut self.state {
            State::Idle => {}
            State::Ending { since, alarmed, .. } => {
                if self.card_present && self.card_session {
                    if !*alarmed && now >= since.after(self.policy.take_card_alarm) {
                        *alarmed = true;
                        self.call_staff(StaffCall::CardLeftBehind, fx);
                    }
                } else {
                    self.go_idle(now, fx);
                }
            }
            State::HandOff(h) if h.typing == TypingView::Typing && now < h.until => {
                // The keyboard did not finish in time: say so; the other methods remain.
                h.typing = TypingView::Failed(TypeFault::Failed);
            }
            State::HandOff(_) => self.end(now, Notice::NumberCleared, fx),
            State::LinkWaitingForCard
            | State::Linking(LinkState { stage: LinkStep::Scan | LinkStep::Confirm { .. }, .. }) => {
                self.end(now, Notice::TimedOut, fx);
            }
            State::Borrowing(basket) if basket.in_flight.is_some() => {
                // The library system did not answer in time: the orchestrator has already
                // journaled the request and reconciles it; the patron is told to ask staff.
                if let Some((item, _)) = basket.in_flight.take() {
                    basket.lines.push(LoanLine::Refused { item, refusal: ItemRefusal::NoAnswer.into() });
                    fx.push(Effect::Buzzer(BuzzerPattern::Refused));
                }
                self.send_next_checkout(now, fx);
            }
            State::Returning(r) if r.in_flight.is_some() => {
                // No answer in time: the journal reconciles it; the patron is told to
                // leave the book with staff.
                if let Some((item, _)) = r.in_flight.take() {
                    r.lines.push(ReturnLine::Refused { item, refusal: ItemRefusal::NoAnswer.into() });
                    fx.push(Effect::Buzzer(BuzzerPattern::Refused));
                }
                self.send_next_return(now, fx);
            }
            State::Account(basket, account) if account.busy() => {
                // The library system did not answer in time: say so on the line (the
                // journal reconciles a renewal that was sent), and go on with the others.
                if let Some((line, _)) = account.in_flight.take() {
                    if let Some(state) = account.renew.get_mut(line) {
                        *state = RenewState::Refused(ItemRefusal::NoAnswer.into());
                    }
                    if let Some(item) = account.item(line) {
                        basket.renewal_unanswered(&item);
                    }
                    fx.push(Effect::Buzzer(BuzzerPattern::Refused));
                    self.send_next_renewal(now, fx);
                } else if let Some(message) = basket.blocked.clone() {
                    // A blocked patron whose account does not come: the notice, as without
                    // the account screen.
                    self.end(now, Notice::PatronRefused(PatronRefusal::Blocked(message)), fx);
                } else {
                    account.unavailable = true;
                }
            }
            _ if waiting_for_patron => match self.warning_until {
                None => {
                    self.warning_until = Some(now.after(self.policy.warning));
                    fx.push(Effect::Buzzer(BuzzerPattern::Beep));
                }
                Some(until) if now >= until => {
                    self.warning_until = None;
                    self.leave_account(now);
                    if let State::Borrowing(basket) = &mut self.state
                        && !basket.lines.is_empty()
                    {
                        basket.finishing = true;
                        self.checkout_done(now, fx);
                        return;
                    }
                    self.end(now, Notice::TimedOut, fx);
                }
                Some(_) => {}
            },
            _ => {
                self.call_staff(StaffCall::Malfunction, fx);
                self.end(now, Notice::Malfunction, fx);
            }
        }
    }

    // ---- transitions --------------------------------------------------------------

    fn enter(&mut self, now: Millis, state: State) {
        match &mut self.state {
            State::PinEntry(pad) => pad.wipe(),
            State::PasswordEntry { pad, .. } => pad.wipe(),
            _ => {}
        }
        self.state = state;
        self.entered_at = now;
        self.last_activity = now;
        self.warning_until = None;
    }

    fn activity(&mut self, now: Millis) {
        self.last_activity = now;
        self.warning_until = None;
    }

    fn waiting_for_patron(&self) -> bool {
        match &self.state {
            State::PinEntry(pad) => {
                !matches!(pad.stage(), super::PinStage::CheckingTries | super::PinStage::Verifying)
            }
            State::PasswordEntry { pad, .. } => pad.stage() != super::PinStage::Verifying,
            State::Borrowing(b) => b.in_flight.is_none(),
            State::Returning(r) => r.in_flight.is_none(),
            State::Account(_, a) => !a.busy(),
            State::Refusals(_) | State::ReceiptChoice(_) => true,
            _ => false,
        }
    }

    fn new_session_id(&mut self) {
        self.session = SessionId(self.session.0.wrapping_add(1));
        self.pin_verified = false;
        self.password_verified = false;
        // A patron's, unless a card session for staff linking says otherwise.
        self.purpose = Purpose::Patron;
    }

    fn start_card_session(&mut self, now: Millis, fx: &mut Effects) {
        let linking = matches!(self.state, State::LinkWaitingForCard);
        // Out of service refuses patrons, not staff linking a card.
        if self.out_of_service && !linking {
            return;
        }
        self.new_session_id();
        self.purpose = if linking { Purpose::Link } else { Purpose::Patron };
        self.card_session = true;
        // Staff linking a card is not a patron's session (the statistics count patrons).
        if !linking {
            fx.push(Effect::Audit(AuditEvent::SessionStarted(LoginMethod::MyNumberCard)));
        }
        fx.push(Effect::ReadCertificate { session: self.session });
        self.enter(now, State::ReadingCertificate);
    }

    fn start_scan_session(&mut self, now: Millis, patron: PatronId, method: LoginMethod, fx: &mut Effects) {
        self.new_session_id();
        self.card_session = false;
        fx.push(Effect::Audit(AuditEvent::SessionStarted(method)));
        self.check_standing(now, patron, method, fx);
    }

    fn check_standing(&mut self, now: Millis, patron: PatronId, method: LoginMethod, fx: &mut Effects) {
        fx.push(Effect::PatronStatus {
            session: self.session,
            patron: patron.clone(),
            pin_verified: self.pin_verified,
            password: None,
        });
        self.enter(now, State::CheckingStanding { patron, method });
    }

    /// After the card is proven (or read, without a PIN): the platform's check, unless
    /// a counter turned it off (then the link store answers).
    fn check_validity(&mut self, now: Millis, fx: &mut Effects) {
        if self.policy.counter.as_ref().is_some_and(|c| !c.check_validity) {
            self.resolve(now, fx);
        } else {
            fx.push(Effect::CheckValidity { session: self.session });
            self.enter(now, State::CheckingValidity);
        }
    }

    /// The card's patron is known: link, hand off (counter) or check standing.
    fn patron_found(&mut self, now: Millis, patron: PatronId, fx: &mut Effects) {
        if self.purpose == Purpose::Link {
            self.start_link(now, Some(patron));
        } else if self.is_counter() {
            self.hand_off(now, patron, fx);
        } else {
            self.check_standing(now, patron, LoginMethod::MyNumberCard, fx);
        }
    }

    fn start_link(&mut self, now: Millis, current: Option<PatronId>) {
        self.enter(now, State::Linking(LinkState { current, bad_scan: false, stage: LinkStep::Scan }));
    }

    fn hand_off(&mut self, now: Millis, patron: PatronId, fx: &mut Effects) {
        let Some(counter) = &self.policy.counter else { return };
        let Some(&method) = counter.methods.first() else {
            self.end(now, Notice::Malfunction, fx);
            return;
        };
        let until = now.after(counter.show_for);
        self.enter(
            now,
            State::HandOff(HandOffState {
                patron,
                method,
                until,
                typing: TypingView::NotStarted,
                typing_since: now,
            }),
        );
        self.begin_method(now, fx);
    }

    /// The hand-off's method was chosen: start what it needs.
    fn begin_method(&mut self, now: Millis, fx: &mut Effects) {
        let State::HandOff(h) = &mut self.state else { return };
        match h.method {
            HandOff::Digits | HandOff::Barcode => fx.push(Effect::Audit(AuditEvent::HandedOff(h.method))),
            HandOff::Keyboard => {
                if h.typing != TypingView::Typing {
                    h.typing = TypingView::Typing;
                    h.typing_since = now;
                    fx.push(Effect::TypeNumber { session: self.session, patron: h.patron.clone() });
                }
            }
            HandOff::Label => {
                let patron = h.patron.clone();
                fx.push(Effect::Audit(AuditEvent::HandedOff(HandOff::Label)));
                fx.push(Effect::Print { session: self.session, job: PrintJob::MethodDLabel { patron } });
                self.enter(now, State::Printing { label: true, tally: Tally::default() });
            }
        }
    }

    fn resolve(&mut self, now: Millis, fx: &mut Effects) {
        fx.push(Effect::ResolvePatron { session: self.session });
        self.enter(now, State::ResolvingPatron);
    }

    fn pin_effect(&mut self, now: Millis, effect: Option<PinPadEffect>, fx: &mut Effects) {
        match effect {
            None => {}
            Some(PinPadEffect::QueryTries) => fx.push(Effect::QueryPinTries { session: self.session }),
            Some(PinPadEffect::Verify(pin)) => fx.push(Effect::VerifyPin { session: self.session, pin }),
            Some(PinPadEffect::CardLocked) => {
                fx.push(Effect::Audit(AuditEvent::CardLocked));
                self.call_staff(StaffCall::CardLocked, fx);
                self.end(now, Notice::CardLocked, fx);
            }
        }
    }

    /// The RFID pad changed: what is on it is remembered; an item taken off before it was
    /// sent is not lent (or returned), its "parts missing" line goes, and it may be taken
    /// again when it is put down again.
    fn on_pad(&mut self, now: Millis, news: OnPad) {
        let item = news.item.clone();
        self.pad.retain(|p| p.item != item);
        if !news.present.is_empty() {
            self.pad.push(news);
            if matches!(self.state, State::Borrowing(_) | State::Returning(_)) {
                self.activity(now);
            }
            return;
        }
        self.pad_handled.retain(|i| *i != item);
        let pad_line = |i: &ItemId, refusal: &Refusal| *i == item && refusal.reason.is_pad_problem();
        match &mut self.state {
            State::Borrowing(b) | State::Account(b, _) | State::Refusals(b) | State::ReceiptChoice(b) => {
                b.queue.retain(|i| *i != item);
                b.lines
                    .retain(|l| !matches!(l, LoanLine::Refused { item: i, refusal } if pad_line(i, refusal)));
            }
            State::Returning(r) => {
                r.queue.retain(|i| *i != item);
                r.lines.retain(
                    |l| !matches!(l, ReturnLine::Refused { item: i, refusal } if pad_line(i, refusal)),
                );
            }
            _ => {}
        }
        if matches!(self.state, State::Borrowing(_) | State::Returning(_)) {
            self.activity(now);
        }
    }

    /// What is on the RFID pad joins the borrowing (or returns) list: a whole set once,
    /// however often its tags are seen; a set with parts missing (or two tags claiming
    /// one item) gets a line saying so, replaced when the pad changes.
    fn take_from_pad(&mut self, now: Millis, fx: &mut Effects) {
        let (pad, handled) = (&self.pad, &mut self.pad_handled);
        // Something queued: a checkout (true) or a return (false) to send.
        let queued = match &mut self.state {
            State::Borrowing(b) if !b.finishing => take_into(pad, handled, b).then_some(true),
            State::Returning(r) if !r.finishing => take_into(pad, handled, r).then_some(false),
            _ => None,
        };
        match queued {
            Some(true) => self.send_next_checkout(now, fx),
            Some(false) => self.send_next_return(now, fx),
            None => {}
        }
    }

    fn send_next_checkout(&mut self, now: Millis, fx: &mut Effects) {
        let State::Borrowing(basket) = &mut self.state else { return };
        if basket.in_flight.is_none() {
            if let Some(item) = basket.queue.pop_front() {
                fx.push(Effect::Checkout {
                    session: self.session,
                    patron: basket.patron.clone(),
                    item: item.clone(),
                    offline: basket.offline,
                });
                basket.in_flight = Some((item, now));
            } else if basket.finishing {
                self.checkout_done(now, fx);
            }
        }
    }

    fn send_next_return(&mut self, now: Millis, fx: &mut Effects) {
        let State::Returning(r) = &mut self.state else { return };
        if r.in_flight.is_some() {
            return;
        }
        if let Some(item) = r.queue.pop_front() {
            fx.push(Effect::Return { session: self.session, item: item.clone() });
            r.in_flight = Some((item, now));
        } else if r.finishing {
            self.end(now, Notice::ReturnsDone, fx);
        }
    }

    fn send_next_renewal(&mut self, now: Millis, fx: &mut Effects) {
        let State::Account(basket, account) = &mut self.state else { return };
        if let Some((item, due)) = account.next(now) {
            basket.renew_log.push((item.clone(), RenewState::Waiting));
            fx.push(Effect::Renew { session: self.session, patron: basket.patron.clone(), item, due });
        }
    }

    /// From the account screen back to the borrowing screen, with the same basket.
    fn leave_account(&mut self, now: Millis) {
        if let State::Account(basket, _) = &mut self.state {
            let basket = basket.take();
            self.enter(now, State::Borrowing(basket));
        }
    }

    /// Whether Finish asks how many items the patron brought (the library's setting, on a
    /// kiosk with a pad).
    fn count_check(&self) -> bool {
        self.policy.count_check && self.policy.rfid_pad
    }

    /// The patron is done: once the checkouts still out are answered, borrowing is over.
    fn finish_borrowing(&mut self, now: Millis, fx: &mut Effects) {
        let State::Borrowing(basket) = &mut self.state else { return };
        basket.finishing = true;
        if basket.in_flight.is_none() && basket.queue.is_empty() {
            self.checkout_done(now, fx);
        }
    }

    /// Borrowing is over: first say which books were refused, if any; then offer a
    /// receipt if there is something to print it about.
    fn checkout_done(&mut self, now: Millis, fx: &mut Effects) {
        let State::Borrowing(basket) = &mut self.state else { return };
        if basket.counts().1 > 0 || basket.unsecured() > 0 {
            let basket = basket.take();
            self.enter(now, State::Refusals(basket));
        } else {
            self.offer_receipt(now, fx);
        }
    }

    /// A receipt if any book was lent (or renewed) and there is paper; goodbye otherwise.
    fn offer_receipt(&mut self, now: Millis, fx: &mut Effects) {
        let (State::Borrowing(basket) | State::Refusals(basket)) = &mut self.state else { return };
        let any_loan = basket.lines.iter().any(|l| matches!(l, LoanLine::Borrowed(_)));
        if any_loan && !self.paper_out {
            let basket = basket.take();
            self.enter(now, State::ReceiptChoice(basket));
        } else {
            self.end(now, Notice::Goodbye, fx);
        }
    }

    /// A scan that starts no session: its notice, counted as a patron turned away.
    fn turn_away(&mut self, now: Millis, notice: Notice, fx: &mut Effects) {
        self.new_session_id();
        self.card_session = false;
        if let Some(why) = TurnedAway::from_notice(&notice) {
            fx.push(Effect::Audit(AuditEvent::TurnedAway(why)));
        }
        self.enter(now, State::Ending { notice, since: now, alarmed: false });
    }

    /// Ends the session with a notice; a card session then waits for the card to leave.
    fn end(&mut self, now: Millis, notice: Notice, fx: &mut Effects) {
        self.finish_session(fx);
        if let Some(why) = TurnedAway::from_notice(&notice)
            && self.purpose == Purpose::Patron
        {
            fx.push(Effect::Audit(AuditEvent::TurnedAway(why)));
        }
        if self.card_session && self.card_present {
            fx.push(Effect::PowerOffCard);
            fx.push(Effect::Buzzer(BuzzerPattern::Reminder));
        }
        self.enter(now, State::Ending { notice, since: now, alarmed: false });
    }

    /// The session's work is over: audit, release, forget.
    fn finish_session(&mut self, fx: &mut Effects) {
        let tally = match &self.state {
            State::Borrowing(b) | State::Account(b, _) | State::Refusals(b) | State::ReceiptChoice(b) => {
                b.tally()
            }
            State::Printing { tally, .. } => *tally,
            _ => Tally::default(),
        };
        fx.push(Effect::EndSession { session: self.session });
        if let State::Returning(r) = &self.state {
            fx.push(Effect::Audit(AuditEvent::ReturnsEnded(r.tally())));
        } else {
            fx.push(Effect::Audit(AuditEvent::SessionEnded(tally)));
        }
        self.pin_verified = false;
        self.password_verified = false;
    }

    fn go_idle(&mut self, now: Millis, fx: &mut Effects) {
        self.enter(now, State::Idle);
        if self.card_present && !self.card_session {
            // A card was put down during a scan session: start reading it now.
            self.start_card_session(now, fx);
        }
    }

    /// The lamp and the staff event. A patron's own call stays the latched reason until
    /// staff reset the kiosk: a device call after it is logged but does not replace it
    /// (and so its recovery cannot switch the lamp off under the waiting patron).
    fn call_staff(&mut self, why: StaffCall, fx: &mut Effects) {
        if self.staff_call != Some(StaffCall::PatronAsked) {
            self.staff_call = Some(why);
        }
        fx.push(Effect::Lamp(LampPattern::Blink));
        fx.push(Effect::Audit(AuditEvent::StaffCalled(why)));
    }

    fn clear_staff_call(&mut self, fx: &mut Effects) {
        self.staff_call = None;
        fx.push(Effect::Lamp(LampPattern::Off));
        fx.push(Effect::Audit(AuditEvent::StaffCallCleared));
    }

    fn checking(&self, stage: CheckStage) -> Screen {
        Screen::Checking { stage, since: self.entered_at }
    }

    /// The account (what a patron borrows: private) only for a patron who proved who
    /// they are: a My Number card with its PIN, or a library card with the password the
    /// library system accepted. A library card's barcode alone or a Method D label is a
    /// number anyone holding a copy can scan; those patrons borrow, and see their account
    /// at the counter.
    fn account_allowed(&self) -> bool {
        self.policy.account && (self.pin_verified || self.password_verified)
    }

    fn can_print_label(&self, b: &Basket) -> bool {
        self.policy.offer_method_d_print
            && b.method == LoginMethod::MyNumberCard
            && b.lines.is_empty()
            && b.in_flight.is_none()
            && !self.paper_out
    }
}

/// A list the RFID pad feeds: the borrowing list or the returns list.
trait PadList {
    /// Sent, answered or waiting already.
    fn knows(&self, item: &ItemId) -> bool;
    /// Where its "parts missing" (or duplicate) line is.
    fn pad_line(&self, item: &ItemId) -> Option<usize>;
    fn remove_line(&mut self, at: usize);
    /// Its pad-problem line: new, or in place of the one `at`.
    fn put_problem(&mut self, at: Option<usize>, item: ItemId, refusal: Refusal);
    fn enqueue(&mut self, item: ItemId);
}

impl PadList for Basket {
    fn knows(&self, item: &ItemId) -> bool {
        Basket::knows(self, item)
    }
    fn pad_line(&self, item: &ItemId) -> Option<usize> {
        self.lines.iter().position(
            |l| matches!(l, LoanLine::Refused { item: i, refusal } if i == item && refusal.reason.is_pad_problem()),
        )
    }
    fn remove_line(&mut self, at: usize) {
        self.lines.remove(at);
    }
    fn put_problem(&mut self, at: Option<usize>, item: ItemId, refusal: Refusal) {
        let line = LoanLine::Refused { item, refusal };
        match at {
            Some(at) => self.lines[at] = line,
            None => self.lines.push(line),
        }
    }
    fn enqueue(&mut self, item: ItemId) {
        self.queue.push_back(item);
    }
}

impl PadList for Returns {
    fn knows(&self, item: &ItemId) -> bool {
        Returns::knows(self, item)
    }
    fn pad_line(&self, item: &ItemId) -> Option<usize> {
        self.lines.iter().position(
            |l| matches!(l, ReturnLine::Refused { item: i, refusal } if i == item && refusal.reason.is_pad_problem()),
        )
    }
    fn remove_line(&mut self, at: usize) {
        self.lines.remove(at);
    }
    fn put_problem(&mut self, at: Option<usize>, item: ItemId, refusal: Refusal) {
        let line = ReturnLine::Refused { item, refusal };
        match at {
            Some(at) => self.lines[at] = line,
            None => self.lines.push(line),
        }
    }
    fn enqueue(&mut self, item: ItemId) {
        self.queue.push_back(item);
    }
}

/// Takes what lies on the pad into `list` (see [`PatronSession::take_from_pad`]); true
/// when something was queued. An item the list already knows (scanned before it reached
/// the pad) is marked taken too, so the next session does not take it.
fn take_into(pad: &[OnPad], handled: &mut Vec<ItemId>, list: &mut impl PadList) -> bool {
    let mut queued = false;
    for p in pad {
        let at = list.pad_line(&p.item);
        let taken = handled.contains(&p.item);
        if !taken {
            handled.push(p.item.clone());
        }
        if list.knows(&p.item) || (taken && at.is_none()) {
            continue;
        }
        match p.problem() {
            None => {
                if let Some(at) = at {
                    list.remove_line(at);
                }
                list.enqueue(p.item.clone());
                queued = true;
            }
            Some(reason) => list.put_problem(at, p.item.clone(), Refusal { reason, title: None }),
        }
    }
    queued
}

fn min_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
