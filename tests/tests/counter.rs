//! Counter mode end to end: the real `kiosk` binary at a staffed counter, with pcscd and
//! the virtual card, the platform simulator's CRL and a local link store, the printer
//! sink and scans through the FIFO. Staff link the card to a library card; the patron's
//! number is then handed off by every method: A (digits), B (on-screen barcode, read
//! back with zbarimg), C (HID reports in a file, decoded for the layout), D (a label).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use kiosk_e2e::{Kiosk, Stack, read_barcodes, staff_login};
use kiosk_keyboard::{Layout, decode};
use kiosk_printer::symbology::verify_check_digit;
use kiosk_printer::{CheckDigit, Guard};
use kiosk_sim::card::CardConfig;
use kiosk_sim::card::stack::enter_private_stack;

/// `body` with the mod 10 (2-1) check digit the counter's config asks for.
fn with_check(body: &str) -> String {
    (0..=9)
        .map(|d| format!("{body}{d}"))
        .find(|n| verify_check_digit(n, CheckDigit::Mod10W21, Some((Guard::A, Guard::A))).is_ok())
        .unwrap()
}

/// The same number with a wrong check digit.
fn with_wrong_check(body: &str) -> String {
    let good = with_check(body);
    let last = good.as_bytes()[good.len() - 1] - b'0';
    format!("{body}{}", (last + 1) % 10)
}

fn hidg(stack: &Stack) -> PathBuf {
    let path = stack.dir.join("hidg0");
    std::fs::write(&path, b"").unwrap();
    path
}

fn typed(path: &Path, layout: Layout) -> String {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.len() % 8, 0, "whole 8-byte reports");
    let reports: Vec<[u8; 8]> = bytes.chunks(8).map(|c| c.try_into().unwrap()).collect();
    decode(&reports, layout)
}

/// Staff PIN, "Link a card", the card and its PIN; ends on the scan screen.
fn start_linking(k: &mut Kiosk, stack: &Stack) -> kiosk_sim::card::Inserted {
    k.wait("idle", 30);
    staff_login(k);
    k.tap("admin-link-card");
    k.wait("link-waiting", 10);
    k.shot("link-waiting");
    let (_card, inserted) = stack.card(CardConfig::default());
    k.pin("1234");
    k.wait("linking", 30);
    inserted
}

#[test]
fn staff_link_a_card_then_every_method_hands_the_number_off() {
    if !enter_private_stack("staff_link_a_card_then_every_method_hands_the_number_off") {
        return;
    }
    let stack = Stack::start("counter");
    let keyboard = hidg(&stack);
    stack.counter(&keyboard, "jis");
    let patron = with_check("230012345678");
    let mut k = Kiosk::start(&stack);

    // Not linked yet: the counter says so.
    let (_card, inserted) = stack.card(CardConfig::default());
    k.pin("1234");
    let scene = k.until("notice=NotLinked", 30);
    assert!(scene.contains("screen=ending"), "{scene}");
    drop(inserted);

    // Registration: a misread library card is refused by its check digit, then linked.
    let inserted = start_linking(&mut k, &stack);
    assert!(k.scene().contains("current=false"), "not linked yet");
    k.shot("linking");
    k.scan(&with_wrong_check("230012345678"));
    k.until("bad_scan=true", 10);
    k.shot("linking-bad-check-digit");
    assert_eq!(std::fs::read_to_string(stack.dir.join("links.txt")).ok(), None, "nothing saved");
    k.scan(&patron);
    k.until("notice=Linked", 10);
    k.shot("linked");
    drop(inserted);
    let store = std::fs::read_to_string(stack.dir.join("links.txt")).unwrap();
    assert!(store.starts_with("kiosk-links v1\n") && store.lines().count() == 2, "{store}");
    assert!(store.contains(&patron), "the link store maps a keyed hash to the library card");
    let serial_hex: String = stack.serial.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!store.contains(&serial_hex), "the serial is never stored in clear");

    // The patron at the counter: method A first.
    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.pin("1234");
    k.wait("hand-off", 30);
    assert!(k.scene().contains("handoff=Digits/"), "method A is shown first");
    k.shot("method-a-digits");
    // B: the screen's barcode, read back by an independent decoder.
    k.tap("method-barcode");
    k.until("handoff=Barcode", 10);
    let shot = k.shot("method-b-barcode");
    assert_eq!(read_barcodes(&shot), vec![patron.clone()], "zbarimg reads the patron number off the screen");
    // C: typed into the counter PC as a JIS keyboard.
    k.tap("method-keyboard");
    k.until("handoff=Keyboard/Typed", 10);
    k.shot("method-c-typed");
    assert!(stack.dir.join("session-active").exists(), "the update agent sees a session running");
    assert_eq!(typed(&keyboard, Layout::Jis), format!("{patron}\n"));
    // A second tap on C does not type it twice.
    k.tap("method-digits");
    k.until("handoff=Digits/", 10);
    k.tap("method-keyboard");
    k.until("handoff=Keyboard/Typed", 10);
    assert_eq!(typed(&keyboard, Layout::Jis), format!("{patron}\n{patron}\n"), "typed again only when asked");
    // D: a label, whose token carries the number.
    let before = stack.printer.job_bytes().len();
    k.tap("method-label");
    k.until("notice=LabelPrinted", 20);
    let label = stack.printer.job_bytes()[before..].to_vec();
    let token = kiosk_e2e::decode_token(&stack, &label);
    assert!(!token.is_empty());
    drop(inserted);
    k.wait("idle", 20);
    k.scene();
    assert!(!stack.dir.join("session-active").exists(), "idle: updates may install");

    // Nothing personal in the log.
    let log = kiosk_e2e::log(&stack);
    assert!(!log.contains(&patron), "the log never holds the patron number");
    assert!(!log.contains(&serial_hex), "nor the serial");
    k.quit();
}

