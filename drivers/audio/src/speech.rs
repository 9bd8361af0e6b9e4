//! Speech made at run time, for words no pack can hold: a book's title as the library
//! system gives it. [`Speech`] is the driver's trait; [`Synthesiser`] runs Open JTalk
//! (Japanese) or eSpeak NG (the others) as a child process, the text on its standard
//! input (never on its command line, which other processes can read), its WAV read from
//! its standard output, and makes the clip the pack's prompts are: [`RATE`] Hz, the
//! silences at its ends trimmed, its peak at -3 dBFS. A child that takes longer than its
//! time is killed. [`SimulatedSpeech`] makes a clip from the text alone (tests).
//!
//! The text is never logged, and never put in an error.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Clip, RATE};

/// Who reads a text: Open JTalk (Japanese, with its HTS voice and dictionary), or eSpeak
/// NG with one of its voices (`en-us`, `ko`…).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Japanese,
    Espeak(&'static str),
}

/// Why a text could not be spoken.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// The synthesiser is not installed (or cannot be started).
    #[error(
        "{program} could not be started ({reason}): install it (Debian: open-jtalk and open-jtalk-mecab-naist-jdic, espeak-ng) or set [audio] titles = false"
    )]
    Missing { program: &'static str, reason: String },
    /// A file it needs is not there.
    #[error("{what} {path} is not there: install the kiosk's package again, or set [audio] {key}")]
    NoFile { what: &'static str, path: PathBuf, key: &'static str },
    /// It failed, or wrote something that is not a 16-bit mono WAV.
    #[error("{program} failed: {reason}")]
    Failed { program: &'static str, reason: String },
    /// It took longer than its time and was stopped.
    #[error("{program} took longer than {0:?} and was stopped", .limit)]
    TooSlow { program: &'static str, limit: Duration },
    /// Nothing to say (the text had no words).
    #[error("nothing to say")]
    Empty,
}

/// Speaks a text (a title) as a clip.
pub trait Speech: Send {
    /// The clip of `text` read by `reader`.
    ///
    /// # Errors
    /// [`SpeechError`]: the synthesiser missing, failing or too slow, or no words.
    fn say(&mut self, text: &str, reader: Reader) -> Result<Clip, SpeechError>;
}

/// The longest text spoken, in characters: a title, not a catalogue record. (With its
/// newline, at most 321 bytes: far below a pipe's buffer, so writing it never waits.)
pub const MAX_CHARS: usize = 80;

/// The most of a synthesiser's output read: 16 MiB (minutes of speech at its rates).
const MAX_WAV: u64 = 16 << 20;

/// Below this peak (6 % of full scale) the synthesiser said nothing audible.
const MIN_PEAK: u16 = 2000;

/// The rates a synthesiser's WAV may have.
const RATES: std::ops::RangeInclusive<u32> = 8_000..=96_000;

/// The text as a synthesiser gets it: the title proper (what follows " / ", the
/// statement of responsibility, is left out), control characters as spaces, at most
/// [`MAX_CHARS`] characters, one line.
#[must_use]
pub fn speakable(text: &str) -> String {
    let title = text.split(" / ").next().unwrap_or(text);
    let cleaned: String =
        title.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_CHARS).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Open JTalk and eSpeak NG as child processes.
#[derive(Clone, Debug)]
pub struct Synthesiser {
    /// Open JTalk's dictionary (Debian: `/var/lib/mecab/dic/open-jtalk/naist-jdic`).
    pub dictionary: PathBuf,
    /// Open JTalk's HTS voice (the one the Japanese prompts were made with).
    pub voice: PathBuf,
    /// How long one text may take before its child is killed.
    pub limit: Duration,
}

/// Debian's Open JTalk dictionary.
pub const DICTIONARY: &str = "/var/lib/mecab/dic/open-jtalk/naist-jdic";

impl Synthesiser {
    /// A synthesiser with the Japanese `voice`, Debian's dictionary and a 5 s limit.
    #[must_use]
    pub fn new(voice: PathBuf) -> Synthesiser {
        Synthesiser { dictionary: PathBuf::from(DICTIONARY), voice, limit: Duration::from_secs(5) }
    }

    /// What is missing for `reader`, if anything (checked at start, so the log says it
    /// before a patron needs it).
    ///
    /// # Errors
    /// [`SpeechError::NoFile`] or [`SpeechError::Missing`].
    pub fn check(&self, reader: Reader) -> Result<(), SpeechError> {
        if reader == Reader::Japanese {
            if !self.voice.is_file() {
                return Err(SpeechError::NoFile {
                    what: "Open JTalk's voice",
                    path: self.voice.clone(),
                    key: "title_voice",
                });
            }
            if !self.dictionary.is_dir() {
                return Err(SpeechError::NoFile {
                    what: "Open JTalk's dictionary",
                    path: self.dictionary.clone(),
                    key: "titles = false",
                });
            }
        }
        let (program, arg) = match reader {
            Reader::Japanese => ("open_jtalk", "-h"),
            Reader::Espeak(_) => ("espeak-ng", "--version"),
        };
        Command::new(program)
            .arg(arg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|_| ())
            .map_err(|e| SpeechError::Missing { program, reason: e.to_string() })
    }

    fn command(&self, reader: Reader) -> (&'static str, Command) {
        match reader {
            Reader::Japanese => {
                let mut c = Command::new("open_jtalk");
                // -g -6: as the prompts were made (Open JTalk's own level clips).
                c.arg("-x").arg(&self.dictionary).arg("-m").arg(&self.voice).args([
                    "-g",
                    "-6",
                    "-ow",
                    "/dev/stdout",
                ]);
                ("open_jtalk", c)
            }
            Reader::Espeak(voice) => {
                let mut c = Command::new("espeak-ng");
                c.args(["-v", voice, "-s", "150", "--stdout"]);
                ("espeak-ng", c)
            }
        }
    }
}

impl Speech for Synthesiser {
    fn say(&mut self, text: &str, reader: Reader) -> Result<Clip, SpeechError> {
        let text = speakable(text);
        if text.is_empty() {
            return Err(SpeechError::Empty);
        }
        let (program, mut cmd) = self.command(reader);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| SpeechError::Missing { program, reason: e.to_string() })?;
        let failed = |reason: String| SpeechError::Failed { program, reason };
        // The text, then end of input (one line: Open JTalk reads it whole).
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(text.as_bytes()).and_then(|()| stdin.write_all(b"\n")).map_err(|e| {
                let _ = child.kill();
                let _ = child.wait();
                failed(e.to_string())
            })?;
        }
        // Its output read on a thread of its own, so the limit holds however it behaves.
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed("no output".into()));
        };
        let reader_thread = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            // A title is a few seconds: more than this is not speech (the rest is left).
            stdout.take(MAX_WAV).read_to_end(&mut bytes).map(|_| bytes)
        });
        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > self.limit => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = reader_thread.join();
                    return Err(SpeechError::TooSlow { program, limit: self.limit });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = reader_thread.join();
                    return Err(failed(e.to_string()));
                }
            }
        };
        let bytes = reader_thread
            .join()
            .map_err(|_| failed("its output could not be read".into()))?
            .map_err(|e| failed(e.to_string()))?;
        if !status.success() {
            return Err(failed(format!("it ended with {status}")));
        }
        let (rate, samples) = parse_wav(&bytes).map_err(|why| failed(why.to_owned()))?;
        let trimmed = resample(&samples, rate, RATE);
        let trimmed = trim(&trimmed);
        // Faint noise (a title of signs alone) is not raised to speech's level in a
        // patron's ears.
        if trimmed.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0) < MIN_PEAK {
            return Err(failed("it made only silence".into()));
        }
        Ok(level(trimmed).into())
    }
}

