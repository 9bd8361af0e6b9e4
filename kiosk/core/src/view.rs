//! From the flow to the screen and back: the flow's views to a [`Scene`], and a
//! [`UiAction`] to a flow event. Pure functions; the one place that knows
//! both the flow's types and the UI's.
//!
//! Presentation choices that are not decisions (language, larger text, contrast, which
//! admin page is open) live here in [`Presentation`]; they return to the library's
//! defaults when a patron session ends, so the next patron starts in Japanese with the
//! normal view.

use crate::scene::{
    AccountRow, AccountStage, Block, HoldRow, PageTurn, RenewStatus, ReturnRow, ReturnStatus,
};
use crate::scene::{
    AdminConfirm, AdminPage, CallReason, CheckStage as UiCheck, DemoControl, DueDate,
    HandOffMethod as UiMethod, Key, Language, LinkStage as UiLink, LoanRow, Notice as UiNotice, Pad,
    PinStage as UiPin, Refusal as UiRefusal, Scene, Screen as UiScreen, TypingState, UiAction,
};

use crate::flow::{AccountLine, AccountView, BlockReason, RenewState, ReturnLine, Returned};
use crate::flow::{
    AdminAction, AdminEvent, AdminView, CardFault, CheckStage, Event, HandOff, ItemRefusal, LabelRefusal,
    LinkFault, LinkStage, LoanLine, Notice, PatronRefusal, PinKey, PinStage, PrintFault, Screen, Security,
    StaffCall, Tap, TypeFault, TypingView, View,
};

/// What the patron chose about how the screen looks.
#[derive(Clone, Debug, PartialEq)]
pub struct Presentation {
    pub language: Language,
    /// The language list is open.
    pub languages_open: bool,
    pub large_text: bool,
    pub high_contrast: bool,
    /// Readings on every kanji of the Japanese screens (children).
    pub furigana: bool,
    pub admin_page: AdminPage,
    /// The account screen's page (0-based; clamped to the pages there are).
    pub account_page: usize,
    /// The tactile keypad's mode and chosen button (for the session).
    pub tactile: crate::tactile::Tactile,
}

impl Default for Presentation {
    fn default() -> Self {
        Presentation {
            language: Language::Japanese,
            languages_open: false,
            large_text: false,
            high_contrast: false,
            furigana: false,
            admin_page: AdminPage::Status,
            account_page: 0,
            tactile: crate::tactile::Tactile::default(),
        }
    }
}

/// Loans on one page of the account screen: each row has a renew button at least
/// 96 px high; four fit under the heading on a 1280 x 800 screen (a finger scrolls them
/// on a smaller one, or with larger text).
pub const ACCOUNT_ROWS: usize = 4;

/// What a tap means.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    Patron(Event),
    Admin(AdminEvent),
    /// Only the presentation changed.
    Presentation,
    /// Demo-mode stand-ins for hardware.
    Demo(DemoControl),
    /// Nothing to do in the current state (an unknown or stale tap).
    Ignored,
    /// Staff chose "link a card" (a counter-only action; the console checks the mode).
    StartLinking,
}

