//! The view model: everything a screen shows, as plain values ([`Scene`]), and every tap
//! the screen reports ([`UiAction`]). The UI crate draws a `Scene` and parses taps into
//! `UiAction`s; it decides nothing. The names mirror the `.slint` files' enums one to one
//! (`kiosk-ui` converts them, and its tests fail if a variant is missing).

/// Which screen is up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Screen {
    #[default]
    Starting,
    Idle,
    OutOfService,
    ReadingCard,
    Pin,
    /// The library-card password pad (the PIN screen's keys, dots and warning).
    Password,
    Checking,
    Borrowing,
    /// At Finish: how many books were refused, and what to do with them.
    Refused,
    ReceiptChoice,
    Printing,
    Ending,
    AdminPin,
    AdminLocked,
    AdminMenu,
    /// Counter mode: the patron number handed over by methods A–D.
    HandOff,
    /// Counter mode: staff wait for the card to link.
    LinkWaiting,
    /// Counter mode: the library card to link is scanned and confirmed.
    Linking,
    /// The patron's account: loans, holds ready, renewals.
    Account,
    /// Returns: books scanned and their answers.
    Returning,
    /// The count check at Finish (an RFID library's setting): how many items, or more
    /// said than read.
    Count,
}

/// Counter mode: how the patron number reaches the library system (methods A–D).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HandOffMethod {
    #[default]
    Digits,
    Barcode,
    Keyboard,
    Label,
}

/// Counter method C's progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TypingState {
    #[default]
    NotStarted,
    Typing,
    Typed,
    NoKeyboard,
    Untypable,
    Failed,
}

/// The counter's linking screen's stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LinkStage {
    #[default]
    Scan,
    ConfirmCard,
    ConfirmPatron,
    Saving,
}

/// The PIN screen's stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PinStage {
    #[default]
    CheckingTries,
    LastTryWarning,
    Entering,
    Verifying,
    Verified,
    Locked,
}

/// What the checking screen says is happening.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CheckStage {
    #[default]
    Proving,
    Validity,
    Patron,
    Standing,
}

/// The staff menu's pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AdminPage {
    #[default]
    Status,
    Registration,
    Events,
    Update,
    /// Usage statistics: today and the last 14 days.
    Usage,
}

/// What the ending screen tells the patron.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Notice {
    #[default]
    Goodbye,
    ReceiptPrinted,
    LabelPrinted,
    Cancelled,
    TimedOut,
    CardLocked,
    CardNotMynumber,
    CardUnreadable,
    ReaderFailed,
    CardNotConfirmed,
    Revoked,
    Expired,
    NotLinked,
    PlatformUnavailable,
    PatronUnknown,
    PatronBlocked,
    LibraryUnavailable,
    LabelWrongDay,
    LabelInvalid,
    LabelUnknownKey,
    PaperOut,
    PrinterFailed,
    IdentifyFirst,
    Malfunction,
    NumberCleared,
    Linked,
    Unlinked,
    HadNoLink,
    LinkFailed,
    LinkNoStore,
    /// Returns done: the books go in the return box.
    ReturnsDone,
    /// A Method D label already used today.
    LabelUsed,
    /// A library card scanned where the library takes only My Number cards.
    LibraryCardNotAccepted,
    /// Three wrong library-card passwords.
    PasswordRefused,
}

impl Notice {
    /// Every notice.
    pub const ALL: [Notice; 34] = [
        Notice::Goodbye,
        Notice::ReceiptPrinted,
        Notice::LabelPrinted,
        Notice::Cancelled,
        Notice::TimedOut,
        Notice::CardLocked,
        Notice::CardNotMynumber,
        Notice::CardUnreadable,
        Notice::ReaderFailed,
        Notice::CardNotConfirmed,
        Notice::Revoked,
        Notice::Expired,
        Notice::NotLinked,
        Notice::PlatformUnavailable,
        Notice::PatronUnknown,
        Notice::PatronBlocked,
        Notice::LibraryUnavailable,
        Notice::LabelWrongDay,
        Notice::LabelInvalid,
        Notice::LabelUnknownKey,
        Notice::PaperOut,
        Notice::PrinterFailed,
        Notice::IdentifyFirst,
        Notice::Malfunction,
        Notice::NumberCleared,
        Notice::Linked,
        Notice::Unlinked,
        Notice::HadNoLink,
        Notice::LinkFailed,
        Notice::LinkNoStore,
        Notice::ReturnsDone,
        Notice::LabelUsed,
        Notice::LibraryCardNotAccepted,
        Notice::PasswordRefused,
    ];

