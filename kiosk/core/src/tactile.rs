//! The tactile keypad: the whole patron journey without the screen. The keypad's keys
//! move between the buttons a screen offers, select one, type the PIN and ask for the
//! prompt again; the voice says each step (`crate::voice`). Pure: a key and the scene
//! now in, the new keypad state and the button pressed (if any) out.
//!
//! The key map (the printable card is `docs/keypad-card.md`):
//!
//! | key | what it does |
//! | --- | --- |
//! | 0–9 | the PIN's digits (the password's), or how many items (the count check; 0: 10 or more) |
//! | Enter | presses the button the voice named last (the PIN: OK) |
//! | + ↓ → | the next button |
//! | − ↑ ← | the previous button |
//! | `*` | help: says again what this screen is for and which button is chosen |
//! | `.` Del Backspace | deletes the last digit |
//! | `/` Esc | cancel (where the screen has a Cancel button) |
//!
//! The first key turns keypad mode on for the session and has the screen said (a digit
//! on the PIN pad types at once): the chosen button is framed on the screen and named
//! aloud; it ends with the session. Headphones plugged into the keypad's jack turn it on
//! too, and keep it on between sessions while they stay in (`Console::headphones`).

use crate::scene::{AccountStage, Language, PinStage, Scene, Screen, UiAction};

/// What a key means.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Digit(u8),
    Select,
    Next,
    Previous,
    Help,
    Correct,
    Cancel,
}

/// Never the digit: the keypad types PINs.
impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Key::Digit(_) => f.write_str("Digit(_)"),
            Key::Select => f.write_str("Select"),
            Key::Next => f.write_str("Next"),
            Key::Previous => f.write_str("Previous"),
            Key::Help => f.write_str("Help"),
            Key::Correct => f.write_str("Correct"),
            Key::Cancel => f.write_str("Cancel"),
        }
    }
}

/// The keypad's state (part of the presentation: it ends with the session).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tactile {
    /// Keypad mode is on: the chosen button is framed and named.
    pub on: bool,
    /// The button chosen (its name) among the buttons offered then: when the screen
    /// offers other buttons (another screen, an overlay), its own first is chosen.
    pub focus: Option<(Vec<String>, String)>,
    /// Bumped by the help key: the voice says the screen again.
    pub repeat: u32,
}

/// The buttons the keypad reaches on `s`, in order, by the names the screen's buttons
/// send (`UiAction::parse`), only those the screen shows now; the first is chosen on a
/// new screen (the screen's own first button, then Call staff and the language list).
#[must_use]
pub fn choices(s: &Scene) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |n: &str| out.push(n.to_owned());
    if s.timeout_seconds.is_some() {
        add("still-here");
        // "Finish now": the borrowing screen's finish, elsewhere a stop.
        add(if matches!(s.screen, Screen::Borrowing | Screen::Refused) { "finish" } else { "cancel" });
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
        Screen::Count if s.count_said == 0 => add("read-again"),
        Screen::Count => {
            add("read-again");
            add("finish");
        }
        Screen::ReceiptChoice => {
            add("print-receipt");
            add("no-receipt");
            if s.can_print_account_receipt {
                add("print-receipt-account");
            }
        }
        Screen::Ending if !s.card_present => add("dismiss"),
        Screen::Returning => add("finish"),
        Screen::Account => match s.account.stage {
            AccountStage::Loading => {}
            AccountStage::Unavailable => add("dismiss"),
            AccountStage::Shown => {
                add("finish");
                if s.account.can_borrow {
                    add("dismiss");
                }
                if s.account.can_renew_all {
                    add("renew-all");
                }
                if s.account.page + 1 < s.account.pages {
                    add("account-next");
                }
                if s.account.page > 0 {
                    add("account-previous");
                }
            }
        },
        _ => {}
    }
    let patron = !matches!(
        s.screen,
        Screen::Starting | Screen::OutOfService | Screen::AdminPin | Screen::AdminLocked | Screen::AdminMenu
    );
    if patron {
        if !s.staff_called && !s.counter_mode {
            add("call-staff");
        }
        if s.languages.len() > 1 {
            add("languages");
        }
    }
    out
}

/// The button chosen on `s`: the one the keypad chose if the screen offers the same
/// buttons, else its first; `None` when keypad mode is off or there is none.
#[must_use]
pub fn focused(s: &Scene, t: &Tactile) -> Option<String> {
    if !t.on {
        return None;
    }
    let all = choices(s);
    match &t.focus {
        Some((offered, f)) if *offered == all => Some(f.clone()),
        _ => all.into_iter().next(),
    }
}

