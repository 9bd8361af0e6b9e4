//! What the kiosk says and sounds when the screen changes: a pure function of the scene
//! before and the scene after, so every announcement is decided here and tested without a
//! sound device. The prompts' words are the catalogue's (`kiosk_ui::prompts`, by key);
//! the player plays what this returns, in order, cutting whatever still plays.

use crate::scene::{
    AccountStage, DueDate, Language, LoanRow, PinStage, Refusal, RenewStatus, ReturnStatus, Scene, Screen,
};

/// A tone (made by the audio driver).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cue {
    KeyClick,
    GoodScan,
    RefusedScan,
    Warning,
}

/// One thing to play.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Say {
    Cue(Cue),
    /// A prompt of the pack, by key, in the scene's language.
    Prompt(String),
    /// A prompt in another language (a language's own name, read in its own voice).
    PromptIn(Language, String),
    /// "Due back" and the date, in the scene's language: prompts of the pack in that
    /// language's order (`kiosk_ui::prompts::due_date`).
    DueDate(DueDate),
    /// A book's title as the library system gives it, made at run time: only while
    /// headphones are in (`Scene::headphones`), and played only on their own device,
    /// never the open speaker.
    Title(String),
}

/// Counts spoken with their number; above, the tone alone (`kiosk_ui::prompts::MAX_COUNT`).
const MAX_COUNT: usize = 10;

fn prompt(key: &str) -> Say {
    Say::Prompt(key.to_owned())
}

/// The prompt that says what a screen is for, on entering it.
fn entering(s: &Scene) -> Vec<Say> {
    match s.screen {
        Screen::Idle => vec![prompt("idle")],
        Screen::OutOfService => vec![prompt("out-of-service")],
        Screen::ReadingCard => vec![prompt("reading-card")],
        // The card's PIN: back at Entering after a wrong one, the tries left are said.
        Screen::Pin => match s.pin_stage {
            PinStage::LastTryWarning => vec![Say::Cue(Cue::Warning), prompt("last-try")],
            PinStage::Locked => vec![Say::Cue(Cue::Warning), prompt("pin-locked")],
            PinStage::Entering if s.last_wrong => match s.tries_left {
                Some(n @ 1..=2) => vec![Say::Cue(Cue::Warning), prompt(&format!("pin-wrong-{n}"))],
                _ => vec![Say::Cue(Cue::Warning)],
            },
            PinStage::Entering => vec![prompt("pin")],
            _ => Vec::new(),
        },
        // The library password has words of its own (never the card's PIN's warnings).
        Screen::Password => match s.pin_stage {
            PinStage::LastTryWarning => vec![Say::Cue(Cue::Warning), prompt("password-last-try")],
            PinStage::Locked => vec![Say::Cue(Cue::Warning), prompt("password-refused")],
            PinStage::Entering if s.last_wrong => vec![Say::Cue(Cue::Warning), prompt("password-wrong")],
            PinStage::Entering => vec![prompt("password")],
            _ => Vec::new(),
        },
        Screen::Checking => vec![prompt("checking")],
        Screen::Borrowing => {
            vec![prompt(if s.rfid_pad && !s.pad_fault { "borrowing-pad" } else { "borrowing" })]
        }
        // Books refused, and books lent whose security tag is still on: both go to the
        // counter (the gate would alarm at the second).
        Screen::Refused => {
            let cue = match (s.refused, s.unsecured) {
                (0, 0) => None,
                (0, _) => Some(Say::Cue(Cue::Warning)),
                _ => Some(Say::Cue(Cue::RefusedScan)),
            };
            cue.into_iter()
                .chain(count("refused", s.refused))
                .chain(count("unsecured", s.unsecured))
                .collect()
        }
        Screen::Count => vec![prompt("count")],
        Screen::ReceiptChoice => vec![prompt("receipt-choice")],
        Screen::Printing => {
            vec![prompt(if s.printing_label { "printing-label" } else { "printing-receipt" })]
        }
        // What the ending screen says (thanks, or what went wrong and what to do), then
        // the card.
        Screen::Ending => {
            std::iter::once(prompt(&notice(s))).chain(s.card_present.then(|| prompt("take-card"))).collect()
        }
        Screen::Returning => vec![prompt("returning")],
        Screen::Account => account(s),
        _ => Vec::new(),
    }
}

/// The account screen as it stands: looking it up, not available, or what it shows (the
/// loans counted, the holds ready, a block; with headphones in, each book of the page by
/// its title and due date).
fn account(s: &Scene) -> Vec<Say> {
    let a = &s.account;
    match a.stage {
        AccountStage::Loading => vec![prompt("account-loading")],
        AccountStage::Unavailable => vec![Say::Cue(Cue::Warning), prompt("account-unavailable")],
        AccountStage::Shown => {
            let mut out = vec![prompt("account")];
            out.extend(match (a.loans, a.overdue) {
                (0, _) => Some(prompt("account-no-loans")),
                (n, 0) => count("account-loans", n),
                (_, n) => count("account-overdue", n),
            });
            out.extend(count("account-holds", a.holds.len()));
            if !a.can_borrow {
                out.push(prompt("account-blocked"));
            }
            out.extend(account_page(s));
            out
        }
    }
}

