//! The voice's figures (docs/performance.md, "Voice"): `cargo bench -p kiosk-audio --bench
//! voice` (after `cargo xtask prompts`; `KIOSK_VOICE_PACK` names another pack).
//!
//! - a prompt asked → its first sample handed to the device: the prompt's ADPCM read from
//!   the pack file and decoded (in the caller, as the kiosk does: `PackFile::clip`) and
//!   the player thread's hand-over, p50/p99 over every prompt of the pack played in turn,
//!   each cutting the one before;
//! - the pack: prompts, seconds of speech, bytes in all and for the two languages a
//!   library offers by default;
//! - reading and checking the whole pack (every clip decoded once): in memory, and as
//!   the kiosk opens it (`PackFile::open`, streamed, only the index kept).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiosk_audio::{Pack, PackFile, Player, SimulatedOutput, Sound};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    let path = std::env::var_os("KIOSK_VOICE_PACK").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/prompts/kiosk-voice.pack"),
        PathBuf::from,
    );
    let bytes =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run `cargo xtask prompts`", path.display()));
    let start = Instant::now();
    let pack = Pack::parse(&bytes).expect("a pack");
    let parse = start.elapsed();
    let prompts = pack.prompts();
    let speech: u64 = prompts.iter().map(kiosk_audio::Prompt::millis).sum();
    let two: usize =
        prompts.iter().filter(|p| p.language == "ja" || p.language == "en").map(|p| p.adpcm.len()).sum();
    println!(
        "voice: pack {} prompts, {:.0} s of speech, {} bytes ({:.1} MiB); ja+en {} bytes ({:.1} MiB)",
        prompts.len(),
        speech as f64 / 1000.0,
        bytes.len(),
        bytes.len() as f64 / 1_048_576.0,
        two,
        two as f64 / 1_048_576.0
    );
    println!("voice: pack read and every clip checked in {:.1} ms", parse.as_secs_f64() * 1000.0);
    let start = Instant::now();
    let file = PackFile::open(&path, &|_| true).expect("a pack");
    println!(
        "voice: pack file opened and checked as the kiosk does in {:.1} ms ({} prompts indexed)",
        start.elapsed().as_secs_f64() * 1000.0,
        file.len()
    );

    let out = SimulatedOutput::new(true);
    let player = Player::start(Box::new(out), 100);
    let mut decode = Vec::new();
    for p in prompts {
        let t = Instant::now();
        let clip = file.clip(&p.language, &p.key).expect("in the pack");
        decode.push(t.elapsed());
        player.play(Sound::Clip(clip));
        // Long enough for the first samples to go out, as a patron's next tap would be.
        std::thread::sleep(Duration::from_millis(15));
    }
    std::thread::sleep(Duration::from_millis(50));
    let handed = player.latencies();
    assert_eq!(handed.len(), prompts.len(), "every prompt reached the device");
    let mut total: Vec<Duration> = decode.iter().zip(&handed).map(|(d, h)| *d + *h).collect();
    total.sort();
    let mut decode_sorted = decode.clone();
    decode_sorted.sort();
    println!(
        "voice: prompt asked -> first sample to the device, {} prompts: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (read and decode p50 {:.3} ms, p99 {:.3} ms)",
        total.len(),
        percentile(&total, 0.5).as_secs_f64() * 1000.0,
        percentile(&total, 0.99).as_secs_f64() * 1000.0,
        total.last().unwrap().as_secs_f64() * 1000.0,
        percentile(&decode_sorted, 0.5).as_secs_f64() * 1000.0,
        percentile(&decode_sorted, 0.99).as_secs_f64() * 1000.0,
    );
}
