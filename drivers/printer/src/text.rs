//! Receipt text: Japanese in the printer's Kanji mode (Shift_JIS), wrapped by display
//! width, with a visible substitute for anything the printer cannot print.

/// Printed in place of a character the printer's Kanji font does not have: 〓 (geta
/// mark), the conventional Japanese substitute, itself in JIS X 0208.
pub const SUBSTITUTE: char = '〓';

/// Can the printer print this character in Kanji mode (JIS X 0208 via Shift_JIS)?
///
/// `encoding_rs`'s Shift_JIS is the WHATWG (CP932) table, which also covers NEC and IBM
/// extensions that a JIS X 0208 printer font does not have; those are refused too.
#[must_use]
pub fn printable(c: char) -> bool {
    if c == '\n' || c == '\r' || c == '\t' {
        return false;
    }
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(c.encode_utf8(&mut buf));
    if unmappable {
        return false;
    }
    match bytes.first() {
        // Single-byte half-width katakana: printable in the Katakana page.
        Some(0xA1..=0xDF) => true,
        // NEC row 13, NEC-selected IBM extensions, IBM extensions, user-defined area.
        Some(0x87 | 0xED | 0xEE | 0xF0..=0xFF) => false,
        Some(_) => bytes.len() == 2,
        None => false,
    }
}

/// The text with every unprintable character replaced by [`SUBSTITUTE`] (controls by a
/// space).
#[must_use]
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if printable(c) {
                c
            } else if c.is_control() {
                ' '
            } else {
                SUBSTITUTE
            }
        })
        .collect()
}

/// Columns a character takes in Kanji mode, Font A (12×24): one for what Shift_JIS
/// encodes in one byte (ASCII, half-width katakana), two for everything else. This is
/// the printer's rule, stricter than Unicode's East Asian Width (which calls "…" or Greek
/// narrow, though the printer prints them full-width).
#[must_use]
pub fn char_width(c: char) -> usize {
    if c.is_ascii() || ('\u{ff61}'..='\u{ff9f}').contains(&c) { 1 } else { 2 }
}

/// Display width of a line in Font A columns.
#[must_use]
pub fn width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// Wraps `text` into lines of at most `columns` display columns, preferring to break at
/// a space; a line never ends inside a double-width character.
#[must_use]
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(2);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w > columns {
            // Break at the last space if there is one in the line's second half.
            let cut = line.rfind(' ').filter(|&i| width(&line[..i]) * 2 >= columns);
            match cut {
                Some(i) => {
                    let rest = line[i + 1..].to_owned();
                    line.truncate(i);
                    lines.push(core::mem::take(&mut line));
                    used = width(&rest);
                    line = rest;
                }
                None => {
                    lines.push(core::mem::take(&mut line));
                    used = 0;
                }
            }
        }
        if !(line.is_empty() && c == ' ') {
            line.push(c);
            used += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// [`wrap`], keeping at most `max_lines` lines; a cut-short last line ends with "…".
#[must_use]
pub fn wrap_at_most(text: &str, columns: usize, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(text, columns);
    if lines.len() > max_lines.max(1) {
        lines.truncate(max_lines.max(1));
        if let Some(last) = lines.last_mut() {
            while width(last) + 2 > columns {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

/// Encodes printable text to Shift_JIS; call [`sanitize`] first.
#[must_use]
pub fn to_shift_jis(text: &str) -> Vec<u8> {
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    bytes.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_titles_survive_and_others_are_substituted() {
        assert_eq!(sanitize("吾輩は猫である"), "吾輩は猫である");
        assert_eq!(sanitize("ｶﾀｶﾅ ABC"), "ｶﾀｶﾅ ABC");
        // Emoji, a CP932 NEC row-13 circled digit, an IBM extension kanji, Hangul.
        assert_eq!(sanitize("猫😺①髙한"), "猫〓〓〓〓");
        assert_eq!(sanitize("a\tb"), "a b");
        assert_eq!(to_shift_jis("図書館"), vec![0x90, 0x7d, 0x8f, 0x91, 0x8a, 0xd9]);
    }

    #[test]
    fn wraps_by_display_width_not_bytes() {
        let lines = wrap("吾輩は猫である。名前はまだ無い。", 16);
        assert_eq!(lines, vec!["吾輩は猫である。", "名前はまだ無い。"]);
        for l in wrap(&"あ".repeat(300), 32) {
            assert!(width(&l) <= 32);
        }
        assert_eq!(
            wrap("Norwegian Wood and other stories", 16),
            vec!["Norwegian Wood", "and other", "stories"]
        );
        assert_eq!(wrap("", 16), vec![""]);
        let cut = wrap_at_most(&"あ".repeat(300), 32, 3);
        assert_eq!(cut.len(), 3);
        assert!(cut[2].ends_with('…') && width(&cut[2]) <= 32, "{cut:?}");
        // An odd column count never splits a double-width character.
        assert!(wrap("ああああ", 5).iter().all(|l| width(l) <= 5));
    }
}