/// Translates a tap, updating the presentation when that is all it changes.
#[must_use]
pub fn input(action: UiAction, presentation: &mut Presentation, out_of_service: bool) -> Input {
    let pin_key = |k: Key| match k {
        Key::Digit(d) => PinKey::Digit(d),
        Key::Clear => PinKey::Clear,
        Key::Back => PinKey::Backspace,
        Key::Submit => PinKey::Submit,
    };
    let tap = |t| Input::Patron(Event::Tap(t));
    let admin = |a| Input::Admin(AdminEvent::Choose(a));
    match action {
        UiAction::Key(Pad::Card, k) => tap(Tap::Pin(pin_key(k))),
        UiAction::Key(Pad::Staff, k) => Input::Admin(AdminEvent::Key(pin_key(k))),
        UiAction::AcknowledgeLastTry => tap(Tap::Pin(PinKey::AcknowledgeLastTry)),
        UiAction::Cancel => tap(Tap::Cancel),
        UiAction::Finish => tap(Tap::Finish),
        UiAction::PrintLabel => tap(Tap::PrintLabel),
        UiAction::PrintReceipt => tap(Tap::PrintReceipt),
        UiAction::PrintReceiptWithAccount => tap(Tap::PrintReceiptWithAccount),
        UiAction::NoReceipt => tap(Tap::NoReceipt),
        UiAction::StillHere => tap(Tap::StillHere),
        UiAction::Dismiss => tap(Tap::Dismiss),
        UiAction::CallStaff => tap(Tap::CallStaff),
        UiAction::Languages => {
            presentation.languages_open = true;
            Input::Presentation
        }
        UiAction::LanguagesClose => {
            presentation.languages_open = false;
            Input::Presentation
        }
        UiAction::Language(language) => {
            presentation.language = language;
            presentation.languages_open = false;
            Input::Presentation
        }
        // Larger text and furigana exclude each other: readings make the Japanese text
        // half as long again, and at 1.5 times its size it no longer fits the screens
        // (easy Japanese has both its readings and larger text).
        UiAction::ToggleLargeText => {
            presentation.large_text = !presentation.large_text;
            presentation.furigana &= !presentation.large_text;
            Input::Presentation
        }
        UiAction::ToggleContrast => {
            presentation.high_contrast = !presentation.high_contrast;
            Input::Presentation
        }
        UiAction::ToggleFurigana => {
            presentation.furigana = !presentation.furigana;
            presentation.large_text &= !presentation.furigana;
            Input::Presentation
        }
        UiAction::AdminOpen => {
            presentation.admin_page = AdminPage::Status;
            presentation.languages_open = false;
            Input::Admin(AdminEvent::Open)
        }
        UiAction::AdminClose => Input::Admin(AdminEvent::Close),
        UiAction::AdminReset => admin(AdminAction::ResetKiosk),
        UiAction::AdminPaperLoaded => admin(AdminAction::ClearPaperOut),
        UiAction::AdminTestPrint => admin(AdminAction::TestPrint),
        UiAction::AdminTestSound => admin(AdminAction::TestSound),
        UiAction::AdminQuieter => admin(AdminAction::Volume { louder: false }),
        UiAction::AdminLouder => admin(AdminAction::Volume { louder: true }),
        UiAction::AdminToggleService => admin(AdminAction::SetOutOfService(!out_of_service)),
        UiAction::AdminRegister => admin(AdminAction::RegisterTerminal),
        UiAction::AdminToggleAccount => admin(AdminAction::ToggleAccountScreen),
        UiAction::AdminToggleReturns => admin(AdminAction::ToggleReturns),
        UiAction::AdminClearOffline => admin(AdminAction::ClearOfflineRefusals),
        UiAction::AdminUpdateCheck => admin(AdminAction::CheckForUpdate),
        UiAction::AdminUpdateInstall => admin(AdminAction::InstallUpdateWhenIdle),
        UiAction::AdminReboot => admin(AdminAction::Reboot),
        UiAction::AdminConfirm => Input::Admin(AdminEvent::Confirm),
        UiAction::AdminConfirmCancel => Input::Admin(AdminEvent::CancelConfirm),
        UiAction::AdminPage(page) => {
            presentation.admin_page = page;
            match page {
                AdminPage::Status => admin(AdminAction::RefreshStatus),
                AdminPage::Events => admin(AdminAction::RecentEvents),
                AdminPage::Registration | AdminPage::Update | AdminPage::Usage => Input::Presentation,
            }
        }
        UiAction::AdminLinkCard => Input::StartLinking,
        UiAction::Method(m) => tap(Tap::Method(match m {
            UiMethod::Digits => HandOff::Digits,
            UiMethod::Barcode => HandOff::Barcode,
            UiMethod::Keyboard => HandOff::Keyboard,
            UiMethod::Label => HandOff::Label,
        })),
        UiAction::LinkConfirm => tap(Tap::ConfirmReplace),
        UiAction::LinkRemove => tap(Tap::Unlink),
        UiAction::Account => {
            presentation.account_page = 0;
            tap(Tap::Account)
        }
        UiAction::Renew(number) => tap(Tap::Renew(number.saturating_sub(1))),
        UiAction::RenewAll => tap(Tap::RenewAll),
        UiAction::Return => tap(Tap::Return),
        UiAction::Count(n) => tap(Tap::Count(n)),
        UiAction::ReadAgain => tap(Tap::ReadAgain),
        UiAction::AccountPage(turn) => {
            presentation.account_page = match turn {
                PageTurn::Next => presentation.account_page.saturating_add(1),
                PageTurn::Previous => presentation.account_page.saturating_sub(1),
            };
            Input::Presentation
        }
        UiAction::Demo(control) => Input::Demo(control),
    }
}

