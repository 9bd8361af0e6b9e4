//! The voice's end-to-end helpers (`tests/voice.rs`, `benches/journey.rs`): an ALSA
//! device of the test's that writes what the kiosk plays to a WAV (the `file` plugin
//! over `null`: no sound card), the capture read back as the pack's prompts and the
//! tones, and the tactile keypad as recorded kernel events on a FIFO.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kiosk_audio::{Clip, Pack, Tone};
use kiosk_scanner::keypad::InputEvent;

use crate::{BOOKS, Kiosk, ON_HOLD, Stack};

/// The pack `cargo xtask test` makes before the tests run.
pub fn pack_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/prompts/kiosk-voice.pack");
    assert!(path.exists(), "no prompt pack at {}: run `cargo xtask prompts`", path.display());
    path
}

/// The Japanese voice `cargo xtask prompts` fetched: the kiosk reads titles with it.
pub fn title_voice_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/voice/mei_normal.htsvoice");
    assert!(path.exists(), "no Japanese voice at {}: run `cargo xtask prompts`", path.display());
    path
}

/// `titles` as the kiosk says them (the same synthesisers, the same clips), named
/// `title:<text>` for [`heard_with`].
pub fn title_clips(language: kiosk_core::scene::Language, titles: &[&str]) -> Vec<(String, Clip)> {
    use kiosk_audio::speech::{Reader, Speech, Synthesiser};
    let mut synth = Synthesiser::new(title_voice_path());
    titles
        .iter()
        .map(|t| {
            let reader =
                kiosk_text::prompts::title_voice(language, t).map_or(Reader::Japanese, Reader::Espeak);
            (format!("title:{t}"), synth.say(t, reader).unwrap())
        })
        .collect()
}

/// An ALSA configuration with a device `kiosk_capture` writing to `wav`; the kiosk gets
/// it through `ALSA_CONFIG_PATH` (the system's configuration, then this).
pub fn capture_device(stack: &Stack, wav: &Path) -> PathBuf {
    capture_devices(stack, &[("kiosk_capture", wav)])
}

/// [`capture_device`] with several devices, each writing to its own WAV.
pub fn capture_devices(stack: &Stack, devices: &[(&str, &Path)]) -> PathBuf {
    let asoundrc = stack.dir.join("asoundrc");
    let text: String = devices
        .iter()
        .map(|(name, wav)| {
            format!(
                "pcm.{name} {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"wav\"\n}}\n",
                wav.display()
            )
        })
        .collect();
    std::fs::write(&asoundrc, text).unwrap();
    PathBuf::from(format!("/usr/share/alsa/alsa.conf:{}", asoundrc.display()))
}

/// The stack's `[audio]` section (silent: `device = "none"`) made these `lines`.
pub fn audio_section(stack: &Stack, lines: &str) {
    stack.config_replace("[audio]\ndevice = \"none\"\n", &format!("[audio]\n{lines}\n"));
}

