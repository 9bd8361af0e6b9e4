//! The `kiosk` binary as IT and a newcomer use it: the demo, and `check-config`.

use std::path::PathBuf;
use std::process::Command;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn kiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
}

#[test]
fn demo_runs_a_whole_journey_and_ends_idle() {
    let out = kiosk().arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("4 borrowed, 1 refused, 2 receipt(s), 1 label(s), 1 label(s) refused"), "{text}");
    assert!(text.contains("printed page: "), "{text}");
    assert!(text.contains("back to idle: true"), "{text}");
}

#[test]
fn run_without_its_config_file_stops_and_names_the_file() {
    let missing = workspace_root().join("target/no-such-config.toml");
    let out = kiosk().args(["run", "--config"]).arg(&missing).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&*missing.to_string_lossy()) && err.contains("cannot read"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("kiosk demo"), "no demo ran");
    let out = kiosk().args(["run", "--config", "/nonexistent.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent.toml"));
}

/// A library's file in which every device and peer is simulated.
const SIMULATED: &str = r#"
[library]
name = "Test Library"
institution_id = "T"
kiosk_id = "t-01"
[card]
mode = "simulated"
allow_method_d_label = false
[platform]
mode = "simulated"
[ils]
mode = "simulated"
[printer]
transport = "simulated"
[io]
backend = "simulated"
[admin]
staff_pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$N3WxVVCcItSE2Ta3IuSUaQ$qxjsoZpBTcLPHbwqpjFyvFtAZrZINJ2nYCpe+3inldA"
[scanner]
kind = "simulated"
"#;

#[test]
fn run_with_only_simulated_devices_points_to_the_demo() {
    let dir = workspace_root().join("target/cli-simulated");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kiosk.toml");
    std::fs::write(&file, SIMULATED).unwrap();
    let out = kiosk().args(["run", "--config"]).arg(&file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(2) && err.contains("simulated") {
        assert!(err.contains("kiosk demo --config"), "{err}");
        let demo = kiosk().args(["demo", "--text", "--config"]).arg(&file).output().unwrap();
        assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
        assert!(String::from_utf8_lossy(&demo.stdout).contains("back to idle: true"));
    } else {
        panic!("a minimal file should be valid and all-simulated: {err}");
    }
}

#[test]
fn example_config_is_valid() {
    let out =
        kiosk().arg("check-config").arg(workspace_root().join("deploy/kiosk.example.toml")).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn broken_config_reports_every_problem_and_exits_2() {
    // A typo'd key, a wrong type, and a CA file that does not exist, at once.
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/three-problems.toml");
    let out = kiosk().arg("check-config").arg(&fixture).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("three-problems.toml:")).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].contains(":17:1: ils.hots: unknown key"), "{err}");
    assert!(lines[1].contains(":18:8: ils.port: expected a whole number"), "{err}");
    assert!(lines[2].contains("ils.ca_file") && lines[2].contains("does not exist"), "{err}");
}

#[test]
fn hash_staff_pin_prints_a_phc_string_and_refuses_letters() {
    use std::io::Write;
    use std::process::Stdio;
    let hash = |input: &str| {
        let mut child =
            kiosk().arg("hash-staff-pin").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = hash("2468\n");
    assert!(ok.status.success());
    let phc = String::from_utf8_lossy(&ok.stdout);
    assert!(phc.starts_with("$argon2id$"), "{phc}");
    assert!(!phc.contains("2468"));
    assert_eq!(hash("12ab\n").status.code(), Some(2));
}

#[test]
fn headless_scripted_demo_writes_a_screenshot_per_step() {
    let shots = workspace_root().join("target/e2e-demo-shots");
    let _ = std::fs::remove_dir_all(&shots);
    let script = workspace_root().join("kiosk/demo/borrow-three-books.script");
    let out = kiosk()
        .args(["demo", "--headless", "--script"])
        .arg(&script)
        .arg("--shots")
        .arg(&shots)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pngs = std::fs::read_dir(&shots)
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png")));
    assert_eq!(pngs.count(), 20, "one per step of the script");
    assert!(shots.join("printed/page-1.png").exists(), "the receipt was printed");
}

#[test]
fn a_bad_demo_script_says_which_line() {
    let dir = workspace_root().join("target/e2e-bad-script");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("bad.script");
    std::fs::write(&script, "card-on\npin 12ab\n").unwrap();
    let out = kiosk()
        .args(["demo", "--headless", "--script"])
        .arg(&script)
        .arg("--shots")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.script:2:"));
}