/// The flow's hand-off method as the UI names it.
#[must_use]
pub fn ui_method(m: HandOff) -> UiMethod {
    match m {
        HandOff::Digits => UiMethod::Digits,
        HandOff::Barcode => UiMethod::Barcode,
        HandOff::Keyboard => UiMethod::Keyboard,
        HandOff::Label => UiMethod::Label,
    }
}

fn notice(n: &Notice) -> (UiNotice, String) {
    let plain = |n| (n, String::new());
    match n {
        Notice::Goodbye => plain(UiNotice::Goodbye),
        Notice::ReceiptPrinted => plain(UiNotice::ReceiptPrinted),
        Notice::LabelPrinted => plain(UiNotice::LabelPrinted),
        Notice::Cancelled => plain(UiNotice::Cancelled),
        Notice::TimedOut => plain(UiNotice::TimedOut),
        Notice::CardLocked => plain(UiNotice::CardLocked),
        Notice::CardProblem(CardFault::NotMyNumberCard) => plain(UiNotice::CardNotMynumber),
        Notice::CardProblem(CardFault::Unreadable) => plain(UiNotice::CardUnreadable),
        Notice::CardProblem(CardFault::ReaderFailed) => plain(UiNotice::ReaderFailed),
        Notice::ProofFailed(_) => plain(UiNotice::CardNotConfirmed),
        Notice::Revoked => plain(UiNotice::Revoked),
        Notice::Expired => plain(UiNotice::Expired),
        Notice::NotLinked | Notice::PatronRefused(PatronRefusal::NotLinked) => plain(UiNotice::NotLinked),
        Notice::PlatformUnavailable => plain(UiNotice::PlatformUnavailable),
        Notice::PatronRefused(PatronRefusal::Unknown) => plain(UiNotice::PatronUnknown),
        Notice::PatronRefused(PatronRefusal::Blocked(why)) => {
            (UiNotice::PatronBlocked, why.clone().unwrap_or_default())
        }
        Notice::PatronRefused(PatronRefusal::LibrarySystemUnavailable) => plain(UiNotice::LibraryUnavailable),
        Notice::PasswordRefused | Notice::PatronRefused(PatronRefusal::WrongPassword) => {
            plain(UiNotice::PasswordRefused)
        }
        Notice::LibraryCardNotAccepted => plain(UiNotice::LibraryCardNotAccepted),
        Notice::LabelRefused(LabelRefusal::WrongDay) => plain(UiNotice::LabelWrongDay),
        Notice::LabelRefused(LabelRefusal::UnknownKey) => plain(UiNotice::LabelUnknownKey),
        Notice::LabelRefused(LabelRefusal::AlreadyUsed) => plain(UiNotice::LabelUsed),
        Notice::LabelRefused(LabelRefusal::BadSignature | LabelRefusal::Malformed) => {
            plain(UiNotice::LabelInvalid)
        }
        Notice::PrintFailed(PrintFault::OutOfPaper) => plain(UiNotice::PaperOut),
        Notice::PrintFailed(_) => plain(UiNotice::PrinterFailed),
        Notice::IdentifyFirst => plain(UiNotice::IdentifyFirst),
        Notice::Malfunction => plain(UiNotice::Malfunction),
        Notice::NumberCleared => plain(UiNotice::NumberCleared),
        Notice::Linked => plain(UiNotice::Linked),
        Notice::Unlinked(true) => plain(UiNotice::Unlinked),
        Notice::Unlinked(false) => plain(UiNotice::HadNoLink),
        Notice::LinkFailed(LinkFault::NoLinkStore) => plain(UiNotice::LinkNoStore),
        Notice::LinkFailed(_) => plain(UiNotice::LinkFailed),
        Notice::ReturnsDone => plain(UiNotice::ReturnsDone),
    }
}

