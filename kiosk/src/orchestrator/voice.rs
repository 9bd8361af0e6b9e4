//! The kiosk's voice: for each scene published, what [`kiosk_core::voice::announce`]
//! decides (tones, and prompts in the patron's language) goes to the [`Player`] as one
//! sound, which cuts whatever still plays. The event loop only looks the prompts up and
//! hands them over: the player's thread writes them to the device.
//!
//! `[audio]` decides where (`device`, "none": no player at all), how loud (`volume`,
//! which staff change until a restart), and whether prompts are spoken (`voice`, else the
//! tones only) from which pack (`prompts`). A device that cannot be opened or a pack that
//! cannot be read leaves the kiosk lending; the staff menu's status page says why.

use std::sync::Arc;

use kiosk_audio::{AlsaOutput, Clip, Output, Pack, Player, Sound, Tone};
use kiosk_core::scene::{Device, DeviceState, Language, Scene, StatusRow};
use kiosk_core::voice::{Cue, Say, announce};

use crate::config::Audio;

/// How much one press of "Quieter" or "Louder" changes the volume, in percent.
pub const VOLUME_STEP: u8 = 10;

/// The voice: a player (when the device opened) and the prompts (when the pack was read
/// and the voice is on).
pub struct Voice {
    player: Option<Player>,
    prompts: Option<Arc<Pack>>,
    /// What the status page says of the device (and the pack).
    problem: Option<String>,
    device: String,
}

impl core::fmt::Debug for Voice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Voice")
            .field("playing", &self.player.is_some())
            .field("prompts", &self.prompts.as_ref().map(|p| p.prompts().len()))
            .finish_non_exhaustive()
    }
}

impl Voice {
    /// Opens `[audio]`'s device and reads its pack, keeping the prompts of the
    /// `languages` the kiosk offers. Never fails: what could not be set up is logged and
    /// shown on the status page, and the kiosk goes on without it.
    #[must_use]
    pub fn start(audio: &Audio, languages: &[Language]) -> Voice {
        let Some(device) = &audio.device else {
            return Voice { player: None, prompts: None, problem: None, device: String::new() };
        };
        match AlsaOutput::open(device) {
            Ok(output) => Voice::with_output(audio, languages, Box::new(output), device),
            Err(e) => {
                tracing::error!(error = %e, "the kiosk is silent");
                Voice { player: None, prompts: None, problem: Some(e.to_string()), device: device.clone() }
            }
        }
    }

    /// The voice on an output already open (the tests' recorder, or the device).
    #[must_use]
    pub fn with_output(
        audio: &Audio,
        languages: &[Language],
        output: Box<dyn Output>,
        device: &str,
    ) -> Voice {
        let player = Player::start(output, audio.volume);
        let codes: Vec<&str> = languages.iter().map(|l| l.code()).collect();
        let (prompts, problem) = if audio.voice {
            match read_pack(&audio.prompts, &codes) {
                Ok(pack) => (Some(Arc::new(pack)), None),
                Err(why) => {
                    tracing::error!(problem = %why, "the kiosk plays its tones only");
                    (None, Some(why))
                }
            }
        } else {
            (None, None)
        };
        Voice { player: Some(player), prompts, problem, device: device.to_owned() }
    }

    /// Plays what changing from `before` to `after` calls for, cutting what plays now.
    pub fn scene_changed(&self, before: &Scene, after: &Scene) {
        let Some(player) = &self.player else { return };
        let says = announce(before, after);
        if says.is_empty() {
            return;
        }
        let clips = self.clips(&says, after.language);
        if !clips.is_empty() {
            player.play(Sound::Sequence(clips));
        }
    }

    /// The sounds of `says`, prompts in `language` (a prompt the pack lacks is left
    /// out: the tone before it still plays).
    fn clips(&self, says: &[Say], language: Language) -> Vec<Clip> {
        says.iter()
            .filter_map(|say| match say {
                Say::Cue(cue) => Some(tone(*cue).samples()),
                Say::Prompt(key) | Say::PromptIn(_, key) => {
                    let language = match say {
                        Say::PromptIn(l, _) => *l,
                        _ => language,
                    };
                    let prompt = self.prompts.as_ref()?.get(language.code(), key);
                    if prompt.is_none() {
                        tracing::debug!(key = %key, language = language.code(), "no such prompt in the pack");
                    }
                    Some(prompt?.clip())
                }
            })
            .collect()
    }

    /// Staff's test sound: the good-scan tone and the idle screen's prompt in `language`.
    pub fn test_sound(&self, language: Language) {
        let Some(player) = &self.player else { return };
        let says = [Say::Cue(Cue::GoodScan), Say::Prompt("idle".to_owned())];
        player.play(Sound::Sequence(self.clips(&says, language)));
    }

    /// Turns the volume up (`true`) or down by [`VOLUME_STEP`], within 0–100 %.
    pub fn step_volume(&self, louder: bool) {
        if let Some(player) = &self.player {
            let v = player.volume();
            player.set_volume(if louder {
                v.saturating_add(VOLUME_STEP).min(100)
            } else {
                v.saturating_sub(VOLUME_STEP)
            });
        }
    }

    /// The volume now, percent (`None`: no device).
    #[must_use]
    pub fn volume(&self) -> Option<u8> {
        self.player.as_ref().map(Player::volume)
    }

    /// The status page's line for the sound.
    #[must_use]
    pub fn status(&self) -> StatusRow {
        use kiosk_core::scene::status_row;
        let volume = i32::from(self.volume().unwrap_or(0));
        match (&self.player, &self.problem) {
            (None, None) => status_row(Device::Sound, DeviceState::NotConfigured, 0, ""),
            (None, Some(why)) => status_row(Device::Sound, DeviceState::NotWorking, 0, why),
            (Some(_), Some(why)) => status_row(Device::Sound, DeviceState::NotWorking, volume, why),
            (Some(_), None) if self.prompts.is_none() => {
                status_row(Device::Sound, DeviceState::SoundTonesOnly, volume, &self.device)
            }
            (Some(_), None) => status_row(Device::Sound, DeviceState::SoundReady, volume, &self.device),
        }
    }

    /// Stops what plays and closes the device (at shutdown).
    pub fn finish(self) {
        if let Some(player) = self.player {
            player.stop();
            player.finish();
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

/// Reads and checks the prompt pack, keeping the prompts in `languages`; the error says
/// which file and what to do.
fn read_pack(path: &std::path::Path, languages: &[&str]) -> Result<Pack, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "the spoken prompts {} could not be read ({e}), the tones still play: install the kiosk's package again, or set [audio] prompts",
            path.display()
        )
    })?;
    Pack::parse_keeping(&bytes, &|l| languages.contains(&l)).map_err(|e| {
        format!(
            "the spoken prompts {} are damaged ({e}), the tones still play: install the kiosk's package again",
            path.display()
        )
    })
}
