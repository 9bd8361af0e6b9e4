//! Readings on kanji, written in the catalogues in Aozora Bunko's ruby notation:
//! `｜図書館《としょかん》` (the full-width bar starts the base; without it the base is
//! the run of kanji before `《`). Easy Japanese (`ja-easy`) carries a reading on every
//! kanji it keeps.
//!
//! The screens draw a reading after its word in parentheses, 図書館（としょかん）, the
//! form Japanese cities' easy-Japanese notices use where ruby cannot be set; the voice
//! speaks the reading alone.
//!
//! Pure std: `build.rs` includes this file as a module too.

/// U+2060 WORD JOINER: a reading never starts a line apart from its word.
const WORD_JOINER: char = '\u{2060}';

fn is_kanji(c: char) -> bool {
    matches!(c, '一'..='鿿' | '々' | '〆' | '〇' | '㐀'..='䶿' | '豈'..='﫿' | '\u{20000}'..='\u{3134F}')
}

/// One piece of a text: plain, or a base with its reading.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Plain(&'a str),
    Ruby { base: &'a str, reading: &'a str },
}

/// Splits `text` into plain runs and based readings. A `《` with no reading's end, or no
/// base before it, stays plain text.
#[must_use]
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('《') {
        let after = &rest[open + '《'.len_utf8()..];
        let Some(close) = after.find('》') else { break };
        let reading = &after[..close];
        let before = &rest[..open];
        // The base: from an explicit ｜, or the kanji run just before 《.
        let (plain, base) = match before.rfind('｜') {
            Some(bar) => (&before[..bar], &before[bar + '｜'.len_utf8()..]),
            None => {
                let start = before
                    .char_indices()
                    .rev()
                    .take_while(|(_, c)| is_kanji(*c))
                    .last()
                    .map_or(before.len(), |(i, _)| i);
                (&before[..start], &before[start..])
            }
        };
        if base.is_empty() || reading.is_empty() {
            out.push(Piece::Plain(&rest[..open + '《'.len_utf8()]));
            rest = after;
            continue;
        }
        if !plain.is_empty() {
            out.push(Piece::Plain(plain));
        }
        out.push(Piece::Ruby { base, reading });
        rest = &after[close + '》'.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Plain(rest));
    }
    out
}

/// The text as the screens and receipts show it: each reading in parentheses after its
/// word (図書館（としょかん）), never broken from its word.
#[must_use]
pub fn parenthesised(text: &str) -> String {
    with_readings(text, false)
}

/// [`parenthesised`], each reading also kept whole on its line: the Japanese screens
/// with furigana, where a line may otherwise break between any two characters.
#[must_use]
pub fn parenthesised_unbroken(text: &str) -> String {
    with_readings(text, true)
}

fn with_readings(text: &str, unbroken: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for piece in pieces(text) {
        match piece {
            Piece::Plain(p) => out.push_str(p),
            Piece::Ruby { base, reading } => {
                out.push_str(base);
                out.push(WORD_JOINER);
                out.push('（');
                for (i, c) in reading.chars().enumerate() {
                    if unbroken && i > 0 {
                        out.push(WORD_JOINER);
                    }
                    out.push(c);
                }
                out.push('）');
            }
        }
    }
    out
}

/// The text as it is read aloud: each based word replaced by its reading.
#[must_use]
pub fn spoken(text: &str) -> String {
    pieces(text)
        .into_iter()
        .map(|p| match p {
            Piece::Plain(p) => p,
            Piece::Ruby { reading, .. } => reading,
        })
        .collect()
}

/// The text without its readings: what it says in plain Japanese.
#[must_use]
pub fn plain(text: &str) -> String {
    pieces(text)
        .into_iter()
        .map(|p| match p {
            Piece::Plain(p) | Piece::Ruby { base: p, .. } => p,
        })
        .collect()
}

/// Kanji with no reading on them (easy Japanese and furigana must have none).
#[must_use]
pub fn kanji_without_reading(text: &str) -> Vec<char> {
    pieces(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Plain(p) => Some(p.chars().filter(|c| is_kanji(*c))),
            Piece::Ruby { .. } => None,
        })
        .flatten()
        .collect()
}
