//! `kiosk-sound`: plays the kiosk's tones or prompts on an ALSA device, for IT checking
//! a kiosk's speaker or headphones from a shell (the staff menu has a test sound too),
//! and for the tests that capture what is played.
//!
//! ```text
//! kiosk-sound [--device NAME] [--volume 0-100] tones
//! kiosk-sound [--device NAME] [--volume 0-100] prompts PACK LANGUAGE KEY...
//! kiosk-sound [--device NAME] [--volume 0-100] title VOICE.htsvoice READER < TEXT
//! ```
//! `title` says the text on its standard input (never on a command line, which any
//! process can read) as the kiosk says a book's title through headphones: READER `ja` is
//! Open JTalk with the voice, any other an eSpeak NG voice (`en-us`, `ko`).
//! The tones play in order (key click, good scan, refused scan, warning) with 300 ms of
//! silence between; prompts likewise.

use std::process::ExitCode;

use kiosk_audio::{AlsaOutput, Clip, Pack, Player, Sound, Tone};

const USAGE: &str = "usage: kiosk-sound [--device NAME] [--volume 0-100] tones\n       kiosk-sound [--device NAME] [--volume 0-100] prompts PACK LANGUAGE KEY...\n       kiosk-sound [--device NAME] [--volume 0-100] title VOICE.htsvoice ja|ESPEAK-VOICE < TEXT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk-sound: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let mut device = "default".to_owned();
    let mut volume = 80u8;
    let mut rest = args;
    loop {
        match rest {
            [flag, value, tail @ ..] if flag == "--device" => {
                device.clone_from(value);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--volume" => {
                volume = value
                    .parse()
                    .ok()
                    .filter(|v| *v <= 100)
                    .ok_or(format!("--volume {value:?}: 0 to 100"))?;
                rest = tail;
            }
            _ => break,
        }
    }
    let gap: Clip = vec![0i16; kiosk_audio::RATE as usize * 3 / 10].into();
    let clips: Vec<Clip> = match rest {
        [cmd] if cmd == "tones" => Tone::ALL.iter().map(|t| t.samples()).collect(),
        [cmd, pack, language, keys @ ..] if cmd == "prompts" && !keys.is_empty() => {
            let bytes = std::fs::read(pack).map_err(|e| format!("{pack}: {e}"))?;
            let pack = Pack::parse(&bytes).map_err(|e| format!("{pack}: {e}"))?;
            keys.iter()
                .map(|k| {
                    pack.get(language, k)
                        .map(kiosk_audio::Prompt::clip)
                        .ok_or(format!("no prompt {language}/{k}"))
                })
                .collect::<Result<_, _>>()?
        }
        [cmd, voice, reader] if cmd == "title" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map_err(|e| format!("the title on standard input: {e}"))?;
            use kiosk_audio::speech::{Reader, Speech, Synthesiser};
            let reader = match reader.as_str() {
                "ja" => Reader::Japanese,
                // eSpeak NG's voice names are few and fixed: kept for the run.
                other => Reader::Espeak(Box::leak(other.to_owned().into_boxed_str())),
            };
            let mut synth = Synthesiser::new(voice.into());
            synth.check(reader).map_err(|e| e.to_string())?;
            vec![synth.say(&text, reader).map_err(|e| e.to_string())?]
        }
        _ => return Err(USAGE.into()),
    };
    let output = AlsaOutput::open(&device).map_err(|e| e.to_string())?;
    let player = Player::start(Box::new(output), volume);
    let mut sequence = Vec::new();
    for (i, c) in clips.into_iter().enumerate() {
        if i > 0 {
            sequence.push(gap.clone());
        }
        sequence.push(c);
    }
    player.play(Sound::Sequence(sequence));
    match player.finish() {
        0 => Ok(()),
        n => Err(format!("{device}: {n} write(s) failed, the sound was cut short")),
    }
}
