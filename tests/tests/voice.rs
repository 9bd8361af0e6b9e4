//! The kiosk's voice, end to end: the real binary plays through ALSA, and ALSA's own
//! `file` plugin (over the `null` device: no sound card) writes what it played to a WAV.
//! The capture is then read back as the sounds it is made of: every stretch of it must be
//! one of the pack's prompts (in the patron's language) or one of the tones, scaled by
//! the volume, whole or cut by the next sound. Nothing else can be in it: no PIN digit,
//! no title, no noise; but on the headphones' own device, where each book's title is said
//! and is known by making it as the kiosk does. The helpers are `kiosk_e2e::voice`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kiosk_audio::Pack;
use kiosk_e2e::voice::{
    KP_1, KP_2, KP_3, KP_4, KP_ENTER, Keys, audio_section, borrow_by_keypad, capture_device, capture_devices,
    capture_len, captured, due_date_said, headphones_kiosk, heard, heard_with, in_order, keypad_kiosk,
    keypad_kiosk_with, pack_path, scan_two_and_one_on_hold, sounded, sox_checked, title_clips, type_digits,
};
use kiosk_e2e::{BOOKS, Kiosk, PATRON, Stack, staff_login};
use kiosk_sim::card::CardConfig;
use kiosk_sim::card::stack::enter_private_stack;

/// A stack whose kiosk has these `[audio]` lines and the capture device, at its idle
/// screen; the capture's path.
fn kiosk_with(name: &str, audio: &str) -> (Stack, Kiosk, std::path::PathBuf) {
    let stack = Stack::start(name);
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(&stack, &wav);
    audio_section(&stack, audio);
    let mut k = Kiosk::start_env(&stack, &[], &[("ALSA_CONFIG_PATH", &alsa)]);
    k.wait("idle", 20);
    (stack, k, wav)
}

#[test]
fn a_patron_hears_each_step_of_a_loan_and_never_a_pin_digit() {
    if !enter_private_stack("a_patron_hears_each_step_of_a_loan_and_never_a_pin_digit") {
        return;
    }
    let stack = Stack::start("voice-journey");
    stack.link(PATRON);
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(&stack, &wav);
    let pack = pack_path();
    audio_section(
        &stack,
        &format!("device = \"kiosk_capture\"\nvolume = 100\nprompts = \"{}\"", pack.display()),
    );
    let mut k = Kiosk::start_env(&stack, &[], &[("ALSA_CONFIG_PATH", &alsa)]);
    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    type_digits(&mut k, "1234");
    k.tap("submit");
    k.wait("borrowing", 30);
    scan_two_and_one_on_hold(&mut k, Some(&wav));
    k.tap("finish");
    // The books not lent, said again before the receipt.
    k.wait("refused", 10);
    k.tap("dismiss");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("ending", 20);
    k.until("card_present=true", 5);
    // Taken at once, while the ending screen still speaks.
    let before = capture_len(&wav);
    inserted.remove();
    k.wait("idle", 20);
    // The idle screen's prompt, after the rest of the ending's words, reaches the device.
    sounded(&wav, before);
    // Stopping closes the device: the file plugin writes out what it still holds.
    k.quit();
    let samples = captured(&wav);

    let pack = Pack::parse(&std::fs::read(&pack).unwrap()).unwrap();
    let heard = heard(&samples, &pack, "ja", &[100]);
    // The first book's due date, said after it in pieces: 返却期限 12月 21日 月曜日.
    let due = due_date_said(kiosk_core::scene::Language::Japanese);
    let first_book = ["tone:good-scan", "borrowed-1"].into_iter().chain(due.iter().map(String::as_str));
    in_order(&heard, &first_book.collect::<Vec<_>>());
    in_order(
        &heard,
        &[
            "idle",
            "pin",
            "tone:key-click",
            "digits-1",
            "tone:key-click",
            "digits-2",
            "tone:key-click",
            "digits-3",
            "tone:key-click",
            "digits-4",
            "borrowing",
            "tone:good-scan",
            "borrowed-1",
            "tone:refused-scan",
            "reserved",
            "to-counter",
            "tone:good-scan",
            "borrowed-2",
            "tone:refused-scan",
            "refused-1",
            "receipt-choice",
            "take-card",
            // The card taken: back to the start.
            "idle",
        ],
    );
    // The card was taken as soon as the ending screen asked for it: its words go on to
    // their end, and the idle screen's prompt follows them instead of cutting them.
    let ending = heard.iter().rposition(|h| h.name == "notice-goodbye").unwrap();
    let names: Vec<(&str, bool)> = heard[ending..].iter().map(|h| (h.name.as_str(), h.whole)).collect();
    assert_eq!(names, [("notice-goodbye", true), ("take-card", true), ("idle", true)]);
    // A sound may be cut by the next (the tests act as soon as the screen changes, as a
    // quick patron does): what matters is that each is there, in order, and nothing else.
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak < i16::MAX.unsigned_abs(), "clipped");
    assert!(peak > 3000, "audible: peak {peak}");
}

