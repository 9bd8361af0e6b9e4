//! `kiosk-audio`: what the kiosk says and sounds.
//!
//! - [`tones`]: the key click, good scan, refused scan and warning, made here (no files);
//! - [`adpcm`]: IMA ADPCM, 4 bits a sample: how the spoken prompts are shipped;
//! - [`pack`]: the prompt pack, every spoken prompt of every language in one file, read
//!   with named errors (a damaged pack is refused whole, never half played);
//! - [`player`]: the [`Player`] thread: playing never blocks the caller, and a new clip
//!   cuts the one still playing within one 10 ms period, and more can be added to the
//!   newest sound (a title made while its prompts play);
//! - [`speech`]: words no pack holds (a book's title) spoken at run time by Open JTalk
//!   or eSpeak NG in a child process, behind the [`Speech`] trait;
//! - [`output`]: the [`Output`] trait, [`AlsaOutput`] (the board's headphone jack, HDMI
//!   or a USB speaker, by ALSA device name) and [`SimulatedOutput`] (records).
//!
//! Everything plays at [`RATE`] Hz, mono, 16-bit.

pub mod adpcm;
pub mod error;
pub mod output;
pub mod pack;
pub mod player;
pub mod speech;
pub mod tones;

pub use error::AudioError;
pub use output::{AlsaOutput, Output, SimulatedOutput};
pub use pack::{Pack, PackError, PackFile, PackFileError, Prompt};
pub use player::{Player, Queue, Sound, Ticket};
pub use speech::{Reader, SimulatedSpeech, Speech, SpeechError, Synthesiser};
pub use tones::Tone;

/// Samples a second: speech is clear at 16 kHz, and every device plays it.
pub const RATE: u32 = 16_000;

/// A clip: mono 16-bit samples at [`RATE`].
pub type Clip = std::sync::Arc<[i16]>;
