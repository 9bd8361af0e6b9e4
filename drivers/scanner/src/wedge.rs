//! The pure part of a keyboard-wedge scanner: key events → scans, and choosing the
//! device under `/dev/input/by-id`. [`EvdevScanner`](crate::EvdevScanner) only reads
//! events from the kernel and hands them here.

use std::time::Instant;

use crate::error::LineTooLong;
use crate::keymap::{Keymap, Layout};
use crate::line::{LineAssembler, LineConfig};

/// `EV_KEY`, the event type of key presses.
pub const EV_KEY: u16 = 1;

/// Key events → characters → scans.
#[derive(Clone, Debug)]
pub struct Wedge {
    keymap: Keymap,
    lines: LineAssembler,
}

impl Wedge {
    /// A decoder for a scanner set to `layout`, cutting scans by `config`.
    #[must_use]
    pub fn new(layout: Layout, config: LineConfig) -> Wedge {
        Wedge { keymap: Keymap::new(layout), lines: LineAssembler::new(config) }
    }

    /// Feeds one input event (any type; only `EV_KEY` matters) that arrived at `now`.
    ///
    /// # Errors
    /// [`LineTooLong`] as [`LineAssembler::push`].
    pub fn event(
        &mut self,
        kind: u16,
        code: u16,
        value: i32,
        now: Instant,
    ) -> Result<Option<String>, LineTooLong> {
        if kind != EV_KEY {
            return Ok(None);
        }
        match self.keymap.feed(code, value) {
            Some(c) => self.lines.push(c, now),
            None => Ok(None),
        }
    }
}

