//! Our ESC/POS bytes against python-escpos (PyPI), byte for byte, for every command both
//! libraries emit: init, justification, bold, plain text, the partial cut, and the
//! `GS v 0` raster of the patron barcode.
//!
//! python-escpos is installed into `target/py-venv` by `cargo xtask test` (or point
//! `KIOSK_PY_VENV` at a venv that has python-escpos 3.1).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

use kiosk_printer::{
    CheckDigit, Guard, JobSettings, LabelDate, LabelPaper, PaperWidth, Symbology, TokenKey, compose_label,
    symbology,
};

fn python() -> PathBuf {
    let venv = std::env::var_os("KIOSK_PY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/py-venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `cargo xtask test`, which installs python-escpos",
        python.display()
    );
    python
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn label_and_receipt_bytes_match_python_escpos_for_shared_commands() {
    let symbology = Symbology::Nw7 { start: Guard::A, stop: Guard::B, check: CheckDigit::None };
    let settings = JobSettings {
        library_name: "図書館".into(),
        kiosk_id: "K1".into(),
        paper: PaperWidth::Mm80,
        symbology,
        label_paper: LabelPaper::Marked,
        receipt_shows_patron: false,
    };
    let key = TokenKey::new(&[9; 32]).unwrap();
    let job = compose_label(
        &settings,
        "2300012345678",
        LabelDate::new(2026, 11, 23).unwrap(),
        &key,
        &kiosk_sim::printer::test_label_words(),
    )
    .unwrap();
    let receipt = kiosk_printer::compose_receipt(
        &settings,
        &kiosk_printer::Receipt {
            printed_at: "2026-11-23 14:05".into(),
            lines: vec![kiosk_printer::ReceiptLine {
                title: "こころ".into(),
                due: "2026-12-07".into(),
                renewed: false,
            }],
            refused: Vec::new(),
            patron: None,
            summary: Vec::new(),
        },
        &kiosk_sim::printer::test_receipt_words(1, 0),
    )
    .unwrap();
    let ours = [job.bytes(), receipt.bytes()].concat();
    let ours = ours.as_slice();

    // The same barcode image, handed to python-escpos as a PBM file.
    let barcode = symbology::render("2300012345678", symbology, PaperWidth::Mm80.dots(), 96).unwrap();
    let pbm = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reference-barcode.pbm");
    std::fs::write(&pbm, barcode.to_pbm()).unwrap();

    let out = Command::new(python())
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peer/escpos_reference.py"))
        .arg(&pbm)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let reference: Vec<(String, Vec<u8>)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("REF "))
        .map(|l| {
            let (name, h) = l.split_once(' ').unwrap();
            let bytes = hex(h);
            // python-escpos selects a code page (ESC t n) before text; in Kanji mode we
            // do not, so only the text itself is compared.
            let bytes =
                if name == "text" && bytes.starts_with(&[0x1b, b't']) { bytes[3..].to_vec() } else { bytes };
            (name.to_owned(), bytes)
        })
        .collect();
    assert_eq!(reference.len(), 8);
    for (name, bytes) in &reference {
        assert!(!bytes.is_empty(), "{name}");
        assert!(find(ours, bytes).is_some(), "python-escpos {name} = {bytes:02x?} is not in our label");
    }
    let get = |n: &str| &reference.iter().find(|(name, _)| name == n).unwrap().1;
    assert!(job.bytes().starts_with(get("init")), "the job starts with ESC @");
    assert!(job.bytes().ends_with(get("part_cut")), "a marked-paper label ends with the partial cut");
    // python-escpos has no label commands; before the cut comes `FS ( L` fn 66 m 48, "feed
    // paper to the cutting position" in Epson's manuals: 1C 28 4C 02 00 42 30.
    let feed_to_cut = [0x1c, 0x28, 0x4c, 0x02, 0x00, 0x42, 0x30];
    assert!(
        job.bytes().ends_with(&[feed_to_cut.as_slice(), get("part_cut")].concat()),
        "a marked-paper label feeds to the cut position, then cuts"
    );
    // The raster is the whole barcode, header and data, bit for bit.
    assert_eq!(get("raster").len(), 8 + barcode.data().len());
}
