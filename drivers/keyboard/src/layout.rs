//! Characters ↔ HID usages for the counter PC's keyboard layout.
//!
//! A USB keyboard sends key positions (HID usage IDs), not characters: the counter PC
//! turns them into characters with its own layout. So the same `@` is usage 0x1F + Shift
//! for a US PC and usage 0x2F without Shift for a Japanese (JIS, 106/109) PC. Only
//! printable ASCII, Enter and Tab can be typed; anything else is refused before a single
//! key is sent.

/// The counter PC's keyboard layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Us,
    Jis,
}

/// One boot-keyboard input report: modifiers, reserved, six key slots.
pub type Report = [u8; 8];

const SHIFT: u8 = 0x02;
const ENTER: u8 = 0x28;
const TAB: u8 = 0x2B;
const SPACE: u8 = 0x2C;

/// A character the layout cannot type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{ch:?} cannot be typed on a {layout:?} keyboard: nothing was typed; use method A, B or D, or fix the number"
)]
pub struct Untypable {
    pub ch: char,
    pub layout: Layout,
}

/// Usage and shift for the symbols that are the same on both layouts' unshifted keys.
fn common(c: char) -> Option<(u8, bool)> {
    Some(match c {
        'a'..='z' => (0x04 + (c as u8 - b'a'), false),
        'A'..='Z' => (0x04 + (c as u8 - b'A'), true),
        '1'..='9' => (0x1E + (c as u8 - b'1'), false),
        '0' => (0x27, false),
        '\n' => (ENTER, false),
        '\t' => (TAB, false),
        ' ' => (SPACE, false),
        '-' => (0x2D, false),
        ',' => (0x36, false),
        '.' => (0x37, false),
        '/' => (0x38, false),
        ';' => (0x33, false),
        '!' => (0x1E, true),
        '#' => (0x20, true),
        '$' => (0x21, true),
        '%' => (0x22, true),
        '<' => (0x36, true),
        '>' => (0x37, true),
        '?' => (0x38, true),
        _ => return None,
    })
}

/// Usage and shift of `c` on `layout`.
fn key(c: char, layout: Layout) -> Option<(u8, bool)> {
    if let Some(k) = common(c) {
        return Some(k);
    }
    Some(match (layout, c) {
        (Layout::Us, '@') => (0x1F, true),
        (Layout::Us, '^') => (0x23, true),
        (Layout::Us, '&') => (0x24, true),
        (Layout::Us, '*') => (0x25, true),
        (Layout::Us, '(') => (0x26, true),
        (Layout::Us, ')') => (0x27, true),
        (Layout::Us, '_') => (0x2D, true),
        (Layout::Us, '=') => (0x2E, false),
        (Layout::Us, '+') => (0x2E, true),
        (Layout::Us, '[') => (0x2F, false),
        (Layout::Us, '{') => (0x2F, true),
        (Layout::Us, ']') => (0x30, false),
        (Layout::Us, '}') => (0x30, true),
        (Layout::Us, '\\') => (0x31, false),
        (Layout::Us, '|') => (0x31, true),
        (Layout::Us, ':') => (0x33, true),
        (Layout::Us, '\'') => (0x34, false),
        (Layout::Us, '"') => (0x34, true),
        (Layout::Us, '`') => (0x35, false),
        (Layout::Us, '~') => (0x35, true),
        (Layout::Jis, '"') => (0x1F, true),
        (Layout::Jis, '&') => (0x23, true),
        (Layout::Jis, '\'') => (0x24, true),
        (Layout::Jis, '(') => (0x25, true),
        (Layout::Jis, ')') => (0x26, true),
        (Layout::Jis, '=') => (0x2D, true),
        (Layout::Jis, '^') => (0x2E, false),
        (Layout::Jis, '~') => (0x2E, true),
        (Layout::Jis, '@') => (0x2F, false),
        (Layout::Jis, '`') => (0x2F, true),
        (Layout::Jis, '[') => (0x30, false),
        (Layout::Jis, '{') => (0x30, true),
        (Layout::Jis, ']') => (0x32, false),
        (Layout::Jis, '}') => (0x32, true),
        (Layout::Jis, '+') => (0x33, true),
        (Layout::Jis, ':') => (0x34, false),
        (Layout::Jis, '*') => (0x34, true),
        (Layout::Jis, '\\') => (0x87, false),
        (Layout::Jis, '_') => (0x87, true),
        (Layout::Jis, '|') => (0x89, true),
        _ => return None,
    })
}

