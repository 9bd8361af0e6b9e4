//! What the kiosk plays, captured through ALSA itself: `kiosk-sound` opens the `default`
//! device as the kiosk does, and an asoundrc routes it to ALSA's `file` plugin over the
//! `null` device (no sound card needed). `sox` (an independent reader) measures the WAV:
//! its format, length and level; the segments are then found in the samples: the tones
//! in order, each its length, none clipped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kiosk_audio::Speech;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("alsa-capture").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `kiosk-sound` with ALSA's default device written to `dir/captured.wav`.
fn captured(dir: &Path, args: &[&str]) -> (std::process::Output, PathBuf) {
    captured_with(dir, args, "")
}

/// [`captured`], with `input` on its standard input.
fn captured_with(dir: &Path, args: &[&str], input: &str) -> (std::process::Output, PathBuf) {
    let wav = dir.join("captured.wav");
    let asoundrc = dir.join("asoundrc");
    std::fs::write(
        &asoundrc,
        format!(
            "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  format \"wav\"\n}}\n",
            wav.display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk-sound"))
        .args(args)
        .env("ALSA_CONFIG_PATH", format!("/usr/share/alsa/alsa.conf:{}", asoundrc.display()))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    (child.wait_with_output().unwrap(), wav)
}

/// `sox FILE -n stat`'s figures by name.
fn sox_stat(wav: &Path) -> std::collections::HashMap<String, f64> {
    let out = Command::new("sox")
        .arg(wav)
        .args(["-n", "stat"])
        .output()
        .expect("sox (cargo xtask test installs it)");
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter_map(|(k, v)| Some((k.trim().to_owned(), v.trim().parse().ok()?)))
        .collect()
}

/// The samples of a 16-bit mono WAV (the `data` chunk).
fn samples(wav: &Path) -> Vec<i16> {
    let bytes = std::fs::read(wav).unwrap();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    bytes[at..].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// Sounding stretches (milliseconds from, to): apart when silent for 150 ms or more.
fn segments(s: &[i16]) -> Vec<(usize, usize)> {
    let ms = |i: usize| i * 1000 / 16_000;
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, v) in s.iter().enumerate() {
        if v.unsigned_abs() < 300 {
            continue;
        }
        match out.last_mut() {
            Some((_, end)) if ms(i) <= *end + 150 => *end = ms(i),
            _ => out.push((ms(i), ms(i))),
        }
    }
    out
}

#[test]
fn the_tones_reach_alsa_in_order_each_its_length_none_clipped() {
    let dir = scratch("tones");
    let (out, wav) = captured(&dir, &["--volume", "80", "tones"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stat = sox_stat(&wav);
    // 25 + 180 + 400 + 450 ms of tones and three 300 ms gaps.
    let length = stat["Length (seconds)"];
    assert!((1.94..=1.97).contains(&length), "{length} s");
    let peak = stat["Maximum amplitude"];
    assert!((0.3..0.95).contains(&peak), "audible, not clipped: {peak}");
    let found = segments(&samples(&wav));
    let lengths: Vec<usize> = found.iter().map(|(a, b)| b - a).collect();
    assert_eq!(found.len(), 4, "{found:?}");
    for (got, want) in lengths.iter().zip([25, 180, 400, 450]) {
        assert!(got.abs_diff(want) <= 15, "tone of {got} ms, expected {want}: {lengths:?}");
    }
}

#[test]
fn the_volume_scales_what_is_played() {
    let dir = scratch("quiet");
    let (out, wav) = captured(&dir, &["--volume", "20", "tones"]);
    assert!(out.status.success());
    let peak = sox_stat(&wav)["Maximum amplitude"];
    // 16 000 of 32 768 at full scale, a fifth of it here.
    assert!((0.08..0.11).contains(&peak), "{peak}");
}

#[test]
fn a_device_that_is_not_there_is_named_with_what_to_do() {
    let dir = scratch("missing");
    let (out, _) = captured(&dir, &["--device", "hw:CARD=NoSuchCard", "tones"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hw:CARD=NoSuchCard") && err.contains("aplay -L"), "{err}");
    let (out, _) = captured(&dir, &["prompts", "/nonexistent.pack", "ja", "idle"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("/nonexistent.pack"));
    let (out, _) = captured(&dir, &["--volume", "101", "tones"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 to 100"));
}

#[test]
fn it_s_check_says_a_title_as_the_kiosk_does_and_names_a_missing_voice() {
    let voice = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/voice/mei_normal.htsvoice");
    let dir = scratch("title");
    // The title on standard input, as the kiosk gives it to the synthesiser.
    let (out, wav) =
        captured_with(&dir, &["--volume", "100", "title", voice.to_str().unwrap(), "ja"], "吾輩は猫である");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = samples(&wav);
    let said = kiosk_audio::Synthesiser::new(voice.clone())
        .say("吾輩は猫である", kiosk_audio::Reader::Japanese)
        .unwrap();
    let start = got.iter().position(|&s| s != 0).unwrap();
    assert_eq!(&got[start..start + said.len()], &said[..], "the kiosk's own clip, whole");
    let (out, _) = captured_with(&dir, &["title", "/nowhere.htsvoice", "ja"], "x");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nowhere.htsvoice is not there"));
}
