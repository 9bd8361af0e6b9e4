//! The patron's account end to end (the real binary, the SIP2 simulator over TCP, the
//! virtual printer): 50 loans with 3 overdue and 2 holds ready, renew all with two
//! refused by the library's rules, a receipt of the renewals with the account's summary
//! decoded from the printer's bytes; and a kiosk killed while a renewal is out, reconciled at the next start and
//! never renewed twice; three books returned without a card (one to the hold shelf, one
//! not on loan), and a kiosk killed while a return is out, reconciled, never twice.

use std::time::{Duration, Instant};

use kiosk_e2e::{BOOKS, Kiosk, PATRON, Stack, log, log_in, printed_text, read_barcodes};
use kiosk_ils::SipDate;
use kiosk_sim::card::stack::enter_private_stack;

/// A SIP2 date `days` from now (negative: past).
fn date(days: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    SipDate::from_unix(i64::try_from(now).unwrap_or(0) + days * 86_400, 9 * 3600).to_string()
}

/// 50 loans for [`PATRON`] (3 overdue; 2 that another patron waits for) and 2 holds ready.
fn fifty_loans(stack: &Stack) -> Vec<String> {
    let mut items = Vec::new();
    stack.ils.catalogue(|c| {
        c.loan_limit = 100;
        for n in 0..50i64 {
            let id = format!("70000{n:05}");
            c.item(&id, &format!("長い貸出 {n}"));
            c.lend(&id, PATRON, &date(if n < 3 { n - 3 } else { n }));
            items.push(id);
        }
        c.hold("7000000010", "P0001");
        c.hold("7000000011", "P0002");
        for (id, title) in [("7100000001", "予約本 一"), ("7100000002", "予約本 二")] {
            c.item(id, title);
            if let Some(i) = c.items.get_mut(id) {
                i.state = kiosk_sim::sip2::ItemState::OnHoldFor(PATRON.into());
            }
        }
    });
    items
}

#[test]
fn a_patron_with_fifty_loans_renews_all_and_takes_a_receipt_of_the_renewals() {
    if !enter_private_stack("a_patron_with_fifty_loans_renews_all_and_takes_a_receipt_of_the_renewals") {
        return;
    }
    let stack = Stack::start("account-renew-all");
    stack.link(PATRON);
    let items = fifty_loans(&stack);
    let mut k = Kiosk::start(&stack);
    // The account is private: only for a patron who proved who they are (card and PIN).
    let (_card, inserted) = log_in(&mut k, &stack);
    k.shot("borrowing");
    k.tap("account");
    let scene = k.until("account=Shown", 30);
    assert!(scene.contains("loans=50/overdue=3/holds=2/blocks=0"), "{scene}");
    assert!(scene.contains("page=1of13"), "4 loans a page: {scene}");
    k.shot("account");
    k.tap("renew-all");
    // The library system has answered all 50 (a scene from before the tap also says
    // renewing=0), then the screen has the last answer.
    let deadline = Instant::now() + Duration::from_secs(60);
    let asked = |i: &String| stack.ils.item(i).is_some_and(|it| it.renewals_executed > 0);
    while items.iter().filter(|i| asked(i)).count() < 48 {
        assert!(Instant::now() < deadline, "renew-all did not finish");
        std::thread::sleep(Duration::from_millis(10));
    }
    k.until("renewing=0", 60);
    // The library system renewed each renewable loan once, and refused the two held ones.
    let renewed: Vec<&String> =
        items.iter().filter(|i| stack.ils.item(i).is_some_and(|it| it.renewals_executed == 1)).collect();
    assert_eq!(renewed.len(), 48);
    assert!(items.iter().all(|i| stack.ils.item(i).is_some_and(|it| it.renewals_executed <= 1)));
    for held in ["7000000010", "7000000011"] {
        assert_eq!(stack.ils.item(held).unwrap().renewals_executed, 0, "{held}");
    }
    let scene = k.scene();
    assert!(scene.contains("overdue=0"), "the overdue ones are renewed: {scene}");
    k.shot("renewed");
    // The held ones are on the page they sort to: find it, and see them said.
    let mut refused_seen = 0;
    for page in 1..=13 {
        // A tap is taken before the kiosk has acted on it: wait for the page itself.
        let scene = k.until(&format!("page={page}of13"), 10);
        let n: usize = scene
            .split("not_renewed=")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if n > 0 && refused_seen == 0 {
            k.shot("not-renewed");
        }
        refused_seen += n;
        k.tap("account-next");
    }
    assert_eq!(refused_seen, 2, "both refusals shown on their lines");
    k.tap("finish");
    k.wait("receipt-choice", 10);
    k.shot("receipt-choice");
    k.tap("print-receipt-account");
    k.wait("ending", 30);
    inserted.remove();
    k.wait("idle", 30);
    let printed = printed_text(&stack);
    assert!(printed.contains("48冊の貸出を延長しました"), "{printed}");
    // The account's summary the patron asked for: counts and a date, no titles beyond
    // the renewed ones above.
    assert!(printed.contains("50冊を借りています"), "{printed}");
    assert!(printed.contains("次の返却期限："), "{printed}");
    assert!(printed.contains("予約の本が2冊用意できています"), "{printed}");
    assert!(!printed.contains("0冊を貸し出しました"), "{printed}");
    assert!(!printed.contains(PATRON));
    k.quit();
}