    /// Its name as the screens and the voice's prompts know it (`revoked`,
    /// `receipt-printed`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Notice::Goodbye => "goodbye",
            Notice::ReceiptPrinted => "receipt-printed",
            Notice::LabelPrinted => "label-printed",
            Notice::Cancelled => "cancelled",
            Notice::TimedOut => "timed-out",
            Notice::CardLocked => "card-locked",
            Notice::CardNotMynumber => "card-not-mynumber",
            Notice::CardUnreadable => "card-unreadable",
            Notice::ReaderFailed => "reader-failed",
            Notice::CardNotConfirmed => "card-not-confirmed",
            Notice::Revoked => "revoked",
            Notice::Expired => "expired",
            Notice::NotLinked => "not-linked",
            Notice::PlatformUnavailable => "platform-unavailable",
            Notice::PatronUnknown => "patron-unknown",
            Notice::PatronBlocked => "patron-blocked",
            Notice::LibraryUnavailable => "library-unavailable",
            Notice::LabelWrongDay => "label-wrong-day",
            Notice::LabelInvalid => "label-invalid",
            Notice::LabelUnknownKey => "label-unknown-key",
            Notice::PaperOut => "paper-out",
            Notice::PrinterFailed => "printer-failed",
            Notice::IdentifyFirst => "identify-first",
            Notice::Malfunction => "malfunction",
            Notice::NumberCleared => "number-cleared",
            Notice::Linked => "linked",
            Notice::Unlinked => "unlinked",
            Notice::HadNoLink => "had-no-link",
            Notice::LinkFailed => "link-failed",
            Notice::LinkNoStore => "link-no-store",
            Notice::ReturnsDone => "returns-done",
            Notice::LabelUsed => "label-used",
            Notice::LibraryCardNotAccepted => "library-card-not-accepted",
            Notice::PasswordRefused => "password-refused",
        }
    }

    /// A notice of something done as asked (the screen's calm colours; the voice thanks
    /// the patron when the card is taken), not of a failure.
    #[must_use]
    pub fn is_good(self) -> bool {
        matches!(
            self,
            Notice::Goodbye
                | Notice::ReceiptPrinted
                | Notice::LabelPrinted
                | Notice::Cancelled
                | Notice::NumberCleared
                | Notice::Linked
                | Notice::Unlinked
                | Notice::HadNoLink
                | Notice::ReturnsDone
        )
    }
}

/// A device or peer on the staff menu's status page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Device {
    #[default]
    Reader,
    Printer,
    Platform,
    LibrarySystem,
    Network,
    Update,
    Keyboard,
    /// The shared link store (a kiosk's view of it).
    LinkStore,
    /// Loans made while the library system was offline.
    OfflineLoans,
    /// The RFID pad (its reader).
    RfidPad,
    /// The magnetic-strip desensitizer.
    Desensitizer,
    /// The voice and tones (`[audio]`).
    Sound,
    /// The tactile keypad (`[keypad]`).
    Keypad,
}

/// Where the terminal's registration with the platform is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RegistrationPhase {
    /// The platform mode needs none (OCSP, CRL, the simulator).
    #[default]
    NotNeeded,
    NotRegistered,
    /// The stored certificate cannot be read (`detail` says why).
    Unreadable,
    /// Valid until `date`.
    Registered,
    /// Expired on `date`.
    Expired,
    /// The stored certificate cannot be used (`detail` says why).
    Unusable,
    Registering,
    /// Registered, but the new certificate is not in use: restart (`detail` says why).
    RegisteredRestart,
    /// `detail`: the error and what to do, in the driver's words.
    Failed,
}

/// The Registration page's state line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistrationView {
    pub phase: RegistrationPhase,
    /// `YYYY-MM-DD` for [`RegistrationPhase::Registered`] and [`RegistrationPhase::Expired`].
    pub date: String,
    /// Technical detail (shown in brackets).
    pub detail: String,
}

/// The update agent's state as the staff page words it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UpdatePhase {
    /// No status file: the agent is not running (or has not started yet).
    #[default]
    NotReported,
    /// The status file is not the agent's format (`detail` names it).
    Unreadable,
    UpToDate,
    /// An update waits (`detail`: why, in the agent's words).
    Deferred,
    Downloading,
    /// `detail`: the step, in the agent's words.
    Installing,
    WaitingForReboot,
    /// `detail`: the error, in the agent's words.
    Failed,
    /// A phase this kiosk does not know (`detail` names it).
    Other,
}

/// A request staff made that the update agent has not picked up yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AgentAsk {
    #[default]
    None,
    Check,
    Install,
    Reboot,
}

/// The software-update page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateView {
    pub phase: UpdatePhase,
    /// The update's version ("" when the agent named none).
    pub version: String,
    pub percent: i32,
    /// The agent's own words (technical; shown in brackets).
    pub detail: String,
    pub asked: AgentAsk,
}

/// Why staff were called (the lamp is on).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CallReason {
    #[default]
    None = 0,
    PatronAsked = 1,
    CardLocked = 2,
    CardLeftBehind = 3,
    PaperOut = 4,
    PrinterFault = 5,
    Malfunction = 6,
    /// Three wrong library-card passwords.
    PasswordRefused = 7,
    /// A lent book's security could not be switched off.
    ItemSecurity = 8,
}

impl CallReason {
    /// The number a recent-events line carries for it (the staff page words it from
    /// the same numbers: 1 the patron asked … 6 a kiosk fault, 7 three wrong passwords).
    #[must_use]
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The staff menu's question before an action that ends a session or stops the kiosk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AdminConfirm {
    #[default]
    None,
    Reset,
    Restart,
}

