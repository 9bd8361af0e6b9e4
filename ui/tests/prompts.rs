//! The prompt pack says the catalogues' words: every prompt of every language is in
//! `target/prompts/kiosk-voice.pack` (made by `cargo xtask prompts`, which `cargo xtask
//! test` runs first; `KIOSK_VOICE_PACK` names another), with the text the catalogue has
//! now, and audio that is speech: long enough for its words, not silent, not clipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use kiosk_audio::Pack;
use kiosk_ui::{Language, prompts};

fn pack() -> Pack {
    let path = std::env::var_os("KIOSK_VOICE_PACK").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/prompts/kiosk-voice.pack"),
        PathBuf::from,
    );
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: make it with `cargo xtask prompts`", path.display()));
    Pack::parse(&bytes).expect("a pack that reads")
}

#[test]
fn every_prompt_says_what_the_catalogue_says_now() {
    let pack = pack();
    let mut stale = Vec::new();
    for language in Language::ALL {
        for key in prompts::keys() {
            let want = prompts::spoken(language, &key).unwrap().join("\n");
            match pack.get(language.code(), &key) {
                Some(p) if p.text == want => {}
                Some(p) => stale.push(format!(
                    "{}/{key}: says {:?}, the catalogue {want:?}",
                    language.code(),
                    p.text
                )),
                None => stale.push(format!("{}/{key}: missing", language.code())),
            }
        }
    }
    assert!(stale.is_empty(), "the pack is stale (`cargo xtask prompts` remakes it):\n{}", stale.join("\n"));
}

#[test]
fn every_prompt_is_speech_not_silence_and_not_clipped() {
    let pack = pack();
    for p in pack.prompts() {
        let clip = p.clip();
        let peak = clip.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        // Normalised to -3 dBFS (23 197) per sentence: audible, never at full scale.
        assert!((8_000..32_000).contains(&peak), "{}/{}: peak {peak}", p.language, p.key);
        // At least 30 ms a character of its words, at most 600 (a syllable a character,
        // slowly: Chinese).
        let chars = p.text.chars().filter(|c| c.is_alphanumeric()).count().max(1) as u64;
        assert!(
            p.millis() >= 30 * chars.min(10),
            "{}/{}: {} ms for {chars} characters",
            p.language,
            p.key,
            p.millis()
        );
        assert!(
            p.millis() <= 600 * chars + 1000,
            "{}/{}: {} ms for {chars} characters",
            p.language,
            p.key,
            p.millis()
        );
    }
}

