//! `cargo xtask`: the two commands of the README, in Rust so they need nothing but cargo
//! (the matklad xtask pattern).
//!
//! - `cargo xtask demo`: build and run the kiosk's demo on simulated hardware (`kiosk
//!   demo`: a window with the `desktop` feature when there is a display, the scripted
//!   journeys as text otherwise; extra arguments go to `kiosk demo`).
//! - `cargo xtask test`: install the Debian packages the tests need (if missing), then run
//!   every test in the workspace. Daemons a test needs (pcscd with a virtual reader, …)
//!   are started by the tests themselves, privately and on loopback, so a test run never
//!   depends on the machine's services.
//! - `cargo xtask deps`: only install the Debian and PyPI packages (CI, before clippy and
//!   the board build).
//! - `cargo xtask fuzz [--seconds N] [TARGET…]`: the parsers' fuzz targets (`fuzz.rs`);
//!   `cargo xtask test` runs each briefly.
//! - `cargo xtask licences`: every dependency's licence is compatible with
//!   GPL-3.0-or-later (`licences.rs`).
//! - `cargo xtask prompts`: the voice's prompt pack from the catalogues (`prompts.rs`);
//!   `cargo xtask test` makes it first.
#![allow(clippy::print_stdout)]

mod fuzz;
mod licences;
mod prompts;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Debian packages the test suite needs, with why. Add to this list, never install by hand.
const TEST_PACKAGES: &[(&str, &str)] = &[
    ("python3", "runs the SIP2 peers from PyPI (kiosk-sim tests/sip2_peers.rs)"),
    ("python3-venv", "the virtualenv in target/py-venv that holds the PyPI test peers"),
    ("pcscd", "the real PC/SC daemon the card driver tests run through (kiosk-sim tests/card_*.rs)"),
    ("vsmartcard-vpcd", "pcscd reader driver that connects our virtual JPKI card (kiosk-sim card::vpcd)"),
    ("libpcsclite-dev", "libpcsclite.so and pkg-config file the pcsc crate links against"),
    ("pkg-config", "lets pcsc-sys find libpcsclite"),
    ("opensc", "peer test: OpenSC's JPKI driver reads and signs with our virtual card"),
    ("openssl", "peer test: verifies the signature OpenSC made with our virtual card"),
    ("openssl", "peer tests: `openssl ocsp` responder, `openssl ca -gencrl` CRLs (platform_ocsp_peer.rs)"),
    ("zbar-tools", "zbarimg decodes barcodes and QR codes on rendered labels (printer_labels.rs)"),
    ("libasound2-dev", "libasound.so and pkg-config file the alsa crate links against (drivers/audio)"),
    (
        "sox",
        "reads back what the kiosk played through ALSA's file plugin: length, level, clipping (drivers/audio)",
    ),
    ("fonts-ipaexfont-gothic", "Japanese font the virtual printer draws receipt text with"),
    ("libfontconfig-dev", "Slint's software renderer links fontconfig (kiosk-ui)"),
    ("iproute2", "card tests bring up loopback in their private network namespace (ip link)"),
    (
        "systemd",
        "systemd-analyze verify and security check the unit files (deploy/agent/tests/systemd_units.rs)",
    ),
    (
        "postgresql",
        "the shared link store's real engine, started per test in a private directory (kiosk-sim links)",
    ),
    ("swtpm", "a software TPM 2.0: the journal key sealed to the board (sim/tests/keystore_tpm.rs, tests/)"),
    ("libtss2-dev", "the TPM software stack tss-esapi links (drivers/keystore)"),
    ("gdb", "journey soak (tests/benches/journey.rs): gcore dumps the kiosk to search it for personal data"),
    (
        "prometheus",
        "a real Prometheus scrapes an end-to-end kiosk (tests/); promtool checks the alert rules and the dashboard (kiosk/tests/monitoring.rs)",
    ),
    ("faketime", "end-to-end test: runs the kiosk a day ahead to check a Method D label expires (tests/)"),
    ("lintian", "checks the Debian package cargo-deb makes (kiosk/tests/debian_package.rs)"),
    ("dpkg-dev", "dpkg-shlibdeps, which cargo-deb's $auto depends uses (kiosk/tests/debian_package.rs)"),
    (
        "rauc",
        "the real RAUC 1.8 the update tests install bundles with (deploy/agent/tests/rauc.rs, fleet.rs)",
    ),
    ("rauc-service", "`rauc service`, the D-Bus daemon the agent talks to (Debian's rauc is service-only)"),
    ("dbus-daemon", "the private bus each update test starts for its own rauc service"),
    ("squashfs-tools", "mksquashfs/unsquashfs: rauc bundle builds and reads bundle payloads"),
    ("e2fsprogs", "mkfs.ext4 -d builds the test rootfs images (deploy/rauc/make-bundle.sh input)"),
    ("libubootenv-tool", "fw_printenv/fw_setenv: RAUC's uboot backend on a file-backed U-Boot env"),
    ("u-boot-tools", "mkenvimage creates the file-backed U-Boot environment the update tests boot from"),
];

