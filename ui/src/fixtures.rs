//! Sample scenes: every screen of the UI with plausible content, shared by the screenshot
//! tests (`tests/screens.rs`) and the benchmark (`kiosk/benches/ui.rs`). Not for the kiosk
//! itself.

use kiosk_core::scene::{
    AccountRow, AccountScene, AccountStage, Block, DueDate, HoldRow, RenewStatus, ReturnRow, ReturnStatus,
};

use crate::{
    AdminConfirm, AdminPage, AgentAsk, CallReason, CheckStage, Device, DeviceState, EventKind, LoanRow,
    Notice, OfflineRow, PinStage, Refusal, RegistrationPhase, RegistrationView, Scene, Screen, StatusRow,
    UpdatePhase, UpdateView, event_row, loan_row, refused_row, status_row,
};

/// The idle screen of a sample library; every sample scene starts from it.
pub fn base() -> Scene {
    Scene { screen: Screen::Idle, library_name: "姫路市立城内図書館".into(), ..Scene::default() }
}

fn admin_status() -> Vec<StatusRow> {
    vec![
        status_row(Device::Reader, DeviceState::Ready, 0, "SONY RC-S380/P"),
        status_row(Device::RfidPad, DeviceState::TagsOnPad, 3, ""),
        status_row(Device::Printer, DeviceState::PaperOut, 0, "paper out"),
        status_row(Device::Platform, DeviceState::Answers, 42, ""),
        status_row(Device::LibrarySystem, DeviceState::NoAnswer, 5, "SIP2 192.0.2.20:6001"),
        status_row(Device::Network, DeviceState::Ready, 0, "eth0 up"),
        status_row(Device::Sound, DeviceState::SoundReady, 70, "plughw:CARD=Headphones"),
        status_row(Device::Update, DeviceState::Ready, 0, ""),
    ]
}

/// An account row due on `due` (`YYYY-MM-DD`).
fn account_row(number: usize, title: &str, due: &str, overdue: bool) -> AccountRow {
    AccountRow {
        number,
        title: title.into(),
        item: format!("97840000000{number:02}"),
        due: due.into(),
        due_date: DueDate::parse(due),
        overdue,
        can_renew: true,
        ..AccountRow::default()
    }
}

/// The account's first page of 50 loans (3 overdue): one renewed, one refused with the
/// library system's words, one waiting; two holds ready.
fn account(blocked: bool) -> AccountScene {
    let renewed = |mut r: AccountRow, due: &str| {
        r.renew = RenewStatus::Renewed;
        r.new_due = due.into();
        r.new_due_date = DueDate::parse(due);
        r.can_renew = false;
        r
    };
    let refused = |mut r: AccountRow, why: Refusal, message: &str| {
        r.renew = RenewStatus::Refused;
        r.refusal = why;
        r.message = message.into();
        r.can_renew = false;
        r
    };
    AccountScene {
        stage: AccountStage::Shown,
        rows: vec![
            renewed(account_row(1, "吾輩は猫である", "2026-11-30", true), "2026-12-20"),
            refused(account_row(2, "こころ", "2026-12-01", true), Refusal::OnHold, ""),
            refused(
                account_row(3, "Norwegian Wood", "2026-12-03", true),
                Refusal::Other,
                "更新回数の上限です",
            ),
            account_row(4, "ポケットモンスター図鑑　第２版", "2026-12-08", false),
        ],
        loans: 50,
        overdue: 2,
        holds: vec![
            HoldRow {
                title: "坊っちゃん".into(),
                pickup: "本館 予約棚".into(),
                until: "2026-12-13".into(),
                until_date: DueDate::parse("2026-12-13"),
            },
            HoldRow {
                title: "Le Piège de Bogota".into(),
                pickup: "本館 予約棚".into(),
                ..HoldRow::default()
            },
        ],
        blocks: if blocked { vec![Block::Overdue, Block::Fines] } else { Vec::new() },
        message: if blocked {
            "延滞資料があります。カウンターへお越しください".into()
        } else {
            String::new()
        },
        can_renew_all: true,
        can_borrow: !blocked,
        page: 0,
        pages: 13,
        ..AccountScene::default()
    }
}

