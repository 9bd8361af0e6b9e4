//! Method D labels and receipts, end to end: composed by `kiosk-printer`, sent over a real
//! TCP socket to the virtual printer, rendered to an image, and read back by `zbarimg`
//! (Debian `zbar-tools`), a decoder nobody here wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kiosk_printer::symbology::verify_check_digit;
use kiosk_printer::transport::{self, TransportSpec};
use kiosk_printer::{
    CheckDigit, Guard, JobSettings, LabelDate, LabelError, LabelPaper, NotLent, PaperWidth, PrintError,
    Receipt, ReceiptLine, RefusedLine, Symbology, TokenKey, TokenRefusal, compose_label, compose_receipt,
    token,
};
use kiosk_sim::printer::{self, PrinterSink};

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("printer");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn today() -> LabelDate {
    LabelDate::new(2026, 11, 23).unwrap()
}

fn key() -> TokenKey {
    TokenKey::new(b"an example fleet key of 32 bytes!!").unwrap()
}

fn settings(paper: PaperWidth, symbology: Symbology) -> JobSettings {
    JobSettings {
        library_name: "姫路市立城内図書館".into(),
        kiosk_id: "HIMEJI-01".into(),
        paper,
        symbology,
        label_paper: LabelPaper::Continuous,
        receipt_shows_patron: false,
    }
}

/// Runs zbarimg on an image; returns the decoded symbols as "TYPE:data" lines.
fn zbar(image: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .arg("-q")
        .arg(image)
        .output()
        .expect("zbarimg (Debian zbar-tools) is installed by cargo xtask test");
    assert!(
        out.status.success(),
        "zbarimg found nothing in {}: {}",
        image.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// A patron number body with its check character appended, valid under `scheme`.
fn with_check(body: &str, scheme: CheckDigit, guards: Option<(Guard, Guard)>) -> String {
    let alphabet = "0123456789-$:/.+";
    alphabet
        .chars()
        .map(|c| format!("{body}{c}"))
        .find(|n| verify_check_digit(n, scheme, guards).is_ok())
        .unwrap()
}

fn render_one(bytes: &[u8], paper: PaperWidth, name: &str) -> PathBuf {
    let font = printer::load_font();
    let pages = printer::render(bytes, paper.dots(), font.as_ref());
    assert_eq!(pages.len(), 1, "{pages:?}");
    let path = out_dir().join(name);
    pages[0].save_png(&path).unwrap();
    path
}

#[test]
fn every_symbology_and_check_digit_scheme_decodes() {
    let guards = [(Guard::A, Guard::B), (Guard::C, Guard::D), (Guard::D, Guard::A), (Guard::B, Guard::C)];
    let schemes =
        [CheckDigit::None, CheckDigit::Mod10W21, CheckDigit::Mod11, CheckDigit::Mod16, CheckDigit::Mod7];
    for (i, scheme) in schemes.into_iter().enumerate() {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let (start, stop) = guards[i % guards.len()];
            let patron = with_check("230001234567", scheme, Some((start, stop)));
            let s = settings(paper, Symbology::Nw7 { start, stop, check: scheme });
            let job = compose_label(&s, &patron, today(), &key(), &printer::test_label_words()).unwrap();
            let png = render_one(job.bytes(), paper, &format!("nw7-{i}-{}.png", paper.dots()));
            let symbols = zbar(&png);
            let expected_bar =
                format!("Codabar:{}{patron}{}", start.as_byte() as char, stop.as_byte() as char);
            assert!(
                symbols.contains(&expected_bar),
                "{scheme:?} {paper:?}: {symbols:?} lacks {expected_bar}"
            );
            let qr = symbols.iter().find_map(|s| s.strip_prefix("QR-Code:")).unwrap();
            let verified = token::verify(qr, today(), &[key()]).unwrap();
            assert_eq!(verified.patron.as_str(), patron);
        }
    }
    for (i, patron) in ["LIB-000123", "2300012345678", "23000123456789"].into_iter().enumerate() {
        let s = settings(PaperWidth::Mm58, Symbology::Code128 { check: CheckDigit::None });
        let job = compose_label(&s, patron, today(), &key(), &printer::test_label_words()).unwrap();
        let symbols = zbar(&render_one(job.bytes(), PaperWidth::Mm58, &format!("code128-{i}.png")));
        assert!(symbols.contains(&format!("CODE-128:{patron}")), "{symbols:?}");
    }
    // CODE128 with every check-digit scheme it allows (mod 16 is NW-7's; see below), on
    // both papers, with an odd number of digits (code set B) and an even one (set C).
    let code128_schemes = [CheckDigit::Mod10W21, CheckDigit::Mod11, CheckDigit::Mod7];
    for (i, scheme) in code128_schemes.into_iter().enumerate() {
        for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
            for body in ["230001234567", "2300012345678"] {
                let patron = with_check(body, scheme, None);
                let s = settings(paper, Symbology::Code128 { check: scheme });
                let job = compose_label(&s, &patron, today(), &key(), &printer::test_label_words()).unwrap();
                let name = format!("code128-{i}-{}-{}.png", paper.dots(), patron.len());
                let symbols = zbar(&render_one(job.bytes(), paper, &name));
                let expected_bar = format!("CODE-128:{patron}");
                assert!(
                    symbols.contains(&expected_bar),
                    "{scheme:?} {paper:?}: {symbols:?} lacks {expected_bar}"
                );
                let qr = symbols.iter().find_map(|s| s.strip_prefix("QR-Code:")).unwrap();
                assert_eq!(token::verify(qr, today(), &[key()]).unwrap().patron.as_str(), patron);
            }
        }
    }
}