#[test]
fn relinking_needs_confirmation_and_a_link_can_be_removed() {
    if !enter_private_stack("relinking_needs_confirmation_and_a_link_can_be_removed") {
        return;
    }
    let stack = Stack::start("counter-relink");
    let keyboard = hidg(&stack);
    stack.counter(&keyboard, "us");
    // This counter's library system wants Tab after the number (counter.keyboard_terminator).
    stack.setting("counter", "keyboard_terminator = \"tab\"");
    let first = with_check("230011111111");
    let second = with_check("230022222222");
    let mut k = Kiosk::start(&stack);

    let inserted = start_linking(&mut k, &stack);
    k.scan(&first);
    k.until("notice=Linked", 10);
    drop(inserted);

    // The card is linked to `first`; scanning `second` asks staff first.
    let inserted = start_linking(&mut k, &stack);
    assert!(k.scene().contains("current=true"));
    k.scan(&second);
    k.until("link=ConfirmCard", 10);
    k.shot("link-confirm-replace");
    k.tap("link-confirm");
    k.until("notice=Linked", 10);
    drop(inserted);

    // Now the card hands off `second`, typed on a US layout, then Tab.
    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.pin("1234");
    k.wait("hand-off", 30);
    assert!(k.scene().contains("handoff=Digits/"), "method A is shown first");
    k.tap("method-keyboard");
    k.until("handoff=Keyboard/Typed", 10);
    assert_eq!(typed(&keyboard, Layout::Us), format!("{second}\t"));
    k.tap("finish");
    drop(inserted);

    // Remove the link: the card is not linked any more.
    let inserted = start_linking(&mut k, &stack);
    k.tap("link-remove");
    k.until("notice=Unlinked", 10);
    drop(inserted);
    let store = std::fs::read_to_string(stack.dir.join("links.txt")).unwrap();
    assert_eq!(store.lines().count(), 1, "only the header is left: {store}");
    k.quit();
}

#[test]
fn a_missing_usb_keyboard_is_shown_and_the_other_methods_still_work() {
    if !enter_private_stack("a_missing_usb_keyboard_is_shown_and_the_other_methods_still_work") {
        return;
    }
    let stack = Stack::start("counter-no-gadget");
    let keyboard = hidg(&stack);
    stack.counter(&stack.dir.join("no-such-hidg0"), "jis");
    let patron = with_check("230033333333");
    let mut k = Kiosk::start(&stack);
    let inserted = start_linking(&mut k, &stack);
    k.scan(&patron);
    k.until("notice=Linked", 10);
    drop(inserted);

    k.wait("idle", 20);
    let (_card, inserted) = stack.card(CardConfig::default());
    k.pin("1234");
    k.wait("hand-off", 30);
    assert!(k.scene().contains("handoff=Digits/"), "method A is shown first");
    k.tap("method-keyboard");
    k.until("handoff=Keyboard/NoKeyboard", 10);
    k.shot("method-c-no-keyboard");
    assert_eq!(std::fs::read(&keyboard).unwrap(), b"", "nothing typed anywhere");
    k.tap("method-barcode");
    k.until("handoff=Barcode", 10);
    let shot = k.shot("method-b-after-no-keyboard");
    assert_eq!(read_barcodes(&shot), vec![patron]);
    k.tap("finish");
    drop(inserted);
    k.wait("idle", 20);
    // The admin screen names the missing device.
    staff_login(&mut k);
    k.shot("admin-status-no-keyboard");
    let log = kiosk_e2e::log(&stack);
    assert!(log.contains("no-such-hidg0"), "the log names the missing device");
    k.quit();
}

#[test]
fn a_self_checkout_kiosk_refuses_counter_actions() {
    if !enter_private_stack("a_self_checkout_kiosk_refuses_counter_actions") {
        return;
    }
    let stack = Stack::start("self-checkout-refuses-counter");
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 30);
    staff_login(&mut k);
    k.tap("admin-link-card");
    let scene = k.scene();
    assert!(scene.contains("screen=admin-menu"), "still in the staff menu: {scene}");
    k.tap("admin-close");
    k.wait("idle", 10);
    k.tap("method-digits");
    k.tap("link-confirm");
    assert!(k.scene().contains("screen=idle"));
    k.quit();
}
