//! The headless UI: the kiosk's screens rendered by the software renderer on request,
//! and taps read as text. The end-to-end tests (and a technician over SSH) drive a real
//! kiosk with it: `kiosk run --config FILE --headless`.
//!
//! Standard input, one command a line:
//!
//! - `tap <button>`: a tap, by the button's name (`digit-1`, `submit`, `finish`,
//!   `print-receipt`, `admin-open`, …; see `kiosk_ui::UiAction::parse`);
//! - `wait <screen> <seconds>`: until the screen shows (`idle`, `pin`, `borrowing`, …);
//!   answers `ok <screen>` or `timeout <screen> (showing <other>)`;
//! - `shot <file.png>`: a screenshot of the current screen at 1280×800; answers `shot <file>`;
//! - `scene`: one line with the screen, notice, counts and the newest scan's result (no
//!   personal data);
//! - `until <seconds> <text>`: until the `scene` line contains the text (polled every
//!   millisecond); answers `ok <microseconds> <scene>` or `timeout <scene>`;
//! - `quit`: stop the kiosk.
//!
//! Standard output: `ready` once the kiosk serves, then one answer per command.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use kiosk_ui::headless::Headless;
use kiosk_ui::{Refusal, Scene, UiAction};
use tokio::sync::{mpsc, watch};

use super::Input;
use crate::error::KioskError;