#[test]
fn code128_with_the_nw7_mod16_check_digit_is_refused_by_name() {
    let s = settings(PaperWidth::Mm80, Symbology::Code128 { check: CheckDigit::Mod16 });
    let err = compose_label(&s, "2300012345678", today(), &key(), &printer::test_label_words()).unwrap_err();
    assert!(
        matches!(err, PrintError::Label(LabelError::CheckDigitNotForCode128 { scheme: CheckDigit::Mod16 })),
        "{err}"
    );
    assert!(err.to_string().contains("printer.check_digit"), "{err}");
}

/// `FS ( L` function 66, m = 48 (Epson TM-L90 and TM-T88 manuals: "Feed paper to the
/// cutting position"; 48: no feed if the paper already waits there): `1C 28 4C 02 00 42 30`.
const FEED_TO_CUT_POSITION: [u8; 7] = [0x1c, 0x28, 0x4c, 0x02, 0x00, 0x42, 0x30];
/// `GS V 1`: partial cut, no feed.
const PARTIAL_CUT: [u8; 3] = [0x1d, 0x56, 0x01];
/// `GS V 66 n`: feed n dots past the cutter, then cut (continuous paper).
const FEED_AND_CUT: [u8; 3] = [0x1d, 0x56, 66];

fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

#[test]
fn a_black_mark_label_feeds_to_the_cut_position_before_the_cut() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    let mut s = settings(
        PaperWidth::Mm80,
        Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None },
    );
    s.label_paper = LabelPaper::Marked;
    let job = compose_label(&s, "2300012345678", today(), &key(), &printer::test_label_words()).unwrap();
    device(&sink, 2_000).print(&job).unwrap();
    let got = sink.job_bytes();
    assert_eq!(got, job.bytes(), "the printer got exactly the job");
    // The label ends with the feed to the cut position, then the cut, byte for byte; the
    // continuous-paper feed-and-cut is not sent.
    let end = [FEED_TO_CUT_POSITION.as_slice(), PARTIAL_CUT.as_slice()].concat();
    assert!(got.ends_with(&end), "the label ends {:02x?}", &got[got.len().saturating_sub(10)..]);
    assert_eq!(occurrences(&got, &FEED_TO_CUT_POSITION), 1);
    assert_eq!(occurrences(&got, &FEED_AND_CUT), 0);
    // The virtual printer reads it as that command, and the label still decodes.
    let (commands, unknown) = printer::parse_all(&got);
    assert_eq!(unknown, 0);
    assert_eq!(&commands[commands.len() - 2..], [printer::Command::LabelControl(66), printer::Command::Cut]);
    let png = render_one(&got, PaperWidth::Mm80, "label-black-mark.png");
    assert!(zbar(&png).contains(&"Codabar:A2300012345678B".to_owned()));
    // A continuous-paper label has the feed-and-cut instead.
    let continuous = label_job();
    assert_eq!(occurrences(continuous.bytes(), &FEED_TO_CUT_POSITION), 0);
    assert!(continuous.bytes().ends_with(&[0x1d, 0x56, 66, 96]));
}

