#![allow(clippy::unwrap_used)]
//! The Yocto layer (`yocto-layer/`) without bitbake, which cannot run on a CI machine: the
//! recipes lint clean under oelint-adv, the kas file validates against kas's own JSON
//! schema, the crate list of the kiosk recipe is in sync with `Cargo.lock`, and the files
//! written by different hands agree (the layer and the kas branch, the bundle's and RAUC's
//! `compatible`, partitions, versions, licence checksums, the units in `systemd/`).
//!
//! oelint-adv, kas and jsonschema come from PyPI, pinned in `xtask/src/main.rs`, and are
//! installed into `target/py-venv` by `cargo xtask test` (or point `KIOSK_PY_VENV` at a
//! venv). Each tool also gets a known-bad input, so a check that silently passes
//! everything fails here.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The oelint-adv the layer is linted with (findings differ between releases).
const OELINT_ADV_VERSION: &str = "9.11.2";
/// The Yocto release the layer is for (`LAYERSERIES_COMPAT`, the kas branch, oelint's
/// `--release`).
const RELEASE: &str = "wrynose";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn layer_root() -> PathBuf {
    root().join("yocto-layer")
}

fn meta_kiosk() -> PathBuf {
    layer_root().join("meta-kiosk")
}

fn venv_bin(name: &str) -> PathBuf {
    let venv =
        std::env::var_os("KIOSK_PY_VENV").map(PathBuf::from).unwrap_or_else(|| root().join("target/py-venv"));
    let bin = venv.join("bin").join(name);
    assert!(
        bin.exists(),
        "{} is missing: run `cargo xtask test`, which installs oelint-adv, kas and jsonschema \
         from PyPI into target/py-venv",
        bin.display()
    );
    bin
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `cmd` to completion, killing it after `limit` (the tools take about a second).
fn run(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        stdout.read_to_end(&mut b).unwrap();
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        stderr.read_to_end(&mut b).unwrap();
        b
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} took longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every file under `dir` whose name ends with one of `exts`, sorted.
fn files_under(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if exts.iter().any(|e| path.to_string_lossy().ends_with(e)) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn recipe_files() -> Vec<PathBuf> {
    files_under(&meta_kiosk(), &[".bb", ".bbappend", ".inc", ".bbclass"])
}

/// The value of the first `NAME = "..."` (or `:=`, `?=`, `+=`) in bitbake text, with
/// backslash-continued lines joined; `None` if it is not assigned so.
fn assigned(text: &str, name: &str) -> Option<String> {
    let joined = text.replace("\\\n", " ");
    joined.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix(name)?;
        let rest = rest.trim_start();
        let rest = [":=", "?=", "+=", "="].iter().find_map(|op| rest.strip_prefix(op))?;
        let value = rest.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        Some(value.split_whitespace().collect::<Vec<_>>().join(" "))
    })
}

/// `key=value` of a GLib key file (RAUC's system.conf), first occurrence.
fn key_file_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix(&format!("{key}=")).map(|v| v.trim().to_owned()))
}

/// oelint-adv on `files` with the layer's settings (`yocto-layer/.oelint.cfg`).
fn oelint(files: &[PathBuf], cwd: &Path) -> Output {
    run(
        Command::new(venv_bin("oelint-adv"))
            .arg("--quiet")
            .arg("--relpaths")
            .arg("--jobs=1")
            .args(files)
            .current_dir(cwd)
            .env("OELINT_CONFIG", layer_root().join(".oelint.cfg")),
        Duration::from_secs(50),
    )
}