#[test]
fn the_volume_voice_and_device_settings_and_the_staff_menu_s_sound_controls() {
    if !enter_private_stack("the_volume_voice_and_device_settings_and_the_staff_menu_s_sound_controls") {
        return;
    }
    let stack = Stack::start("voice-settings");
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(&stack, &wav);
    let pack_file = pack_path();
    // Tones only, at half volume.
    audio_section(
        &stack,
        &format!(
            "device = \"kiosk_capture\"\nvolume = 50\nvoice = false\nprompts = \"{}\"",
            pack_file.display()
        ),
    );
    let mut k = Kiosk::start_env(&stack, &[], &[("ALSA_CONFIG_PATH", &alsa)]);
    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    type_digits(&mut k, "12");
    inserted.remove();
    k.wait("idle", 20);
    // Staff: the test sound, a step quieter, the test sound again.
    staff_login(&mut k);
    // Each test sound reaches the device before the next step: the volume changes after
    // the first, not in it, and quitting would cut the second.
    let before = capture_len(&wav);
    k.tap("admin-test-sound");
    sounded(&wav, before);
    k.tap("admin-quieter");
    // The status line says the new volume.
    k.until("sound=SoundTonesOnly/40", 10);
    let before = capture_len(&wav);
    k.tap("admin-test-sound");
    sounded(&wav, before);
    k.quit();
    let samples = captured(&wav);
    let pack = Pack::parse(&std::fs::read(&pack_file).unwrap()).unwrap();
    let heard = heard(&samples, &pack, "ja", &[50, 40]);
    let names: Vec<&str> = heard.iter().map(|h| h.name.as_str()).collect();
    // voice = false: the tones only; volume = 50: the key clicks and the first test
    // sound at half volume; "Quieter": the second test sound at 40 %.
    assert!(names.iter().all(|n| n.starts_with("tone:")), "tones only: {names:?}");
    assert_eq!(
        names,
        ["tone:key-click@50", "tone:key-click@50", "tone:good-scan@50", "tone:good-scan@40"],
        "two digits clicked, then the test sound before and after a step quieter"
    );
}

#[test]
fn a_kiosk_with_device_none_is_silent_and_says_so_to_staff() {
    if !enter_private_stack("a_kiosk_with_device_none_is_silent_and_says_so_to_staff") {
        return;
    }
    let (_stack, mut k, wav) = kiosk_with("voice-none", "device = \"none\"");
    let scene = k.scene();
    assert!(scene.contains("sound=NotConfigured/0"), "{scene}");
    k.quit();
    assert!(!wav.exists(), "nothing was played");
}

#[test]
fn a_missing_prompt_pack_leaves_the_tones_and_the_status_page_says_why() {
    if !enter_private_stack("a_missing_prompt_pack_leaves_the_tones_and_the_status_page_says_why") {
        return;
    }
    let (stack, mut k, _wav) =
        kiosk_with("voice-no-pack", "device = \"kiosk_capture\"\nprompts = \"no-such.pack\"");
    let scene = k.scene();
    assert!(scene.contains("sound=NotWorking/70"), "{scene}");
    k.quit();
    let log = kiosk_e2e::log(&stack);
    assert!(log.contains("no-such.pack could not be read"), "the log says which file: {log}");
    assert!(log.contains("the tones still play"), "and that the tones play: {log}");
}

