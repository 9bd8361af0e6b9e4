//! The kiosk's voice: for each scene published, what [`kiosk_core::voice::announce`]
//! decides (tones, and prompts in the patron's language) goes to the [`Player`] as one
//! sound, which cuts whatever still plays. The event loop only looks the prompts up and
//! hands them over: the player's thread writes them to the device.
//!
//! `[audio]` decides where (`device`, "none": no player at all), how loud (`volume`,
//! which staff change until a restart), and whether prompts are spoken (`voice`, else the
//! tones only) from which pack (`prompts`). A device that cannot be opened or a pack that
//! cannot be read leaves the kiosk lending; the staff menu's status page says why.
//!
//! While headphones are in the tactile keypad's jack (`Scene::headphones`), every sound
//! goes to them: to `[audio] headphones` when the jack is a device of its own (opened at
//! start, and again when they go in if it was not there then), else to `device`, whose
//! jack silences the speaker. What plays on the other is cut when they go in or out.
//!
//! A book's title (`Say::Title`) is made at run time (`kiosk_audio::speech`, a child
//! process) and said only on the headphones' own device (`[audio] titles`): never on the
//! open speaker, nor on `device` when headphones are in its jack (the kiosk cannot know
//! that jack silences its speaker). The prompts before it play at once; the title
//! worker makes it while they play and adds it, and what follows, to the same sound
//! (`kiosk_audio::Queue`); a newer sound drops it. A title that cannot be made is left
//! out (logged without its words): the rest is still said.

use std::sync::Arc;

use kiosk_audio::speech::{Reader, Speech, Synthesiser};
use kiosk_audio::{AlsaOutput, Clip, PackFile, Player, Queue, Sound, Ticket, Tone};
use kiosk_core::scene::{Device, DeviceState, Language, Scene, Screen, StatusRow};
use kiosk_core::voice::{Cue, Say, announce};

use crate::config::Audio;

/// The pause before each piece of a due date: 200 ms of silence at the pack's rate.
const PAUSE: usize = kiosk_audio::RATE as usize / 5;

/// How much one press of "Quieter" or "Louder" changes the volume, in percent.
pub const VOLUME_STEP: u8 = 10;

/// The voice: a player (when the device opened) and the prompts (when the pack was read
/// and the voice is on).
pub struct Voice {
    player: Option<Player>,
    prompts: Option<Arc<PackFile>>,
    /// What the status page says of the device (and the pack).
    problem: Option<String>,
    device: String,
    /// The headphone jack's own device, when `[audio] headphones` names one.
    jack: Option<Jack>,
    volume: u8,
    /// What makes titles, when they are said (`[audio] titles`, a jack of their own, the
    /// synthesisers there).
    speech: Option<Box<dyn Speech>>,
    /// The worker that makes titles for the jack's player (started with it).
    titles: Option<TitleWorker>,
    /// Which synthesisers are there: Open JTalk (Japanese titles), eSpeak NG (others).
    readers: (bool, bool),
    /// What the ending screen is saying (its notice), and whether on the headphones:
    /// what follows when the card is taken waits for it instead of cutting it.
    ending: Option<(bool, Ticket)>,
}

/// A part of what one scene change says after its first title.
enum Part {
    Clips(Vec<Clip>),
    Title(String, Reader),
}

/// The thread that makes titles and adds them to the jack's sound.
struct TitleWorker {
    tx: std::sync::mpsc::Sender<(Ticket, Vec<Part>)>,
    thread: std::thread::JoinHandle<()>,
}

