//! `cargo xtask prompts`: makes the prompt pack (`target/prompts/kiosk-voice.pack`) from
//! the screens' catalogues with the `kiosk-prompts` tool: installs Open JTalk, its
//! dictionary, eSpeak NG and sox, and fetches the Japanese voice. Only prompts whose words
//! changed since the last pack are synthesised again.
//!
//! The voice is MMDAgent's "Mei" (`mei_normal.htsvoice`, CC BY 3.0), which Debian 12 does
//! not package: it is taken from the source package of pyopenjtalk 0.4.1 on PyPI, pinned
//! by its SHA-256, with its licence file beside it.

use std::path::PathBuf;
use std::process::Command;

use crate::{cargo, ensure_packages, root, run};

/// Debian packages the prompts are made with.
pub const PACKAGES: &[(&str, &str)] = &[
    ("open-jtalk", "speaks the Japanese and easy-Japanese prompts (kiosk-prompts)"),
    ("open-jtalk-mecab-naist-jdic", "Open JTalk's dictionary: how each Japanese word is read"),
    ("espeak-ng", "speaks the English, Chinese, Korean, Vietnamese and Portuguese prompts"),
    ("sox", "resamples each sentence to 16 kHz, trims its silences, sets its level"),
];

const VOICE_SDIST: &str = "pyopenjtalk-0.4.1.tar.gz";
const VOICE_SHA256: &str = "d5ada46f7fc2b52c1c79c273eb9668ff6ad7ab276a8db9d8be119ef93440f0dc";

/// Downloads the pinned source package from PyPI's simple index, checks its hash, and
/// takes the voice and its licence out of it.
const FETCH: &str = r##"
import hashlib, io, re, sys, tarfile, urllib.request
name, sha, out = sys.argv[1], sys.argv[2], sys.argv[3]
page = urllib.request.urlopen("https://pypi.org/simple/pyopenjtalk/", timeout=60).read().decode()
links = [l for l in re.findall(r'href="([^"]+)"', page) if l.split("#")[0].endswith("/" + name)]
if not links:
    sys.exit(name + " is not on PyPI's index")
data = urllib.request.urlopen(links[0].split("#")[0], timeout=300).read()
if hashlib.sha256(data).hexdigest() != sha:
    sys.exit(name + ": SHA-256 differs from the pinned one")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    for member in tar.getmembers():
        base = member.name.rsplit("/", 1)[-1]
        if base in ("mei_normal.htsvoice", "LICENSE_mei_normal.htsvoice"):
            with open(out + "/" + base, "wb") as f:
                f.write(tar.extractfile(member).read())
"##;

/// The voice file, fetched if missing.
fn voice() -> Result<PathBuf, String> {
    let dir = root().join("target").join("voice");
    let voice = dir.join("mei_normal.htsvoice");
    if voice.exists() {
        return Ok(voice);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    println!("xtask: fetching the Japanese voice from {VOICE_SDIST} (PyPI)");
    run(Command::new("python3").args(["-c", FETCH, VOICE_SDIST, VOICE_SHA256]).arg(&dir))?;
    if voice.exists() { Ok(voice) } else { Err(format!("{VOICE_SDIST} has no mei_normal.htsvoice")) }
}

/// The pack the tests and the demo use.
pub fn pack() -> PathBuf {
    root().join("target").join("prompts").join("kiosk-voice.pack")
}

/// `cargo xtask prompts`.
pub fn make() -> Result<(), String> {
    ensure_packages(PACKAGES.iter())?;
    let voice = voice()?;
    let pack = pack();
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--locked",
        "--package",
        "kiosk-text",
        "--bin",
        "kiosk-prompts",
        "--",
        "--voice",
    ])
    .arg(&voice)
    .arg("--out")
    .arg(&pack)
    .arg("--previous")
    .arg(&pack);
    run(&mut cmd)
}