#[test]
fn a_kiosk_killed_during_a_renewal_reconciles_it_and_never_renews_twice() {
    if !enter_private_stack("a_kiosk_killed_during_a_renewal_reconciles_it_and_never_renews_twice") {
        return;
    }
    let stack = Stack::start("account-power-cut");
    stack.link(PATRON);
    let before = date(4);
    stack.ils.catalogue(|c| {
        c.item("7200000001", "停電中の延長");
        c.lend("7200000001", PATRON, &before);
    });
    let mut k = Kiosk::start(&stack);
    let (_card, inserted) = log_in(&mut k, &stack);
    k.tap("account");
    k.until("account=Shown", 30);
    // The library system renews but answers late; the kiosk dies meanwhile.
    stack.ils.faults(|f| f.delay_renewal_reply = Some(Duration::from_secs(5)));
    k.tap("renew-1");
    let deadline = Instant::now() + Duration::from_secs(10);
    while stack.ils.item("7200000001").is_none_or(|i| i.renewals_executed == 0) {
        assert!(Instant::now() < deadline, "the renewal never reached the library system");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(k.journal_files(), 1, "the intent was journalled before sending");
    k.kill();
    inserted.remove();
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 30);
    assert_eq!(k.journal_files(), 0, "the journal was settled");
    assert_eq!(stack.ils.item("7200000001").unwrap().renewals_executed, 1, "renewed once, not again");
    let log = log(&stack);
    assert!(
        log.contains("found=\"renewed\"") || log.contains("found=renewed"),
        "reconciled as renewed:\n{log}"
    );
    assert!(!log.contains(PATRON) && !log.contains("7200000001"), "no patron or item in the log");
    k.quit();
}

/// The stack's kiosk with returns on.
fn returns_kiosk(stack: &Stack) -> Kiosk {
    stack.setting("library", "returns = true");
    Kiosk::start(stack)
}

