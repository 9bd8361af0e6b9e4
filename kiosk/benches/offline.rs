//! Offline lending's figures: the cost of one offline loan (sealed, appended and
//! fsync'ed to the queue) and the replay rate, loans a second sent to the SIP2 simulator
//! on loopback (each: the "sent" mark fsync'ed, the checkout with `no block`, the answer
//! fsync'ed), and the queue's bytes per loan.
//!
//! `cargo bench -p kiosk --bench offline` (200 loans). Under `cargo test` it runs 5, to
//! keep it working.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use kiosk::config::Offline;
use kiosk::journal::Journal;
use kiosk::offline::{ClockTrust, OfflineQueue};
use kiosk::orchestrator::offline::OfflineLending;
use kiosk_core::flow::ItemId;
use kiosk_ils::Sip2Library;
use kiosk_ils::client::{ClientConfig, Credentials};
use kiosk_sim::sip2::{Behaviour, Catalogue, Sip2Sim};

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = if bench { 200 } else { 5 };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async move {
        let mut catalogue = Catalogue::demo();
        catalogue.loan_limit = 10_000;
        catalogue.patron("2300012345678", "Bench", None, false);
        for i in 0..n {
            catalogue.item(&format!("76{i:08}"), "本");
        }
        let sim = Sip2Sim::start(catalogue, Behaviour::default()).await.unwrap();
        let dir = std::env::temp_dir().join(format!("kiosk-offline-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("synchronized"), "").unwrap();
        let journal = Arc::new(Journal::open(&dir.join("journal")).unwrap());
        let queue = OfflineQueue::open(journal).unwrap();
        let path = queue.path().to_path_buf();
        let mut cfg = ClientConfig::new(sim.addr().to_string(), "KIOSKLIB");
        cfg.offline_replay = true;
        cfg.login = Some(Credentials { user: "kiosk".into(), password: "secret".into(), location: None });
        cfg.request_timeout = Duration::from_secs(5);
        let library = Sip2Library::new(cfg);
        let trust = ClockTrust {
            synced_marker: dir.join("synchronized"),
            boot_id: dir.join("boot_id"),
            agreed_file: dir.join("clock-agreed"),
        };
        let limits = Offline { enabled: true, items_per_patron: n, items_total: n, ..Offline::default() };
        let offline = OfflineLending::new(queue, trust, limits, library, 9 * 3600);

        let mut lend = Vec::with_capacity(n);
        for i in 0..n {
            let t = Instant::now();
            offline.lend("2300012345678", &ItemId(format!("76{i:08}"))).await.unwrap();
            lend.push(t.elapsed());
        }
        lend.sort();
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        let t = Instant::now();
        let done = offline.replay().await;
        let took = t.elapsed();
        assert_eq!((done.lent, done.refused, done.waiting), (n, 0, 0), "every loan replayed");
        assert_eq!(sim.stats().no_block_checkouts, n as u64);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "offline loan (queue append + fsync): median {:.2} ms, p95 {:.2} ms over {n}",
            ms(lend[n / 2]),
            ms(lend[n * 95 / 100])
        );
        println!("queue: {:.0} bytes a loan ({bytes} bytes for {n})", bytes as f64 / n as f64);
        println!(
            "replay: {n} loans in {:.0} ms = {:.0} loans/s (SIP2 simulator on loopback)",
            ms(took),
            n as f64 / took.as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
