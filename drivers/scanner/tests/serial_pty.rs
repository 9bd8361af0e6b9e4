//! `SerialScanner` over a real pseudo-terminal pair: bytes written on the master end
//! come out as scans on the slave end, through the kernel's tty layer.

use std::io::Write;
use std::thread::sleep;
use std::time::{Duration, Instant};

use kiosk_scanner::{LineConfig, LineTooLong, Scanner, ScannerError, SerialScanner, Terminator};
use serialport::{SerialPort, TTYPort};

const WAIT: Duration = Duration::from_secs(5);

fn pair() -> (TTYPort, TTYPort) {
    match TTYPort::pair() {
        Ok(p) => p,
        Err(e) => panic!("cannot open a pseudo-terminal pair: {e}"),
    }
}

fn scanner_on(slave: TTYPort, config: LineConfig) -> SerialScanner {
    SerialScanner::from_port(Box::new(slave), "pty", config)
}

fn write(master: &mut TTYPort, bytes: &[u8]) {
    if let Err(e) = master.write_all(bytes).and_then(|()| master.flush()) {
        panic!("write to the pty master: {e}");
    }
}

fn next(s: &mut impl Scanner) -> Option<String> {
    match s.next_scan(WAIT) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn lines_written_on_the_master_arrive_as_scans() {
    let (mut master, slave) = pair();
    let mut s = scanner_on(slave, LineConfig::default());
    write(&mut master, b"2012345678901\r\nT-0001/23\r\n");
    assert_eq!(next(&mut s).as_deref(), Some("2012345678901"));
    assert_eq!(next(&mut s).as_deref(), Some("T-0001/23"));
    assert_eq!(s.next_scan(Duration::from_millis(50)).ok(), Some(None), "nothing more");
}

#[test]
fn a_scan_split_across_writes_is_one_scan() {
    let (mut master, slave) = pair();
    let mut s = scanner_on(slave, LineConfig::default());
    write(&mut master, b"\x0212");
    sleep(Duration::from_millis(30));
    write(&mut master, b"34\x03\r");
    assert_eq!(next(&mut s).as_deref(), Some("1234"), "STX/ETX framing dropped");
}

#[test]
fn opening_the_port_by_path_at_a_baud_rate() {
    let (mut master, slave) = pair();
    let Some(path) = slave.name() else { panic!("the slave pty has no name") };
    let mut s = match SerialScanner::open(&path, 9600, LineConfig::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    write(&mut master, b"ABC-9\n");
    assert_eq!(next(&mut s).as_deref(), Some("ABC-9"));
    drop(slave);
}

#[test]
fn a_tab_terminated_scanner() {
    let (mut master, slave) = pair();
    let cfg = LineConfig { terminator: Terminator::Tab, ..LineConfig::default() };
    let mut s = scanner_on(slave, cfg);
    write(&mut master, b"1\r\n2\t3\t");
    assert_eq!(next(&mut s).as_deref(), Some("12"));
    assert_eq!(next(&mut s).as_deref(), Some("3"));
}

#[test]
fn an_over_long_scan_is_refused_and_the_next_one_read() {
    let (mut master, slave) = pair();
    let mut s = scanner_on(slave, LineConfig { max_len: 8, ..LineConfig::default() });
    write(&mut master, b"123456789\r\n42\r\n");
    match s.next_scan(WAIT) {
        Err(e @ ScannerError::LineTooLong(LineTooLong { max: 8 })) => assert!(!e.is_fatal()),
        other => panic!("{other:?}"),
    }
    assert_eq!(next(&mut s).as_deref(), Some("42"));
}

#[test]
fn the_timeout_is_honoured_when_nothing_comes() {
    let (_master, slave) = pair();
    let mut s = scanner_on(slave, LineConfig::default());
    let t = Instant::now();
    assert_eq!(s.next_scan(Duration::from_millis(100)).ok(), Some(None));
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(50) && took < WAIT, "{took:?}");
    assert_eq!(s.next_scan(Duration::ZERO).ok(), Some(None), "zero timeout: only what is there");
}

#[test]
fn closing_the_other_end_is_unplugged() {
    let (master, slave) = pair();
    let mut s = scanner_on(slave, LineConfig::default());
    drop(master);
    match s.next_scan(WAIT) {
        Err(e @ ScannerError::Unplugged { .. }) => {
            assert!(e.is_fatal());
            assert!(e.to_string().contains("plug it back in"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_port_that_does_not_exist_is_a_named_error() {
    match SerialScanner::open("/dev/ttyNONEXISTENT9", 9600, LineConfig::default()) {
        Err(e @ ScannerError::Serial { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("/dev/ttyNONEXISTENT9") && msg.contains("dialout"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_port_is_exclusive() {
    let (_master, slave) = pair();
    let Some(path) = slave.name() else { panic!("the slave pty has no name") };
    let _first = match SerialScanner::open(&path, 9600, LineConfig::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let second = SerialScanner::open(&path, 9600, LineConfig::default());
    assert!(matches!(second, Err(ScannerError::Serial { .. })), "{second:?}");
    let _ = slave.name();
}
