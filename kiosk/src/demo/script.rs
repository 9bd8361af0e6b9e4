//! A demo script played headlessly: one step per line, a screenshot per step.
//!
//! `card-on`, `card-off`, `pin 1234`, `tap <button name>`, `scan <barcode>`,
//! `wait <seconds>`; `#` starts a comment. See `kiosk/demo/*.script`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_core::scene::UiAction;

use super::DemoKiosk;
use crate::config::Config;

/// One step of a headless script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    CardOn,
    CardOff,
    /// Types the digits and presses OK.
    Pin(String),
    Tap(String),
    Scan(String),
    Wait(Duration),
}

/// A script line that cannot be understood.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("{file}:{line}: {what}")]
    Bad { file: String, line: usize, what: String },
    #[error("cannot read the script {file}: {source}")]
    Read { file: String, source: io::Error },
    #[error("cannot write the screenshots: {0}")]
    Shot(String),
    #[error(transparent)]
    Kiosk(crate::error::KioskError),
}

/// Parses a script: one step per line, `#` comments.
///
/// `card-on`, `card-off`, `pin 1234`, `tap <button name>`, `scan <barcode>`,
/// `wait <seconds>`.
///
/// # Errors
/// The first line that is not a step, with its number.
pub fn parse(text: &str, file: &str) -> Result<Vec<Step>, ScriptError> {
    let mut steps = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |what: String| ScriptError::Bad { file: file.to_owned(), line: n + 1, what };
        let (cmd, arg) = line.split_once(char::is_whitespace).map_or((line, ""), |(c, a)| (c, a.trim()));
        steps.push(match cmd {
            "card-on" => Step::CardOn,
            "card-off" => Step::CardOff,
            "pin" if arg.len() == 4 && arg.bytes().all(|b| b.is_ascii_digit()) => Step::Pin(arg.to_owned()),
            "pin" => return Err(bad(format!("`pin` needs four digits, not {arg:?}"))),
            "tap" if UiAction::parse(arg).is_some() => Step::Tap(arg.to_owned()),
            "tap" => return Err(bad(format!("there is no button {arg:?}"))),
            "scan" if !arg.is_empty() => Step::Scan(arg.to_owned()),
            "wait" => {
                let secs: f64 = arg.parse().map_err(|_| bad(format!("`wait` needs seconds, not {arg:?}")))?;
                if !(0.0..=600.0).contains(&secs) {
                    return Err(bad("`wait` is 0 to 600 seconds".to_owned()));
                }
                Step::Wait(Duration::from_secs_f64(secs))
            }
            other => {
                return Err(bad(format!("unknown step {other:?} (card-on, card-off, pin, tap, scan, wait)")));
            }
        });
    }
    Ok(steps)
}

/// Plays a script headlessly at 1280x800 on the demo kiosk (tokio's paused clock) and
/// writes `NN-<step>.png` per step into `shots`, the printed pages into `shots/printed`.
/// Returns the screenshots written.
///
/// # Errors
/// A bad script, a failed screenshot, or a demo device that cannot start.
pub fn run(config: &Config, script: &Path, shots: &Path) -> Result<Vec<PathBuf>, ScriptError> {
    let file = script.display().to_string();
    let text =
        std::fs::read_to_string(script).map_err(|source| ScriptError::Read { file: file.clone(), source })?;
    let steps = parse(&text, &file)?;
    std::fs::create_dir_all(shots).map_err(|e| ScriptError::Shot(e.to_string()))?;
    let shot_err = |e: kiosk_ui::headless::ShotError| ScriptError::Shot(e.to_string());
    let ui = kiosk_ui::headless::Headless::new(1280, 800).map_err(shot_err)?;
    let mut kiosk = DemoKiosk::start(config, &shots.join("printed")).map_err(ScriptError::Kiosk)?;
    let mut written = Vec::new();
    let save = |kiosk: &DemoKiosk, name: &str, written: &mut Vec<PathBuf>| -> Result<(), ScriptError> {
        let path = shots.join(format!("{:02}-{name}.png", written.len() + 1));
        ui.render(&kiosk.scene()).map_err(shot_err)?.save_png(&path).map_err(shot_err)?;
        written.push(path);
        Ok(())
    };
    save(&kiosk, "start", &mut written)?;
    for step in steps {
        let name = play(&mut kiosk, &step);
        save(&kiosk, &name, &mut written)?;
    }
    Ok(written)
}

/// Plays one step; returns its name for the screenshot's file.
pub fn play(kiosk: &mut DemoKiosk, step: &Step) -> String {
    match step {
        Step::CardOn => {
            kiosk.set_card(true);
            "card-on".to_owned()
        }
        Step::CardOff => {
            kiosk.set_card(false);
            "card-off".to_owned()
        }
        Step::Pin(digits) => {
            for d in digits.bytes() {
                kiosk.action(UiAction::Key(kiosk_ui::Pad::Card, kiosk_ui::Key::Digit(d - b'0')));
            }
            kiosk.action(UiAction::Key(kiosk_ui::Pad::Card, kiosk_ui::Key::Submit));
            "pin".to_owned()
        }
        Step::Tap(name) => {
            if let Some(a) = UiAction::parse(name) {
                kiosk.action(a);
            }
            format!("tap-{name}")
        }
        Step::Scan(code) => {
            kiosk.scan(code);
            "scan".to_owned()
        }
        Step::Wait(d) => {
            kiosk.wait(*d);
            format!("wait-{}s", d.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_and_bad_lines_say_where() {
        let steps = parse("card-on # the patron\npin 1234\nwait 2.5\ntap finish\n", "s").unwrap();
        assert_eq!(steps.len(), 4);
        assert_eq!(steps[2], Step::Wait(Duration::from_millis(2500)));
        let err = parse("card-on\npin 12\n", "s.txt").unwrap_err().to_string();
        assert!(err.starts_with("s.txt:2:"), "{err}");
        assert!(parse("tap self-destruct", "s").is_err());
        assert!(parse("dance", "s").is_err());
    }
}
