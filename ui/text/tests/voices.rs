//! The synthesisers read every prompt in its own language: eSpeak NG's phonemes for each
//! sentence (`espeak-ng -x`), as `kiosk-prompts` would speak it. Debian's plain Mandarin
//! voice knows few characters and reads the others' pinyin as English words ("ri four"):
//! no Chinese sentence may switch to English but for its Latin words ("OK"). Needs espeak-ng (`cargo xtask prompts` or
//! `cargo xtask test` installs it).

use std::process::Command;

use kiosk_core::scene::Language;
use kiosk_text::prompts::{espeak_voice, keys, spoken};

/// eSpeak NG's phonemes for `text` in `voice`.
fn phonemes(voice: &str, text: &str) -> String {
    let out = Command::new("espeak-ng")
        .args(["-v", voice, "-q", "-x", text])
        .output()
        .unwrap_or_else(|e| panic!("espeak-ng: {e} (cargo xtask prompts installs it)"));
    assert!(out.status.success(), "espeak-ng -v {voice} {text:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_chinese_sentence_is_read_in_mandarin_not_spelled_in_english() {
    let voice = espeak_voice(Language::Chinese).unwrap();
    let mut english = Vec::new();
    let mut sentences = 0;
    for key in keys() {
        for sentence in spoken(Language::Chinese, &key).unwrap() {
            sentences += 1;
            let said = phonemes(voice, &sentence);
            assert!(!said.trim().is_empty(), "{key}: {sentence} says nothing");
            // Latin words ("OK") are read as English, rightly; nothing else may be.
            let latin_words =
                sentence.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).count();
            if said.matches("(en)").count() > latin_words {
                english.push(format!("{key}: {sentence} → {said}"));
            }
        }
    }
    assert!(sentences >= 100, "{sentences} sentences");
    assert!(english.is_empty(), "read as English:\n{}", english.join("\n"));
    // The plain voice would have: the guard can fail.
    assert!(phonemes("cmn", "应还日期").contains("(en)"));
}

#[test]
fn every_language_has_its_own_synthesiser() {
    for language in Language::ALL {
        let japanese = matches!(language, Language::Japanese | Language::EasyJapanese);
        assert_eq!(espeak_voice(language).is_none(), japanese, "{language:?}");
    }
}
