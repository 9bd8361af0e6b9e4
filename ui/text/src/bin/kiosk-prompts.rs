//! `kiosk-prompts`: makes the prompt pack, every spoken prompt of every language, from
//! the screens' catalogues (`kiosk_text::prompts`). Run by `cargo xtask prompts` (which
//! installs the synthesisers and fetches the voice), at build time, never on the kiosk.
//!
//! ```text
//! kiosk-prompts --voice mei_normal.htsvoice --out kiosk-voice.pack [--previous OLD.pack]
//! ```
//! Japanese and easy Japanese are spoken by Open JTalk (the naist-jdic dictionary and an
//! HTS voice), the others by eSpeak NG. Each sentence is made alone, resampled to 16 kHz
//! mono by sox, its silences trimmed and its level set to -3 dBFS, and the sentences of
//! a prompt joined with 300 ms between. A prompt whose words are unchanged since
//! `--previous` keeps its audio (only changed wording is synthesised again).

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use kiosk_audio::{Pack, Prompt, RATE, adpcm};
use kiosk_core::scene::Language;
use kiosk_text::prompts;

const DICTIONARY: &str = "/var/lib/mecab/dic/open-jtalk/naist-jdic";

/// What sox does to each sentence (`sentence`), in the `.voices` stamp: changed, every
/// prompt is made again.
const SOX: &str = "sox 16 kHz mono, silences trimmed at 0.5 %, peak -3 dBFS";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk-prompts: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Args {
    voice: PathBuf,
    out: PathBuf,
    previous: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut voice = None;
    let mut out = None;
    let mut previous = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--voice" => voice = Some(PathBuf::from(value)),
            "--out" => out = Some(PathBuf::from(value)),
            "--previous" => previous = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(Args {
        voice: voice.ok_or("--voice FILE.htsvoice is needed")?,
        out: out.ok_or("--out FILE is needed")?,
        previous,
    })
}

/// How a language's sentences are made, written beside the pack (`<pack>.voices`): a
/// prompt is kept from the previous pack only when its words and this are unchanged, so
/// a changed voice makes its language's prompts again.
fn synthesiser(language: Language, voice: &Path) -> String {
    match prompts::espeak_voice(language) {
        Some(v) => format!("espeak-ng -v {v} -s 150 | {SOX}"),
        None => format!(
            "open_jtalk -g -6 {} | {SOX}",
            voice.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ),
    }
}

/// The synthesiser each language's prompts in `pack` were made with (its `.voices` file;
/// none when it has none: nothing is kept).
fn voices_of(pack: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(voices_file(pack))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(l, v)| (l.to_owned(), v.to_owned()))
        .collect()
}

fn voices_file(pack: &Path) -> PathBuf {
    let mut name = pack.as_os_str().to_owned();
    name.push(".voices");
    PathBuf::from(name)
}

fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| format!("{name}: {e} (cargo xtask prompts installs it)"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{name} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// One sentence as 16 kHz mono samples, silences trimmed, peak at -3 dBFS.
fn sentence(language: Language, text: &str, voice: &Path, dir: &Path) -> Result<Vec<i16>, String> {
    let raw = dir.join("raw.wav");
    let done = dir.join("done.wav");
    match prompts::espeak_voice(language) {
        None => {
            let input = dir.join("in.txt");
            std::fs::write(&input, text).map_err(|e| e.to_string())?;
            // -g -6: Open JTalk's default level clips on some words.
            run_tool(
                Command::new("open_jtalk")
                    .args(["-x", DICTIONARY, "-g", "-6", "-m"])
                    .arg(voice)
                    .arg("-ow")
                    .arg(&raw)
                    .arg(&input),
            )?;
        }
        Some(v) => {
            run_tool(Command::new("espeak-ng").args(["-v", v, "-s", "150", "-w"]).arg(&raw).arg(text))?
        }
    }
    run_tool(Command::new("sox").arg(&raw).args(["-r", "16000", "-c", "1", "-b", "16"]).arg(&done).args([
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse", "gain", "-n",
        "-3",
    ]))?;
    let bytes = std::fs::read(&done).map_err(|e| e.to_string())?;
    let at = bytes.windows(4).position(|w| w == b"data").ok_or("sox wrote no data chunk")? + 8;
    Ok(bytes[at..].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect())
}

/// A prompt of the new pack: kept from the previous one or made (`Ok`), or still to be
/// made from its language, key and sentences.
type Slot = Result<Prompt, (Language, String, Vec<String>)>;

/// One prompt made: each sentence synthesised, 300 ms between them.
fn make(language: Language, key: &str, parts: &[String], voice: &Path, dir: &Path) -> Result<Prompt, String> {
    let mut samples = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            samples.extend(std::iter::repeat_n(0i16, RATE as usize * 3 / 10));
        }
        samples.extend(sentence(language, part, voice, dir)?);
    }
    let count = u32::try_from(samples.len()).map_err(|_| format!("{key} is too long"))?;
    Ok(Prompt {
        language: language.code().into(),
        key: key.to_owned(),
        text: parts.join("\n"),
        samples: count,
        adpcm: adpcm::encode(&samples),
    })
}