/// The 16-bit samples of the captured WAV, once it has stopped growing.
pub fn captured(wav: &Path) -> Vec<i16> {
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

/// The capture's length in bytes now (0 before the device is first opened).
pub fn capture_len(wav: &Path) -> u64 {
    std::fs::metadata(wav).map_or(0, |m| m.len())
}

/// Waits until the capture has grown past `from` bytes and then stopped growing: a sound
/// asked for has reached the device (a kiosk told to quit cuts what is still to play).
pub fn sounded(wav: &Path, from: u64) {
    let mut last = from;
    let mut still = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let len = capture_len(wav);
        if len != last {
            (last, still) = (len, Instant::now());
        } else if len > from && still.elapsed() > Duration::from_millis(300) {
            return;
        }
        assert!(Instant::now() < deadline, "nothing more reached the capture at {}", wav.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One sound found in the capture: its name, and whether it played whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    pub name: String,
    pub whole: bool,
}

/// Reads the capture back as the known sounds (the language's prompts and the tones,
/// each as the player scales it at one of `volumes`; named `key@volume` when there are
/// several). Panics at the first stretch that is none of them.
pub fn heard(samples: &[i16], pack: &Pack, language: &str, volumes: &[i32]) -> Vec<Heard> {
    heard_with(samples, pack, language, volumes, &[])
}

/// [`heard`], knowing the `extra` sounds too (titles made at run time).
pub fn heard_with(
    samples: &[i16],
    pack: &Pack,
    language: &str,
    volumes: &[i32],
    extra: &[(String, Clip)],
) -> Vec<Heard> {
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
    sounds.extend(extra.iter().cloned());
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
        // At least a millisecond of it (a sound cut that soon by the next is still
        // named), or all of a shorter sound.
        assert!(
            matched >= 16.min(len),
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
pub fn type_digits(k: &mut Kiosk, digits: &str) {
    k.until("pin=Entering", 20);
    for d in digits.chars() {
        k.tap(&format!("digit-{d}"));
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `sox` (a reader of its own) measures a capture: a WAV of at least `seconds`, audible
/// and not clipped (the prompts and titles are set to -3 dBFS, at full volume here).
pub fn sox_checked(wav: &Path, seconds: f64) {
    let out = std::process::Command::new("sox")
        .arg(wav)
        .args(["-n", "stat"])
        .output()
        .expect("sox (cargo xtask test installs it)");
    let stat: std::collections::HashMap<String, f64> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| Some((k.trim().to_owned(), v.trim().parse().ok()?)))
        .collect();
    let length = stat["Length (seconds)"];
    assert!(length >= seconds, "{}: {length} s, expected {seconds} s or more", wav.display());
    let peak = stat["Maximum amplitude"];
    assert!((0.3..0.95).contains(&peak), "{}: audible, not clipped: peak {peak}", wav.display());
    let rms = stat["RMS     amplitude"];
    assert!(rms > 0.01, "{}: not silent: RMS {rms}", wav.display());
}

/// `wanted` appear in `got`, in this order (others may come between).
pub fn in_order(got: &[Heard], wanted: &[&str]) {
    let names: Vec<&str> = got.iter().map(|h| h.name.as_str()).collect();
    let mut rest = names.iter();
    for w in wanted {
        assert!(rest.any(|n| n == w), "{w} missing or out of order in {names:?}");
    }
}

/// The tactile keypad, as the kernel would deliver it: key records written to the FIFO
/// the kiosk reads as its `[keypad] device` (this machine has no `/dev/uinput`).
pub struct Keys(std::fs::File);

impl Keys {
    pub fn open(path: &Path) -> Keys {
        Keys(std::fs::OpenOptions::new().write(true).open(path).unwrap())
    }

    /// Presses and releases each key (Linux key codes), at a person's pace.
    pub fn press(&mut self, codes: &[u16]) {
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

impl Keys {
    /// Headphones into the keypad's jack (`true`) or out, as its switch reports them.
    pub fn headphones(&mut self, inserted: bool) {
        use std::io::Write;
        for ev in InputEvent::headphones(inserted) {
            self.0.write_all(&ev.to_record()).unwrap();
        }
        self.0.flush().unwrap();
    }
}

pub const KP_STAR: u16 = 55;
pub const KP_ENTER: u16 = 96;
pub const KP_PLUS: u16 = 78;
pub const KP_1: u16 = 79;
pub const KP_2: u16 = 80;
pub const KP_3: u16 = 81;
pub const KP_4: u16 = 75;

/// A kiosk with the capture device, the pack at full volume and a keypad on a FIFO:
/// the kiosk, the keypad, and where the capture goes.
pub fn keypad_kiosk(stack: &Stack) -> (Kiosk, Keys, PathBuf) {
    let wav = stack.dir.join("heard.wav");
    let alsa = capture_device(stack, &wav);
    let (k, keys) = keypad_kiosk_with(stack, &alsa, "");
    (k, keys, wav)
}

/// [`keypad_kiosk`] on the ALSA configuration `alsa` (`kiosk_capture` its speaker), with
/// more `[audio]` lines.
pub fn keypad_kiosk_with(stack: &Stack, alsa: &Path, audio: &str) -> (Kiosk, Keys) {
    let pack = pack_path();
    let fifo = stack.dir.join("keypad.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    audio_section(
        stack,
        &format!(
            "device = \"kiosk_capture\"\nvolume = 100\nprompts = \"{}\"\n{audio}\n[keypad]\ndevice = \"keypad.fifo\"",
            pack.display()
        ),
    );
    let mut k = Kiosk::start_env(stack, &[], &[("ALSA_CONFIG_PATH", alsa)]);
    k.wait("idle", 20);
    let keys = Keys::open(&fifo);
    (k, keys)
}

/// [`keypad_kiosk_with`] with a capture for the speaker (`kiosk_capture`) and one for the
/// headphones' own device (`kiosk_headphones`, `[audio] headphones`), titles made with
/// the test voice, and more `[audio]` lines: the kiosk, the keypad, and where the
/// speaker's and the headphones' captures go.
pub fn headphones_kiosk(stack: &Stack, audio: &str) -> (Kiosk, Keys, PathBuf, PathBuf) {
    let speaker = stack.dir.join("speaker.wav");
    let phones = stack.dir.join("headphones.wav");
    let alsa = capture_devices(stack, &[("kiosk_capture", &speaker), ("kiosk_headphones", &phones)]);
    let audio = format!(
        "headphones = \"kiosk_headphones\"\ntitle_voice = \"{}\"\n{audio}",
        title_voice_path().display()
    );
    let (k, keys) = keypad_kiosk_with(stack, &alsa, &audio);
    (k, keys, speaker, phones)
}

/// From the borrowing screen: a book lent, one on hold refused, another lent; with a
/// capture, each heard whole before the next scan.
pub fn scan_two_and_one_on_hold(k: &mut Kiosk, heard: Option<&Path>) {
    let before = heard.map(capture_len);
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    // With a capture to hear: the first book's words and its due date said before the
    // next scan cuts them.
    if let (Some(wav), Some(before)) = (heard, before) {
        sounded(wav, before);
    }
    let before = heard.map(capture_len);
    k.scan(ON_HOLD);
    k.until("lines=2", 20);
    if let (Some(wav), Some(before)) = (heard, before) {
        sounded(wav, before);
    }
    let before = heard.map(capture_len);
    k.scan(BOOKS[1]);
    k.until("borrowed=2", 20);
    if let (Some(wav), Some(before)) = (heard, before) {
        sounded(wav, before);
    }
}

/// The blind patron's loan, keypad only: help, the card, the PIN and Enter, two books
/// lent and one on hold, Enter on Finish, Enter on OK, + to "No receipt" and Enter, the
/// card taken. With a capture (`heard`), each book is heard whole before the next scan.
pub fn borrow_by_keypad(k: &mut Kiosk, stack: &Stack, keys: &mut Keys, heard: Option<&Path>) {
    // Help: keypad mode on; the screen said again and the button chosen named.
    keys.press(&[KP_STAR]);
    k.until("focus=call-staff", 10);
    let (_card, inserted) = stack.card(kiosk_sim::card::CardConfig::default());
    k.wait("pin", 20);
    k.until("pin=Entering", 20);
    keys.press(&[KP_1, KP_2, KP_3, KP_4, KP_ENTER]);
    k.wait("borrowing", 30);
    scan_two_and_one_on_hold(k, heard);
    keys.press(&[KP_ENTER]);
    k.wait("refused", 10);
    keys.press(&[KP_ENTER]);
    k.wait("receipt-choice", 10);
    keys.press(&[KP_PLUS, KP_ENTER]);
    k.wait("ending", 20);
    k.until("card_present=true", 5);
    inserted.remove();
    k.wait("idle", 20);
}

/// The prompts that say the due date of a book the simulator lends today (its loan
/// period: the demo rules' 14 days, in Japan's time), in `language`'s order.
pub fn due_date_said(language: kiosk_core::scene::Language) -> Vec<String> {
    let days = kiosk_sim::sip2::Catalogue::empty().loan_days;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let due = kiosk_ils::SipDate::from_unix(i64::try_from(now).unwrap() + days * 86_400, 9 * 3600);
    let date = kiosk_core::scene::DueDate::parse(&kiosk_ils::display_due_date(&due.to_string())).unwrap();
    kiosk_text::prompts::due_date(language, &date)
}