impl TitleWorker {
    fn start(mut speech: Box<dyn Speech>, queue: Queue) -> Option<TitleWorker> {
        let (tx, rx) = std::sync::mpsc::channel::<(Ticket, Vec<Part>)>();
        let thread = std::thread::Builder::new()
            .name("titles".into())
            .spawn(move || {
                for (ticket, parts) in rx {
                    for part in parts {
                        // Cut meanwhile: nothing more is made for it.
                        if !queue.is_newest(ticket) {
                            break;
                        }
                        match part {
                            Part::Clips(clips) => queue.then(ticket, clips),
                            Part::Title(text, reader) => match speech.say(&text, reader) {
                                Ok(clip) => queue.then(ticket, vec![clip]),
                                // The error never carries the words.
                                Err(e) => tracing::warn!(error = %e, "a title could not be said"),
                            },
                        }
                    }
                }
            })
            .inspect_err(|e| tracing::error!(error = %e, "the titles' thread could not start: no titles"))
            .ok()?;
        Some(TitleWorker { tx, thread })
    }
}

/// The headphone jack's own device: its player once it opened, or why it did not.
struct Jack {
    device: String,
    player: Option<Player>,
    problem: Option<String>,
}

/// A player on the ALSA device `device`, at `volume`.
fn open_player(device: &str, volume: u8) -> Result<Player, kiosk_audio::AudioError> {
    AlsaOutput::open(device).map(|output| Player::start(Box::new(output), volume))
}

impl Jack {
    fn open(device: &str, volume: u8) -> Jack {
        match open_player(device, volume) {
            Ok(player) => Jack { device: device.to_owned(), player: Some(player), problem: None },
            Err(e) => {
                tracing::error!(error = %e, "the headphone jack cannot be opened: headphones plugged in will not be heard until it can");
                Jack { device: device.to_owned(), player: None, problem: Some(e.to_string()) }
            }
        }
    }
}

impl core::fmt::Debug for Voice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Voice")
            .field("playing", &self.player.is_some())
            .field("prompts", &self.prompts.as_ref().map(|p| p.len()))
            .finish_non_exhaustive()
    }
}

