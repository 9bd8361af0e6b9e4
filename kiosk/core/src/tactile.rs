//! The tactile keypad: the whole patron journey without the screen. The keypad's keys
//! move between the buttons a screen offers, select one, type the PIN and ask for the
//! prompt again; the voice says each step (`crate::voice`). Pure: a key and the scene
//! now in, the new keypad state and the button pressed (if any) out.
//!
//! The key map (the printable card is `docs/keypad-card.md`):
//!
//! | key | what it does |
//! | --- | --- |
//! | 0–9 | the PIN's digits (the password's), or how many books (the count check) |
//! | Enter | presses the button the voice named last (the PIN: OK) |
//! | + ↓ → | the next button |
//! | − ↑ ← | the previous button |
//! | `*` | help: says again what this screen is for and which button is chosen |
//! | `.` Del Backspace | deletes the last digit |
//! | `/` Esc | cancel (where the screen has a Cancel button) |
//!
//! Any key turns keypad mode on for the session: the chosen button is framed on the
//! screen and named aloud; it ends with the session.

use crate::scene::{Language, PinStage, Scene, Screen, UiAction};

/// What a key means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Digit(u8),
    Select,
    Next,
    Previous,
    Help,
    Correct,
    Cancel,
}

/// The keypad's state (part of the presentation: it ends with the session).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tactile {
    /// Keypad mode is on: the chosen button is framed and named.
    pub on: bool,
    /// The button chosen (its name) and the screen it was chosen on: a new screen starts
    /// at its own first button.
    pub focus: Option<(Screen, String)>,
    /// Bumped by the help key: the voice says the screen again.
    pub repeat: u32,
}

/// The buttons the keypad reaches on `s`, in order, by the names the screen's buttons
/// send (`UiAction::parse`); the first is chosen on a new screen.
#[must_use]
pub fn choices(s: &Scene) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: &str| out.push(n.to_owned());
    if s.timeout_seconds.is_some() {
        add("still-here");
        return out;
    }
    if s.languages_open {
        for l in &s.languages {
            add(&format!("language-{}", l.code()));
        }
        add("languages-close");
        return out;
    }
    let pin = matches!(s.screen, Screen::Pin | Screen::Password);
    if pin && s.pin_stage == PinStage::LastTryWarning {
        add("acknowledge-last-try");
        add("cancel");
        return out;
    }
    match s.screen {
        Screen::Idle if s.can_return => add("return"),
        Screen::ReadingCard | Screen::Checking => add("cancel"),
        Screen::Pin | Screen::Password => {
            add("submit");
            add("cancel");
        }
        Screen::Borrowing => {
            add("finish");
            if s.can_open_account {
                add("account");
            }
            if s.can_print_label {
                add("print-label");
            }
        }
        Screen::Refused => add("dismiss"),
        Screen::Count => add("read-again"),
        Screen::ReceiptChoice => {
            add("print-receipt");
            add("no-receipt");
            if s.can_print_account_receipt {
                add("print-receipt-account");
            }
        }
        Screen::Returning => add("finish"),
        Screen::Account => {
            add("dismiss");
            add("finish");
        }
        _ => {}
    }
    let patron = !matches!(
        s.screen,
        Screen::Starting | Screen::OutOfService | Screen::AdminPin | Screen::AdminLocked | Screen::AdminMenu
    );
    if patron {
        if s.languages.len() > 1 {
            add("languages");
        }
        add("call-staff");
    }
    out
}

/// The button chosen on `s`: the one the keypad chose if the screen still has it, else
/// the screen's first; `None` when keypad mode is off or the screen has none.
#[must_use]
pub fn focused(s: &Scene, t: &Tactile) -> Option<String> {
    if !t.on {
        return None;
    }
    let all = choices(s);
    match &t.focus {
        Some((screen, f)) if *screen == s.screen && all.contains(f) => Some(f.clone()),
        _ => all.into_iter().next(),
    }
}

/// What `key` does on `s`: the keypad's state changes in `t`, and the button pressed
/// (if any) is returned for the console to carry out as a tap.
pub fn press(s: &Scene, t: &mut Tactile, key: Key) -> Option<UiAction> {
    t.on = true;
    let all = choices(s);
    let now = focused(s, t);
    let at = now.as_ref().and_then(|f| all.iter().position(|c| c == f));
    let pin = matches!(s.screen, Screen::Pin | Screen::Password) && s.pin_stage == PinStage::Entering;
    match key {
        Key::Help => {
            t.repeat = t.repeat.wrapping_add(1);
            t.focus = now.map(|f| (s.screen, f));
            None
        }
        Key::Next | Key::Previous if !all.is_empty() => {
            let n = all.len();
            let i = match (at, key) {
                (Some(i), Key::Next) => (i + 1) % n,
                (Some(i), _) => (i + n - 1) % n,
                (None, _) => 0,
            };
            t.focus = all.get(i).map(|f| (s.screen, f.clone()));
            None
        }
        Key::Next | Key::Previous => None,
        // On the PIN pad, Enter is OK whatever is chosen (the key card says so).
        Key::Select if pin => UiAction::parse("submit"),
        Key::Select => {
            t.focus = now.clone().map(|f| (s.screen, f));
            UiAction::parse(&now?)
        }
        Key::Digit(d) if pin => UiAction::parse(&format!("digit-{d}")),
        Key::Digit(d) if s.screen == Screen::Count && (1..=10).contains(&d) => {
            UiAction::parse(&format!("count-{d}"))
        }
        Key::Digit(_) => None,
        Key::Correct if pin => UiAction::parse("back"),
        Key::Correct => None,
        Key::Cancel if all.iter().any(|c| c == "cancel") => Some(UiAction::Cancel),
        Key::Cancel => None,
    }
}