#[test]
fn a_label_printed_yesterday_or_tampered_is_refused_when_scanned() {
    let s = settings(
        PaperWidth::Mm80,
        Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None },
    );
    let yesterday = LabelDate::new(2026, 11, 22).unwrap();
    let job = compose_label(&s, "2300012345678", yesterday, &key(), &printer::test_label_words()).unwrap();
    let symbols = zbar(&render_one(job.bytes(), PaperWidth::Mm80, "yesterday.png"));
    let qr = symbols.iter().find_map(|s| s.strip_prefix("QR-Code:")).unwrap();
    assert_eq!(token::verify(qr, today(), &[key()]), Err(TokenRefusal::WrongDay { printed: yesterday }));
    let tampered = qr.replace("2300012345678", "2300012345679");
    assert_eq!(token::verify(&tampered, yesterday, &[key()]), Err(TokenRefusal::BadSignature));
}

#[test]
fn bad_patron_numbers_are_refused_before_printing() {
    let nw7 = Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::Mod10W21 };
    let s = settings(PaperWidth::Mm58, nw7);
    let wrong_check = compose_label(&s, "79927398710", today(), &key(), &printer::test_label_words());
    assert!(matches!(
        wrong_check,
        Err(PrintError::Label(kiosk_printer::LabelError::CheckDigitMismatch { .. }))
    ));
    let s = settings(
        PaperWidth::Mm58,
        Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None },
    );
    let letters = compose_label(&s, "23-ABC", today(), &key(), &printer::test_label_words());
    assert!(matches!(letters, Err(PrintError::Label(kiosk_printer::LabelError::Unencodable { ch: 'A' }))));
}

fn receipt(lines: Vec<ReceiptLine>) -> Receipt {
    Receipt {
        printed_at: "2026-11-23 14:05".into(),
        lines,
        refused: Vec::new(),
        patron: Some("2300012345678".into()),
        summary: Vec::new(),
    }
}

/// Books the library system refused are listed after the loans, each with why (and the
/// library system's own words on a line of their own), so the patron takes them to the
/// counter.
#[test]
fn receipt_lists_the_refused_books_with_why() {
    let s = settings(PaperWidth::Mm58, Symbology::Code128 { check: CheckDigit::None });
    let mut r = receipt(vec![ReceiptLine {
        title: "吾輩は猫である".into(),
        due: "2026-12-07".into(),
        renewed: false,
    }]);
    r.refused = vec![
        RefusedLine { title: "こころ".into(), why: NotLent::OnHold, message: None },
        RefusedLine {
            title: "9784003101018".into(),
            why: NotLent::Other,
            message: Some("延滞資料があるため貸出できません".into()),
        },
    ];
    let job = compose_receipt(&s, &r, &printer::test_receipt_words(1, 2)).unwrap();
    let pages = printer::render(job.bytes(), PaperWidth::Mm58.dots(), printer::load_font().as_ref());
    pages[0].save_png(&out_dir().join("receipt-refused.png")).unwrap();
    let text = pages[0].lines.join("\n");
    assert!(text.contains("合計 Total: 1 冊"), "only the loan is counted: {text}");
    assert!(text.contains("貸出できなかった資料 Not lent: 2"), "{text}");
    let after = &text[text.find("Not lent").unwrap()..];
    for expected in
        ["1. こころ", "予約資料 Reserved", "2. 9784003101018", "延滞資料があるため貸出できま", "カウンター"]
    {
        assert!(after.contains(expected), "{expected:?} missing: {text}");
    }
    assert!(!text.contains("吾輩は猫である\n   予約"), "a loan is not marked refused: {text}");
}

