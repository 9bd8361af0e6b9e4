//! A municipality's shared link store end to end: Debian's PostgreSQL in a private
//! directory, a counter process and a self-checkout kiosk process, each on its own
//! virtual reader. A card linked at the counter lends at the kiosk, which was running
//! all along, within seconds; with the store stopped the kiosk lends from its snapshot
//! and says how old it is; a tampered snapshot is refused and named; a card of another
//! municipality is not linked there.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use kiosk_e2e::{Kiosk, Stack, borrow_one_and_leave, log_in, staff_login};
use kiosk_sim::card::CardConfig;
use kiosk_sim::card::stack::enter_private_stack;
use kiosk_sim::links::LinkServer;

const MUNICIPALITY: &str = "132012";

/// Waits until the kiosk's log holds `text`; how long that took.
fn log_shows(stack: &Stack, text: &str, secs: u64) -> Duration {
    let start = Instant::now();
    while !kiosk_e2e::log(stack).contains(text) {
        assert!(start.elapsed() < Duration::from_secs(secs), "no {text:?} in:\n{}", kiosk_e2e::log(stack));
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// The demo card on the kiosk's reader, its PIN: "not linked", then back at idle.
fn the_card_is_not_linked(kiosk: &mut Kiosk, stack: &Stack) {
    let (_card, inserted) = stack.card(CardConfig::default());
    kiosk.pin("1234");
    kiosk.until("notice=NotLinked", 30);
    inserted.remove();
    kiosk.wait("idle", 20);
}

#[test]
fn a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality() {
    if !enter_private_stack("a_card_linked_at_the_counter_lends_at_every_kiosk_of_the_municipality") {
        return;
    }
    let stack = Stack::start("shared-links");
    let mut server = LinkServer::start("e2e").unwrap();
    stack.shared_links(&stack.dir, &server, "kiosk-01", MUNICIPALITY, 0x3c, false);
    let counter_dir = stack.counter_at("counter", &server, "counter-01", MUNICIPALITY, 0x3c);

    // The kiosk runs first: the card is not linked anywhere yet.
    let mut kiosk = Kiosk::start(&stack);
    kiosk.wait("idle", 30);
    kiosk.until("links=LinksCurrent/0", 20);
    the_card_is_not_linked(&mut kiosk, &stack);

    // Staff link it at the counter, on the counter's own reader.
    let mut counter = Kiosk::start_in(&stack, &counter_dir);
    counter.wait("idle", 30);
    staff_login(&mut counter);
    counter.tap("admin-link-card");
    counter.wait("link-waiting", 10);
    let (_card, inserted) = stack.card_in(CardConfig::default(), 1);
    counter.pin("1234");
    counter.wait("linking", 30);
    counter.scan(kiosk_e2e::PATRON);
    counter.until("notice=Linked", 10);
    // The kiosk, running all along, has it within 5 s (it asks every second).
    let seen = log_shows(&stack, "changes from the shared store", 5);
    // The figure for docs/performance.md.
    std::fs::write(stack.shots.join("link-seen-after-ms.txt"), format!("{}\n", seen.as_millis())).unwrap();
    inserted.remove();
    counter.quit();

    let (_card, inserted) = log_in(&mut kiosk, &stack);
    borrow_one_and_leave(&mut kiosk, inserted, kiosk_e2e::BOOKS[0], false);
    assert_eq!(stack.loans(kiosk_e2e::PATRON).len(), 1);

    // The store stops: the kiosk says so, and lends from what it has.
    server.stop();
    kiosk.until("links=LinksFromSnapshot/0", 10);
    staff_login(&mut kiosk);
    kiosk.tap("admin-page-status");
    kiosk.shot("admin-status-link-store-unreachable");
    kiosk.tap("admin-close");
    kiosk.wait("idle", 10);
    let (_card, inserted) = log_in(&mut kiosk, &stack);
    borrow_one_and_leave(&mut kiosk, inserted, kiosk_e2e::BOOKS[1], false);

    // Started again with the store still down, it lends from its snapshot.
    kiosk.quit();
    let snapshot = stack.dir.join("links.snapshot");
    assert!(snapshot.exists());
    let mut kiosk = Kiosk::start(&stack);
    kiosk.until("links=LinksFromSnapshot/0", 20);
    let (_card, inserted) = log_in(&mut kiosk, &stack);
    borrow_one_and_leave(&mut kiosk, inserted, kiosk_e2e::BOOKS[2], false);
    assert_eq!(stack.loans(kiosk_e2e::PATRON).len(), 3);
    kiosk.quit();

    // A snapshot changed on the board is refused, named in the log and on the staff
    // menu, and no card is recognised from it.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();
    let mut kiosk = Kiosk::start(&stack);
    kiosk.until("links=SnapshotRefused/0", 20);
    assert!(kiosk_e2e::log(&stack).contains("the link snapshot was refused"));
    assert!(kiosk_e2e::log(&stack).contains("its signature does not match"));
    the_card_is_not_linked(&mut kiosk, &stack);
    kiosk.quit();

    // The store is back: the kiosk catches up without anyone touching it.
    server.resume().unwrap();
    let mut kiosk = Kiosk::start(&stack);
    kiosk.until("links=LinksCurrent/1", 20);
    kiosk.quit();

    // The same card at a kiosk of another municipality (its own key, its own links):
    // not linked there.
    stack.shared_links(&stack.dir, &server, "kiosk-b", "132039", 0x5a, false);
    let mut kiosk = Kiosk::start(&stack);
    kiosk.until("links=LinksCurrent/0", 20);
    the_card_is_not_linked(&mut kiosk, &stack);
    kiosk.quit();
}