#[test]
fn three_books_are_returned_without_a_card_one_to_the_hold_shelf() {
    if !enter_private_stack("three_books_are_returned_without_a_card_one_to_the_hold_shelf") {
        return;
    }
    let stack = Stack::start("returns");
    stack.ils.catalogue(|c| {
        for (n, id) in ["7300000001", "7300000002", "7300000003"].iter().enumerate() {
            c.item(id, &format!("返す本 {n}"));
            c.lend(id, PATRON, &date(3));
        }
        c.hold("7300000002", "P0001");
    });
    let mut k = returns_kiosk(&stack);
    k.wait("idle", 20);
    k.shot("idle-with-returns");
    k.tap("return");
    k.wait("returning", 10);
    for (i, id) in ["7300000001", "7300000002", "7300000003"].iter().enumerate() {
        k.scan(id);
        k.until(&format!("returned={}", i + 1), 20);
    }
    // And one nobody has: not on loan, said, nothing changed.
    k.scan("1000000001");
    k.until("refused=1", 20);
    k.shot("returned");
    k.tap("finish");
    k.wait("ending", 10);
    k.shot("thank-you");
    k.tap("dismiss");
    k.wait("idle", 20);
    assert!(stack.loans(PATRON).is_empty(), "all three are back");
    let held = stack.ils.item("7300000002").unwrap();
    assert_eq!(held.state, kiosk_sim::sip2::ItemState::OnHoldFor("P0001".into()), "to the hold shelf");
    for id in ["7300000001", "7300000002", "7300000003"] {
        assert_eq!(stack.ils.item(id).unwrap().returns_executed, 1, "{id} returned once");
    }
    assert_eq!(k.journal_files(), 0);
    k.quit();
}

#[test]
fn a_kiosk_killed_during_a_return_reconciles_it_and_never_returns_twice() {
    if !enter_private_stack("a_kiosk_killed_during_a_return_reconciles_it_and_never_returns_twice") {
        return;
    }
    let stack = Stack::start("returns-power-cut");
    stack.ils.catalogue(|c| {
        c.item("7400000001", "停電中の返却");
        c.lend("7400000001", PATRON, &date(3));
    });
    let mut k = returns_kiosk(&stack);
    k.wait("idle", 20);
    k.tap("return");
    k.wait("returning", 10);
    stack.ils.faults(|f| f.delay_return_reply = Some(Duration::from_secs(5)));
    k.scan("7400000001");
    let deadline = Instant::now() + Duration::from_secs(10);
    while stack.ils.item("7400000001").is_none_or(|i| i.returns_executed == 0) {
        assert!(Instant::now() < deadline, "the return never reached the library system");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(k.journal_files(), 1, "the intent was journalled before sending");
    k.kill();
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 30);
    assert_eq!(k.journal_files(), 0, "the journal was settled");
    assert_eq!(stack.ils.item("7400000001").unwrap().returns_executed, 1, "returned once, not again");
    let log = log(&stack);
    assert!(log.contains("found=\"returned\"") || log.contains("found=returned"), "reconciled:\n{log}");
    assert!(!log.contains("7400000001"), "no item in the log");
    k.quit();
}

