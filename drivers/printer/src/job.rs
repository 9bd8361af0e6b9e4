//! Composing jobs: a Method D label and a loan receipt as one buffer of ESC/POS bytes.
//!
//! Jobs are composed with the `escpos` crate into memory and sent in one write, so a
//! half-composed job is never printed. Where the crate has no command, raw bytes go
//! through `Printer::custom`, each named here:
//! - Kanji mode (`FS C 1` Shift_JIS, `FS &` on): the crate has none;
//! - raster images (`GS v 0`), written from our own [`Bitmap`] rather than through the
//!   crate's image path, which resizes and thresholds (barcodes must be bit-exact);
//! - label paper: `FS ( L` fn 66 (feed to the cutting position) before the cut.
//!
//! Receipt text is sent as Shift_JIS in Kanji mode, not as a raster: 20–50× fewer bytes,
//! the printer's own sharp Kanji font, and no 4–16 MB CJK font in the image. Characters
//! the printer lacks are replaced by 〓, never sent as garbage (see [`crate::text`]).

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol};

use crate::bitmap::Bitmap;
use crate::error::{LabelError, PrintError};
use crate::symbology::{self, Symbology};
use crate::text;
use crate::token::{self, LabelDate, TokenKey};

/// Paper roll width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperWidth {
    Mm58,
    Mm80,
}

impl PaperWidth {
    /// Printable dots at 203 dpi (8 dots/mm).
    #[must_use]
    pub fn dots(self) -> usize {
        match self {
            PaperWidth::Mm58 => 384,
            PaperWidth::Mm80 => 576,
        }
    }

    /// Font A (12 dots) columns.
    #[must_use]
    pub fn columns(self) -> usize {
        self.dots() / 12
    }
}

/// How labels are separated on the roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelPaper {
    /// Plain receipt roll: the label is cut like a receipt.
    Continuous,
    /// Die-cut labels with a gap, or black-mark paper: feed to the cut position first.
    Marked,
}

/// Everything the jobs need that does not change per patron.
#[derive(Clone, Debug)]
pub struct JobSettings {
    pub library_name: String,
    pub kiosk_id: String,
    pub paper: PaperWidth,
    pub symbology: Symbology,
    pub label_paper: LabelPaper,
    /// Print the patron number, masked to its last four characters, on receipts.
    pub receipt_shows_patron: bool,
}

/// A composed job.
#[derive(Clone, PartialEq, Eq)]
pub struct Job {
    bytes: Vec<u8>,
    /// Dot rows fed (text lines count 24 dots + spacing), for the print-time estimate.
    dot_rows: usize,
}

impl core::fmt::Debug for Job {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Job({} bytes, {} dot rows)", self.bytes.len(), self.dot_rows)
    }
}

impl Job {
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Paper length in dot rows (8 per mm).
    #[must_use]
    pub fn dot_rows(&self) -> usize {
        self.dot_rows
    }

    /// Estimated print time in milliseconds at `mm_per_s` paper speed.
    #[must_use]
    pub fn estimated_ms(&self, mm_per_s: u32) -> u64 {
        (self.dot_rows as u64 * 1000) / (8 * u64::from(mm_per_s.max(1)))
    }
}

/// One line of a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptLine {
    pub title: String,
    /// The due date in the patron's words (12月7日（月）).
    pub due: String,
    /// The library system renewed a book the patron already had (scanned again) instead
    /// of lending it anew: marked, with the new due date.
    pub renewed: bool,
}

/// Why a book on the receipt was not lent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotLent {
    NotInCatalogue,
    OnHold,
    OnLoan,
    Other,
    NoAnswer,
}

