//! `kiosk-ui`: the touchscreen UI in Slint.
//!
//! The `.slint` files in `ui/` draw; this crate gives the rest of the kiosk three plain
//! Rust things and nothing else:
//! - [`Scene`]: everything a screen shows, as plain values; [`Scene::apply`] puts it on
//!   the window;
//! - [`UiAction`]: every tap, parsed from the one `action(string)` callback;
//! - [`headless`]: rendering any scene to a PNG without a display (tests, the scripted
//!   demo, screenshots for the docs).
//!
//! It knows nothing of the flow: the kiosk maps the flow's view model to a [`Scene`] and
//! [`UiAction`]s to flow events (`kiosk-core`'s `view` module); the view model itself
//! (`kiosk_core::scene`) is plain Rust with no Slint in it.

#[allow(missing_debug_implementations, rust_2018_idioms, clippy::all, clippy::pedantic, clippy::restriction)]
mod generated {
    slint::include_modules!();
}

pub use generated::{AppWindow, Kiosk};
// The view model this crate draws, re-exported so a caller needs one import.
pub use kiosk_core::scene::{
    AccountRow, AdminConfirm, AdminPage, AgentAsk, CallReason, CheckStage, DemoControl, Device, DeviceState,
    EventKind, EventRow, Gray, HandOffMethod, HandOffScene, HoldRow, Key, Language, LinkScene, LinkStage,
    LoanRow, Notice, OfflineRow, Pad, PinStage, Refusal, RegistrationPhase, RegistrationView, ReturnRow,
    ReturnStatus, Scene, Screen, StatusRow, TypingState, UiAction, UpdatePhase, UpdateView, UsageBar,
    UsageKind, UsageRow, UsageView, event_row, loan_row, refused_row, status_row,
};
pub use slint;
// The words outside the screens (receipts, labels, the voice) under their old names.
pub use kiosk_text::{furigana, phrases, prompts, words};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// The bundled catalogue of the Japanese screens with a reading on every kanji
/// (`translations/ja-furigana`, made from the Japanese one and checked against it).
pub const FURIGANA: &str = "ja-furigana";

#[doc(hidden)]
pub mod fixtures;
pub mod headless;

/// The `n`th missing part of a set (0 when there is none).
fn part(missing: &[u8], n: usize) -> i32 {
    missing.get(n).copied().map_or(0, i32::from)
}

fn model<T: Clone + 'static>(items: impl Iterator<Item = T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items.collect::<Vec<T>>()))
}

/// The view model's enums as the `.slint` files' (same variants; both directions are
/// exhaustive matches, so a variant added on one side only does not compile).
macro_rules! same_enum {
    ($name:ident { $($v:ident),* $(,)? }) => {
        impl From<kiosk_core::scene::$name> for generated::$name {
            fn from(v: kiosk_core::scene::$name) -> Self {
                match v { $(kiosk_core::scene::$name::$v => generated::$name::$v),* }
            }
        }
        impl From<generated::$name> for kiosk_core::scene::$name {
            fn from(v: generated::$name) -> Self {
                match v { $(generated::$name::$v => kiosk_core::scene::$name::$v),* }
            }
        }
    };
}

