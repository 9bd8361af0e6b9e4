//! The spoken prompts: for each, the catalogue entries it says, in order. The words are
//! the screens' own (one catalogue: a wording changed on screen is changed in speech when
//! the pack is next made, and `tests/prompts.rs` fails until it is).
//!
//! A prompt is spoken whole, each entry a sentence of its own (never words glued into a
//! sentence). Numbers are in the catalogue's words and the synthesiser reads them as
//! numbers ("3冊", "2 tries left"). A PIN's digits are never spoken: "2 of 4 digits
//! entered". Titles are not in the pack: they are read only through headphones, at run
//! time.

use kiosk_core::scene::Language;

use crate::words;

/// One catalogue entry of a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Text(&'static str),
    /// A plural for this count.
    Count(&'static str, &'static str, u64),
    /// `{} of {}` filled with these numbers.
    Of(&'static str, u8, u8),
}

/// Greatest count spoken with its number ("5 books borrowed"); above it the tone alone.
pub const MAX_COUNT: u64 = 10;

/// Every prompt's key, with its parts.
fn table() -> Vec<(String, Vec<Part>)> {
    use Part::{Count, Of, Text};
    let mut t: Vec<(String, Vec<Part>)> = vec![
        ("idle".into(), vec![Text("Place your My Number card on the reader")]),
        ("out-of-service".into(), vec![Text("This machine is out of service")]),
        (
            "reading-card".into(),
            vec![Text("Reading your card…"), Text("Please leave your card on the reader.")],
        ),
        ("pin".into(), vec![Text("Enter your card's 4-digit PIN")]),
        ("pin-checking".into(), vec![Text("Checking your PIN…")]),
        ("pin-locked".into(), vec![Text("Your card's PIN is locked")]),
        (
            "last-try".into(),
            vec![
                Text("Last try"),
                Text(
                    "If this PIN is wrong, your card will be locked and must be reset at the city office. If you are not sure of your PIN, cancel and ask at the counter.",
                ),
            ],
        ),
        ("password".into(), vec![Text("Enter your library password")]),
        ("password-wrong".into(), vec![Text("The library did not accept that password.")]),
        (
            "password-last-try".into(),
            vec![
                Text("Last try"),
                Text(
                    "If this password is wrong too, please ask at the counter. The library may lock your password after several wrong tries. If you are not sure of it, cancel and ask at the counter.",
                ),
            ],
        ),
        (
            "password-refused".into(),
            vec![
                Text("The password was not accepted"),
                Text("Please ask at the counter: staff can check your password or set a new one."),
            ],
        ),
        ("checking".into(), vec![Text("Confirming your card…")]),
        ("borrowing".into(), vec![Text("Scan your books one at a time")]),
        ("borrowing-pad".into(), vec![Text("Put your books on the pad")]),
        ("not-in-catalogue".into(), vec![Text("This item is not in the library's catalogue.")]),
        ("reserved".into(), vec![Text("Another patron has reserved this book.")]),
        ("on-loan".into(), vec![Text("This book is recorded as on loan to someone else.")]),
        ("not-here".into(), vec![Text("This book cannot be borrowed here.")]),
        ("to-counter".into(), vec![Text("Please take this book to the counter.")]),
        ("count".into(), vec![Text("How many items are you borrowing?")]),
        ("receipt-choice".into(), vec![Text("Would you like a receipt?")]),
        ("printing-receipt".into(), vec![Text("Printing your receipt…")]),
        ("printing-label".into(), vec![Text("Printing your label…")]),
        ("take-card".into(), vec![Text("Please take your card")]),
        ("thank-you".into(), vec![Text("Thank you!")]),
        ("still-there".into(), vec![Text("Are you still there?")]),
        ("returning".into(), vec![Text("Scan the books you are returning, one at a time")]),
        ("returns-done".into(), vec![Text("Thank you for returning your books")]),
        ("choose-language".into(), vec![Text("Choose a language")]),
        // The tactile keypad: the button chosen, by its own words.
        ("choice-still-here".into(), vec![Text("Continue")]),
        ("choice-languages-close".into(), vec![Text("Close")]),
        ("choice-acknowledge-last-try".into(), vec![Text("I understand, enter my PIN")]),
        ("choice-acknowledge-last-try-password".into(), vec![Text("I understand, enter my password")]),
        ("choice-return".into(), vec![Text("Return books")]),
        ("choice-cancel".into(), vec![Text("Cancel")]),
        ("choice-ok".into(), vec![Text("OK")]),
        ("choice-finish".into(), vec![Text("Finish")]),
        ("choice-account".into(), vec![Text("My account: loans, renewals, holds")]),
        ("choice-print-label".into(), vec![Text("Print a label for another machine")]),
        ("choice-back-to-borrowing".into(), vec![Text("Back to borrowing")]),
        ("choice-read-again".into(), vec![Text("Back to my books")]),
        ("choice-print-receipt".into(), vec![Text("Print receipt")]),
        ("choice-no-receipt".into(), vec![Text("No receipt")]),
        (
            "choice-print-receipt-account".into(),
            vec![Text("Receipt with my account: books on loan, next due date, reserved books ready")],
        ),
        ("choice-languages".into(), vec![Text("Choose a language")]),
        ("choice-call-staff".into(), vec![Text("Call staff")]),
        // Each language's name, in its own voice (the list read on the keypad).
        ("language-name".into(), vec![Text("This language's own name")]),
    ];
    for n in 1..=2 {
        t.push((
            format!("pin-wrong-{n}"),
            vec![Text("That PIN was wrong."), Count("{n} try left", "{n} tries left", n)],
        ));
    }
    for n in 1..=4u8 {
        t.push((format!("digits-{n}"), vec![Of("{} of {} digits entered", n, 4)]));
    }
    for n in 1..=MAX_COUNT {
        t.push((format!("borrowed-{n}"), vec![Count("{n} book borrowed", "{n} books borrowed", n)]));
        t.push((
            format!("refused-{n}"),
            vec![
                Count("{n} book could not be borrowed", "{n} books could not be borrowed", n),
                Count("Please take it to the counter.", "Please take them to the counter.", n),
            ],
        ));
        t.push((format!("returned-{n}"), vec![Count("{n} book returned", "{n} books returned", n)]));
    }
    t
}

/// Every prompt's key, in the order the pack holds them.
#[must_use]
pub fn keys() -> Vec<String> {
    table().into_iter().map(|(k, _)| k).collect()
}

/// What the prompt says in `language`, one sentence a part, as the synthesiser reads it
/// (easy Japanese: readings, not kanji). `None` for an unknown key.
#[must_use]
pub fn spoken(language: Language, key: &str) -> Option<Vec<String>> {
    let parts = table().into_iter().find(|(k, _)| k == key)?.1;
    Some(
        parts
            .into_iter()
            .map(|p| match p {
                Part::Text(id) => words::spoken(language, id, &[], None),
                Part::Count(one, many, n) => words::spoken(language, one, &[], Some((many, n))),
                Part::Of(id, a, b) => words::spoken(language, id, &[&a.to_string(), &b.to_string()], None),
            })
            .collect(),
    )
}

/// The ids the prompts use (the catalogue test checks each is translated).
#[must_use]
pub fn catalogue_ids() -> Vec<&'static str> {
    table()
        .into_iter()
        .flat_map(|(_, parts)| parts)
        .map(|p| match p {
            Part::Text(id) | Part::Count(id, _, _) | Part::Of(id, _, _) => id,
        })
        .collect()
}
