//! The kiosk's voice, end to end: the real binary plays through ALSA, and ALSA's own
//! `file` plugin (over the `null` device: no sound card) writes what it played to a WAV.
//! The capture is then read back as the sounds it is made of: every stretch of it must be
//! one of the pack's prompts (in the patron's language) or one of the tones, scaled by
//! the volume, whole or cut by the next sound. Nothing else can be in it: no PIN digit,
//! no title, no noise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kiosk_audio::{Clip, Pack, Tone};
use kiosk_e2e::{BOOKS, Kiosk, ON_HOLD, PATRON, Stack, staff_login};
use kiosk_scanner::keypad::InputEvent;
use kiosk_sim::card::CardConfig;
use kiosk_sim::card::stack::enter_private_stack;

/// The pack `cargo xtask test` makes before the tests run.
fn pack_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/prompts/kiosk-voice.pack");
    assert!(path.exists(), "no prompt pack at {}: run `cargo xtask prompts`", path.display());
    path
}

/// An ALSA configuration with a device `kiosk_capture` writing to `wav`; the kiosk gets
/// it through `ALSA_CONFIG_PATH` (the system's configuration, then this).
fn capture_device(stack: &Stack, wav: &Path) -> PathBuf {
    let asoundrc = stack.dir.join("asoundrc");
    std::fs::write(
        &asoundrc,
        format!(
            "pcm.kiosk_capture {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"wav\"\n}}\n",
            wav.display()
        ),
    )
    .unwrap();
    PathBuf::from(format!("/usr/share/alsa/alsa.conf:{}", asoundrc.display()))
}

/// Adds an `[audio]` section to the stack's `kiosk.toml`.
fn audio_section(stack: &Stack, lines: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(stack.dir.join("kiosk.toml")).unwrap();
    writeln!(f, "\n[audio]\n{lines}").unwrap();
}

/// The 16-bit samples of the captured WAV, once it has stopped growing.
fn captured(wav: &Path) -> Vec<i16> {
    let mut last = 0;
    let mut still = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let len = std::fs::metadata(wav).map_or(0, |m| m.len());
        if len != last {
            (last, still) = (len, Instant::now());
        } else if len > 0 && still.elapsed() > Duration::from_millis(500) {
            break;
        }
        assert!(Instant::now() < deadline, "the capture at {} kept growing or never came", wav.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    let bytes = std::fs::read(wav).unwrap();
    // The file plugin writes a RIFF header and one `data` chunk.
    let at = bytes.windows(4).position(|w| w == b"data").expect("a WAV data chunk") + 8;
    bytes[at..].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// One sound found in the capture: its name, and whether it played whole.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Heard {
    name: String,
    whole: bool,
}

/// Reads the capture back as the known sounds (the language's prompts and the tones,
/// each as the player scales it at one of `volumes`; named `key@volume` when there are
/// several). Panics at the first stretch that is none of them.
fn heard(samples: &[i16], pack: &Pack, language: &str, volumes: &[i32]) -> Vec<Heard> {
    let mut sounds: Vec<(String, Clip)> = [
        ("tone:key-click", Tone::KeyClick),
        ("tone:good-scan", Tone::GoodScan),
        ("tone:refused-scan", Tone::RefusedScan),
        ("tone:warning", Tone::Warning),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_owned(), t.samples()))
    .collect();
    sounds
        .extend(pack.prompts().iter().filter(|p| p.language == language).map(|p| (p.key.clone(), p.clip())));
    let mut known: Vec<(String, Vec<i16>)> = Vec::new();
    for &volume in volumes {
        for (name, clip) in &sounds {
            let name = if volumes.len() > 1 { format!("{name}@{volume}") } else { name.clone() };
            let scaled = clip.iter().map(|&s| i16::try_from(i32::from(s) * volume / 100).unwrap()).collect();
            known.push((name, scaled));
        }
    }
    // Leading silence is skipped in the capture, so each sound is compared from its
    // first sounding sample.
    let known: Vec<(String, &[i16], usize)> = known
        .iter()
        .map(|(n, s)| {
            let start = s.iter().position(|&v| v != 0).unwrap_or(s.len());
            (n.clone(), &s[start..], s.len() - start)
        })
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < samples.len() {
        if samples[at] == 0 {
            at += 1;
            continue;
        }
        let rest = &samples[at..];
        let (name, matched, len) = known
            .iter()
            .map(|(n, s, len)| (n, s.iter().zip(rest).take_while(|(a, b)| a == b).count(), *len))
            .max_by_key(|(_, m, _)| *m)
            .unwrap();
        // At least a period (10 ms) of it, or all of a shorter sound.
        assert!(
            matched >= 160.min(len),
            "{} ms into the capture: a sound that is no prompt and no tone (heard so far: {out:?})",
            at / 16
        );
        out.push(Heard { name: name.clone(), whole: matched == len });
        at += matched;
    }
    out
}

