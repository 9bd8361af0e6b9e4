//! Where samples go: [`AlsaOutput`] (a real sound device) or [`SimulatedOutput`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::{AudioError, RATE};

/// A sound device, written by the [`crate::Player`] thread only.
pub trait Output: Send {
    /// Plays `samples` (mono, [`RATE`] Hz) after what was written before; blocks while
    /// the device's buffer is full (a few tens of milliseconds at most).
    ///
    /// # Errors
    /// The device failed and could not be recovered.
    fn write(&mut self, samples: &[i16]) -> Result<(), AudioError>;

    /// Drops what is written but not yet played: a new clip starts now.
    fn cut(&mut self);

    /// Waits until what is written has been played (before the device is closed).
    fn drain(&mut self) {}

    /// Opens the device again after a write failed (a USB speaker or an audio keypad
    /// unplugged, then plugged back in).
    ///
    /// # Errors
    /// It is still not there.
    fn reopen(&mut self) -> Result<(), AudioError> {
        Ok(())
    }
}

/// An ALSA playback device, by name (`default`, `plughw:CARD=Headphones`, `hdmi:…`).
pub struct AlsaOutput {
    /// Open in non-blocking mode: an open never waits for a device another holds, and a
    /// write waits for room with `snd_pcm_wait`. `None` only while it is opened again.
    pcm: Option<alsa::PCM>,
    device: String,
}

impl std::fmt::Debug for AlsaOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AlsaOutput")
    }
}

impl AlsaOutput {
    /// Opens `device` for 16 kHz mono 16-bit with a 60 ms buffer (a new clip cuts in
    /// within that). Never waits: a device another program holds is an error at once.
    ///
    /// # Errors
    /// [`AudioError::Open`]: no such device, it is busy, or it cannot play that format
    /// (a `plughw:` or `default` device converts).
    pub fn open(device: &str) -> Result<AlsaOutput, AudioError> {
        use alsa::pcm::{Access, Format, HwParams};
        let open = |reason: &dyn std::fmt::Display| AudioError::Open {
            device: device.into(),
            reason: reason.to_string(),
        };
        let pcm = alsa::PCM::new(device, alsa::Direction::Playback, true).map_err(|e| open(&e))?;
        {
            let hw = HwParams::any(&pcm).map_err(|e| open(&e))?;
            hw.set_channels(1).map_err(|e| open(&e))?;
            hw.set_rate(RATE, alsa::ValueOr::Nearest).map_err(|e| open(&e))?;
            hw.set_format(Format::s16()).map_err(|e| open(&e))?;
            hw.set_access(Access::RWInterleaved).map_err(|e| open(&e))?;
            hw.set_buffer_time_near(60_000, alsa::ValueOr::Nearest).map_err(|e| open(&e))?;
            hw.set_period_time_near(10_000, alsa::ValueOr::Nearest).map_err(|e| open(&e))?;
            pcm.hw_params(&hw).map_err(|e| open(&e))?;
            let rate = hw.get_rate().map_err(|e| open(&e))?;
            if rate != RATE {
                return Err(open(&format!("it plays {rate} Hz, not {RATE} Hz; use its plughw: name")));
            }
        }
        Ok(AlsaOutput { pcm: Some(pcm), device: device.to_owned() })
    }
}

impl Output for AlsaOutput {
    fn write(&mut self, samples: &[i16]) -> Result<(), AudioError> {
        let gone = || AudioError::Write("the device is closed".into());
        let pcm = self.pcm.as_ref().ok_or_else(gone)?;
        let io = pcm.io_i16().map_err(|e| AudioError::Write(e.to_string()))?;
        let mut rest = samples;
        let mut recoveries = 0;
        while !rest.is_empty() {
            match io.writei(rest) {
                Ok(n) => rest = &rest[n.min(rest.len())..],
                // The buffer is full: wait for room (a period plays in 10 ms).
                Err(e)
                    if std::io::Error::from_raw_os_error(e.errno()).kind()
                        == std::io::ErrorKind::WouldBlock =>
                {
                    pcm.wait(Some(100)).map_err(|e| AudioError::Write(e.to_string()))?;
                }
                // An underrun (the device ran dry between clips): prepare and go on.
                Err(e) if recoveries < 3 => {
                    recoveries += 1;
                    pcm.try_recover(e, true).map_err(|e| AudioError::Write(e.to_string()))?;
                }
                Err(e) => return Err(AudioError::Write(e.to_string())),
            }
        }
        Ok(())
    }

    fn cut(&mut self) {
        // Both only fail on a device already gone; the next write says so.
        if let Some(pcm) = &self.pcm {
            let _ = pcm.drop();
            let _ = pcm.prepare();
        }
    }

    fn drain(&mut self) {
        // Non-blocking: the drain goes on in the device; wait for it (at most a buffer
        // and a little more), then the device is closed.
        let Some(pcm) = &self.pcm else { return };
        if pcm.drain().is_err() {
            let deadline = std::time::Instant::now() + Duration::from_millis(500);
            while pcm.state() == alsa::pcm::State::Draining && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn reopen(&mut self) -> Result<(), AudioError> {
        // The old handle first: an exclusive device is free before it is opened again.
        self.pcm = None;
        *self = AlsaOutput::open(&self.device)?;
        Ok(())
    }
}

/// What a [`SimulatedOutput`] was given, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Played {
    Samples(Vec<i16>),
    Cut,
}

/// Records what is played (tests, the demo without a sound card); `paced` takes the
/// samples' own time, as a device does.
#[derive(Clone, Debug, Default)]
pub struct SimulatedOutput {
    played: Arc<Mutex<Vec<Played>>>,
    paced: bool,
}

impl SimulatedOutput {
    /// A recorder; `paced`: each write takes as long as its samples play.
    #[must_use]
    pub fn new(paced: bool) -> SimulatedOutput {
        SimulatedOutput { played: Arc::default(), paced }
    }

    /// Everything played so far.
    #[must_use]
    pub fn played(&self) -> Vec<Played> {
        self.played.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// All samples played, cuts left out.
    #[must_use]
    pub fn samples(&self) -> Vec<i16> {
        self.played()
            .into_iter()
            .flat_map(|p| match p {
                Played::Samples(s) => s,
                Played::Cut => Vec::new(),
            })
            .collect()
    }
}

impl Output for SimulatedOutput {
    fn write(&mut self, samples: &[i16]) -> Result<(), AudioError> {
        self.played.lock().unwrap_or_else(PoisonError::into_inner).push(Played::Samples(samples.to_vec()));
        if self.paced {
            std::thread::sleep(Duration::from_micros(samples.len() as u64 * 1_000_000 / u64::from(RATE)));
        }
        Ok(())
    }

    fn cut(&mut self) {
        self.played.lock().unwrap_or_else(PoisonError::into_inner).push(Played::Cut);
    }
}