/// Picks the scanner among the names in `/dev/input/by-id`.
///
/// A name matches if it contains `pattern` (case-insensitive) and is an event device
/// (`…-event-…`; evdev cannot read the legacy `mouse`/`js` nodes). Among matches, a
/// keyboard interface (`…-event-kbd`) is preferred, then the first in sorted order, so
/// the choice does not depend on directory order.
#[must_use]
pub fn choose_device<'a>(names: &[&'a str], pattern: &str) -> Option<&'a str> {
    let pattern = pattern.to_lowercase();
    let mut matches: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| {
            let lower = n.to_lowercase();
            lower.contains(&pattern) && lower.contains("-event-")
        })
        .collect();
    matches.sort_by_key(|n| (!n.ends_with("-event-kbd"), *n));
    matches.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::code::*;
    use std::time::Duration;

    const EV_SYN: u16 = 0;
    const EV_MSC: u16 = 4;

    /// The events a wedge scanner sends for `keys`: MSC_SCAN, press, SYN, release, SYN.
    fn events(keys: &[(u16, bool)]) -> Vec<(u16, u16, i32)> {
        let mut out = Vec::new();
        for &(code, shift) in keys {
            if shift {
                out.push((EV_KEY, KEY_LEFTSHIFT, 1));
            }
            out.extend([
                (EV_MSC, 4, 0x7001e),
                (EV_KEY, code, 1),
                (EV_SYN, 0, 0),
                (EV_KEY, code, 0),
                (EV_SYN, 0, 0),
            ]);
            if shift {
                out.push((EV_KEY, KEY_LEFTSHIFT, 0));
            }
        }
        out
    }

    fn run(w: &mut Wedge, events: &[(u16, u16, i32)], t0: Instant) -> Vec<Result<String, LineTooLong>> {
        events
            .iter()
            .enumerate()
            .filter_map(|(i, &(k, c, v))| {
                w.event(k, c, v, t0 + Duration::from_micros(500 * i as u64)).transpose()
            })
            .collect()
    }

    #[test]
    fn a_us_scan_with_shifted_symbols_and_enter() {
        let mut w = Wedge::new(Layout::Us, LineConfig::default());
        // "A-1/2@" then Enter
        let keys = [
            (KEY_A, true),
            (KEY_MINUS, false),
            (KEY_1, false),
            (KEY_SLASH, false),
            (KEY_2, false),
            (KEY_2, true),
            (KEY_ENTER, false),
        ];
        assert_eq!(run(&mut w, &events(&keys), Instant::now()), [Ok("A-1/2@".to_owned())]);
    }

    #[test]
    fn the_same_keys_mean_other_symbols_on_jis() {
        let keys = [(KEY_2, true), (KEY_APOSTROPHE, false), (KEY_SEMICOLON, true), (KEY_KPENTER, false)];
        let t0 = Instant::now();
        let mut jis = Wedge::new(Layout::Jis, LineConfig::default());
        assert_eq!(run(&mut jis, &events(&keys), t0), [Ok("\":+".to_owned())]);
        let mut us = Wedge::new(Layout::Us, LineConfig::default());
        assert_eq!(run(&mut us, &events(&keys), t0), [Ok("@':".to_owned())]);
    }

    #[test]
    fn a_method_d_token_typed_on_jis() {
        // "MD1*K": '*' is shift+':' (KEY_APOSTROPHE) on JIS; KEY_A + 2 is D, KEY_A + 7 is K.
        let keys =
            [(KEY_M, true), (KEY_A + 2, true), (KEY_1, false), (KEY_APOSTROPHE, true), (KEY_A + 7, true)];
        let mut all = events(&keys);
        all.extend(events(&[(KEY_ENTER, false)]));
        let mut w = Wedge::new(Layout::Jis, LineConfig::default());
        assert_eq!(run(&mut w, &all, Instant::now()), [Ok("MD1*K".to_owned())]);
    }

    #[test]
    fn repeats_and_other_event_types_are_ignored() {
        let mut w = Wedge::new(Layout::Us, LineConfig::default());
        let t0 = Instant::now();
        let evs = [
            (EV_KEY, KEY_7, 1),
            (EV_KEY, KEY_7, 2),
            (EV_KEY, KEY_7, 2),
            (EV_KEY, KEY_7, 0),
            (EV_MSC, KEY_8, 1),
            (17, KEY_9, 1), // EV_LED
            (EV_KEY, KEY_ENTER, 1),
        ];
        assert_eq!(run(&mut w, &evs, t0), [Ok("7".to_owned())]);
    }

    #[test]
    fn tab_terminated_scanner() {
        let cfg = LineConfig { terminator: crate::Terminator::Tab, ..LineConfig::default() };
        let mut w = Wedge::new(Layout::Us, cfg);
        let evs =
            events(&[(KEY_4, false), (KEY_2, false), (KEY_TAB, false), (KEY_5, false), (KEY_TAB, false)]);
        assert_eq!(run(&mut w, &evs, Instant::now()), [Ok("42".to_owned()), Ok("5".to_owned())]);
    }

    #[test]
    fn over_long_scans_are_reported() {
        let cfg = LineConfig { max_len: 2, ..LineConfig::default() };
        let mut w = Wedge::new(Layout::Us, cfg);
        let evs = events(&[(KEY_1, false), (KEY_2, false), (KEY_3, false), (KEY_ENTER, false)]);
        assert_eq!(run(&mut w, &evs, Instant::now()), [Err(LineTooLong { max: 2 })]);
    }

    #[test]
    fn choosing_the_device_by_name() {
        let names = [
            "usb-Logitech_USB_Receiver-if01-event-mouse",
            "usb-Logitech_USB_Receiver-if01-mouse",
            "usb-Honeywell_Imaging_1900g-event-if01",
            "usb-Honeywell_Imaging_1900g-event-kbd",
            "usb-DENSO_WAVE_QK30-event-kbd",
        ];
        assert_eq!(choose_device(&names, "honeywell"), Some("usb-Honeywell_Imaging_1900g-event-kbd"));
        assert_eq!(choose_device(&names, "QK30"), Some("usb-DENSO_WAVE_QK30-event-kbd"));
        assert_eq!(choose_device(&names, "Logitech"), Some("usb-Logitech_USB_Receiver-if01-event-mouse"));
        assert_eq!(choose_device(&names, "zebra"), None);
        assert_eq!(choose_device(&[], "honeywell"), None);
        // Only non-event nodes match: none.
        assert_eq!(choose_device(&["usb-Foo-mouse"], "foo"), None);
        // Sorted order decides among equals, not input order.
        assert_eq!(choose_device(&["usb-B-event-kbd", "usb-A-event-kbd"], "usb"), Some("usb-A-event-kbd"));
    }
}
