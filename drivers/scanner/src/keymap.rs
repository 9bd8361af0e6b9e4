//! Linux evdev key codes from a HID keyboard-wedge scanner → characters.
//!
//! A wedge scanner "types" the barcode as a USB keyboard would. The characters it means
//! depend on the keyboard layout it was configured for, because it sends key positions,
//! not characters: shift+2 is `@` on a US keyboard and `"` on a Japanese (JIS 106/109)
//! one. The scanner's layout setting and [`Layout`] here must agree.
//!
//! Only printable ASCII comes out, plus `'\n'` for Enter (main or keypad) and `'\t'` for
//! Tab, which [`LineAssembler`](crate::LineAssembler) uses as terminators. Key repeats
//! (value 2) are ignored; releases only matter for the shift keys. Keypad keys give their
//! digit or symbol whatever the shift state (scanners that use the keypad assume Num Lock
//! on). Caps Lock is not modelled: scanners send shift for capitals.

/// Linux input event codes this module reads (`linux/input-event-codes.h`).
pub mod code {
    pub const KEY_ESC: u16 = 1;
    pub const KEY_1: u16 = 2;
    pub const KEY_2: u16 = 3;
    pub const KEY_3: u16 = 4;
    pub const KEY_4: u16 = 5;
    pub const KEY_5: u16 = 6;
    pub const KEY_6: u16 = 7;
    pub const KEY_7: u16 = 8;
    pub const KEY_8: u16 = 9;
    pub const KEY_9: u16 = 10;
    pub const KEY_0: u16 = 11;
    pub const KEY_MINUS: u16 = 12;
    pub const KEY_EQUAL: u16 = 13;
    pub const KEY_BACKSPACE: u16 = 14;
    pub const KEY_TAB: u16 = 15;
    pub const KEY_Q: u16 = 16;
    pub const KEY_P: u16 = 25;
    pub const KEY_LEFTBRACE: u16 = 26;
    pub const KEY_RIGHTBRACE: u16 = 27;
    pub const KEY_ENTER: u16 = 28;
    pub const KEY_LEFTCTRL: u16 = 29;
    pub const KEY_A: u16 = 30;
    pub const KEY_L: u16 = 38;
    pub const KEY_SEMICOLON: u16 = 39;
    pub const KEY_APOSTROPHE: u16 = 40;
    pub const KEY_GRAVE: u16 = 41;
    pub const KEY_LEFTSHIFT: u16 = 42;
    pub const KEY_BACKSLASH: u16 = 43;
    pub const KEY_Z: u16 = 44;
    pub const KEY_M: u16 = 50;
    pub const KEY_COMMA: u16 = 51;
    pub const KEY_DOT: u16 = 52;
    pub const KEY_SLASH: u16 = 53;
    pub const KEY_RIGHTSHIFT: u16 = 54;
    pub const KEY_KPASTERISK: u16 = 55;
    pub const KEY_SPACE: u16 = 57;
    pub const KEY_CAPSLOCK: u16 = 58;
    pub const KEY_KP7: u16 = 71;
    pub const KEY_KP8: u16 = 72;
    pub const KEY_KP9: u16 = 73;
    pub const KEY_KPMINUS: u16 = 74;
    pub const KEY_KP4: u16 = 75;
    pub const KEY_KP5: u16 = 76;
    pub const KEY_KP6: u16 = 77;
    pub const KEY_KPPLUS: u16 = 78;
    pub const KEY_KP1: u16 = 79;
    pub const KEY_KP2: u16 = 80;
    pub const KEY_KP3: u16 = 81;
    pub const KEY_KP0: u16 = 82;
    pub const KEY_KPDOT: u16 = 83;
    pub const KEY_102ND: u16 = 86;
    /// JIS: the `\ _` key left of right shift.
    pub const KEY_RO: u16 = 89;
    pub const KEY_KPENTER: u16 = 96;
    pub const KEY_KPSLASH: u16 = 98;
    pub const KEY_KPEQUAL: u16 = 117;
    /// JIS: the `¥ |` key left of backspace (ASCII backslash).
    pub const KEY_YEN: u16 = 124;
}