#[test]
fn oelint_adv_finds_nothing_in_the_layer() {
    let version = run(Command::new(venv_bin("oelint-adv")).arg("--version"), Duration::from_secs(20));
    assert!(
        text(&version).contains(OELINT_ADV_VERSION),
        "oelint-adv {OELINT_ADV_VERSION} expected (xtask pins it), got: {}",
        text(&version)
    );
    let cfg = read(layer_root().join(".oelint.cfg"));
    assert!(cfg.contains(&format!("release = {RELEASE}")), ".oelint.cfg must lint for {RELEASE}");

    let files = recipe_files();
    assert!(files.len() >= 8, "expected the layer's recipes, found {files:?}");
    let out = oelint(&files, &layer_root());
    let findings = text(&out);
    println!("oelint-adv {OELINT_ADV_VERSION}: {} files", files.len());
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "oelint-adv findings (fix them, or suppress one with a written reason):\n{findings}"
    );
}

#[test]
fn oelint_adv_with_the_layer_settings_still_reports_a_bad_recipe() {
    // The control: the settings must not hide real problems (a wrong release, a blanket
    // suppression): a git URL without a branch, AUTOREV, a hard-coded /etc and a missing
    // licence must all be found.
    let dir = tempfile::tempdir().unwrap();
    let recipe_dir = dir.path().join("meta-bad/recipes-bad/bad");
    std::fs::create_dir_all(&recipe_dir).unwrap();
    let recipe = recipe_dir.join("bad_1.0.bb");
    std::fs::write(
        &recipe,
        "SUMMARY = \"bad\"\nSRC_URI = \"git://example.invalid/bad.git;protocol=https\"\n\
         SRCREV = \"${AUTOREV}\"\nSYSTEMD_SERVICE_${PN} = \"bad.service\"\n\
         do_install() {\n    install -d ${D}/etc/bad\n}\n",
    )
    .unwrap();
    let out = oelint(&[recipe], dir.path());
    let findings = text(&out);
    assert!(!out.status.success(), "oelint-adv passed a bad recipe:\n{findings}");
    for rule in [
        "oelint.var.mandatoryvar.LICENSE",
        "oelint.vars.srcurioptions",
        "oelint.vars.autorev",
        "oelint.vars.pathhardcode.sysconfdir",
    ] {
        assert!(findings.contains(rule), "{rule} not reported:\n{findings}");
    }
}

fn kas_files() -> Vec<PathBuf> {
    let files = files_under(&layer_root().join("kas"), &[".yml", ".yaml"]);
    assert!(!files.is_empty(), "no kas file in yocto-layer/kas");
    files
}

/// Validates `files` with `yocto-layer/scripts/check-kas.py` (kas's own JSON schema) and
/// returns each file's content as JSON.
fn check_kas(files: &[PathBuf]) -> (Output, serde_json::Value) {
    let out = run(
        Command::new(venv_bin("python"))
            .arg(layer_root().join("scripts/check-kas.py"))
            .arg("--dump")
            .args(files),
        Duration::from_secs(30),
    );
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, json)
}

#[test]
fn the_kas_files_validate_against_kas_own_schema() {
    let files = kas_files();
    let (out, _) = check_kas(&files);
    assert!(out.status.success(), "kas schema validation failed:\n{}", text(&out));
    println!("{}", text(&out).trim());

    // The control: a malformed copy (a URL that is a number, kas's own example of a schema
    // error) must be refused.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yml");
    let original = read(layer_root().join("kas/kiosk-rpi4.yml"));
    assert!(original.contains("url: https://"), "the control edits a url: line");
    std::fs::write(&bad, original.replacen("url: https://", "url: 5 #", 1)).unwrap();
    let (out, _) = check_kas(&[bad]);
    assert!(!out.status.success(), "a kas file with `url: 5` validated:\n{}", text(&out));
}

