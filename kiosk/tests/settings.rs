//! Settings that time and guard a session do what they say: each is written in a config
//! file, parsed, and handed to the console the running kiosk uses
//! (`Config::console_settings`), and a session shows the effect of a value other than
//! the default (and the default's effect, so each check can fail).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/config.rs"]
mod support;

use kiosk_core::console::{Console, Work};
use kiosk_core::flow::{Event, Millis, PatronId, Reply, Scan, SessionId, Verdict};
use kiosk_ui::{Key, Pad, Screen, UiAction};
use support::ok;

const PATRON: &str = "2300012345678";

fn console(overrides: &[(&str, &str)]) -> Console {
    Console::new(ok(overrides).console_settings())
}

fn session(work: &[Work]) -> Option<SessionId> {
    work.iter().find_map(|w| match w {
        Work::Effect(e) => e.session(),
        _ => None,
    })
}

/// A library-card patron on the borrowing screen at time 0.
fn borrowing(c: &mut Console) {
    let work = c.event(Event::Scanned(Scan::LibraryCard(PatronId::new(PATRON).unwrap())));
    let session = session(&work).expect("a session");
    c.event(Event::Reply { session, reply: Reply::Standing(Ok(())) });
    assert_eq!(c.scene().screen, Screen::Borrowing);
}

/// A My Number card patron, PIN verified, on the borrowing screen (the account is only
/// for such a patron).
fn card_borrowing(c: &mut Console) {
    let session = at_the_pin_pad(c);
    for d in [1, 2, 3, 4] {
        c.action(UiAction::Key(Pad::Card, Key::Digit(d)));
    }
    c.action(UiAction::Key(Pad::Card, Key::Submit));
    c.event(Event::Reply { session, reply: Reply::PinVerified });
    c.event(Event::Reply { session, reply: Reply::Proof(Ok(())) });
    let patron = Some(PatronId::new(PATRON).unwrap());
    c.event(Event::Reply { session, reply: Reply::Validity(Verdict::Good { patron }) });
    c.event(Event::Reply { session, reply: Reply::Standing(Ok(())) });
    assert_eq!(c.scene().screen, Screen::Borrowing);
}

/// A card patron at the PIN pad at time 0.
fn at_the_pin_pad(c: &mut Console) -> SessionId {
    let work = c.event(Event::CardInserted);
    let session = session(&work).expect("a session");
    c.event(Event::Reply { session, reply: Reply::Certificate(Ok(())) });
    c.event(Event::Reply { session, reply: Reply::PinTries(3) });
    assert_eq!(c.scene().screen, Screen::Pin);
    session
}

fn secs(s: u64) -> Millis {
    Millis(s * 1000)
}

/// `session.idle_timeout_s` ends a quiet session, `session.warning_s` before it the
/// patron is asked whether they are still there.
#[test]
fn idle_timeout_and_warning() {
    let mut c = console(&[("session", "idle_timeout_s = 40\nwarning_s = 10")]);
    borrowing(&mut c);
    c.advance(secs(29));
    assert_eq!(c.scene().timeout_seconds, None, "quiet for 29 s: no warning yet");
    c.advance(secs(31));
    assert!(c.scene().timeout_seconds.is_some_and(|s| s <= 10), "the warning, 10 s before the end");
    c.advance(secs(41));
    assert_ne!(c.scene().screen, Screen::Borrowing, "the session ended at 40 s");

    // The defaults (120 s, warning 20 s): still borrowing, no warning, at 41 s.
    let mut d = console(&[]);
    borrowing(&mut d);
    d.advance(secs(41));
    assert_eq!((d.scene().screen, d.scene().timeout_seconds), (Screen::Borrowing, None));
}

/// `session.pin_idle_timeout_s` clears a half-typed PIN.
#[test]
fn pin_idle_timeout() {
    let mut c = console(&[("session", "pin_idle_timeout_s = 15")]);
    at_the_pin_pad(&mut c);
    c.action(UiAction::Key(Pad::Card, Key::Digit(1)));
    c.advance(secs(14));
    assert_eq!(c.scene().pin_entered, 1);
    c.advance(secs(16));
    assert_eq!(c.scene().pin_entered, 0, "cleared after 15 s without a key");

    let mut d = console(&[]);
    at_the_pin_pad(&mut d);
    d.action(UiAction::Key(Pad::Card, Key::Digit(1)));
    d.advance(secs(16));
    assert_eq!(d.scene().pin_entered, 1, "the default waits longer");
}