/// cargo-deb, pinned: kiosk/tests/debian_package.rs builds the Debian package with it.
const CARGO_DEB_VERSION: &str = "3.8.0";

/// PyPI packages the test suite needs, with why; pip-installed into `target/py-venv`
/// (tests find it there, or at `KIOSK_PY_VENV`). Pinned: a peer is a fixed reference.
const PY_TEST_PACKAGES: &[(&str, &str)] = &[
    ("pysip2==0.1.0", "independent SIP2 server our client must pass the checkout scenario against"),
    ("sip2==1.1", "independent SIP2 client that drives our library-system simulator"),
    ("python-escpos==3.1", "independent ESC/POS generator: reference bytes (printer_reference.rs)"),
    (
        "goosebit==0.2.12",
        "hawkBit-DDI server the update agent's fleet tests run against (deploy/agent/tests/fleet.rs)",
    ),
    ("oelint-adv==9.11.2", "lints the Yocto layer's recipes (deploy/agent/tests/yocto_layer.rs)"),
    ("oelint-parser==8.13.2", "oelint-adv's bitbake parser, pinned so the findings stay the same"),
    ("oelint-data==1.5.26", "oelint-adv's per-release variable lists (wrynose, meta-rauc, meta-oe)"),
    (
        "rfidgeek==2.0.1",
        "the TRF7970A reader's own Python client drives our virtual RFID reader (sim/tests/rfid_reader.rs)",
    ),
    ("pyserial==3.5", "rfidgeek's serial line, pinned"),
    ("kas==5.5", "kas's own JSON schema validates yocto-layer/kas/*.yml offline (yocto_layer.rs)"),
    ("jsonschema==4.26.0", "validates the kas files against that schema (yocto_layer.rs)"),
];

/// Debian packages the fuzz targets need beyond the demo's (`cargo xtask fuzz`, and the
/// short runs of `cargo xtask test`).
const FUZZ_PACKAGES: &[(&str, &str)] =
    &[("g++", "libfuzzer-sys compiles libFuzzer (C++) for the parsers' fuzz targets (fuzz/)")];

/// Debian packages the demo needs at run time.
const DEMO_PACKAGES: &[(&str, &str)] = &[
    ("fonts-ipaexfont-gothic", "Japanese font the virtual printer draws receipts and labels with"),
    ("pkg-config", "finds the C libraries below at build time"),
    ("libfontconfig-dev", "Slint's software renderer links fontconfig (kiosk-ui)"),
    ("libpcsclite-dev", "the card driver links pcsc-lite"),
    ("libtss2-dev", "the key store links the TPM software stack (tss-esapi)"),
    ("libasound2-dev", "the voice and tones play through ALSA (the alsa crate links libasound)"),
];