#[test]
fn the_kas_file_pins_the_layer_release_and_builds_what_the_layer_has() {
    let kas_file = layer_root().join("kas/kiosk-rpi4.yml");
    let (out, json) = check_kas(std::slice::from_ref(&kas_file));
    assert!(out.status.success(), "{}", text(&out));
    let kas = &json[kas_file.to_string_lossy().as_ref()];

    let layer_conf = read(meta_kiosk().join("conf/layer.conf"));
    let compat = assigned(&layer_conf, "LAYERSERIES_COMPAT_kiosk").expect("LAYERSERIES_COMPAT_kiosk");
    assert_eq!(compat, RELEASE, "layer.conf is for {compat}");
    assert_eq!(kas["defaults"]["repos"]["branch"], RELEASE, "the kas file's default branch");

    let repos = kas["repos"].as_object().expect("repos");
    for (name, repo) in repos {
        if repo.get("url").is_none() {
            continue;
        }
        let branch = repo.get("branch").and_then(|b| b.as_str()).unwrap_or(RELEASE);
        // bitbake's branches are numbered; wrynose needs bitbake 2.18 (BB_MIN_VERSION).
        let want = if name == "bitbake" { "2.18" } else { RELEASE };
        assert_eq!(branch, want, "repo {name} follows branch {branch}");
        assert!(repo.get("tag").is_none(), "repo {name}: pin commits in the lock file, not tags");
    }
    // Every collection layer.conf depends on comes from a repository of the kas file.
    let provided = [
        ("core", "openembedded-core"),
        ("raspberrypi", "meta-raspberrypi"),
        ("rauc", "meta-rauc"),
        ("openembedded-layer", "meta-openembedded"),
        ("tpm-layer", "meta-security"),
    ];
    let depends = assigned(&layer_conf, "LAYERDEPENDS_kiosk").expect("LAYERDEPENDS_kiosk");
    for dep in depends.split_whitespace() {
        let repo = provided.iter().find(|(c, _)| *c == dep).map(|(_, r)| *r);
        let repo =
            repo.unwrap_or_else(|| panic!("layer.conf depends on {dep}: say which repo provides it here"));
        assert!(repos.contains_key(repo), "layer.conf depends on {dep}, but the kas file has no {repo}");
    }
    assert!(repos["meta-openembedded"]["layers"].get("meta-oe").is_some(), "pcsc-lite and ccid need meta-oe");
    // Our own layer, from this repository.
    let ours = &repos["kiosk"];
    assert!(ours.get("url").is_none(), "the kiosk repo is the one the kas file is in");
    let layers = ours["layers"].as_object().expect("kiosk layers");
    for path in layers.keys() {
        assert!(
            root().join(path).join("conf/layer.conf").exists(),
            "kas layer {path} has no conf/layer.conf"
        );
    }

    // What the kas file builds exists in the layer.
    assert_eq!(kas["machine"], "raspberrypi4-64");
    let distro = kas["distro"].as_str().expect("distro");
    assert!(
        meta_kiosk().join(format!("conf/distro/{distro}.conf")).exists(),
        "distro {distro} is not in the layer"
    );
    for target in kas["target"].as_array().expect("target list") {
        let target = target.as_str().unwrap();
        let recipe = recipe_files().into_iter().find(|f| {
            f.file_stem().is_some_and(|s| {
                s.to_string_lossy() == target || s.to_string_lossy().starts_with(&format!("{target}_"))
            })
        });
        assert!(recipe.is_some(), "kas target {target} has no recipe in meta-kiosk");
    }
    // Nothing in local.conf opens the image up (a technician build does that in a copy).
    let local_conf: String = kas["local_conf_header"]
        .as_object()
        .expect("local_conf_header")
        .values()
        .flat_map(|v| v.as_str().unwrap_or_default().lines())
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for open in
        ["debug-tweaks", "allow-empty-password", "empty-root-password", "ssh-server", "allow-root-login"]
    {
        assert!(!local_conf.contains(open), "the kas file's local.conf enables {open}");
    }
    for var in ["KIOSK_SRCREV", "KIOSK_KEYS_DIR", "KIOSK_PROMPTS"] {
        assert!(kas["env"].get(var).is_some(), "the kas file must pass {var} through to bitbake");
    }

    // The commits, when locked (kas lock --update): every external repository, full ids.
    let lock = layer_root().join("kas/kiosk-rpi4.lock.yml");
    if lock.exists() {
        let (out, json) = check_kas(std::slice::from_ref(&lock));
        assert!(out.status.success(), "{}", text(&out));
        let locked = &json[lock.to_string_lossy().as_ref()]["overrides"]["repos"];
        for name in repos.iter().filter(|(_, r)| r.get("url").is_some()).map(|(n, _)| n) {
            let commit = locked[name]["commit"].as_str().unwrap_or_default();
            assert!(
                commit.len() == 40
                    && commit.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{} does not lock {name} to a full commit id: {commit:?}",
                lock.display()
            );
        }
    }
}

