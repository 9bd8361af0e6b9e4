//! Every screen, in every language, rendered headlessly with the software renderer
//! and compared with the reference images in `docs/screens/` (which the README shows).
//!
//! To accept a deliberate change: `KIOSK_UPDATE_SCREENSHOTS=1 cargo test -p kiosk-ui`,
//! then look at every changed image before committing it.

use std::path::PathBuf;

use kiosk_ui::fixtures::{base, sample_scenes as scenes};
use kiosk_ui::headless::{Headless, Shot};
use kiosk_ui::{Language, Scene, Screen, UiAction};

fn references() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
}

/// Colour distance a pixel may have (font hinting across library versions), and the
/// share of pixels that may exceed it.
const THRESHOLD: u8 = 40;
const MAX_DIFFERING: f64 = 0.002;

#[test]
fn every_screen_in_every_language_matches_its_reference() {
    let update = std::env::var_os("KIOSK_UPDATE_SCREENSHOTS").is_some();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&out).unwrap();
    let ui = Headless::new(1280, 800).unwrap();
    let mut failures = Vec::new();
    for (w, h) in [(1280, 800), (1024, 600)] {
        ui.resize(w, h);
        for language in Language::ALL {
            for (name, scene) in scenes() {
                let file = format!(
                    "{name}-{}{}.png",
                    language.code(),
                    if w == 1280 { String::new() } else { format!("-{w}x{h}") }
                );
                let shot = ui.render(&Scene { language, ..scene }).unwrap();
                assert_eq!((shot.width, shot.height), (w, h));
                shot.save_png(&out.join(&file)).unwrap();
                // No glyph row cut at the normal text size (larger text: the next test).
                failures.extend(ui.cut_text(&shot).into_iter().map(|c| format!("{file}: {c}")));
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
        "screens differ from docs/screens/ (KIOSK_UPDATE_SCREENSHOTS=1 to accept) or cut text:\n{}",
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

/// The screens kept as references with furigana (`docs/screens/<name>-ja-furigana….png`);
/// every screen is rendered with it for cut text.
const FURIGANA_REFERENCES: [&str; 7] =
    ["idle", "pin", "borrowing", "goodbye-take-card", "account", "refused-unsecured", "language-list"];

/// Furigana (the bar's button, or `library.furigana`): the Japanese screens come from
/// their catalogue with a reading after every kanji, a little smaller; no text is cut at
/// either size; other languages are unchanged, and so is Japanese without it. (Larger
/// text turns furigana off: `kiosk/tests/settings.rs::furigana`.)
#[test]
fn furigana_shows_a_reading_on_every_kanji() {
    let update = std::env::var_os("KIOSK_UPDATE_SCREENSHOTS").is_some();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("furigana");
    std::fs::create_dir_all(&out).unwrap();
    let ui = Headless::new(1280, 800).unwrap();
    let ja = Scene { language: Language::Japanese, ..base() };
    let plain = ui.render(&ja).unwrap();
    let read = ui.render(&Scene { furigana: true, ..ja.clone() }).unwrap();
    assert!(plain.difference(&read, THRESHOLD) > 0.002, "furigana changes the Japanese idle screen");
    let en = Scene { language: Language::English, ..base() };
    let en_read = ui.render(&Scene { furigana: true, ..en.clone() }).unwrap();
    assert!(ui.render(&en).unwrap().difference(&en_read, 0) == 0.0, "English is unchanged");
    let mut failures = Vec::new();
    for (w, h) in [(1280, 800), (1024, 600)] {
        ui.resize(w, h);
        for (name, scene) in scenes() {
            let scene = Scene { language: Language::Japanese, furigana: true, ..scene };
            let shot = ui.render(&scene).unwrap();
            let size = if w == 1280 { String::new() } else { format!("-{w}x{h}") };
            let file = format!("{name}-ja-furigana{size}.png");
            shot.save_png(&out.join(&file)).unwrap();
            failures.extend(ui.cut_text(&shot).into_iter().map(|c| format!("{file}: {c}")));
            if !FURIGANA_REFERENCES.contains(&name) {
                continue;
            }
            let reference = references().join(&file);
            if update {
                shot.save_png(&reference).unwrap();
                continue;
            }
            match Shot::load_png(&reference) {
                Ok(r) if shot.difference(&r, THRESHOLD) > MAX_DIFFERING => {
                    failures.push(format!("{file}: differs from its reference (see {})", out.display()));
                }
                Ok(_) => {}
                Err(e) => failures.push(format!("{file}: no reference ({e})")),
            }
        }
    }
    assert!(failures.is_empty(), "furigana screens:\n{}", failures.join("\n"));
}

/// A 1280×800 window and the actions its taps send, in order.
#[allow(clippy::type_complexity, clippy::unwrap_used)]
fn listening() -> (Headless, std::rc::Rc<std::cell::RefCell<Vec<Result<UiAction, String>>>>) {
    let ui = Headless::new(1280, 800).unwrap();
    let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = got.clone();
    kiosk_ui::on_action(&ui.ui, move |a| sink.borrow_mut().push(a));
    (ui, got)
}

#[test]
fn a_tap_anywhere_on_the_timeout_warning_means_still_here() {
    let (ui, got) = listening();
    ui.render(&Scene { screen: Screen::Borrowing, timeout_seconds: Some(9), ..base() }).unwrap();
    ui.tap(40.0, 400.0);
    assert_eq!(got.borrow().as_slice(), &[Ok(UiAction::StillHere)]);
}

/// The bottom bar stays live over the patron's overlays: the last-try warning does not
/// take away the language and display buttons.
#[test]
fn the_display_buttons_work_over_the_last_try_warning() {
    let (ui, got) = listening();
    let scene = Scene { screen: Screen::Pin, pin_stage: kiosk_ui::PinStage::LastTryWarning, ..base() };
    ui.render(&scene).unwrap();
    // The right-most button of the bar, bottom right of the screen.
    ui.tap(1200.0, 730.0);
    // The warning's dimmed area above it swallows taps.
    ui.tap(40.0, 400.0);
    assert_eq!(got.borrow().as_slice(), &[Ok(UiAction::ToggleContrast)]);
}

/// The library's own name for its card changes the Japanese screens only.
#[test]
fn the_library_s_card_name_is_used_on_the_japanese_screens_only() {
    use kiosk_ui::LinkStage;
    let ui = Headless::new(1280, 800).unwrap();
    // The patron's idle screen, and the counter's screen that asks staff to scan the card.
    let linking = Scene { screen: Screen::Linking, counter_mode: true, ..base() };
    let linking = Scene {
        link: kiosk_ui::LinkScene { stage: LinkStage::Scan, current: "…5678".into(), ..Default::default() },
        ..linking
    };
    for (what, scene) in [("idle", base()), ("linking", linking)] {
        let named = |language, card_name: &str| {
            ui.render(&Scene { language, card_name: card_name.into(), ..scene.clone() }).unwrap()
        };
        let ja = named(Language::Japanese, "");
        let ja_named = named(Language::Japanese, "利用者カード");
        assert!(ja.difference(&ja_named, THRESHOLD) > 0.0005, "the Japanese {what} screen names the card");
        let en = named(Language::English, "");
        let en_named = named(Language::English, "利用者カード");
        assert!(en.difference(&en_named, THRESHOLD) == 0.0, "English keeps \"library card\" ({what})");
    }
}

#[test]
fn no_glyph_row_is_cut_with_larger_text_on_any_screen_at_either_size() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cut");
    std::fs::create_dir_all(&out).unwrap();
    let ui = Headless::new(1280, 800).unwrap();
    let mut failures = Vec::new();
    for (w, h) in [(1280, 800), (1024, 600)] {
        ui.resize(w, h);
        for language in Language::ALL {
            for (name, scene) in scenes() {
                let shot = ui.render(&Scene { language, large_text: true, ..scene }).unwrap();
                let cuts = ui.cut_text(&shot);
                if cuts.is_empty() {
                    continue;
                }
                let file = format!("{name}-{}-large-{w}x{h}.png", language.code());
                shot.save_png(&out.join(&file)).unwrap();
                failures.extend(cuts.into_iter().map(|c| format!("{file}: {c}")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} text boxes cut (the screens are in {}):\n{}",
        failures.len(),
        out.display(),
        failures.join("\n")
    );
}

/// One language offered: no language button (the library's `languages`); more: the
/// button names the language spoken now, and its list every language offered, each in
/// its own name, and says which one each button chooses.
#[test]
fn the_language_button_is_there_only_when_there_is_a_choice() {
    use i_slint_backend_testing::ElementHandle;
    let (ui, actions) = listening();
    let found = |scene: Scene, label: &str| {
        ui.render(&scene).unwrap();
        ElementHandle::find_by_accessible_label(&ui.ui, label).count()
    };
    let two = vec![Language::Japanese, Language::English];
    assert!(found(Scene { languages: two.clone(), ..base() }, "日本語") > 0, "the button names Japanese");
    assert_eq!(found(Scene { languages: two.clone(), ..base() }, "English"), 0, "the list is closed");
    assert_eq!(found(Scene { languages: vec![Language::Japanese], ..base() }, "日本語"), 0, "one language");
    // Furigana: in the list when there is one; with Japanese alone, in the bar instead.
    // (As the Japanese screens show it: its word kept on one line.)
    let furigana = kiosk_ui::phrases::keep_phrases("ふりがな");
    assert_eq!(found(Scene { languages: two.clone(), ..base() }, &furigana), 0, "in the closed list");
    assert!(found(Scene { languages: vec![Language::Japanese], ..base() }, &furigana) > 0, "in the bar");
    let en = Scene { languages: vec![Language::English], language: Language::English, ..base() };
    assert_eq!(found(en, "Furigana"), 0, "not for English");
    let all = Scene { languages: Language::ALL.to_vec(), languages_open: true, ..base() };
    for language in Language::ALL {
        assert!(found(all.clone(), &kiosk_ui::words::endonym(language)) > 0, "{language:?} in the list");
    }
    // One language: no button, so a "日本語" found could only be the list's.
    let open_one = Scene { languages: vec![Language::Japanese], languages_open: true, ..base() };
    assert_eq!(found(open_one, "日本語"), 0, "no list with one language");
    // A tap on a language in the list says which.
    ui.render(&all).unwrap();
    let korean: Vec<_> = ElementHandle::find_by_accessible_label(&ui.ui, "한국어").collect();
    assert!(!korean.is_empty());
    korean[0].invoke_accessible_default_action();
    assert_eq!(actions.borrow().as_slice(), &[Ok(UiAction::Language(Language::Korean))]);
}

/// The tactile keypad reaches only buttons the screen shows: on every scene (and over
/// each overlay), each of `kiosk_core::tactile::choices` is a button the rendered screen
/// offers, and the first is one of the screen's own (not the bottom bar's).
#[test]
fn the_keypad_offers_only_the_buttons_each_screen_shows() {
    let (ui, got) = listening();
    let mut failures = Vec::new();
    for (name, scene) in scenes() {
        // OK is there but greyed until the PIN is typed (the keypad's Enter is OK then).
        let scene = match scene.screen {
            Screen::Pin | Screen::Password => Scene { pin_entered: 4, ..scene },
            _ => scene,
        };
        let choices = kiosk_core::tactile::choices(&scene);
        got.borrow_mut().clear();
        ui.render(&scene).unwrap();
        ui.press_every_button();
        let shown: Vec<UiAction> = got.borrow().iter().filter_map(|a| a.clone().ok()).collect();
        for c in &choices {
            let action = UiAction::parse(c).unwrap();
            if !shown.contains(&action) {
                failures.push(format!("{name}: the keypad offers {c}, the screen shows {shown:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