/// The words a receipt is printed with, in the patron's language, from the kiosk's
/// message catalogues (the driver holds no words of its own). Counts and dates are
/// already worded by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptWords {
    /// 貸出票 / Loan receipt.
    pub heading: String,
    /// For a book the library system gave no title.
    pub untitled: String,
    /// A book renewed rather than lent.
    pub renewed: String,
    /// Each book's due date, `{}` standing for the date (worded by the caller in
    /// [`ReceiptLine::due`]).
    pub due: String,
    /// How many books were lent ("" on a receipt of renewals only).
    pub total: String,
    /// How many were renewed ("" when none were).
    pub renewed_total: String,
    /// How many were not lent.
    pub not_lent: String,
    /// Why a book was not lent, by [`NotLent`] (in its order).
    pub why: [String; 5],
    /// After the books not lent: take them to the counter.
    pub to_counter: String,
    /// The masked patron number, worded (`{}` stands for it).
    pub patron: String,
    /// The last line.
    pub questions: String,
}

impl NotLent {
    fn index(self) -> usize {
        match self {
            NotLent::NotInCatalogue => 0,
            NotLent::OnHold => 1,
            NotLent::OnLoan => 2,
            NotLent::Other => 3,
            NotLent::NoAnswer => 4,
        }
    }
}

/// The words a Method D label is printed with, in the patron's language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelWords {
    /// 本日限り有効 / valid today only.
    pub valid_today: String,
    /// What to do with it.
    pub scan_it: String,
}

/// A book the patron scanned and did not get: listed so they take it to the counter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedLine {
    /// The title, or the item's barcode when the library system gave no title.
    pub title: String,
    pub why: NotLent,
    /// The library system's own words, printed on a line of their own.
    pub message: Option<String>,
}

/// A loan receipt. (`Debug` shows titles: never log it.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Local date and time, already formatted (`2026-11-23 14:05`).
    pub printed_at: String,
    pub lines: Vec<ReceiptLine>,
    /// Books not lent, after the loans.
    pub refused: Vec<RefusedLine>,
    /// The patron number; printed masked, and only if [`JobSettings::receipt_shows_patron`].
    pub patron: Option<String>,
    /// The account summary the patron asked for (books on loan, the next due date, holds
    /// ready), one line each, already worded; empty for a receipt of this visit only.
    pub summary: Vec<String>,
}

