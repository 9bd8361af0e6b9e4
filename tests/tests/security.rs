//! The kiosk's own keys on the board (see docs/security.md): with `security.tpm`, the
//! loan journal's key is sealed to the board's TPM 2.0 (a software TPM here: Debian's
//! swtpm, through tss-esapi as on the board), never written in clear, opened again after
//! a restart, and useless on another board.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiosk_e2e::{BOOKS, Kiosk, PATRON, Stack, borrow_one_and_leave, kiosk_binary, log_in};
use kiosk_sim::card::stack::enter_private_stack;
use kiosk_sim::tpm::Swtpm;

fn use_tpm(stack: &Stack, tcti: &str) {
    let path = stack.dir.join("kiosk.toml");
    let config = std::fs::read_to_string(&path).unwrap();
    let config = match config.split_once("\n[security]\n") {
        Some((head, _)) => head.to_owned(),
        None => config,
    };
    std::fs::write(&path, format!("{config}\n[security]\ntpm = \"{tcti}\"\n")).unwrap();
}

#[test]
fn the_journal_key_is_sealed_to_the_board_s_tpm_and_opens_on_no_other_board() {
    if !enter_private_stack("the_journal_key_is_sealed_to_the_board_s_tpm_and_opens_on_no_other_board") {
        return;
    }
    let stack = Stack::start("tpm-sealed");
    stack.link(PATRON);
    let state = stack.dir.join("state");
    let board = Swtpm::start(&stack.dir.join("board-tpm")).unwrap();
    use_tpm(&stack, &board.tcti());

    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    assert!(state.join("journal.key.sealed").exists(), "the key is sealed");
    assert!(!state.join("journal.key").exists(), "no key in clear on the card");
    let (_card, inserted) = log_in(&mut k, &stack);
    borrow_one_and_leave(&mut k, inserted, BOOKS[0], false);
    k.quit();

    // Restarted on the same board: the sealed key opens and the kiosk lends.
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    let (_card, inserted) = log_in(&mut k, &stack);
    borrow_one_and_leave(&mut k, inserted, BOOKS[1], false);
    k.quit();
    assert_eq!(stack.loans(PATRON).len(), 2);
    drop(board);

    // The SD card in another board: the kiosk refuses to start, and says why.
    let other = Swtpm::start(&stack.dir.join("other-tpm")).unwrap();
    use_tpm(&stack, &other.tcti());
    let mut child = Command::new(kiosk_binary())
        .args(["run", "--headless", "--config"])
        .arg(stack.dir.join("kiosk.toml"))
        .env("KIOSK_STATE_DIR", &state)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the kiosk started on another board's TPM");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains("sealed by another TPM"), "stderr: {err}");
}