/// What the blind patron's loan by keypad (`borrow_by_keypad`) says after help at idle:
/// the PIN's clicks and counts, "borrowing" + "Finish", each result, "OK", the receipt
/// question + "Print receipt", "No receipt" after +, "take your card", idle again.
const KEYPAD_LOAN: &[&str] = &[
    "reading-card",
    "pin",
    "tone:key-click",
    "digits-1",
    "tone:key-click",
    "digits-4",
    "borrowing",
    "choice-finish",
    "tone:good-scan",
    "borrowed-1",
    "tone:refused-scan",
    "reserved",
    "to-counter",
    "tone:good-scan",
    "borrowed-2",
    "refused-1",
    "choice-ok",
    "receipt-choice",
    "choice-print-receipt",
    "choice-no-receipt",
    "take-card",
    "idle",
];

#[test]
fn a_blind_patron_borrows_with_the_keypad_alone_and_hears_every_step() {
    if !enter_private_stack("a_blind_patron_borrows_with_the_keypad_alone_and_hears_every_step") {
        return;
    }
    let stack = Stack::start("voice-keypad");
    stack.link(PATRON);
    let (mut k, mut keys, wav) = keypad_kiosk(&stack);
    borrow_by_keypad(&mut k, &stack, &mut keys, None);
    let scene = k.scene();
    k.quit();
    assert_eq!(stack.loans(PATRON).len(), 2, "two books lent by keypad");
    assert!(stack.printer.job_bytes().is_empty(), "no receipt: none printed");
    assert!(scene.contains("screen=idle"), "{scene}");
    sox_checked(&wav, 20.0);
    let samples = captured(&wav);
    let pack = Pack::parse(&std::fs::read(pack_path()).unwrap()).unwrap();
    let heard = heard(&samples, &pack, "ja", &[100]);
    let help = ["idle", "idle", "choice-call-staff"];
    in_order(&heard, &[&help[..], KEYPAD_LOAN].concat());
}

#[test]
fn headphones_in_the_keypad_s_jack_take_the_whole_journey_off_the_speaker() {
    if !enter_private_stack("headphones_in_the_keypad_s_jack_take_the_whole_journey_off_the_speaker") {
        return;
    }
    let stack = Stack::start("voice-headphones");
    stack.link(PATRON);
    let (mut k, mut keys, speaker, phones) = headphones_kiosk(&stack, "");
    assert!(k.scene().contains("headphones=false"));
    // The speaker says the idle screen before they go in (else going in cuts it first).
    sounded(&speaker, 0);
    // In: keypad mode on, the screen said in the headphones.
    keys.headphones(true);
    k.until("headphones=true", 10);
    k.until("focus=call-staff", 10);
    borrow_by_keypad(&mut k, &stack, &mut keys, Some(&phones));
    // The patron leaves the headphones in: the next patron starts in keypad mode too.
    assert!(k.scene().contains("focus=call-staff"), "{}", k.scene());
    // The idle screen said in them before they come out (coming out cuts what plays).
    sounded(&phones, 0);
    keys.headphones(false);
    k.until("headphones=false", 10);
    k.quit();
    assert_eq!(stack.loans(PATRON).len(), 2, "two books lent by keypad");
    sox_checked(&speaker, 1.0);
    sox_checked(&phones, 20.0);
    let pack = Pack::parse(&std::fs::read(pack_path()).unwrap()).unwrap();
    // The open speaker said the idle screen before the headphones went in, then nothing:
    // no key click, no PIN's count, no book.
    let said = heard(&captured(&speaker), &pack, "ja", &[100]);
    let names: Vec<&str> = said.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["idle"], "the speaker after the headphones went in");
    // The headphones: each book's title after its result, made as the kiosk makes them
    // (the Japanese titles by Open JTalk, the French one by eSpeak NG's English).
    let titles = ["吾輩は猫である", "Le Piège de Bogota", "ノルウェイの森"];
    let clips = title_clips(kiosk_core::scene::Language::Japanese, &titles);
    let heard = heard_with(&captured(&phones), &pack, "ja", &[100], &clips);
    // Plugged in, then the help key: the screen and its first button, twice.
    let plugged_and_help = ["idle", "choice-call-staff", "idle", "choice-call-staff"];
    let mut loan: Vec<String> = Vec::new();
    for said in KEYPAD_LOAN {
        loan.push((*said).to_owned());
        match *said {
            "borrowed-1" => loan.push(format!("title:{}", titles[0])),
            "reserved" => loan.push(format!("title:{}", titles[1])),
            "borrowed-2" => loan.push(format!("title:{}", titles[2])),
            _ => {}
        }
    }
    let loan: Vec<&str> = loan.iter().map(String::as_str).collect();
    in_order(&heard, &[&plugged_and_help[..], &loan].concat());
    // Each title heard whole, and its book's result before it.
    for title in titles {
        let name = format!("title:{title}");
        assert!(heard.iter().any(|h| h.name == name && h.whole), "{name} heard whole: {heard:?}");
    }
}