same_enum!(Screen {
    Starting,
    Idle,
    OutOfService,
    ReadingCard,
    Pin,
    Password,
    Checking,
    Borrowing,
    Refused,
    ReceiptChoice,
    Printing,
    Ending,
    AdminPin,
    AdminLocked,
    AdminMenu,
    HandOff,
    LinkWaiting,
    Linking,
    Account,
    Returning,
    Count,
});
same_enum!(RenewStatus { NotAsked, Waiting, Renewed, Refused });
same_enum!(Block { Other, Overdue, Fines, CardLost, TooManyItems, ItemsLost });
same_enum!(AccountStage { Loading, Unavailable, Shown });
same_enum!(HandOffMethod { Digits, Barcode, Keyboard, Label });
same_enum!(Refusal {
    None,
    NotInCatalogue,
    OnHold,
    OnLoan,
    Other,
    NoAnswer,
    Unconfirmed,
    NotCheckedOut,
    OfflineLimit,
    OfflineStopped,
    OfflinePending,
    PartsMissing,
    DuplicateTags,
});
same_enum!(ReturnStatus { Returned, HoldShelf, StaffCheck, Refused });
same_enum!(TypingState { NotStarted, Typing, Typed, NoKeyboard, Untypable, Failed });
same_enum!(LinkStage { Scan, ConfirmCard, ConfirmPatron, Saving });
same_enum!(PinStage { CheckingTries, LastTryWarning, Entering, Verifying, Verified, Locked });
same_enum!(CheckStage { Proving, Validity, Patron, Standing });
same_enum!(AdminPage { Status, Registration, Events, Update, Usage });
same_enum!(UsageKind {
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
});
same_enum!(AdminConfirm { None, Reset, Restart });
same_enum!(UpdatePhase {
    NotReported,
    Unreadable,
    UpToDate,
    Deferred,
    Downloading,
    Installing,
    WaitingForReboot,
    Failed,
    Other,
});
same_enum!(AgentAsk { None, Check, Install, Reboot });
same_enum!(RegistrationPhase {
    NotNeeded,
    NotRegistered,
    Unreadable,
    Registered,
    Expired,
    Unusable,
    Registering,
    RegisteredRestart,
    Failed,
});
same_enum!(CallReason {
    None,
    PatronAsked,
    CardLocked,
    CardLeftBehind,
    PaperOut,
    PrinterFault,
    Malfunction,
    PasswordRefused,
    ItemSecurity,
});
same_enum!(DeviceState {
    Starting,
    Ready,
    Answers,
    NoAnswer,
    NotConfigured,
    NotWorking,
    PaperOut,
    PaperLow,
    CoverOpen,
    OneWay,
    Typed,
    TestPrinted,
    TestPrintFailed,
    Simulated,
    LinksCurrent,
    LinksFromSnapshot,
    LinksFromSnapshotHours,
    SnapshotRefused,
    NoLinks,
    OfflineNone,
    OfflineWaiting,
    OfflineRefused,
    TagsOnPad,
    Desensitized,
    SoundReady,
    SoundTonesOnly,
});
same_enum!(Notice {
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
    ReturnsDone,
    LabelUsed,
    LibraryCardNotAccepted,
    PasswordRefused,
});
same_enum!(Device {
    Reader,
    Printer,
    Platform,
    LibrarySystem,
    Network,
    Update,
    Keyboard,
    LinkStore,
    OfflineLoans,
    RfidPad,
    Desensitizer,
    Sound,
    Keypad,
});
same_enum!(EventKind {
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
    CardReissued,
    ReturnsStarted,
    ReturnsEnded,
    PasswordRejected,
    TagIgnored,
    SecurityNotSet,
});

impl From<&LoanRow> for generated::LoanRow {
    fn from(r: &LoanRow) -> Self {
        generated::LoanRow {
            number: int(r.number),
            title: r.title.as_str().into(),
            item: r.item.as_str().into(),
            due: r.due.as_str().into(),
            has_due_date: r.due_date.is_some(),
            due_month: date_part(r.due_date, |d| d.month),
            due_day: date_part(r.due_date, |d| d.day),
            due_weekday: date_part(r.due_date, |d| d.weekday),
            refusal: r.refusal.into(),
            message: r.message.as_str().into(),
            renewed: r.renewed,
            unsecured: r.unsecured,
            missing_count: int(r.missing.len()),
            missing_first: part(&r.missing, 0),
            missing_second: part(&r.missing, 1),
            parts: int(r.parts),
        }
    }
}

impl From<&AccountRow> for generated::AccountRow {
    fn from(r: &AccountRow) -> Self {
        generated::AccountRow {
            number: int(r.number),
            title: r.title.as_str().into(),
            item: r.item.as_str().into(),
            due: r.due.as_str().into(),
            has_due_date: r.due_date.is_some(),
            due_month: date_part(r.due_date, |d| d.month),
            due_day: date_part(r.due_date, |d| d.day),
            due_weekday: date_part(r.due_date, |d| d.weekday),
            overdue: r.overdue,
            can_renew: r.can_renew,
            renew: r.renew.into(),
            new_due: r.new_due.as_str().into(),
            has_new_due_date: r.new_due_date.is_some(),
            new_due_month: date_part(r.new_due_date, |d| d.month),
            new_due_day: date_part(r.new_due_date, |d| d.day),
            new_due_weekday: date_part(r.new_due_date, |d| d.weekday),
            refusal: r.refusal.into(),
            message: r.message.as_str().into(),
        }
    }
}