/// Every screen, as the flow would show it, by name (the reference image is
/// `docs/screens/<name>-<language>.png`).
pub fn sample_scenes() -> Vec<(&'static str, Scene)> {
    // Newest first, as the flow lists them.
    let loans = vec![
        refused_row(4, "", "9784003101018", Refusal::Other, "延滞資料があるため貸出できません"),
        refused_row(3, "こころ", "9784041001011", Refusal::OnHold, ""),
        LoanRow { renewed: true, ..loan_row(2, "Norwegian Wood", "2026-12-21") },
        loan_row(1, "吾輩は猫である", "2026-12-21"),
    ];
    let ending = |notice, card_present| Scene { screen: Screen::Ending, notice, card_present, ..base() };
    vec![
        ("starting", Scene { screen: Screen::Starting, ..base() }),
        ("idle", base()),
        ("idle-paper-out", Scene { paper_out: true, staff_called: true, ..base() }),
        ("idle-large-contrast", Scene { large_text: true, high_contrast: true, ..base() }),
        ("idle-demo", Scene { demo_mode: true, ..base() }),
        (
            "language-list",
            Scene { languages: kiosk_core::scene::Language::ALL.to_vec(), languages_open: true, ..base() },
        ),
        ("out-of-service", Scene { screen: Screen::OutOfService, ..base() }),
        ("reading-card", Scene { screen: Screen::ReadingCard, ..base() }),
        (
            "pin",
            Scene {
                screen: Screen::Pin,
                pin_stage: PinStage::Entering,
                pin_entered: 2,
                tries_left: Some(3),
                ..base()
            },
        ),
        (
            "pin-wrong",
            Scene {
                screen: Screen::Pin,
                pin_stage: PinStage::Entering,
                tries_left: Some(2),
                last_wrong: true,
                ..base()
            },
        ),
        (
            "pin-last-try",
            Scene {
                screen: Screen::Pin,
                pin_stage: PinStage::LastTryWarning,
                tries_left: Some(1),
                last_wrong: true,
                ..base()
            },
        ),
        // The language list opened over the last-try warning (which stays up under it).
        (
            "pin-last-try-language-list",
            Scene {
                screen: Screen::Pin,
                pin_stage: PinStage::LastTryWarning,
                tries_left: Some(1),
                last_wrong: true,
                languages: kiosk_core::scene::Language::ALL.to_vec(),
                languages_open: true,
                ..base()
            },
        ),
        (
            "password",
            Scene {
                screen: Screen::Password,
                pin_stage: PinStage::Entering,
                pin_entered: 6,
                tries_left: Some(2),
                last_wrong: true,
                ..base()
            },
        ),
        (
            "password-last-try",
            Scene {
                screen: Screen::Password,
                pin_stage: PinStage::LastTryWarning,
                tries_left: Some(1),
                last_wrong: true,
                ..base()
            },
        ),
        ("password-refused", ending(Notice::PasswordRefused, false)),
        ("library-card-not-accepted", ending(Notice::LibraryCardNotAccepted, false)),
        ("card-locked", Scene { staff_called: true, ..ending(Notice::CardLocked, true) }),
        ("checking", Scene { screen: Screen::Checking, check_stage: CheckStage::Validity, ..base() }),
        (
            "checking-slow",
            Scene { screen: Screen::Checking, check_stage: CheckStage::Validity, check_slow: true, ..base() },
        ),
        ("revoked", ending(Notice::Revoked, true)),
        ("not-linked", ending(Notice::NotLinked, true)),
        ("platform-unavailable", ending(Notice::PlatformUnavailable, true)),
        (
            "borrowing-empty",
            Scene { screen: Screen::Borrowing, can_print_label: true, can_open_account: true, ..base() },
        ),
        (
            "borrowing",
            Scene {
                screen: Screen::Borrowing,
                loans: loans.clone(),
                borrowed: 1,
                refused: 2,
                waiting: 1,
                ..base()
            },
        ),
        (
            "borrowing-offline",
            Scene {
                screen: Screen::Borrowing,
                loans: vec![
                    refused_row(2, "", "7500000008", Refusal::OfflineLimit, ""),
                    LoanRow { item: "7500000001".into(), ..loan_row(1, "", "2026-12-20") },
                ],
                borrowed: 1,
                refused: 1,
                offline: true,
                ..base()
            },
        ),
        ("refused", Scene { screen: Screen::Refused, refused: 2, ..base() }),
        (
            "borrowing-rfid-empty",
            Scene { screen: Screen::Borrowing, rfid_pad: true, can_open_account: true, ..base() },
        ),
        (
            "borrowing-rfid",
            Scene {
                screen: Screen::Borrowing,
                rfid_pad: true,
                loans: vec![
                    LoanRow {
                        number: 4,
                        item: "5000000001".into(),
                        refusal: Refusal::PartsMissing,
                        missing: vec![2, 3],
                        parts: 3,
                        ..LoanRow::default()
                    },
                    LoanRow {
                        number: 3, unsecured: true, ..loan_row(3, "Le Piège de Bogota", "2026-12-20")
                    },
                    LoanRow {
                        number: 2,
                        item: "1000000002".into(),
                        refusal: Refusal::DuplicateTags,
                        ..LoanRow::default()
                    },
                    loan_row(1, "吾輩は猫である", "2026-12-20"),
                ],
                borrowed: 2,
                refused: 2,
                waiting: 2,
                ..base()
            },
        ),
        (
            "borrowing-rfid-fault",
            Scene {
                screen: Screen::Borrowing,
                rfid_pad: true,
                pad_fault: true,
                loans: vec![loan_row(1, "吾輩は猫である", "2026-12-20")],
                borrowed: 1,
                ..base()
            },
        ),
        ("count", Scene { screen: Screen::Count, rfid_pad: true, count_seen: 4, ..base() }),
        (
            "count-mismatch",
            Scene { screen: Screen::Count, rfid_pad: true, count_seen: 4, count_said: 5, ..base() },
        ),
        (
            "refused-unsecured",
            Scene { screen: Screen::Refused, refused: 1, unsecured: 1, borrowed: 2, ..base() },
        ),
        (
            "returning-rfid",
            Scene {
                screen: Screen::Returning,
                rfid_pad: true,
                returns: vec![
                    ReturnRow {
                        number: 2,
                        item: "5000000001".into(),
                        status: ReturnStatus::Refused,
                        refusal: Refusal::PartsMissing,
                        missing: vec![2],
                        parts: 2,
                        ..ReturnRow::default()
                    },
                    ReturnRow { number: 1, title: "こころ".into(), ..ReturnRow::default() },
                ],
                returned: 1,
                refused: 1,
                ..base()
            },
        ),
        ("account", Scene { screen: Screen::Account, account: account(false), ..base() }),
        ("idle-returns", Scene { can_return: true, ..base() }),
        (
            "returning",
            Scene {
                screen: Screen::Returning,
                returns: vec![
                    ReturnRow {
                        number: 4,
                        item: "9784003101018".into(),
                        status: ReturnStatus::Refused,
                        refusal: Refusal::NotCheckedOut,
                        ..ReturnRow::default()
                    },
                    ReturnRow {
                        number: 3,
                        title: "Le Piège de Bogota".into(),
                        status: ReturnStatus::StaffCheck,
                        message: "他館の資料です".into(),
                        ..ReturnRow::default()
                    },
                    ReturnRow {
                        number: 2,
                        title: "こころ".into(),
                        status: ReturnStatus::HoldShelf,
                        shelf: "本館 予約棚".into(),
                        ..ReturnRow::default()
                    },
                    ReturnRow { number: 1, title: "吾輩は猫である".into(), ..ReturnRow::default() },
                ],
                returned: 3,
                refused: 1,
                waiting: 1,
                ..base()
            },
        ),
        ("returns-done", ending(Notice::ReturnsDone, false)),
        ("account-blocked", Scene { screen: Screen::Account, account: account(true), ..base() }),
        (
            "account-loading",
            Scene {
                screen: Screen::Account,
                account: AccountScene { pages: 1, ..AccountScene::default() },
                ..base()
            },
        ),
        (
            "account-unavailable",
            Scene {
                screen: Screen::Account,
                account: AccountScene {
                    stage: AccountStage::Unavailable,
                    pages: 1,
                    ..AccountScene::default()
                },
                ..base()
            },
        ),
        (
            "receipt-choice",
            Scene { screen: Screen::ReceiptChoice, can_print_account_receipt: true, ..base() },
        ),
        // The tactile keypad has chosen "No receipt": framed (and named aloud).
        (
            "receipt-choice-keypad",
            Scene {
                screen: Screen::ReceiptChoice,
                can_print_account_receipt: true,
                focus: "no-receipt".into(),
                ..base()
            },
        ),
        ("printing", Scene { screen: Screen::Printing, ..base() }),
        ("label-printed", ending(Notice::LabelPrinted, true)),
        ("goodbye-take-card", ending(Notice::ReceiptPrinted, true)),
        ("label-wrong-day", ending(Notice::LabelWrongDay, false)),
        ("label-used", ending(Notice::LabelUsed, false)),
        (
            "patron-blocked",
            Scene {
                notice_detail: "延滞中の資料があります。".into(), ..ending(Notice::PatronBlocked, true)
            },
        ),
        (
            "timeout-warning",
            Scene {
                screen: Screen::Borrowing,
                loans,
                borrowed: 1,
                refused: 2,
                timeout_seconds: Some(12),
                ..base()
            },
        ),
        (
            "printer-out-of-paper",
            Scene { staff_called: true, paper_out: true, ..ending(Notice::PaperOut, true) },
        ),
        ("admin-pin", Scene { screen: Screen::AdminPin, admin_entered: 3, admin_failures: 1, ..base() }),
        ("admin-locked", Scene { screen: Screen::AdminLocked, admin_locked_seconds: 287, ..base() }),
        (
            "admin-menu",
            Scene {
                screen: Screen::AdminMenu,
                status_rows: admin_status(),
                version: "0.1.0".into(),
                staff_called: true,
                call_reason: CallReason::PaperOut,
                ..base()
            },
        ),
        (
            "admin-offline-refused",
            Scene {
                screen: Screen::AdminMenu,
                status_rows: {
                    let mut rows = admin_status();
                    rows.insert(4, status_row(Device::OfflineLoans, DeviceState::OfflineRefused, 2, ""));
                    rows
                },
                offline_refused: vec![
                    OfflineRow {
                        item: "7500000005".into(),
                        lent_at: "2026-12-06 10:42".into(),
                        why: Refusal::OnHold,
                    },
                    OfflineRow {
                        item: "7500000012".into(),
                        lent_at: "2026-12-06 11:03".into(),
                        why: Refusal::Other,
                    },
                ],
                version: "0.1.0".into(),
                ..base()
            },
        ),
        (
            "admin-confirm-reset",
            Scene {
                screen: Screen::AdminMenu,
                status_rows: admin_status(),
                admin_confirm: AdminConfirm::Reset,
                ..base()
            },
        ),
        (
            "admin-events",
            Scene {
                screen: Screen::AdminMenu,
                admin_page: AdminPage::Events,
                recent_events: vec![
                    event_row("10:02", EventKind::SessionStarted, 0, 0),
                    event_row("10:02", EventKind::PinRejected, 2, 0),
                    event_row("10:02", EventKind::CardReissued, 0, 0),
                    event_row("10:03", EventKind::SessionEnded, 3, 1),
                    event_row("10:05", EventKind::StaffCalled, CallReason::PatronAsked.code().into(), 0),
                    event_row("10:09", EventKind::StaffLogin, 0, 0),
                ],
                ..base()
            },
        ),
        (
            "admin-usage",
            Scene { screen: Screen::AdminMenu, admin_page: AdminPage::Usage, usage: usage(), ..base() },
        ),
        (
            "admin-registration",
            Scene {
                screen: Screen::AdminMenu,
                admin_page: AdminPage::Registration,
                terminal_id: "HIMEJI-LIB-07".into(),
                terminal_fingerprint: "9f2c…41ab".into(),
                registration: RegistrationView {
                    phase: RegistrationPhase::Registered,
                    date: "2027-11-01".into(),
                    detail: String::new(),
                },
                ..base()
            },
        ),
        (
            "admin-update",
            Scene {
                screen: Screen::AdminMenu,
                admin_page: AdminPage::Update,
                version: "0.1.0".into(),
                update: UpdateView {
                    phase: UpdatePhase::WaitingForReboot,
                    version: "0.1.1".into(),
                    asked: AgentAsk::Check,
                    ..UpdateView::default()
                },
                ..base()
            },
        ),
    ]
}