/// The crates.io packages of `Cargo.lock`: (name, version, checksum).
fn locked_crates() -> Vec<(String, String, String)> {
    let lock: toml::Table = toml::from_str(&read(root().join("Cargo.lock"))).unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("source").and_then(|s| s.as_str()).is_some_and(|s| s.contains("crates.io")))
        .map(|p| {
            let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            (s("name"), s("version"), s("checksum"))
        })
        .collect()
}

#[test]
fn the_crates_inc_is_in_sync_with_cargo_lock() {
    // 1. Our own reading of Cargo.lock: every crates.io package has its crate:// entry and
    //    its checksum, and nothing else is listed.
    let inc_path = meta_kiosk().join("recipes-kiosk/kiosk/kiosk-crates.inc");
    let inc = read(&inc_path);
    let crates = locked_crates();
    assert!(crates.len() > 100, "expected the workspace's crates, got {}", crates.len());
    let stale = "run yocto-layer/scripts/update-crates.py after changing Cargo.lock";
    let lines: BTreeSet<&str> = inc.lines().map(str::trim).collect();
    for (name, version, checksum) in &crates {
        let uri = format!("crate://crates.io/{name}/{version} \\");
        assert!(lines.contains(uri.as_str()), "{} lacks {uri}: {stale}", inc_path.display());
        let sum = format!("SRC_URI[{name}-{version}.sha256sum] = \"{checksum}\"");
        assert!(lines.contains(sum.as_str()), "{} lacks {sum}: {stale}", inc_path.display());
    }
    let listed = inc.matches("crate://").count();
    assert_eq!(
        listed,
        crates.len(),
        "{} lists {listed} crates, Cargo.lock has {}: {stale}",
        inc_path.display(),
        crates.len()
    );

    // 2. The generator, byte for byte (the exact cargo-update-recipe-crates format).
    let script = layer_root().join("scripts/update-crates.py");
    let out = run(Command::new(venv_bin("python")).arg(&script).arg("--check"), Duration::from_secs(30));
    assert!(out.status.success(), "{}", text(&out));

    let printed = run(Command::new(venv_bin("python")).arg(&script).arg("--stdout"), Duration::from_secs(30));
    assert!(printed.status.success(), "{}", text(&printed));
    assert_eq!(String::from_utf8_lossy(&printed.stdout), inc, "--stdout and the committed file differ");
    assert!(inc.starts_with(
        "# Autogenerated with 'bitbake -c update_crates kiosk'\n\n# from Cargo.lock\nSRC_URI += \" \\\n"
    ));

    // The control: after a dependency bump (one crate's version and checksum changed in a
    // copy of Cargo.lock) the committed file is reported stale.
    let (name, version, checksum) = &crates[crates.len() / 2];
    let lock = read(root().join("Cargo.lock"));
    let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
    assert!(lock.contains(&entry), "{entry}");
    let bumped = lock
        .replacen(&entry, &format!("name = \"{name}\"\nversion = \"{version}-bumped\""), 1)
        .replacen(checksum.as_str(), &"0".repeat(64), 1);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.lock"), bumped).unwrap();
    let out = run(
        Command::new(venv_bin("python")).arg(&script).arg("--check").arg("--workspace").arg(dir.path()),
        Duration::from_secs(30),
    );
    assert!(!out.status.success(), "a bumped Cargo.lock passed --check:\n{}", text(&out));
    assert!(text(&out).contains(&format!("{name}/{version}-bumped")), "{}", text(&out));
}