impl From<&ReturnRow> for generated::ReturnRow {
    fn from(r: &ReturnRow) -> Self {
        generated::ReturnRow {
            number: int(r.number),
            title: r.title.as_str().into(),
            item: r.item.as_str().into(),
            status: r.status.into(),
            shelf: r.shelf.as_str().into(),
            refusal: r.refusal.into(),
            message: r.message.as_str().into(),
            missing_count: int(r.missing.len()),
            missing_first: part(&r.missing, 0),
            missing_second: part(&r.missing, 1),
            parts: int(r.parts),
        }
    }
}

impl From<&HoldRow> for generated::HoldRow {
    fn from(h: &HoldRow) -> Self {
        generated::HoldRow {
            title: h.title.as_str().into(),
            pickup: h.pickup.as_str().into(),
            until: h.until.as_str().into(),
            has_until_date: h.until_date.is_some(),
            until_month: date_part(h.until_date, |d| d.month),
            until_day: date_part(h.until_date, |d| d.day),
            until_weekday: date_part(h.until_date, |d| d.weekday),
        }
    }
}

impl From<&StatusRow> for generated::StatusRow {
    fn from(r: &StatusRow) -> Self {
        generated::StatusRow {
            device: r.device.into(),
            ok: r.state.ok(),
            state: r.state.into(),
            value: r.value,
            detail: r.detail.as_str().into(),
        }
    }
}

impl From<&OfflineRow> for generated::OfflineRow {
    fn from(r: &OfflineRow) -> Self {
        generated::OfflineRow {
            item: r.item.as_str().into(),
            lent_at: r.lent_at.as_str().into(),
            why: r.why.into(),
        }
    }
}

impl From<&UsageBar> for generated::UsageBar {
    fn from(b: &UsageBar) -> Self {
        generated::UsageBar {
            label: b.label.as_str().into(),
            value: b.value,
            height: b.height,
            today: b.today,
        }
    }
}

impl From<&UsageRow> for generated::UsageRow {
    fn from(r: &UsageRow) -> Self {
        generated::UsageRow { what: r.what.into(), today: r.today, fortnight: r.fortnight }
    }
}

impl From<&EventRow> for generated::EventRow {
    fn from(r: &EventRow) -> Self {
        generated::EventRow { time: r.time.as_str().into(), kind: r.kind.into(), a: r.a, b: r.b }
    }
}

/// One part of a date the screen words (0 when there is no date: the screen then shows
/// the library system's text).
fn date_part(d: Option<kiosk_core::scene::DueDate>, part: impl Fn(kiosk_core::scene::DueDate) -> u8) -> i32 {
    d.map_or(0, |d| i32::from(part(d)))
}

fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// Puts the scene on the window (and selects its language).
pub fn apply(this: &Scene, window: &AppWindow) {
    {
        // Fails only if the catalogue is missing, which the build makes impossible.
        // Furigana: the patron's Japanese screens from their catalogue with readings (the
        // staff's pages stay plain).
        let staff = matches!(
            this.screen,
            Screen::AdminPin
                | Screen::AdminLocked
                | Screen::AdminMenu
                | Screen::HandOff
                | Screen::LinkWaiting
                | Screen::Linking
        );
        let furigana = this.furigana && this.language == Language::Japanese && !staff;
        let bundle = if furigana { FURIGANA } else { this.language.code() };
        let _ = slint::select_bundled_translation(bundle);
        let k = window.global::<Kiosk<'_>>();
        k.set_screen(this.screen.into());
        k.set_library_name(SharedString::from(this.library_name.as_str()));
        k.set_card_name(SharedString::from(this.card_name.as_str()));
        k.set_language_choice(this.languages.len() > 1);
        k.set_languages(model(this.languages.iter().map(|l| generated::LanguageItem {
            code: SharedString::from(l.code()),
            endonym: SharedString::from(words::endonym(*l)),
        })));
        k.set_language(SharedString::from(this.language.code()));
        k.set_language_name(SharedString::from(words::endonym(this.language)));
        k.set_languages_open(this.languages_open);
        k.set_pin_stage(this.pin_stage.into());
        k.set_pin_entered(int(this.pin_entered));
        k.set_tries_left(this.tries_left.map_or(-1, int));
        k.set_last_wrong(this.last_wrong);
        k.set_key_order(model(this.key_order.iter().copied().map(i32::from)));
        k.set_check_stage(this.check_stage.into());
        k.set_check_slow(this.check_slow);
        k.set_loans(model(this.loans.iter().map(generated::LoanRow::from)));
        k.set_borrowed(int(this.borrowed));
        k.set_refused(int(this.refused));
        k.set_unsecured(int(this.unsecured));
        k.set_count_seen(int(this.count_seen));
        k.set_count_said(i32::from(this.count_said));
        k.set_rfid_pad(this.rfid_pad);
        k.set_pad_fault(this.pad_fault);
        k.set_waiting(int(this.waiting));
        k.set_finishing(this.finishing);
        k.set_can_print_label(this.can_print_label);
        k.set_can_open_account(this.can_open_account);
        k.set_offline(this.offline);
        k.set_can_print_account_receipt(this.can_print_account_receipt);
        k.set_focus(this.focus.as_str().into());
        k.set_can_return(this.can_return);
        k.set_library_card_login(this.library_card_login);
        k.set_returns(model(this.returns.iter().map(generated::ReturnRow::from)));
        k.set_returned(int(this.returned));
        let a = &this.account;
        k.set_account_stage(a.stage.into());
        k.set_account_rows(model(a.rows.iter().map(generated::AccountRow::from)));
        k.set_account_loans(int(a.loans));
        k.set_account_overdue(int(a.overdue));
        k.set_account_holds(model(a.holds.iter().map(generated::HoldRow::from)));
        k.set_account_blocks(model(a.blocks.iter().map(|b| generated::Block::from(*b))));
        k.set_account_message(SharedString::from(a.message.as_str()));
        k.set_account_incomplete(a.incomplete);
        k.set_account_renewing(int(a.renewing));
        k.set_account_can_borrow(a.can_borrow);
        k.set_can_renew_all(a.can_renew_all);
        k.set_account_page(int(a.page));
        k.set_account_pages(int(a.pages));
        k.set_printing_label(this.printing_label);
        k.set_notice(this.notice.into());
        k.set_notice_detail(SharedString::from(this.notice_detail.as_str()));
        k.set_card_present(this.card_present);
        k.set_timeout_seconds(this.timeout_seconds.map_or(-1, int));
        k.set_paper_out(this.paper_out);
        k.set_staff_called(this.staff_called);
        k.set_call_reason(this.call_reason.into());
        k.set_demo_mode(this.demo_mode);
        k.set_demo_card_on_reader(this.demo_card_on_reader);
        k.set_japanese(this.language == Language::Japanese);
        k.set_large_text(this.large_text);
        k.set_furigana(furigana);
        k.set_high_contrast(this.high_contrast);
        k.set_admin_entered(int(this.admin_entered));
        k.set_admin_failures(int(this.admin_failures));
        k.set_admin_max_failures(int(this.admin_max_failures));
        k.set_admin_locked_seconds(int(this.admin_locked_seconds));
        k.set_admin_checking(this.admin_checking);
        k.set_admin_page(this.admin_page.into());
        k.set_admin_confirm(this.admin_confirm.into());
        k.set_status_rows(model(this.status_rows.iter().map(generated::StatusRow::from)));
        k.set_offline_refused(model(this.offline_refused.iter().map(generated::OfflineRow::from)));
        k.set_usage_hours(model(this.usage.hours.iter().map(generated::UsageBar::from)));
        k.set_usage_days(model(this.usage.days.iter().map(generated::UsageBar::from)));
        k.set_usage_rows(model(this.usage.rows.iter().map(generated::UsageRow::from)));
        k.set_usage_csv_address(SharedString::from(this.usage.csv_address.as_str()));
        k.set_recent_events(model(this.recent_events.iter().map(generated::EventRow::from)));
        k.set_version(SharedString::from(this.version.as_str()));
        k.set_update_phase(this.update.phase.into());
        k.set_update_version(SharedString::from(this.update.version.as_str()));
        k.set_update_percent(this.update.percent);
        k.set_update_detail(SharedString::from(this.update.detail.as_str()));
        k.set_update_asked(this.update.asked.into());
        k.set_out_of_service_on(this.out_of_service_on);
        k.set_account_on(this.account_on);
        k.set_returns_on(this.returns_on);
        k.set_terminal_id(SharedString::from(this.terminal_id.as_str()));
        k.set_terminal_fingerprint(SharedString::from(this.terminal_fingerprint.as_str()));
        k.set_registration_phase(this.registration.phase.into());
        k.set_registration_date(SharedString::from(this.registration.date.as_str()));
        k.set_registration_detail(SharedString::from(this.registration.detail.as_str()));
        k.set_counter_mode(this.counter_mode);
        let h = &this.hand_off;
        k.set_hand_off_method(h.method.into());
        k.set_offer_digits(h.offer_digits);
        k.set_offer_barcode(h.offer_barcode);
        k.set_offer_keyboard(h.offer_keyboard);
        k.set_offer_label(h.offer_label);
        k.set_hand_off_number(SharedString::from(h.number.as_str()));
        k.set_hand_off_barcode(h.barcode.as_ref().map_or_else(slint::Image::default, gray_image));
        k.set_hand_off_seconds(int(h.seconds));
        k.set_typing_state(h.typing.into());
        k.set_link_stage(this.link.stage.into());
        k.set_link_current(SharedString::from(this.link.current.as_str()));
        k.set_link_new(SharedString::from(this.link.new.as_str()));
        k.set_link_bad_scan(this.link.bad_scan);
    }
}

