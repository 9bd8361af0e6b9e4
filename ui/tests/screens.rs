//! Every screen, in Japanese and English, rendered headlessly with the software renderer
//! and compared with the reference images in `docs/screens/` (which the README shows).
//!
//! To accept a deliberate change: `KIOSK_UPDATE_SCREENSHOTS=1 cargo test -p kiosk-ui`,
//! then look at every changed image before committing it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use kiosk_ui::headless::{Headless, Shot};
use kiosk_ui::{
    AdminPage, CheckStage, Device, EventKind, Language, Notice, PinStage, Scene, Screen, UiAction, event_row,
    loan_row, status_row,
};

fn base() -> Scene {
    Scene { screen: Screen::Idle, library_name: "姫路市立城内図書館".into(), ..Scene::default() }
}

fn admin_status() -> Vec<kiosk_ui::StatusRow> {
    vec![
        status_row(Device::Reader, true, "SONY RC-S380/P"),
        status_row(Device::Printer, false, "paper out"),
        status_row(Device::Platform, true, "42 ms"),
        status_row(Device::LibrarySystem, true, "SIP2, 18 ms"),
        status_row(Device::Network, true, "eth0 192.0.2.15"),
        status_row(Device::Update, true, "0.1.0"),
    ]
}

/// Every screen of the issue, as the flow would show it.
fn scenes() -> Vec<(&'static str, Scene)> {
    let loans = vec![
        loan_row("吾輩は猫である", "2026-12-07", false, ""),
        loan_row("Norwegian Wood", "2026-12-07", false, ""),
        loan_row("こころ", "", true, "予約資料のため貸出できません"),
    ];
    let ending = |notice, card_present| Scene { screen: Screen::Ending, notice, card_present, ..base() };
    vec![
        ("starting", Scene { screen: Screen::Starting, ..base() }),
        ("idle", base()),
        ("idle-paper-out", Scene { paper_out: true, staff_called: true, ..base() }),
        ("idle-large-contrast", Scene { large_text: true, high_contrast: true, ..base() }),
        ("idle-demo", Scene { demo_mode: true, ..base() }),
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
        ("card-locked", Scene { staff_called: true, ..ending(Notice::CardLocked, true) }),
        ("checking", Scene { screen: Screen::Checking, check_stage: CheckStage::Validity, ..base() }),
        (
            "checking-slow",
            Scene { screen: Screen::Checking, check_stage: CheckStage::Validity, check_slow: true, ..base() },
        ),
        ("revoked", ending(Notice::Revoked, true)),
        ("not-linked", ending(Notice::NotLinked, true)),
        ("platform-unavailable", ending(Notice::PlatformUnavailable, true)),
        ("borrowing-empty", Scene { screen: Screen::Borrowing, can_print_label: true, ..base() }),
        (
            "borrowing",
            Scene { screen: Screen::Borrowing, loans: loans.clone(), borrowed: 2, waiting: 1, ..base() },
        ),
        ("receipt-choice", Scene { screen: Screen::ReceiptChoice, ..base() }),
        ("printing", Scene { screen: Screen::Printing, ..base() }),
        ("label-printed", ending(Notice::LabelPrinted, true)),
        ("goodbye-take-card", ending(Notice::ReceiptPrinted, true)),
        ("label-wrong-day", ending(Notice::LabelWrongDay, false)),
        (
            "patron-blocked",
            Scene {
                notice_detail: "延滞中の資料があります。".into(), ..ending(Notice::PatronBlocked, true)
            },
        ),
        (
            "timeout-warning",
            Scene { screen: Screen::Borrowing, loans, borrowed: 2, timeout_seconds: Some(12), ..base() },
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
                    event_row("10:03", EventKind::SessionEnded, 3, 1),
                    event_row("10:05", EventKind::StaffCalled, 0, 0),
                    event_row("10:09", EventKind::StaffLogin, 0, 0),
                ],
                ..base()
            },
        ),
        (
            "admin-registration",
            Scene {
                screen: Screen::AdminMenu,
                admin_page: AdminPage::Registration,
                terminal_id: "HIMEJI-LIB-07".into(),
                terminal_fingerprint: "9f2c…41ab".into(),
                registration_state: "Registered on 2026-11-01".into(),
                ..base()
            },
        ),
        (
            "admin-update",
            Scene {
                screen: Screen::AdminMenu,
                admin_page: AdminPage::Update,
                version: "0.1.0".into(),
                update_state: "0.1.1 downloaded; installs when the kiosk is idle".into(),
                ..base()
            },
        ),
    ]
}

fn references() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

/// Colour distance a pixel may have (font hinting across library versions), and the
/// share of pixels that may exceed it.
const THRESHOLD: u8 = 40;
const MAX_DIFFERING: f64 = 0.002;

#[test]
fn every_screen_in_both_languages_matches_its_reference() {
    let update = std::env::var_os("KIOSK_UPDATE_SCREENSHOTS").is_some();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&out).unwrap();
    let ui = Headless::new(1280, 800).unwrap();
    let mut failures = Vec::new();
    let sizes: [(u32, u32, &[&str]); 2] =
        [(1280, 800, &[]), (1024, 600, &["idle", "pin", "borrowing", "card-locked", "admin-menu"])];
    for (w, h, only) in sizes {
        ui.resize(w, h);
        for language in [Language::Japanese, Language::English] {
            for (name, scene) in scenes() {
                if !only.is_empty() && !only.contains(&name) {
                    continue;
                }
                let file = format!(
                    "{name}-{}{}.png",
                    language.code(),
                    if w == 1280 { String::new() } else { format!("-{w}x{h}") }
                );
                let shot = ui.render(&Scene { language, ..scene }).unwrap();
                assert_eq!((shot.width, shot.height), (w, h));
                shot.save_png(&out.join(&file)).unwrap();
                let reference = references().join(&file);
                if update {
                    shot.save_png(&reference).unwrap();
                    continue;
                }
                match Shot::load_png(&reference) {
                    Ok(r) => {
                        let d = shot.difference(&r, THRESHOLD);
                        if d > MAX_DIFFERING {
                            failures.push(format!(
                                "{file}: {:.2} % of pixels differ (see {})",
                                d * 100.0,
                                out.join(&file).display()
                            ));
                        }
                    }
                    Err(e) => failures.push(format!("{file}: no reference ({e})")),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "screens differ from docs/screens/ (KIOSK_UPDATE_SCREENSHOTS=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_languages_really_differ_and_the_layout_is_not_empty() {
    let ui = Headless::new(1280, 800).unwrap();
    let ja = ui.render(&Scene { language: Language::Japanese, ..base() }).unwrap();
    let en = ui.render(&Scene { language: Language::English, ..base() }).unwrap();
    assert!(ja.difference(&en, THRESHOLD) > 0.01, "the Japanese and English idle screens look the same");
    let contrast = ui.render(&Scene { high_contrast: true, ..base() }).unwrap();
    assert!(ja.difference(&contrast, THRESHOLD) > 0.5, "high contrast must change most of the screen");
}

#[test]
fn a_tap_anywhere_on_the_timeout_warning_means_still_here() {
    let ui = Headless::new(1280, 800).unwrap();
    let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = got.clone();
    kiosk_ui::on_action(&ui.ui, move |a| sink.borrow_mut().push(a));
    ui.render(&Scene { screen: Screen::Borrowing, timeout_seconds: Some(9), ..base() }).unwrap();
    ui.tap(40.0, 700.0);
    assert_eq!(got.borrow().as_slice(), &[Ok(UiAction::StillHere)]);
}