/// `library_card_login = "barcode+password"`: the library card's barcode, then the
/// patron's library password, checked by the library system (23 with AD, answered in
/// CQ). Wrong twice, a warning before the last try here, then right: the patron borrows
/// and sees the account. Then three wrong: sent to staff, and no fourth password is sent.
#[test]
fn a_library_card_with_its_password_borrows_and_sees_the_account() {
    if !enter_private_stack("a_library_card_with_its_password_borrows_and_sees_the_account") {
        return;
    }
    let stack = Stack::start("library-card-password");
    stack.setting("card", r#"library_card_login = "barcode+password""#);
    stack.ils.catalogue(|c| {
        c.patron(PATRON, "End To End", Some("864209"), false);
        c.item("7400000001", "借りている本");
        c.lend("7400000001", PATRON, &date(5));
    });
    let asked = || stack.ils.stats().requests.get("23").copied().unwrap_or(0);
    let mut k = Kiosk::start(&stack);
    k.wait("idle", 20);
    k.scan(PATRON);
    k.wait("password", 20);
    assert_eq!(asked(), 0, "nothing is asked before the patron types");
    k.shot("password");
    k.pin("111111");
    k.until("tries_left=Some(2)", 20);
    k.shot("password-wrong");
    k.pin("222222");
    k.until("pin=LastTryWarning", 20);
    k.shot("password-last-try");
    k.tap("acknowledge-last-try");
    k.pin("864209");
    k.wait("borrowing", 20);
    assert_eq!(asked(), 3, "each password the patron typed, once; none by the kiosk");
    k.scan(BOOKS[0]);
    k.until("borrowed=1", 20);
    // The password proved who the patron is: the account opens.
    k.tap("account");
    let scene = k.until("account=Shown", 30);
    assert!(scene.contains("loans=2/"), "the loan from before and today's: {scene}");
    k.tap("finish");
    k.wait("receipt-choice", 10);
    k.tap("no-receipt");
    k.wait("ending", 20);
    k.wait("idle", 30);
    assert!(stack.loans(PATRON).contains(&BOOKS[0].to_owned()));

    // Three wrong: the patron is sent to staff, and the kiosk stops asking.
    k.scan(PATRON);
    k.wait("password", 20);
    k.pin("111111");
    k.until("tries_left=Some(2)", 20);
    k.pin("222222");
    k.until("pin=LastTryWarning", 20);
    k.tap("acknowledge-last-try");
    k.pin("333333");
    let scene = k.until("notice=PasswordRefused", 20);
    assert!(scene.contains("screen=ending") && scene.contains("staff_called=true"), "{scene}");
    k.shot("password-refused");
    assert_eq!(asked(), 6);
    let log = log(&stack);
    assert!(!log.contains(PATRON), "no patron number in the log");
    for typed in ["864209", "111111", "222222", "333333"] {
        assert!(!log.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == typed), "{typed} in the log");
    }
    k.quit();
}

/// The label cases under `library_card_login = "barcode+password"`: a Method D label's
/// linear barcode is the patron number and reads as a library card, so it asks for the
/// password; the label's signed token logs in without it, once.
#[test]
fn with_passwords_a_label_s_linear_barcode_asks_for_it_and_its_token_works_once() {
    if !enter_private_stack("with_passwords_a_label_s_linear_barcode_asks_for_it_and_its_token_works_once") {
        return;
    }
    let stack = Stack::start("label-with-passwords");
    stack.link(PATRON);
    stack.setting("card", r#"library_card_login = "barcode+password""#);
    stack.ils.catalogue(|c| c.patron(PATRON, "End To End", Some("864209"), false));
    let asked = || stack.ils.stats().requests.get("23").copied().unwrap_or(0);
    let mut k = Kiosk::start(&stack);
    let before = stack.printer.job_bytes().len();
    let (_card, inserted) = log_in(&mut k, &stack);
    k.tap("print-label");
    k.wait("ending", 30);
    inserted.remove();
    k.wait("idle", 20);
    let label = stack.printer.job_bytes()[before..].to_vec();
    let pages = kiosk_sim::printer::render(&label, kiosk_printer::PaperWidth::Mm58.dots(), None);
    let png = stack.dir.join("label.png");
    pages.first().expect("the label has a page").save_png(&png).unwrap();
    let symbols = read_barcodes(&png);
    let token = symbols.iter().find(|s| s.starts_with("MD1*")).expect("the token").clone();
    let linear = symbols.iter().find(|s| s.as_str() == PATRON).expect("the patron number in NW-7").clone();

    let before = asked();
    k.scan(&linear);
    k.wait("password", 20);
    assert_eq!(asked(), before, "nothing asked before the password");
    k.tap("cancel");
    k.wait("ending", 10);
    k.tap("dismiss");
    k.wait("idle", 20);
    k.scan(&token);
    k.wait("borrowing", 20);
    k.tap("finish");
    k.wait("ending", 20);
    k.wait("idle", 30);
    // A photocopy of it, the same day after it was used: refused.
    k.scan(&token);
    let scene = k.until("Label", 20);
    assert!(scene.contains("LabelUsed"), "{scene}");
    k.quit();
}