/// What a line of the staff menu's recent events records (no personal data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EventKind {
    #[default]
    SessionStarted,
    PinRejected,
    CardLocked,
    StaffCalled,
    StaffCallCleared,
    SessionEnded,
    CardRemovedEarly,
    StaffLogin,
    StaffPinRejected,
    StaffLockedOut,
    StaffAction,
    HandedOff,
    CardLinked,
    CardUnlinked,
    NotAtThisKiosk,
    TerminalRegistered,
    RegistrationFailed,
    /// The platform recognised a re-issued card (a new serial) by the old card's link:
    /// the patron was found through it (logged when the platform answers).
    CardReissued,
    /// A returns session started (no card).
    ReturnsStarted,
    /// A returns session ended: `a` returned, `b` not.
    ReturnsEnded,
    /// The library system did not accept a library-card password: `a` tries left here.
    PasswordRejected,
    /// A tag that is not a library item (a transit card, another model) was on the pad.
    TagIgnored,
    /// A book's security could not be set to match its loan (a return, or a loan
    /// settled after a restart): staff check it.
    SecurityNotSet,
}

/// Why a book was not lent, as the screen words it (in the patron's language).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Lent (or renewed): not refused.
    #[default]
    None,
    NotInCatalogue,
    OnHold,
    OnLoan,
    /// Refused for another reason (the library system's own words, if any, are in
    /// [`LoanRow::message`]).
    Other,
    /// The library system did not answer.
    NoAnswer,
    /// The library system's answer cannot be trusted: staff check it.
    Unconfirmed,
    /// A return of a book that is not on loan.
    NotCheckedOut,
    /// Offline: as many offline loans as the library allows.
    OfflineLimit,
    /// Offline lending stopped (clock, age of the queue, or the queue not written).
    OfflineStopped,
    /// Lent offline, not yet sent to the library system.
    OfflinePending,
    /// A set whose parts are not all on the RFID pad (the row names them).
    PartsMissing,
    /// Two tags on the pad say they are the same item (and part).
    DuplicateTags,
}

/// Where a returned book goes, as the returns screen words it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ReturnStatus {
    /// Returned: into the return box.
    #[default]
    Returned,
    /// Reserved for another patron: the hold shelf (or staff).
    HoldShelf,
    /// Returned; staff look at it (the library system raised an alert).
    StaffCheck,
    /// Not returned: [`ReturnRow::refusal`] says why.
    Refused,
}

/// A line of the returns list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReturnRow {
    /// 1 for the first book scanned; the list shows the newest first.
    pub number: usize,
    /// "" when the library system gave no title (the screen names the barcode).
    pub title: String,
    pub item: String,
    pub status: ReturnStatus,
    /// The hold shelf, in the library system's words ("" when it named none).
    pub shelf: String,
    pub refusal: Refusal,
    /// The library system's own words, on a line of their own.
    pub message: String,
    /// A set not whole on the RFID pad ([`Refusal::PartsMissing`]): the parts missing
    /// (their numbers, in order) and how many the set has.
    pub missing: Vec<u8>,
    pub parts: usize,
}

/// Where a loan's renewal is, on the account screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RenewStatus {
    /// Not asked (the row offers the button when it can be renewed).
    #[default]
    NotAsked,
    Waiting,
    Renewed,
    /// Refused or not answered: [`AccountRow::refusal`] says why.
    Refused,
}

/// Why borrowing is blocked, as the account screen words it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Block {
    #[default]
    Other,
    Overdue,
    Fines,
    CardLost,
    TooManyItems,
    ItemsLost,
}

/// The account screen's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AccountStage {
    #[default]
    Loading,
    Unavailable,
    Shown,
}

/// A loan line of the account screen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountRow {
    /// 1 for the loan due soonest (the renew button reports it).
    pub number: usize,
    pub title: String,
    pub item: String,
    pub due: String,
    pub due_date: Option<DueDate>,
    pub overdue: bool,
    /// The row has a renew button.
    pub can_renew: bool,
    pub renew: RenewStatus,
    /// The new due date of a renewal.
    pub new_due: String,
    pub new_due_date: Option<DueDate>,
    pub refusal: Refusal,
    /// The library system's own words about a refusal, on a line of their own.
    pub message: String,
}

/// A hold ready for pickup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldRow {
    pub title: String,
    /// Where to collect it, in the library system's words ("" when not said).
    pub pickup: String,
    /// The last day to collect it, as sent, and as a date when it is one.
    pub until: String,
    pub until_date: Option<DueDate>,
}

/// The account screen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountScene {
    pub stage: AccountStage,
    /// The rows of the page shown.
    pub rows: Vec<AccountRow>,
    /// All loans, overdue ones, holds ready.
    pub loans: usize,
    pub overdue: usize,
    pub holds: Vec<HoldRow>,
    pub blocks: Vec<Block>,
    /// The library system's message to the patron ("" for none).
    pub message: String,
    /// The library system counted more than it listed.
    pub incomplete: bool,
    /// Renewals still to answer (the back and finish buttons wait for them).
    pub renewing: usize,
    /// "Back to borrowing" is offered (false: the library system blocked the patron).
    pub can_borrow: bool,
    pub can_renew_all: bool,
    /// 0-based page of the loans, and how many pages there are (at least 1).
    pub page: usize,
    pub pages: usize,
}