/// Debian packages the board build links (`cargo build -p kiosk --no-default-features
/// --features board`: Slint's linuxkms back-end with libinput touch and the software
/// renderer; no GPU, so no libgbm/libdrm). CI checks that build.
const BOARD_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "libudev-sys's build script finds libudev with it"),
    ("libudev-dev", "libudev-sys (udev crate): libinput's device discovery, found by pkg-config"),
    ("libinput-dev", "input-sys links libinput: touch and keys on the board"),
    ("libxkbcommon-dev", "the xkbcommon crate links libxkbcommon: keymaps for libinput's key events"),
    ("libtss2-dev", "tss-esapi links the TPM software stack: the journal key sealed to the board's TPM"),
    ("libasound2-dev", "alsa-sys links libasound: the voice and tones on the headphone jack, HDMI or USB"),
];

/// The targets the kiosk is built and shipped for: the licence check reads the dependency
/// tree of these (a crate only Windows, macOS or Android builds use is never distributed).
const SHIPPED_TARGETS: &[&str] = &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("deps") => ensure_packages(
            TEST_PACKAGES
                .iter()
                .chain(DEMO_PACKAGES)
                .chain(BOARD_PACKAGES)
                .chain(FUZZ_PACKAGES)
                .chain(prompts::PACKAGES),
        )
        .and_then(|()| ensure_py_packages(PY_TEST_PACKAGES)),
        Some("licences") => check_licences(),
        Some("prompts") => prompts::make(),
        Some("fuzz") => {
            ensure_packages(DEMO_PACKAGES.iter().chain(FUZZ_PACKAGES)).and_then(|()| fuzz::fuzz(&args[1..]))
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  demo      run the kiosk's demo on simulated hardware\n  test      install what the tests need, then run every test\n  deps      only install the Debian and PyPI packages (tests, demo, board build)\n  fuzz      run the parsers' fuzz targets ([--seconds N] [TARGET...])\n  licences  check every dependency's licence against GPL-3.0-or-later\n  prompts   make the voice's prompt pack from the catalogues (target/prompts)"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn demo(extra: &[String]) -> Result<(), String> {
    ensure_packages(DEMO_PACKAGES.iter())?;
    // The voice: the demo speaks on the machine's default sound device (its prompts
    // beside the build, target/prompts, where the demo looks for them).
    prompts::make()?;
    let mut cmd = cargo();
    // The desktop window (winit) is only built for the demo; CI and the board do not need it.
    cmd.args(["run", "--package", "kiosk", "--features", "desktop", "--", "demo"]).args(extra);
    run(&mut cmd)
}

fn test(extra: &[String]) -> Result<(), String> {
    let timed = Timed::start();
    ensure_packages(TEST_PACKAGES.iter().chain(DEMO_PACKAGES).chain(FUZZ_PACKAGES))?;
    ensure_py_packages(PY_TEST_PACKAGES)?;
    ensure_cargo_tool("cargo-deb", CARGO_DEB_VERSION, "kiosk/tests/debian_package.rs")?;
    let timed = timed.done("the test peers (Debian, PyPI, cargo-deb)");
    // The voice's prompts, made from the catalogues as they are now (kiosk-ui's
    // tests/prompts.rs checks the pack says the catalogues' words).
    prompts::make()?;
    let timed = timed.done("the prompts");
    let mut cmd = cargo();
    // --no-fail-fast: every test binary runs, and the run ends with all the failures.
    // Every target that has tests (libraries, integration tests, benchmarks run once as
    // tests, examples), not --all-targets: its --lib and --bins would also build the
    // targets marked `test = false` (kiosk-ui's library, the binaries) for no test.
    cmd.args(["test", "--workspace", "--tests", "--benches", "--examples", "--locked", "--no-fail-fast"])
        .args(extra);
    let all_targets = run(&mut cmd);
    let timed = timed.done("the tests (their build and run)");
    // Doc tests are not part of the run above; they run even when a test there failed.
    let mut doc = cargo();
    doc.args(["test", "--workspace", "--doc", "--locked", "--no-fail-fast"]);
    let doc = run(&mut doc);
    let timed = timed.done("the doc tests");
    // Every parser's fuzz target, briefly: a regression (a crash on a seed or soon after)
    // shows here; campaigns run longer with `cargo xtask fuzz --seconds N`.
    let fuzz = fuzz::run_targets(fuzz::CI_SECONDS, &[]);
    timed.done("the fuzz targets (their build and run)");
    all_targets.and(doc).and(fuzz)
}

