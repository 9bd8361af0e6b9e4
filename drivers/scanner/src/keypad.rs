//! The tactile keypad: a USB numeric keypad (HID, like the keyboard-wedge scanner) that
//! a blind patron uses instead of the screen. This module says which physical key was
//! pressed; what a key means (next choice, select, help) is the kiosk's key map.
//!
//! Two sources read the same kernel events (`struct input_event`):
//! - [`Keypad::open`] on an event device (`/dev/input/…`): grabbed, so the keys reach
//!   nothing else;
//! - the same call on a FIFO or a file: a recorded event stream (what `cat
//!   /dev/input/eventN` writes), for tests and for a machine without `/dev/input` or
//!   `/dev/uinput`. Records are decoded by [`EventStream`], the same way the kernel
//!   delivers them.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::poll::{Readiness, wait_readable};

/// `EV_KEY`.
const EV_KEY: u16 = 1;
/// `EV_SW`, and its `SW_HEADPHONE_INSERT` (value 1: in, 0: out).
pub const EV_SW: u16 = 5;
pub const SW_HEADPHONE_INSERT: u16 = 2;

/// What the keypad reports: a key pressed, or headphones plugged in (`true`) or out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeypadEvent {
    Key(KeypadKey),
    Headphones(bool),
}

/// The event one kernel event is, if any (key presses, not releases or repeats; the
/// headphone switch both ways).
fn event_of(kind: u16, code: u16, value: i32) -> Option<KeypadEvent> {
    match kind {
        EV_KEY if value == 1 => key_for(code).map(KeypadEvent::Key),
        EV_SW if code == SW_HEADPHONE_INSERT => Some(KeypadEvent::Headphones(value != 0)),
        _ => None,
    }
}

/// A key of a numeric keypad (or its equivalent on a keyboard), as pressed. Its
/// `Debug` never shows a digit: the keypad types PINs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeypadKey {
    /// 0–9.
    Digit(u8),
    Enter,
    Plus,
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `.` or `Del`
    Dot,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Escape,
}

impl std::fmt::Debug for KeypadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeypadKey::Digit(_) => f.write_str("Digit(_)"),
            KeypadKey::Enter => f.write_str("Enter"),
            KeypadKey::Plus => f.write_str("Plus"),
            KeypadKey::Minus => f.write_str("Minus"),
            KeypadKey::Star => f.write_str("Star"),
            KeypadKey::Slash => f.write_str("Slash"),
            KeypadKey::Dot => f.write_str("Dot"),
            KeypadKey::Backspace => f.write_str("Backspace"),
            KeypadKey::Up => f.write_str("Up"),
            KeypadKey::Down => f.write_str("Down"),
            KeypadKey::Left => f.write_str("Left"),
            KeypadKey::Right => f.write_str("Right"),
            KeypadKey::Escape => f.write_str("Escape"),
        }
    }
}

/// The key a Linux key code is (the keypad's own, and the same keys on a keyboard's
/// main block); `None` for any other key.
#[must_use]
pub fn key_for(code: u16) -> Option<KeypadKey> {
    use KeypadKey::{Backspace, Digit, Dot, Down, Enter, Escape, Left, Minus, Plus, Right, Slash, Star, Up};
    Some(match code {
        // KEY_KP7..KEY_KP9 = 71..73, KEY_KP4..6 = 75..77, KEY_KP1..3 = 79..81, KEY_KP0 = 82.
        71..=73 => Digit(u8::try_from(code - 64).ok()?),
        75..=77 => Digit(u8::try_from(code - 71).ok()?),
        79..=81 => Digit(u8::try_from(code - 78).ok()?),
        82 => Digit(0),
        // KEY_1..KEY_9 = 2..10, KEY_0 = 11.
        2..=10 => Digit(u8::try_from(code - 1).ok()?),
        11 => Digit(0),
        96 | 28 => Enter, // KEY_KPENTER, KEY_ENTER
        78 => Plus,       // KEY_KPPLUS
        74 | 12 => Minus, // KEY_KPMINUS, KEY_MINUS
        55 => Star,       // KEY_KPASTERISK
        98 | 53 => Slash, // KEY_KPSLASH, KEY_SLASH
        83 | 111 => Dot,  // KEY_KPDOT, KEY_DELETE
        14 => Backspace,  // KEY_BACKSPACE
        103 => Up,        // KEY_UP
        108 => Down,      // KEY_DOWN
        105 => Left,      // KEY_LEFT
        106 => Right,     // KEY_RIGHT
        1 => Escape,      // KEY_ESC
        _ => return None,
    })
}