/// A refusal as the screen's code (the screen words it in the patron's language) and
/// the library system's own words, if it sent any (shown on a line of their own).
fn refusal(reason: &ItemRefusal) -> (UiRefusal, &str) {
    match reason {
        ItemRefusal::NotInCatalogue => (UiRefusal::NotInCatalogue, ""),
        ItemRefusal::OnHoldForAnother => (UiRefusal::OnHold, ""),
        ItemRefusal::OnLoanToAnother => (UiRefusal::OnLoan, ""),
        ItemRefusal::Refused(message) => (UiRefusal::Other, message.as_deref().unwrap_or_default().trim()),
        ItemRefusal::NoAnswer => (UiRefusal::NoAnswer, ""),
        ItemRefusal::Unconfirmed => (UiRefusal::Unconfirmed, ""),
        ItemRefusal::NotCheckedOut => (UiRefusal::NotCheckedOut, ""),
        ItemRefusal::OfflineLimit => (UiRefusal::OfflineLimit, ""),
        ItemRefusal::OfflineStopped => (UiRefusal::OfflineStopped, ""),
        ItemRefusal::OfflinePending => (UiRefusal::OfflinePending, ""),
        ItemRefusal::PartsMissing { .. } => (UiRefusal::PartsMissing, ""),
        ItemRefusal::DuplicateTags => (UiRefusal::DuplicateTags, ""),
    }
}

/// A set's missing parts and its size; nothing for any other refusal.
fn parts_missing(reason: &ItemRefusal) -> (Vec<u8>, usize) {
    match reason {
        ItemRefusal::PartsMissing { missing, parts } => (missing.clone(), usize::from(*parts)),
        _ => (Vec::new(), 0),
    }
}

fn block(reason: BlockReason) -> Block {
    match reason {
        BlockReason::Overdue => Block::Overdue,
        BlockReason::Fines => Block::Fines,
        BlockReason::CardLost => Block::CardLost,
        BlockReason::TooManyItems => Block::TooManyItems,
        BlockReason::ItemsLost => Block::ItemsLost,
        BlockReason::Other => Block::Other,
    }
}

/// One line of the returns list (`number` counts from 1, oldest first).
fn return_line(number: usize, line: &ReturnLine) -> ReturnRow {
    match line {
        ReturnLine::Returned { item, ret } => {
            let (status, shelf, message) = match &ret.outcome {
                Returned::Done => (ReturnStatus::Returned, String::new(), String::new()),
                Returned::ToHoldShelf { shelf } => {
                    (ReturnStatus::HoldShelf, shelf.clone().unwrap_or_default(), String::new())
                }
                Returned::StaffCheck { message } => {
                    (ReturnStatus::StaffCheck, String::new(), message.clone().unwrap_or_default())
                }
            };
            ReturnRow {
                number,
                title: ret.title.clone().unwrap_or_default(),
                item: item.0.clone(),
                status,
                shelf,
                message,
                ..ReturnRow::default()
            }
        }
        ReturnLine::Refused { item, refusal: r } => {
            let (code, message) = refusal(&r.reason);
            let (missing, parts) = parts_missing(&r.reason);
            ReturnRow {
                missing,
                parts,
                number,
                title: r.title.clone().unwrap_or_default(),
                item: item.0.clone(),
                status: ReturnStatus::Refused,
                refusal: code,
                message: message.to_owned(),
                ..ReturnRow::default()
            }
        }
    }
}

/// One loan of the account screen (`number` counts from 1, due soonest first).
fn account_row(number: usize, line: &AccountLine) -> AccountRow {
    let loan = &line.loan;
    let mut row = AccountRow {
        number,
        title: loan.title.clone(),
        item: loan.item.as_ref().map(|i| i.0.clone()).unwrap_or_default(),
        due: loan.due.clone(),
        due_date: DueDate::parse(&loan.due),
        overdue: loan.overdue,
        ..AccountRow::default()
    };
    match &line.renew {
        RenewState::NotAsked => {
            row.can_renew = loan.item.is_some();
        }
        RenewState::Waiting => row.renew = RenewStatus::Waiting,
        RenewState::Renewed { due } => {
            row.renew = RenewStatus::Renewed;
            row.new_due.clone_from(due);
            row.new_due_date = DueDate::parse(due);
            row.overdue = false;
        }
        RenewState::Refused(r) => {
            let (code, message) = refusal(&r.reason);
            row.renew = RenewStatus::Refused;
            row.refusal = code;
            row.message = message.to_owned();
        }
    }
    row
}

