//! The spoken prompts: for each, the catalogue entries it says, in order. The words are
//! the screens' own (one catalogue: a wording changed on screen is changed in speech when
//! the pack is next made, and `tests/prompts.rs` fails until it is).
//!
//! A prompt is spoken whole, each entry a sentence of its own (never words glued into a
//! sentence). Numbers are in the catalogue's words and the synthesiser reads them as
//! numbers ("3冊", "2 tries left"). A PIN's digits are never spoken: "2 of 4 digits
//! entered". Titles are not in the pack: they are read only through headphones, at run
//! time.
//!
//! A due date is said in pieces of the pack, each the catalogue's own word for it ("Due
//! back", then 12月 7日 月曜日 or Monday, the 7th, of December): the weekday, the day and
//! the month in the order the catalogue's date format ("{0} {1} {2}") puts them, so a
//! date is said as it is written in that language (`due_date`).

use kiosk_core::scene::{DueDate, Language};

use crate::words;

/// One catalogue entry of a prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Text(&'static str),
    /// A plural for this count.
    Count(&'static str, &'static str, u64),
    /// `{} of {}` filled with these numbers.
    Of(&'static str, u8, u8),
    /// The entry's words before its `{}` ("Due back {}": 返却期限), without the colon.
    Lead(&'static str),
}

/// The weekdays as said, Monday first (`DueDate::weekday`).
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// The days of a month as said, the 1st first.
const DAYS: [&str; 31] = [
    "the 1st", "the 2nd", "the 3rd", "the 4th", "the 5th", "the 6th", "the 7th", "the 8th", "the 9th",
    "the 10th", "the 11th", "the 12th", "the 13th", "the 14th", "the 15th", "the 16th", "the 17th",
    "the 18th", "the 19th", "the 20th", "the 21st", "the 22nd", "the 23rd", "the 24th", "the 25th",
    "the 26th", "the 27th", "the 28th", "the 29th", "the 30th", "the 31st",
];

/// The months as said, January first.
const MONTHS: [&str; 12] = [
    "of January",
    "of February",
    "of March",
    "of April",
    "of May",
    "of June",
    "of July",
    "of August",
    "of September",
    "of October",
    "of November",
    "of December",
];

/// Greatest count spoken with its number ("5 books borrowed"); above it the tone alone.
pub const MAX_COUNT: u64 = 10;

/// Every prompt's key, with its parts.
fn table() -> Vec<(String, Vec<Part>)> {
    use Part::{Count, Lead, Of, Text};
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
        // A due date: the screens' own lead, then its pieces (`due_date`).
        ("due-back".into(), vec![Lead("Due back {}")]),
    ];
    for (n, id) in (0..).zip(WEEKDAYS) {
        t.push((format!("weekday-{n}"), vec![Text(id)]));
    }
    for (n, id) in (1..).zip(DAYS) {
        t.push((format!("day-{n}"), vec![Text(id)]));
    }
    for (n, id) in (1..).zip(MONTHS) {
        t.push((format!("month-{n}"), vec![Text(id)]));
    }
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
                Part::Lead(id) => {
                    let whole = words::spoken(language, id, &["{}"], None);
                    let lead = whole.split("{}").next().unwrap_or_default();
                    lead.trim_end_matches([' ', ':', '：']).to_owned()
                }
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
            Part::Text(id) | Part::Count(id, _, _) | Part::Of(id, _, _) | Part::Lead(id) => id,
        })
        .collect()
}

/// eSpeak NG's voice for a language's prompts; `None` for Japanese and easy Japanese,
/// which Open JTalk speaks. Chinese is read through its pinyin (`cmn-latn-pinyin`):
/// Debian's plain `cmn` voice knows few characters and spells the rest out in English
/// ("ri four"), which `tests/voices.rs` guards against.
#[must_use]
pub fn espeak_voice(language: Language) -> Option<&'static str> {
    match language {
        Language::Japanese | Language::EasyJapanese => None,
        Language::English => Some("en-us"),
        Language::Chinese => Some("cmn-latn-pinyin"),
        Language::Korean => Some("ko"),
        Language::Vietnamese => Some("vi"),
        Language::Portuguese => Some("pt-br"),
    }
}

/// The prompts that say "due back" and `date`, in `language`'s order: its date format
/// ("{0} {1} {2}": 12月7日（月） puts the month first, Mon 7 Dec the weekday) orders the
/// weekday, the day and the month.
#[must_use]
pub fn due_date(language: Language, date: &DueDate) -> Vec<String> {
    let format = words::tr(language, "{0} {1} {2}", &[]);
    let mut pieces = [
        ("{0}", format!("weekday-{}", date.weekday.min(6))),
        ("{1}", format!("day-{}", date.day.clamp(1, 31))),
        ("{2}", format!("month-{}", date.month.clamp(1, 12))),
    ];
    pieces.sort_by_key(|(slot, _)| format.find(slot).unwrap_or(usize::MAX));
    std::iter::once("due-back".to_owned()).chain(pieces.into_iter().map(|(_, key)| key)).collect()
}