/// One kernel input event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputEvent {
    pub kind: u16,
    pub code: u16,
    pub value: i32,
}

/// The size of `struct input_event` on a 64-bit kernel: a 16-byte `timeval`, type, code,
/// value.
pub const RECORD: usize = 24;

impl InputEvent {
    /// The record as the kernel writes it (native byte order, the time left zero).
    #[must_use]
    pub fn to_record(self) -> [u8; RECORD] {
        let mut r = [0u8; RECORD];
        r[16..18].copy_from_slice(&self.kind.to_ne_bytes());
        r[18..20].copy_from_slice(&self.code.to_ne_bytes());
        r[20..24].copy_from_slice(&self.value.to_ne_bytes());
        r
    }

    /// A key press (value 1) or release (0) and the `SYN_REPORT` after it.
    #[must_use]
    pub fn key(code: u16, pressed: bool) -> [InputEvent; 2] {
        [
            InputEvent { kind: EV_KEY, code, value: i32::from(pressed) },
            InputEvent { kind: 0, code: 0, value: 0 },
        ]
    }

    /// Headphones plugged in (`true`) or out, and the `SYN_REPORT` after it.
    #[must_use]
    pub fn headphones(inserted: bool) -> [InputEvent; 2] {
        [
            InputEvent { kind: EV_SW, code: SW_HEADPHONE_INSERT, value: i32::from(inserted) },
            InputEvent { kind: 0, code: 0, value: 0 },
        ]
    }
}

/// Bytes → events: whole records only; a record cut short waits for the rest.
#[derive(Debug, Default)]
pub struct EventStream {
    partial: Vec<u8>,
}

impl EventStream {
    /// Feeds bytes read; returns the keys pressed in them and the headphone switch's
    /// changes (releases and auto-repeats are not presses; other events are ignored).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<KeypadEvent> {
        self.partial.extend_from_slice(bytes);
        let whole = self.partial.len() / RECORD * RECORD;
        let keys = self.partial[..whole]
            .chunks_exact(RECORD)
            .filter_map(|r| {
                let kind = u16::from_ne_bytes([r[16], r[17]]);
                let code = u16::from_ne_bytes([r[18], r[19]]);
                let value = i32::from_ne_bytes([r[20], r[21], r[22], r[23]]);
                event_of(kind, code, value)
            })
            .collect();
        self.partial.drain(..whole);
        keys
    }
}

