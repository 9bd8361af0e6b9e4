//! No missing glyph: every character of every catalogue (as the screens get it, with
//! easy Japanese's readings and the Japanese word joiners put in), and every language's
//! own name, is in the embedded face the screens draw that language in, regular and bold.
//! Simplified Chinese and Korean are drawn in their own faces (cut to their catalogues by
//! `ui/fonts/subset.py`: run it when this test names a character); the others in MigMix.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use kiosk_ui::Language;
use kiosk_ui::{furigana, phrases, words};

fn face(file: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fonts").join(file)).unwrap()
}

/// The files of the face a language is drawn in (`Fonts.family` in `ui/ui/model.slint`).
fn faces(language: Language) -> [&'static str; 2] {
    match language {
        Language::Chinese => ["noto-sans-cjk-sc-regular.otf", "noto-sans-cjk-sc-bold.otf"],
        Language::Korean => ["noto-sans-cjk-kr-regular.otf", "noto-sans-cjk-kr-bold.otf"],
        _ => ["migmix-1p-regular.ttf", "migmix-1p-bold.ttf"],
    }
}

/// Every character the screens get from a catalogue.
fn shown_characters(language: Language) -> BTreeSet<char> {
    let mut chars = BTreeSet::new();
    for line in words::source(language).lines() {
        let Some((_, text)) = line.strip_prefix("msgstr").and_then(|l| l.split_once(' ')) else { continue };
        let text = text.trim_matches('"');
        let text = match language {
            Language::Japanese => phrases::keep_phrases(text),
            Language::EasyJapanese => phrases::keep_words(&furigana::parenthesised(text)),
            _ => text.to_owned(),
        };
        chars.extend(text.chars());
    }
    chars.extend(words::endonym(language).chars());
    chars
}

/// Every character of the Japanese screens with furigana (the `ja-furigana` bundle, as
/// the build makes it from the Japanese catalogue: a reading after every kanji).
fn furigana_characters() -> BTreeSet<char> {
    let mut chars = BTreeSet::new();
    let source = include_str!("../translations/ja-furigana/LC_MESSAGES/kiosk-ui.po");
    for line in source.lines() {
        let Some((_, text)) = line.strip_prefix("msgstr").and_then(|l| l.split_once(' ')) else { continue };
        chars.extend(furigana::parenthesised_unbroken(text.trim_matches('"')).chars());
    }
    chars
}

#[test]
fn every_furigana_character_is_in_the_japanese_face() {
    let chars = furigana_characters();
    assert!(chars.len() > 40, "{}", chars.len());
    // Its readings are kana the plain catalogue may not have.
    assert!(chars.contains(&'（') || chars.contains(&'('), "readings shown");
    for file in faces(Language::Japanese) {
        let data = face(file);
        let font = ttf_parser::Face::parse(&data, 0).unwrap();
        let lacking: String = chars.iter().filter(|c| font.glyph_index(**c).is_none()).collect();
        assert!(lacking.is_empty(), "ja-furigana in {file}: {lacking:?}");
    }
}

#[test]
fn every_catalogue_character_is_in_its_language_s_face() {
    let mut missing = Vec::new();
    for language in Language::ALL {
        let chars = shown_characters(language);
        assert!(chars.len() > 40, "{language:?}: {}", chars.len());
        for file in faces(language) {
            let data = face(file);
            let font = ttf_parser::Face::parse(&data, 0).unwrap();
            let lacking: String = chars.iter().filter(|c| font.glyph_index(**c).is_none()).collect();
            if !lacking.is_empty() {
                missing.push(format!("{} in {file}: {lacking:?}", language.code()));
            }
        }
    }
    assert!(missing.is_empty(), "characters with no glyph (run ui/fonts/subset.py):\n{}", missing.join("\n"));
}

/// The test can fail: a character none of the faces has is found missing.
#[test]
fn a_character_no_face_has_is_found() {
    for language in Language::ALL {
        for file in faces(language) {
            let data = face(file);
            let font = ttf_parser::Face::parse(&data, 0).unwrap();
            assert!(font.glyph_index('\u{10FFFD}').is_none(), "{file}");
        }
    }
    let sc = face("noto-sans-cjk-sc-regular.otf");
    let sc = ttf_parser::Face::parse(&sc, 0).unwrap();
    assert!(sc.glyph_index('书').is_some(), "the Chinese face holds its catalogue's characters");
    assert!(sc.glyph_index('한').is_none(), "the Chinese face is cut to its catalogue");
}
