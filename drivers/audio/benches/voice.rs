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
//!   the kiosk opens it (`PackFile::open`, streamed, only the index kept);
//! - a title made at run time (`Synthesiser::say`: the child process, resampling,
//!   trimming), p50/p99 over Japanese, English and Korean titles, beside the length of
//!   the result's prompt it is made while ("1冊を貸し出しました"): made before that ends,
//!   the title follows it without a gap. (Three rounds under `cargo bench`, one as a test.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiosk_audio::speech::{Reader, Speech, Synthesiser};
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
    for (i, p) in prompts.iter().enumerate() {
        let t = Instant::now();
        let clip = file.clip(&p.language, &p.key).expect("in the pack");
        decode.push(t.elapsed());
        player.play(Sound::Clip(clip));
        // The next is asked once this one's first samples went out, and 15 ms later, as a
        // patron's next tap would be: each cuts one still playing. (A fixed pause alone
        // lets a loaded machine's player find two waiting and play only the newer.)
        let asked = Instant::now();
        while player.latencies().len() <= i && asked.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
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

    titles(&pack);
}

/// Titles a Japanese library lends, and a few of other scripts.
const TITLES: &[(&str, Reader)] = &[
    ("吾輩は猫である", Reader::Japanese),
    ("ノルウェイの森", Reader::Japanese),
    ("ぐりとぐら", Reader::Japanese),
    ("はらぺこあおむし", Reader::Japanese),
    ("ハリー・ポッターと賢者の石", Reader::Japanese),
    ("銀河鉄道の夜", Reader::Japanese),
    ("窓ぎわのトットちゃん", Reader::Japanese),
    ("ポケットモンスター図鑑　第２版", Reader::Japanese),
    ("The Very Hungry Caterpillar", Reader::Espeak("en-us")),
    ("Harry Potter and the Philosopher's Stone", Reader::Espeak("en-us")),
    ("어린 왕자", Reader::Espeak("ko")),
];

fn titles(pack: &Pack) {
    let voice = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/voice/mei_normal.htsvoice");
    let mut synth = Synthesiser::new(voice);
    let rounds = if std::env::args().any(|a| a == "--bench") { 3 } else { 1 };
    let mut made = Vec::new();
    let mut speech = Vec::new();
    for _ in 0..rounds {
        for (title, reader) in TITLES {
            let t = Instant::now();
            let clip = synth.say(title, *reader).expect("a title said");
            made.push(t.elapsed());
            speech.push(clip.len());
        }
    }
    made.sort();
    let result = pack.get("ja", "borrowed-1").map_or(0, kiosk_audio::Prompt::millis);
    let seconds = speech.iter().sum::<usize>() as f64 / f64::from(kiosk_audio::RATE) / speech.len() as f64;
    println!(
        "voice: a title made at run time, {} titles: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({seconds:.1} s of speech on average); the result said before it (ja borrowed-1, with its tone) {} ms",
        made.len(),
        percentile(&made, 0.5).as_secs_f64() * 1000.0,
        percentile(&made, 0.99).as_secs_f64() * 1000.0,
        made.last().unwrap().as_secs_f64() * 1000.0,
        result + kiosk_audio::Tone::GoodScan.samples().len() as u64 * 1000 / u64::from(kiosk_audio::RATE),
    );
}