/// The account screen from the flow's view, `page` clamped to the pages there are.
fn account_scene(view: &AccountView, page: usize) -> crate::scene::AccountScene {
    let mut a = crate::scene::AccountScene { pages: 1, ..Default::default() };
    match view {
        AccountView::Loading => a.stage = AccountStage::Loading,
        AccountView::Unavailable => a.stage = AccountStage::Unavailable,
        AccountView::Shown { lines, holds, blocks, message, incomplete, renewing, can_borrow } => {
            a.can_borrow = *can_borrow;
            a.stage = AccountStage::Shown;
            a.loans = lines.len();
            a.overdue = lines
                .iter()
                .filter(|l| l.loan.overdue && !matches!(l.renew, RenewState::Renewed { .. }))
                .count();
            a.pages = lines.len().div_ceil(ACCOUNT_ROWS).max(1);
            a.page = page.min(a.pages - 1);
            a.rows = lines
                .iter()
                .enumerate()
                .skip(a.page * ACCOUNT_ROWS)
                .take(ACCOUNT_ROWS)
                .map(|(i, l)| account_row(i + 1, l))
                .collect();
            a.holds = holds
                .iter()
                .map(|h| HoldRow {
                    title: h.title.clone(),
                    pickup: h.pickup.clone().unwrap_or_default(),
                    until: h.until.clone().unwrap_or_default(),
                    until_date: h.until.as_deref().and_then(DueDate::parse),
                })
                .collect();
            a.blocks = blocks.iter().map(|b| block(*b)).collect();
            a.message = message.clone().unwrap_or_default();
            a.incomplete = *incomplete;
            a.renewing = *renewing;
            a.can_renew_all = lines
                .iter()
                .filter(|l| matches!(l.renew, RenewState::NotAsked) && l.loan.item.is_some())
                .count()
                > 1;
        }
    }
    a
}

/// One line of the borrowing list (`number` counts from 1, oldest first).
fn loan_line(number: usize, line: &LoanLine) -> LoanRow {
    match line {
        LoanLine::Borrowed(loan) => LoanRow {
            number,
            title: loan.title.clone(),
            item: loan.item.0.clone(),
            due: loan.due.clone(),
            due_date: DueDate::parse(&loan.due),
            renewed: loan.renewed,
            unsecured: loan.security == Security::Failed,
            ..LoanRow::default()
        },
        LoanLine::Refused { item, refusal: r } => {
            let (code, message) = refusal(&r.reason);
            let (missing, parts) = parts_missing(&r.reason);
            LoanRow {
                number,
                title: r.title.clone().unwrap_or_default(),
                item: item.0.clone(),
                refusal: code,
                message: message.to_owned(),
                missing,
                parts,
                ..LoanRow::default()
            }
        }
    }
}

