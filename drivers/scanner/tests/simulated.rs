//! `SimulatedScanner`, `Debounced` and `pump`: the pieces the orchestrator wires together.

use std::time::Duration;

use kiosk_scanner::{Debounce, Debounced, LineTooLong, Scanner, ScannerError, SimulatedScanner, pump};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn injected_codes_come_out_in_order_and_nothing_times_out() {
    let (mut s, inj) = SimulatedScanner::new();
    assert!(inj.scan("1") && inj.scan(String::from("2")));
    assert_eq!(s.next_scan(WAIT).ok(), Some(Some("1".to_owned())));
    assert_eq!(s.next_scan(WAIT).ok(), Some(Some("2".to_owned())));
    assert_eq!(s.next_scan(Duration::from_millis(10)).ok(), Some(None));
}

#[test]
fn dropping_every_injector_ends_the_scanner_and_dropping_the_scanner_is_seen() {
    let (mut s, inj) = SimulatedScanner::new();
    let inj2 = inj.clone();
    drop(inj);
    assert!(inj2.scan("x"));
    drop(inj2);
    assert_eq!(s.next_scan(WAIT).ok(), Some(Some("x".to_owned())), "queued scans are delivered first");
    assert!(matches!(s.next_scan(WAIT), Err(ScannerError::Ended { .. })));
    let (s, inj) = SimulatedScanner::new();
    drop(s);
    assert!(!inj.scan("y"));
}

#[test]
fn debounced_drops_an_immediate_repeat_only() {
    let (s, inj) = SimulatedScanner::new();
    let mut d = Debounced::new(s, Debounce::new(Duration::from_secs(60)));
    for code in ["A", "A", "B", "A"] {
        inj.scan(code);
    }
    let got: Vec<_> = (0..3).filter_map(|_| d.next_scan(WAIT).ok().flatten()).collect();
    assert_eq!(got, ["A", "B", "A"]);
    assert_eq!(d.next_scan(Duration::from_millis(10)).ok(), Some(None));
    inj.scan("A");
    assert_eq!(d.next_scan(Duration::from_millis(10)).ok(), Some(None), "A again within the window");
    d.reset();
    inj.scan("A");
    assert_eq!(d.next_scan(WAIT).ok(), Some(Some("A".to_owned())), "after a reset");
}

#[test]
fn the_pump_delivers_non_fatal_errors_and_returns_the_fatal_one() {
    let (mut s, inj) = SimulatedScanner::new();
    inj.scan("1");
    inj.fail(ScannerError::LineTooLong(LineTooLong { max: 256 }));
    inj.scan("2");
    inj.fail(ScannerError::Unplugged { device: "sim".to_owned() });
    inj.scan("never");
    let mut seen = Vec::new();
    let r = pump(
        &mut s,
        Duration::from_millis(10),
        || false,
        |scan| {
            seen.push(scan.map_err(|e| e.to_string()));
            true
        },
    );
    assert!(matches!(r, Err(ScannerError::Unplugged { .. })), "{r:?}");
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], Ok("1".to_owned()));
    assert!(matches!(&seen[1], Err(m) if m.contains("256")));
    assert_eq!(seen[2], Ok("2".to_owned()));
}

#[test]
fn the_pump_stops_when_deliver_refuses_or_the_receiver_is_closed() {
    let (mut s, inj) = SimulatedScanner::new();
    inj.scan("1");
    inj.scan("2");
    let mut n = 0;
    let r = pump(
        &mut s,
        Duration::from_millis(10),
        || false,
        |_| {
            n += 1;
            false
        },
    );
    assert!(r.is_ok());
    assert_eq!(n, 1, "stopped after the first refusal");
    let mut polls = 0;
    let r = pump(
        &mut s,
        Duration::from_millis(1),
        || {
            polls += 1;
            polls > 3
        },
        |_| true,
    );
    assert!(r.is_ok());
    drop(inj);
}

#[test]
fn forwarding_into_a_tokio_channel_from_a_thread() {
    let (mut s, inj) = SimulatedScanner::new();
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let thread = std::thread::spawn(move || {
        pump(&mut s, Duration::from_millis(20), || tx.is_closed(), |scan| tx.blocking_send(scan).is_ok())
    });
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    for i in 0..10 {
        inj.scan(format!("{i}"));
    }
    let got = runtime.block_on(async {
        let mut got = Vec::new();
        while got.len() < 10 {
            match tokio::time::timeout(WAIT, rx.recv()).await {
                Ok(Some(Ok(code))) => got.push(code),
                other => panic!("{other:?}"),
            }
        }
        got
    });
    assert_eq!(got, (0..10).map(|i| i.to_string()).collect::<Vec<_>>());
    drop(rx);
    assert!(matches!(thread.join(), Ok(Ok(()))));
}