/// While headphones are in, each book on the account's page: its title, then its due
/// date. (The page's number is not said: the screens' "1／3ページ" and "1/3 페이지" are
/// read as a list and a "slash"; the keypad's "Next page" says there is another.)
fn account_page(s: &Scene) -> Vec<Say> {
    let mut out: Vec<Say> = Vec::new();
    if s.headphones {
        for row in &s.account.rows {
            if !row.title.trim().is_empty() {
                out.push(Say::Title(row.title.clone()));
            }
            out.extend(row.due_date.map(Say::DueDate));
        }
    }
    out
}

/// The renewals answered between `before` and `after` (rows of the page shown): a good
/// tone and the new due date (said once when several share it), or a refused tone and
/// why; with headphones in, each book's title first.
fn renewals(before: &Scene, after: &Scene) -> Vec<Say> {
    let mut out = Vec::new();
    let mut last_date = None;
    for row in &after.account.rows {
        let was = before.account.rows.iter().find(|r| r.number == row.number).map(|r| r.renew);
        if was == Some(row.renew) || !matches!(row.renew, RenewStatus::Renewed | RenewStatus::Refused) {
            continue;
        }
        let title = (after.headphones && !row.title.trim().is_empty()).then(|| Say::Title(row.title.clone()));
        if row.renew == RenewStatus::Renewed {
            out.push(Say::Cue(Cue::GoodScan));
            out.extend(title);
            if after.headphones || row.new_due_date != last_date {
                out.extend(row.new_due_date.map(Say::DueDate));
                last_date = row.new_due_date;
            }
        } else {
            out.push(Say::Cue(Cue::RefusedScan));
            out.extend(title);
            out.push(prompt(match row.refusal {
                Refusal::OnHold => "renew-refused-on-hold",
                Refusal::NoAnswer => "renew-refused-no-answer",
                Refusal::Unconfirmed => "renew-unconfirmed",
                _ => "renew-refused",
            }));
        }
    }
    out
}

/// The ending screen's notice as a prompt: `notice-<name>`, and `-card` where the screen
/// words it for a library that also takes its own cards (`library_card_login`).
fn notice(s: &Scene) -> String {
    use crate::scene::Notice;
    let card_words = s.library_card_login
        && matches!(
            s.notice,
            Notice::CardNotMynumber
                | Notice::ReaderFailed
                | Notice::Expired
                | Notice::PlatformUnavailable
                | Notice::IdentifyFirst
        );
    format!("notice-{}{}", s.notice.name(), if card_words { "-card" } else { "" })
}

/// The button the tactile keypad chose, by its own words.
fn choice(s: &Scene) -> Option<Say> {
    let f = s.focus.as_str();
    if f.is_empty() {
        return None;
    }
    if let Some(l) = crate::tactile::language_of(f) {
        return Some(Say::PromptIn(l, "language-name".to_owned()));
    }
    Some(prompt(&match f {
        "submit" => "choice-ok".to_owned(),
        "dismiss" if s.screen == Screen::Account => "choice-back-to-borrowing".to_owned(),
        "dismiss" => "choice-ok".to_owned(),
        "acknowledge-last-try" if s.screen == Screen::Password => {
            "choice-acknowledge-last-try-password".to_owned()
        }
        other => format!("choice-{other}"),
    }))
}

fn count(what: &str, n: usize) -> Option<Say> {
    (1..=MAX_COUNT).contains(&n).then(|| prompt(&format!("{what}-{n}")))
}

/// Why the newest refused book was refused, as a prompt: the borrowing list's words;
/// and whether the patron is then asked to take it to the counter (not when the reason
/// already says where to go, nor for a set on the pad, which the patron puts right there).
fn refusal(s: &Scene) -> Option<(Say, bool)> {
    let newest = s.loans.iter().find(|l| l.refusal != Refusal::None)?;
    let (key, to_counter) = match newest.refusal {
        Refusal::NotInCatalogue => ("not-in-catalogue", true),
        Refusal::OnHold => ("reserved", true),
        Refusal::OnLoan => ("on-loan", true),
        Refusal::NoAnswer => ("refusal-no-answer", true),
        Refusal::Unconfirmed => ("refusal-unconfirmed", true),
        Refusal::OfflineLimit => ("refusal-offline-limit", true),
        Refusal::OfflineStopped => ("refusal-offline-stopped", false),
        Refusal::OfflinePending => ("refusal-offline-pending", false),
        Refusal::PartsMissing => ("refusal-parts-missing", false),
        Refusal::DuplicateTags => ("refusal-duplicate-tags", false),
        Refusal::None | Refusal::Other | Refusal::NotCheckedOut => ("not-here", true),
    };
    Some((prompt(key), to_counter))
}