/// A calendar date for the screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DueDate {
    pub year: i32,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0 Monday … 6 Sunday.
    pub weekday: u8,
}

impl DueDate {
    /// `YYYY-MM-DD` (how the kiosk passes a library system's due date on), with its
    /// weekday; `None` for anything else or a date that does not exist.
    #[must_use]
    pub fn parse(text: &str) -> Option<DueDate> {
        let mut parts = text.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let last = *days.get(usize::from(month).checked_sub(1)?)?;
        if !(1..=last).contains(&day) || !(1..=9999).contains(&year) {
            return None;
        }
        // Days since 1970-01-01 (a Thursday), by the civil-from-days inverse.
        let (y, m) = if month <= 2 { (year - 1, i32::from(month) + 9) } else { (year, i32::from(month) - 3) };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + i32::from(day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let weekday = u8::try_from((days + 3).rem_euclid(7)).ok()?;
        Some(DueDate { year, month, day, weekday })
    }
}

/// A line of the borrowing list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoanRow {
    /// 1 for the first book scanned; the list shows the newest first.
    pub number: usize,
    /// The title; "" when the library system gave none (the screen then names the item
    /// by its barcode, with a label saying so).
    pub title: String,
    /// The item's barcode.
    pub item: String,
    /// The due date as the library system wrote it (shown when it is not a date).
    pub due: String,
    /// The due date, when it is one: the screen words it in the patron's language
    /// (`12月7日（月）`, `Mon 7 Dec`).
    pub due_date: Option<DueDate>,
    pub refusal: Refusal,
    /// The library system's own words about a refusal, shown on a line of their own.
    pub message: String,
    /// Renewed (the patron had it already), not lent anew.
    pub renewed: bool,
    /// Lent, but its security could not be switched off: to the counter with it.
    pub unsecured: bool,
    /// A set not whole on the RFID pad ([`Refusal::PartsMissing`]): the parts missing
    /// (their numbers, in order) and how many the set has.
    pub missing: Vec<u8>,
    pub parts: usize,
}

/// What a device line of the staff status page says (worded in the staff's language;
/// [`StatusRow::value`] fills in its number).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DeviceState {
    #[default]
    Starting,
    Ready,
    /// Answered a check in `value` ms.
    Answers,
    /// No answer within `value` s.
    NoAnswer,
    NotConfigured,
    /// Not working: the detail says how.
    NotWorking,
    PaperOut,
    PaperLow,
    CoverOpen,
    /// A printer on a one-way link: no status to read.
    OneWay,
    /// The counter's keyboard typed the number.
    Typed,
    TestPrinted,
    TestPrintFailed,
    /// The demo's simulated device.
    Simulated,
    /// The shared link store answers; `value` links known.
    LinksCurrent,
    /// The shared store cannot be reached: lending from the snapshot of `value` minutes
    /// ago.
    LinksFromSnapshot,
    /// The same, `value` hours ago.
    LinksFromSnapshotHours,
    /// The snapshot found at start was refused and the store cannot be reached.
    SnapshotRefused,
    /// The store cannot be reached and there is no snapshot yet.
    NoLinks,
    /// No offline loan waits.
    OfflineNone,
    /// `value` offline loans wait to be sent to the library system.
    OfflineWaiting,
    /// `value` offline loans were refused by the library system: staff must act.
    OfflineRefused,
    /// The RFID pad reads; `value` tags on it now.
    TagsOnPad,
    /// The desensitizer works; `value` books desensitized since the kiosk started.
    Desensitized,
    /// The sound plays, voice and tones, at `value` percent.
    SoundReady,
    /// The tones play at `value` percent, without the voice (`voice = false`; a pack
    /// that cannot be read is `NotWorking`, its detail saying the tones still play).
    SoundTonesOnly,
}

impl DeviceState {
    /// Whether the line is green.
    #[must_use]
    pub fn ok(self) -> bool {
        matches!(
            self,
            DeviceState::Ready
                | DeviceState::Answers
                | DeviceState::PaperLow
                | DeviceState::OneWay
                | DeviceState::Typed
                | DeviceState::TestPrinted
                | DeviceState::Simulated
                | DeviceState::LinksCurrent
                | DeviceState::OfflineNone
                | DeviceState::TagsOnPad
                | DeviceState::Desensitized
                | DeviceState::SoundReady
                | DeviceState::SoundTonesOnly
        )
    }
}

/// A line of the staff menu's status page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusRow {
    pub device: Device,
    pub state: DeviceState,
    /// The state's number (milliseconds, seconds), 0 when it has none.
    pub value: i32,
    /// Technical detail for staff (model, address, the driver's message), shown in
    /// brackets after the state; "" for none.
    pub detail: String,
}