/// The `file://` entries of every `SRC_URI` assignment (plain, `+=`, `:append...`).
fn src_uri_files(body: &str) -> Vec<String> {
    let joined = body.replace("\\\n", " ");
    joined
        .lines()
        .filter(|l| l.starts_with("SRC_URI ") || l.starts_with("SRC_URI:") || l.starts_with("SRC_URI+"))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '"'))
        .filter_map(|t| t.strip_prefix("file://"))
        .map(|t| t.split(';').next().unwrap().to_owned())
        .collect()
}

#[test]
fn every_local_file_the_recipes_use_exists_and_is_used() {
    let mut referenced = BTreeSet::new();
    for recipe in recipe_files() {
        let body = read(&recipe);
        let dir = recipe.parent().unwrap();
        let stem = recipe.file_stem().unwrap().to_string_lossy().into_owned();
        let bpn = stem.split('_').next().unwrap();
        for name in src_uri_files(&body) {
            // FILESPATH: the recipe's files/ and ${BPN}/ directories, and what a
            // FILESEXTRAPATHS in the same file adds (${THISDIR}/files, or this repository's
            // deploy/rauc through KIOSK_REPO_DIR).
            let mut candidates = vec![dir.join("files").join(&name), dir.join(bpn).join(&name)];
            if body.contains("${KIOSK_REPO_DIR}/deploy/rauc") {
                candidates.push(root().join("deploy/rauc").join(&name));
            }
            let found = candidates.iter().find(|c| c.exists());
            assert!(found.is_some(), "{}: file://{name} not found in {candidates:?}", recipe.display());
            referenced.insert(found.unwrap().canonicalize().unwrap());
        }
    }
    // Nothing lies unused in a files/ directory.
    for file in files_under(&meta_kiosk(), &[""]) {
        if file.parent().is_some_and(|p| p.ends_with("files")) {
            assert!(
                referenced.contains(&file.canonicalize().unwrap()),
                "{} is in no SRC_URI",
                file.display()
            );
        }
    }
    // meta-rauc's rauc-conf and meta-raspberrypi's rpi-u-boot-scr name system.conf and
    // boot.cmd.in in their own SRC_URI; our bbappends make them this repository's files.
    for (bbappend, file) in [
        ("recipes-core/rauc/rauc-conf.bbappend", "system.conf"),
        ("recipes-bsp/rpi-u-boot-scr/rpi-u-boot-scr.bbappend", "boot.cmd.in"),
    ] {
        let body = read(meta_kiosk().join(bbappend));
        assert!(
            body.contains("FILESEXTRAPATHS:prepend:kiosk := \"")
                && body.contains("${KIOSK_REPO_DIR}/deploy/rauc:")
        );
        assert!(
            root().join("deploy/rauc").join(file).exists(),
            "{bbappend} installs deploy/rauc/{file}, which is missing"
        );
    }
    // The boot script's placeholders are all filled in by the bbappend's do_compile.
    let boot = read(root().join("deploy/rauc/boot.cmd.in"));
    let scr = read(meta_kiosk().join("recipes-bsp/rpi-u-boot-scr/rpi-u-boot-scr.bbappend"));
    for placeholder in boot.split("@@").skip(1).step_by(2) {
        assert!(
            scr.contains(&format!("s/@@{placeholder}@@/")),
            "boot.cmd.in's @@{placeholder}@@ is not substituted"
        );
    }
    // The wks file the image names is in the layer's wic/.
    let image = read(meta_kiosk().join("recipes-core/images/kiosk-image.bb"));
    let wks = assigned(&image, "WKS_FILE").expect("WKS_FILE");
    assert!(meta_kiosk().join("wic").join(&wks).exists(), "wic/{wks} is missing");
}

