//! `cargo bench -p kiosk-printer`: time to compose and encode a Method D label and a
//! 10-item receipt, the bytes sent, and the estimated print time at the printer's paper
//! speed. Prints figures; no harness (fast to build, nothing to download).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::hint::black_box;
use std::time::Instant;

use kiosk_printer::{
    CheckDigit, Guard, Job, JobSettings, LabelDate, LabelPaper, PaperWidth, Receipt, ReceiptLine, Symbology,
    TokenKey, compose_label, compose_receipt,
};

/// Paper speeds of common models, mm/s: TM-T20III (250), TM-L90 (150).
const SPEEDS: [(&str, u32); 2] = [("TM-T20III 250 mm/s", 250), ("TM-L90 150 mm/s", 150)];

fn time<F: FnMut() -> Job>(name: &str, iterations: u32, mut f: F) {
    let job = f();
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    let per = start.elapsed() / iterations;
    let speeds: Vec<String> =
        SPEEDS.iter().map(|(n, s)| format!("{} ms on {n}", job.estimated_ms(*s))).collect();
    println!(
        "{name:<28} compose+encode {:>8.1} µs   {:>6} bytes   {:>5.1} mm paper   print ≈ {}",
        per.as_secs_f64() * 1e6,
        job.bytes().len(),
        job.dot_rows() as f64 / 8.0,
        speeds.join(", ")
    );
}

fn main() {
    let quick = if std::env::args().any(|a| a == "--bench") { 200 } else { 5 };
    let key = TokenKey::new(&[7; 32]).unwrap();
    let today = LabelDate::new(2026, 11, 23).unwrap();
    for paper in [PaperWidth::Mm58, PaperWidth::Mm80] {
        let settings = JobSettings {
            library_name: "姫路市立城内図書館".into(),
            kiosk_id: "HIMEJI-01".into(),
            paper,
            symbology: Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None },
            label_paper: LabelPaper::Continuous,
            receipt_shows_patron: false,
        };
        let receipt = Receipt {
            printed_at: "2026-11-23 14:05".into(),
            lines: (1..=10)
                .map(|i| ReceiptLine {
                    title: format!("吾輩は猫である 第{i}巻 夏目漱石"),
                    due: "2026-12-07".into(),
                    renewed: false,
                })
                .collect(),
            refused: Vec::new(),
            patron: None,
            summary: Vec::new(),
        };
        // Words as long as the kiosk's Japanese ones.
        let receipt_words = kiosk_printer::ReceiptWords {
            heading: "貸出票".into(),
            due: "返却期限：{}".into(),
            total: "10冊を貸し出しました".into(),
            questions: "ご不明な点はカウンターでおたずねください。".into(),
            ..Default::default()
        };
        let label_words = kiosk_printer::LabelWords {
            valid_today: "本日限り有効".into(),
            scan_it: "自動貸出機でスキャンしてください。".into(),
        };
        let mm = if paper == PaperWidth::Mm58 { 58 } else { 80 };
        time(&format!("Method D label, {mm} mm"), quick, || {
            compose_label(&settings, "2300012345678", today, &key, &label_words).unwrap()
        });
        time(&format!("10-item receipt, {mm} mm"), quick, || {
            compose_receipt(&settings, &receipt, &receipt_words).unwrap()
        });
    }
}
