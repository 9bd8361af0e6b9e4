//! `LineFileScanner` with a real FIFO (made by `mkfifo`, written by other processes)
//! and a regular file; and the pump into a tokio channel.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kiosk_scanner::{LineFileScanner, Scanner, ScannerError, pump};

const WAIT: Duration = Duration::from_secs(5);

fn temp_dir() -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kiosk-scanner-fifo-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("{}: {e}", dir.display());
    }
    dir
}

fn mkfifo(path: &Path) {
    match Command::new("mkfifo").arg(path).status() {
        Ok(s) if s.success() => {}
        other => panic!("mkfifo {}: {other:?}", path.display()),
    }
}

fn open(path: &Path) -> LineFileScanner {
    match LineFileScanner::open(path, 256) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

fn next(s: &mut impl Scanner) -> Option<String> {
    match s.next_scan(WAIT) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    }
}

fn write_to(path: &Path, bytes: &[u8]) {
    let r = OpenOptions::new().write(true).open(path).and_then(|mut f| f.write_all(bytes));
    if let Err(e) = r {
        panic!("write {}: {e}", path.display());
    }
}

#[test]
fn a_fifo_delivers_lines_and_survives_writers_coming_and_going() {
    let dir = temp_dir();
    let fifo = dir.join("scanner.fifo");
    mkfifo(&fifo);
    let mut s = open(&fifo);
    assert_eq!(s.next_scan(Duration::from_millis(50)).ok(), Some(None), "no writer yet: nothing, no EOF");
    write_to(&fifo, b"2012345678901\nMD1*K*20260514*K1*MAC*2012345678901\r\n");
    assert_eq!(next(&mut s).as_deref(), Some("2012345678901"));
    assert_eq!(next(&mut s).as_deref(), Some("MD1*K*20260514*K1*MAC*2012345678901"));
    // The writer has closed; the scanner waits for the next one.
    assert_eq!(s.next_scan(Duration::from_millis(50)).ok(), Some(None));
    write_to(&fifo, b"T-0002\n");
    assert_eq!(next(&mut s).as_deref(), Some("T-0002"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_shell_echo_into_the_fifo_is_a_scan() {
    let dir = temp_dir();
    let fifo = dir.join("scanner.fifo");
    mkfifo(&fifo);
    let mut s = open(&fifo);
    for code in ["9784003101018", "A2012345678901B"] {
        let status =
            Command::new("sh").arg("-c").arg(format!("echo '{code}' > '{}'", fifo.display())).status();
        assert!(matches!(status, Ok(s) if s.success()), "{status:?}");
        assert_eq!(next(&mut s).as_deref(), Some(code));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_regular_file_is_read_to_its_end_then_ended() {
    let dir = temp_dir();
    let file = dir.join("scans.txt");
    if let Err(e) = std::fs::write(&file, "first\r\n\nsecond\nlast-without-newline") {
        panic!("{e}");
    }
    let mut s = open(&file);
    assert_eq!(next(&mut s).as_deref(), Some("first"));
    assert_eq!(next(&mut s).as_deref(), Some("second"));
    assert_eq!(next(&mut s).as_deref(), Some("last-without-newline"));
    for _ in 0..2 {
        match s.next_scan(WAIT) {
            Err(e @ ScannerError::Ended { .. }) => assert!(e.is_fatal()),
            other => panic!("{other:?}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_over_long_line_in_a_file_is_refused_not_truncated() {
    let dir = temp_dir();
    let file = dir.join("scans.txt");
    if let Err(e) = std::fs::write(&file, format!("{}\nok\n", "9".repeat(300))) {
        panic!("{e}");
    }
    let mut s = open(&file);
    assert!(matches!(s.next_scan(WAIT), Err(ScannerError::LineTooLong(_))));
    assert_eq!(next(&mut s).as_deref(), Some("ok"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_path_is_an_open_error() {
    let dir = temp_dir();
    match LineFileScanner::open(dir.join("absent.fifo"), 256) {
        Err(e @ ScannerError::Open { .. }) => assert!(e.to_string().contains("absent.fifo"), "{e}"),
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_fifo_pumped_into_a_tokio_channel() {
    let dir = temp_dir();
    let fifo = dir.join("scanner.fifo");
    mkfifo(&fifo);
    let mut s = open(&fifo);
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let thread = std::thread::spawn(move || {
        pump(&mut s, Duration::from_millis(20), || tx.is_closed(), |scan| tx.blocking_send(scan).is_ok())
    });
    write_to(&fifo, b"2012345678901\nT-0001\n");
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let codes = runtime.block_on(async {
        let mut codes = Vec::new();
        for _ in 0..2 {
            match tokio::time::timeout(WAIT, rx.recv()).await {
                Ok(Some(Ok(code))) => codes.push(code),
                other => panic!("{other:?}"),
            }
        }
        codes
    });
    assert_eq!(codes, ["2012345678901", "T-0001"]);
    drop(rx);
    match thread.join() {
        Ok(Ok(())) => {}
        other => panic!("the pump should end cleanly when the receiver is dropped: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