#[test]
fn the_kiosk_recipe_matches_the_workspace() {
    let recipe = read(meta_kiosk().join("recipes-kiosk/kiosk/kiosk_git.bb"));

    // Every file the recipe takes from the source tree exists.
    for token in recipe.split(|c: char| c.is_whitespace() || c == '"' || c == ';') {
        if let Some(rel) = token.strip_prefix("${S}/") {
            assert!(root().join(rel).exists(), "the recipe installs {rel}, which is not in the workspace");
        }
    }
    // Every unit in systemd/ is installed and enabled.
    let services = assigned(&recipe, "SYSTEMD_SERVICE:${PN}").expect("SYSTEMD_SERVICE:${PN}");
    for unit in files_under(&root().join("systemd"), &[".service", ".socket", ".timer", ".path"]) {
        let name = unit.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            recipe.contains(&format!("${{S}}/systemd/{name}")),
            "kiosk_git.bb does not install systemd/{name}"
        );
        assert!(services.split_whitespace().any(|s| s == name), "SYSTEMD_SERVICE:${{PN}} lacks {name}");
    }
    // The licence checksums are those of the files.
    let lic = assigned(&recipe, "LIC_FILES_CHKSUM").expect("LIC_FILES_CHKSUM");
    for entry in lic.split_whitespace() {
        let (file, md5) = entry.strip_prefix("file://").unwrap().split_once(";md5=").unwrap();
        let out = run(Command::new("md5sum").arg(root().join(file)), Duration::from_secs(10));
        assert!(out.status.success(), "{}", text(&out));
        let actual =
            String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned();
        assert_eq!(actual, md5, "LIC_FILES_CHKSUM of {file} is stale");
    }
    // PV starts with the workspace version.
    let cargo: toml::Table = toml::from_str(&read(root().join("Cargo.toml"))).unwrap();
    let version = cargo["workspace"]["package"]["version"].as_str().unwrap();
    let pv = assigned(&recipe, "PV").expect("PV");
    assert!(
        pv.starts_with(&format!("{version}+")) || pv == version,
        "PV {pv} is not workspace version {version}"
    );
    // The board build of the kiosk: kiosk's "board" feature exists and is what the recipe uses.
    let kiosk: toml::Table = toml::from_str(&read(root().join("kiosk/Cargo.toml"))).unwrap();
    assert!(kiosk["features"].get("board").is_some(), "kiosk/Cargo.toml has no board feature");
    assert!(recipe.contains("--features kiosk/board"), "the recipe builds without the board feature");
    assert!(
        recipe.contains("--no-default-features"),
        "the recipe would build the demo and its simulators into the image"
    );
    // Every group of kiosk.service's SupplementaryGroups= is the kiosk user's in the image
    // (systemd refuses to start a unit naming a group that does not exist).
    let unit = read(root().join("systemd/kiosk.service"));
    let supplementary = unit.lines().find_map(|l| l.strip_prefix("SupplementaryGroups=")).unwrap_or_default();
    let useradd = assigned(&recipe, "USERADD_PARAM:${PN}").expect("USERADD_PARAM");
    let user_groups: Vec<&str> = useradd
        .split_whitespace()
        .skip_while(|w| *w != "--groups")
        .nth(1)
        .map(|g| g.split(',').collect())
        .unwrap_or_default();
    for group in supplementary.split_whitespace() {
        assert!(
            user_groups.contains(&group),
            "kiosk.service uses group {group}; the recipe's kiosk user is not in it"
        );
    }
}