/// What the newest line of the returns list asks of the patron, as the returns list
/// words it: a book returned for the hold shelf or for staff, or one not returned and why.
fn return_line(s: &Scene) -> Option<Say> {
    let newest = s.returns.first()?;
    let key = match newest.status {
        ReturnStatus::Returned => return None,
        ReturnStatus::HoldShelf => "return-hold-shelf",
        ReturnStatus::StaffCheck => "return-staff-check",
        ReturnStatus::Refused => match newest.refusal {
            Refusal::NotCheckedOut => "return-refused-not-checked-out",
            Refusal::NotInCatalogue => "return-refused-not-in-catalogue",
            Refusal::NoAnswer => "return-refused-no-answer",
            Refusal::Unconfirmed => "return-refused-unconfirmed",
            Refusal::OfflinePending => "return-refused-offline-pending",
            Refusal::PartsMissing => "return-refused-parts-missing",
            Refusal::DuplicateTags => "return-refused-duplicate-tags",
            _ => "return-refused",
        },
    };
    Some(prompt(key))
}

/// A line lent now (not refused, not a renewal).
fn lent(l: &LoanRow) -> bool {
    l.refusal == Refusal::None && !l.renewed
}

/// The due date of the newest book lent.
fn newest_due(s: &Scene) -> Option<DueDate> {
    s.loans.iter().find(|l| lent(l)).and_then(|l| l.due_date)
}

/// The due date of the book just lent, when it differs from the one said before it (the
/// session's first, or a book lent for a shorter time): a loan's books usually share one
/// date, said once.
fn due(before: &Scene, after: &Scene) -> Option<Say> {
    let newest = newest_due(after)?;
    (newest_due(before) != Some(newest)).then_some(Say::DueDate(newest))
}

/// The titles of the `n` newest lines picked (newest first), oldest first, while headphones are
/// in (else none: a title is never said on the open speaker).
fn titles<'a>(after: &Scene, picked: impl Iterator<Item = Option<&'a str>>, n: usize) -> Vec<Say> {
    if !after.headphones {
        return Vec::new();
    }
    let mut said: Vec<Say> =
        picked.flatten().take(n).filter(|t| !t.trim().is_empty()).map(|t| Say::Title(t.to_owned())).collect();
    said.reverse();
    said
}