/// What `key` does on `s`: the keypad's state changes in `t`, and the button pressed
/// (if any) is returned for the console to carry out as a tap. The first key of a
/// session only turns keypad mode on and has the screen said (a digit on the PIN pad
/// types, as a patron who knows the pad expects).
pub fn press(s: &Scene, t: &mut Tactile, key: Key) -> Option<UiAction> {
    let all = choices(s);
    // The PIN pad itself, nothing over it.
    let pin = matches!(s.screen, Screen::Pin | Screen::Password)
        && s.pin_stage == PinStage::Entering
        && !s.languages_open
        && s.timeout_seconds.is_none();
    let key = match key {
        Key::Digit(_) | Key::Correct if pin => key,
        _ if !t.on => Key::Help,
        other => other,
    };
    t.on = true;
    let now = focused(s, t);
    let at = now.as_ref().and_then(|f| all.iter().position(|c| c == f));
    let keep = |f: Option<String>| f.map(|f| (all.clone(), f));
    match key {
        Key::Help => {
            t.repeat = t.repeat.wrapping_add(1);
            t.focus = keep(now);
            None
        }
        Key::Next | Key::Previous if !all.is_empty() => {
            let n = all.len();
            let i = match (at, key) {
                (Some(i), Key::Next) => (i + 1) % n,
                (Some(i), _) => (i + n - 1) % n,
                (None, _) => 0,
            };
            t.focus = keep(all.get(i).cloned());
            None
        }
        Key::Next | Key::Previous => None,
        // On the PIN pad, Enter is OK whatever is chosen (the key card says so).
        Key::Select if pin => UiAction::parse("submit"),
        Key::Select => {
            t.focus = keep(now.clone());
            UiAction::parse(&now?)
        }
        Key::Digit(d) if pin => UiAction::parse(&format!("digit-{d}")),
        // The count check: 1-9, and 0 for "10 or more".
        Key::Digit(d) if s.screen == Screen::Count && s.count_said == 0 && s.timeout_seconds.is_none() => {
            UiAction::parse(&format!("count-{}", if d == 0 { 10 } else { d }))
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

    fn on() -> Tactile {
        Tactile { on: true, ..Tactile::default() }
    }

    #[test]
    fn the_first_key_only_turns_keypad_mode_on_and_has_the_screen_said() {
        let s = scene(Screen::ReceiptChoice);
        for key in [Key::Help, Key::Select, Key::Next, Key::Cancel, Key::Digit(1)] {
            let mut t = Tactile::default();
            assert_eq!(focused(&s, &t), None, "off until a key is pressed");
            assert_eq!(press(&s, &mut t, key), None, "{key:?} pressed nothing");
            assert!(t.on);
            assert_eq!(t.repeat, 1, "{key:?}: the screen said");
            assert_eq!(focused(&s, &t).as_deref(), Some("print-receipt"));
        }
        // On the PIN pad a digit types at once.
        let pin = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Pin) };
        let mut t = Tactile::default();
        assert_eq!(press(&pin, &mut t, Key::Digit(7)), UiAction::parse("digit-7"));
    }

    #[test]
    fn next_and_previous_go_round_the_screen_s_buttons_and_enter_presses_the_one_chosen() {
        let s = scene(Screen::ReceiptChoice);
        let mut t = on();
        assert_eq!(choices(&s), ["print-receipt", "no-receipt", "call-staff", "languages"]);
        press(&s, &mut t, Key::Next);
        assert_eq!(focused(&s, &t).as_deref(), Some("no-receipt"));
        press(&s, &mut t, Key::Previous);
        press(&s, &mut t, Key::Previous);
        assert_eq!(focused(&s, &t).as_deref(), Some("languages"), "round from the first to the last");
        press(&s, &mut t, Key::Next);
        press(&s, &mut t, Key::Next);
        assert_eq!(press(&s, &mut t, Key::Select), Some(UiAction::NoReceipt));
    }

    #[test]
    fn other_buttons_offered_start_at_their_own_first() {
        let borrowing = scene(Screen::Borrowing);
        let mut t = on();
        press(&borrowing, &mut t, Key::Next);
        assert_eq!(focused(&borrowing, &t).as_deref(), Some("call-staff"), "chosen here: kept");
        assert_eq!(focused(&scene(Screen::ReceiptChoice), &t).as_deref(), Some("print-receipt"));
        // An overlay (are you still there?): its own first.
        let warn = Scene { timeout_seconds: Some(5), ..borrowing.clone() };
        assert_eq!(focused(&warn, &t).as_deref(), Some("still-here"));
        // Cancel chosen on the PIN pad; the last-try warning comes up: its own first.
        let pin = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Pin) };
        let mut t = on();
        press(&pin, &mut t, Key::Next);
        assert_eq!(focused(&pin, &t).as_deref(), Some("cancel"));
        let last = Scene { pin_stage: PinStage::LastTryWarning, ..pin.clone() };
        assert_eq!(focused(&last, &t).as_deref(), Some("acknowledge-last-try"));
    }

    #[test]
    fn on_the_pin_pad_digits_type_correct_deletes_enter_is_ok_and_cancel_cancels() {
        let s = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Pin) };
        let mut t = on();
        press(&s, &mut t, Key::Next);
        assert_eq!(focused(&s, &t).as_deref(), Some("cancel"));
        assert_eq!(press(&s, &mut t, Key::Digit(7)), UiAction::parse("digit-7"));
        assert_eq!(press(&s, &mut t, Key::Correct), UiAction::parse("back"));
        assert_eq!(press(&s, &mut t, Key::Select), UiAction::parse("submit"), "OK, whatever is chosen");
        assert_eq!(press(&s, &mut t, Key::Cancel), Some(UiAction::Cancel));
        // Not entering (checking the PIN): digits do nothing.
        let checking = Scene { pin_stage: PinStage::Verifying, ..s.clone() };
        assert_eq!(press(&checking, &mut t, Key::Digit(1)), None);
        // Something over the pad: its keys are the overlay's, the PIN is left alone.
        let list = Scene { languages_open: true, ..s.clone() };
        let mut t = on();
        assert_eq!(press(&list, &mut t, Key::Digit(1)), None);
        assert_eq!(press(&list, &mut t, Key::Correct), None);
        assert_eq!(press(&list, &mut t, Key::Select), UiAction::parse("language-ja"));
        let warn = Scene { timeout_seconds: Some(5), ..s.clone() };
        let mut t = on();
        assert_eq!(press(&warn, &mut t, Key::Select), Some(UiAction::StillHere));
        // Elsewhere digits and correct do nothing, and cancel only where there is one.
        let b = scene(Screen::Borrowing);
        let mut t = on();
        assert_eq!(press(&b, &mut t, Key::Digit(1)), None);
        assert_eq!(press(&b, &mut t, Key::Correct), None);
        assert_eq!(press(&b, &mut t, Key::Cancel), None);
    }

    #[test]
    fn overlays_offer_their_own_buttons_and_the_count_takes_digits() {
        let warn = Scene { timeout_seconds: Some(10), ..scene(Screen::Borrowing) };
        assert_eq!(choices(&warn), ["still-here", "finish"]);
        let warn_pin = Scene { timeout_seconds: Some(10), ..scene(Screen::Pin) };
        assert_eq!(choices(&warn_pin), ["still-here", "cancel"]);
        let last = Scene { pin_stage: PinStage::LastTryWarning, ..scene(Screen::Pin) };
        assert_eq!(choices(&last), ["acknowledge-last-try", "cancel"]);
        let list = Scene { languages_open: true, ..scene(Screen::Idle) };
        assert_eq!(choices(&list), ["language-ja", "language-en", "languages-close"]);
        assert_eq!(language_of("language-en"), Some(Language::English));
        let count = scene(Screen::Count);
        let mut t = on();
        assert_eq!(press(&count, &mut t, Key::Digit(3)), Some(UiAction::Count(3)));
        assert_eq!(press(&count, &mut t, Key::Digit(0)), Some(UiAction::Count(10)), "0: 10 or more");
        let missed = Scene { count_said: 4, ..count.clone() };
        assert_eq!(press(&missed, &mut t, Key::Digit(3)), None);
        assert_eq!(choices(&missed)[..2], ["read-again", "finish"]);
    }

    #[test]
    fn only_buttons_the_screen_shows_now() {
        // Staff called: the bar's button is gone; a counter has none.
        let called = Scene { staff_called: true, ..scene(Screen::Borrowing) };
        assert_eq!(choices(&called), ["finish", "languages"]);
        // The thank-you screen: OK once the card is gone.
        let ending = Scene { card_present: true, ..scene(Screen::Ending) };
        assert_eq!(choices(&ending)[0], "call-staff");
        let gone = Scene { card_present: false, ..ending.clone() };
        assert_eq!(choices(&gone)[0], "dismiss");
        // The account: nothing while loading; back when it cannot be read.
        let loading = scene(Screen::Account);
        assert_eq!(choices(&loading)[0], "call-staff");
        let mut unavailable = scene(Screen::Account);
        unavailable.account.stage = AccountStage::Unavailable;
        assert_eq!(choices(&unavailable)[0], "dismiss");
        let mut shown = scene(Screen::Account);
        shown.account.stage = AccountStage::Shown;
        shown.account.can_renew_all = true;
        shown.account.pages = 2;
        assert_eq!(choices(&shown)[..3], ["finish", "renew-all", "account-next"]);
        shown.account.page = 1;
        assert_eq!(choices(&shown)[..3], ["finish", "renew-all", "account-previous"]);
    }

    #[test]
    fn staff_screens_offer_nothing_and_one_language_has_no_list() {
        assert!(choices(&scene(Screen::AdminMenu)).is_empty());
        let one = Scene { languages: vec![Language::Japanese], ..scene(Screen::Borrowing) };
        assert_eq!(choices(&one), ["finish", "call-staff"]);
    }

    #[test]
    fn a_digit_never_shows_in_a_log_line() {
        assert_eq!(format!("{:?}", Key::Digit(7)), "Digit(_)");
    }
}
