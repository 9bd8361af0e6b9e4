//! Item security end to end (the real binary, the card stack, the SIP2 simulator, and a
//! virtual TRF7970A RFID reader on a pseudo-terminal): a stack of tagged books placed at
//! once is lent and its AFI read back from the tags; a book on hold keeps "on shelf"; a
//! set with a part missing is refused with the part named, then lent when whole; a kill
//! between the checkout and the AFI write is settled at the next start; and the barcode
//! library's desensitizer pulses once per book lent, never for one refused.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use kiosk_e2e::{BOOKS, Kiosk, ON_HOLD, PATRON, Stack, log_in};
use kiosk_sim::card::stack::enter_private_stack;
use kiosk_sim::rfid::{VirtualReader, VirtualTag};

const ON_SHELF: u8 = 0x07;
const ON_LOAN: u8 = 0xC2;
const FOURTH: &str = "1000000004";
const SET: &str = "5000000001";

/// A library label in the Danish model (as rfidgeek writes it), on the shelf.
fn tagged(serial: u32, item: &str, parts: u8, part: u8) -> VirtualTag {
    VirtualTag::library_item(serial, item, parts, part)
}

/// Adds a section to the kiosk's configuration.
fn section(stack: &Stack, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(stack.dir.join("kiosk.toml")).unwrap();
    writeln!(f, "\n{text}").unwrap();
}

fn rfid_stack(journey: &str) -> (Stack, VirtualReader) {
    let stack = Stack::start(journey);
    stack.link(PATRON);
    stack.ils.catalogue(|c| {
        c.item(FOURTH, "四冊目");
        c.item(SET, "CD付き語学セット");
    });
    let reader = VirtualReader::start().unwrap();
    section(&stack, &format!("[rfid]\nreader = \"{}\"\n", reader.path().display()));
    (stack, reader)
}

fn afi(reader: &VirtualReader, tag: &VirtualTag) -> u8 {
    reader.tag(tag.uid).unwrap().afi
}

#[test]
fn five_tagged_books_at_once_four_lent_with_their_afi_switched_and_a_set_lent_only_whole() {
    if !enter_private_stack(
        "five_tagged_books_at_once_four_lent_with_their_afi_switched_and_a_set_lent_only_whole",
    ) {
        return;
    }
    let (stack, reader) = rfid_stack("rfid-five-books");
    let mut k = Kiosk::start(&stack);
    k.until("pad=0", 30);
    let (_card, inserted) = log_in(&mut k, &stack);
    // Five books at once (one on hold for another patron), and two of a set's three parts.
    let books: Vec<VirtualTag> = [BOOKS[0], BOOKS[1], BOOKS[2], FOURTH, ON_HOLD]
        .iter()
        .enumerate()
        .map(|(i, b)| tagged(0x100 + u32::try_from(i).unwrap(), b, 1, 1))
        .collect();
    let set: Vec<VirtualTag> = (1..=3).map(|p| tagged(0x200 + u32::from(p), SET, 3, p)).collect();
    for t in books.iter().chain([&set[0], &set[2]]) {
        reader.place(t.clone());
    }
    k.until("borrowed=4", 30);
    let scene = k.until("refused=2", 30);
    assert!(scene.contains("missing=2 "), "the set's missing part is named: {scene}");
    k.shot("five-books-and-part-of-a-set");
    let mut lent = stack.loans(PATRON);
    lent.sort();
    assert_eq!(lent, [BOOKS[0], BOOKS[1], BOOKS[2], FOURTH], "the library system lent the four");
    for t in &books[..4] {
        assert_eq!(afi(&reader, t), ON_LOAN, "a lent book's AFI is 'on loan'");
    }
    assert_eq!(afi(&reader, &books[4]), ON_SHELF, "the book on hold keeps 'on shelf'");
    for t in [&set[0], &set[2]] {
        assert_eq!(afi(&reader, t), ON_SHELF, "nothing of an incomplete set is switched");
    }
    // The missing part comes: the set is lent, every part switched.
    reader.place(set[1].clone());
    k.until("borrowed=5", 30);
    k.until("missing=none", 30);
    for t in &set {
        assert_eq!(afi(&reader, t), ON_LOAN, "every part of the set is 'on loan'");
    }
    // Every tag is seen again at every inventory: still lent once each.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(stack.loans(PATRON).len(), 5);
    assert_eq!(stack.ils.stats().duplicate_checkouts, 0);
    k.tap("finish");
    k.wait("refused", 10);
    k.shot("one-refused");
    k.tap("dismiss");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("ending", 10);
    inserted.remove();
    k.wait("idle", 20);
    k.quit();
}

