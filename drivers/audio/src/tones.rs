//! The tones, made from sine waves with soft edges (no click at the start or end): each
//! short, and told apart by pitch and rhythm, not by loudness alone.
//!
//! | tone | sound | length |
//! | --- | --- | --- |
//! | key click | one 2 kHz tick | 25 ms |
//! | good scan | two rising notes (E6, A6) | 180 ms |
//! | refused scan | two falling low notes (E4, B3) | 400 ms |
//! | warning | three 880 Hz pulses | 450 ms |

use crate::{Clip, RATE};

/// A tone the kiosk plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tone {
    /// A key of the PIN pad or the keypad was pressed.
    KeyClick,
    /// A book or card was read and accepted.
    GoodScan,
    /// A book was refused, or a scan not understood.
    RefusedScan,
    /// Something needs attention: the last PIN try, the session about to end.
    Warning,
}

impl Tone {
    /// Every tone.
    pub const ALL: [Tone; 4] = [Tone::KeyClick, Tone::GoodScan, Tone::RefusedScan, Tone::Warning];

    /// Its notes: (frequency in Hz, milliseconds; 0 Hz is a rest).
    fn notes(self) -> &'static [(f32, u32)] {
        match self {
            Tone::KeyClick => &[(2000.0, 25)],
            Tone::GoodScan => &[(1318.5, 80), (0.0, 20), (1760.0, 80)],
            Tone::RefusedScan => &[(329.6, 180), (0.0, 40), (246.9, 180)],
            Tone::Warning => &[(880.0, 110), (0.0, 60), (880.0, 110), (0.0, 60), (880.0, 110)],
        }
    }

    /// The tone's samples, at about half of full scale (a tone never clips).
    #[must_use]
    pub fn samples(self) -> Clip {
        let mut out = Vec::new();
        for &(hz, ms) in self.notes() {
            let n = (RATE * ms / 1000) as usize;
            // 5 ms rise and fall.
            let edge = (RATE / 200) as usize;
            for i in 0..n {
                if hz == 0.0 {
                    out.push(0);
                    continue;
                }
                #[allow(clippy::cast_precision_loss)]
                let t = i as f32 / RATE as f32;
                let ramp = i.min(n - 1 - i).min(edge);
                #[allow(clippy::cast_precision_loss)]
                let envelope = ramp as f32 / edge as f32;
                let v = (t * hz * std::f32::consts::TAU).sin() * envelope * 16_000.0;
                #[allow(clippy::cast_possible_truncation)]
                out.push(v as i16);
            }
        }
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(s: &[i16]) -> i16 {
        s.iter().map(|v| v.saturating_abs()).max().unwrap_or(0)
    }

    /// Zero crossings a second: the tone's pitch, roughly.
    fn crossings(s: &[i16]) -> usize {
        s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn each_tone_is_short_audible_unclipped_and_starts_and_ends_quietly() {
        for tone in Tone::ALL {
            let s = tone.samples();
            let ms = s.len() * 1000 / RATE as usize;
            assert!((20..=500).contains(&ms), "{tone:?}: {ms} ms");
            assert!((8_000..=16_000).contains(&peak(&s)), "{tone:?}: peak {}", peak(&s));
            assert!(s[0].abs() < 500 && s[s.len() - 1].abs() < 500, "{tone:?}: soft edges");
        }
    }

    #[test]
    fn the_tones_differ_in_length_or_pitch() {
        let s: Vec<Clip> = Tone::ALL.iter().map(|t| t.samples()).collect();
        for (i, a) in s.iter().enumerate() {
            for b in &s[i + 1..] {
                let pitch = |c: &Clip| crossings(c) * RATE as usize / c.len();
                let by_length = a.len().abs_diff(b.len()) * 10 > a.len().max(b.len());
                let by_pitch = pitch(a).abs_diff(pitch(b)) * 4 > pitch(a).max(pitch(b));
                assert!(by_length || by_pitch, "{} vs {} samples", a.len(), b.len());
            }
        }
        // The good scan is high, the refused one low.
        let pitch = |t: Tone| crossings(&t.samples());
        assert!(pitch(Tone::GoodScan) * 2 > pitch(Tone::RefusedScan) * 3);
    }
}
