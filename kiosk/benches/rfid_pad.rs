//! "Tags on the pad → all on the screen": a stack of 1, 5 and 20 tagged books put down on
//! the kiosk's RFID pad (its real pad thread, `orchestrator::security`, on the virtual
//! TRF7970A in real time: the air at ISO 15693's high data rate, the serial line at 115200
//! baud) while a patron is at the borrowing screen (the real flow), until every book is on
//! the borrowing list. Median of 5 placements. The kiosk's own share (its poll interval,
//! the driver, the quiet that ends an inventory, the pseudo-terminal, the flow) is the same
//! placement on a reader that takes no time on the air or the line.
//!
//! `cargo bench -p kiosk --bench rfid_pad`. Under `cargo test` it runs one stack of 2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use kiosk::orchestrator::Input;
use kiosk::orchestrator::security::{POLL_EVERY, TagValues, start_pad};
use kiosk_core::flow::{Event, Millis, PatronId, PatronSession, Reply, Scan, Screen, SessionPolicy};
use kiosk_sim::rfid::{VirtualReader, VirtualTag};

fn tag(i: u32) -> VirtualTag {
    VirtualTag::library_item(0x9E37_79B9_u32.wrapping_mul(i + 1), &format!("7500{i:04}"), 1, 1)
}

/// A patron at the borrowing screen.
fn borrowing() -> PatronSession {
    let mut flow = PatronSession::new(SessionPolicy { rfid_pad: true, ..SessionPolicy::default() });
    flow.on(Millis(1), Event::Scanned(Scan::LibraryCard(PatronId::new("2300012345678").unwrap())));
    let session = flow.session();
    flow.on(Millis(2), Event::Reply { session, reply: Reply::Standing(Ok(())) });
    assert!(matches!(flow.view(Millis(2)).screen, Screen::Borrowing { .. }));
    flow
}

fn on_list(flow: &PatronSession) -> usize {
    match flow.view(Millis(3)).screen {
        Screen::Borrowing { lines, waiting, .. } => lines.len() + waiting,
        _ => 0,
    }
}

struct Placement {
    all: Duration,
    flow: Duration,
}

fn place(n: u32, real_time: bool) -> Placement {
    let v = VirtualReader::start().unwrap();
    let path = v.path().display().to_string();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let values = TagValues {
        security: kiosk::config::TagSecurity::Afi,
        afi_on_shelf: 0x07,
        afi_on_loan: 0xC2,
        patron_cards: false,
    };
    let _pad = start_pad(Box::new(move || kiosk_rfid::EvmReader::open(&path)), values, tx).unwrap();
    // The pad is up and polling an empty pad.
    loop {
        if let Some(Input::Status(row)) = rx.blocking_recv()
            && row.state == kiosk_ui::DeviceState::TagsOnPad
        {
            break;
        }
    }
    v.real_time(real_time);
    let mut flow = borrowing();
    let start = Instant::now();
    for i in 0..n {
        v.place(tag(i));
    }
    let mut in_flow = Duration::ZERO;
    while on_list(&flow) < n as usize {
        if let Some(Input::Pad(on)) = rx.blocking_recv() {
            let t = Instant::now();
            flow.on(Millis(3), Event::Pad(on));
            in_flow += t.elapsed();
        }
    }
    Placement { all: start.elapsed(), flow: in_flow }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (stacks, runs): (&[u32], usize) = if bench { (&[1, 5, 20], 5) } else { (&[2], 1) };
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!("poll interval {} ms; median of {runs}", POLL_EVERY.as_millis());
    println!(
        "books | tags on the pad → all on the list | the kiosk's share (a reader taking no time) | of which the flow"
    );
    let median = |n: u32, real_time: bool| {
        let mut p: Vec<Placement> = (0..runs).map(|_| place(n, real_time)).collect();
        p.sort_by_key(|p| p.all);
        p.swap_remove(runs / 2)
    };
    for &n in stacks {
        let (all, own) = (median(n, true), median(n, false));
        println!("{n} | {} | {} | {:.1} µs", ms(all.all), ms(own.all), own.flow.as_secs_f64() * 1e6);
    }
}
