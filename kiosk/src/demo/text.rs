//! The demo's scripted journeys as text: what each step was, which effects the kiosk's
//! orchestrator carried out, and what the screen shows after it. A newcomer (and a test)
//! sees what the kiosk decides without a display.

use std::io::Write;
use std::path::{Path, PathBuf};

use kiosk_core::scene::{AccountStage, Notice, PinStage, Refusal, RenewStatus, ReturnStatus, Scene, Screen};
use kiosk_printer::token::{self, LabelDate};

use super::script::{self, Step};
use super::{BOOKS, DEMO_PATRON, DemoKiosk};
use crate::config::Config;
use crate::error::KioskError;

/// What the scripted run ended with, for tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Books the library system lent.
    pub borrowed: u64,
    /// Books the library system refused.
    pub refused: u64,
    pub receipts_printed: usize,
    pub labels_printed: usize,
    pub labels_refused: usize,
    /// PIN verifications the card received.
    pub verify_commands: usize,
    pub ended_idle: bool,
    /// The pages the virtual printer rendered (PNG files).
    pub pages: Vec<PathBuf>,
}

/// One step of the journeys: a script step, or a Method D label printed on `day`.
enum Move {
    Step(Step),
    Label(Day),
}

#[derive(Clone, Copy)]
enum Day {
    Today,
    Yesterday,
}

fn pin(digits: &str) -> Move {
    Move::Step(Step::Pin(digits.to_owned()))
}

fn tap(button: &str) -> Move {
    Move::Step(Step::Tap(button.to_owned()))
}

fn scan(code: &str) -> Move {
    Move::Step(Step::Scan(code.to_owned()))
}

fn wait(seconds: u64) -> Move {
    Move::Step(Step::Wait(std::time::Duration::from_secs(seconds)))
}

/// The journeys:
/// 1. a patron borrows books: one wrong PIN, the right one, four books (one refused), a
///    receipt, card off;
/// 2. a patron prints a Method D label for another self-checkout machine;
/// 3. that label is scanned here the same day and lends a book;
/// 4. yesterday's label is refused;
/// 5. a card patron opens the account, renews everything that can be, and
///    prints a receipt of the renewals;
/// 6. someone returns two books without a card: one back to the shelf, one another
///    patron reserved, to the hold shelf.
fn journeys() -> Vec<(&'static str, Vec<Move>)> {
    let (card_on, card_off) = (Move::Step(Step::CardOn), Move::Step(Step::CardOff));
    let mut borrow = vec![card_on, wait(1), pin("9999"), wait(1), pin("1234"), wait(4)];
    for (code, _) in BOOKS.iter().take(4) {
        borrow.extend([scan(code), wait(1)]);
    }
    // Finish: the refused book is named first ("take it to the counter"), then the receipt.
    borrow.extend([
        tap("finish"),
        tap("dismiss"),
        tap("print-receipt"),
        wait(2),
        Move::Step(Step::CardOff),
        wait(1),
    ]);
    let label = vec![
        Move::Step(Step::CardOn),
        wait(1),
        pin("1234"),
        wait(4),
        tap("print-label"),
        wait(2),
        card_off,
        wait(1),
    ];
    let same_day = vec![
        Move::Label(Day::Today),
        wait(1),
        scan(BOOKS[4].0),
        wait(1),
        tap("finish"),
        tap("no-receipt"),
        tap("dismiss"),
        wait(1),
    ];
    let stale = vec![Move::Label(Day::Yesterday), wait(1), tap("dismiss"), wait(1)];
    // The account is private: the card and its PIN, not the library card's barcode.
    let account = vec![
        Move::Step(Step::CardOn),
        wait(1),
        pin("1234"),
        wait(4),
        tap("account"),
        wait(6),
        tap("renew-all"),
        wait(6),
        tap("dismiss"),
        tap("finish"),
        tap("print-receipt"),
        wait(2),
        Move::Step(Step::CardOff),
        wait(1),
    ];
    let returns = vec![
        tap("return"),
        scan(BOOKS[0].0),
        wait(1),
        scan(super::ACCOUNT_LOANS[2].0),
        wait(1),
        tap("finish"),
        tap("dismiss"),
        wait(1),
    ];
    vec![
        ("1. A patron borrows books", borrow),
        ("2. A patron prints a Method D label", label),
        ("3. The label is scanned here, the same day", same_day),
        ("4. Yesterday's label is refused", stale),
        ("5. A patron renews from the account", account),
        ("6. Books are returned, no card needed", returns),
    ]
}