#[test]
fn the_image_the_bundle_and_rauc_agree() {
    let system_conf = read(root().join("deploy/rauc/system.conf"));
    let bundle = read(meta_kiosk().join("recipes-core/bundles/kiosk-bundle.bb"));
    let image = read(meta_kiosk().join("recipes-core/images/kiosk-image.bb"));
    let distro = read(meta_kiosk().join("conf/distro/kiosk.conf"));
    let wks = read(meta_kiosk().join("wic/kiosk-dual-rpi.wks"));

    let compatible = key_file_value(&system_conf, "compatible").expect("system.conf compatible");
    assert_eq!(assigned(&bundle, "RAUC_BUNDLE_COMPATIBLE").as_deref(), Some(compatible.as_str()));
    assert_eq!(
        assigned(&bundle, "RAUC_BUNDLE_FORMAT").as_deref(),
        Some("verity"),
        "system.conf refuses plain"
    );
    assert_eq!(assigned(&bundle, "RAUC_SLOT_rootfs").as_deref(), Some("kiosk-image"));

    // The release version: dotted numbers MAJOR.MINOR.PATCH without leading zeros (the
    // agent's version.rs, gooseBit's SemVer, deploy/rauc/make-bundle.sh's check).
    let version = assigned(&distro, "DISTRO_VERSION").expect("DISTRO_VERSION");
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3
            && parts.iter().all(|p| !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))),
        "DISTRO_VERSION {version} is not MAJOR.MINOR.PATCH"
    );
    assert_eq!(assigned(&bundle, "RAUC_BUNDLE_VERSION").as_deref(), Some("${DISTRO_VERSION}"));

    // Partitions: p1 boot, p2 slot A, p3 slot B, p4 data, as system.conf, the boot script,
    // the fstab and the /etc overlay say.
    let parts: Vec<&str> = wks.lines().filter(|l| l.starts_with("part ")).collect();
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert!(parts[0].contains("--label boot") && parts[1].contains("--label rootfs_A"));
    assert!(parts[2].contains("--label rootfs_B") && parts[3].contains("--label data"));
    assert!(parts.iter().all(|p| p.contains("--no-fstab-update")), "fstab comes from kiosk-image.bb only");
    for (slot, dev, bootname) in
        [("slot.rootfs.0", "/dev/mmcblk0p2", "A"), ("slot.rootfs.1", "/dev/mmcblk0p3", "B")]
    {
        let section = system_conf.split(&format!("[{slot}]")).nth(1).expect(slot);
        assert_eq!(key_file_value(section, "device").as_deref(), Some(dev), "{slot}");
        assert_eq!(key_file_value(section, "bootname").as_deref(), Some(bootname), "{slot}");
    }
    let boot = read(root().join("deploy/rauc/boot.cmd.in"));
    // The first root_part set after choosing a slot is that slot's partition.
    let part_of = |name: &str| {
        let after = boot.split(&format!("rauc_slot {name}\n")).nth(1).unwrap_or_default();
        let after = after.split("root_part ").nth(1).unwrap_or_default();
        after.split_whitespace().next().unwrap_or_default().to_owned()
    };
    assert_eq!(part_of("A"), "2", "deploy/rauc/boot.cmd.in: slot A must boot p2");
    assert_eq!(part_of("B"), "3", "deploy/rauc/boot.cmd.in: slot B must boot p3");
    assert_eq!(assigned(&image, "OVERLAYFS_ETC_DEVICE").as_deref(), Some("/dev/mmcblk0p4"));
    assert_eq!(assigned(&image, "OVERLAYFS_ETC_MOUNT_POINT").as_deref(), Some("/data"));
    assert!(image.contains("'/dev/mmcblk0p4  /data  ext4"), "the fstab mounts p4 at /data");
    let data_dir = key_file_value(&system_conf, "data-directory").expect("data-directory");
    assert!(data_dir.starts_with("/data/"), "RAUC's status must be on the data partition, not {data_dir}");

    // The image: read-only root, no ssh server, systemd.
    let features = assigned(&image, "IMAGE_FEATURES").expect("IMAGE_FEATURES");
    assert!(features.split_whitespace().any(|f| f == "read-only-rootfs"), "{features}");
    assert!(!features.contains("ssh-server") && !features.contains("debug-tweaks"), "{features}");
    assert_eq!(assigned(&distro, "INIT_MANAGER").as_deref(), Some("systemd"));
    let install = assigned(&image, "IMAGE_INSTALL").expect("IMAGE_INSTALL");
    for pkg in ["kiosk", "pcsc-lite", "ccid", "rauc", "libubootenv-bin"] {
        assert!(install.split_whitespace().any(|p| p == pkg), "the image lacks {pkg}");
    }
}