#[test]
fn a_kill_between_the_checkout_and_the_afi_write_is_settled_at_the_next_start() {
    if !enter_private_stack("a_kill_between_the_checkout_and_the_afi_write_is_settled_at_the_next_start") {
        return;
    }
    let (stack, reader) = rfid_stack("rfid-kill");
    let book = tagged(0x300, BOOKS[0], 1, 1);
    let mut k = Kiosk::start(&stack);
    k.until("pad=0", 30);
    let (_card, inserted) = log_in(&mut k, &stack);
    // The reader hangs on the AFI write: the loan is made, its security not yet switched.
    reader.faults(|f| f.hang_afi_writes = true);
    reader.place(book.clone());
    let deadline = Instant::now() + Duration::from_secs(20);
    while reader.stats().held == 0 {
        assert!(Instant::now() < deadline, "the kiosk never wrote the AFI");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(stack.loans(PATRON), [BOOKS[0]], "the library system lent it before the AFI write");
    assert_eq!(k.journal_files(), 1, "the loan's intent is still open");
    k.kill();
    inserted.remove();
    assert_eq!(afi(&reader, &book), ON_SHELF, "killed before the write: the gate would alarm");
    reader.faults(|f| f.hang_afi_writes = false);
    // Restart: the open intent is settled with the library system, and its security with it.
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 30);
    assert_eq!(k.journal_files(), 0, "the journal was settled");
    assert_eq!(afi(&reader, &book), ON_LOAN, "lent, so its AFI is 'on loan' now");
    assert_eq!(stack.loans(PATRON), [BOOKS[0]], "lent once");
    k.quit();
}

#[test]
fn the_desensitizer_pulses_once_per_book_lent_and_never_for_one_refused() {
    if !enter_private_stack("the_desensitizer_pulses_once_per_book_lent_and_never_for_one_refused") {
        return;
    }
    let stack = Stack::start("desensitizer");
    stack.link(PATRON);
    section(&stack, "[desensitizer]\nbackend = \"simulated\"\n");
    let mut k = Kiosk::start(&stack);
    k.until("desensitized=0", 30);
    let (_card, inserted) = log_in(&mut k, &stack);
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    k.scan(ON_HOLD);
    k.until("refused=1", 20);
    k.scan("9999999999");
    k.until("refused=2", 20);
    k.scan(BOOKS[1]);
    k.until("borrowed=2", 20);
    let scene = k.until("desensitized=2", 20);
    assert!(scene.contains("unsecured=0"), "{scene}");
    k.tap("finish");
    k.wait("refused", 10);
    inserted.remove();
    k.wait("idle", 20);
    assert!(k.scene().contains(" desensitized=2 "), "two loans, two pulses: none for the two refused");
    k.quit();
}

#[test]
fn bad_tags_are_named_and_nothing_is_lent_without_its_security() {
    if !enter_private_stack("bad_tags_are_named_and_nothing_is_lent_without_its_security") {
        return;
    }
    let (stack, mut reader) = rfid_stack("rfid-bad-tags");
    let mut k = Kiosk::start(&stack);
    k.until("pad=0", 30);
    // A tag that is no library item (a transit card's data) is ignored, with a note to staff.
    reader.place(VirtualTag::blank(0x400).with_data(&[0x5A; 32]));
    k.until("newest_event=Some(TagIgnored)", 20);
    let (_card, inserted) = log_in(&mut k, &stack);
    // A book whose AFI is locked: lent by the library system, but its security cannot
    // follow: the patron is sent to the counter and staff are called.
    let mut locked = tagged(0x401, BOOKS[0], 1, 1);
    locked.afi_locked = true;
    reader.place(locked.clone());
    let scene = k.until("unsecured=1", 30);
    assert!(scene.contains("staff_called=true"), "{scene}");
    k.shot("locked-afi");
    assert_eq!(afi(&reader, &locked), ON_SHELF);
    // Two tags that say they are the same book: neither is lent.
    reader.place(tagged(0x402, BOOKS[1], 1, 1));
    reader.place(tagged(0x403, BOOKS[1], 1, 1));
    k.until("refused=1", 30);
    assert_eq!(stack.loans(PATRON), [BOOKS[0]], "only the locked book was lent");
    // The reader unplugged: the status says so; nothing more is lent.
    reader.unplug();
    k.until("pad=not-working", 20);
    k.shot("pad-not-working");
    k.tap("finish");
    k.wait("refused", 10);
    k.shot("refused-and-unsecured");
    inserted.remove();
    k.quit();
}