/// Everything the screen shows, from the flows' views. `now` turns the checking screen's
/// start time into "slow" after 2 s.
#[must_use]
pub fn scene(
    view: &View,
    admin: AdminView,
    p: &Presentation,
    library_name: &str,
    now: crate::flow::Millis,
) -> Scene {
    let mut s = Scene {
        library_name: library_name.to_owned(),
        paper_out: view.paper_out,
        staff_called: view.staff_called.is_some(),
        call_reason: view.staff_called.map_or(CallReason::None, call_reason),
        timeout_seconds: view.timeout_warning,
        can_return: view.can_return,
        rfid_pad: view.rfid_pad,
        pad_fault: view.pad_fault,
        library_card_login: view.library_card_login,
        can_print_account_receipt: view.account_receipt,
        language: p.language,
        languages_open: p.languages_open,
        large_text: p.large_text,
        high_contrast: p.high_contrast,
        furigana: p.furigana,
        admin_page: p.admin_page,
        ..Scene::default()
    };
    match admin {
        AdminView::PinEntry { entered, failures, checking } => {
            s.screen = UiScreen::AdminPin;
            s.admin_entered = u8::try_from(entered).unwrap_or(u8::MAX);
            s.admin_failures = failures;
            s.admin_checking = checking;
            return s;
        }
        AdminView::LockedOut { secs_left } => {
            s.screen = UiScreen::AdminLocked;
            s.admin_locked_seconds = secs_left;
            return s;
        }
        AdminView::Menu { confirm } => {
            s.screen = UiScreen::AdminMenu;
            s.admin_confirm = match confirm {
                Some(AdminAction::ResetKiosk) => AdminConfirm::Reset,
                Some(AdminAction::Reboot) => AdminConfirm::Restart,
                _ => AdminConfirm::None,
            };
            return s;
        }
        AdminView::Closed => {}
    }
    s.screen = match &view.screen {
        Screen::Idle => UiScreen::Idle,
        Screen::OutOfService => UiScreen::OutOfService,
        Screen::ReadingCard => UiScreen::ReadingCard,
        Screen::Pin(pad) | Screen::Password(pad) => {
            s.pin_stage = match pad.stage {
                PinStage::CheckingTries => UiPin::CheckingTries,
                PinStage::LastTryWarning => UiPin::LastTryWarning,
                PinStage::Entering => UiPin::Entering,
                PinStage::Verifying => UiPin::Verifying,
                PinStage::Verified => UiPin::Verified,
                PinStage::Locked => UiPin::Locked,
            };
            s.pin_entered = u8::try_from(pad.entered).unwrap_or(u8::MAX);
            s.tries_left = pad.tries_left;
            s.last_wrong = pad.last_attempt_wrong;
            if matches!(view.screen, Screen::Password(_)) { UiScreen::Password } else { UiScreen::Pin }
        }
        Screen::Checking { stage, since } => {
            s.check_stage = match stage {
                CheckStage::Proving => UiCheck::Proving,
                CheckStage::Validity => UiCheck::Validity,
                CheckStage::Patron => UiCheck::Patron,
                CheckStage::Standing => UiCheck::Standing,
            };
            s.check_slow = now >= since.after(core::time::Duration::from_secs(2));
            UiScreen::Checking
        }
        Screen::Borrowing { lines, waiting, finishing, can_print_label, can_open_account, offline } => {
            // Newest first: the book just scanned is always on screen, however long the list.
            s.loans = lines.iter().enumerate().rev().map(|(i, l)| loan_line(i + 1, l)).collect();
            s.borrowed =
                lines.iter().filter(|l| matches!(l, LoanLine::Borrowed(loan) if !loan.renewed)).count();
            s.refused = lines.iter().filter(|l| matches!(l, LoanLine::Refused { .. })).count();
            s.waiting = *waiting;
            s.finishing = *finishing;
            s.can_print_label = *can_print_label;
            s.can_open_account = *can_open_account;
            s.offline = *offline;
            UiScreen::Borrowing
        }
        Screen::Refused { count, lent, unsecured } => {
            s.refused = *count;
            s.borrowed = *lent;
            s.unsecured = *unsecured;
            UiScreen::Refused
        }
        Screen::ReceiptChoice => UiScreen::ReceiptChoice,
        Screen::Count { seen, said } => {
            s.count_seen = *seen;
            s.count_said = said.unwrap_or(0);
            UiScreen::Count
        }
        Screen::Returning { lines, waiting, finishing } => {
            s.returns = lines.iter().enumerate().rev().map(|(i, l)| return_line(i + 1, l)).collect();
            s.returned = lines.iter().filter(|l| matches!(l, ReturnLine::Returned { .. })).count();
            s.refused = lines.len() - s.returned;
            s.waiting = *waiting;
            s.finishing = *finishing;
            UiScreen::Returning
        }
        Screen::Account(account) => {
            s.account = account_scene(account, p.account_page);
            UiScreen::Account
        }
        Screen::Printing { label } => {
            s.printing_label = *label;
            UiScreen::Printing
        }
        Screen::Ending { notice: n, card_present } => {
            (s.notice, s.notice_detail) = notice(n);
            s.card_present = *card_present;
            UiScreen::Ending
        }
        Screen::HandOff { method, methods, number, typing, seconds_left } => {
            let h = &mut s.hand_off;
            h.method = ui_method(*method);
            h.offer_digits = methods.contains(&HandOff::Digits);
            h.offer_barcode = methods.contains(&HandOff::Barcode);
            h.offer_keyboard = methods.contains(&HandOff::Keyboard);
            h.offer_label = methods.contains(&HandOff::Label);
            // Only method A draws the digits; B's barcode is drawn by the console.
            h.number = match (method, number) {
                (HandOff::Digits, Some(n)) => n.expose().to_owned(),
                _ => String::new(),
            };
            h.seconds = *seconds_left;
            h.typing = match typing {
                TypingView::NotStarted => TypingState::NotStarted,
                TypingView::Typing => TypingState::Typing,
                TypingView::Typed => TypingState::Typed,
                TypingView::Failed(TypeFault::NoKeyboard) => TypingState::NoKeyboard,
                TypingView::Failed(TypeFault::Untypable) => TypingState::Untypable,
                TypingView::Failed(TypeFault::Failed) => TypingState::Failed,
            };
            UiScreen::HandOff
        }
        Screen::LinkWaitingForCard => UiScreen::LinkWaiting,
        Screen::Linking { current, bad_scan, stage } => {
            s.link.current = current.clone().unwrap_or_default();
            s.link.bad_scan = *bad_scan;
            s.link.stage = match stage {
                LinkStage::Scan => UiLink::Scan,
                LinkStage::Saving => UiLink::Saving,
                LinkStage::Confirm { new, conflict } => {
                    s.link.new = new.clone();
                    if *conflict == LinkFault::PatronLinkedElsewhere {
                        UiLink::ConfirmPatron
                    } else {
                        UiLink::ConfirmCard
                    }
                }
            };
            UiScreen::Linking
        }
    };
    s
}