/// An offline loan the library system refused on replay, for staff: the book, when it
/// was lent (local time, worded), and why (no patron name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OfflineRow {
    pub item: String,
    pub lent_at: String,
    pub why: Refusal,
}

/// One bar of a usage chart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageBar {
    /// Under the bar: the hour (`9`) or the day (`12/6`); "" for none.
    pub label: String,
    pub value: i32,
    /// Its height in thousandths of the chart's (the tallest bar is 1000).
    pub height: i32,
    /// Today's bar (the days chart marks it).
    pub today: bool,
}

/// What a line of the usage page counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum UsageKind {
    #[default]
    Sessions,
    MyNumberCard,
    LibraryCard,
    Label,
    ReturnsSessions,
    Loans,
    OfflineLoans,
    Renewals,
    Returns,
    BooksRefused,
    PatronsRefused,
    PinLocks,
    StaffCalls,
    PrinterFaults,
}

/// A line of the usage page: today, and the last 14 days with today.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageRow {
    pub what: UsageKind,
    pub today: i32,
    pub fortnight: i32,
}

/// The staff menu's usage page: loans today by hour and over the last 14 days as charts,
/// and the counts of today and the 14 days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageView {
    /// Loans in each hour of today (the library's local time), 0:00 first.
    pub hours: Vec<UsageBar>,
    /// Loans on each of the last 14 days, oldest first, today last.
    pub days: Vec<UsageBar>,
    pub rows: Vec<UsageRow>,
    /// Where IT downloads the hourly CSV; "" when the management endpoint is off.
    pub csv_address: String,
}

/// One audit event: no personal data, only what happened, when, and counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventRow {
    pub time: String,
    pub kind: EventKind,
    pub a: i32,
    pub b: i32,
}

/// The languages the UI speaks: each has a complete catalogue of the screens' words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// 日本語.
    Japanese,
    /// やさしい日本語 (easy Japanese: short sentences, words spaced, kana with a reading on
    /// each kanji left), as Japanese cities write for residents learning Japanese and for
    /// children.
    EasyJapanese,
    English,
    /// 中文（简体）: Simplified Chinese.
    Chinese,
    /// 한국어.
    Korean,
    /// Tiếng Việt.
    Vietnamese,
    /// Português (Brasil).
    Portuguese,
}

impl Language {
    /// Every language, in the order a list shows them when the library does not choose.
    pub const ALL: [Language; 7] = [
        Language::Japanese,
        Language::EasyJapanese,
        Language::English,
        Language::Chinese,
        Language::Korean,
        Language::Vietnamese,
        Language::Portuguese,
    ];

    /// The bundled-translation code (the catalogue's directory and the config's name).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Language::Japanese => "ja",
            Language::EasyJapanese => "ja-easy",
            Language::English => "en",
            Language::Chinese => "zh-Hans",
            Language::Korean => "ko",
            Language::Vietnamese => "vi",
            Language::Portuguese => "pt-BR",
        }
    }

    /// The language named by its [`Language::code`].
    #[must_use]
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// Everything a screen shows. `Default` is the start-up screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub screen: Screen,
    pub library_name: String,
    /// The library's own name for its card on the Japanese screens ("" for the
    /// catalogue's 図書館カード).
    pub card_name: String,
    /// The languages offered, the library's default first (more than one: the language
    /// button is shown).
    pub languages: Vec<Language>,
    /// The language list is open over the screen.
    pub languages_open: bool,
    pub pin_stage: PinStage,
    pub pin_entered: u8,
    pub tries_left: Option<u8>,
    pub last_wrong: bool,
    pub key_order: [u8; 10],
    pub check_stage: CheckStage,
    pub check_slow: bool,
    /// The borrowing list, newest first.
    pub loans: Vec<LoanRow>,
    /// Lines of `loans` that were lent (not refused, not renewed).
    pub borrowed: usize,
    /// Lines of `loans` that were refused (the borrowing list and the refused-books screen).
    pub refused: usize,
    /// Books lent whose security could not be switched off (the refused-books screen
    /// sends them to the counter too).
    pub unsecured: usize,
    /// The count check: the items read, and how many the patron said (0: asking).
    pub count_seen: usize,
    pub count_said: u8,
    /// The kiosk reads RFID tags: books are put on the pad, not scanned.
    pub rfid_pad: bool,
    /// The pad's reader is not working: books are scanned meanwhile.
    pub pad_fault: bool,
    pub waiting: usize,
    pub finishing: bool,
    pub can_print_label: bool,
    pub printing_label: bool,
    pub notice: Notice,
    pub notice_detail: String,
    pub card_present: bool,
    pub timeout_seconds: Option<u32>,
    pub paper_out: bool,
    pub staff_called: bool,
    /// Why the lamp is on (the staff status page says it).
    pub call_reason: CallReason,
    pub demo_mode: bool,
    pub demo_card_on_reader: bool,
    pub language: Language,
    pub large_text: bool,
    pub high_contrast: bool,
    /// Japanese shown with a reading on every kanji (the toggle shows on Japanese screens).
    pub furigana: bool,
    pub admin_entered: u8,
    pub admin_failures: u8,
    pub admin_max_failures: u8,
    pub admin_locked_seconds: u32,
    pub admin_checking: bool,
    pub admin_page: AdminPage,
    /// The menu asks before a reset or a restart.
    pub admin_confirm: AdminConfirm,
    pub status_rows: Vec<StatusRow>,
    /// Offline loans the library system refused on replay: books out without a loan.
    pub offline_refused: Vec<OfflineRow>,
    /// The usage page (filled while staff look at it).
    pub usage: UsageView,
    pub recent_events: Vec<EventRow>,
    pub version: String,
    /// The software-update page: what the update agent reported, and a request it has
    /// not taken yet.
    pub update: UpdateView,
    pub out_of_service_on: bool,
    pub terminal_id: String,
    pub terminal_fingerprint: String,
    /// The Registration page's state (worded by the page).
    pub registration: RegistrationView,
    /// Counter mode (what the idle screen and the admin menu offer).
    pub counter_mode: bool,
    pub hand_off: HandOffScene,
    pub link: LinkScene,
    /// The borrowing screen offers the account.
    pub can_open_account: bool,
    /// The borrowing screen says the library system is offline (loans kept, due dates
    /// provisional).
    pub offline: bool,
    pub account: AccountScene,
    /// The idle screen offers returns.
    pub can_return: bool,
    /// The idle screen invites a library-card scan.
    pub library_card_login: bool,
    /// The returns list, newest first.
    pub returns: Vec<ReturnRow>,
    /// Lines of `returns` returned (the refused ones are in `refused`).
    pub returned: usize,
    /// The receipt choice offers the account's summary too.
    pub can_print_account_receipt: bool,
    /// The staff menu: the account screen and returns are offered now.
    pub account_on: bool,
    pub returns_on: bool,
    /// The tactile keypad: the button chosen (framed on the screen, named aloud), ""
    /// when keypad mode is off or the screen has none (`crate::tactile`).
    pub focus: String,
    /// Bumped by the keypad's help key: the voice says the screen again.
    pub repeat: u32,
    /// Headphones are in the keypad's jack: the voice speaks through them only.
    pub headphones: bool,
}