/// Why the keypad could not be opened or stopped.
#[derive(Debug, thiserror::Error)]
pub enum KeypadError {
    #[error(
        "{what} {path} could not be opened: {source}; check {key}, and that the kiosk user may read it \
         (group `input`)"
    )]
    Open { what: &'static str, key: &'static str, path: PathBuf, source: io::Error },
    #[error(
        "{path} has no number keys, so it is not a keypad; check [keypad] device (ls -l /dev/input/by-id)"
    )]
    NotAKeypad { path: PathBuf },
    #[error(
        "{path} reports no headphone switch (SW_HEADPHONE_INSERT), so it is not a jack; check [audio] jack \
         (`evtest` lists each input device's switches)"
    )]
    NotAJack { path: PathBuf },
    #[error(
        "could not take exclusive hold of the keypad {path} ({source}); another program has grabbed it: \
         stop it, then restart the kiosk"
    )]
    GrabFailed { path: PathBuf, source: io::Error },
    #[error("{what} {path} was unplugged; plug it back in (the kiosk opens it again)")]
    Unplugged { what: &'static str, path: PathBuf },
    #[error("reading {what} {path} failed: {source}")]
    Io { what: &'static str, path: PathBuf, source: io::Error },
}

enum Source {
    Device(Box<evdev::Device>),
    /// A FIFO, held open for writing too: it never hangs up between writers.
    Fifo(std::fs::File),
    /// A recording in a file: read to its end, then nothing more.
    File {
        file: std::fs::File,
        ended: bool,
    },
}

/// An open keypad.
pub struct Keypad {
    source: Source,
    path: PathBuf,
    /// "the tactile keypad", or "the headphone jack" (its errors say which).
    what: &'static str,
    stream: EventStream,
    pending: std::collections::VecDeque<KeypadEvent>,
}

impl std::fmt::Debug for Keypad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypad").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Keypad {
    /// Opens `path`: an event device is checked for number keys and grabbed; a FIFO or a
    /// file is read as a recorded event stream.
    ///
    /// # Errors
    /// [`KeypadError::Open`], [`KeypadError::NotAKeypad`], [`KeypadError::GrabFailed`].
    pub fn open(path: &Path) -> Result<Keypad, KeypadError> {
        Keypad::open_as(path, false)
    }

    /// Opens the headphone jack's own input node (a sound card's or handset's): an event
    /// device is checked for the headphone switch, and not grabbed (it has no keys to
    /// keep from others); a FIFO or a file is read as a recorded stream, as [`Keypad::open`].
    ///
    /// # Errors
    /// [`KeypadError::Open`], [`KeypadError::NotAJack`].
    pub fn open_jack(path: &Path) -> Result<Keypad, KeypadError> {
        Keypad::open_as(path, true)
    }

    fn open_as(path: &Path, jack_only: bool) -> Result<Keypad, KeypadError> {
        use std::os::unix::fs::FileTypeExt;
        let (what, key) = if jack_only {
            ("the headphone jack", "[audio] jack")
        } else {
            ("the tactile keypad", "[keypad] device")
        };
        let open = |source| KeypadError::Open { what, key, path: path.to_path_buf(), source };
        let kind = std::fs::metadata(path).map_err(open)?.file_type();
        let mut pending = std::collections::VecDeque::new();
        let source = if kind.is_char_device() {
            let mut device = evdev::Device::open(path).map_err(open)?;
            let jack = device
                .supported_switches()
                .is_some_and(|s| s.contains(evdev::SwitchCode::SW_HEADPHONE_INSERT));
            if jack_only {
                if !jack {
                    return Err(KeypadError::NotAJack { path: path.to_path_buf() });
                }
            } else {
                let keys = device.supported_keys();
                let digits = keys.is_some_and(|k| {
                    k.contains(evdev::KeyCode::KEY_KP5) || k.contains(evdev::KeyCode::KEY_5)
                });
                if !digits {
                    return Err(KeypadError::NotAKeypad { path: path.to_path_buf() });
                }
                device
                    .grab()
                    .map_err(|source| KeypadError::GrabFailed { path: path.to_path_buf(), source })?;
            }
            device.set_nonblocking(true).map_err(open)?;
            // Headphones already in when it is opened (or opened again).
            if jack
                && let Ok(state) = device.get_switch_state()
                && state.contains(evdev::SwitchCode::SW_HEADPHONE_INSERT)
            {
                pending.push_back(KeypadEvent::Headphones(true));
            }
            Source::Device(Box::new(device))
        } else if kind.is_fifo() {
            // Read-write and non-blocking: the open does not wait for a writer, and the
            // FIFO never reports a hang-up when one goes (no end of file to spin on).
            use std::os::unix::fs::OpenOptionsExt;
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(path)
                .map_err(open)?;
            Source::Fifo(file)
        } else {
            Source::File { file: std::fs::File::open(path).map_err(open)?, ended: false }
        };
        tracing::info!(path = %path.display(), "{what}: open");
        Ok(Keypad { source, path: path.to_path_buf(), what, stream: EventStream::default(), pending })
    }

    /// The next key pressed or headphone switch change within `timeout`, `None` if none.
    ///
    /// # Errors
    /// [`KeypadError::Unplugged`], [`KeypadError::Io`].
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<KeypadEvent>, KeypadError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(k) = self.pending.pop_front() {
                return Ok(Some(k));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let fd = match &self.source {
                Source::Device(d) => d.as_fd(),
                Source::Fifo(f) => f.as_fd(),
                // A recording played to its end: no more keys.
                Source::File { ended: true, .. } => {
                    std::thread::sleep(left);
                    return Ok(None);
                }
                Source::File { file, .. } => file.as_fd(),
            };
            let ready = wait_readable(fd, left).map_err(|source| self.io(source))?;
            match ready {
                Readiness::Readable => self.read_available()?,
                Readiness::Hangup => {
                    return Err(KeypadError::Unplugged { what: self.what, path: self.path.clone() });
                }
                Readiness::TimedOut if Instant::now() >= deadline => return Ok(None),
                Readiness::TimedOut => {}
            }
            if Instant::now() >= deadline && self.pending.is_empty() {
                return Ok(None);
            }
        }
    }

    fn io(&self, source: io::Error) -> KeypadError {
        KeypadError::Io { what: self.what, path: self.path.clone(), source }
    }

    fn read_available(&mut self) -> Result<(), KeypadError> {
        match &mut self.source {
            Source::Device(device) => match device.fetch_events() {
                Ok(events) => {
                    for ev in events {
                        if let Some(e) = event_of(ev.event_type().0, ev.code(), ev.value()) {
                            self.pending.push_back(e);
                        }
                    }
                    Ok(())
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                    Ok(())
                }
                Err(e) if e.raw_os_error() == Some(nix::libc::ENODEV) => {
                    Err(KeypadError::Unplugged { what: self.what, path: self.path.clone() })
                }
                Err(source) => Err(KeypadError::Io { what: self.what, path: self.path.clone(), source }),
            },
            Source::Fifo(file) | Source::File { file, ended: false } => {
                let mut buf = [0u8; RECORD * 64];
                let read = file.read(&mut buf);
                match read {
                    Ok(0) => {
                        if let Source::File { ended, .. } = &mut self.source {
                            *ended = true;
                        }
                        Ok(())
                    }
                    Ok(n) => {
                        let keys = self.stream.feed(&buf[..n]);
                        self.pending.extend(keys);
                        Ok(())
                    }
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
                        Ok(())
                    }
                    Err(source) => Err(KeypadError::Io { what: self.what, path: self.path.clone(), source }),
                }
            }
            Source::File { ended: true, .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keypad_s_keys_and_their_twins_on_a_keyboard() {
        // The keypad's digits in its own layout (7 8 9 / 4 5 6 / 1 2 3 / 0).
        let pad: Vec<Option<KeypadKey>> = [71, 72, 73, 75, 76, 77, 79, 80, 81, 82].map(key_for).to_vec();
        let want: Vec<Option<KeypadKey>> =
            [7, 8, 9, 4, 5, 6, 1, 2, 3, 0].map(|d| Some(KeypadKey::Digit(d))).to_vec();
        assert_eq!(pad, want);
        // The main block's 1–0.
        let row: Vec<Option<KeypadKey>> = (2..=11).map(key_for).collect();
        let want: Vec<Option<KeypadKey>> =
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 0].map(|d| Some(KeypadKey::Digit(d))).to_vec();
        assert_eq!(row, want);
        assert_eq!(key_for(96), Some(KeypadKey::Enter));
        assert_eq!(key_for(28), Some(KeypadKey::Enter));
        assert_eq!(key_for(78), Some(KeypadKey::Plus));
        assert_eq!(key_for(74), Some(KeypadKey::Minus));
        assert_eq!(key_for(55), Some(KeypadKey::Star));
        assert_eq!(key_for(98), Some(KeypadKey::Slash));
        assert_eq!(key_for(83), Some(KeypadKey::Dot));
        assert_eq!(key_for(14), Some(KeypadKey::Backspace));
        // NumLock (69) and letters are not keypad keys.
        assert_eq!(key_for(69), None);
        assert_eq!(key_for(30), None);
    }

    #[test]
    fn records_become_presses_whole_records_only_releases_and_repeats_ignored() {
        let mut bytes = Vec::new();
        for ev in InputEvent::key(79, true).into_iter().chain(InputEvent::key(79, false)) {
            bytes.extend(ev.to_record());
        }
        // Auto-repeat (value 2) of KP2, then a press of Enter.
        bytes.extend(InputEvent { kind: EV_KEY, code: 80, value: 2 }.to_record());
        for ev in InputEvent::key(96, true) {
            bytes.extend(ev.to_record());
        }
        let mut s = EventStream::default();
        // Fed in awkward pieces: a record cut in three.
        let (a, rest) = bytes.split_at(10);
        let (b, c) = rest.split_at(RECORD + 5);
        let mut keys = s.feed(a);
        keys.extend(s.feed(b));
        keys.extend(s.feed(c));
        assert_eq!(keys, [KeypadEvent::Key(KeypadKey::Digit(1)), KeypadEvent::Key(KeypadKey::Enter)]);
        assert!(s.partial.is_empty());
    }

    #[test]
    fn the_headphone_switch_is_read_both_ways_and_other_switches_are_not() {
        let mut bytes = Vec::new();
        for ev in InputEvent::headphones(true)
            .into_iter()
            // SW_LID (0): not the headphones.
            .chain([InputEvent { kind: EV_SW, code: 0, value: 1 }])
            .chain(InputEvent::key(55, true))
            .chain(InputEvent::headphones(false))
        {
            bytes.extend(ev.to_record());
        }
        let events = EventStream::default().feed(&bytes);
        assert_eq!(
            events,
            [
                KeypadEvent::Headphones(true),
                KeypadEvent::Key(KeypadKey::Star),
                KeypadEvent::Headphones(false)
            ]
        );
    }

    #[test]
    fn a_recording_in_a_file_is_read_to_its_end_then_gives_nothing() {
        let dir = std::env::temp_dir().join(format!("kiosk-keypad-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("keys.rec");
        let mut bytes = Vec::new();
        for ev in InputEvent::key(96, true) {
            bytes.extend(ev.to_record());
        }
        std::fs::write(&file, bytes).unwrap();
        let mut pad = Keypad::open(&file).unwrap();
        assert_eq!(
            pad.next_event(Duration::from_millis(200)).unwrap(),
            Some(KeypadEvent::Key(KeypadKey::Enter))
        );
        let started = Instant::now();
        assert_eq!(pad.next_event(Duration::from_millis(100)).unwrap(), None);
        assert!(started.elapsed() >= Duration::from_millis(100), "waits its time, does not spin");
        assert_eq!(format!("{:?}", KeypadKey::Digit(3)), "Digit(_)", "no digit in a log line");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_missing_keypad_is_named_with_the_setting_to_check() {
        let e = Keypad::open(Path::new("/nonexistent/keypad")).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("/nonexistent/keypad") && text.contains("[keypad] device"), "{text}");
    }

    #[test]
    fn a_recorded_stream_on_a_fifo_is_read_as_key_presses() {
        let dir = std::env::temp_dir().join(format!("kiosk-keypad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("keys");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        let mut pad = Keypad::open(&fifo).unwrap();
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut w = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                for code in [55, 79, 96] {
                    for ev in InputEvent::key(code, true).into_iter().chain(InputEvent::key(code, false)) {
                        w.write_all(&ev.to_record()).unwrap();
                    }
                }
            })
        };
        let mut keys = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while keys.len() < 3 && Instant::now() < deadline {
            if let Some(KeypadEvent::Key(k)) = pad.next_event(Duration::from_millis(100)).unwrap() {
                keys.push(k);
            }
        }
        writer.join().unwrap();
        assert_eq!(keys, [KeypadKey::Star, KeypadKey::Digit(1), KeypadKey::Enter]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_jack_that_cannot_be_opened_is_named_as_the_jack_with_its_key() {
        // Not there; and a character device that is no input device (/dev/null).
        for path in ["/nowhere/jack-event", "/dev/null"] {
            let e = Keypad::open_jack(Path::new(path)).unwrap_err().to_string();
            assert!(e.contains("the headphone jack") && e.contains("[audio] jack"), "{e}");
            let e = Keypad::open(Path::new(path)).unwrap_err().to_string();
            assert!(e.contains("the tactile keypad") && e.contains("[keypad] device"), "{e}");
        }
    }
}