/// Types `digits` at a person's pace: a sound asked for while an older one still waits
/// to start replaces it, so keys typed within a millisecond (as a script can) would
/// leave one click; a person's are 100 ms or more apart.
fn type_digits(k: &mut Kiosk, digits: &str) {
    k.until("pin=Entering", 20);
    for d in digits.chars() {
        k.tap(&format!("digit-{d}"));
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `wanted` appear in `got`, in this order (others may come between).
fn in_order(got: &[Heard], wanted: &[&str]) {
    let names: Vec<&str> = got.iter().map(|h| h.name.as_str()).collect();
    let mut rest = names.iter();
    for w in wanted {
        assert!(rest.any(|n| n == w), "{w} missing or out of order in {names:?}");
    }
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
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    k.scan(ON_HOLD);
    k.until("lines=2", 20);
    k.scan(BOOKS[1]);
    k.until("borrowed=2", 20);
    k.tap("finish");
    // The books not lent, said again before the receipt.
    k.wait("refused", 10);
    k.tap("dismiss");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("ending", 20);
    k.until("card_present=true", 5);
    inserted.remove();
    k.wait("idle", 20);
    // Stopping closes the device: the file plugin writes out what it still holds.
    k.quit();
    let samples = captured(&wav);

    let pack = Pack::parse(&std::fs::read(&pack).unwrap()).unwrap();
    let heard = heard(&samples, &pack, "ja", &[100]);
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
    // What the patron must hear whole: the screens' prompts and the results (a PIN
    // digit's count may be cut by the next key).
    for (i, h) in heard.iter().enumerate() {
        let last = i + 1 == heard.len();
        let cut_allowed =
            last || h.name.starts_with("digits-") || h.name == "tone:key-click" || h.name == "pin";
        assert!(h.whole || cut_allowed, "{} was cut: {heard:?}", h.name);
    }
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
    k.tap("admin-test-sound");
    let _ = captured(&wav);
    k.tap("admin-quieter");
    k.tap("admin-test-sound");
    let samples = captured(&wav);
    k.quit();
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
    let stack = Stack::start("voice-none");
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(&stack, &wav);
    audio_section(&stack, "device = \"none\"");
    let mut k = Kiosk::start_env(&stack, &[], &[("ALSA_CONFIG_PATH", &alsa)]);
    k.wait("idle", 20);
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
    let stack = Stack::start("voice-no-pack");
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(&stack, &wav);
    audio_section(&stack, "device = \"kiosk_capture\"\nprompts = \"no-such.pack\"");
    let mut k = Kiosk::start_env(&stack, &[], &[("ALSA_CONFIG_PATH", &alsa)]);
    k.wait("idle", 20);
    let scene = k.scene();
    assert!(scene.contains("sound=SoundTonesOnly/70"), "{scene}");
    k.quit();
    let log = kiosk_e2e::log(&stack);
    assert!(log.contains("no-such.pack could not be read"), "the log says which file: {log}");
}

/// The tactile keypad, as the kernel would deliver it: key records written to the FIFO
/// the kiosk reads as its `[keypad] device` (this machine has no `/dev/uinput`).
struct Keys(std::fs::File);

impl Keys {
    fn open(path: &Path) -> Keys {
        Keys(std::fs::OpenOptions::new().write(true).open(path).unwrap())
    }

    /// Presses and releases each key (Linux key codes), at a person's pace.
    fn press(&mut self, codes: &[u16]) {
        use std::io::Write;
        for &code in codes {
            for ev in InputEvent::key(code, true).into_iter().chain(InputEvent::key(code, false)) {
                self.0.write_all(&ev.to_record()).unwrap();
            }
            self.0.flush().unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

const KP_STAR: u16 = 55;
const KP_ENTER: u16 = 96;
const KP_PLUS: u16 = 78;
const KP_1: u16 = 79;
const KP_2: u16 = 80;
const KP_3: u16 = 81;
const KP_4: u16 = 75;

#[test]
fn a_blind_patron_borrows_with_the_keypad_alone_and_hears_every_step() {
    if !enter_private_stack("a_blind_patron_borrows_with_the_keypad_alone_and_hears_every_step") {
        return;
    }
    let stack = Stack::start("voice-keypad");
    stack.link(PATRON);
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(&stack, &wav);
    let pack = pack_path();
    let fifo = stack.dir.join("keypad.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    audio_section(
        &stack,
        &format!(
            "device = \"kiosk_capture\"\nvolume = 100\nprompts = \"{}\"\n\n[keypad]\ndevice = \"keypad.fifo\"",
            pack.display()
        ),
    );
    let mut k = Kiosk::start_env(&stack, &[], &[("ALSA_CONFIG_PATH", &alsa)]);
    k.wait("idle", 20);
    let mut keys = Keys::open(&fifo);
    // Help: keypad mode on; the screen said again and the button chosen named.
    keys.press(&[KP_STAR]);
    k.until("focus=languages", 10);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    k.until("pin=Entering", 20);
    keys.press(&[KP_1, KP_2, KP_3, KP_4, KP_ENTER]);
    k.wait("borrowing", 30);
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    k.scan(ON_HOLD);
    k.until("lines=2", 20);
    k.scan(BOOKS[1]);
    k.until("borrowed=2", 20);
    // Enter on Finish; Enter on OK (the book not lent); + to "No receipt", Enter.
    keys.press(&[KP_ENTER]);
    k.wait("refused", 10);
    keys.press(&[KP_ENTER]);
    k.wait("receipt-choice", 10);
    keys.press(&[KP_PLUS, KP_ENTER]);
    k.wait("ending", 20);
    k.until("card_present=true", 5);
    inserted.remove();
    k.wait("idle", 20);
    let scene = k.scene();
    k.quit();
    assert_eq!(stack.loans(PATRON).len(), 2, "two books lent by keypad");
    assert!(stack.printer.job_bytes().is_empty(), "no receipt: none printed");
    assert!(scene.contains("screen=idle"), "{scene}");
    let samples = captured(&wav);
    let pack = Pack::parse(&std::fs::read(&pack).unwrap()).unwrap();
    let heard = heard(&samples, &pack, "ja", &[100]);
    in_order(
        &heard,
        &[
            "idle",
            "idle",
            "choice-languages",
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
        ],
    );
}