/// The counter's hand-off screen.
#[derive(Clone, Debug, PartialEq)]
pub struct HandOffScene {
    pub method: HandOffMethod,
    pub offer_digits: bool,
    pub offer_barcode: bool,
    pub offer_keyboard: bool,
    pub offer_label: bool,
    /// The number, only while method A or B shows it.
    pub number: String,
    /// Method B's barcode, one byte per pixel (0 black, 255 white).
    pub barcode: Option<Gray>,
    pub seconds: u32,
    pub typing: TypingState,
}

impl Default for HandOffScene {
    fn default() -> Self {
        HandOffScene {
            method: HandOffMethod::Digits,
            offer_digits: false,
            offer_barcode: false,
            offer_keyboard: false,
            offer_label: false,
            number: String::new(),
            barcode: None,
            seconds: 0,
            typing: TypingState::NotStarted,
        }
    }
}

/// A grey-scale picture (the on-screen barcode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gray {
    pub width: u32,
    pub height: u32,
    /// `width * height` bytes, row by row.
    pub pixels: Vec<u8>,
}

/// The counter's linking screen.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkScene {
    pub stage: LinkStage,
    /// Last four characters of the library card linked now ("" when none).
    pub current: String,
    pub new: String,
    pub bad_scan: bool,
}

impl Default for LinkScene {
    fn default() -> Self {
        LinkScene { stage: LinkStage::Scan, current: String::new(), new: String::new(), bad_scan: false }
    }
}

impl Default for Scene {
    fn default() -> Self {
        Scene {
            screen: Screen::Starting,
            library_name: String::new(),
            card_name: String::new(),
            languages: vec![Language::Japanese, Language::English],
            languages_open: false,
            pin_stage: PinStage::CheckingTries,
            pin_entered: 0,
            tries_left: None,
            last_wrong: false,
            key_order: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0],
            check_stage: CheckStage::Proving,
            check_slow: false,
            loans: Vec::new(),
            borrowed: 0,
            refused: 0,
            unsecured: 0,
            count_seen: 0,
            count_said: 0,
            rfid_pad: false,
            pad_fault: false,
            waiting: 0,
            finishing: false,
            can_print_label: false,
            printing_label: false,
            notice: Notice::Goodbye,
            notice_detail: String::new(),
            card_present: false,
            timeout_seconds: None,
            paper_out: false,
            staff_called: false,
            call_reason: CallReason::None,
            demo_mode: false,
            demo_card_on_reader: false,
            language: Language::Japanese,
            large_text: false,
            high_contrast: false,
            furigana: false,
            admin_entered: 0,
            admin_failures: 0,
            admin_max_failures: 5,
            admin_locked_seconds: 0,
            admin_checking: false,
            admin_page: AdminPage::Status,
            admin_confirm: AdminConfirm::None,
            status_rows: Vec::new(),
            offline_refused: Vec::new(),
            usage: UsageView::default(),
            recent_events: Vec::new(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            update: UpdateView::default(),
            out_of_service_on: false,
            terminal_id: String::new(),
            terminal_fingerprint: String::new(),
            registration: RegistrationView::default(),
            counter_mode: false,
            hand_off: HandOffScene::default(),
            link: LinkScene::default(),
            can_open_account: false,
            offline: false,
            account: AccountScene::default(),
            can_return: false,
            library_card_login: true,
            returns: Vec::new(),
            returned: 0,
            account_on: false,
            returns_on: false,
            focus: String::new(),
            repeat: 0,
            headphones: false,
            can_print_account_receipt: false,
        }
    }
}