/// `session.take_card_alarm_s`: a card left on the reader after the session calls staff.
#[test]
fn take_card_alarm() {
    let ended_with_the_card_on = |c: &mut Console| {
        let session = at_the_pin_pad(c);
        c.action(UiAction::Cancel);
        assert!(c.scene().card_present && !c.scene().staff_called, "{session:?}");
    };
    let mut c = console(&[("session", "take_card_alarm_s = 10")]);
    ended_with_the_card_on(&mut c);
    c.advance(secs(9));
    assert!(!c.scene().staff_called);
    c.advance(secs(11));
    assert!(c.scene().staff_called, "staff called 10 s after the session ended");

    let mut d = console(&[]);
    ended_with_the_card_on(&mut d);
    d.advance(secs(11));
    assert!(!d.scene().staff_called, "the default waits longer");
}

/// `admin.lockout_attempts` wrong staff PINs lock the menu for `admin.lockout_s`.
#[test]
fn staff_pin_lockout() {
    let wrong_pins = |c: &mut Console, n: usize| {
        for _ in 0..n {
            c.action(UiAction::AdminOpen);
            for _ in 0..4 {
                c.action(UiAction::Key(Pad::Staff, Key::Digit(9)));
            }
            c.action(UiAction::Key(Pad::Staff, Key::Submit));
            c.staff_pin_checked(false);
        }
    };
    let mut c = console(&[(
        "admin",
        &format!("staff_pin_hash = \"{}\"\nlockout_attempts = 2\nlockout_s = 90", support::HASH),
    )]);
    wrong_pins(&mut c, 2);
    let s = c.scene();
    assert_eq!((s.screen, s.admin_locked_seconds), (Screen::AdminLocked, 90), "locked after 2, for 90 s");

    let mut d = console(&[]);
    wrong_pins(&mut d, 2);
    assert_ne!(d.scene().screen, Screen::AdminLocked, "the default allows more tries");
}

/// `card.allow_method_d_label = false`: a valid same-day label logs nobody in.
#[test]
fn method_d_label_login() {
    let label = || Event::Scanned(Scan::MethodDLabel(Ok(PatronId::new(PATRON).unwrap())));
    // Labels still printed here (so the token key is used), not accepted.
    let mut c = console(&[
        ("card", "mode = \"simulated\"\nallow_method_d_label = false"),
        ("label", "method_d = true\ntoken_key_file = \"token.key\""),
    ]);
    assert!(session(&c.event(label())).is_none());
    assert_eq!(c.scene().screen, Screen::Idle);

    let mut d = console(&[]);
    assert!(session(&d.event(label())).is_some(), "by default a label logs its patron in");
}

/// `library.name` is on every patron screen.
#[test]
fn library_name() {
    let c = console(&[(
        "library",
        "name = \"はりま市立中央図書館\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"",
    )]);
    assert_eq!(c.scene().library_name, "はりま市立中央図書館");
}

/// `counter.show_s`: the patron number is on the counter's screen this long, then wiped.
#[test]
fn counter_number_shown_for() {
    const COUNTER_LIB: &str =
        "name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nmode = \"counter\"";
    let handed_off = |counter: &str| {
        let mut c = console(&[
            ("library", COUNTER_LIB),
            ("card", "mode = \"simulated\"\nrequire_pin = false"),
            ("label", "method_d = true\ntoken_key_file = \"token.key\""),
            ("counter", counter),
        ]);
        let session = session(&c.event(Event::CardInserted)).expect("a session");
        c.event(Event::Reply { session, reply: Reply::Certificate(Ok(())) });
        let patron = Some(PatronId::new(PATRON).unwrap());
        c.event(Event::Reply { session, reply: Reply::Validity(Verdict::Good { patron }) });
        assert_eq!((c.scene().screen, c.scene().hand_off.number.as_str()), (Screen::HandOff, PATRON));
        c
    };
    let mut c = handed_off("show_s = 10");
    c.advance(secs(9));
    assert_eq!(c.scene().hand_off.number, PATRON);
    c.advance(secs(11));
    assert_eq!(c.scene().hand_off.number, "", "wiped after 10 s");

    let mut d = handed_off("");
    d.advance(secs(11));
    assert_eq!(d.scene().hand_off.number, PATRON, "the default shows it longer");
}

