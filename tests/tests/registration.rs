#![allow(clippy::unwrap_used)]
//! Terminal registration, end to end: a new board without a client certificate starts,
//! refuses My Number cards with the reason, and is registered from the staff menu (or
//! with `kiosk register`) against the platform simulator; the certificate it gets is used
//! for the next card without a restart. Refusals: another board's fingerprint, a wrong
//! password, half a registration on disk.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use kiosk_e2e::{Kiosk, PATRON, Stack, board, kiosk_binary, log, log_in, staff_login};
use kiosk_sim::card::CardConfig;
use kiosk_sim::card::stack::enter_private_stack;

/// Removes the client certificate and key the harness installed: a board fresh from
/// the image.
fn unregister(stack: &Stack) {
    for f in ["client.pem", "client.key"] {
        let _ = std::fs::remove_file(stack.dir.join(f));
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn kiosk(stack: &Stack, hardware: &Path, args: &[&str]) -> Output {
    Command::new(kiosk_binary())
        .args(args)
        .arg("--config")
        .arg(stack.dir.join("kiosk.toml"))
        .env("KIOSK_HARDWARE_ROOT", hardware)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

#[test]
fn a_new_board_is_registered_from_the_staff_menu_and_then_lends() {
    if !enter_private_stack("a_new_board_is_registered_from_the_staff_menu_and_then_lends") {
        return;
    }
    let stack = Stack::start("registration");
    stack.link(PATRON);
    unregister(&stack);
    let hw = board(&stack, "board-a", "10000000a1b2c3d4");

    // The boot health gate fails, and says why.
    let health = kiosk(&stack, &hw, &["health"]);
    assert_eq!(health.status.code(), Some(1), "{}", text(&health));
    assert!(text(&health).contains("FAIL platform: this kiosk is not registered"), "{}", text(&health));

    // The kiosk starts all the same; a My Number card is refused (the platform cannot be
    // asked), nothing is lent.
    let mut k = Kiosk::start_env(&stack, &[], &[("KIOSK_HARDWARE_ROOT", &hw)]);
    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.wait("pin", 20);
    k.pin("1234");
    k.wait("ending", 40);
    let scene = k.scene();
    assert!(scene.contains("PlatformUnavailable"), "{scene}");
    inserted.remove();
    k.wait("idle", 30);

    // Staff: Registration page, then the button.
    staff_login(&mut k);
    k.tap("admin-page-status");
    k.tap("admin-page-registration");
    k.until("registration=NotRegistered", 10);
    k.shot("not-registered");
    k.tap("admin-register");
    // Key pair, CSR, TLS to the platform, the answer checked, two files fsync'ed.
    let took = k.timed("registration=Registered ", 30);
    println!("tap on Register this terminal → Registered on screen: {took:?}");
    assert!(took.is_some(), "not registered within 30 s; scene: {}", k.scene());
    let scene = k.scene();
    assert!(!scene.contains("secret-01"), "{scene}");
    assert!(scene.contains("newest_event=Some(TerminalRegistered)"), "recent events: {scene}");
    k.shot("registered");
    let (cert, key) = (stack.dir.join("client.pem"), stack.dir.join("client.key"));
    assert_eq!((mode(&cert), mode(&key)), (0o600, 0o600), "stored for the kiosk's user only");
    assert!(std::fs::read_to_string(&key).unwrap().contains("PRIVATE KEY"));

    // The Software update page's buttons leave their request for the update agent (it
    // runs as root; see deploy/agent/tests/manifest.rs for its side).
    k.tap("admin-page-update");
    k.until("update=NotReported/None", 10);
    let request = stack.dir.join("update-request");
    for (button, word, asked) in [
        ("admin-update-check", "check", "Check"),
        ("admin-update-install", "install", "Install"),
        ("admin-reboot", "reboot", "Reboot"),
    ] {
        k.tap(button);
        if button == "admin-reboot" {
            // A restart stops the kiosk: the menu asks first.
            k.until("admin_confirm=Restart", 10);
            k.tap("admin-confirm");
        }
        // The page says the request waits for the agent (worded from the catalogue).
        k.until(&format!("update=NotReported/{asked}"), 10);
        assert_eq!(std::fs::read_to_string(&request).unwrap(), format!("{word}\n"));
    }
    k.shot("update-asked");
    std::fs::remove_file(&request).unwrap();
    k.until("update=NotReported/None", 10);
    k.tap("admin-close");

    // The next card goes through with the new certificate (mutual TLS), no restart.
    let (_card, inserted) = log_in(&mut k, &stack);
    inserted.remove();
    k.wait("idle", 30);
    let log = log(&stack);
    assert!(log.contains("terminal registered"), "{log}");
    assert!(!log.contains("secret-01"), "the terminal password was logged");
    k.quit();
}

#[test]
fn registration_refusals_say_what_to_do() {
    if !enter_private_stack("registration_refusals_say_what_to_do") {
        return;
    }
    let stack = Stack::start("registration-refusals");
    unregister(&stack);
    let (a, b) = (board(&stack, "board-a", "10000000000000aa"), board(&stack, "board-b", "10000000000000bb"));

    // IT at the console: the terminal ID and fingerprint first, then the result.
    let first = kiosk(&stack, &a, &["register"]);
    let said = text(&first);
    assert_eq!(first.status.code(), Some(0), "{said}");
    assert!(said.contains("terminal ID: kiosk-01"), "{said}");
    let fingerprint = said.lines().find_map(|l| l.strip_prefix("fingerprint: ")).unwrap().to_owned();
    assert_eq!(fingerprint.split(' ').count(), 16, "{fingerprint}");
    assert!(said.contains("Registered. The terminal certificate is valid until"), "{said}");
    assert!(!said.contains("secret-01"), "{said}");

    // The board was replaced: the platform knows this terminal by the old fingerprint.
    unregister(&stack);
    let other = kiosk(&stack, &b, &["register"]);
    let said = text(&other);
    assert_eq!(other.status.code(), Some(1), "{said}");
    assert!(said.contains("registered with another fingerprint"), "{said}");
    assert!(said.contains("ask the municipality to reset"), "{said}");
    assert!(!said.contains(&fingerprint), "board B has its own fingerprint: {said}");
    assert!(!stack.dir.join("client.pem").exists(), "nothing stored after a refusal");

    // A wrong password.
    let toml = stack.dir.join("kiosk.toml");
    let config = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, config.replace("secret-01", "not-the-password")).unwrap();
    let wrong = kiosk(&stack, &a, &["register"]);
    let said = text(&wrong);
    assert_eq!(wrong.status.code(), Some(1), "{said}");
    assert!(said.contains("wrong terminal ID or password"), "{said}");
    assert!(said.contains("platform.terminal_password"), "{said}");
    assert!(!said.contains("not-the-password"), "{said}");
    std::fs::write(&toml, &config).unwrap();

    // Half a registration on disk (the key lost): the configuration check says what to do.
    let again = kiosk(&stack, &a, &["register"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    std::fs::remove_file(stack.dir.join("client.key")).unwrap();
    let half = kiosk(&stack, &a, &["register"]);
    let said = text(&half);
    assert_eq!(half.status.code(), Some(2), "{said}");
    assert!(said.contains("does not exist, but client_cert does: registration writes both"), "{said}");

    // Run as root into the kiosk user's state directory: the files become that user's,
    // so the kiosk (not root) can read them.
    let state = stack.dir.join("kiosk-state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(65534), Some(65534)).unwrap();
    let elsewhere = config
        .replace("\"client.pem\"", "\"kiosk-state/terminal.pem\"")
        .replace("\"client.key\"", "\"kiosk-state/terminal.key\"");
    std::fs::write(&toml, elsewhere).unwrap();
    let owned = kiosk(&stack, &a, &["register"]);
    assert_eq!(owned.status.code(), Some(0), "{}", text(&owned));
    for f in ["terminal.pem", "terminal.key"] {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(state.join(f)).unwrap();
        assert_eq!((m.uid(), m.gid(), mode(&state.join(f))), (65534, 65534, 0o600), "{f}");
    }
}