/// The language a `language-<code>` button chooses.
#[must_use]
pub fn language_of(choice: &str) -> Option<Language> {
    Language::from_code(choice.strip_prefix("language-")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(screen: Screen) -> Scene {
        Scene { screen, languages: vec![Language::Japanese, Language::English], ..Scene::default() }
    }

    #[test]
    fn the_first_key_turns_keypad_mode_on_and_chooses_the_screen_s_first_button() {
        let s = scene(Screen::ReceiptChoice);
        let mut t = Tactile::default();
        assert_eq!(focused(&s, &t), None, "off until a key is pressed");
        assert_eq!(press(&s, &mut t, Key::Help), None);
        assert!(t.on);
        assert_eq!(t.repeat, 1);
        assert_eq!(focused(&s, &t).as_deref(), Some("print-receipt"));
    }

    #[test]
    fn next_and_previous_go_round_the_screen_s_buttons_and_enter_presses_the_one_chosen() {
        let s = scene(Screen::ReceiptChoice);
        let mut t = Tactile::default();
        assert_eq!(choices(&s), ["print-receipt", "no-receipt", "languages", "call-staff"]);
        press(&s, &mut t, Key::Next);
        assert_eq!(focused(&s, &t).as_deref(), Some("no-receipt"), "on, then the next");
        press(&s, &mut t, Key::Previous);
        press(&s, &mut t, Key::Previous);
        assert_eq!(focused(&s, &t).as_deref(), Some("call-staff"), "round from the first to the last");
        press(&s, &mut t, Key::Next);
        press(&s, &mut t, Key::Next);
        assert_eq!(press(&s, &mut t, Key::Select), Some(UiAction::NoReceipt));
    }

    #[test]
    fn a_new_screen_starts_at_its_own_first_button() {
        let mut t =
            Tactile { on: true, focus: Some((Screen::ReceiptChoice, "call-staff".into())), repeat: 0 };
        let borrowing = scene(Screen::Borrowing);
        assert_eq!(focused(&borrowing, &t).as_deref(), Some("finish"), "chosen on another screen");
        t.focus = Some((Screen::Borrowing, "call-staff".into()));
        assert_eq!(focused(&borrowing, &t).as_deref(), Some("call-staff"), "chosen here: kept");
        // An overlay without that button (are you still there?): its own.
        let warn = Scene { timeout_seconds: Some(5), ..borrowing.clone() };
        assert_eq!(focused(&warn, &t).as_deref(), Some("still-here"));
    }

    #[test]
    fn on_the_pin_pad_digits_type_correct_deletes_enter_is_ok_and_cancel_cancels() {
        let s = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Pin) };
        let mut t = Tactile::default();
        assert_eq!(press(&s, &mut t, Key::Digit(7)), UiAction::parse("digit-7"));
        assert_eq!(press(&s, &mut t, Key::Correct), UiAction::parse("back"));
        assert_eq!(press(&s, &mut t, Key::Select), UiAction::parse("submit"));
        assert_eq!(press(&s, &mut t, Key::Cancel), Some(UiAction::Cancel));
        // Not entering (checking the PIN): digits do nothing.
        let checking = Scene { pin_stage: PinStage::Verifying, ..s.clone() };
        assert_eq!(press(&checking, &mut t, Key::Digit(1)), None);
        // Elsewhere digits and correct do nothing, and cancel only where there is one.
        let b = scene(Screen::Borrowing);
        assert_eq!(press(&b, &mut t, Key::Digit(1)), None);
        assert_eq!(press(&b, &mut t, Key::Correct), None);
        assert_eq!(press(&b, &mut t, Key::Cancel), None);
    }

    #[test]
    fn overlays_offer_only_their_own_buttons() {
        let warn = Scene { timeout_seconds: Some(10), ..scene(Screen::Borrowing) };
        assert_eq!(choices(&warn), ["still-here"]);
        let last = Scene { pin_stage: PinStage::LastTryWarning, ..scene(Screen::Pin) };
        assert_eq!(choices(&last), ["acknowledge-last-try", "cancel"]);
        let list = Scene { languages_open: true, ..scene(Screen::Idle) };
        assert_eq!(choices(&list), ["language-ja", "language-en", "languages-close"]);
        assert_eq!(language_of("language-en"), Some(Language::English));
        // The count check: digits are the count.
        let count = scene(Screen::Count);
        let mut t = Tactile::default();
        assert_eq!(press(&count, &mut t, Key::Digit(3)), Some(UiAction::Count(3)));
        assert_eq!(press(&count, &mut t, Key::Digit(0)), None);
    }

    #[test]
    fn every_choice_on_every_screen_is_a_button_the_screens_have() {
        use Screen::*;
        let all = [
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
        ];
        for screen in &all {
            for flags in 0..8u8 {
                let s = Scene {
                    can_return: flags & 1 != 0,
                    can_open_account: flags & 2 != 0,
                    can_print_label: flags & 4 != 0,
                    can_print_account_receipt: flags & 4 != 0,
                    ..scene(*screen)
                };
                for c in choices(&s) {
                    assert!(UiAction::parse(&c).is_some(), "{screen:?}: {c} is not a button");
                }
            }
        }
    }

    #[test]
    fn staff_screens_offer_nothing_and_one_language_has_no_list() {
        assert!(choices(&scene(Screen::AdminMenu)).is_empty());
        let one = Scene { languages: vec![Language::Japanese], ..scene(Screen::Borrowing) };
        assert_eq!(choices(&one), ["finish", "call-staff"]);
    }
}