/// Speech for tests: a clip made from the text alone (a 200 ms burst a character, its
/// pitch from the character), so the same text gives the same clip and another differs.
#[derive(Clone, Debug, Default)]
pub struct SimulatedSpeech {
    /// Texts said so far (tests only: a simulator's record).
    pub said: std::sync::Arc<std::sync::Mutex<Vec<(String, Reader)>>>,
}

impl Speech for SimulatedSpeech {
    fn say(&mut self, text: &str, reader: Reader) -> Result<Clip, SpeechError> {
        let text = speakable(text);
        if text.is_empty() {
            return Err(SpeechError::Empty);
        }
        self.said.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((text.clone(), reader));
        let per = RATE as usize / 5;
        let samples: Vec<i16> = text
            .chars()
            .flat_map(|c| {
                let step = 1 + (u32::from(c) % 50) as usize;
                (0..per).map(move |i| if (i / step).is_multiple_of(2) { 6000 } else { -6000 })
            })
            .collect();
        Ok(samples.into())
    }
}

/// A WAV's rate and samples: 16-bit PCM, mono. A data chunk whose length says more than
/// there is (a synthesiser writing to a pipe cannot go back to fill it in) is read to
/// the end.
///
/// # Errors
/// What is wrong with it, in words.
pub fn parse_wav(bytes: &[u8]) -> Result<(u32, Vec<i16>), &'static str> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("its output is not a WAV");
    }
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]]) as usize;
        let body = at + 8;
        if id == b"fmt " {
            let f = bytes.get(body..body + 16).ok_or("its WAV's format is cut short")?;
            let (kind, channels) = (u16::from_le_bytes([f[0], f[1]]), u16::from_le_bytes([f[2], f[3]]));
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            let bits = u16::from_le_bytes([f[14], f[15]]);
            if kind != 1 || channels != 1 || bits != 16 {
                return Err("its WAV is not 16-bit mono PCM");
            }
            if !RATES.contains(&rate) {
                return Err("its WAV's rate is not a sound card's");
            }
            format = Some(rate);
        } else if id == b"data" {
            let rate = format.ok_or("its WAV has data before its format")?;
            let end = body.saturating_add(len).min(bytes.len());
            let samples =
                bytes[body..end].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
            return Ok((rate, samples));
        }
        at = body.saturating_add(len).saturating_add(len % 2);
    }
    Err("its WAV has no data")
}