/// A lent line as the borrowing screen shows it (a test and fixture helper).
#[must_use]
pub fn loan_row(number: usize, title: &str, due: &str) -> LoanRow {
    LoanRow {
        number,
        title: title.to_owned(),
        due: due.to_owned(),
        due_date: DueDate::parse(due),
        ..LoanRow::default()
    }
}

/// A refused line as the borrowing screen shows it (a test and fixture helper).
#[must_use]
pub fn refused_row(number: usize, title: &str, item: &str, refusal: Refusal, message: &str) -> LoanRow {
    LoanRow {
        number,
        title: title.to_owned(),
        item: item.to_owned(),
        refusal,
        message: message.to_owned(),
        ..LoanRow::default()
    }
}

/// A status line of the admin screen.
#[must_use]
pub fn status_row(device: Device, state: DeviceState, value: i32, detail: &str) -> StatusRow {
    StatusRow { device, state, value, detail: detail.to_owned() }
}

/// A line of the admin screen's recent events.
#[must_use]
pub fn event_row(time: &str, kind: EventKind, a: i32, b: i32) -> EventRow {
    EventRow { time: time.to_owned(), kind, a, b }
}

/// Which keypad a key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pad {
    /// The patron's card PIN.
    Card,
    /// The staff PIN.
    Staff,
}

/// A key on a keypad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Digit(u8),
    Clear,
    Back,
    Submit,
}

/// Every tap the UI reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UiAction {
    Key(Pad, Key),
    AcknowledgeLastTry,
    Cancel,
    Finish,
    PrintLabel,
    PrintReceipt,
    /// A receipt with the account's summary.
    PrintReceiptWithAccount,
    NoReceipt,
    StillHere,
    Dismiss,
    /// Open the language list.
    Languages,
    /// Close the language list without changing the language.
    LanguagesClose,
    /// Speak this language (the list closes).
    Language(Language),
    ToggleLargeText,
    ToggleFurigana,
    ToggleContrast,
    /// The patron asks for staff (every patron screen has the button).
    CallStaff,
    AdminOpen,
    AdminClose,
    AdminReset,
    AdminPaperLoaded,
    AdminTestPrint,
    /// Staff play the test sound.
    AdminTestSound,
    /// Staff turn the sound down or up.
    AdminQuieter,
    AdminLouder,
    AdminToggleService,
    /// Staff turn the account screen on or off.
    AdminToggleAccount,
    /// Staff turn returns on or off.
    AdminToggleReturns,
    /// Staff handled the offline loans the library system refused: clear the list.
    AdminClearOffline,
    AdminRegister,
    AdminUpdateCheck,
    AdminUpdateInstall,
    AdminReboot,
    /// Staff confirm the reset or restart the menu asks about.
    AdminConfirm,
    /// Staff answer no to it.
    AdminConfirmCancel,
    AdminPage(AdminPage),
    /// Counter: staff start linking a card.
    AdminLinkCard,
    /// Counter: staff switch the hand-off method.
    Method(HandOffMethod),
    /// Counter: confirm replacing a link.
    LinkConfirm,
    /// Counter: remove the card's link.
    LinkRemove,
    /// Open the patron's account.
    Account,
    /// Renew the loan of this account row (its `number`).
    Renew(usize),
    RenewAll,
    /// Return books (no card).
    Return,
    /// The count check's answer: this many items (10: "10 or more").
    Count(u8),
    /// After a count that does not match: read the pad again.
    ReadAgain,
    /// The account's next or previous page.
    AccountPage(PageTurn),
    /// Demo mode only: stands in for hardware.
    Demo(DemoControl),
}

/// Which way the account's page turns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageTurn {
    Next,
    Previous,
}

/// The demo strip's buttons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoControl {
    /// Put the card on the reader, or take it off.
    Card,
    ScanBook,
    ScanLibraryCard,
}