fn gray_image(g: &Gray) -> slint::Image {
    let mut buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(g.width, g.height);
    for (px, &v) in buffer.make_mut_slice().iter_mut().zip(&g.pixels) {
        *px = slint::Rgb8Pixel { r: v, g: v, b: v };
    }
    slint::Image::from_rgb8(buffer)
}

/// Calls `f` with every tap, parsed. Unknown names are reported to `f` as `Err(name)`.
pub fn on_action(window: &AppWindow, f: impl Fn(Result<UiAction, String>) + 'static) {
    window.global::<Kiosk<'_>>().on_action(move |name| {
        f(UiAction::parse(&name).ok_or_else(|| name.to_string()));
    });
}

/// Keeps a weak handle to the window for callbacks.
#[must_use]
pub fn weak(window: &AppWindow) -> slint::Weak<AppWindow> {
    window.as_weak()
}

/// The screens are drawn for 1280×800. This is the scale that makes a screen of another
/// size show the same layout: 0.75 on a 1024×600 panel (its logical size 1365×800), 1.35
/// on a 1920×1080 one. Fonts are rasterised at the physical size, so nothing is blurred.
#[must_use]
pub fn fit_scale(physical: slint::PhysicalSize) -> f32 {
    let (w, h) = (physical.width as f32 / 1280.0, physical.height as f32 / 800.0);
    let s = w.min(h);
    if s.is_finite() && s > 0.0 { s } else { 1.0 }
}

/// Sets the window's scale for its current size ([`fit_scale`]), when it is not already
/// that; call once the window knows its size, and again when the size changes.
pub fn fit_to_screen(window: &AppWindow) {
    let w = window.window();
    let physical = w.size();
    let scale = fit_scale(physical);
    if (w.scale_factor() - scale).abs() > 0.001 {
        w.dispatch_event(slint::platform::WindowEvent::ScaleFactorChanged { scale_factor: scale });
        // The layout's size in logical pixels follows only when told.
        w.dispatch_event(slint::platform::WindowEvent::Resized { size: physical.to_logical(scale) });
    }
}