/// Why staff were called, as the staff page and the recent events word it.
#[must_use]
pub fn call_reason(why: StaffCall) -> CallReason {
    match why {
        StaffCall::PatronAsked => CallReason::PatronAsked,
        StaffCall::CardLocked => CallReason::CardLocked,
        StaffCall::CardLeftBehind => CallReason::CardLeftBehind,
        StaffCall::PrinterOutOfPaper => CallReason::PaperOut,
        StaffCall::PrinterFault => CallReason::PrinterFault,
        StaffCall::Malfunction => CallReason::Malfunction,
        StaffCall::PasswordRefused => CallReason::PasswordRefused,
        StaffCall::ItemSecurity => CallReason::ItemSecurity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Millis, PatronSession, SessionPolicy};

    #[test]
    fn idle_flow_is_the_idle_screen_and_the_language_list_chooses() {
        let flow = PatronSession::new(SessionPolicy::default());
        let mut p = Presentation::default();
        let s = scene(&flow.view(Millis(0)), AdminView::Closed, &p, "図書館", Millis(0));
        assert_eq!(s.screen, UiScreen::Idle);
        assert_eq!((s.language, s.languages_open), (Language::Japanese, false));
        assert_eq!(input(UiAction::Languages, &mut p, false), Input::Presentation);
        let s = scene(&flow.view(Millis(0)), AdminView::Closed, &p, "図書館", Millis(0));
        assert!(s.languages_open);
        assert_eq!(input(UiAction::LanguagesClose, &mut p, false), Input::Presentation);
        assert_eq!((p.language, p.languages_open), (Language::Japanese, false), "closed, unchanged");
        for language in Language::ALL {
            assert_eq!(input(UiAction::Languages, &mut p, false), Input::Presentation);
            assert_eq!(input(UiAction::Language(language), &mut p, false), Input::Presentation);
            assert_eq!((p.language, p.languages_open), (language, false), "chosen and closed");
            assert_eq!(
                UiAction::parse(&format!("language-{}", language.code())),
                Some(UiAction::Language(language))
            );
        }
        assert_eq!(UiAction::parse("language-fr"), None);
    }

    #[test]
    fn taps_map_to_flow_events() {
        let mut p = Presentation::default();
        assert_eq!(
            input(UiAction::Key(Pad::Card, Key::Digit(7)), &mut p, false),
            Input::Patron(Event::Tap(Tap::Pin(PinKey::Digit(7))))
        );
        assert_eq!(
            input(UiAction::Key(Pad::Staff, Key::Submit), &mut p, false),
            Input::Admin(AdminEvent::Key(PinKey::Submit))
        );
        assert_eq!(
            input(UiAction::AdminToggleService, &mut p, true),
            Input::Admin(AdminEvent::Choose(AdminAction::SetOutOfService(false)))
        );
    }

    #[test]
    fn admin_views_take_over_the_screen() {
        let flow = PatronSession::new(SessionPolicy::default());
        let p = Presentation::default();
        let v = flow.view(Millis(0));
        let s = scene(&v, AdminView::LockedOut { secs_left: 42 }, &p, "", Millis(0));
        assert_eq!((s.screen, s.admin_locked_seconds), (UiScreen::AdminLocked, 42));
    }
}