/// Runs the journeys on the demo kiosk, writing what happens to `out` and the printed
/// pages to `pages`.
///
/// # Errors
/// Writing to `out`, or a demo device that cannot start.
pub fn run(out: &mut dyn Write, config: &Config, pages: &Path) -> Result<DemoSummary, KioskError> {
    let write_err = |source| KioskError::DemoOutput { what: "the text output".to_owned(), source };
    if kiosk_sim::printer::load_font().is_none() {
        writeln!(
            out,
            "(no Japanese font at {}: printed text is drawn as boxes)",
            kiosk_sim::printer::FONT_PATH
        )
        .map_err(write_err)?;
    }
    let mut kiosk = DemoKiosk::start(config, pages)?;
    let mut summary = DemoSummary::default();
    writeln!(
        out,
        "kiosk demo: the kiosk's orchestrator on a simulated card, platform, library system and printer"
    )
    .and_then(|()| writeln!(out, "screen  {}", describe(&kiosk.scene())))
    .map_err(write_err)?;
    kiosk.world().take_effects();
    let (today, _) = crate::clock::local_now();
    for (title, moves) in journeys() {
        writeln!(out, "\n== {title} ==").map_err(write_err)?;
        for m in moves {
            let name = match m {
                Move::Step(step) => script::play(&mut kiosk, &step),
                Move::Label(day) => {
                    let printed = match day {
                        Day::Today => today,
                        Day::Yesterday => previous_day(today),
                    };
                    let label = kiosk.world().label_key().and_then(|key| {
                        token::sign(DEMO_PATRON, printed, &config.job_settings().kiosk_id, key).ok()
                    });
                    kiosk.scan(label.as_ref().map_or("not a label", |l| l.as_str()));
                    "scan a Method D label".to_owned()
                }
            };
            let scene = kiosk.scene();
            writeln!(out, "step    {name}").map_err(write_err)?;
            for line in kiosk.world().take_effects() {
                writeln!(out, "  effect {line}").map_err(write_err)?;
            }
            writeln!(out, "screen  {}", describe(&scene)).map_err(write_err)?;
            count(&mut summary, &name, &scene);
        }
    }
    let world = kiosk.world();
    (summary.borrowed, summary.refused) = world.checkouts();
    summary.verify_commands = world.pin_verifications();
    summary.pages = world.pages();
    summary.ended_idle = kiosk.scene().screen == Screen::Idle;
    writeln!(
        out,
        "done: {} borrowed, {} refused, {} receipt(s), {} label(s), {} label(s) refused, {} VERIFY command(s), back to idle: {}",
        summary.borrowed,
        summary.refused,
        summary.receipts_printed,
        summary.labels_printed,
        summary.labels_refused,
        summary.verify_commands,
        summary.ended_idle
    )
    .map_err(write_err)?;
    for page in &summary.pages {
        writeln!(out, "printed page: {}", page.display()).map_err(write_err)?;
    }
    Ok(summary)
}

/// Counts what a step's screen shows: a printed receipt or label (once, on the step it
/// first shows), a refused label.
fn count(summary: &mut DemoSummary, step: &str, scene: &Scene) {
    let ending = scene.screen == Screen::Ending;
    match scene.notice {
        Notice::ReceiptPrinted if ending && step.starts_with("wait") => summary.receipts_printed += 1,
        Notice::LabelPrinted if ending && step.starts_with("wait") => summary.labels_printed += 1,
        Notice::LabelWrongDay | Notice::LabelInvalid | Notice::LabelUnknownKey
            if step.starts_with("scan") =>
        {
            summary.labels_refused += 1;
        }
        _ => {}
    }
}

fn previous_day(d: LabelDate) -> LabelDate {
    if d.day() > 1 {
        return LabelDate::new(d.year(), d.month(), d.day() - 1).unwrap_or(d);
    }
    let (y, m) = if d.month() == 1 { (d.year() - 1, 12) } else { (d.year(), d.month() - 1) };
    (28..=31).rev().find_map(|day| LabelDate::new(y, m, day)).unwrap_or(d)
}