use code::*;

/// Event values of `EV_KEY` events.
const RELEASED: i32 = 0;
const PRESSED: i32 = 1;

/// The keyboard layout the scanner was configured to emulate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Layout {
    /// US English (ANSI 101/104).
    #[default]
    Us,
    /// Japanese (JIS 106/109).
    Jis,
}

/// Turns key events into characters, tracking the shift keys.
#[derive(Clone, Debug, Default)]
pub struct Keymap {
    layout: Layout,
    left_shift: bool,
    right_shift: bool,
}

impl Keymap {
    /// A keymap for `layout`, with no key held.
    #[must_use]
    pub fn new(layout: Layout) -> Keymap {
        Keymap { layout, left_shift: false, right_shift: false }
    }

    /// The layout this keymap decodes.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Whether a shift key is held.
    #[must_use]
    pub fn shifted(&self) -> bool {
        self.left_shift || self.right_shift
    }

    /// Feeds one `EV_KEY` event (`code`, `value`: 0 release, 1 press, 2 repeat).
    ///
    /// Returns the character a key press means, `'\n'` for Enter, `'\t'` for Tab, or
    /// `None` (shift, release, repeat, or a key that types nothing printable).
    pub fn feed(&mut self, code: u16, value: i32) -> Option<char> {
        match code {
            KEY_LEFTSHIFT => {
                self.left_shift = shift_state(self.left_shift, value);
                None
            }
            KEY_RIGHTSHIFT => {
                self.right_shift = shift_state(self.right_shift, value);
                None
            }
            _ if value == PRESSED => self.char_for(code),
            _ => None,
        }
    }

    /// The character pressing `code` types with the current shift state.
    #[must_use]
    pub fn char_for(&self, code: u16) -> Option<char> {
        let shift = self.shifted();
        if let Some(c) = common(code, shift) {
            return Some(c);
        }
        let (plain, shifted) = match self.layout {
            Layout::Us => us(code)?,
            Layout::Jis => jis(code)?,
        };
        if shift { shifted } else { Some(plain) }
    }
}

fn shift_state(held: bool, value: i32) -> bool {
    match value {
        PRESSED => true,
        RELEASED => false,
        // Repeat: the key is still held.
        _ => held,
    }
}

/// Keys that mean the same on both layouts: letters, digits, space, Enter, Tab, keypad.
fn common(code: u16, shift: bool) -> Option<char> {
    const ROW_Q: &[u8; 10] = b"qwertyuiop";
    const ROW_A: &[u8; 9] = b"asdfghjkl";
    const ROW_Z: &[u8; 7] = b"zxcvbnm";
    let letter = |row: &[u8], first: u16| {
        let c = char::from(row[usize::from(code - first)]);
        if shift { c.to_ascii_uppercase() } else { c }
    };
    Some(match code {
        KEY_Q..=KEY_P => letter(ROW_Q, KEY_Q),
        KEY_A..=KEY_L => letter(ROW_A, KEY_A),
        KEY_Z..=KEY_M => letter(ROW_Z, KEY_Z),
        // Digits, unshifted (shifted digits differ between layouts).
        KEY_1..=KEY_9 if !shift => char::from(b'1' + (code - KEY_1) as u8),
        KEY_0 if !shift => '0',
        KEY_SPACE => ' ',
        KEY_ENTER | KEY_KPENTER => '\n',
        KEY_TAB => '\t',
        KEY_KP7 => '7',
        KEY_KP8 => '8',
        KEY_KP9 => '9',
        KEY_KP4 => '4',
        KEY_KP5 => '5',
        KEY_KP6 => '6',
        KEY_KP1 => '1',
        KEY_KP2 => '2',
        KEY_KP3 => '3',
        KEY_KP0 => '0',
        KEY_KPMINUS => '-',
        KEY_KPPLUS => '+',
        KEY_KPDOT => '.',
        KEY_KPASTERISK => '*',
        KEY_KPSLASH => '/',
        KEY_KPEQUAL => '=',
        _ => return None,
    })
}