fn run() -> Result<(), String> {
    let args = args()?;
    let previous = args
        .previous
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| Pack::parse(&b).ok())
        .unwrap_or_default();
    let previous_voices = args.previous.as_deref().map(voices_of).unwrap_or_default();
    let mut voices = String::new();
    let dir = std::env::temp_dir().join(format!("kiosk-prompts-{}", std::process::id()));
    let start = Instant::now();
    // Every prompt in order: kept from the previous pack, or to be made.
    let mut slots: Vec<Slot> = Vec::new();
    for language in Language::ALL {
        let synthesiser = synthesiser(language, &args.voice);
        let same_voice = previous_voices.iter().any(|(l, v)| l == language.code() && *v == synthesiser);
        voices.push_str(&format!("{}\t{synthesiser}\n", language.code()));
        for key in prompts::keys() {
            let parts = prompts::spoken(language, &key).ok_or(format!("no prompt {key}"))?;
            let text = parts.join("\n");
            match previous.get(language.code(), &key).filter(|p| same_voice && p.text == text) {
                Some(p) => slots.push(Ok(p.clone())),
                None => slots.push(Err((language, key, parts))),
            }
        }
    }
    let kept = slots.iter().filter(|s| s.is_ok()).count();
    let todo: Vec<usize> = (0..slots.len()).filter(|i| slots[*i].is_err()).collect();
    let sentences: usize =
        slots.iter().map(|s| s.as_ref().err().map_or(0, |(_, _, parts)| parts.len())).sum();
    // The synthesisers are programs of their own: one worker a core, each with its own
    // files, taking the next prompt to make.
    let workers =
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(todo.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    // A worker that fails stops the others: the error is reported at once.
    let failed = std::sync::atomic::AtomicBool::new(false);
    let made: Vec<Result<Vec<(usize, Prompt)>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (slots, todo, next, failed, voice) = (&slots, &todo, &next, &failed, &args.voice);
                let dir = dir.join(w.to_string());
                scope.spawn(move || -> Result<Vec<(usize, Prompt)>, String> {
                    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                    let mut out = Vec::new();
                    use std::sync::atomic::Ordering::Relaxed;
                    while let Some(&i) = todo.get(next.fetch_add(1, Relaxed)) {
                        if failed.load(Relaxed) {
                            break;
                        }
                        let Some(Err((language, key, parts))) = slots.get(i) else { continue };
                        match make(*language, key, parts, voice, &dir) {
                            Ok(prompt) => out.push((i, prompt)),
                            Err(e) => {
                                failed.store(true, Relaxed);
                                return Err(format!("{}/{key}: {e}", language.code()));
                            }
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a synthesis worker panicked".into())))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&dir);
    for batch in made {
        for (i, prompt) in batch? {
            slots[i] = Ok(prompt);
        }
    }
    let made = todo.len();
    let out = slots
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|(l, k, _)| format!("{}/{k} was not made", l.code()))?;
    let pack = Pack::new(out).map_err(|e| e.to_string())?;
    let bytes = pack.to_bytes();
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    // Written beside it and renamed over it: a kiosk or demo that has the old pack open
    // keeps reading the old file, never a half-written or changed one.
    let mut partial = args.out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, &bytes).map_err(|e| format!("{}: {e}", partial.display()))?;
    std::fs::rename(&partial, &args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let stamp = voices_file(&args.out);
    std::fs::write(&stamp, voices).map_err(|e| format!("{}: {e}", stamp.display()))?;
    let seconds: u64 = pack.prompts().iter().map(Prompt::millis).sum::<u64>() / 1000;
    println!(
        "kiosk-prompts: {} prompts ({made} made from {sentences} sentences in {:.1} s, {kept} unchanged), {seconds} s of speech, {} bytes: {}",
        pack.prompts().len(),
        start.elapsed().as_secs_f64(),
        bytes.len(),
        args.out.display()
    );
    Ok(())
}