#[test]
fn with_titles_off_the_headphones_hear_each_result_without_its_title() {
    if !enter_private_stack("with_titles_off_the_headphones_hear_each_result_without_its_title") {
        return;
    }
    let stack = Stack::start("voice-no-titles");
    stack.link(PATRON);
    let (mut k, mut keys, _speaker, phones) = headphones_kiosk(&stack, "titles = false");
    keys.headphones(true);
    k.until("headphones=true", 10);
    let (_card, inserted) = stack.card(kiosk_sim::card::CardConfig::default());
    k.wait("pin", 20);
    k.until("pin=Entering", 20);
    keys.press(&[KP_1, KP_2, KP_3, KP_4, KP_ENTER]);
    k.wait("borrowing", 30);
    let before = capture_len(&phones);
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    sounded(&phones, before);
    inserted.remove();
    k.wait("idle", 20);
    k.quit();
    let pack = Pack::parse(&std::fs::read(pack_path()).unwrap()).unwrap();
    // Nothing but the pack's prompts and the tones (`heard` stops at anything else): the
    // result and its due date, no title.
    let heard = heard(&captured(&phones), &pack, "ja", &[100]);
    let due = due_date_said(kiosk_core::scene::Language::Japanese);
    let result = ["tone:good-scan", "borrowed-1"].into_iter().chain(due.iter().map(String::as_str));
    in_order(&heard, &result.collect::<Vec<_>>());
}

#[test]
fn a_jack_on_an_input_node_of_its_own_takes_the_voice_to_the_headphones() {
    if !enter_private_stack("a_jack_on_an_input_node_of_its_own_takes_the_voice_to_the_headphones") {
        return;
    }
    let stack = Stack::start("voice-jack");
    let speaker = stack.dir.join("speaker.wav");
    let phones = stack.dir.join("headphones.wav");
    let alsa = capture_devices(&stack, &[("kiosk_capture", &speaker), ("kiosk_headphones", &phones)]);
    // The jack's node, as the kernel would deliver its switch (a FIFO of records).
    let node = stack.dir.join("jack.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&node).status().unwrap().success());
    let audio = "headphones = \"kiosk_headphones\"\njack = \"jack.fifo\"";
    let (mut k, mut keys) = keypad_kiosk_with(&stack, &alsa, audio);
    let mut jack = Keys::open(&node);
    sounded(&speaker, 0);
    // In, on the jack's own node: keypad mode, the screen said in the headphones.
    jack.headphones(true);
    k.until("headphones=true", 10);
    k.until("focus=call-staff", 10);
    sounded(&phones, 0);
    // The keypad's own switch is not read when the jack has a node of its own.
    keys.headphones(false);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(k.scene().contains("headphones=true"), "{}", k.scene());
    // Out: back to the speaker.
    jack.headphones(false);
    k.until("headphones=false", 10);
    k.quit();
    let pack = Pack::parse(&std::fs::read(pack_path()).unwrap()).unwrap();
    let said = heard(&captured(&speaker), &pack, "ja", &[100]);
    assert_eq!(said.first().map(|h| h.name.as_str()), Some("idle"));
    let heard = heard(&captured(&phones), &pack, "ja", &[100]);
    in_order(&heard, &["idle", "choice-call-staff"]);
}
