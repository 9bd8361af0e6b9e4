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
    /// The entry with the library's card named in its `{}` by the catalogue's own words
    /// ("library card": a library's own name for it is not known when the pack is made).
    Card(&'static str),
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
    use Part::{Card, Count, Lead, Of, Text};
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
        // The borrowing list's other reasons (`refusal-text` on the screens).
        ("refusal-no-answer".into(), vec![Text("The library system did not answer.")]),
        (
            "refusal-unconfirmed".into(),
            vec![Text("The library system's answer was unclear. Staff will check it.")],
        ),
        (
            "refusal-offline-limit".into(),
            vec![Text("Only a few books can be borrowed while the library system is offline.")],
        ),
        (
            "refusal-offline-stopped".into(),
            vec![Text("Books cannot be lent offline right now. Please borrow this one at the counter.")],
        ),
        (
            "refusal-offline-pending".into(),
            vec![Text(
                "This book was lent while the library system was offline, and that loan has not reached it yet. Please ask staff.",
            )],
        ),
        ("refusal-parts-missing".into(), vec![Text("Not every part of this set is on the pad.")]),
        ("refusal-duplicate-tags".into(), vec![Text("Two books on the pad carry this item's tag.")]),
        // The returns list: a book for the hold shelf or staff, one not returned and why.
        (
            "return-hold-shelf".into(),
            vec![Text("Returned. Someone has reserved it: please give it to staff.")],
        ),
        ("return-staff-check".into(), vec![Text("Returned. Please give this book to staff.")]),
        (
            "return-refused-not-checked-out".into(),
            vec![Text("Not returned."), Text("This book is not on loan: it may have been returned already.")],
        ),
        (
            "return-refused-not-in-catalogue".into(),
            vec![Text("Not returned."), Text("This item is not in the library's catalogue.")],
        ),
        (
            "return-refused-no-answer".into(),
            vec![Text("Not returned."), Text("The library system did not answer.")],
        ),
        (
            "return-refused-unconfirmed".into(),
            vec![
                Text("Not returned."),
                Text("The library system's answer was unclear. Staff will check it."),
            ],
        ),
        (
            "return-refused-offline-pending".into(),
            vec![
                Text("Not returned."),
                Text(
                    "This book was lent while the library system was offline, and that loan has not reached it yet. Please ask staff.",
                ),
            ],
        ),
        (
            "return-refused-parts-missing".into(),
            vec![Text("Not returned."), Text("Not every part of this set is on the pad.")],
        ),
        (
            "return-refused-duplicate-tags".into(),
            vec![Text("Not returned."), Text("Two books on the pad carry this item's tag.")],
        ),
        (
            "return-refused".into(),
            vec![Text("Not returned."), Text("The library system did not accept the return.")],
        ),
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
        ("choice-renew-all".into(), vec![Text("Renew all")]),
        ("choice-account-next".into(), vec![Text("Next page")]),
        ("choice-account-previous".into(), vec![Text("Previous page")]),
        // The account screen: looking it up, not available, what it shows, a renewal
        // refused (a renewal done says its new due date).
        (
            "account-loading".into(),
            vec![
                Text("Looking up your account…"),
                Text("Asking the library system. This can take a few seconds."),
            ],
        ),
        (
            "account-unavailable".into(),
            vec![
                Text("Your account cannot be shown right now"),
                Text("The library system did not answer. You can still borrow books, or ask staff."),
            ],
        ),
        ("account".into(), vec![Text("Your account")]),
        ("account-no-loans".into(), vec![Text("You have no books on loan.")]),
        ("account-blocked".into(), vec![Text("You cannot borrow books at the moment. Please ask staff.")]),
        ("renew-refused-on-hold".into(), vec![Text("Not renewed: another patron has reserved it.")]),
        ("renew-refused-no-answer".into(), vec![Text("Not renewed: the library system did not answer.")]),
        (
            "renew-unconfirmed".into(),
            vec![Text("Not confirmed: the library system's answer was unclear. Staff will check it.")],
        ),
        ("renew-refused".into(), vec![Text("Not renewed.")]),
        // The count check: fewer items read than the patron said.
        (
            "count-mismatch".into(),
            vec![Text(
                "A tag may be hidden under another book. Spread the books out on the pad and read them again, or take the others to the counter.",
            )],
        ),
        // Each language's name, in its own voice (the list read on the keypad).
        ("language-name".into(), vec![Text("This language's own name")]),
        // The ending screen: its title and words, as shown (`notice-<name>`; `-card` where
        // the screen offers the library's own card too, named by the catalogue's words).
        (
            "notice-goodbye".into(),
            vec![Text("Thank you!"), Text("Please return your books by the due dates.")],
        ),
        (
            "notice-receipt-printed".into(),
            vec![Text("Here is your receipt"), Text("Please return your books by the due dates on it.")],
        ),
        (
            "notice-label-printed".into(),
            vec![
                Text("Here is your label"),
                Text("It is valid today only. Scan it at a self-checkout machine."),
            ],
        ),
        ("notice-cancelled".into(), vec![Text("Cancelled")]),
        (
            "notice-timed-out".into(),
            vec![
                Text("Your session has ended"),
                Text("It ended because nothing happened for a while. Books already borrowed stay borrowed."),
            ],
        ),
        (
            "notice-card-locked".into(),
            vec![
                Text("Your card's PIN is locked"),
                Text(
                    "Too many wrong PINs. Staff have been called. The PIN can only be reset at the city office.",
                ),
            ],
        ),
        (
            "notice-card-not-mynumber".into(),
            vec![Text("This card cannot be used here"), Text("Please use a My Number card.")],
        ),
        (
            "notice-card-not-mynumber-card".into(),
            vec![Text("This card cannot be used here"), Card("Please use a My Number card or your {}.")],
        ),
        (
            "notice-card-unreadable".into(),
            vec![
                Text("The card could not be read"),
                Text("Place it on the reader again. If it keeps failing, please ask at the counter."),
            ],
        ),
        (
            "notice-reader-failed".into(),
            vec![
                Text("The card reader is not working"),
                Text("Staff have been called. Please ask at the counter."),
            ],
        ),
        (
            "notice-reader-failed-card".into(),
            vec![
                Text("The card reader is not working"),
                Card("Staff have been called. Please use your {} or ask at the counter."),
            ],
        ),
        (
            "notice-card-not-confirmed".into(),
            vec![Text("This card could not be confirmed"), Text("Please ask at the counter.")],
        ),
        (
            "notice-revoked".into(),
            vec![
                Text("This card's certificate is no longer valid"),
                Text(
                    "It may have been reported lost or renewed. Please ask at the counter or the city office.",
                ),
            ],
        ),
        (
            "notice-expired".into(),
            vec![
                Text("This card's certificate has expired"),
                Text("It can be renewed at the city office. Until then, please ask at the counter."),
            ],
        ),
        (
            "notice-expired-card".into(),
            vec![
                Text("This card's certificate has expired"),
                Card("It can be renewed at the city office. You can use your {} until then."),
            ],
        ),
        (
            "notice-not-linked".into(),
            vec![
                Text("This card is not registered at this library"),
                Text("Register it once at the counter; then you can use it here."),
            ],
        ),
        (
            "notice-platform-unavailable".into(),
            vec![
                Text("The card check service cannot be reached"),
                Text("Please try again later or ask at the counter."),
            ],
        ),
        (
            "notice-platform-unavailable-card".into(),
            vec![
                Text("The card check service cannot be reached"),
                Card("Please try again later, or use your {}."),
            ],
        ),
        (
            "notice-patron-unknown".into(),
            vec![Text("Your library record was not found"), Text("Please ask at the counter.")],
        ),
        (
            "notice-patron-blocked".into(),
            vec![Text("Borrowing is not possible right now"), Text("Please ask at the counter.")],
        ),
        (
            "notice-library-unavailable".into(),
            vec![
                Text("The library system cannot be reached"),
                Text("Please try again later or ask at the counter."),
            ],
        ),
        (
            "notice-label-wrong-day".into(),
            vec![
                Text("This label was printed on another day"),
                Text("Labels are valid on the day they are printed only. Please print a new one."),
            ],
        ),
        (
            "notice-label-invalid".into(),
            vec![Text("This label cannot be used"), Text("Please ask at the counter.")],
        ),
        (
            "notice-label-unknown-key".into(),
            vec![
                Text("This label is from another library"),
                Text("Please use it at the library that printed it, or print a new one here."),
            ],
        ),
        (
            "notice-paper-out".into(),
            vec![
                Text("The printer is out of paper"),
                Text("Staff have been called. Your books are borrowed."),
            ],
        ),
        (
            "notice-printer-failed".into(),
            vec![
                Text("The printer is not working"),
                Text("Staff have been called. Your books are borrowed."),
            ],
        ),
        (
            "notice-identify-first".into(),
            vec![
                Text("Please identify yourself first"),
                Text("Place your My Number card on the reader, then scan your books."),
            ],
        ),
        (
            "notice-identify-first-card".into(),
            vec![
                Text("Please identify yourself first"),
                Card("Place your My Number card on the reader or scan your {}, then scan your books."),
            ],
        ),
        (
            "notice-malfunction".into(),
            vec![
                Text("Something went wrong"),
                Text("Staff have been called. Please wait or ask at the counter."),
            ],
        ),
        ("notice-number-cleared".into(), vec![Text("The number was cleared from the screen")]),
        (
            "notice-linked".into(),
            vec![
                Text("The card is linked"),
                Card(
                    "From now on this My Number card works as the {}, at the counter and at the self-checkout machines.",
                ),
            ],
        ),
        ("notice-unlinked".into(), vec![Text("The link was removed")]),
        ("notice-had-no-link".into(), vec![Text("This card had no link")]),
        (
            "notice-link-failed".into(),
            vec![
                Text("The link could not be saved"),
                Text("Nothing was changed. Check the kiosk's status page and the data partition."),
            ],
        ),
        (
            "notice-link-no-store".into(),
            vec![
                Text("Links are kept by the authentication service"),
                Text("This kiosk checks cards at the authentication service, where cards are registered."),
            ],
        ),
        (
            "notice-returns-done".into(),
            vec![
                Text("Thank you for returning your books"),
                Text(
                    "Put the returned books in the return box. Books for the hold shelf or for staff go where the screen said.",
                ),
            ],
        ),
        (
            "notice-label-used".into(),
            vec![
                Text("This label has already been used"),
                Text("A label works once. Please use your card, or print a new label."),
            ],
        ),
        (
            "notice-library-card-not-accepted".into(),
            vec![
                Text("Please use your My Number card"),
                Card(
                    "This machine does not take the {} to log in. Place your My Number card on the reader, or ask at the counter.",
                ),
            ],
        ),
        (
            "notice-password-refused".into(),
            vec![
                Text("The password was not accepted"),
                Text("Please ask at the counter: staff can check your password or set a new one."),
            ],
        ),
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
        t.push((
            format!("unsecured-{n}"),
            vec![
                Count("{n} borrowed book needs staff", "{n} borrowed books need staff", n),
                Count(
                    "Its security tag could not be switched off. Please take it to the counter before you leave.",
                    "Their security tags could not be switched off. Please take them to the counter before you leave.",
                    n,
                ),
            ],
        ));
        t.push((format!("account-loans-{n}"), vec![Count("{n} book on loan", "{n} books on loan", n)]));
        t.push((format!("account-overdue-{n}"), vec![Count("{n} book overdue", "{n} books overdue", n)]));
        t.push((
            format!("account-holds-{n}"),
            vec![Count("{n} reserved book is ready for you", "{n} reserved books are ready for you", n)],
        ));
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
                Part::Card(id) => {
                    let card = words::spoken(language, "library card", &[], None);
                    words::spoken(language, id, &[&card], None)
                }
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
            Part::Text(id) | Part::Count(id, _, _) | Part::Of(id, _, _) | Part::Lead(id) | Part::Card(id) => {
                id
            }
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

/// Who reads a book's title (spoken at run time, through headphones only): Japanese
/// (`None`: Open JTalk) when it has kana or kanji, whatever the patron's language (a
/// Japanese library's titles are Japanese); Korean when it has hangul; else the patron's
/// own eSpeak NG voice when it reads Latin letters (English, Vietnamese, Portuguese),
/// and English for the others (Chinese is read from pinyin, easy Japanese by Open JTalk,
/// neither of which reads "The Little Prince").
#[must_use]
pub fn title_voice(language: Language, title: &str) -> Option<&'static str> {
    let japanese = |c: char| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff66}'..='\u{ff9f}');
    let hangul =
        |c: char| matches!(c, '\u{ac00}'..='\u{d7af}' | '\u{1100}'..='\u{11ff}' | '\u{3130}'..='\u{318f}');
    if title.chars().any(japanese) {
        None
    } else if title.chars().any(hangul) {
        Some("ko")
    } else {
        match language {
            Language::English | Language::Vietnamese | Language::Portuguese => espeak_voice(language),
            _ => Some("en-us"),
        }
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