/// In-memory driver the composer writes into.
#[derive(Clone, Default)]
struct Capture(Rc<RefCell<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".to_owned()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// Line height in dots for Font A text with the default spacing.
const TEXT_ROW: usize = 30;

/// Writes jobs; wraps the crate's printer so each raw command is named once.
struct Composer {
    printer: Printer<Capture>,
    capture: Capture,
    dot_rows: usize,
}

fn compose_err(e: escpos::errors::PrinterError) -> PrintError {
    PrintError::Compose(e.to_string())
}

impl Composer {
    fn new() -> Result<Composer, PrintError> {
        let capture = Capture::default();
        let mut printer = Printer::new(capture.clone(), Protocol::default(), None);
        printer.init().map_err(compose_err)?;
        // Kanji mode, Shift_JIS code system.
        printer.custom(&[0x1c, b'C', 1]).map_err(compose_err)?;
        printer.custom(&[0x1c, b'&']).map_err(compose_err)?;
        Ok(Composer { printer, capture, dot_rows: 0 })
    }

    fn justify(&mut self, mode: JustifyMode) -> Result<(), PrintError> {
        self.printer.justify(mode).map(|_| ()).map_err(compose_err)
    }

    fn bold(&mut self, on: bool) -> Result<(), PrintError> {
        self.printer.bold(on).map(|_| ()).map_err(compose_err)
    }

    /// One line of text (sanitized, Shift_JIS) and a line feed.
    fn line(&mut self, text: &str) -> Result<(), PrintError> {
        let mut bytes = text::to_shift_jis(&text::sanitize(text));
        bytes.push(b'\n');
        self.printer.custom(&bytes).map_err(compose_err)?;
        self.dot_rows += TEXT_ROW;
        Ok(())
    }

    fn raster(&mut self, image: &Bitmap) -> Result<(), PrintError> {
        let (wb, h) = (image.width_bytes(), image.height());
        let mut cmd =
            vec![0x1d, b'v', b'0', 0, (wb & 0xff) as u8, (wb >> 8) as u8, (h & 0xff) as u8, (h >> 8) as u8];
        cmd.extend_from_slice(image.data());
        self.printer.custom(&cmd).map_err(compose_err)?;
        self.dot_rows += h;
        Ok(())
    }

    fn feed(&mut self, lines: u8) -> Result<(), PrintError> {
        self.printer.custom(&[0x1b, b'd', lines]).map_err(compose_err)?;
        self.dot_rows += usize::from(lines) * TEXT_ROW;
        Ok(())
    }

    fn finish(mut self, paper: LabelPaper) -> Result<Job, PrintError> {
        match paper {
            LabelPaper::Continuous => {
                // GS V 66 n: feed n dots past the cutter, then partial cut.
                self.printer.custom(&[0x1d, b'V', 66, 96]).map_err(compose_err)?;
                self.dot_rows += 96;
            }
            LabelPaper::Marked => {
                // FS ( L fn 66: feed to the cutting position (TM-L90 style), then cut.
                self.printer.custom(&[0x1c, b'(', b'L', 2, 0, 66, 48]).map_err(compose_err)?;
                self.printer.custom(&[0x1d, b'V', 1]).map_err(compose_err)?;
            }
        }
        self.printer.print().map_err(compose_err)?;
        let bytes = self.capture.0.borrow().clone();
        Ok(Job { bytes, dot_rows: self.dot_rows })
    }
}

/// A title longer than this many lines is cut short with "…" (a receipt is a reminder,
/// not a catalogue record).
const MAX_TITLE_LINES: usize = 3;

/// Dots per QR module, and the barcode's height.
const QR_MODULE_DOTS: usize = 4;
const BARCODE_HEIGHT: usize = 96;

/// Renders the token as a QR code (model 2, level M) image.
///
/// # Errors
/// If the token is too long for a QR code (it never is: about 60 characters).
pub fn render_qr(token: &str) -> Result<Bitmap, LabelError> {
    let code = qrcode::QrCode::with_error_correction_level(token.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| LabelError::Token(token::TokenRefusal::Malformed))?;
    let n = code.width();
    let quiet = 4;
    let size = (n + 2 * quiet) * QR_MODULE_DOTS;
    let mut image = Bitmap::new(size, size);
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % n + quiet, i / n + quiet);
            image.fill(x * QR_MODULE_DOTS, y * QR_MODULE_DOTS, QR_MODULE_DOTS, QR_MODULE_DOTS);
        }
    }
    Ok(image)
}

/// Centres an image on a canvas as wide as the paper.
fn centred(image: &Bitmap, paper: PaperWidth) -> Bitmap {
    let mut canvas = Bitmap::new(paper.dots(), image.height());
    canvas.blit(image, paper.dots().saturating_sub(image.width()) / 2, 0);
    canvas
}

/// The patron number masked to its last four characters.
#[must_use]
pub fn masked(patron: &str) -> String {
    let n = patron.chars().count();
    // The last four, or fewer for a short number: never more than half of it.
    let shown = 4.min(n / 2);
    let tail: String = patron.chars().skip(n - shown).collect();
    format!("{}{tail}", "*".repeat(n - shown))
}

/// Composes a Method D label: library name, "valid today only", the date, the patron
/// barcode, and the signed same-day token as a QR code.
///
/// # Errors
/// An unencodable patron number, a wrong check digit, a barcode too wide for the paper.
pub fn compose_label(
    settings: &JobSettings,
    patron: &str,
    today: LabelDate,
    key: &TokenKey,
    words: &LabelWords,
) -> Result<Job, PrintError> {
    let barcode = symbology::render(patron, settings.symbology, settings.paper.dots(), BARCODE_HEIGHT)?;
    let token = token::sign(patron, today, &settings.kiosk_id, key).map_err(LabelError::from)?;
    let qr = render_qr(&token)?;
    let mut c = Composer::new()?;
    c.justify(JustifyMode::CENTER)?;
    c.bold(true)?;
    c.line(&settings.library_name)?;
    c.bold(false)?;
    c.line(&words.valid_today)?;
    c.line(&format!("{:04}-{:02}-{:02}", today.year(), today.month(), today.day()))?;
    c.raster(&barcode)?;
    c.line(&masked(patron))?;
    c.raster(&centred(&qr, settings.paper))?;
    for l in text::wrap(&words.scan_it, settings.paper.columns()) {
        c.line(&l)?;
    }
    c.finish(settings.label_paper)
}

