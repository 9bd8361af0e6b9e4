#![allow(clippy::unwrap_used)]
//! Keys bound to the board: sealed to a TPM 2.0 (Debian's swtpm, a real TPM
//! implementation on loopback) through tss-esapi and the TPM software stack.

use std::path::PathBuf;

use kiosk_keystore::{KeyError, Sealer, sealed_path};
use kiosk_sim::tpm::Swtpm;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiosk-keystore-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A key sealed by one board's TPM opens on that board after a reboot, and nowhere
/// else: the SD card moved to another board (another TPM) holds nothing that opens the
/// journal. The key never lies in clear on the card.
#[test]
fn a_key_sealed_to_the_board_opens_after_a_reboot_and_on_no_other_board() {
    let dir = temp("bound");
    let board = dir.join("board-tpm");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let path = data.join("journal.key");

    let tpm = Swtpm::start(&board).unwrap();
    let sealer = Sealer::Tpm(tpm.tcti());
    let key = sealer.load_or_create(&path, 32).unwrap();
    assert!(!path.exists(), "no key in clear on the card");
    let blob = std::fs::read(sealed_path(&path)).unwrap();
    assert!(!blob.windows(32).any(|w| w == key.as_slice()), "the sealed file holds the key in clear");
    drop(tpm);

    // The same board, rebooted: the same TPM state, the same key.
    let tpm = Swtpm::start(&board).unwrap();
    assert_eq!(*Sealer::Tpm(tpm.tcti()).load_or_create(&path, 32).unwrap(), *key);
    drop(tpm);

    // The card in another board.
    let other = Swtpm::start(&dir.join("other-tpm")).unwrap();
    let e = Sealer::Tpm(other.tcti()).load_or_create(&path, 32).unwrap_err();
    assert!(matches!(e, KeyError::SealedElsewhere { .. }), "{e:?}");
    assert!(e.to_string().contains("counter"), "the message says what staff do: {e}");
    // And without a TPM, the file is no key either.
    let e = Sealer::File.load_or_create(&sealed_path(&path), 32).unwrap_err();
    assert!(matches!(e, KeyError::BadLength { .. }), "{e:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A board that gets a TPM later: its plain key file is sealed, then overwritten and
/// removed, and the journal keeps its key.
#[test]
fn a_plain_key_file_is_sealed_and_removed_when_the_tpm_arrives() {
    let dir = temp("migrate");
    let path = dir.join("journal.key");
    let key = Sealer::File.load_or_create(&path, 32).unwrap();
    let tpm = Swtpm::start(&dir.join("tpm")).unwrap();
    let sealer = Sealer::Tpm(tpm.tcti());
    assert_eq!(*sealer.load_or_create(&path, 32).unwrap(), *key);
    assert!(!path.exists());
    assert_eq!(*sealer.load_or_create(&path, 32).unwrap(), *key);
    // A power cut between sealing and the plain file's removal left it: the next start
    // removes it.
    std::fs::write(&path, key.as_slice()).unwrap();
    assert_eq!(*sealer.load_or_create(&path, 32).unwrap(), *key);
    assert!(!path.exists(), "the plain copy is removed once the sealed one opens");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A damaged sealed file, an unreachable TPM and a wrong address are each named.
#[test]
fn a_damaged_blob_a_missing_tpm_and_a_bad_address_are_named() {
    let dir = temp("bad");
    let path = dir.join("journal.key");
    let tpm = Swtpm::start(&dir.join("tpm")).unwrap();
    std::fs::write(sealed_path(&path), b"kiosk-tpm-sealed v1\n\x00\x05abc").unwrap();
    let e = Sealer::Tpm(tpm.tcti()).load_or_create(&path, 32).unwrap_err();
    assert!(matches!(e, KeyError::NotSealed { .. }), "{e:?}");
    // A TPM that is gone: named as the TPM's problem, not the file's.
    std::fs::remove_file(sealed_path(&path)).unwrap();
    let tcti = tpm.tcti();
    drop(tpm);
    let e = Sealer::Tpm(tcti).load_or_create(&path, 32).unwrap_err();
    assert!(matches!(e, KeyError::Tpm { .. }), "{e:?}");
    assert!(e.to_string().contains("TPM module"), "{e}");
    let e = Sealer::Tpm("tpm-on-the-moon".into()).load_or_create(&path, 32).unwrap_err();
    assert!(matches!(e, KeyError::BadTcti { .. }), "{e:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
