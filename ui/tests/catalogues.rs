//! Every catalogue is complete and consistent with the English one: the same ids in the
//! same order, every form translated, the same placeholders, the plural forms the code
//! picks by, and easy Japanese with a reading on every kanji it keeps.
#![allow(clippy::unwrap_used)]

use kiosk_ui::Language;
use kiosk_ui::furigana;
use kiosk_ui::words;

/// One entry: its id, plural id and translations, as written.
#[derive(Debug)]
struct Entry {
    id: String,
    plural: Option<String>,
    forms: Vec<String>,
}

fn unquote(s: &str) -> String {
    s.trim().trim_start_matches('"').trim_end_matches('"').to_owned()
}

fn entries(po: &str) -> (String, Vec<Entry>) {
    let mut header = String::new();
    let mut out = Vec::new();
    for block in po.split("\n\n") {
        let mut e = Entry { id: String::new(), plural: None, forms: Vec::new() };
        let mut is_header = false;
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("msgid_plural ") {
                e.plural = Some(unquote(v));
            } else if let Some(v) = line.strip_prefix("msgid ") {
                e.id = unquote(v);
                is_header = e.id.is_empty();
            } else if let Some(v) = line.strip_prefix("msgstr") {
                e.forms.push(unquote(v.split_once(' ').map_or("", |(_, t)| t)));
            } else if is_header && line.starts_with('"') {
                header.push_str(&unquote(line));
            }
        }
        if !e.id.is_empty() {
            out.push(e);
        }
    }
    (header, out)
}

/// The values a text shows: `{}` in turn and `{0}`, `{1}`… by number are both positional
/// (the set of positions shown, each once), `{n}` is the plural's count (how often).
fn placeholders(text: &str) -> (Vec<usize>, usize) {
    let mut positions = Vec::new();
    let mut next = 0;
    let mut count = 0;
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        match &rest[open + 1..open + close] {
            "n" => count += 1,
            "" => {
                positions.push(next);
                next += 1;
            }
            k => positions.extend(k.parse::<usize>().ok()),
        }
        rest = &rest[open + close + 1..];
    }
    positions.sort_unstable();
    (positions, count)
}

#[test]
fn every_catalogue_has_every_english_entry_translated_with_its_placeholders() {
    let (_, english) = entries(words::source(Language::English));
    assert!(english.len() > 400, "{}", english.len());
    for language in Language::ALL {
        let (header, theirs) = entries(words::source(language));
        let code = language.code();
        assert!(header.contains(&format!("Language: {code}\\n")), "{code}: header {header:?}");
        // The plural forms the header declares are the ones `words::tr_n` picks from.
        let nplurals = match language {
            Language::English | Language::Portuguese => 2,
            _ => 1,
        };
        assert!(header.contains(&format!("nplurals={nplurals};")), "{code}: {header:?}");
        assert_eq!(theirs.len(), english.len(), "{code}: entries");
        for (en, t) in english.iter().zip(&theirs) {
            assert_eq!((&t.id, &t.plural), (&en.id, &en.plural), "{code}: order or id");
            let forms = if t.plural.is_some() { nplurals } else { 1 };
            assert_eq!(t.forms.len(), forms, "{code}: {:?} forms", t.id);
            for form in &t.forms {
                assert!(!form.is_empty(), "{code}: {:?} untranslated", t.id);
                // Every form shows the same values as the English one.
                assert_eq!(placeholders(form), placeholders(&en.forms[0]), "{code}: {:?} → {form:?}", t.id);
            }
        }
    }
}

#[test]
fn placeholders_are_compared_by_the_values_they_show() {
    assert_eq!(placeholders("{} of {}"), placeholders("{1}中的{0}"), "reordered by number");
    assert_ne!(placeholders("{} of {}"), placeholders("{0} of {0}"), "one value twice, the other lost");
    assert_eq!(placeholders("{n} books"), (Vec::new(), 1));
}

#[test]
fn easy_japanese_has_a_reading_on_every_kanji_it_keeps() {
    let (_, entries) = entries(words::source(Language::EasyJapanese));
    for e in &entries {
        for form in &e.forms {
            let bare = furigana::kanji_without_reading(form);
            assert!(bare.is_empty(), "{:?} → {form:?}: kanji without a reading {bare:?}", e.id);
        }
    }
}

/// The Japanese screens with furigana (`ja-furigana`, selected when furigana is on): the
/// Japanese catalogue word for word, with a reading on every kanji. A Japanese entry
/// changed without its furigana twin fails here.
#[test]
fn furigana_is_the_japanese_catalogue_with_a_reading_on_every_kanji() {
    let source = include_str!("../translations/ja-furigana/LC_MESSAGES/kiosk-ui.po");
    let (_, japanese) = entries(words::source(Language::Japanese));
    let (_, read) = entries(source);
    assert_eq!(read.len(), japanese.len(), "entries");
    let mut readings = 0;
    for (ja, f) in japanese.iter().zip(&read) {
        assert_eq!((&f.id, &f.plural), (&ja.id, &ja.plural), "order or id");
        assert_eq!(f.forms.len(), ja.forms.len(), "{:?}", f.id);
        for (jf, ff) in ja.forms.iter().zip(&f.forms) {
            assert_eq!(&furigana::plain(ff), jf, "{:?}: not the Japanese words", f.id);
            let bare = furigana::kanji_without_reading(ff);
            assert!(bare.is_empty(), "{:?} → {ff:?}: kanji without a reading {bare:?}", f.id);
            readings += ff.matches('《').count();
        }
    }
    assert!(readings > 1000, "{readings} readings");
}

#[test]
fn plurals_pick_the_language_s_form() {
    let n = |language, count| words::tr_n(language, "{n} book borrowed", "{n} books borrowed", count);
    assert_eq!(n(Language::English, 1), "1 book borrowed");
    assert_eq!(n(Language::English, 0), "0 books borrowed");
    // Brazilian Portuguese: 0 and 1 are singular.
    assert_ne!(n(Language::Portuguese, 1), n(Language::Portuguese, 2).replace('2', "1"));
    assert_eq!(n(Language::Portuguese, 0).replace('0', "1"), n(Language::Portuguese, 1));
    for language in Language::ALL {
        assert!(n(language, 3).contains('3'), "{language:?}");
    }
    // Easy Japanese on receipts: readings in parentheses, never the ruby marks.
    let easy = words::tr(Language::EasyJapanese, "Loan receipt", &[]);
    assert!(!easy.contains('《') && !easy.contains('｜'), "{easy:?}");
}