/// `samples` at `from` Hz as `to` Hz: a windowed-sinc interpolator, low-passed below the
/// lower rate's half (so 48 kHz speech does not fold into the 16 kHz band).
#[must_use]
pub fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || samples.is_empty() {
        return samples.to_vec();
    }
    const HALF: i64 = 16; // taps each side, at the input's rate
    let ratio = f64::from(from) / f64::from(to);
    let cutoff = (f64::from(to) / f64::from(from)).min(1.0) * 0.95;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let n = ((samples.len() as f64) / ratio).floor() as usize;
    let taps = HALF as f64 * (1.0 / cutoff).max(1.0);
    let len = i64::try_from(samples.len()).unwrap_or(i64::MAX);
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 * ratio;
            #[allow(clippy::cast_possible_truncation)]
            let (lo, hi) = ((t - taps).ceil() as i64, (t + taps).floor() as i64);
            let mut acc = 0.0;
            for k in lo.max(0)..=hi.min(len - 1) {
                #[allow(clippy::cast_precision_loss)]
                let x = t - k as f64;
                let w = 0.5 + 0.5 * (std::f64::consts::PI * x / taps).cos(); // Hann
                let s = if x == 0.0 {
                    cutoff
                } else {
                    (std::f64::consts::PI * cutoff * x).sin() / (std::f64::consts::PI * x)
                };
                #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
                let v = f64::from(samples[k as usize]);
                acc += v * s * w;
            }
            #[allow(clippy::cast_possible_truncation)]
            let out = acc.round().clamp(-32768.0, 32767.0) as i16;
            out
        })
        .collect()
}

/// Below this a sample is silence (0.5 % of full scale, as the prompts are trimmed).
const QUIET: i16 = 164;

/// `samples` without the silence at their ends.
#[must_use]
pub fn trim(samples: &[i16]) -> &[i16] {
    let loud = |s: &i16| s.unsigned_abs() > QUIET.unsigned_abs();
    match (samples.iter().position(loud), samples.iter().rposition(loud)) {
        (Some(a), Some(b)) => &samples[a..=b],
        _ => &[],
    }
}