/// Every prompt the kiosk's announcements name (`kiosk_core::voice::announce`) is in the
/// prompts' table, so the pack has it: between any two sample screens, and for every
/// count spoken.
#[test]
fn every_prompt_announced_is_in_the_table() {
    use kiosk_core::voice::{Say, announce};
    use kiosk_ui::fixtures::sample_scenes;
    use kiosk_ui::{PinStage, Refusal, Scene, Screen};
    let keys = prompts::keys();
    let mut said = std::collections::BTreeSet::new();
    let mut hear = |a: &Scene, b: &Scene| {
        for s in announce(a, b) {
            match s {
                Say::Prompt(k) => {
                    said.insert(k);
                }
                Say::DueDate(date) => {
                    for language in kiosk_ui::Language::ALL {
                        said.extend(prompts::due_date(language, &date));
                    }
                }
                // Titles are made at run time, never from the pack.
                Say::Cue(_) | Say::PromptIn(..) | Say::Title(_) => {}
            }
        }
    };
    let scenes: Vec<Scene> = sample_scenes().into_iter().map(|(_, s)| s).collect();
    for a in &scenes {
        for b in &scenes {
            hear(a, b);
        }
    }
    let pin = Scene { screen: Screen::Pin, pin_stage: PinStage::Entering, ..Scene::default() };
    for n in 0..4 {
        hear(&Scene { pin_entered: n, ..pin.clone() }, &Scene { pin_entered: n + 1, ..pin.clone() });
    }
    let verifying = Scene { pin_stage: PinStage::Verifying, ..pin.clone() };
    for tries in 1..=2 {
        hear(&verifying, &Scene { last_wrong: true, tries_left: Some(tries), ..pin.clone() });
    }
    let password = Scene { screen: Screen::Password, ..pin.clone() };
    for (stage, wrong) in [
        (PinStage::Entering, false),
        (PinStage::Entering, true),
        (PinStage::LastTryWarning, true),
        (PinStage::Locked, true),
    ] {
        hear(&verifying, &Scene { pin_stage: stage, last_wrong: wrong, ..password.clone() });
    }
    let b = Scene { screen: Screen::Borrowing, ..Scene::default() };
    let due =
        kiosk_ui::LoanRow { due_date: kiosk_core::scene::DueDate::parse("2026-12-31"), ..Default::default() };
    for n in 0..12 {
        hear(
            &Scene { borrowed: n, ..b.clone() },
            &Scene { borrowed: n + 1, loans: vec![due.clone()], ..b.clone() },
        );
        let r = Scene { screen: Screen::Returning, ..Scene::default() };
        hear(&Scene { returned: n, ..r.clone() }, &Scene { returned: n + 1, ..r.clone() });
        hear(&b, &Scene { screen: Screen::Refused, refused: n + 1, ..Scene::default() });
    }
    let r = Scene { screen: Screen::Returning, ..Scene::default() };
    for refusal in [
        Refusal::NotInCatalogue,
        Refusal::OnHold,
        Refusal::OnLoan,
        Refusal::Other,
        Refusal::NoAnswer,
        Refusal::Unconfirmed,
        Refusal::NotCheckedOut,
        Refusal::OfflineLimit,
        Refusal::OfflineStopped,
        Refusal::OfflinePending,
        Refusal::PartsMissing,
        Refusal::DuplicateTags,
    ] {
        let row = kiosk_ui::LoanRow { refusal, ..kiosk_ui::LoanRow::default() };
        hear(&b, &Scene { refused: 1, loans: vec![row], ..b.clone() });
        let returned =
            kiosk_ui::ReturnRow { status: kiosk_ui::ReturnStatus::Refused, refusal, ..Default::default() };
        hear(&r, &Scene { refused: 1, returns: vec![returned], ..r.clone() });
    }
    for status in [kiosk_ui::ReturnStatus::HoldShelf, kiosk_ui::ReturnStatus::StaffCheck] {
        let returned = kiosk_ui::ReturnRow { status, ..Default::default() };
        hear(&r, &Scene { returned: 1, returns: vec![returned], ..r.clone() });
    }
    // Every ending, with and without the library's own cards, the card in or taken.
    let checking = Scene { screen: Screen::Checking, ..Scene::default() };
    for notice in kiosk_ui::Notice::ALL {
        for library_card_login in [false, true] {
            let ending = Scene {
                screen: Screen::Ending,
                notice,
                library_card_login,
                card_present: true,
                ..Scene::default()
            };
            hear(&checking, &ending);
            hear(&ending, &Scene { card_present: false, ..ending.clone() });
        }
    }
    // Every button the tactile keypad can choose on every sample screen, named.
    for a in &scenes {
        for choice in kiosk_core::tactile::choices(a) {
            hear(a, &Scene { focus: choice, ..a.clone() });
        }
    }
    // The account: looking up, not available, shown (loans, overdue, holds, a block, a
    // page turned), and each renewal's answer.
    let account = |stage, loans, overdue, holds: usize, pages, page| Scene {
        screen: Screen::Account,
        account: kiosk_core::scene::AccountScene {
            stage,
            loans,
            overdue,
            holds: vec![kiosk_core::scene::HoldRow::default(); holds],
            pages,
            page,
            ..Default::default()
        },
        ..Scene::default()
    };
    let loading = account(kiosk_core::scene::AccountStage::Loading, 0, 0, 0, 1, 0);
    hear(&b, &loading);
    hear(&loading, &account(kiosk_core::scene::AccountStage::Unavailable, 0, 0, 0, 1, 0));
    for n in 0..12 {
        hear(&loading, &account(kiosk_core::scene::AccountStage::Shown, n, 0, n, 1, 0));
        hear(&loading, &account(kiosk_core::scene::AccountStage::Shown, n + 1, n, 0, 1, 0));
    }
    for pages in 1..8 {
        for page in 0..pages {
            hear(&loading, &account(kiosk_core::scene::AccountStage::Shown, 1, 0, 0, pages, page));
        }
    }
    let shown = account(kiosk_core::scene::AccountStage::Shown, 1, 0, 0, 1, 0);
    let waiting = kiosk_core::scene::AccountRow {
        renew: kiosk_core::scene::RenewStatus::Waiting,
        ..Default::default()
    };
    let renewing = Scene {
        account: kiosk_core::scene::AccountScene { rows: vec![waiting.clone()], ..shown.account.clone() },
        ..shown.clone()
    };
    for (renew, refusal) in [
        (kiosk_core::scene::RenewStatus::Renewed, Refusal::None),
        (kiosk_core::scene::RenewStatus::Refused, Refusal::OnHold),
        (kiosk_core::scene::RenewStatus::Refused, Refusal::NoAnswer),
        (kiosk_core::scene::RenewStatus::Refused, Refusal::Unconfirmed),
        (kiosk_core::scene::RenewStatus::Refused, Refusal::Other),
    ] {
        let row =
            kiosk_core::scene::AccountRow { renew, refusal, new_due_date: due.due_date, ..waiting.clone() };
        let mut answered = renewing.clone();
        answered.account.rows = vec![row];
        hear(&renewing, &answered);
    }
    // Books lent whose security stayed on, and the count check's short count.
    for n in 0..12 {
        hear(&b, &Scene { screen: Screen::Refused, unsecured: n + 1, ..Scene::default() });
    }
    let count = Scene { screen: Screen::Count, ..Scene::default() };
    hear(&count, &Scene { count_said: 3, count_seen: 2, ..count.clone() });
    let missing: Vec<_> = said.iter().filter(|k| !keys.contains(k)).collect();
    assert!(missing.is_empty(), "announced but not in the table: {missing:?}");
    assert!(said.len() > 50, "{} prompts heard", said.len());
}