/// One line describing what the patron sees (no number, no PIN).
#[must_use]
pub fn describe(scene: &Scene) -> String {
    let mut line = match scene.screen {
        Screen::Starting => "Starting".to_owned(),
        Screen::Idle => "Idle: place your My Number card or scan your library card".to_owned(),
        Screen::OutOfService => "Out of service".to_owned(),
        Screen::ReadingCard => "Reading your card…".to_owned(),
        Screen::Pin => {
            let entered = usize::from(scene.pin_entered).min(4);
            let dots = "●".repeat(entered) + &"○".repeat(4 - entered);
            let stage = match scene.pin_stage {
                PinStage::CheckingTries => "checking tries",
                PinStage::LastTryWarning => "LAST TRY: a wrong PIN will lock your card",
                PinStage::Entering => "enter your 4-digit PIN",
                PinStage::Verifying => "checking PIN",
                PinStage::Verified => "PIN accepted",
                PinStage::Locked => "card locked",
            };
            let tries = scene.tries_left.map(|n| format!(", {n} tries left")).unwrap_or_default();
            let wrong = if scene.last_wrong { ", last PIN was wrong" } else { "" };
            format!("PIN pad [{dots}] {stage}{tries}{wrong}")
        }
        Screen::Password => {
            let dots = "●".repeat(usize::from(scene.pin_entered));
            let stage = match scene.pin_stage {
                PinStage::LastTryWarning => "LAST TRY here: then please ask at the counter",
                PinStage::Verifying => "checking password",
                _ => "enter your library password, then OK",
            };
            let tries = scene.tries_left.map(|n| format!(", {n} tries left here")).unwrap_or_default();
            let wrong = if scene.last_wrong { ", the library did not accept it" } else { "" };
            format!("Password pad [{dots}] {stage}{tries}{wrong}")
        }
        Screen::Checking => {
            let slow = if scene.check_slow { ", taking a while" } else { "" };
            format!("Checking… ({:?}{slow})", scene.check_stage)
        }
        Screen::Borrowing => {
            let shown: Vec<String> = scene
                .loans
                .iter()
                .map(|l| match l.refusal {
                    Refusal::None if l.renewed => format!("{} (renewed, due {})", l.title, l.due),
                    Refusal::None => format!("{} (due {})", l.title, l.due),
                    // The reason's code and the library system's own words, never the barcode.
                    why if l.message.is_empty() => {
                        format!("refused ({why:?}); please take it to the counter")
                    }
                    why => format!("refused ({why:?}: {}); please take it to the counter", l.message),
                })
                .collect();
            format!(
                "Borrowing: scan your books [{}]{}",
                shown.join(", "),
                if scene.waiting > 0 { " …" } else { "" }
            )
        }
        Screen::Refused => format!("{} not lent: please take them to the counter", scene.refused),
        Screen::ReceiptChoice => "Would you like a receipt?".to_owned(),
        Screen::Count if scene.count_said == 0 => "How many items are you borrowing?".to_owned(),
        Screen::Count => format!("Only {} of your {} items were read", scene.count_seen, scene.count_said),
        Screen::Printing => {
            (if scene.printing_label { "Printing your label…" } else { "Printing your receipt…" }).into()
        }
        Screen::Ending => {
            let what = match scene.notice {
                Notice::ReceiptPrinted => "Here is your receipt. Thank you!".to_owned(),
                Notice::Goodbye => "Thank you!".to_owned(),
                Notice::LabelPrinted => {
                    "Here is your label: scan it at a self-checkout machine today (valid today only).".to_owned()
                }
                Notice::LabelWrongDay => {
                    "This label was printed on another day: labels are valid on the day they are printed only."
                        .to_owned()
                }
                other => format!("{other:?}"),
            };
            if scene.card_present { format!("{what} Please take your card.") } else { what }
        }
        Screen::AdminPin => "Staff menu: enter the staff PIN".to_owned(),
        Screen::AdminLocked => "Staff menu: locked after wrong PINs".to_owned(),
        Screen::AdminMenu => format!("Staff menu ({:?})", scene.admin_page),
        // The number itself is never written to the text.
        Screen::HandOff => format!(
            "Counter: number handed off by {:?} ({:?}), cleared in {} s",
            scene.hand_off.method, scene.hand_off.typing, scene.hand_off.seconds
        ),
        Screen::LinkWaiting => "Counter: link a card; waiting for the card".to_owned(),
        Screen::Linking => format!("Counter: linking ({:?})", scene.link.stage),
        Screen::Returning => {
            let shown: Vec<String> = scene
                .returns
                .iter()
                .map(|r| match r.status {
                    ReturnStatus::Returned => format!("{} (returned)", r.title),
                    ReturnStatus::HoldShelf => {
                        format!("{} (returned: to the hold shelf {})", r.title, r.shelf)
                    }
                    ReturnStatus::StaffCheck => format!("{} (returned: give it to staff)", r.title),
                    ReturnStatus::Refused => {
                        format!("not returned ({:?}); please take it to the counter", r.refusal)
                    }
                })
                .collect();
            format!(
                "Returns: scan the books [{}]{}",
                shown.join(", "),
                if scene.waiting > 0 { " …" } else { "" }
            )
        }
        Screen::Account => {
            let a = &scene.account;
            let rows: Vec<String> = a
                .rows
                .iter()
                .map(|r| {
                    let due =
                        if r.overdue { format!("OVERDUE since {}", r.due) } else { format!("due {}", r.due) };
                    match r.renew {
                        RenewStatus::NotAsked => format!("{}. {} ({due})", r.number, r.title),
                        RenewStatus::Waiting => format!("{}. {} ({due}, renewing…)", r.number, r.title),
                        RenewStatus::Renewed => {
                            format!("{}. {} (renewed, due {})", r.number, r.title, r.new_due)
                        }
                        RenewStatus::Refused if r.message.is_empty() => {
                            format!("{}. {} ({due}, not renewed: {:?})", r.number, r.title, r.refusal)
                        }
                        RenewStatus::Refused => {
                            format!(
                                "{}. {} ({due}, not renewed: {:?}: {})",
                                r.number, r.title, r.refusal, r.message
                            )
                        }
                    }
                })
                .collect();
            let holds: Vec<String> = a.holds.iter().map(|h| format!("{} at {}", h.title, h.pickup)).collect();
            match a.stage {
                AccountStage::Loading => "Account: looking it up…".to_owned(),
                AccountStage::Unavailable => "Account: the library system did not answer".to_owned(),
                AccountStage::Shown => format!(
                    "Account: {} on loan, {} overdue, page {} of {} [{}]; holds ready [{}]{}{}",
                    a.loans,
                    a.overdue,
                    a.page + 1,
                    a.pages,
                    rows.join(", "),
                    holds.join(", "),
                    if a.blocks.is_empty() { String::new() } else { format!("; blocked {:?}", a.blocks) },
                    if a.incomplete { "; list incomplete" } else { "" },
                ),
            }
        }
    };
    if let Some(secs) = scene.timeout_seconds {
        line.push_str(&format!(" [still there? {secs} s]"));
    }
    line
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_scripted_journeys() {
        let mut out = Vec::new();
        let dir = std::env::temp_dir().join(format!("kiosk-demo-text-test-{}", std::process::id()));
        let summary = run(&mut out, &Config::demo(), &dir).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!((summary.borrowed, summary.refused), (4, 1), "{text}");
        assert_eq!(
            (summary.receipts_printed, summary.labels_printed, summary.labels_refused),
            (2, 1, 1),
            "{text}"
        );
        assert_eq!(summary.verify_commands, 4, "{text}");
        assert!(summary.ended_idle, "{text}");
        assert_eq!(summary.pages.len(), 3, "{text}");
        assert!(summary.pages.iter().all(|p| p.exists()));
        assert!(text.contains("2 tries left, last PIN was wrong"), "{text}");
        assert!(text.contains("printed on another day"), "{text}");
        assert!(text.contains("effect Checkout"), "the orchestrator's effects are shown: {text}");
        assert!(text.contains("refused (OnHold); please take it to the counter"), "{text}");
        assert!(text.contains("1 not lent: please take them to the counter"), "{text}");
        assert!(text.contains("effect Account"), "{text}");
        assert!(text.contains("OVERDUE since"), "the overdue loan is marked: {text}");
        assert!(text.contains("holds ready [火花 at 本館 予約棚]"), "{text}");
        assert!(text.contains("(renewed, due "), "{text}");
        assert!(text.contains("not renewed: OnHold"), "the loan someone waits for: {text}");
        assert!(text.contains("吾輩は猫である (returned)"), "{text}");
        assert!(text.contains("人間失格 (returned: to the hold shelf 本館 予約棚)"), "{text}");
        assert!(!text.contains("1234"), "the PIN must not be printed: {text}");
        assert!(!text.contains(DEMO_PATRON), "the patron number must not be printed");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn calendar_arithmetic() {
        assert_eq!(previous_day(LabelDate::new(2026, 3, 1).unwrap()), LabelDate::new(2026, 2, 28).unwrap());
        assert_eq!(previous_day(LabelDate::new(2026, 1, 1).unwrap()), LabelDate::new(2025, 12, 31).unwrap());
    }
}