/// `samples` scaled so their peak is at -3 dBFS (as the pack's prompts are).
#[must_use]
pub fn level(samples: &[i16]) -> Vec<i16> {
    let peak = samples.iter().map(|s| i32::from(s.unsigned_abs())).max().unwrap_or(0);
    if peak == 0 {
        return samples.to_vec();
    }
    let target = 23_197.0; // 32767 × 10^(-3/20)
    let gain = target / f64::from(peak);
    #[allow(clippy::cast_possible_truncation)]
    samples.iter().map(|&s| (f64::from(s) * gain).round().clamp(-32768.0, 32767.0) as i16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(rate: u32, samples: &[i16], data_len: u32) -> Vec<u8> {
        let mut b = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        b.extend(16u32.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(1u16.to_le_bytes());
        b.extend(rate.to_le_bytes());
        b.extend((rate * 2).to_le_bytes());
        b.extend(2u16.to_le_bytes());
        b.extend(16u16.to_le_bytes());
        b.extend(b"data");
        b.extend(data_len.to_le_bytes());
        b.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        b
    }

    #[test]
    fn a_wav_is_read_even_when_its_data_length_says_more_than_there_is() {
        assert_eq!(parse_wav(&wav(22_050, &[1, -2, 3], 6)), Ok((22_050, vec![1, -2, 3])));
        // eSpeak NG to a pipe: 0x7ffff000.
        assert_eq!(parse_wav(&wav(22_050, &[1, -2, 3], 0x7fff_f000)), Ok((22_050, vec![1, -2, 3])));
        assert_eq!(parse_wav(b"not a wav"), Err("its output is not a WAV"));
        let mut stereo = wav(16_000, &[1, 2], 4);
        stereo[22] = 2;
        assert_eq!(parse_wav(&stereo), Err("its WAV is not 16-bit mono PCM"));
        assert_eq!(parse_wav(&wav(16_000, &[], 0)[..36]), Err("its WAV has no data"));
        // A rate no sound card has (a 1 Hz WAV would be resampled into gigabytes).
        assert_eq!(parse_wav(&wav(1, &[1], 2)), Err("its WAV's rate is not a sound card's"));
        assert!(parse_wav(&wav(16_000, &[1], 2)[..30]).is_err(), "a format cut short");
    }

    #[test]
    fn resampling_keeps_a_tone_in_the_band_and_drops_one_above_it() {
        let tone = |hz: f64, rate: u32, n: usize| -> Vec<i16> {
            (0..n)
                .map(|i| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                    let v = (10_000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin())
                        as i16;
                    v
                })
                .collect()
        };
        let rms = |s: &[i16]| {
            #[allow(clippy::cast_precision_loss)]
            let n = s.len() as f64;
            (s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n).sqrt()
        };
        for from in [48_000, 22_050] {
            let kept = resample(&tone(1_000.0, from, from as usize), from, RATE);
            assert_eq!(kept.len(), RATE as usize, "one second stays one second from {from} Hz");
            let middle = &kept[1000..15_000];
            assert!((rms(middle) - 7_071.0).abs() < 200.0, "1 kHz kept from {from} Hz: {}", rms(middle));
            let dropped = resample(&tone(10_000.0, from, from as usize), from, RATE);
            assert!(rms(&dropped[1000..15_000]) < 300.0, "10 kHz (above 8 kHz) dropped from {from} Hz");
        }
        assert_eq!(resample(&[1, 2, 3], RATE, RATE), [1, 2, 3]);
    }

    #[test]
    fn silence_at_the_ends_is_trimmed_and_the_peak_set_to_minus_3_dbfs() {
        assert_eq!(trim(&[0, 10, 500, -900, 20, 0]), [500, -900]);
        assert!(trim(&[0, 100, -100]).is_empty());
        let levelled = level(&[1000, -2000]);
        assert_eq!(levelled, [11_599, -23_197]);
        assert_eq!(level(&[]), Vec::<i16>::new());
    }

    #[test]
    fn a_title_is_spoken_without_its_statement_of_responsibility_on_one_line() {
        assert_eq!(speakable("吾輩は猫である / 夏目漱石 著"), "吾輩は猫である");
        assert_eq!(speakable("Line one\nline\ttwo\u{7}"), "Line one line two");
        assert_eq!(speakable(&"あ".repeat(200)).chars().count(), MAX_CHARS);
        assert_eq!(speakable(" \n "), "");
        assert!(matches!(SimulatedSpeech::default().say("\n", Reader::Japanese), Err(SpeechError::Empty)));
    }

    #[test]
    fn the_simulator_gives_the_same_clip_for_the_same_text_and_records_it() {
        let mut s = SimulatedSpeech::default();
        let a = s.say("ぐりとぐら", Reader::Japanese).unwrap();
        assert_eq!(a, s.say("ぐりとぐら", Reader::Japanese).unwrap());
        assert_ne!(a, s.say("ぐりとぐり", Reader::Japanese).unwrap());
        assert_eq!(s.said.lock().unwrap().len(), 3);
    }
}