#[test]
fn receipt_wraps_japanese_titles_and_substitutes_what_the_printer_lacks() {
    let titles = [
        "吾輩は猫である",
        "ノルウェイの森 上",
        "",
        &"とても長い書名".repeat(43), // 301 characters
        "髙橋さんの😺料理帖",
        "Harry Potter and the Philosopher's Stone",
        "こころ",
        "坊っちゃん",
        "Ｔｏｋｙｏ　ｇｕｉｄｅ",
        "ｶﾀｶﾅの本",
    ];
    let lines = titles
        .iter()
        .map(|t| ReceiptLine { title: (*t).to_owned(), due: "2026-12-07".into(), renewed: *t == "こころ" })
        .collect();
    let s = settings(PaperWidth::Mm58, Symbology::Code128 { check: CheckDigit::None });
    let job = compose_receipt(&s, &receipt(lines), &printer::test_receipt_words(10, 0)).unwrap();
    let font = printer::load_font();
    let pages = printer::render(job.bytes(), PaperWidth::Mm58.dots(), font.as_ref());
    assert_eq!(pages.len(), 1);
    pages[0].save_png(&out_dir().join("receipt-58.png")).unwrap();
    let text = pages[0].lines.join("\n");
    for l in &pages[0].lines {
        let w: usize = l
            .chars()
            .map(|c| if c.is_ascii() || ('\u{ff61}'..='\u{ff9f}').contains(&c) { 1 } else { 2 })
            .sum();
        assert!(w <= 32, "line wider than 58 mm paper: {l:?} ({w})");
    }
    assert!(text.contains("吾輩は猫である"));
    assert!(text.contains("〓橋さんの〓料理帖"), "{text}");
    assert!(text.contains("(無題 / untitled)"));
    assert!(text.contains("合計 Total: 10 冊"));
    assert_eq!(text.matches("貸出延長 Renewed").count(), 1, "the renewed book is marked: {text}");
    assert!(!text.contains("2300012345678"), "the patron number is off by default");
    assert_eq!(text.matches('?').count(), 1, "no garbage, only \"Questions?\": {text}");
}

#[test]
fn receipt_shows_only_a_masked_patron_number_when_turned_on() {
    let mut s = settings(PaperWidth::Mm80, Symbology::Code128 { check: CheckDigit::None });
    s.receipt_shows_patron = true;
    let job = compose_receipt(
        &s,
        &receipt(vec![ReceiptLine { title: "こころ".into(), due: "2026-12-07".into(), renewed: false }]),
        &printer::test_receipt_words(1, 0),
    )
    .unwrap();
    let pages = printer::render(job.bytes(), PaperWidth::Mm80.dots(), None);
    let text = pages[0].lines.join("\n");
    assert!(text.contains("*********5678"), "{text}");
    assert!(!text.contains("2300012345678"));
}

// ---- over TCP, with the printer misbehaving ---------------------------------------------

fn device(sink: &PrinterSink, timeout_ms: u64) -> kiosk_printer::Device<transport::AnyDriver> {
    let spec = TransportSpec::Tcp { host: "127.0.0.1".into(), port: sink.addr().port() };
    transport::open(&spec, Duration::from_millis(timeout_ms)).unwrap()
}

