//! RFID figures: a stack of 1, 5 and 20 tagged books on the pad, through the driver
//! (`kiosk-rfid`'s `EvmReader`) and the virtual TRF7970A in real time (the air at ISO
//! 15693's high data rate, the serial line at 115200 baud): one inventory, each book's 8
//! blocks read (the Danish model decoded), each book's AFI switched to "checked out" and
//! read back. The time the air and the line take is the reader's; the rest is the
//! driver's own share (and the pseudo-terminal's).
//!
//! `cargo bench -p kiosk-sim --bench rfid`. Under `cargo test` it runs one stack of 2.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use kiosk_rfid::EvmReader;
use kiosk_rfid::danish;
use kiosk_sim::rfid::{VirtualReader, VirtualTag};

fn tag(i: u32) -> VirtualTag {
    VirtualTag::library_item(0x9E37_79B9_u32.wrapping_mul(i + 1), &format!("7500{i:04}"), 1, 1)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let stacks: &[u32] = if bench { &[1, 5, 20] } else { &[2] };
    println!(
        "stack | inventory | read 8 blocks each | AFI written and read back each | all | the air and the line | the rest (mostly the 100 ms of quiet that ends an inventory)"
    );
    for &n in stacks {
        let v = VirtualReader::start().unwrap();
        for i in 0..n {
            v.place(tag(i));
        }
        let mut r = EvmReader::open(v.path().to_str().unwrap()).unwrap();
        v.real_time(true);
        let before = v.stats().simulated;
        let all = Instant::now();
        let t = Instant::now();
        let uids = r.inventory(None).unwrap().uids;
        let inventory = t.elapsed();
        assert_eq!(uids.len(), n as usize);
        let t = Instant::now();
        for uid in &uids {
            danish::decode(&r.read_blocks(*uid, 0, 8).unwrap()).unwrap();
        }
        let read = t.elapsed();
        let t = Instant::now();
        for uid in &uids {
            r.write_afi(*uid, 0xC2).unwrap();
        }
        let afi = t.elapsed();
        let all = all.elapsed();
        let simulated = v.stats().simulated - before;
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        println!(
            "{n} | {} | {} | {} | {} | {} | {}",
            ms(inventory),
            ms(read),
            ms(afi),
            ms(all),
            ms(simulated),
            ms(all.saturating_sub(simulated))
        );
    }
}