/// A fortnight at a branch library: closed on Mondays, busier at weekends; today until
/// early afternoon.
fn usage() -> kiosk_core::scene::UsageView {
    use kiosk_core::usage::{Counter, Counts, Day, Hours, SessionKind, view};
    let mut hours = Hours::default();
    let first = 493_000;
    let days: Vec<Day> = (0..14u32)
        .map(|i| Day {
            day_of_month: u8::try_from((i + 22) % 30 + 1).unwrap_or(1),
            first_hour: first + i * 24,
        })
        .collect();
    for (i, day) in days.iter().enumerate() {
        let busy: u32 = [0, 3, 4, 2, 5, 8, 9][i % 7] + u32::try_from(i / 7).unwrap_or(0);
        let open = if i == 13 { 9..14 } else { 9..19 };
        for h in open {
            if busy == 0 {
                continue;
            }
            let loans = busy + (h * 7 + u32::try_from(i).unwrap_or(0) * 3) % 5 + u32::from(h == 11) * 3;
            let mut c = Counts::default();
            c.add(Counter::Loans, loans);
            c.add(Counter::Sessions(SessionKind::MyNumberCard), loans / 3 + 1);
            c.add(Counter::Sessions(SessionKind::LibraryCard), loans / 4);
            c.add(Counter::Sessions(SessionKind::Returns), 1);
            c.add(Counter::Returns, loans / 2);
            c.add(Counter::Renewals, h % 3);
            c.add(Counter::Refusals(kiosk_core::flow::RefusalKind::OnHold), u32::from(h % 4 == 0));
            hours.add(day.first_hour + h, &c);
        }
    }
    view(&hours, &days, "https://kiosk-07:9464/usage.csv")
}