/// The reports that type `text` on `layout`: a press and a release for every character.
///
/// # Errors
/// The first character the layout cannot type; then nothing is typed at all.
pub fn reports(text: &str, layout: Layout) -> Result<Vec<Report>, Untypable> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for ch in text.chars() {
        let (usage, shift) = key(ch, layout).ok_or(Untypable { ch, layout })?;
        out.push([if shift { SHIFT } else { 0 }, 0, usage, 0, 0, 0, 0, 0]);
        out.push([0; 8]);
    }
    Ok(out)
}

/// What a PC with `layout` would type from `reports` (presses only; releases and
/// unknown usages type nothing).
#[must_use]
pub fn decode(reports: &[Report], layout: Layout) -> String {
    let mut out = String::new();
    for r in reports {
        let (usage, shift) = (r[2], r[0] & (SHIFT | 0x20) != 0);
        if usage == 0 {
            continue;
        }
        let found = (0u8..=0x7F)
            .map(char::from)
            .chain(['\n', '\t'])
            .find(|c| key(*c, layout) == Some((usage, shift)));
        if let Some(c) = found {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTABLE: std::ops::RangeInclusive<u8> = 0x20..=0x7E;

    #[test]
    fn every_printable_character_round_trips_on_both_layouts() {
        for layout in [Layout::Us, Layout::Jis] {
            let all: String = PRINTABLE.map(char::from).chain(['\n', '\t']).collect();
            let r = reports(&all, layout).unwrap();
            assert_eq!(decode(&r, layout), all, "{layout:?}");
        }
    }

    #[test]
    fn no_two_characters_share_a_key_on_one_layout() {
        for layout in [Layout::Us, Layout::Jis] {
            let mut seen = std::collections::HashMap::new();
            for c in PRINTABLE.map(char::from) {
                let k = key(c, layout).unwrap();
                assert!(seen.insert(k, c).is_none(), "{layout:?}: {c:?} and {:?} on one key", seen[&k]);
            }
        }
    }

    #[test]
    fn symbols_differ_where_the_keycaps_differ() {
        // `@` is Shift+2 on US and its own key on JIS; a US report typed on a JIS PC is `"`.
        let at_us = reports("@", Layout::Us).unwrap();
        assert_eq!(at_us[0], [SHIFT, 0, 0x1F, 0, 0, 0, 0, 0]);
        assert_eq!(decode(&at_us, Layout::Jis), "\"");
        assert_eq!(reports("@", Layout::Jis).unwrap()[0], [0, 0, 0x2F, 0, 0, 0, 0, 0]);
        // JIS `:` has its own key, where a US PC has the apostrophe.
        assert_eq!(decode(&reports(":", Layout::Jis).unwrap(), Layout::Us), "'");
    }

    #[test]
    fn a_patron_number_is_typed_key_by_key_with_a_release_after_each() {
        let r = reports("A2300012345678A\n", Layout::Jis).unwrap();
        assert_eq!(r.len(), 32);
        assert!(r.iter().skip(1).step_by(2).all(|x| *x == [0; 8]));
        assert_eq!(decode(&r, Layout::Jis), "A2300012345678A\n");
        assert_eq!(decode(&r, Layout::Us), "A2300012345678A\n", "digits, letters and Enter sit alike");
    }

    #[test]
    fn untypable_characters_are_refused_before_anything_is_typed() {
        for (text, ch) in [("2300１2", '１'), ("図書123", '図'), ("12\u{7}3", '\u{7}')] {
            let e = reports(text, Layout::Us).unwrap_err();
            assert_eq!(e.ch, ch);
            assert!(e.to_string().contains("nothing was typed"));
        }
    }
}