/// `library.languages`: the first is the language each patron starts in; the list
/// offers those given, in the library's order, and is gone when there is one.
#[test]
fn languages_offered() {
    use kiosk_ui::Language;
    let lib = |languages: &str| {
        format!("name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nlanguages = {languages}")
    };
    // English first: sessions start in English, the patron may change to Japanese or
    // Vietnamese (not to Korean, not offered), and the next patron starts in English again.
    let mut c = console(&[("library", &lib(r#"["en", "ja", "vi"]"#))]);
    let offered = vec![Language::English, Language::Japanese, Language::Vietnamese];
    assert_eq!((c.scene().language, c.scene().languages), (Language::English, offered));
    borrowing(&mut c);
    c.action(UiAction::Languages);
    assert!(c.scene().languages_open);
    c.action(UiAction::Language(Language::Korean));
    assert_eq!((c.scene().language, c.scene().languages_open), (Language::English, true), "not offered");
    c.action(UiAction::Language(Language::Vietnamese));
    assert_eq!((c.scene().language, c.scene().languages_open), (Language::Vietnamese, false));
    c.action(UiAction::Finish);
    c.advance(secs(60));
    assert_eq!((c.scene().screen, c.scene().language), (Screen::Idle, Language::English));
    // Japanese only: no list, and the language stays.
    let mut j = console(&[("library", &lib(r#"["ja"]"#))]);
    assert_eq!((j.scene().language, j.scene().languages.len()), (Language::Japanese, 1));
    j.action(UiAction::Languages);
    j.action(UiAction::Language(Language::English));
    assert_eq!((j.scene().language, j.scene().languages_open), (Language::Japanese, false));
    // Every language by its code, easy Japanese first (a children's library).
    let all = console(&[("library", &lib(r#"["ja-easy", "ja", "en", "zh-Hans", "ko", "vi", "pt-BR"]"#))]);
    assert_eq!(all.scene().language, Language::EasyJapanese);
    assert_eq!(all.scene().languages.len(), 7);
    // Chosen at the idle screen and left there: undone after a minute, so the next patron
    // starts in the library's language; a list left open closes too.
    let mut i = console(&[("library", &lib(r#"["ja", "en"]"#))]);
    i.action(UiAction::Languages);
    i.action(UiAction::Language(Language::English));
    assert!(i.deadline().is_some_and(|d| d <= secs(60)));
    i.advance(secs(59));
    assert_eq!(i.scene().language, Language::English);
    i.advance(secs(60));
    assert_eq!(i.scene().language, Language::Japanese);
    assert_eq!(i.deadline(), None, "nothing left to undo");
    i.action(UiAction::Languages);
    i.advance(secs(121));
    assert!(!i.scene().languages_open);
    // The staff menu speaks the library's language, and has no language list.
    i.action(UiAction::Language(Language::English));
    i.action(UiAction::AdminOpen);
    assert_eq!((i.scene().language, i.scene().languages_open), (Language::Japanese, false));
    i.action(UiAction::Languages);
    assert!(!i.scene().languages_open);
    // Choosing a language is the patron at work: "Are you still there?" goes.
    let mut t = console(&[("library", &lib(r#"["ja", "en"]"#))]);
    borrowing(&mut t);
    let mut now = 0;
    while t.scene().timeout_seconds.is_none() {
        now += 1;
        assert!(now < 3600, "no timeout warning");
        t.advance(secs(now));
    }
    t.action(UiAction::Languages);
    assert_eq!((t.scene().timeout_seconds, t.scene().languages_open), (None, true));
    // The default: Japanese first, English offered.
    let d = console(&[]);
    assert_eq!(
        (d.scene().language, d.scene().languages),
        (Language::Japanese, vec![Language::Japanese, Language::English])
    );
}

/// `library.account_screen`: on (the default), the borrowing screen offers the account
/// and a tap asks the library system for it; off, neither.
#[test]
fn account_screen() {
    let lib = |on: &str| {
        format!("name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\naccount_screen = {on}")
    };
    let asks = |work: &[Work]| {
        work.iter().any(|w| matches!(w, Work::Effect(kiosk_core::flow::Effect::Account { .. })))
    };
    let mut on = console(&[]);
    card_borrowing(&mut on);
    assert!(on.scene().can_open_account);
    assert!(asks(&on.action(UiAction::Account)));
    assert_eq!(on.scene().screen, Screen::Account);
    let mut off = console(&[("library", &lib("false"))]);
    card_borrowing(&mut off);
    assert!(!off.scene().can_open_account);
    assert!(!asks(&off.action(UiAction::Account)));
    assert_eq!(off.scene().screen, Screen::Borrowing);
}

/// `library.returns`: off (the default), the idle screen has no returns button and the
/// tap does nothing; on, it starts a returns session that sends each scanned book as a
/// return.
#[test]
fn returns() {
    let lib =
        |on: &str| format!("name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nreturns = {on}");
    let mut off = console(&[]);
    assert!(!off.scene().can_return);
    off.action(UiAction::Return);
    assert_eq!(off.scene().screen, Screen::Idle);
    let mut on = console(&[("library", &lib("true"))]);
    assert!(on.scene().can_return);
    on.action(UiAction::Return);
    assert_eq!(on.scene().screen, Screen::Returning);
    let work = on.event(Event::Scanned(Scan::Item(kiosk_core::flow::ItemId("9784101010014".into()))));
    assert!(
        work.iter().any(|w| matches!(w, Work::Effect(kiosk_core::flow::Effect::Return { .. }))),
        "{work:?}"
    );
}

/// `library.furigana`: off (the default), the Japanese screens start without readings; on,
/// each session starts with them. Either way the patron's button turns them over, and
/// the library's setting comes back for the next patron.
#[test]
fn furigana() {
    let lib =
        |on: &str| format!("name = \"x\"\ninstitution_id = \"TEST\"\nkiosk_id = \"t-01\"\nfurigana = {on}");
    for (setting, start) in [(None, false), (Some("true"), true), (Some("false"), false)] {
        let library = setting.map(lib);
        let overrides: Vec<(&str, &str)> = library.iter().map(|l| ("library", l.as_str())).collect();
        let mut c = console(&overrides);
        assert_eq!(c.scene().furigana, start, "{setting:?}");
        c.action(UiAction::ToggleFurigana);
        assert_eq!(c.scene().furigana, !start, "the patron's button");
        // Larger text turns furigana off (they do not fit the screens together), and
        // furigana larger text.
        c.action(UiAction::ToggleLargeText);
        assert!(c.scene().large_text && !c.scene().furigana);
        c.action(UiAction::ToggleFurigana);
        assert!(!c.scene().large_text && c.scene().furigana);
        c.action(UiAction::ToggleFurigana);
        // Left between sessions: the library's setting is back for the next patron.
        c.advance(kiosk_core::console::PRESENTATION_RESET);
        assert!(!c.scene().large_text);
        assert_eq!(c.scene().furigana, start, "{setting:?} again");
    }
}

/// The staff menu's switches for the account screen and returns: each flips what the
/// next patron is offered (kiosk.toml sets what the kiosk starts with).
#[test]
fn staff_turn_the_account_screen_and_returns_on_and_off() {
    let mut c = console(&[]);
    c.action(UiAction::AdminOpen);
    for _ in 0..4 {
        c.action(UiAction::Key(Pad::Staff, Key::Digit(0)));
    }
    let work = c.action(UiAction::Key(Pad::Staff, Key::Submit));
    assert!(work.iter().any(|w| matches!(w, Work::CheckStaffPin(_))), "{work:?}");
    c.staff_pin_checked(true);
    assert_eq!(c.scene().screen, Screen::AdminMenu);
    assert_eq!((c.scene().account_on, c.scene().returns_on), (true, false), "kiosk.toml's defaults");
    c.action(UiAction::AdminToggleReturns);
    c.action(UiAction::AdminToggleAccount);
    assert_eq!((c.scene().account_on, c.scene().returns_on), (false, true));
    c.action(UiAction::AdminClose);
    assert!(c.scene().can_return, "the idle screen now offers returns");
    card_borrowing(&mut c);
    assert!(!c.scene().can_open_account, "and the next patron no account");
}

/// `[offline] enabled` and `library_card_patrons`: when the library system does not
/// answer (and the kiosk may lend offline), a library-card patron borrows offline only
/// where both are on; off (the default), the patron is told the library system is down.
#[test]
fn offline() {
    let offline_reply = |c: &mut Console| {
        let work = c.event(Event::Scanned(Scan::LibraryCard(PatronId::new(PATRON).unwrap())));
        let session = session(&work).unwrap();
        c.event(Event::Reply { session, reply: Reply::StandingOffline });
        c.scene()
    };
    let scene = offline_reply(&mut console(&[]));
    assert_eq!(scene.screen, Screen::Ending, "off by default");
    let scene = offline_reply(&mut console(&[("offline", "enabled = true")]));
    assert_eq!(scene.screen, Screen::Ending, "library-card patrons need their own switch");
    let scene = offline_reply(&mut console(&[("offline", "enabled = true\nlibrary_card_patrons = true")]));
    assert_eq!(scene.screen, Screen::Borrowing);
    assert!(scene.offline, "the screen says so");
}

/// `statistics.keep_days`: the statistics file keeps that many days of hours; older ones
/// go when the kiosk starts.
#[test]
fn statistics_keep_days() {
    use kiosk::usage::{FILE, Usage, hour_now};
    use kiosk_core::usage::{Counter, FILE_HEADER};
    let dir = std::env::temp_dir().join(format!("kiosk-settings-stats-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let write = |days_ago: u32| {
        let hour = hour_now() - days_ago * 24;
        std::fs::write(dir.join(FILE), format!("{FILE_HEADER}\n{hour} loans=4\n")).unwrap();
    };
    let loans = |config: &kiosk::config::Config| {
        Usage::open(&dir, config.statistics.keep_days)
            .all_hours()
            .unwrap()
            .sum(0, u32::MAX)
            .get(Counter::Loans)
    };
    write(100);
    assert_eq!(loans(&ok(&[])), 4, "the default keeps 400 days");
    write(100);
    assert_eq!(loans(&ok(&[("statistics", "keep_days = 30")])), 0, "kept 30 days");
    write(20);
    assert_eq!(loans(&ok(&[("statistics", "keep_days = 30")])), 4);
}

/// A library label on the virtual RFID reader, its data in the Danish model.
fn label(serial: u32, item: &str, usage: kiosk_rfid::Usage) -> kiosk_sim::rfid::VirtualTag {
    use kiosk_rfid::danish::{self, DanishTag};
    let data = DanishTag {
        version: 1,
        usage,
        parts: 1,
        part: 1,
        item: item.into(),
        country: "JP".into(),
        library: "1000001".into(),
    };
    let mut tag = kiosk_sim::rfid::VirtualTag::blank(serial).with_data(&danish::encode(&data).unwrap());
    tag.afi = 0x07;
    tag.eas = Some(true);
    tag
}

/// The RFID pad of a kiosk configured with `rfid` (its `reader` is the virtual reader's),
/// and what it tells the event loop.
fn pad(
    reader: &kiosk_sim::rfid::VirtualReader,
    rfid: &str,
) -> (
    kiosk::orchestrator::security::SecurityUnit,
    tokio::sync::mpsc::UnboundedReceiver<kiosk::orchestrator::Input>,
) {
    let path = reader.path().display().to_string();
    let config = ok(&[("rfid", &format!("reader = \"{path}\"\n{rfid}"))]);
    let values = kiosk::orchestrator::drivers::tag_values(config.rfid.as_ref().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let open = Box::new(move || kiosk_rfid::EvmReader::open(&path));
    let pad = kiosk::orchestrator::security::start_pad(open, values, tx).unwrap();
    (kiosk::orchestrator::security::SecurityUnit::Rfid(pad), rx)
}

/// `[rfid] security`, `afi_on_loan`, `afi_on_shelf`: a loan writes the library's "on loan"
/// AFI (or resets the EAS bit, or both), a return the "on shelf" one; nothing else.
#[test]
fn rfid_security_and_afi_values() {
    use kiosk_core::flow::ItemId;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let book = label(0x11, "1000000001", kiosk_rfid::Usage::Circulating);
    let item = ItemId("1000000001".into());
    let state = |r: &kiosk_sim::rfid::VirtualReader| {
        let t = r.tag(book.uid).unwrap();
        (t.afi, t.eas)
    };
    let mut cases = vec![
        ("", (0xC2, Some(true)), (0x07, Some(true))),
        ("afi_on_loan = 0x9A\nafi_on_shelf = 0x33", (0x9A, Some(true)), (0x33, Some(true))),
        ("security = \"eas\"", (0x07, Some(false)), (0x07, Some(true))),
        ("security = \"both\"", (0xC2, Some(false)), (0x07, Some(true))),
    ];
    for (settings, lent, returned) in cases.drain(..) {
        // A reader of its own for each kiosk (one reader, one owner).
        let reader = kiosk_sim::rfid::VirtualReader::start().unwrap();
        reader.place(book.clone());
        let (unit, _events) = pad(&reader, settings);
        rt.block_on(unit.follow(&item, true)).unwrap();
        assert_eq!(state(&reader), lent, "lent with {settings:?}");
        rt.block_on(unit.follow(&item, false)).unwrap();
        assert_eq!(state(&reader), returned, "returned with {settings:?}");
    }
}

/// `[rfid] patron_cards`: a library card's tag on the pad logs its patron in (as its
/// scanned number would), only where the library says so.
#[test]
fn rfid_patron_cards() {
    use kiosk::orchestrator::Input;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for (setting, logs_in) in [("", false), ("patron_cards = true", true)] {
        let reader = kiosk_sim::rfid::VirtualReader::start().unwrap();
        reader.place(label(0x21, PATRON, kiosk_rfid::Usage::PatronCard));
        let (_unit, mut events) = pad(&reader, setting);
        // Until the pad has read the card (its status counts it), however busy the machine.
        let scanned = rt.block_on(async {
            let until = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            let mut scanned = None;
            loop {
                match tokio::time::timeout_at(until, events.recv()).await {
                    Ok(Some(Input::Scan(number))) => scanned = Some(number),
                    Ok(Some(Input::Status(row)))
                        if row.state == kiosk_ui::DeviceState::TagsOnPad && row.value == 1 =>
                    {
                        return scanned;
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => return scanned,
                }
            }
        });
        assert_eq!(scanned.as_deref(), logs_in.then_some(PATRON), "with {setting:?}");
    }
}

/// `[rfid] count_check`: at Finish the patron is asked how many items they brought; more
/// than were read sends them back to the pad (a tag hidden under the stack).
#[test]
fn rfid_count_check() {
    let finish = |c: &mut Console| {
        let work = c.event(Event::Scanned(Scan::LibraryCard(PatronId::new(PATRON).unwrap())));
        let session = session(&work).unwrap();
        c.event(Event::Reply { session, reply: Reply::Standing(Ok(())) });
        c.event(Event::Pad(kiosk_core::flow::OnPad {
            item: kiosk_core::flow::ItemId("1000000001".into()),
            parts: 1,
            present: vec![1],
            duplicate: false,
        }));
        c.action(UiAction::Finish);
        c.scene()
    };
    let rfid = "reader = \"/dev/ttyACM0\"";
    let scene = finish(&mut console(&[("rfid", rfid)]));
    assert_ne!(scene.screen, Screen::Count, "off by default");
    let mut c = console(&[("rfid", &format!("{rfid}\ncount_check = true"))]);
    assert_eq!(finish(&mut c).screen, Screen::Count);
    c.action(UiAction::Count(2));
    let scene = c.scene();
    assert_eq!(
        (scene.screen, scene.count_seen, scene.count_said),
        (Screen::Count, 1, 2),
        "two said, one read"
    );
    c.action(UiAction::ReadAgain);
    assert_eq!(c.scene().screen, Screen::Borrowing);
}