/// US layout: (unshifted, shifted) for the keys whose symbols depend on the layout.
fn us(code: u16) -> Option<(char, Option<char>)> {
    let pair = |a, b| Some((a, Some(b)));
    match code {
        KEY_1 => pair('1', '!'),
        KEY_2 => pair('2', '@'),
        KEY_3 => pair('3', '#'),
        KEY_4 => pair('4', '$'),
        KEY_5 => pair('5', '%'),
        KEY_6 => pair('6', '^'),
        KEY_7 => pair('7', '&'),
        KEY_8 => pair('8', '*'),
        KEY_9 => pair('9', '('),
        KEY_0 => pair('0', ')'),
        KEY_MINUS => pair('-', '_'),
        KEY_EQUAL => pair('=', '+'),
        KEY_LEFTBRACE => pair('[', '{'),
        KEY_RIGHTBRACE => pair(']', '}'),
        KEY_SEMICOLON => pair(';', ':'),
        KEY_APOSTROPHE => pair('\'', '"'),
        KEY_GRAVE => pair('`', '~'),
        KEY_BACKSLASH => pair('\\', '|'),
        KEY_COMMA => pair(',', '<'),
        KEY_DOT => pair('.', '>'),
        KEY_SLASH => pair('/', '?'),
        _ => None,
    }
}