fn label_job() -> kiosk_printer::Job {
    let s = settings(
        PaperWidth::Mm80,
        Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None },
    );
    compose_label(&s, "2300012345678", today(), &key(), &printer::test_label_words()).unwrap()
}

#[test]
fn label_over_tcp_is_printed_whole_and_decodes() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    let job = label_job();
    let printed = device(&sink, 2_000).print(&job).unwrap();
    assert_eq!(printed.bytes, job.bytes().len());
    assert_eq!(sink.job_bytes(), job.bytes(), "the printer got exactly the job");
    let png = render_one(&sink.job_bytes(), PaperWidth::Mm80, "label-over-tcp.png");
    assert!(zbar(&png).contains(&"Codabar:A2300012345678B".to_owned()));
}

#[test]
fn paper_out_before_the_job_sends_nothing() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    sink.set(|s| s.paper_out = true);
    assert!(matches!(device(&sink, 2_000).print(&label_job()), Err(PrintError::OutOfPaper)));
    assert!(sink.job_bytes().is_empty());
}

#[test]
fn paper_running_out_during_the_job_is_reported() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    sink.set(|s| s.paper_runs_out_after = Some(5_000));
    assert!(matches!(device(&sink, 2_000).print(&label_job()), Err(PrintError::PaperRanOutDuringJob)));
}

#[test]
fn cover_open_and_offline_are_named() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    sink.set(|s| s.cover_open = true);
    assert!(matches!(device(&sink, 2_000).print(&label_job()), Err(PrintError::CoverOpen)));
    sink.set(|s| {
        s.cover_open = false;
        s.offline = true;
    });
    assert!(matches!(device(&sink, 2_000).print(&label_job()), Err(PrintError::Offline)));
}

#[test]
fn a_status_reply_that_never_comes_is_a_named_error() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    sink.set(|s| s.silent = true);
    // One wait, not several: under three timeouts, with seconds to spare on a busy machine.
    let device = device(&sink, 1_000);
    let t0 = std::time::Instant::now();
    let err = device.print(&label_job()).unwrap_err();
    assert!(matches!(err, PrintError::NoStatusReply { timeout_ms: 1_000 }), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(3), "took {:?} for a 1 s timeout", t0.elapsed());
    assert!(sink.job_bytes().is_empty());
}

/// A printer that floods the line with bytes nobody asked for (64 KiB after every status
/// reply): the device reads one byte per request and never the flood whole, so the
/// kiosk's memory does not grow (the flood waits in the kernel's socket buffers, which
/// TCP's flow control bounds); the first unasked byte read as a reply is named at once,
/// every later status too, each well within the 1 s status timeout, and nothing is
/// printed on a status that cannot be read.
#[test]
fn a_printer_that_floods_status_bytes_is_named_at_once_and_prints_nothing() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    // The first byte of an automatic status back block: not a DLE EOT reply.
    sink.set(|s| s.flood = Some(0x10));
    let device = device(&sink, 1_000);
    let t0 = std::time::Instant::now();
    let err = device.print(&label_job()).unwrap_err();
    assert!(matches!(err, PrintError::BadStatusReply { byte: 0x10 }), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(1), "took {:?}", t0.elapsed());
    for _ in 0..5 {
        let t = std::time::Instant::now();
        let err = device.status().unwrap_err();
        assert!(matches!(err, PrintError::BadStatusReply { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_secs(1), "took {:?}", t.elapsed());
    }
    assert!(err.to_string().contains("automatic status back off"), "the message says what to check: {err}");
    assert!(sink.job_bytes().is_empty(), "nothing is printed on a status the kiosk cannot read");
}

#[test]
fn printer_unplugged_mid_job_is_a_failure_not_a_success() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    sink.set(|s| s.disconnect_after = Some(3_000));
    let job = label_job();
    assert!(job.bytes().len() > 3_000);
    let err = device(&sink, 1_000).print(&job).unwrap_err();
    assert!(matches!(err, PrintError::Disconnected { .. }), "{err}");
    assert!(err.to_string().contains("cable"), "the message says what to check: {err}");
    assert!(sink.job_bytes().len() <= 3_000, "the printer never got the whole job");
}

