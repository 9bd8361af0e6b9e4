//! The player thread: the event loop hands it a sound and goes on; the thread writes it
//! to the [`Output`] 10 ms at a time, and between two periods looks for a newer sound,
//! which cuts the one playing.

use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::{Clip, Output, RATE, Tone};

/// What to play.
#[derive(Clone, Debug)]
pub enum Sound {
    Tone(Tone),
    /// A decoded prompt (or any clip).
    Clip(Clip),
    /// Several, one after the other, as one sound (cut as one).
    Sequence(Vec<Clip>),
}

enum Command {
    Play(Ticket, Vec<Clip>, Instant),
    /// More of the sound `Ticket` (dropped when another has cut it).
    Then(Ticket, Vec<Clip>),
    Stop,
}

/// Which sound: [`Player::play`] gives one, [`Queue::then`] adds to that sound while it
/// is the newest (playing, or played out and nothing since).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

/// Latencies kept (the bench's figure; a kiosk's lifetime of sounds is not kept).
const MAX_LATENCIES: usize = 10_000;

/// Samples written at a time: 10 ms.
const PERIOD: usize = (RATE / 100) as usize;

/// The player: cheap to call from the event loop, never blocks it.
#[derive(Debug)]
pub struct Player {
    tx: Sender<Command>,
    /// The last ticket given.
    tickets: Arc<AtomicU64>,
    volume: Arc<AtomicU8>,
    latencies: Arc<Mutex<Vec<Duration>>>,
    /// Writes the device refused.
    failures: Arc<AtomicU32>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Player {
    /// Starts the thread that owns `output`, at `volume` percent.
    #[must_use]
    pub fn start(output: Box<dyn Output>, volume: u8) -> Player {
        let (tx, rx) = mpsc::channel();
        let volume = Arc::new(AtomicU8::new(volume.min(100)));
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(AtomicU32::new(0));
        let (v, l, f) = (volume.clone(), latencies.clone(), failures.clone());
        let spawned =
            std::thread::Builder::new().name("audio".into()).spawn(move || run(output, &rx, &v, &l, &f));
        let thread = spawned
            .inspect_err(
                |e| tracing::error!(error = %e, "the audio thread could not start: the kiosk is silent"),
            )
            .ok();
        Player { tx, tickets: Arc::new(AtomicU64::new(0)), volume, latencies, failures, thread }
    }

    /// A handle that adds to this player's sounds from another thread (the speech
    /// worker's, whose title follows the prompts already playing).
    #[must_use]
    pub fn queue(&self) -> Queue {
        Queue { tx: self.tx.clone(), tickets: self.tickets.clone() }
    }

    /// Lets what plays now finish, then stops the thread (a command-line tool's end).
    /// Returns how many writes the device refused (each cut its sound short).
    pub fn finish(mut self) -> u32 {
        let thread = self.thread.take();
        let failures = self.failures.clone();
        drop(self);
        if let Some(t) = thread {
            let _ = t.join();
        }
        failures.load(Ordering::Relaxed)
    }

    /// Plays `sound`, cutting whatever plays now. The ticket lets more be added to it
    /// ([`Queue::then`]).
    #[allow(clippy::must_use_candidate)]
    pub fn play(&self, sound: Sound) -> Ticket {
        let clips = match sound {
            Sound::Tone(t) => vec![t.samples()],
            Sound::Clip(c) => vec![c],
            Sound::Sequence(c) => c,
        };
        let ticket = Ticket(self.tickets.fetch_add(1, Ordering::Relaxed) + 1);
        // The thread is gone only if it panicked; the kiosk goes on silent.
        let _ = self.tx.send(Command::Play(ticket, clips, Instant::now()));
        ticket
    }

    /// Whether `ticket`'s sound is the newest asked for (see [`Queue::is_newest`]).
    #[must_use]
    pub fn is_newest(&self, ticket: Ticket) -> bool {
        self.tickets.load(Ordering::Relaxed) == ticket.0
    }

    /// Adds `clips` to the sound `ticket` (see [`Queue::then`]).
    pub fn then(&self, ticket: Ticket, clips: Vec<Clip>) {
        let _ = self.tx.send(Command::Then(ticket, clips));
    }

    /// Stops what plays now.
    pub fn stop(&self) {
        // No ticket given before is the newest any more.
        self.tickets.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(Command::Stop);
    }

    /// Sets the volume, 0–100 percent (above 100: 100), for what plays from now on.
    pub fn set_volume(&self, percent: u8) {
        self.volume.store(percent.min(100), Ordering::Relaxed);
    }

    /// The volume now.
    #[must_use]
    pub fn volume(&self) -> u8 {
        self.volume.load(Ordering::Relaxed)
    }

    /// For each sound played so far (the first 10,000): the time from [`Player::play`] to
    /// its first samples being handed to the device (the figure in docs/performance.md).
    #[must_use]
    pub fn latencies(&self) -> Vec<Duration> {
        self.latencies.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// Adds to a player's sounds from another thread.
#[derive(Clone, Debug)]
pub struct Queue {
    tx: Sender<Command>,
    tickets: Arc<AtomicU64>,
}

impl Queue {
    /// Whether `ticket`'s sound is still the newest asked for (not cut, not stopped):
    /// worth making more for.
    #[must_use]
    pub fn is_newest(&self, ticket: Ticket) -> bool {
        self.tickets.load(Ordering::Relaxed) == ticket.0
    }

    /// Plays `clips` after the sound `ticket`, when it is still the newest: at once if it
    /// has played out, else after it; dropped when another sound (or a stop) has cut it.
    pub fn then(&self, ticket: Ticket, clips: Vec<Clip>) {
        let _ = self.tx.send(Command::Then(ticket, clips));
    }
}

fn run(
    mut output: Box<dyn Output>,
    rx: &Receiver<Command>,
    volume: &AtomicU8,
    latencies: &Mutex<Vec<Duration>>,
    failures: &AtomicU32,
) {
    // The clips of the sound playing, the one at, and the sample at in it.
    let mut playing: Vec<Clip> = Vec::new();
    let mut clip = 0;
    let mut at = 0;
    let mut asked: Option<Instant> = None;
    let mut buf = Vec::with_capacity(PERIOD);
    // The player was dropped: what plays now ends, then the thread.
    let mut closed = false;
    // Samples went to the device since the last cut.
    let mut written = false;
    // A write failed: the device is opened again before the next sound, and the failure
    // is logged once, not for every sound while it lasts.
    let mut broken = false;
    // The newest sound's ticket (none after a stop).
    let mut newest: Option<Ticket> = None;
    loop {
        let idle = clip >= playing.len();
        let mut commands = Vec::new();
        if idle {
            if closed {
                // What the device still holds is played out before it closes.
                output.drain();
                return;
            }
            match rx.recv_timeout(Duration::from_secs(3600)) {
                Ok(c) => commands.push(c),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => closed = true,
            }
        }
        // Every command waiting, in order: a burst plays its last sound, a Play then a
        // Stop plays nothing, a Play then its Then plays both.
        while !closed {
            match rx.try_recv() {
                Ok(c) => commands.push(c),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => closed = true,
            }
        }
        for command in commands {
            match command {
                Command::Play(ticket, clips, when) => {
                    newest = Some(ticket);
                    if broken {
                        match output.reopen() {
                            Ok(()) => {
                                tracing::info!("the sound device works again");
                                (broken, written) = (false, false);
                            }
                            Err(e) => {
                                tracing::debug!(error = %e, "the sound device is still not there");
                                // Dropped: nothing is added to it either.
                                (playing, clip, at, asked, newest) = (Vec::new(), 0, 0, None, None);
                                continue;
                            }
                        }
                    }
                    // The device may still hold the end of the last sound, playing or not.
                    if written {
                        output.cut();
                        written = false;
                    }
                    (playing, clip, at, asked) = (clips, 0, 0, Some(when));
                }
                // Still the newest sound: its clips go on (or start again, played out).
                Command::Then(ticket, clips) if newest == Some(ticket) => playing.extend(clips),
                Command::Then(..) => {}
                Command::Stop => {
                    newest = None;
                    if written {
                        output.cut();
                        written = false;
                    }
                    (playing, clip, at, asked) = (Vec::new(), 0, 0, None);
                }
            }
        }
        let Some(current) = playing.get(clip) else { continue };
        let end = (at + PERIOD).min(current.len());
        let gain = i32::from(volume.load(Ordering::Relaxed));
        buf.clear();
        #[allow(clippy::cast_possible_truncation)]
        buf.extend(current[at..end].iter().map(|&s| (i32::from(s) * gain / 100) as i16));
        // The time the first samples are handed to the device (before the write, which
        // may wait for room as a device does).
        if let Some(when) = asked.take() {
            let mut l = latencies.lock().unwrap_or_else(PoisonError::into_inner);
            if l.len() < MAX_LATENCIES {
                l.push(when.elapsed());
            }
        }
        if let Err(e) = output.write(&buf) {
            failures.fetch_add(1, Ordering::Relaxed);
            // Unplugged and plugged back, the old handle fails its first write: opened
            // again at once, the sound starts over; else it is opened before the next.
            if !broken && output.reopen().is_ok() {
                tracing::warn!(error = %e, "the sound device failed and was opened again");
                (clip, at, written) = (0, 0, false);
                broken = true;
                continue;
            }
            tracing::warn!(error = %e, "the sound device failed: opening it again before the next sound");
            (playing, clip, at, asked, newest) = (Vec::new(), 0, 0, None, None);
            broken = true;
            continue;
        }
        broken = false;
        written = true;
        at = end;
        if at >= current.len() {
            clip += 1;
            at = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Played, SimulatedOutput};

    fn wait_until(mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn a_sound_plays_whole_at_its_volume_without_blocking_the_caller() {
        let out = SimulatedOutput::new(false);
        let player = Player::start(Box::new(out.clone()), 50);
        let tone = Tone::GoodScan.samples();
        player.play(Sound::Tone(Tone::GoodScan));
        wait_until(|| out.samples().len() == tone.len());
        let halved: Vec<i16> = tone.iter().map(|s| (i32::from(*s) * 50 / 100) as i16).collect();
        assert_eq!(out.samples(), halved);
        assert_eq!(player.latencies().len(), 1);
        player.set_volume(250);
        assert_eq!(player.volume(), 100);
    }

    /// An output that fails its writes while `gone` (its reopens too), or its next write
    /// once (`stale`: a handle to a device plugged back in), and counts its reopens.
    #[derive(Clone, Default)]
    struct Unplugged {
        gone: Arc<std::sync::atomic::AtomicBool>,
        stale: Arc<std::sync::atomic::AtomicBool>,
        reopens: Arc<std::sync::atomic::AtomicUsize>,
        samples: Arc<Mutex<usize>>,
    }

    impl Output for Unplugged {
        fn write(&mut self, samples: &[i16]) -> Result<(), crate::AudioError> {
            if self.gone.load(Ordering::SeqCst) || self.stale.swap(false, Ordering::SeqCst) {
                return Err(crate::AudioError::Write("No such device".into()));
            }
            *self.samples.lock().unwrap() += samples.len();
            Ok(())
        }
        fn cut(&mut self) {}
        fn reopen(&mut self) -> Result<(), crate::AudioError> {
            self.reopens.fetch_add(1, Ordering::SeqCst);
            if self.gone.load(Ordering::SeqCst) {
                return Err(crate::AudioError::Write("No such device".into()));
            }
            Ok(())
        }
    }

    #[test]
    fn a_device_that_fails_is_opened_again_and_its_sound_is_not_lost_once_it_is_back() {
        let out = Unplugged::default();
        let player = Player::start(Box::new(out.clone()), 100);
        let samples = || *out.samples.lock().unwrap();
        let (click, scan) = (Tone::KeyClick.samples().len(), Tone::GoodScan.samples().len());
        player.play(Sound::Tone(Tone::KeyClick));
        wait_until(|| samples() == click);
        assert_eq!(out.reopens.load(Ordering::SeqCst), 0, "no reopen while it works");
        // Plugged out and back in between two sounds: the old handle fails its first
        // write, the device is opened again at once and the sound plays whole.
        out.stale.store(true, Ordering::SeqCst);
        player.play(Sound::Tone(Tone::GoodScan));
        wait_until(|| samples() == click + scan);
        assert_eq!(out.reopens.load(Ordering::SeqCst), 1);
        // Gone: the sound is dropped (it cannot be opened again)...
        out.gone.store(true, Ordering::SeqCst);
        player.play(Sound::Tone(Tone::KeyClick));
        wait_until(|| out.reopens.load(Ordering::SeqCst) == 2);
        // ...and back: the next sound opens it and plays whole.
        out.gone.store(false, Ordering::SeqCst);
        player.play(Sound::Tone(Tone::GoodScan));
        wait_until(|| samples() == click + 2 * scan);
        assert_eq!(out.reopens.load(Ordering::SeqCst), 3);
        assert_eq!(player.finish(), 2, "the two failed writes are counted");
    }

    #[test]
    fn a_new_sound_cuts_the_one_playing() {
        let out = SimulatedOutput::new(true);
        let player = Player::start(Box::new(out.clone()), 100);
        let long: Clip = vec![1000i16; RATE as usize * 2].into();
        player.play(Sound::Clip(long));
        wait_until(|| out.samples().len() >= PERIOD * 3);
        player.play(Sound::Tone(Tone::KeyClick));
        let click = Tone::KeyClick.samples();
        wait_until(|| out.samples().ends_with(&click));
        let played = out.played();
        let cut = played.iter().position(|p| *p == Played::Cut).unwrap();
        let before: usize =
            played[..cut].iter().map(|p| if let Played::Samples(s) = p { s.len() } else { 0 }).sum();
        assert!(before < PERIOD * 12, "cut within a few periods, after {before} samples");
        // Stop cuts too, and the next sound plays.
        player.play(Sound::Clip(vec![7i16; RATE as usize].into()));
        wait_until(|| out.samples().last() == Some(&7));
        player.stop();
        wait_until(|| out.played().last() == Some(&Played::Cut));
    }

    #[test]
    fn more_is_added_to_the_newest_sound_and_dropped_once_another_cut_it() {
        let out = SimulatedOutput::new(true);
        let player = Player::start(Box::new(out.clone()), 100);
        let queue = player.queue();
        // Added while it plays: after it, no cut between.
        let first = player.play(Sound::Clip(vec![1i16; RATE as usize / 5].into()));
        queue.then(first, vec![vec![2i16; 320].into()]);
        wait_until(|| out.samples().last() == Some(&2));
        assert_eq!(out.samples().iter().filter(|&&s| s == 1).count(), RATE as usize / 5, "the first whole");
        assert!(!out.played().contains(&Played::Cut));
        // Added after it played out (the speech was slow): it plays then.
        std::thread::sleep(Duration::from_millis(50));
        queue.then(first, vec![vec![3i16; 320].into()]);
        wait_until(|| out.samples().last() == Some(&3));
        // Cut by a newer sound: what is added to the old one is dropped.
        assert!(queue.is_newest(first));
        let second = player.play(Sound::Clip(vec![4i16; 320].into()));
        assert!(!queue.is_newest(first) && queue.is_newest(second));
        queue.then(first, vec![vec![5i16; 320].into()]);
        queue.then(second, vec![vec![6i16; 320].into()]);
        wait_until(|| out.samples().last() == Some(&6));
        assert!(!out.samples().contains(&5), "the old sound's addition is dropped");
        // Stopped: nothing is added to it.
        player.stop();
        assert!(!queue.is_newest(second));
        queue.then(second, vec![vec![7i16; 320].into()]);
        let third = player.play(Sound::Clip(vec![8i16; 320].into()));
        assert_ne!(second, third);
        wait_until(|| out.samples().last() == Some(&8));
        assert!(!out.samples().contains(&7));
    }
}
