//! Offline lending end to end (the real binary, the SIP2 simulator stopped and started
//! again on its port, the virtual card behind pcscd, the printer sink): three patrons
//! borrow seven books while the library system is down (an eighth is over the patron's
//! limit), the kiosk is killed, the library system comes back: all seven arrive once, with
//! `no block` and their own times, and the one reserved meanwhile is listed for staff.

use std::time::{Duration, Instant};

use kiosk_e2e::{Kiosk, PATRON, Stack, kiosk_binary, log, log_in, printed_text, staff_login};
use kiosk_sim::card::stack::enter_private_stack;

const READER_A: &str = "2300000000011";
const READER_B: &str = "2300000000022";

fn books() -> Vec<String> {
    (1..=8).map(|n| format!("75000000{n:02}")).collect()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[test]
fn three_patrons_borrow_offline_and_every_loan_arrives_once_when_the_library_system_is_back() {
    if !enter_private_stack(
        "three_patrons_borrow_offline_and_every_loan_arrives_once_when_the_library_system_is_back",
    ) {
        return;
    }
    let mut stack = Stack::start("offline");
    stack.link(PATRON);
    let config = stack.dir.join("kiosk.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[offline]\nenabled = true\nlibrary_card_patrons = true\nitems_per_patron = 3\n");
    std::fs::write(&config, text).unwrap();
    let books = books();
    stack.ils.catalogue(|c| {
        c.patron(READER_A, "Reader A", None, false);
        c.patron(READER_B, "Reader B", None, false);
        for (n, b) in books.iter().enumerate() {
            c.item(b, &format!("オフラインの本 {n}"));
        }
    });
    let started = unix_now();
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    // The kiosk trusts its clock once the library system's agreed with it (its 98).
    let agreed = stack.dir.join("state/clock-agreed");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !agreed.exists() {
        assert!(Instant::now() < deadline, "the clock was never checked against the library system's");
        std::thread::sleep(Duration::from_millis(100));
    }

    stack.ils_down();
    // Meanwhile another patron reserves the 5th book at the library.
    stack.ils.catalogue(|c| {
        if let Some(i) = c.items.get_mut(&books[4]) {
            i.state = kiosk_sim::sip2::ItemState::OnHoldFor("P0001".into());
        }
    });

    // The card patron: three books, the fourth over the limit.
    let (_card, inserted) = log_in(&mut k, &stack);
    let scene = k.scene();
    assert!(scene.contains("offline=true"), "{scene}");
    k.shot("offline-borrowing");
    for (i, b) in books[..3].iter().enumerate() {
        k.scan(b);
        k.until(&format!("borrowed={}", i + 1), 20);
    }
    k.scan(&books[7]);
    let scene = k.until("refused=1", 20);
    assert!(scene.contains("last=refused:OfflineLimit"), "{scene}");
    k.shot("offline-limit");
    k.tap("finish");
    k.wait("refused", 10);
    k.tap("dismiss");
    k.wait("receipt-choice", 10);
    k.tap("print-receipt");
    k.wait("ending", 30);
    inserted.remove();
    k.wait("idle", 30);
    let printed = printed_text(&stack);
    assert!(printed.contains("仮のもの"), "the receipt says the due dates are provisional: {printed}");

    // Two library-card patrons, two books each.
    for (reader, pair) in [(READER_A, &books[3..5]), (READER_B, &books[5..7])] {
        k.scan(reader);
        k.wait("borrowing", 20);
        for (i, b) in pair.iter().enumerate() {
            k.scan(b);
            k.until(&format!("borrowed={}", i + 1), 20);
        }
        k.tap("finish");
        k.wait("receipt-choice", 10);
        k.tap("no-receipt");
        k.wait("idle", 30);
    }
    let scene = k.until("offline_loans=OfflineWaiting/7", 10);
    assert!(scene.contains("offline_refused=0"), "{scene}");
    assert_eq!(stack.ils.stats().no_block_checkouts, 0, "nothing reached the library system");

    // A power cut: the queue is on disk.
    k.kill();
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    k.until("offline_loans=OfflineWaiting/7", 10);

    stack.ils_up();
    let deadline = Instant::now() + Duration::from_secs(60);
    while stack.ils.stats().no_block_log.len() < 7 {
        assert!(Instant::now() < deadline, "not all replayed: {:?}", stack.ils.stats().no_block_log);
        std::thread::sleep(Duration::from_millis(100));
    }
    let scene = k.until("offline_refused=1", 20);
    assert!(scene.contains("offline_loans=OfflineRefused/1"), "{scene}");
    std::thread::sleep(Duration::from_secs(6));
    let stats = stack.ils.stats();
    let sent: Vec<&str> = stats.no_block_log.iter().map(|(item, _, _)| item.as_str()).collect();
    assert_eq!(sent, books[..7].iter().map(String::as_str).collect::<Vec<_>>(), "each once, in order");
    for (item, made, due) in &stats.no_block_log {
        let made = kiosk_ils::SipDate::parse(made).and_then(|d| d.to_unix(9 * 3600)).unwrap();
        assert!(made >= started - 1 && made <= unix_now(), "{item}: its own time, {made}");
        assert!(!due.trim().is_empty(), "{item}: the provisional due date");
    }
    // The library system has six loans; the reserved book is not lent, and listed.
    let mut lent = stack.loans(PATRON);
    lent.extend(stack.loans(READER_A));
    lent.extend(stack.loans(READER_B));
    lent.sort();
    let mut expected: Vec<String> = books[..7].iter().filter(|b| **b != books[4]).cloned().collect();
    expected.sort();
    assert_eq!(lent, expected);
    // The report staff export: the book, when, why; the patron only when asked for.
    let report = |with_patron: bool| {
        let mut cmd = std::process::Command::new(kiosk_binary());
        cmd.args(["offline-report", "--config"]).arg(stack.dir.join("kiosk.toml"));
        if with_patron {
            cmd.arg("--with-patron");
        }
        let out = cmd.env("KIOSK_STATE_DIR", stack.dir.join("state")).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = report(false);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains(&format!("\"{}\",on-hold", books[4])) && !csv.contains(READER_A), "{csv}");
    assert!(report(true).contains(&format!("\"{READER_A}\"")));
    staff_login(&mut k);
    k.shot("offline-refused-for-staff");
    k.tap("admin-clear-offline");
    k.until("offline_loans=OfflineNone/0", 10);
    k.tap("admin-close");
    k.wait("idle", 10);
    let log = log(&stack);
    assert!(!log.contains(PATRON) && !log.contains(READER_A), "no patron number in the log");
    k.quit();
}