#[test]
fn a_printer_that_hangs_up_is_disconnected_at_once_not_a_missing_reply() {
    // Accepts the connection and closes it straight away, like a printer switched off
    // after the kiosk connected.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hang_up = std::thread::spawn(move || drop(listener.accept().unwrap()));
    let timeout = Duration::from_secs(5);
    let device = transport::open(&TransportSpec::Tcp { host: "127.0.0.1".into(), port }, timeout).unwrap();
    hang_up.join().unwrap();
    let t0 = std::time::Instant::now();
    let err = device.print(&label_job()).unwrap_err();
    assert!(matches!(err, PrintError::Disconnected { .. }), "{err}");
    assert!(t0.elapsed() < timeout / 2, "waited {:?} for a connection that was closed", t0.elapsed());
}

#[test]
fn an_unreachable_printer_is_an_open_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err =
        transport::open(&TransportSpec::Tcp { host: "127.0.0.1".into(), port }, Duration::from_millis(500))
            .unwrap_err();
    assert!(matches!(err, PrintError::Open { .. }), "{err}");
    assert!(err.to_string().contains("printer.transport"));
}

#[test]
fn status_watcher_reports_paper_out_and_recovery() {
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    // The sink always answers: a generous timeout, so that a late answer on a busy
    // machine is not reported as an unreachable printer.
    let device = std::sync::Arc::new(std::sync::Mutex::new(device(&sink, 10_000)));
    let health = kiosk_printer::watch(device, Duration::from_millis(20));
    let first = health.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(first, kiosk_printer::Health::Status(Some(s)) if s.ready()), "{first:?}");
    sink.set(|s| s.paper_out = true);
    let out = health.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        matches!(out, kiosk_printer::Health::Status(Some(s)) if s.paper == kiosk_printer::Paper::Out),
        "{out:?}"
    );
    sink.set(|s| s.paper_out = false);
    let back = health.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(back, kiosk_printer::Health::Status(Some(s)) if s.ready()), "{back:?}");
}

#[test]
fn file_transport_writes_the_job_for_another_program() {
    let path = out_dir().join("spool.bin");
    let _ = std::fs::remove_file(&path);
    let device =
        transport::open(&TransportSpec::File { path: path.clone() }, Duration::from_millis(100)).unwrap();
    let job = label_job();
    let printed = device.print(&job).unwrap();
    assert_eq!(printed.status, None, "a file has no status to read");
    assert_eq!(std::fs::read(&path).unwrap(), job.bytes());
}

/// `printer.transport = "serial"` with `device`: the job goes out on the named serial
/// line (a pseudo-terminal pair here; the printer answers status requests on the other
/// end, as a real one does).
#[test]
fn a_serial_printer_gets_the_job_on_its_device() {
    use serialport::{SerialPort as _, TTYPort};
    let (mut master, slave) = TTYPort::pair().expect("a pseudo-terminal pair");
    let device = PathBuf::from(slave.name().expect("the slave's path"));
    master.set_timeout(Duration::from_millis(200)).unwrap();
    let sink = PrinterSink::start("127.0.0.1:0").unwrap();
    sink.serve_link(master);
    let spec = TransportSpec::Serial { device: device.clone(), baud: 19_200 };
    let printer = transport::open(&spec, Duration::from_secs(2)).unwrap();
    let job = label_job();
    let printed = printer.print(&job).unwrap();
    assert_eq!(printed.bytes, job.bytes().len());
    assert!(printed.status.is_some(), "the printer answered status on the line");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sink.job_bytes().len() < job.bytes().len() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(sink.job_bytes(), job.bytes(), "the whole job arrived on the line");
    drop((printer, slave));
}
