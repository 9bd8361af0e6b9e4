//! Japanese lines that break between phrases, not inside words. Slint breaks lines by
//! Unicode's rules (UAX #14): they keep 。、」）ー and small kana off the start of a line
//! (kinsoku), but allow a break between any two kana or kanji, so "ありま / す。",
//! "市 / 区町村" and "ファイ / ル" happen. Before the Japanese catalogue is built into the
//! UI (`build.rs`), word joiners (U+2060, zero width, in the embedded fonts) are put
//! where a break would split a word:
//! - inside a katakana word (up to 8 characters: longer ones may still break);
//! - inside a run of kanji (up to 6: a compound such as 市区町村 or 証明書);
//! - between a number and its counter (4桁, 5秒, 42ミリ秒);
//! - inside the kana that end a sentence or clause (してください。, ありません。; the
//!   last 4 when the run is longer than 6), so no line starts with す。 or い。.
//!
//! Pure std: `build.rs` includes this file as a module too.

/// U+2060 WORD JOINER: no line break on either side, draws nothing.
pub const WORD_JOINER: char = '\u{2060}';

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hiragana,
    Katakana,
    Kanji,
    Digit,
    Closing,
    Other,
}

fn kind(c: char) -> Kind {
    match c {
        'ぁ'..='ゖ' | 'ゝ' | 'ゞ' => Kind::Hiragana,
        'ァ'..='ヺ' | 'ー' | 'ヽ' | 'ヾ' => Kind::Katakana,
        '一'..='鿿' | '々' | '〆' => Kind::Kanji,
        '0'..='9' | '０'..='９' => Kind::Digit,
        '。' | '、' | '！' | '？' | '）' | '」' | '』' | '】' | '：' | '…' => Kind::Closing,
        _ => Kind::Other,
    }
}

/// Text whose words are spaced (easy Japanese): a word joiner between any two characters
/// that are not spaces, so a line breaks only where a space is.
#[must_use]
pub fn keep_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut last: Option<char> = None;
    // Inside a placeholder (`{n}`, `{0}`): its characters stay as they are, or it would
    // no longer be filled in.
    let mut placeholder = false;
    for c in text.chars() {
        if let Some(prev) = last
            && !prev.is_whitespace()
            && !c.is_whitespace()
            && c != WORD_JOINER
            && prev != WORD_JOINER
            && !placeholder
        {
            out.push(WORD_JOINER);
        }
        placeholder = match c {
            '{' => true,
            '}' => false,
            _ => placeholder,
        };
        out.push(c);
        last = Some(c);
    }
    out
}

/// Longest katakana word kept on one line.
const KATAKANA: usize = 8;
/// Longest run of kanji kept on one line.
const KANJI: usize = 6;
/// A clause's closing kana kept together: the whole run up to this length, else its last 4.
const ENDING: usize = 6;

/// `text` with word joiners where a line break would split a word. Text without
/// Japanese comes back as it was.
#[must_use]
pub fn keep_phrases(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let kinds: Vec<Kind> = chars.iter().map(|&c| kind(c)).collect();
    let n = chars.len();
    // join[i]: no break between chars[i] and chars[i + 1].
    let mut join = vec![false; n.saturating_sub(1)];
    let mut i = 0;
    while i < n {
        let k = kinds[i];
        let mut end = i + 1;
        while end < n && kinds[end] == k {
            end += 1;
        }
        let len = end - i;
        let keep = match k {
            Kind::Katakana => len <= KATAKANA,
            Kind::Kanji => len <= KANJI,
            _ => false,
        };
        if keep {
            join[i..end - 1].iter_mut().for_each(|j| *j = true);
        }
        // A number and its counter.
        if k == Kind::Digit && end < n && matches!(kinds[end], Kind::Kanji | Kind::Katakana) {
            join[end - 1] = true;
        }
        // The kana that end a clause.
        if k == Kind::Hiragana && (end == n || kinds[end] == Kind::Closing) {
            let from = if len <= ENDING { i } else { end - 4 };
            join[from..end - 1].iter_mut().for_each(|j| *j = true);
        }
        i = end;
    }
    let mut out = String::with_capacity(text.len() + 3 * join.iter().filter(|j| **j).count());
    for (i, &c) in chars.iter().enumerate() {
        out.push(c);
        if join.get(i).copied().unwrap_or(false) {
            out.push(WORD_JOINER);
        }
    }
    out
}