impl Voice {
    /// Opens `[audio]`'s device (and the headphone jack's, when it has its own) and
    /// reads its pack, keeping the prompts of the `languages` the kiosk offers. Never
    /// fails: what could not be set up is logged and shown on the status page, and the
    /// kiosk goes on without it. `device = "none"` with a `headphones` device: a kiosk
    /// that speaks through headphones only (a quiet reading room).
    #[must_use]
    pub fn start(audio: &Audio, languages: &[Language]) -> Voice {
        let mut problem = None;
        let player = audio.device.as_deref().and_then(|device| match open_player(device, audio.volume) {
            Ok(player) => Some(player),
            Err(e) => {
                tracing::error!(error = %e, "the speaker is silent");
                problem = Some(e.to_string());
                None
            }
        });
        let jack = audio.headphones.as_deref().map(|d| Jack::open(d, audio.volume));
        let heard = player.is_some() || jack.is_some();
        let codes: Vec<&str> = languages.iter().map(|l| l.code()).collect();
        let prompts = if audio.voice && heard {
            match read_pack(&audio.prompts, &codes) {
                Ok(pack) => Some(Arc::new(pack)),
                Err(why) => {
                    tracing::error!(problem = %why, "the kiosk plays its tones only");
                    problem = problem.or(Some(why));
                    None
                }
            }
        } else {
            None
        };
        let device = audio.device.clone().unwrap_or_default();
        // Titles: only with a jack of their own, each with its synthesiser there (a kiosk
        // without eSpeak NG still says Japanese titles).
        let mut readers = (false, false);
        let speech = (audio.titles && jack.is_some() && prompts.is_some())
            .then(|| Synthesiser::new(audio.title_voice.clone()))
            .and_then(|synth| {
                let there = |reader, what: &str| match synth.check(reader) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::error!(error = %e, "{what} titles will not be said through the headphones");
                        false
                    }
                };
                readers = (there(Reader::Japanese, "Japanese"), there(Reader::Espeak("en-us"), "other"));
                (readers.0 || readers.1).then(|| Box::new(synth) as Box<dyn Speech>)
            });
        let mut voice = Voice {
            player,
            prompts,
            problem,
            device,
            jack: None,
            volume: audio.volume,
            speech,
            titles: None,
            readers,
            ending: None,
        };
        voice.set_jack(jack);
        voice
    }

    /// The jack (opened now), and the titles' worker on its player.
    fn set_jack(&mut self, jack: Option<Jack>) {
        self.jack = jack;
        if self.titles.is_none()
            && let Some(player) = self.jack()
        {
            let queue = player.queue();
            if let Some(speech) = self.speech.take() {
                self.titles = TitleWorker::start(speech, queue);
            }
        }
    }

    /// The headphone jack's own player, when it is open.
    fn jack(&self) -> Option<&Player> {
        self.jack.as_ref().and_then(|j| j.player.as_ref())
    }

    /// Where sounds go now: while headphones are in, their own device when it is open,
    /// else the speaker's device (whose jack they are in); else the speaker.
    fn output(&self, headphones: bool) -> Option<&Player> {
        if headphones { self.jack().or(self.player.as_ref()) } else { self.player.as_ref() }
    }

    /// Plays what changing from `before` to `after` calls for, cutting what plays now.
    /// Returns `true` when the status page's line changed (the headphones' device
    /// opened when they went in).
    pub fn scene_changed(&mut self, before: &Scene, after: &Scene) -> bool {
        let mut changed = false;
        if after.headphones != before.headphones {
            changed = self.jack_changed(after.headphones);
        }
        let Some(player) = self.output(after.headphones) else { return changed };
        let says = announce(before, after);
        if says.is_empty() {
            return changed;
        }
        // Titles only on the headphones' own device, with the worker to make them.
        let private = after.headphones && self.jack().is_some() && self.titles.is_some();
        // Else the titles are left out and the rest plays as one sound.
        let first = if private { says.iter().position(|s| matches!(s, Say::Title(_))) } else { None };
        let (now, later) = says.split_at(first.unwrap_or(says.len()));
        let clips = self.clips(now, after.language);
        let parts = self.parts(later, after.language);
        if clips.is_empty() && parts.is_empty() {
            return changed;
        }
        // The card taken at the ending screen (the thanks), or the screen left for the
        // idle one: after the notice, whole, unless something else has been played since.
        let after_ending = match self.ending {
            Some((headphones, t))
                if before.screen == Screen::Ending
                    && (after.screen == Screen::Idle || (before.card_present && !after.card_present))
                    && headphones == after.headphones =>
            {
                player.is_newest(t).then_some(t)
            }
            _ => None,
        };
        let ticket = match after_ending {
            Some(t) => {
                player.then(t, clips);
                t
            }
            None => player.play(Sound::Sequence(clips)),
        };
        self.ending = (after.screen == Screen::Ending).then_some((after.headphones, ticket));
        if let Some(worker) = &self.titles
            && !parts.is_empty()
        {
            let _ = worker.tx.send((ticket, parts));
        }
        changed
    }

    /// What follows a title: titles to make, and the clips between and after them (the
    /// titles left out when no worker makes them, which `scene_changed` sees to).
    fn parts(&self, says: &[Say], language: Language) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut run: Vec<Say> = Vec::new();
        for say in says {
            if let Say::Title(text) = say {
                if !run.is_empty() {
                    parts.push(Part::Clips(self.clips(&std::mem::take(&mut run), language)));
                }
                let reader = match kiosk_ui::prompts::title_voice(language, text) {
                    None => Reader::Japanese,
                    Some(voice) => Reader::Espeak(voice),
                };
                // Left out when its synthesiser is not there (said at start).
                let there = match reader {
                    Reader::Japanese => self.readers.0,
                    Reader::Espeak(_) => self.readers.1,
                };
                if there {
                    parts.push(Part::Title(text.clone(), reader));
                }
            } else {
                run.push(say.clone());
            }
        }
        if !run.is_empty() {
            parts.push(Part::Clips(self.clips(&run, language)));
        }
        parts
    }

    /// Headphones went in or out: what plays on the other output is cut; a jack device
    /// that was not there at start is opened now. `true`: it opened.
    fn jack_changed(&mut self, inserted: bool) -> bool {
        let mut opened = false;
        if inserted
            && let Some(jack) = &mut self.jack
            && jack.player.is_none()
        {
            let volume = self.player.as_ref().map_or(self.volume, Player::volume);
            let again = Jack::open(&jack.device, volume);
            opened = again.player.is_some();
            self.set_jack(Some(again));
        }
        match (inserted, self.jack()) {
            (true, Some(_)) => {
                if let Some(speaker) = &self.player {
                    speaker.stop();
                }
            }
            (false, Some(jack)) => jack.stop(),
            _ => {}
        }
        opened
    }

    /// The sounds of `says`, prompts in `language` (a prompt the pack lacks is left
    /// out: the tone before it still plays). A due date is its prompts in the language's
    /// order (`kiosk_ui::prompts::due_date`).
    fn clips(&self, says: &[Say], language: Language) -> Vec<Clip> {
        let prompt = |language: Language, key: &str| -> Option<Clip> {
            let clip = self.prompts.as_ref()?.clip(language.code(), key);
            if clip.is_none() {
                tracing::debug!(key = %key, language = language.code(), "no such prompt in the pack");
            }
            clip
        };
        says.iter()
            .flat_map(|say| match say {
                Say::Cue(cue) => vec![tone(*cue).samples()],
                Say::Prompt(key) => prompt(language, key).into_iter().collect(),
                Say::PromptIn(l, key) => prompt(*l, key).into_iter().collect(),
                // Each piece after a short pause, as a person says a date (the prompts'
                // own silences are trimmed).
                Say::DueDate(date) => kiosk_ui::prompts::due_date(language, date)
                    .iter()
                    .filter_map(|key| prompt(language, key))
                    .flat_map(|clip| [Clip::from(vec![0; PAUSE]), clip])
                    .collect(),
                // Made at run time, and only for the headphones' own device (`parts`).
                Say::Title(_) => Vec::new(),
            })
            .collect()
    }

    /// Staff's test sound on the speaker (the headphones when there is none): the
    /// good-scan tone and the idle screen's prompt in `language`.
    pub fn test_sound(&self, language: Language) {
        let Some(player) = self.player.as_ref().or(self.jack()) else { return };
        let says = [Say::Cue(Cue::GoodScan), Say::Prompt("idle".to_owned())];
        player.play(Sound::Sequence(self.clips(&says, language)));
    }

    /// Turns the volume up (`true`) or down by [`VOLUME_STEP`], within 0–100 %.
    /// The headphones follow.
    pub fn step_volume(&self, louder: bool) {
        let Some(v) = self.volume() else { return };
        let v = if louder { v.saturating_add(VOLUME_STEP).min(100) } else { v.saturating_sub(VOLUME_STEP) };
        for player in self.player.iter().chain(self.jack()) {
            player.set_volume(v);
        }
    }

    /// The volume now, percent (`None`: no device).
    #[must_use]
    pub fn volume(&self) -> Option<u8> {
        self.player.as_ref().or(self.jack()).map(Player::volume)
    }

    /// The status page's line for the sound.
    #[must_use]
    pub fn status(&self) -> StatusRow {
        use kiosk_core::scene::status_row;
        let volume = i32::from(self.volume().unwrap_or(0));
        let jack = self.jack.as_ref();
        let problem = self.problem.as_ref().or(jack.and_then(|j| j.problem.as_ref()));
        // A kiosk speaking through headphones only is shown by their device.
        let device = match jack {
            Some(j) if self.device.is_empty() => &j.device,
            _ => &self.device,
        };
        if self.player.is_none() && jack.is_none() && problem.is_none() {
            return status_row(Device::Sound, DeviceState::NotConfigured, 0, "");
        }
        match problem {
            Some(why) => status_row(Device::Sound, DeviceState::NotWorking, volume, why),
            None if self.prompts.is_none() => {
                status_row(Device::Sound, DeviceState::SoundTonesOnly, volume, device)
            }
            None => status_row(Device::Sound, DeviceState::SoundReady, volume, device),
        }
    }

    /// Stops what plays and closes the device (at shutdown).
    pub fn finish(self) {
        let jack = self.jack.and_then(|j| j.player);
        let players: Vec<Player> = self.player.into_iter().chain(jack).collect();
        // Stopped first: the titles' worker makes nothing more for a stopped sound.
        for player in &players {
            player.stop();
        }
        if let Some(worker) = self.titles {
            drop(worker.tx);
            // A title being made is not waited for past a second (its synthesiser has a
            // limit of its own, five): the kiosk stops well inside systemd's time.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
            while !worker.thread.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            if worker.thread.is_finished() {
                let _ = worker.thread.join();
            }
        }
        for player in players {
            let _ = player.finish();
        }
    }
}

