//! Titles spoken by the real synthesisers (Open JTalk with the prompts' Japanese voice,
//! eSpeak NG), as child processes: the clips are speech at the pack's rate and level,
//! the same text gives the same clip (the end-to-end tests rely on it), and what goes
//! wrong is named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiosk_audio::speech::{Reader, Speech, SpeechError, Synthesiser};

/// The voice `cargo xtask prompts` fetched (the tests run after it).
fn voice() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/voice/mei_normal.htsvoice");
    assert!(path.exists(), "no Japanese voice at {}: run `cargo xtask prompts`", path.display());
    path
}

fn peak(clip: &[i16]) -> u16 {
    clip.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
}

#[test]
fn a_japanese_and_an_english_title_are_spoken_at_the_pack_s_rate_and_level() {
    let mut synth = Synthesiser::new(voice());
    for (text, reader, min_s) in [
        ("吾輩は猫である", Reader::Japanese, 1.0),
        ("The Very Hungry Caterpillar", Reader::Espeak("en-us"), 1.0),
        ("어린 왕자", Reader::Espeak("ko"), 0.5),
    ] {
        synth.check(reader).unwrap();
        let clip = synth.say(text, reader).unwrap();
        #[allow(clippy::cast_precision_loss)]
        let seconds = clip.len() as f64 / f64::from(kiosk_audio::RATE);
        assert!((min_s..6.0).contains(&seconds), "{text}: {seconds} s of speech");
        // The peak at -3 dBFS, as the prompts are; its ends not silent (trimmed).
        assert!((23_000..=23_200).contains(&peak(&clip)), "{text}: peak {}", peak(&clip));
        assert!(clip[0].unsigned_abs() > 100 && clip[clip.len() - 1].unsigned_abs() > 100, "{text}: trimmed");
        // Made again: the same samples.
        assert_eq!(clip, synth.say(text, reader).unwrap(), "{text}: the same clip each time");
    }
}

#[test]
fn a_slow_synthesiser_is_stopped_and_a_missing_voice_is_named() {
    let mut slow = Synthesiser { limit: Duration::from_millis(1), ..Synthesiser::new(voice()) };
    let e = slow.say("吾輩は猫である", Reader::Japanese).unwrap_err();
    assert!(matches!(e, SpeechError::TooSlow { program: "open_jtalk", .. }), "{e}");
    let missing = Synthesiser::new(PathBuf::from("/nowhere/voice.htsvoice"));
    let e = missing.check(Reader::Japanese).unwrap_err();
    assert!(e.to_string().contains("/nowhere/voice.htsvoice is not there"), "{e}");
    assert!(e.to_string().contains("[audio] title_voice"), "says which key: {e}");
    // A voice file that is not a voice: Open JTalk fails, and that is said.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("speech");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.htsvoice");
    std::fs::write(&bad, b"not a voice").unwrap();
    let e = Synthesiser::new(bad).say("猫", Reader::Japanese).unwrap_err();
    assert!(matches!(e, SpeechError::Failed { program: "open_jtalk", .. }), "{e}");
    // An eSpeak NG voice that does not exist: named, never the text.
    let e = Synthesiser::new(voice()).say("secret title", Reader::Espeak("xx-none")).unwrap_err();
    assert!(!e.to_string().contains("secret"), "the text is never in an error: {e}");
}
