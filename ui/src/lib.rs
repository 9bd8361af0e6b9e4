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
//! [`UiAction`]s to flow events (`kiosk/src/ui_bridge.rs`).

#[allow(missing_debug_implementations, rust_2018_idioms, clippy::all, clippy::pedantic, clippy::restriction)]
mod generated {
    slint::include_modules!();
}

pub use generated::{
    AdminPage, AppWindow, CheckStage, Device, EventKind, EventRow, HandOffMethod, Kiosk, LinkStage, LoanRow,
    Notice, PinStage, Screen, StatusRow, TypingState,
};
pub use slint;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

#[doc(hidden)]
pub mod fixtures;
pub mod headless;

/// The languages the UI speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Japanese,
    English,
}

impl Language {
    /// The bundled-translation code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Language::Japanese => "ja",
            Language::English => "en",
        }
    }
}

/// Everything a screen shows. `Default` is the start-up screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    pub screen: Screen,
    pub library_name: String,
    pub pin_stage: PinStage,
    pub pin_entered: u8,
    pub tries_left: Option<u8>,
    pub last_wrong: bool,
    pub key_order: [u8; 10],
    pub check_stage: CheckStage,
    pub check_slow: bool,
    pub loans: Vec<LoanRow>,
    /// Lines of `loans` that were lent (not refused).
    pub borrowed: usize,
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
    pub demo_mode: bool,
    pub demo_card_on_reader: bool,
    pub language: Language,
    pub large_text: bool,
    pub high_contrast: bool,
    pub admin_entered: u8,
    pub admin_failures: u8,
    pub admin_max_failures: u8,
    pub admin_locked_seconds: u32,
    pub admin_checking: bool,
    pub admin_page: AdminPage,
    pub status_rows: Vec<StatusRow>,
    pub recent_events: Vec<EventRow>,
    pub version: String,
    pub update_state: String,
    pub out_of_service_on: bool,
    pub terminal_id: String,
    pub terminal_fingerprint: String,
    pub registration_state: String,
    /// Counter mode (what the idle screen and the admin menu offer).
    pub counter_mode: bool,
    pub hand_off: HandOffScene,
    pub link: LinkScene,
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
            pin_stage: PinStage::CheckingTries,
            pin_entered: 0,
            tries_left: None,
            last_wrong: false,
            key_order: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0],
            check_stage: CheckStage::Proving,
            check_slow: false,
            loans: Vec::new(),
            borrowed: 0,
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
            demo_mode: false,
            demo_card_on_reader: false,
            language: Language::Japanese,
            large_text: false,
            high_contrast: false,
            admin_entered: 0,
            admin_failures: 0,
            admin_max_failures: 5,
            admin_locked_seconds: 0,
            admin_checking: false,
            admin_page: AdminPage::Status,
            status_rows: Vec::new(),
            recent_events: Vec::new(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            update_state: String::new(),
            out_of_service_on: false,
            terminal_id: String::new(),
            terminal_fingerprint: String::new(),
            registration_state: String::new(),
            counter_mode: false,
            hand_off: HandOffScene::default(),
            link: LinkScene::default(),
        }
    }
}

fn model<T: Clone + 'static>(items: &[T]) -> ModelRc<T> {
    ModelRc::new(VecModel::from(items.to_vec()))
}

