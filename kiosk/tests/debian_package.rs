#![allow(clippy::unwrap_used, clippy::print_stdout)]
//! The Debian package for Raspberry Pi OS (`[package.metadata.deb]` in kiosk/Cargo.toml,
//! maintainer scripts in deploy/debian/), made with cargo-deb from the binaries this test
//! build already made: `--no-build --profile dev` (cargo-deb 3.8 warns that the dev
//! profile is unsupported but packages it; it strips the copies it packages, so the
//! result has the layout of a release package, with slower binaries). No release build:
//! CI stays fast. Then:
//!
//! - `lintian` reports no error and no warning (overrides, if any, are in
//!   deploy/debian/ with their reasons);
//! - `dpkg-deb -c`: the binaries, both units, the conffile, man pages, copyright and
//!   changelog are there, and nothing from deploy/example/ (public placeholder keys);
//! - the control data: the dependencies, the conffile, a postinst that creates the kiosk
//!   user and starts no unit, a postrm that deletes state only on purge;
//! - the unpacked units and conffile are the repository's own, and the conffile as
//!   shipped is refused by `kiosk check-config` (it names no real certificate yet), which
//!   is why the units are not enabled at install.
//!
//! cargo-deb, lintian and dpkg-dev are installed by `cargo xtask test`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every unit the package ships (all of `systemd/`), none enabled at install.
const UNITS: [&str; 4] =
    ["kiosk.service", "kiosk-health.service", "kiosk-update.service", "kiosk-usb-gadget.service"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (cargo xtask test installs cargo-deb, lintian and dpkg-dev)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The cargo that runs this test (cargo-deb is its subcommand).
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `target/debug/kiosk-update` next to the kiosk binary of this build. A workspace test
/// run has just built it; `cargo test -p kiosk` alone has not, so it is built then.
fn agent_binary(bin_dir: &Path) -> PathBuf {
    let agent = bin_dir.join("kiosk-update");
    if !agent.exists() {
        run(cargo().args(["build", "--locked", "-p", "kiosk-update"]));
    }
    assert!(agent.exists(), "{} was not built", agent.display());
    agent
}

/// Builds the .deb into a fresh directory and returns its path.
fn build_package(out_dir: &Path) -> PathBuf {
    let kiosk = Path::new(env!("CARGO_BIN_EXE_kiosk"));
    let bin_dir = kiosk.parent().unwrap();
    assert_eq!(bin_dir.file_name().unwrap(), "debug", "cargo-deb --profile dev reads target/debug");
    agent_binary(bin_dir);
    let version = run(cargo().args(["deb", "--version"]));
    println!("{}", text(&version).trim());
    let _ = std::fs::remove_dir_all(out_dir);
    std::fs::create_dir_all(out_dir).unwrap();
    let deb = out_dir.join("kiosk.deb");
    let mut cmd = cargo();
    cmd.args(["deb", "-p", "kiosk", "--no-build", "--profile", "dev", "--fast", "--output"]).arg(&deb);
    // The target dir cargo-deb reads is the one this binary was built in.
    cmd.env("CARGO_TARGET_DIR", bin_dir.parent().unwrap());
    let out = run(&mut cmd);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().filter(|l| l.contains("warning")) {
        println!("cargo-deb: {line}");
    }
    assert!(deb.exists(), "cargo deb made no {}", deb.display());
    deb
}

#[test]
fn the_debian_package_is_lintian_clean_and_holds_what_the_kiosk_needs() {
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian-package");
    let deb = build_package(&out_dir);
    println!("{}: {} bytes", deb.display(), std::fs::metadata(&deb).unwrap().len());

    // lintian: no error, no warning (information and pedantic tags are not counted).
    let lint = Command::new("lintian")
        .args(["--fail-on", "error,warning", "--display-info"])
        .arg(&deb)
        .output()
        .expect("lintian is installed by cargo xtask test");
    let report = String::from_utf8_lossy(&lint.stdout).into_owned() + &String::from_utf8_lossy(&lint.stderr);
    println!("lintian:\n{report}");
    let bad: Vec<&str> = report.lines().filter(|l| l.starts_with("E: ") || l.starts_with("W: ")).collect();
    assert!(bad.is_empty() && lint.status.success(), "lintian ({}):\n{}", lint.status, bad.join("\n"));

    // The file list.
    let listing = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)));
    let paths: Vec<&str> = listing.lines().filter_map(|l| l.split_whitespace().nth(5)).collect();
    for want in [
        "./usr/bin/kiosk",
        "./usr/bin/kiosk-update",
        "./usr/lib/systemd/system/kiosk.service",
        "./usr/lib/systemd/system/kiosk-health.service",
        "./usr/lib/systemd/system/kiosk-update.service",
        "./usr/lib/systemd/system/kiosk-usb-gadget.service",
        "./usr/lib/kiosk/kiosk-usb-gadget.sh",
        "./etc/kiosk/kiosk.toml",
        "./usr/share/man/man1/kiosk.1.gz",
        "./usr/share/man/man1/kiosk-update.1.gz",
        "./usr/share/doc/kiosk/copyright",
        "./usr/share/doc/kiosk/changelog.Debian.gz",
        "./usr/share/lintian/overrides/kiosk",
        "./usr/share/kiosk/kiosk-voice.pack",
        "./usr/share/kiosk/mei_normal.htsvoice",
    ] {
        assert!(paths.contains(&want), "{want} is not in the package:\n{listing}");
    }
    for path in &paths {
        assert!(
            !path.contains("example") && !path.ends_with(".key") && !path.ends_with(".pem"),
            "{path}: the package must not ship the placeholder keys of deploy/example/"
        );
    }
    let mode = |p: &str| listing.lines().find(|l| l.ends_with(&format!(" {p}"))).unwrap_or("").to_owned();
    for (path, perms) in [("./usr/bin/kiosk", "-rwxr-xr-x"), ("./etc/kiosk/kiosk.toml", "-rw-r--r--")] {
        // Owned by root in the archive; postinst gives the configuration to group kiosk,
        // mode 0640, with dpkg-statoverride.
        let line = mode(path);
        assert!(line.starts_with(&format!("{perms} 0/0 ")), "{line}");
    }

    // The control data.
    let field = |name: &str| text(&run(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name)));
    let depends = field("Depends");
    for dep in ["libc6", "libpcsclite1", "libasound2", "adduser", "pcscd", "fonts-ipaexfont-gothic"] {
        assert!(depends.contains(dep), "Depends lacks {dep}: {depends}");
    }
    let control = out_dir.join("control");
    run(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    let read = |f: &str| std::fs::read_to_string(control.join(f)).unwrap_or_default();
    assert_eq!(read("conffiles").trim(), "/etc/kiosk/kiosk.toml");
    let postinst = read("postinst");
    assert!(postinst.contains("adduser --system"), "postinst creates no kiosk user:\n{postinst}");
    let unit =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../systemd/kiosk.service"))
            .unwrap();
    let groups = unit.lines().find_map(|l| l.strip_prefix("SupplementaryGroups=")).unwrap_or_default();
    let listed =
        postinst.lines().find_map(|l| l.strip_prefix("KIOSK_GROUPS=")).unwrap_or_default().trim_matches('"');
    for group in groups.split_whitespace() {
        assert!(listed.split_whitespace().any(|g| g == group), "postinst forgets the {group} group");
    }
    assert!(!postinst.contains("#DEBHELPER#"), "the systemd snippets were not merged:\n{postinst}");
    // Neither unit is enabled or started at install (the example configuration cannot
    // run): an upgrade re-enables only what the operator had enabled, and restarts only a
    // running unit (try-restart).
    for unit in UNITS {
        assert!(postinst.contains(&format!("deb-systemd-helper debian-installed {unit}")), "{postinst}");
        assert!(postinst.contains(&format!("deb-systemd-helper update-state {unit}")), "{postinst}");
    }
    assert!(
        !postinst.contains("deb-systemd-invoke start")
            && !postinst.contains("systemctl start")
            && !postinst.contains("was-enabled defaults to true"),
        "postinst must not enable or start a unit:\n{postinst}"
    );
    let postrm = read("postrm");
    let purge_only = postrm.split("purge)").nth(1).unwrap_or("");
    assert!(purge_only.contains("rm -rf /var/lib/kiosk"), "{postrm}");
    assert_eq!(postrm.matches("rm -rf").count(), 1, "state is deleted on purge only:\n{postrm}");

    // The unpacked files are the repository's own.
    let tree = out_dir.join("root");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&tree));
    for unit in UNITS {
        assert_eq!(
            std::fs::read(tree.join("usr/lib/systemd/system").join(unit)).unwrap(),
            std::fs::read(root().join("systemd").join(unit)).unwrap(),
            "{unit} differs from systemd/{unit}"
        );
    }
    let conf = tree.join("etc/kiosk/kiosk.toml");
    assert_eq!(
        std::fs::read(&conf).unwrap(),
        std::fs::read(root().join("deploy/kiosk.example.toml")).unwrap()
    );
    // As shipped, the configuration names files that are not there: the kiosk refuses it
    // (exit 2) and says which, so nobody runs a kiosk on placeholder keys.
    let check = Command::new(tree.join("usr/bin/kiosk")).arg("check-config").arg(&conf).output().unwrap();
    let said = String::from_utf8_lossy(&check.stdout).into_owned() + &String::from_utf8_lossy(&check.stderr);
    assert_eq!(check.status.code(), Some(2), "check-config accepted the shipped example:\n{said}");
    assert!(said.contains("client_key"), "check-config does not name the missing client key:\n{said}");
}