/// The tone of a cue.
fn tone(cue: Cue) -> Tone {
    match cue {
        Cue::KeyClick => Tone::KeyClick,
        Cue::GoodScan => Tone::GoodScan,
        Cue::RefusedScan => Tone::RefusedScan,
        Cue::Warning => Tone::Warning,
    }
}

/// Opens and checks the prompt pack, keeping the index of the prompts in `languages`
/// (their audio stays in the file until played); the error says which file and what to
/// do.
fn read_pack(path: &std::path::Path, languages: &[&str]) -> Result<PackFile, String> {
    PackFile::open(path, &|l| languages.contains(&l)).map_err(|e| match e {
        kiosk_audio::PackFileError::Open(e) => format!(
            "the spoken prompts {} could not be read ({e}), the tones still play: install the kiosk's package again, or set [audio] prompts",
            path.display()
        ),
        kiosk_audio::PackFileError::Damaged(e) => format!(
            "the spoken prompts {} are damaged ({e}), the tones still play: install the kiosk's package again",
            path.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_audio::output::Played;
    use kiosk_audio::{Pack, Prompt, SimulatedOutput, SimulatedSpeech};
    use kiosk_core::scene::{LoanRow, Notice};
    use std::time::{Duration, Instant};

    /// A pack of the Japanese prompts `keys`, each 300 ms of its own level.
    fn pack(keys: &[&str]) -> Arc<PackFile> {
        let prompts = keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                let level = i16::try_from(1000 * (i + 1)).unwrap_or(i16::MAX);
                let samples = vec![level; kiosk_audio::RATE as usize * 3 / 10];
                Prompt {
                    language: "ja".into(),
                    key: (*key).into(),
                    text: (*key).into(),
                    samples: u32::try_from(samples.len()).unwrap_or(0),
                    adpcm: kiosk_audio::adpcm::encode(&samples),
                }
            })
            .collect();
        let dir = std::env::temp_dir().join(format!("kiosk-voice-{}-{}", std::process::id(), keys.join("-")));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("test.pack");
        std::fs::write(&path, Pack::new(prompts).unwrap().to_bytes()).unwrap();
        Arc::new(PackFile::open(&path, &|_| true).unwrap())
    }

    /// A voice on a simulated speaker (paced as a device is), and a simulated jack of its
    /// own with the simulated synthesiser when `speech`.
    fn voice(
        prompts: Arc<PackFile>,
        speech: Option<SimulatedSpeech>,
    ) -> (Voice, SimulatedOutput, SimulatedOutput) {
        let (speaker, phones) = (SimulatedOutput::new(true), SimulatedOutput::new(true));
        let mut v = Voice {
            player: Some(Player::start(Box::new(speaker.clone()), 100)),
            prompts: Some(prompts),
            problem: None,
            device: "speaker".into(),
            jack: None,
            volume: 100,
            speech: speech.map(|s| Box::new(s) as Box<dyn Speech>),
            titles: None,
            readers: (true, true),
            ending: None,
        };
        let jack = Jack {
            device: "phones".into(),
            player: Some(Player::start(Box::new(phones.clone()), 100)),
            problem: None,
        };
        v.set_jack(Some(jack));
        (v, speaker, phones)
    }

    fn wait_until(mut done: impl FnMut() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_card_taken_early_lets_the_ending_finish_before_the_idle_prompt() {
        let keys = ["notice-goodbye", "take-card", "idle", "borrowing"];
        let (mut v, speaker, _) = voice(pack(&keys), None);
        let borrowing = Scene { screen: Screen::Borrowing, ..Scene::default() };
        let ending =
            Scene { screen: Screen::Ending, notice: Notice::Goodbye, card_present: true, ..Scene::default() };
        let idle = Scene { screen: Screen::Idle, ..Scene::default() };
        v.scene_changed(&borrowing, &ending);
        std::thread::sleep(Duration::from_millis(100));
        // Taken while the notice plays: the notice, "take your card" and then the idle
        // prompt, each whole, nothing cut.
        v.scene_changed(&ending, &idle);
        let each = kiosk_audio::RATE as usize * 3 / 10;
        wait_until(|| speaker.samples().len() >= 3 * each);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!speaker.played().contains(&Played::Cut), "nothing cut");
        assert_eq!(speaker.samples().len(), 3 * each);
        // Any other change cuts what plays, as before.
        v.scene_changed(&idle, &borrowing);
        std::thread::sleep(Duration::from_millis(100));
        v.scene_changed(&borrowing, &idle);
        wait_until(|| speaker.played().contains(&Played::Cut));
        v.finish();
    }

    #[test]
    fn the_card_taken_during_the_notice_has_the_thanks_follow_it_not_cut_it() {
        let keys = ["notice-receipt-printed", "take-card", "thank-you", "idle"];
        let (mut v, speaker, _) = voice(pack(&keys), None);
        let printing = Scene { screen: Screen::Printing, ..Scene::default() };
        let ending = Scene {
            screen: Screen::Ending,
            notice: Notice::ReceiptPrinted,
            card_present: true,
            ..Scene::default()
        };
        let taken = Scene { card_present: false, ..ending.clone() };
        let idle = Scene { screen: Screen::Idle, ..Scene::default() };
        v.scene_changed(&printing, &ending);
        std::thread::sleep(Duration::from_millis(100));
        // Taken while the notice plays, then the idle screen: the notice, "take your
        // card", the thanks and the idle prompt, each whole.
        v.scene_changed(&ending, &taken);
        v.scene_changed(&taken, &idle);
        let each = kiosk_audio::RATE as usize * 3 / 10;
        wait_until(|| speaker.samples().len() >= 4 * each);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!speaker.played().contains(&Played::Cut), "nothing cut");
        assert_eq!(speaker.samples().len(), 4 * each);
        v.finish();
    }

    #[test]
    fn a_title_is_said_on_the_headphones_own_device_after_its_result_and_never_on_the_speaker() {
        let keys = ["borrowed-1", "idle"];
        let speech = SimulatedSpeech::default();
        let said = speech.said.clone();
        let (mut v, speaker, phones) = voice(pack(&keys), Some(speech));
        let book = LoanRow { title: "吾輩は猫である".into(), ..LoanRow::default() };
        let before = Scene { screen: Screen::Borrowing, ..Scene::default() };
        let after = Scene { borrowed: 1, loans: vec![book], ..before.clone() };
        // On the speaker: the tone and the result, no title.
        v.scene_changed(&before, &after);
        let result = kiosk_audio::Tone::GoodScan.samples().len() + kiosk_audio::RATE as usize * 3 / 10;
        wait_until(|| speaker.samples().len() >= result);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(speaker.samples().len(), result, "no title on the speaker");
        assert!(said.lock().unwrap().is_empty(), "not even made");
        // Headphones in: the same result, then its title, on their device only.
        let (before, after) = (Scene { headphones: true, ..before }, Scene { headphones: true, ..after });
        v.scene_changed(&before, &after);
        let title = SimulatedSpeech::default().say("吾輩は猫である", Reader::Japanese).unwrap();
        wait_until(|| phones.samples().len() >= result + title.len());
        assert!(phones.samples().ends_with(&title), "the title after the result");
        assert_eq!(said.lock().unwrap().as_slice(), [("吾輩は猫である".to_owned(), Reader::Japanese)]);
        assert_eq!(speaker.samples().len(), result, "still nothing more on the speaker");
        v.finish();
    }
}