/// What to play when the screen goes from `before` to `after`.
#[must_use]
pub fn announce(before: &Scene, after: &Scene) -> Vec<Say> {
    let mut out = Vec::new();
    let admin = matches!(after.screen, Screen::AdminPin | Screen::AdminLocked | Screen::AdminMenu);
    if admin {
        return out; // staff's screens are silent
    }
    // The patron asks "are you still there?" first: it outranks the rest.
    if after.timeout_seconds.is_some() && before.timeout_seconds.is_none() {
        return [Say::Cue(Cue::Warning), prompt("still-there")].into_iter().chain(choice(after)).collect();
    }
    if after.languages_open && !before.languages_open {
        return std::iter::once(prompt("choose-language")).chain(choice(after)).collect();
    }
    // The keypad's help key: what this screen is for, and the button chosen.
    // (Only a rise: the count going back to 0 at the idle screen's reset is not a key.)
    if after.repeat > before.repeat {
        let again = if after.languages_open { vec![prompt("choose-language")] } else { entering(after) };
        return again.into_iter().filter(|s| !matches!(s, Say::Cue(_))).chain(choice(after)).collect();
    }
    // The card taken at the ending screen: thanks after a notice of something done; after
    // one of a failure, its words go on (nothing cuts them).
    if after.screen == Screen::Ending
        && before.screen == Screen::Ending
        && before.card_present
        && !after.card_present
    {
        // (Goodbye's own title is the thanks: not said twice.)
        if after.notice.is_good() && after.notice != crate::scene::Notice::Goodbye {
            out.push(prompt("thank-you"));
        }
        return out;
    }
    let new_screen = after.screen != before.screen
        || (matches!(after.screen, Screen::Pin | Screen::Password) && after.pin_stage != before.pin_stage)
        || (after.screen == Screen::Account && after.account.stage != before.account.stage);
    if new_screen || after.language != before.language {
        out.extend(entering(after));
        // The button Enter presses (on the PIN pad, Enter is OK: said by the help key).
        if !matches!(after.screen, Screen::Pin | Screen::Password) {
            out.extend(choice(after));
        }
        return out;
    }
    // Another page of the account: its books (with headphones), the button.
    if after.screen == Screen::Account && after.account.page != before.account.page {
        out.extend(account_page(after));
        out.extend(choice(after));
        return out;
    }
    // The keypad moved to another button.
    if after.focus != before.focus {
        out.extend(choice(after));
        return out;
    }
    match after.screen {
        Screen::Pin | Screen::Password if after.pin_entered != before.pin_entered => {
            out.push(Say::Cue(Cue::KeyClick));
            // The count, never a digit: "2 of 4 digits entered".
            if after.screen == Screen::Pin && after.pin_entered > before.pin_entered {
                out.extend(count("digits", usize::from(after.pin_entered).min(4)));
            }
        }
        Screen::Borrowing => {
            if after.refused > before.refused {
                out.push(Say::Cue(Cue::RefusedScan));
                let refused =
                    after.loans.iter().map(|l| (l.refusal != Refusal::None).then_some(l.title.as_str()));
                let title = titles(after, refused, 1);
                match refusal(after) {
                    Some((why, false)) => out.extend(std::iter::once(why).chain(title)),
                    Some((why, true)) => {
                        out.extend(std::iter::once(why).chain(title).chain([prompt("to-counter")]))
                    }
                    None => out.extend(title.into_iter().chain([prompt("to-counter")])),
                }
            } else if after.borrowed > before.borrowed {
                out.push(Say::Cue(Cue::GoodScan));
                out.extend(count("borrowed", after.borrowed));
                let new = after.borrowed - before.borrowed;
                out.extend(titles(
                    after,
                    after.loans.iter().map(|l| lent(l).then_some(l.title.as_str())),
                    new,
                ));
                out.extend(due(before, after));
            }
        }
        // The count check: fewer items read than the patron said. (A count that matches
        // moves on to the receipt, which says itself.)
        Screen::Count if after.count_said != before.count_said && after.count_said > 0 => {
            out.extend([Say::Cue(Cue::Warning), prompt("count-mismatch")]);
            out.extend(choice(after));
        }
        Screen::Account => out.extend(renewals(before, after)),
        Screen::Returning if after.returned > before.returned => {
            out.push(Say::Cue(Cue::GoodScan));
            out.extend(count("returned", after.returned));
            let returned =
                after.returns.iter().map(|r| (r.status != ReturnStatus::Refused).then_some(r.title.as_str()));
            out.extend(titles(after, returned, after.returned - before.returned));
            // Reserved by someone, or for staff to look at: where it goes.
            out.extend(return_line(after));
        }
        Screen::Returning if after.refused > before.refused => {
            out.push(Say::Cue(Cue::RefusedScan));
            out.extend(return_line(after));
            let refused =
                after.returns.iter().map(|r| (r.status == ReturnStatus::Refused).then_some(r.title.as_str()));
            out.extend(titles(after, refused, 1));
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Language;

    fn scene(screen: Screen) -> Scene {
        Scene { screen, ..Scene::default() }
    }

    #[test]
    fn each_screen_says_what_it_is_for_on_entering_and_not_again() {
        let idle = scene(Screen::Idle);
        assert_eq!(announce(&Scene::default(), &idle), [prompt("idle")]);
        assert!(announce(&idle, &idle).is_empty(), "nothing changed: nothing said");
        let pin = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Pin) };
        assert_eq!(announce(&idle, &pin), [prompt("pin")]);
        let pad = Scene { rfid_pad: true, ..scene(Screen::Borrowing) };
        assert_eq!(announce(&pin, &pad), [prompt("borrowing-pad")]);
        let faulty = Scene { pad_fault: true, ..pad.clone() };
        assert_eq!(announce(&pin, &faulty), [prompt("borrowing")], "the pad not reading: scan");
        let take = Scene { card_present: true, ..scene(Screen::Ending) };
        assert_eq!(announce(&pad, &take), [prompt("notice-goodbye"), prompt("take-card")]);
        // The card taken: Goodbye's own title was the thanks.
        let gone = Scene { card_present: false, ..take.clone() };
        assert!(announce(&take, &gone).is_empty());
        // Staff's screens are silent.
        assert!(announce(&idle, &scene(Screen::AdminMenu)).is_empty());
        // Another language: the screen said again in it.
        let english = Scene { language: Language::English, ..idle.clone() };
        assert_eq!(announce(&idle, &english), [prompt("idle")]);
    }

    #[test]
    fn the_pin_is_counted_never_read_and_a_wrong_one_says_the_tries_left() {
        let pin = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Pin) };
        let two = Scene { pin_entered: 2, ..pin.clone() };
        let three = Scene { pin_entered: 3, ..pin.clone() };
        assert_eq!(announce(&two, &three), [Say::Cue(Cue::KeyClick), prompt("digits-3")]);
        assert_eq!(announce(&three, &two), [Say::Cue(Cue::KeyClick)], "a digit deleted: the click");
        // A wrong PIN: the pad checks it (Verifying), then asks again (Entering) with the
        // tries left, as the flow does.
        let four = Scene { pin_entered: 4, ..pin.clone() };
        let verifying = Scene { pin_stage: PinStage::Verifying, ..four.clone() };
        assert!(announce(&four, &verifying).is_empty());
        let wrong = Scene { last_wrong: true, tries_left: Some(2), pin_entered: 0, ..pin.clone() };
        assert_eq!(announce(&verifying, &wrong), [Say::Cue(Cue::Warning), prompt("pin-wrong-2")]);
        let last = Scene { pin_stage: PinStage::LastTryWarning, ..wrong.clone() };
        assert_eq!(announce(&wrong, &last), [Say::Cue(Cue::Warning), prompt("last-try")]);
        // The library password's digits are clicked, not counted aloud.
        let pw = Scene { pin_stage: PinStage::Entering, ..scene(Screen::Password) };
        assert_eq!(announce(&scene(Screen::Idle), &pw), [prompt("password")]);
        let pw1 = Scene { pin_entered: 1, ..pw.clone() };
        assert_eq!(announce(&pw, &pw1), [Say::Cue(Cue::KeyClick)]);
        // A wrong password, and its last try: the password's words, not the card's.
        let pw_checking = Scene { pin_stage: PinStage::Verifying, ..pw1.clone() };
        let pw_wrong = Scene { last_wrong: true, pin_entered: 0, ..pw.clone() };
        assert_eq!(announce(&pw_checking, &pw_wrong), [Say::Cue(Cue::Warning), prompt("password-wrong")]);
        let pw_last = Scene { pin_stage: PinStage::LastTryWarning, ..pw_wrong.clone() };
        assert_eq!(announce(&pw_wrong, &pw_last), [Say::Cue(Cue::Warning), prompt("password-last-try")]);
    }

    #[test]
    fn the_ending_says_its_notice_then_the_card_and_a_failure_s_words_are_not_cut_by_thanks() {
        use crate::scene::Notice;
        let checking = scene(Screen::Checking);
        let ending = |notice, card_present| Scene { notice, card_present, ..scene(Screen::Ending) };
        let revoked = ending(Notice::Revoked, true);
        assert_eq!(announce(&checking, &revoked), [prompt("notice-revoked"), prompt("take-card")]);
        // The card taken: no thanks over the reason.
        assert!(announce(&revoked, &ending(Notice::Revoked, false)).is_empty());
        let printed = ending(Notice::ReceiptPrinted, true);
        assert_eq!(announce(&printed, &ending(Notice::ReceiptPrinted, false)), [prompt("thank-you")]);
        // Without a card on the reader (a label at the counter, returns): the notice alone.
        assert_eq!(
            announce(&scene(Screen::Returning), &ending(Notice::ReturnsDone, false)),
            [prompt("notice-returns-done")]
        );
        // A library that takes its own cards too: the words that offer it.
        let expired = Scene { library_card_login: true, ..ending(Notice::Expired, true) };
        assert_eq!(announce(&checking, &expired), [prompt("notice-expired-card"), prompt("take-card")]);
        let revoked_too = Scene { library_card_login: true, ..revoked.clone() };
        assert_eq!(announce(&checking, &revoked_too)[0], prompt("notice-revoked"));
        // Help says it again.
        let again = Scene { repeat: 1, ..revoked.clone() };
        assert_eq!(announce(&revoked, &again), [prompt("notice-revoked"), prompt("take-card")]);
        let names: std::collections::BTreeSet<_> = Notice::ALL.iter().map(|n| n.name()).collect();
        assert_eq!(names.len(), Notice::ALL.len(), "every notice has a name of its own");
    }

    #[test]
    fn books_lent_and_refused_are_told_by_tone_count_and_reason() {
        let b = scene(Screen::Borrowing);
        let one = Scene { borrowed: 1, ..b.clone() };
        assert_eq!(announce(&b, &one), [Say::Cue(Cue::GoodScan), prompt("borrowed-1")]);
        let many = Scene { borrowed: 12, ..b.clone() };
        let more = Scene { borrowed: 13, ..b.clone() };
        assert_eq!(announce(&many, &more), [Say::Cue(Cue::GoodScan)], "past ten: the tone alone");
        let held = LoanRow { refusal: Refusal::OnHold, ..LoanRow::default() };
        let refused = Scene { refused: 1, loans: vec![held], ..one.clone() };
        assert_eq!(
            announce(&one, &refused),
            [Say::Cue(Cue::RefusedScan), prompt("reserved"), prompt("to-counter")]
        );
        let at_finish = Scene { refused: 2, ..scene(Screen::Refused) };
        assert_eq!(announce(&refused, &at_finish), [Say::Cue(Cue::RefusedScan), prompt("refused-2")]);
    }

    #[test]
    fn a_loan_s_due_date_is_said_with_its_first_book_and_again_only_when_it_differs() {
        let d = |t: &str| DueDate::parse(t);
        let row = |due: &str| LoanRow { due_date: d(due), ..LoanRow::default() };
        let b = scene(Screen::Borrowing);
        let first = Scene { borrowed: 1, loans: vec![row("2026-12-21")], ..b.clone() };
        let said = announce(&b, &first);
        assert_eq!(
            said,
            [Say::Cue(Cue::GoodScan), prompt("borrowed-1"), Say::DueDate(d("2026-12-21").unwrap())]
        );
        // The same date again: not said again.
        let second = Scene { borrowed: 2, loans: vec![row("2026-12-21"), row("2026-12-21")], ..b.clone() };
        assert_eq!(announce(&first, &second), [Say::Cue(Cue::GoodScan), prompt("borrowed-2")]);
        // A book lent for a shorter time (a new book, a magazine): its own date is said.
        let short = Scene {
            borrowed: 3,
            loans: vec![row("2026-12-14"), row("2026-12-21"), row("2026-12-21")],
            ..b.clone()
        };
        assert_eq!(
            announce(&second, &short),
            [Say::Cue(Cue::GoodScan), prompt("borrowed-3"), Say::DueDate(d("2026-12-14").unwrap())]
        );
        // A refused book or a renewal between them is not the book before.
        let held = LoanRow { refusal: Refusal::OnHold, due_date: d("2026-12-01"), ..LoanRow::default() };
        let renewed = LoanRow { renewed: true, due_date: d("2026-12-02"), ..LoanRow::default() };
        let between = Scene {
            refused: 1,
            loans: vec![held.clone(), renewed.clone(), row("2026-12-21")],
            ..first.clone()
        };
        let after = Scene {
            borrowed: 2,
            loans: vec![row("2026-12-21"), held, renewed, row("2026-12-21")],
            ..between.clone()
        };
        assert_eq!(announce(&between, &after), [Say::Cue(Cue::GoodScan), prompt("borrowed-2")]);
        // Two books lent in one step (the RFID pad): the date said once.
        let two = Scene { borrowed: 2, loans: vec![row("2026-12-21"), row("2026-12-21")], ..b.clone() };
        assert_eq!(
            announce(&b, &two),
            [Say::Cue(Cue::GoodScan), prompt("borrowed-2"), Say::DueDate(d("2026-12-21").unwrap())]
        );
        // A due date the library system did not give as a date: nothing said for it.
        let undated =
            Scene { loans: vec![LoanRow { due: "next week".into(), ..LoanRow::default() }], ..first };
        assert_eq!(announce(&b, &undated), [Say::Cue(Cue::GoodScan), prompt("borrowed-1")]);
    }

    #[test]
    fn titles_are_said_only_while_headphones_are_in() {
        use crate::scene::{ReturnRow, ReturnStatus};
        let title = |t: &str| Say::Title(t.to_owned());
        let row = |t: &str| LoanRow {
            title: t.into(),
            due_date: DueDate::parse("2026-12-21"),
            ..LoanRow::default()
        };
        let b = scene(Screen::Borrowing);
        let one = Scene { borrowed: 1, loans: vec![row("吾輩は猫である")], ..b.clone() };
        let date = Say::DueDate(DueDate::parse("2026-12-21").unwrap());
        // The open speaker: never a title.
        assert!(!announce(&b, &one).iter().any(|s| matches!(s, Say::Title(_))));
        let (b, one) = (Scene { headphones: true, ..b }, Scene { headphones: true, ..one });
        assert_eq!(
            announce(&b, &one),
            [Say::Cue(Cue::GoodScan), prompt("borrowed-1"), title("吾輩は猫である"), date.clone()]
        );
        // Two in one step (the pad): both, in the order scanned.
        let two = Scene { borrowed: 2, loans: vec![row("B"), row("A")], ..one.clone() };
        assert_eq!(
            announce(&b, &two),
            [Say::Cue(Cue::GoodScan), prompt("borrowed-2"), title("A"), title("B"), date]
        );
        // Refused: the reason, the title, then where to take it.
        let held = LoanRow { title: "Le Piège".into(), refusal: Refusal::OnHold, ..LoanRow::default() };
        let refused = Scene { refused: 1, loans: vec![held, row("吾輩は猫である")], ..one.clone() };
        assert_eq!(
            announce(&one, &refused),
            [Say::Cue(Cue::RefusedScan), prompt("reserved"), title("Le Piège"), prompt("to-counter")]
        );
        // No title from the library system: nothing for it.
        let untitled = Scene { loans: vec![row(" ")], ..one.clone() };
        assert_eq!(announce(&b, &untitled).len(), 3);
        // Returns: the title after the count, before where it goes; refused, after why.
        let r = Scene { headphones: true, ..scene(Screen::Returning) };
        let back = |status| ReturnRow { title: "T".into(), status, ..ReturnRow::default() };
        let held = Scene { returned: 1, returns: vec![back(ReturnStatus::HoldShelf)], ..r.clone() };
        assert_eq!(
            announce(&r, &held),
            [Say::Cue(Cue::GoodScan), prompt("returned-1"), title("T"), prompt("return-hold-shelf")]
        );
        let refused = Scene { refused: 1, returns: vec![back(ReturnStatus::Refused)], ..r.clone() };
        assert_eq!(
            announce(&r, &refused),
            [Say::Cue(Cue::RefusedScan), prompt("return-refused"), title("T")]
        );
        let quiet = Scene { headphones: false, ..refused.clone() };
        assert_eq!(announce(&Scene { headphones: false, ..r }, &quiet).len(), 2, "no title on the speaker");
    }

    #[test]
    fn a_return_says_where_the_book_goes_and_a_refused_one_why() {
        use crate::scene::{ReturnRow, ReturnStatus};
        let r = scene(Screen::Returning);
        let row = |status, refusal| ReturnRow { status, refusal, ..ReturnRow::default() };
        let one =
            Scene { returned: 1, returns: vec![row(ReturnStatus::Returned, Refusal::None)], ..r.clone() };
        assert_eq!(announce(&r, &one), [Say::Cue(Cue::GoodScan), prompt("returned-1")]);
        let held =
            Scene { returned: 1, returns: vec![row(ReturnStatus::HoldShelf, Refusal::None)], ..r.clone() };
        assert_eq!(
            announce(&r, &held),
            [Say::Cue(Cue::GoodScan), prompt("returned-1"), prompt("return-hold-shelf")]
        );
        let staff =
            Scene { returned: 1, returns: vec![row(ReturnStatus::StaffCheck, Refusal::None)], ..r.clone() };
        assert_eq!(announce(&r, &staff)[2], prompt("return-staff-check"));
        let not_out = Scene {
            refused: 1,
            returns: vec![row(ReturnStatus::Refused, Refusal::NotCheckedOut)],
            ..r.clone()
        };
        assert_eq!(
            announce(&r, &not_out),
            [Say::Cue(Cue::RefusedScan), prompt("return-refused-not-checked-out")]
        );
        let other = Scene { refused: 1, returns: vec![row(ReturnStatus::Refused, Refusal::Other)], ..r };
        assert_eq!(announce(&one, &other)[1], prompt("return-refused"));
    }

    #[test]
    fn every_reason_a_book_is_not_lent_has_its_own_words() {
        let b = Scene { borrowed: 1, ..scene(Screen::Borrowing) };
        // Whether "take it to the counter" follows: not when the reason says where to go
        // already, nor for a set on the pad (put right there).
        let reasons = [
            (Refusal::NotInCatalogue, "not-in-catalogue", true),
            (Refusal::OnHold, "reserved", true),
            (Refusal::OnLoan, "on-loan", true),
            (Refusal::NoAnswer, "refusal-no-answer", true),
            (Refusal::Unconfirmed, "refusal-unconfirmed", true),
            (Refusal::OfflineLimit, "refusal-offline-limit", true),
            (Refusal::OfflineStopped, "refusal-offline-stopped", false),
            (Refusal::OfflinePending, "refusal-offline-pending", false),
            (Refusal::PartsMissing, "refusal-parts-missing", false),
            (Refusal::DuplicateTags, "refusal-duplicate-tags", false),
            (Refusal::Other, "not-here", true),
        ];
        for (refusal, key, to_counter) in reasons {
            let row = LoanRow { refusal, ..LoanRow::default() };
            let refused = Scene { refused: 1, loans: vec![row], ..b.clone() };
            let mut want = vec![Say::Cue(Cue::RefusedScan), prompt(key)];
            if to_counter {
                want.push(prompt("to-counter"));
            }
            assert_eq!(announce(&b, &refused), want, "{refusal:?}");
        }
    }

    #[test]
    fn are_you_still_there_and_the_language_list_come_first() {
        let b = scene(Screen::Borrowing);
        let warned = Scene { timeout_seconds: Some(20), borrowed: 1, ..b.clone() };
        assert_eq!(announce(&b, &warned), [Say::Cue(Cue::Warning), prompt("still-there")]);
        let list = Scene { languages_open: true, ..b.clone() };
        assert_eq!(announce(&b, &list), [prompt("choose-language")]);
    }

    #[test]
    fn the_keypad_s_button_is_named_on_each_move_and_help_says_the_screen_again() {
        let receipt = Scene { focus: "print-receipt".into(), ..scene(Screen::ReceiptChoice) };
        let borrowing = Scene { focus: "finish".into(), ..scene(Screen::Borrowing) };
        assert_eq!(
            announce(&borrowing, &receipt),
            [prompt("receipt-choice"), prompt("choice-print-receipt")],
            "a new screen: what it is for, then the button chosen"
        );
        let next = Scene { focus: "no-receipt".into(), ..receipt.clone() };
        assert_eq!(announce(&receipt, &next), [prompt("choice-no-receipt")]);
        let help = Scene { repeat: 1, ..next.clone() };
        assert_eq!(announce(&next, &help), [prompt("receipt-choice"), prompt("choice-no-receipt")]);
        // The PIN pad: its prompt alone on entering; help names OK (Enter).
        let pin = Scene { pin_stage: PinStage::Entering, focus: "submit".into(), ..scene(Screen::Pin) };
        assert_eq!(announce(&borrowing, &pin), [prompt("pin")]);
        let pin_help = Scene { repeat: 1, ..pin.clone() };
        assert_eq!(announce(&pin, &pin_help), [prompt("pin"), prompt("choice-ok")]);
        // The language list: each language in its own voice.
        let list = Scene { languages_open: true, focus: "language-ko".into(), ..scene(Screen::Idle) };
        let en = Scene { focus: "language-en".into(), ..list.clone() };
        assert_eq!(announce(&list, &en), [Say::PromptIn(Language::English, "language-name".into())]);
        // "Are you still there?" names Continue.
        let warn = Scene { timeout_seconds: Some(10), focus: "still-here".into(), ..borrowing.clone() };
        assert_eq!(
            announce(&borrowing, &warn),
            [Say::Cue(Cue::Warning), prompt("still-there"), prompt("choice-still-here")]
        );
        // Without the keypad, nothing is named.
        assert_eq!(
            announce(&scene(Screen::Borrowing), &scene(Screen::ReceiptChoice)),
            [prompt("receipt-choice")]
        );
    }

    #[test]
    fn the_account_says_what_it_shows_its_pages_and_each_renewal() {
        use crate::scene::{AccountRow, AccountScene};
        let borrowing = scene(Screen::Borrowing);
        let loading = scene(Screen::Account);
        assert_eq!(announce(&borrowing, &loading), [prompt("account-loading")]);
        let unavailable = Scene {
            account: AccountScene { stage: AccountStage::Unavailable, ..AccountScene::default() },
            focus: "dismiss".into(),
            ..loading.clone()
        };
        assert_eq!(
            announce(&loading, &unavailable),
            [Say::Cue(Cue::Warning), prompt("account-unavailable"), prompt("choice-back-to-borrowing")]
        );
        let row = |number, title: &str, due: &str| AccountRow {
            number,
            title: title.into(),
            due_date: DueDate::parse(due),
            ..AccountRow::default()
        };
        let shown = Scene {
            account: AccountScene {
                stage: AccountStage::Shown,
                rows: vec![row(1, "こころ", "2026-12-10"), row(2, "Norwegian Wood", "2026-12-21")],
                loans: 7,
                overdue: 0,
                holds: vec![crate::scene::HoldRow::default()],
                can_borrow: true,
                pages: 2,
                ..AccountScene::default()
            },
            ..loading.clone()
        };
        assert_eq!(
            announce(&loading, &shown),
            [prompt("account"), prompt("account-loans-7"), prompt("account-holds-1"),],
            "no title on the open speaker"
        );
        // With headphones: each book of the page by its title and due date.
        let (loading_h, shown_h) =
            (Scene { headphones: true, ..loading.clone() }, Scene { headphones: true, ..shown.clone() });
        let said = announce(&loading_h, &shown_h);
        assert_eq!(
            &said[3..],
            [
                Say::Title("こころ".into()),
                Say::DueDate(DueDate::parse("2026-12-10").unwrap()),
                Say::Title("Norwegian Wood".into()),
                Say::DueDate(DueDate::parse("2026-12-21").unwrap()),
            ]
        );
        // Overdue books and a block are said; no loans at all too.
        let mut blocked = shown.clone();
        blocked.account.overdue = 2;
        blocked.account.can_borrow = false;
        blocked.account.holds.clear();
        blocked.account.pages = 1;
        assert_eq!(
            announce(&loading, &blocked),
            [prompt("account"), prompt("account-overdue-2"), prompt("account-blocked")]
        );
        let mut none = blocked.clone();
        none.account.loans = 0;
        none.account.can_borrow = true;
        assert_eq!(announce(&loading, &none), [prompt("account"), prompt("account-no-loans")]);
        // The next page: the button the keypad is on; with headphones, the page's books
        // first.
        let mut next = shown.clone();
        next.account.page = 1;
        next.focus = "account-previous".into();
        assert_eq!(announce(&shown, &next), [prompt("choice-account-previous")]);
        let next_h = Scene { headphones: true, ..next.clone() };
        let said = announce(&shown_h, &next_h);
        assert_eq!((said.len(), said.last()), (5, Some(&prompt("choice-account-previous"))));
        // Renewals answered: a good tone and the new date (once when shared), or why not.
        let mut renewing = shown.clone();
        for r in &mut renewing.account.rows {
            r.renew = RenewStatus::Waiting;
        }
        let mut answered = renewing.clone();
        answered.account.rows[0].renew = RenewStatus::Renewed;
        answered.account.rows[0].new_due_date = DueDate::parse("2026-12-24");
        answered.account.rows[1].renew = RenewStatus::Refused;
        answered.account.rows[1].refusal = Refusal::OnHold;
        assert_eq!(
            announce(&renewing, &answered),
            [
                Say::Cue(Cue::GoodScan),
                Say::DueDate(DueDate::parse("2026-12-24").unwrap()),
                Say::Cue(Cue::RefusedScan),
                prompt("renew-refused-on-hold"),
            ]
        );
        let mut both = answered.clone();
        both.account.rows[1] = answered.account.rows[0].clone();
        both.account.rows[1].number = 2;
        let said = announce(&renewing, &both);
        assert_eq!(said.iter().filter(|s| matches!(s, Say::DueDate(_))).count(), 1, "{said:?}");
        assert!(announce(&answered, &answered).is_empty(), "said once");
    }

    #[test]
    fn books_lent_with_their_security_on_and_a_short_count_send_the_patron_to_the_counter() {
        let b = scene(Screen::Borrowing);
        let unsecured = Scene { unsecured: 1, ..scene(Screen::Refused) };
        assert_eq!(announce(&b, &unsecured), [Say::Cue(Cue::Warning), prompt("unsecured-1")]);
        let both = Scene { refused: 2, ..unsecured.clone() };
        assert_eq!(
            announce(&b, &both),
            [Say::Cue(Cue::RefusedScan), prompt("refused-2"), prompt("unsecured-1")]
        );
        let count = Scene { focus: "read-again".into(), ..scene(Screen::Count) };
        let short = Scene { count_said: 5, count_seen: 4, ..count.clone() };
        assert_eq!(
            announce(&count, &short),
            [Say::Cue(Cue::Warning), prompt("count-mismatch"), prompt("choice-read-again")]
        );
    }
}