/// Says how long each part of `cargo xtask test` took (the CI figures in
/// docs/performance.md).
struct Timed(std::time::Instant);

impl Timed {
    fn start() -> Timed {
        Timed(std::time::Instant::now())
    }

    fn done(self, what: &str) -> Timed {
        println!("xtask: {what} took {} s", self.0.elapsed().as_secs());
        Timed::start()
    }
}

/// `cargo xtask licences`: reads the locked dependency tree of the shipped targets and
/// checks every package's licence (`licences.rs`); lists every failing package.
fn check_licences() -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--format-version", "1", "--locked"]);
    for target in SHIPPED_TARGETS {
        cmd.args(["--filter-platform", target]);
    }
    let out = cmd.output().map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}\n{}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata's JSON: {e}"))?;
    match licences::check_metadata(&metadata) {
        Ok(n) => {
            println!(
                "xtask: licences: all {n} packages ({}) compatible with {}",
                SHIPPED_TARGETS.join(", "),
                licences::OURS
            );
            Ok(())
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("xtask: licence: {p}");
            }
            Err(format!(
                "{} package(s) without a licence compatible with {} (allowed: xtask/src/licences.rs)",
                problems.len(),
                licences::OURS
            ))
        }
    }
}

/// Creates `target/py-venv` if needed and pip-installs the pinned packages missing from it.
fn ensure_py_packages(wanted: &[(&str, &str)]) -> Result<(), String> {
    let venv = root().join("target").join("py-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        println!("xtask: creating {}", venv.display());
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(spec, _)| {
            let (name, version) = spec.split_once("==").unwrap_or((spec, ""));
            let shown = Command::new(&python).args(["-m", "pip", "show", name]).output();
            !shown.is_ok_and(|o| {
                o.status.success()
                    && String::from_utf8_lossy(&o.stdout).contains(&format!("Version: {version}"))
            })
        })
        .map(|(spec, why)| {
            println!("xtask: pip installing {spec} ({why})");
            *spec
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(&missing))
}

/// Installs the cargo subcommand `tool` (`cargo-deb`, `cargo-fuzz`) at the pinned
/// `version` unless `cargo SUB --version` already shows it (`cargo install` builds in a
/// temporary directory of its own, not in target/); `why` says what needs it.
fn ensure_cargo_tool(tool: &str, version: &str, why: &str) -> Result<(), String> {
    let sub = tool.strip_prefix("cargo-").unwrap_or(tool);
    let shown = cargo().args([sub, "--version"]).output();
    let have = shown.is_ok_and(|o| {
        o.status.success() && String::from_utf8_lossy(&o.stdout).split_whitespace().any(|w| w == version)
    });
    if have {
        return Ok(());
    }
    println!("xtask: installing {tool} {version} ({why})");
    run(cargo().args(["install", tool, "--locked", "--version", version]))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("could not start {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed: {status}")) }
}

/// Installs the Debian packages that are missing, with apt-get (through sudo when not root).
fn ensure_packages<'a>(wanted: impl Iterator<Item = &'a (&'a str, &'a str)>) -> Result<(), String> {
    let missing: Vec<&str> = wanted
        .filter(|(name, _)| !installed(name))
        .map(|(name, why)| {
            println!("xtask: installing {name} ({why})");
            *name
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let apt = |args: &[&str]| {
        let mut cmd = if root { Command::new("apt-get") } else { sudo_apt() };
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd
    };
    run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)
}

fn sudo_apt() -> Command {
    let mut cmd = Command::new("sudo");
    cmd.arg("apt-get");
    cmd
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .map(|o| o.status.success() && o.stdout.ends_with(b"install ok installed"))
        .unwrap_or(false)
}