/// JIS 106/109 layout. Shift+0 types nothing; the Hankaku/Zenkaku key (`KEY_GRAVE`)
/// types nothing; the yen key is ASCII backslash.
fn jis(code: u16) -> Option<(char, Option<char>)> {
    let pair = |a, b| Some((a, Some(b)));
    match code {
        KEY_1 => pair('1', '!'),
        KEY_2 => pair('2', '"'),
        KEY_3 => pair('3', '#'),
        KEY_4 => pair('4', '$'),
        KEY_5 => pair('5', '%'),
        KEY_6 => pair('6', '&'),
        KEY_7 => pair('7', '\''),
        KEY_8 => pair('8', '('),
        KEY_9 => pair('9', ')'),
        KEY_0 => Some(('0', None)),
        KEY_MINUS => pair('-', '='),
        KEY_EQUAL => pair('^', '~'),
        KEY_YEN => pair('\\', '|'),
        KEY_LEFTBRACE => pair('@', '`'),
        KEY_RIGHTBRACE => pair('[', '{'),
        KEY_SEMICOLON => pair(';', '+'),
        KEY_APOSTROPHE => pair(':', '*'),
        KEY_BACKSLASH => pair(']', '}'),
        KEY_COMMA => pair(',', '<'),
        KEY_DOT => pair('.', '>'),
        KEY_SLASH => pair('/', '?'),
        KEY_RO => pair('\\', '_'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPEAT: i32 = 2;

    fn tap(map: &mut Keymap, code: u16) -> Option<char> {
        let c = map.feed(code, PRESSED);
        assert_eq!(map.feed(code, RELEASED), None, "a release types nothing");
        c
    }

    fn shifted_tap(map: &mut Keymap, shift_key: u16, code: u16) -> Option<char> {
        assert_eq!(map.feed(shift_key, PRESSED), None);
        let c = tap(map, code);
        assert_eq!(map.feed(shift_key, RELEASED), None);
        c
    }

    /// Every printable ASCII character with the key (and shift) that types it.
    fn typing(layout: Layout) -> Vec<(char, u16, bool)> {
        let mut out = Vec::new();
        for code in 0..=255u16 {
            for shift in [false, true] {
                let mut map = Keymap::new(layout);
                if shift {
                    map.feed(KEY_LEFTSHIFT, PRESSED);
                }
                if let Some(c) = map.feed(code, PRESSED) {
                    out.push((c, code, shift));
                }
            }
        }
        out
    }

    #[test]
    fn digits_row_and_keypad_type_digits_on_both_layouts() {
        for layout in [Layout::Us, Layout::Jis] {
            let mut map = Keymap::new(layout);
            let row: String = (KEY_1..=KEY_0).filter_map(|c| tap(&mut map, c)).collect();
            assert_eq!(row, "1234567890", "{layout:?}");
            let keypad =
                [KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KP0];
            let pad: String = keypad.iter().filter_map(|&c| tap(&mut map, c)).collect();
            assert_eq!(pad, "1234567890", "{layout:?}");
            // Keypad ignores shift.
            assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_KP5), Some('5'));
            assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_KPDOT), Some('.'));
        }
    }

    #[test]
    fn letters_are_lower_case_and_upper_case_with_either_shift() {
        for layout in [Layout::Us, Layout::Jis] {
            let mut map = Keymap::new(layout);
            let all: Vec<u16> = (KEY_Q..=KEY_P).chain(KEY_A..=KEY_L).chain(KEY_Z..=KEY_M).collect();
            let lower: String = all.iter().filter_map(|&c| tap(&mut map, c)).collect();
            assert_eq!(lower, "qwertyuiopasdfghjklzxcvbnm");
            let upper: String =
                all.iter().filter_map(|&c| shifted_tap(&mut map, KEY_RIGHTSHIFT, c)).collect();
            assert_eq!(upper, "QWERTYUIOPASDFGHJKLZXCVBNM");
            assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_A), Some('A'));
        }
    }

    #[test]
    fn us_symbols() {
        let mut map = Keymap::new(Layout::Us);
        let plain: String = [KEY_MINUS, KEY_EQUAL, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_SEMICOLON]
            .into_iter()
            .chain([KEY_APOSTROPHE, KEY_GRAVE, KEY_BACKSLASH, KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_SPACE])
            .filter_map(|c| tap(&mut map, c))
            .collect();
        assert_eq!(plain, "-=[];'`\\,./ ");
        let shifted: String = (KEY_1..=KEY_EQUAL)
            .chain([KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_SEMICOLON, KEY_APOSTROPHE, KEY_GRAVE])
            .chain([KEY_BACKSLASH, KEY_COMMA, KEY_DOT, KEY_SLASH])
            .filter_map(|c| shifted_tap(&mut map, KEY_LEFTSHIFT, c))
            .collect();
        assert_eq!(shifted, "!@#$%^&*()_+{}:\"~|<>?");
        // JIS-only keys type nothing on US.
        assert_eq!(tap(&mut map, KEY_YEN), None);
        assert_eq!(tap(&mut map, KEY_RO), None);
    }

    #[test]
    fn jis_symbols_differ_where_the_keycaps_differ() {
        let mut map = Keymap::new(Layout::Jis);
        assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_2), Some('"'));
        assert_eq!(tap(&mut map, KEY_APOSTROPHE), Some(':'), "':' is its own key on JIS");
        assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_SEMICOLON), Some('+'));
        assert_eq!(tap(&mut map, KEY_LEFTBRACE), Some('@'));
        assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_0), None, "shift+0 types nothing on JIS");
        assert_eq!(tap(&mut map, KEY_GRAVE), None, "Hankaku/Zenkaku types nothing");
        let plain: String = [KEY_MINUS, KEY_EQUAL, KEY_YEN, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_SEMICOLON]
            .into_iter()
            .chain([KEY_APOSTROPHE, KEY_BACKSLASH, KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RO])
            .filter_map(|c| tap(&mut map, c))
            .collect();
        assert_eq!(plain, "-^\\@[;:],./\\");
        let shifted: String = (KEY_1..=KEY_9)
            .chain([KEY_MINUS, KEY_EQUAL, KEY_YEN, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_SEMICOLON])
            .chain([KEY_APOSTROPHE, KEY_BACKSLASH, KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RO])
            .filter_map(|c| shifted_tap(&mut map, KEY_RIGHTSHIFT, c))
            .collect();
        assert_eq!(shifted, "!\"#$%&'()=~|`{+*}<>?_");
    }

    #[test]
    fn every_printable_ascii_character_is_typeable_on_us() {
        let typed = typing(Layout::Us);
        for c in (0x20u8..0x7f).map(char::from) {
            let n = typed.iter().filter(|(t, ..)| *t == c).count();
            assert!(n >= 1, "{c:?} cannot be typed on US");
        }
    }

    #[test]
    fn every_printable_ascii_character_is_typeable_on_jis() {
        let typed = typing(Layout::Jis);
        for c in (0x20u8..0x7f).map(char::from) {
            assert!(typed.iter().any(|(t, ..)| *t == c), "{c:?} cannot be typed on JIS");
        }
    }

    #[test]
    fn only_printable_ascii_enter_and_tab_come_out() {
        for layout in [Layout::Us, Layout::Jis] {
            for (c, code, shift) in typing(layout) {
                assert!(
                    c == '\n' || c == '\t' || (' '..='~').contains(&c),
                    "{layout:?} key {code} shift {shift} typed {c:?}"
                );
            }
        }
    }

    #[test]
    fn enter_keypad_enter_and_tab() {
        let mut map = Keymap::new(Layout::Us);
        assert_eq!(tap(&mut map, KEY_ENTER), Some('\n'));
        assert_eq!(tap(&mut map, KEY_KPENTER), Some('\n'));
        assert_eq!(tap(&mut map, KEY_TAB), Some('\t'));
        assert_eq!(shifted_tap(&mut map, KEY_LEFTSHIFT, KEY_ENTER), Some('\n'));
    }

    #[test]
    fn repeats_are_ignored() {
        let mut map = Keymap::new(Layout::Us);
        assert_eq!(map.feed(KEY_5, PRESSED), Some('5'));
        assert_eq!(map.feed(KEY_5, REPEAT), None);
        assert_eq!(map.feed(KEY_5, REPEAT), None);
        assert_eq!(map.feed(KEY_5, RELEASED), None);
    }

    #[test]
    fn shift_state_follows_both_shift_keys_and_ignores_shift_repeats() {
        let mut map = Keymap::new(Layout::Us);
        map.feed(KEY_LEFTSHIFT, PRESSED);
        map.feed(KEY_LEFTSHIFT, REPEAT);
        assert!(map.shifted());
        map.feed(KEY_RIGHTSHIFT, PRESSED);
        map.feed(KEY_LEFTSHIFT, RELEASED);
        assert!(map.shifted(), "right shift still held");
        assert_eq!(map.feed(KEY_A, PRESSED), Some('A'));
        map.feed(KEY_RIGHTSHIFT, RELEASED);
        assert!(!map.shifted());
        assert_eq!(map.feed(KEY_A, PRESSED), Some('a'));
        // A release of a shift that was never pressed changes nothing.
        map.feed(KEY_RIGHTSHIFT, RELEASED);
        assert_eq!(map.feed(KEY_2, PRESSED), Some('2'));
    }

    #[test]
    fn non_printing_keys_type_nothing() {
        for layout in [Layout::Us, Layout::Jis] {
            let mut map = Keymap::new(layout);
            for code in [KEY_ESC, KEY_BACKSPACE, KEY_LEFTCTRL, KEY_CAPSLOCK, KEY_102ND, 0, 200, u16::MAX] {
                assert_eq!(tap(&mut map, code), None, "{layout:?} {code}");
            }
        }
    }

    #[test]
    fn the_two_layouts_agree_on_letters_digits_and_dot_slash_minus() {
        let mut us = Keymap::new(Layout::Us);
        let mut jis = Keymap::new(Layout::Jis);
        for code in (KEY_1..=KEY_0).chain([KEY_MINUS, KEY_DOT, KEY_SLASH, KEY_COMMA]).chain(KEY_A..=KEY_L) {
            assert_eq!(tap(&mut us, code), tap(&mut jis, code), "key {code}");
        }
    }
}