/// Composes a loan receipt. No patron name; the number only masked, and only if the
/// library turned it on.
///
/// # Errors
/// Only if composing fails (it does not with valid settings).
pub fn compose_receipt(
    settings: &JobSettings,
    receipt: &Receipt,
    words: &ReceiptWords,
) -> Result<Job, PrintError> {
    let columns = settings.paper.columns();
    let rule = "-".repeat(columns);
    let mut c = Composer::new()?;
    c.justify(JustifyMode::CENTER)?;
    c.bold(true)?;
    for l in text::wrap(&text::sanitize(&settings.library_name), columns) {
        c.line(&l)?;
    }
    c.bold(false)?;
    c.line(&words.heading)?;
    c.line(&receipt.printed_at)?;
    c.justify(JustifyMode::LEFT)?;
    c.line(&rule)?;
    for (i, item) in receipt.lines.iter().enumerate() {
        let title = text::sanitize(item.title.trim());
        let title = if title.is_empty() { words.untitled.clone() } else { title };
        let prefix = format!("{}. ", i + 1);
        let indent = " ".repeat(prefix.len());
        for (n, l) in text::wrap_at_most(&title, columns - prefix.len(), MAX_TITLE_LINES).iter().enumerate() {
            c.line(&format!("{}{l}", if n == 0 { &prefix } else { &indent }))?;
        }
        let width = columns.saturating_sub(prefix.len()).max(1);
        if item.renewed {
            for l in text::wrap(&words.renewed, width) {
                c.line(&format!("{indent}{l}"))?;
            }
        }
        for l in text::wrap(&words.due.replace("{}", &text::sanitize(&item.due)), width) {
            c.line(&format!("{indent}{l}"))?;
        }
    }
    c.line(&rule)?;
    for total in [&words.total, &words.renewed_total] {
        if !total.is_empty() {
            c.line(total)?;
        }
    }
    if !receipt.refused.is_empty() {
        c.line(&rule)?;
        c.bold(true)?;
        c.line(&words.not_lent)?;
        c.bold(false)?;
        for (i, item) in receipt.refused.iter().enumerate() {
            let title = text::sanitize(item.title.trim());
            let prefix = format!("{}. ", i + 1);
            let indent = " ".repeat(prefix.len());
            let width = columns.saturating_sub(prefix.len()).max(1);
            for (n, l) in text::wrap_at_most(&title, width, MAX_TITLE_LINES).iter().enumerate() {
                c.line(&format!("{}{l}", if n == 0 { &prefix } else { &indent }))?;
            }
            for l in text::wrap(&words.why[item.why.index()], width) {
                c.line(&format!("{indent}{l}"))?;
            }
            if let Some(message) = item.message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
                for l in text::wrap_at_most(&text::sanitize(message), width, MAX_TITLE_LINES) {
                    c.line(&format!("{indent}{l}"))?;
                }
            }
        }
        for l in text::wrap(&words.to_counter, columns) {
            c.line(&l)?;
        }
        c.line(&rule)?;
    }
    if !receipt.summary.is_empty() {
        for line in &receipt.summary {
            for l in text::wrap(&text::sanitize(line), columns) {
                c.line(&l)?;
            }
        }
        c.line(&rule)?;
    }
    if let (true, Some(p)) = (settings.receipt_shows_patron, &receipt.patron) {
        c.line(&words.patron.replace("{}", &masked(p)))?;
    }
    for l in text::wrap(&words.questions, columns) {
        c.line(&l)?;
    }
    c.feed(2)?;
    c.finish(LabelPaper::Continuous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patron_number_is_masked_to_its_last_four_or_less_than_half() {
        assert_eq!(masked("2300987654321"), "*********4321");
        assert_eq!(masked("12345"), "***45");
        assert_eq!(masked("1234"), "**34");
        assert_eq!(masked("1"), "*");
        assert_eq!(masked(""), "");
    }
}