/// The screen's name as the `.slint` file spells it (`reading-card`).
#[must_use]
pub fn screen_name(scene: &Scene) -> String {
    let debug = format!("{:?}", scene.screen);
    let mut out = String::new();
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One line about the scene for `scene` and the tests: what a person would see, without
/// any number, title or name.
fn describe(scene: &Scene) -> String {
    let offline_row = scene.status_rows.iter().find(|r| r.device == kiosk_core::scene::Device::OfflineLoans);
    let row = |device| {
        scene.status_rows.iter().find(|r| r.device == device).map_or("none".to_owned(), |r| match r.state {
            kiosk_core::scene::DeviceState::NotWorking => "not-working".to_owned(),
            _ => r.value.to_string(),
        })
    };
    format!(
        "screen={} pin={:?}/{} notice={:?} borrowed={} renewed={} lines={} refused={} last={}#{} staff_called={} paper_out={} card_present={} tries_left={:?} handoff={:?}/{:?} link={:?}/current={}/bad_scan={} admin_page={:?} admin_confirm={:?} registration={:?} update={:?}/{:?} newest_event={:?} links={} account={:?}/loans={}/overdue={}/holds={}/blocks={}/renewing={}/renewed={}/not_renewed={}/page={}of{} returned={} waiting={} offline={} offline_loans={}/{} offline_refused={} usage_loans_today={} unsecured={} missing={} pad={} desensitized={} sound={} focus={} headphones={} furigana={}",
        screen_name(scene),
        scene.pin_stage,
        scene.pin_entered,
        scene.notice,
        scene.borrowed,
        scene.loans.iter().filter(|l| l.renewed).count(),
        scene.loans.len(),
        scene.refused,
        scene.loans.first().map_or("none".to_owned(), |l| match l.refusal {
            Refusal::None if l.renewed => "renewed".to_owned(),
            Refusal::None => "lent".to_owned(),
            why => format!("refused:{why:?}"),
        }),
        scene.loans.first().map_or(0, |l| l.number),
        scene.staff_called,
        scene.paper_out,
        scene.card_present,
        scene.tries_left,
        scene.hand_off.method,
        scene.hand_off.typing,
        scene.link.stage,
        !scene.link.current.is_empty(),
        scene.link.bad_scan,
        scene.admin_page,
        scene.admin_confirm,
        scene.registration.phase,
        scene.update.phase,
        scene.update.asked,
        scene.recent_events.first().map(|e| e.kind),
        scene
            .status_rows
            .iter()
            .find(|r| r.device == kiosk_core::scene::Device::LinkStore)
            .map_or("none".to_owned(), |r| format!("{:?}/{}", r.state, r.value)),
        scene.account.stage,
        scene.account.loans,
        scene.account.overdue,
        scene.account.holds.len(),
        scene.account.blocks.len(),
        scene.account.renewing,
        scene.account.rows.iter().filter(|r| r.renew == kiosk_core::scene::RenewStatus::Renewed).count(),
        scene.account.rows.iter().filter(|r| r.renew == kiosk_core::scene::RenewStatus::Refused).count(),
        scene.account.page + 1,
        scene.account.pages,
        scene.returned,
        scene.waiting,
        scene.offline,
        offline_row.map_or("none".to_owned(), |r| format!("{:?}", r.state)),
        offline_row.map_or(0, |r| r.value),
        scene.offline_refused.len(),
        scene
            .usage
            .rows
            .iter()
            .find(|r| r.what == kiosk_core::scene::UsageKind::Loans)
            .map_or("none".to_owned(), |r| r.today.to_string()),
        scene.loans.iter().filter(|l| l.unsecured).count() + scene.unsecured,
        // The missing parts of the newest set not whole on the pad ("2,3"), "none".
        scene.loans.iter().find(|l| !l.missing.is_empty()).map_or("none".to_owned(), |l| l
            .missing
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(",")),
        row(kiosk_core::scene::Device::RfidPad),
        row(kiosk_core::scene::Device::Desensitizer),
        scene
            .status_rows
            .iter()
            .find(|r| r.device == kiosk_core::scene::Device::Sound)
            .map_or("none".to_owned(), |r| format!("{:?}/{}", r.state, r.value)),
        if scene.focus.is_empty() { "none" } else { scene.focus.as_str() },
        scene.headphones,
        scene.furigana,
    )
}

/// Serves the control protocol on this thread until `quit` or end of input.
///
/// # Errors
/// The headless renderer cannot start.
pub fn serve(
    mut scenes: watch::Receiver<Scene>,
    inputs: &mpsc::UnboundedSender<Input>,
) -> Result<(), KioskError> {
    let ui = Headless::new(1280, 800)?;
    let (lines_tx, lines) = std_mpsc::channel::<String>();
    std::thread::Builder::new()
        .name("control-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        })
        .map_err(|source| KioskError::Thread { what: "control input", source })?;
    let mut out = std::io::stdout().lock();
    let mut say = |text: &str| {
        let _ = writeln!(out, "{text}").and_then(|()| out.flush());
    };
    say("ready");
    while let Ok(line) = lines.recv() {
        let line = line.trim();
        let (cmd, arg) = line.split_once(' ').map_or((line, ""), |(c, a)| (c, a.trim()));
        match cmd {
            "" => {}
            "tap" => match UiAction::parse(arg) {
                Some(a) => {
                    let _ = inputs.send(Input::Ui(a));
                    say(&format!("tapped {arg}"));
                }
                None => say(&format!("error: there is no button {arg:?}")),
            },
            "scan" if !arg.is_empty() => {
                let _ = inputs.send(Input::Scan(arg.to_owned()));
                say("scanned");
            }
            "wait" => {
                let (screen, secs) = arg.split_once(' ').unwrap_or((arg, "10"));
                let limit = Duration::from_secs_f64(secs.parse::<f64>().unwrap_or(10.0).clamp(0.0, 600.0));
                let deadline = Instant::now() + limit;
                let answer = loop {
                    let now = screen_name(&scenes.borrow_and_update());
                    if now == screen {
                        break format!("ok {screen}");
                    }
                    if Instant::now() >= deadline {
                        break format!("timeout {screen} (showing {now})");
                    }
                    std::thread::sleep(Duration::from_millis(20));
                };
                say(&answer);
            }
            "until" => {
                // `until <seconds> <text>`: waits for the scene line to contain the text,
                // polling every millisecond; answers `ok <microseconds> <scene>`.
                let (secs, text) = arg.split_once(' ').unwrap_or(("10", arg));
                let limit = Duration::from_secs_f64(secs.parse::<f64>().unwrap_or(10.0).clamp(0.0, 600.0));
                let started = Instant::now();
                let answer = loop {
                    let scene = describe(&scenes.borrow_and_update());
                    if scene.contains(text) {
                        break format!("ok {} {scene}", started.elapsed().as_micros());
                    }
                    if started.elapsed() >= limit {
                        break format!("timeout {scene}");
                    }
                    std::thread::sleep(Duration::from_millis(1));
                };
                say(&answer);
            }
            "shot" if !arg.is_empty() => {
                let scene = scenes.borrow().clone();
                match ui.render(&scene).and_then(|s| s.save_png(Path::new(arg))) {
                    Ok(()) => say(&format!("shot {arg}")),
                    Err(e) => say(&format!("error: {e}")),
                }
            }
            "scene" => say(&describe(&scenes.borrow())),
            "quit" => break,
            other => {
                say(&format!("error: unknown command {other:?} (tap, scan, wait, until, shot, scene, quit)"))
            }
        }
    }
    let _ = inputs.send(Input::Shutdown);
    Ok(())
}