impl UiAction {
    /// Parses the name a `.slint` button sends; `None` for an unknown name (a bug in the
    /// `.slint` files, caught by the tests).
    #[must_use]
    pub fn parse(name: &str) -> Option<UiAction> {
        let key = |rest: &str, pad| -> Option<UiAction> {
            let k = match rest {
                "clear" => Key::Clear,
                "back" => Key::Back,
                "submit" => Key::Submit,
                d => Key::Digit(d.strip_prefix("digit-")?.parse().ok().filter(|d: &u8| *d <= 9)?),
            };
            Some(UiAction::Key(pad, k))
        };
        Some(match name {
            "acknowledge-last-try" => UiAction::AcknowledgeLastTry,
            "cancel" => UiAction::Cancel,
            "finish" => UiAction::Finish,
            "print-label" => UiAction::PrintLabel,
            "print-receipt" => UiAction::PrintReceipt,
            "print-receipt-account" => UiAction::PrintReceiptWithAccount,
            "no-receipt" => UiAction::NoReceipt,
            "still-here" => UiAction::StillHere,
            "dismiss" => UiAction::Dismiss,
            "call-staff" => UiAction::CallStaff,
            "languages" => UiAction::Languages,
            "languages-close" => UiAction::LanguagesClose,
            "toggle-large-text" => UiAction::ToggleLargeText,
            "toggle-contrast" => UiAction::ToggleContrast,
            "toggle-furigana" => UiAction::ToggleFurigana,
            "admin-open" => UiAction::AdminOpen,
            "admin-close" => UiAction::AdminClose,
            "admin-reset" => UiAction::AdminReset,
            "admin-paper-loaded" => UiAction::AdminPaperLoaded,
            "admin-test-print" => UiAction::AdminTestPrint,
            "admin-test-sound" => UiAction::AdminTestSound,
            "admin-quieter" => UiAction::AdminQuieter,
            "admin-louder" => UiAction::AdminLouder,
            "admin-toggle-service" => UiAction::AdminToggleService,
            "admin-toggle-account" => UiAction::AdminToggleAccount,
            "admin-toggle-returns" => UiAction::AdminToggleReturns,
            "admin-clear-offline" => UiAction::AdminClearOffline,
            "admin-register" => UiAction::AdminRegister,
            "admin-update-check" => UiAction::AdminUpdateCheck,
            "admin-update-install" => UiAction::AdminUpdateInstall,
            "admin-reboot" => UiAction::AdminReboot,
            "admin-confirm" => UiAction::AdminConfirm,
            "admin-confirm-cancel" => UiAction::AdminConfirmCancel,
            "admin-page-status" => UiAction::AdminPage(AdminPage::Status),
            "admin-page-events" => UiAction::AdminPage(AdminPage::Events),
            "admin-page-registration" => UiAction::AdminPage(AdminPage::Registration),
            "admin-page-update" => UiAction::AdminPage(AdminPage::Update),
            "admin-page-usage" => UiAction::AdminPage(AdminPage::Usage),
            "admin-link-card" => UiAction::AdminLinkCard,
            "method-digits" => UiAction::Method(HandOffMethod::Digits),
            "method-barcode" => UiAction::Method(HandOffMethod::Barcode),
            "method-keyboard" => UiAction::Method(HandOffMethod::Keyboard),
            "method-label" => UiAction::Method(HandOffMethod::Label),
            "link-confirm" => UiAction::LinkConfirm,
            "link-remove" => UiAction::LinkRemove,
            "account" => UiAction::Account,
            "renew-all" => UiAction::RenewAll,
            "return" => UiAction::Return,
            "read-again" => UiAction::ReadAgain,
            other if other.starts_with("count-") => UiAction::Count(
                other.strip_prefix("count-")?.parse().ok().filter(|n: &u8| (1..=10).contains(n))?,
            ),
            "account-next" => UiAction::AccountPage(PageTurn::Next),
            "account-previous" => UiAction::AccountPage(PageTurn::Previous),
            "demo-card" => UiAction::Demo(DemoControl::Card),
            "demo-scan-book" => UiAction::Demo(DemoControl::ScanBook),
            "demo-scan-library-card" => UiAction::Demo(DemoControl::ScanLibraryCard),
            other if other.starts_with("language-") => {
                UiAction::Language(Language::from_code(other.strip_prefix("language-")?)?)
            }
            other if other.starts_with("renew-") => {
                UiAction::Renew(other.strip_prefix("renew-")?.parse().ok().filter(|n: &usize| *n >= 1)?)
            }
            other => match other.strip_prefix("admin-") {
                Some(rest) => key(rest, Pad::Staff)?,
                None => key(other, Pad::Card)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::DueDate;

    #[test]
    fn due_dates_know_their_weekday_and_refuse_what_is_not_a_date() {
        let d = |y, m, day, weekday| Some(DueDate { year: y, month: m, day, weekday });
        assert_eq!(DueDate::parse("2026-12-07"), d(2026, 12, 7, 0), "a Monday");
        assert_eq!(DueDate::parse("2026-12-20"), d(2026, 12, 20, 6), "a Sunday");
        assert_eq!(DueDate::parse("2028-02-29"), d(2028, 2, 29, 1), "a leap day, Tuesday");
        assert_eq!(DueDate::parse("1970-01-01"), d(1970, 1, 1, 3));
        for bad in
            ["2026-02-29", "2026-13-01", "2026-00-10", "2026-12-32", "20261207", "", "返却日未定", "2026-12"]
        {
            assert_eq!(DueDate::parse(bad), None, "{bad:?}");
        }
    }
}