fn int(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

impl Scene {
    /// Puts the scene on the window (and selects its language).
    pub fn apply(&self, window: &AppWindow) {
        // Fails only if the catalogue is missing, which the build makes impossible.
        let _ = slint::select_bundled_translation(self.language.code());
        let k = window.global::<Kiosk<'_>>();
        k.set_screen(self.screen);
        k.set_library_name(SharedString::from(self.library_name.as_str()));
        k.set_pin_stage(self.pin_stage);
        k.set_pin_entered(int(self.pin_entered));
        k.set_tries_left(self.tries_left.map_or(-1, int));
        k.set_last_wrong(self.last_wrong);
        k.set_key_order(model(&self.key_order.map(i32::from)));
        k.set_check_stage(self.check_stage);
        k.set_check_slow(self.check_slow);
        k.set_loans(model(&self.loans));
        k.set_borrowed(int(self.borrowed));
        k.set_waiting(int(self.waiting));
        k.set_finishing(self.finishing);
        k.set_can_print_label(self.can_print_label);
        k.set_printing_label(self.printing_label);
        k.set_notice(self.notice);
        k.set_notice_detail(SharedString::from(self.notice_detail.as_str()));
        k.set_card_present(self.card_present);
        k.set_timeout_seconds(self.timeout_seconds.map_or(-1, int));
        k.set_paper_out(self.paper_out);
        k.set_staff_called(self.staff_called);
        k.set_demo_mode(self.demo_mode);
        k.set_demo_card_on_reader(self.demo_card_on_reader);
        k.set_japanese(self.language == Language::Japanese);
        k.set_large_text(self.large_text);
        k.set_high_contrast(self.high_contrast);
        k.set_admin_entered(int(self.admin_entered));
        k.set_admin_failures(int(self.admin_failures));
        k.set_admin_max_failures(int(self.admin_max_failures));
        k.set_admin_locked_seconds(int(self.admin_locked_seconds));
        k.set_admin_checking(self.admin_checking);
        k.set_admin_page(self.admin_page);
        k.set_status_rows(model(&self.status_rows));
        k.set_recent_events(model(&self.recent_events));
        k.set_version(SharedString::from(self.version.as_str()));
        k.set_update_state(SharedString::from(self.update_state.as_str()));
        k.set_out_of_service_on(self.out_of_service_on);
        k.set_terminal_id(SharedString::from(self.terminal_id.as_str()));
        k.set_terminal_fingerprint(SharedString::from(self.terminal_fingerprint.as_str()));
        k.set_registration_state(SharedString::from(self.registration_state.as_str()));
        k.set_counter_mode(self.counter_mode);
        let h = &self.hand_off;
        k.set_hand_off_method(h.method);
        k.set_offer_digits(h.offer_digits);
        k.set_offer_barcode(h.offer_barcode);
        k.set_offer_keyboard(h.offer_keyboard);
        k.set_offer_label(h.offer_label);
        k.set_hand_off_number(SharedString::from(h.number.as_str()));
        k.set_hand_off_barcode(h.barcode.as_ref().map_or_else(slint::Image::default, gray_image));
        k.set_hand_off_seconds(int(h.seconds));
        k.set_typing_state(h.typing);
        k.set_link_stage(self.link.stage);
        k.set_link_current(SharedString::from(self.link.current.as_str()));
        k.set_link_new(SharedString::from(self.link.new.as_str()));
        k.set_link_bad_scan(self.link.bad_scan);
    }
}

fn gray_image(g: &Gray) -> slint::Image {
    let mut buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(g.width, g.height);
    for (px, &v) in buffer.make_mut_slice().iter_mut().zip(&g.pixels) {
        *px = slint::Rgb8Pixel { r: v, g: v, b: v };
    }
    slint::Image::from_rgb8(buffer)
}

/// A loan line as the borrowing screen shows it.
#[must_use]
pub fn loan_row(title: &str, due: &str, refused: bool, reason: &str) -> LoanRow {
    LoanRow { title: title.into(), due: due.into(), refused, reason: reason.into() }
}

/// A status line of the admin screen.
#[must_use]
pub fn status_row(device: Device, ok: bool, detail: &str) -> StatusRow {
    StatusRow { device, ok, detail: detail.into() }
}

/// A line of the admin screen's recent events.
#[must_use]
pub fn event_row(time: &str, kind: EventKind, a: i32, b: i32) -> EventRow {
    EventRow { time: time.into(), kind, a, b }
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
    NoReceipt,
    StillHere,
    Dismiss,
    ToggleLanguage,
    ToggleLargeText,
    ToggleContrast,
    AdminOpen,
    AdminClose,
    AdminReset,
    AdminPaperLoaded,
    AdminTestPrint,
    AdminToggleService,
    AdminRegister,
    AdminUpdateCheck,
    AdminUpdateInstall,
    AdminReboot,
    AdminPage(AdminPage),
    /// Counter: staff start linking a card.
    AdminLinkCard,
    /// Counter: staff switch the hand-off method.
    Method(HandOffMethod),
    /// Counter: confirm replacing a link.
    LinkConfirm,
    /// Counter: remove the card's link.
    LinkRemove,
    /// Demo mode only: stands in for hardware.
    Demo(DemoControl),
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
            "no-receipt" => UiAction::NoReceipt,
            "still-here" => UiAction::StillHere,
            "dismiss" => UiAction::Dismiss,
            "toggle-language" => UiAction::ToggleLanguage,
            "toggle-large-text" => UiAction::ToggleLargeText,
            "toggle-contrast" => UiAction::ToggleContrast,
            "admin-open" => UiAction::AdminOpen,
            "admin-close" => UiAction::AdminClose,
            "admin-reset" => UiAction::AdminReset,
            "admin-paper-loaded" => UiAction::AdminPaperLoaded,
            "admin-test-print" => UiAction::AdminTestPrint,
            "admin-toggle-service" => UiAction::AdminToggleService,
            "admin-register" => UiAction::AdminRegister,
            "admin-update-check" => UiAction::AdminUpdateCheck,
            "admin-update-install" => UiAction::AdminUpdateInstall,
            "admin-reboot" => UiAction::AdminReboot,
            "admin-page-status" => UiAction::AdminPage(AdminPage::Status),
            "admin-page-events" => UiAction::AdminPage(AdminPage::Events),
            "admin-page-registration" => UiAction::AdminPage(AdminPage::Registration),
            "admin-page-update" => UiAction::AdminPage(AdminPage::Update),
            "admin-link-card" => UiAction::AdminLinkCard,
            "method-digits" => UiAction::Method(HandOffMethod::Digits),
            "method-barcode" => UiAction::Method(HandOffMethod::Barcode),
            "method-keyboard" => UiAction::Method(HandOffMethod::Keyboard),
            "method-label" => UiAction::Method(HandOffMethod::Label),
            "link-confirm" => UiAction::LinkConfirm,
            "link-remove" => UiAction::LinkRemove,
            "demo-card" => UiAction::Demo(DemoControl::Card),
            "demo-scan-book" => UiAction::Demo(DemoControl::ScanBook),
            "demo-scan-library-card" => UiAction::Demo(DemoControl::ScanLibraryCard),
            other => match other.strip_prefix("admin-") {
                Some(rest) => key(rest, Pad::Staff)?,
                None => key(other, Pad::Card)?,
            },
        })
    }
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
