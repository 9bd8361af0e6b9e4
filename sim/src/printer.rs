//! A virtual ESC/POS printer: parses what the kiosk sends, answers status requests, and
//! renders each page (up to a cut) to an image.
//!
//! - Parsing is incremental and command-aware, as a printer's is: a `DLE EOT` request is
//!   answered when it arrives between commands, never when its bytes appear inside
//!   raster data.
//! - Raster images (`GS v 0`) are copied bit for bit; text is drawn with a Japanese font
//!   (IPAex Gothic from Debian's `fonts-ipaexfont-gothic`), decoding Shift_JIS in Kanji
//!   mode, 12-dot half-width and 24-dot full-width cells like a printer's Font A.
//! - Switches make it misbehave: paper out, cover open, offline, paper running out after
//!   so many bytes, no status replies at all, disconnecting mid-job.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;

use kiosk_printer::status::{self, Paper, PrinterStatus};

/// The font type the renderer draws with.
pub use fontdue::Font;

/// Where the font is on Debian.
pub const FONT_PATH: &str = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf";

/// One parsed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Init,
    /// Printable bytes up to the next control byte (Shift_JIS in Kanji mode).
    Text(Vec<u8>),
    LineFeed,
    Justify(u8),
    Bold(bool),
    KanjiOn,
    KanjiOff,
    CodeSystem(u8),
    FeedLines(u8),
    Raster {
        width_bytes: usize,
        height: usize,
        data: Vec<u8>,
    },
    Cut,
    /// `FS ( L`: label positioning (feed to cut position, …).
    LabelControl(u8),
    /// `DLE EOT n`.
    StatusRequest(u8),
    /// Cancel (sent by some drivers before images; ignored in standard mode).
    Cancel,
    /// A command we recognise the length of but do not render.
    Ignored(Vec<u8>),
}

/// Result of trying to parse one command from the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Command(Command, usize),
    /// More bytes are needed.
    Incomplete,
    /// An ESC/GS/FS sequence this printer does not know: skip one byte and go on.
    Unknown(u8),
}

fn need(buf: &[u8], n: usize) -> Option<&[u8]> {
    buf.get(..n)
}

/// Parses the command at the front of `buf`.
#[must_use]
pub fn parse_one(buf: &[u8]) -> Parsed {
    let Some(&first) = buf.first() else { return Parsed::Incomplete };
    let cmd = |c, n| Parsed::Command(c, n);
    match first {
        0x0a => cmd(Command::LineFeed, 1),
        0x18 => cmd(Command::Cancel, 1),
        0x0d => cmd(Command::Ignored(vec![0x0d]), 1),
        0x10 => match need(buf, 3) {
            Some([_, 0x04, n]) => cmd(Command::StatusRequest(*n), 3),
            Some(_) => Parsed::Unknown(first),
            None => Parsed::Incomplete,
        },
        0x1b => {
            let Some(b) = need(buf, 2) else { return Parsed::Incomplete };
            match b[1] {
                b'@' => cmd(Command::Init, 2),
                b'a' | b'E' | b'd' | b'!' | b'-' | b'M' | b't' | b'R' | b'3' | b'J' => {
                    let Some(b) = need(buf, 3) else { return Parsed::Incomplete };
                    let n = b[2];
                    let c = match b[1] {
                        b'a' => Command::Justify(n % 48),
                        b'E' => Command::Bold(n & 1 == 1),
                        b'd' => Command::FeedLines(n),
                        _ => Command::Ignored(b.to_vec()),
                    };
                    cmd(c, 3)
                }
                b'2' => cmd(Command::Ignored(b.to_vec()), 2),
                _ => Parsed::Unknown(first),
            }
        }
        0x1c => {
            let Some(b) = need(buf, 2) else { return Parsed::Incomplete };
            match b[1] {
                b'&' => cmd(Command::KanjiOn, 2),
                b'.' => cmd(Command::KanjiOff, 2),
                b'C' => match need(buf, 3) {
                    Some(b) => cmd(Command::CodeSystem(b[2] % 48), 3),
                    None => Parsed::Incomplete,
                },
                b'(' => {
                    let Some(h) = need(buf, 5) else { return Parsed::Incomplete };
                    let len = usize::from(h[3]) | usize::from(h[4]) << 8;
                    match need(buf, 5 + len) {
                        Some(all) if h[2] == b'L' => {
                            cmd(Command::LabelControl(all.get(5).copied().unwrap_or(0)), 5 + len)
                        }
                        Some(all) => cmd(Command::Ignored(all.to_vec()), 5 + len),
                        None => Parsed::Incomplete,
                    }
                }
                _ => Parsed::Unknown(first),
            }
        }
        0x1d => {
            let Some(b) = need(buf, 2) else { return Parsed::Incomplete };
            match b[1] {
                b'v' => {
                    let Some(h) = need(buf, 8) else { return Parsed::Incomplete };
                    if h[2] != b'0' {
                        return Parsed::Unknown(first);
                    }
                    let width_bytes = usize::from(h[4]) | usize::from(h[5]) << 8;
                    let height = usize::from(h[6]) | usize::from(h[7]) << 8;
                    match need(buf, 8 + width_bytes * height) {
                        Some(all) => {
                            cmd(Command::Raster { width_bytes, height, data: all[8..].to_vec() }, all.len())
                        }
                        None => Parsed::Incomplete,
                    }
                }
                b'V' => {
                    let Some(m) = need(buf, 3).map(|b| b[2]) else { return Parsed::Incomplete };
                    // m = 65, 66, 97, 98, 103, 104 carry a feed amount.
                    let n = if matches!(m, 65 | 66 | 97 | 98 | 103 | 104) { 4 } else { 3 };
                    if buf.len() < n { Parsed::Incomplete } else { cmd(Command::Cut, n) }
                }
                b'!' | b'B' | b'L' | b'W' | b'h' | b'w' | b'H' | b'f' => match need(buf, 3) {
                    Some(b) => cmd(Command::Ignored(b.to_vec()), 3),
                    None => Parsed::Incomplete,
                },
                _ => Parsed::Unknown(first),
            }
        }
        b if b >= 0x20 => {
            let end = buf.iter().position(|&c| c < 0x20).unwrap_or(buf.len());
            cmd(Command::Text(buf[..end].to_vec()), end)
        }
        other => Parsed::Unknown(other),
    }
}

/// Parses a whole job; unknown bytes are skipped and counted.
#[must_use]
pub fn parse_all(mut buf: &[u8]) -> (Vec<Command>, usize) {
    let mut out = Vec::new();
    let mut unknown = 0;
    while !buf.is_empty() {
        match parse_one(buf) {
            Parsed::Command(c, n) => {
                out.push(c);
                buf = &buf[n..];
            }
            Parsed::Unknown(_) => {
                unknown += 1;
                buf = &buf[1..];
            }
            Parsed::Incomplete => {
                unknown += buf.len();
                break;
            }
        }
    }
    (out, unknown)
}

/// A rendered page: 8-bit grey, 0 = black.
#[derive(Clone, PartialEq, Eq)]
pub struct Page {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
    /// The text lines as decoded, for tests.
    pub lines: Vec<String>,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Page({}x{}, {} text lines)", self.width, self.height, self.lines.len())
    }
}

impl Page {
    /// Writes the page as a PNG.
    ///
    /// # Errors
    /// File or encoder errors.
    pub fn save_png(&self, path: &Path) -> std::io::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let width = u32::try_from(self.width).map_err(std::io::Error::other)?;
        let height = u32::try_from(self.height).map_err(std::io::Error::other)?;
        let mut enc = png::Encoder::new(file, width, height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(std::io::Error::other)?;
        w.write_image_data(&self.pixels).map_err(std::io::Error::other)?;
        w.finish().map_err(std::io::Error::other)
    }
}

const LINE_HEIGHT: usize = 30;
const FONT_PX: f32 = 24.0;
const MARGIN: usize = 16;

struct Renderer<'f> {
    font: Option<&'f fontdue::Font>,
    paper_dots: usize,
    rows: Vec<Vec<u8>>,
    lines: Vec<String>,
    line: Vec<u8>,
    justify: u8,
    bold: bool,
    kanji: bool,
}

impl Renderer<'_> {
    fn blank_rows(&mut self, n: usize) {
        for _ in 0..n {
            self.rows.push(vec![255; self.paper_dots + 2 * MARGIN]);
        }
    }

    fn decode(&self, bytes: &[u8]) -> String {
        if self.kanji {
            encoding_rs::SHIFT_JIS.decode(bytes).0.into_owned()
        } else {
            bytes.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '?' }).collect()
        }
    }

    fn print_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let text = self.decode(&line);
        let cells: Vec<(char, usize)> = text
            .chars()
            .map(|c| (c, if c.is_ascii() || ('\u{ff61}'..='\u{ff9f}').contains(&c) { 12 } else { 24 }))
            .collect();
        let width: usize = cells.iter().map(|(_, w)| w).sum();
        let start = MARGIN
            + match self.justify {
                1 => self.paper_dots.saturating_sub(width) / 2,
                2 => self.paper_dots.saturating_sub(width),
                _ => 0,
            };
        let top = self.rows.len();
        self.blank_rows(LINE_HEIGHT);
        let mut x = start;
        for (c, w) in cells {
            self.draw_glyph(c, x, top + 3, w);
            x += w;
        }
        self.lines.push(text);
    }

    fn draw_glyph(&mut self, c: char, x: usize, top: usize, cell: usize) {
        let Some(font) = self.font else {
            // No font: a box per character, so the layout is still visible.
            for dy in 4..20 {
                for dx in 2..cell - 2 {
                    if dy == 4 || dy == 19 || dx == 2 || dx == cell - 3 {
                        self.dot(x + dx, top + dy, 0);
                    }
                }
            }
            return;
        };
        let (m, bitmap) = font.rasterize(c, FONT_PX);
        let baseline = top + 20;
        let gx = x as i64 + i64::from(m.xmin) + (cell as i64 - m.advance_width.round() as i64).max(0) / 2;
        let gy = baseline as i64 - i64::from(m.ymin) - m.height as i64;
        for row in 0..m.height {
            for col in 0..m.width {
                let coverage = bitmap[row * m.width + col];
                if coverage > 0 {
                    let (px, py) = (gx + col as i64, gy + row as i64);
                    if px >= 0 && py >= 0 {
                        let v = 255 - coverage;
                        self.dot(px as usize, py as usize, v);
                        if self.bold {
                            self.dot(px as usize + 1, py as usize, v);
                        }
                    }
                }
            }
        }
    }

    fn dot(&mut self, x: usize, y: usize, v: u8) {
        if let Some(p) = self.rows.get_mut(y).and_then(|r| r.get_mut(x)) {
            *p = (*p).min(v);
        }
    }

    fn raster(&mut self, width_bytes: usize, height: usize, data: &[u8]) {
        let top = self.rows.len();
        self.blank_rows(height);
        for y in 0..height {
            for x in 0..width_bytes * 8 {
                if data[y * width_bytes + x / 8] & (0x80 >> (x % 8)) != 0 {
                    self.dot(MARGIN + x, top + y, 0);
                }
            }
        }
    }

    fn page(&mut self) -> Page {
        self.blank_rows(MARGIN);
        let rows = std::mem::take(&mut self.rows);
        let width = self.paper_dots + 2 * MARGIN;
        Page { width, height: rows.len(), pixels: rows.concat(), lines: std::mem::take(&mut self.lines) }
    }
}

/// Loads the Japanese font, if installed.
#[must_use]
pub fn load_font() -> Option<fontdue::Font> {
    let bytes = std::fs::read(FONT_PATH).ok()?;
    fontdue::Font::from_bytes(bytes, fontdue::FontSettings::default()).ok()
}

/// Renders a job's bytes to pages (one per cut; trailing output without a cut is a page
/// too).
#[must_use]
pub fn render(bytes: &[u8], paper_dots: usize, font: Option<&fontdue::Font>) -> Vec<Page> {
    let (commands, _unknown) = parse_all(bytes);
    let mut r = Renderer {
        font,
        paper_dots,
        rows: Vec::new(),
        lines: Vec::new(),
        line: Vec::new(),
        justify: 0,
        bold: false,
        kanji: false,
    };
    let mut pages = Vec::new();
    r.blank_rows(MARGIN);
    for c in commands {
        match c {
            Command::Init => {
                r.justify = 0;
                r.bold = false;
                r.kanji = false;
            }
            Command::Text(t) => r.line.extend_from_slice(&t),
            Command::LineFeed => r.print_line(),
            Command::Justify(j) => r.justify = j,
            Command::Bold(b) => r.bold = b,
            Command::KanjiOn => r.kanji = true,
            Command::KanjiOff => r.kanji = false,
            Command::FeedLines(n) => {
                if !r.line.is_empty() {
                    r.print_line();
                }
                r.blank_rows(usize::from(n) * LINE_HEIGHT);
            }
            Command::Raster { width_bytes, height, data } => {
                if !r.line.is_empty() {
                    r.print_line();
                }
                r.raster(width_bytes, height, &data);
            }
            Command::Cut => {
                if !r.line.is_empty() {
                    r.print_line();
                }
                pages.push(r.page());
                r.blank_rows(MARGIN);
            }
            Command::CodeSystem(_)
            | Command::LabelControl(_)
            | Command::StatusRequest(_)
            | Command::Cancel
            | Command::Ignored(_) => {}
        }
    }
    if r.rows.len() > MARGIN || !r.line.is_empty() {
        if !r.line.is_empty() {
            r.print_line();
        }
        pages.push(r.page());
    }
    pages
}

/// How the simulated printer misbehaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    pub paper_out: bool,
    pub paper_near_end: bool,
    pub cover_open: bool,
    pub offline: bool,
    /// The roll runs out after this many more job bytes.
    pub paper_runs_out_after: Option<usize>,
    /// Never answer status requests.
    pub silent: bool,
    /// Close the connection after this many job bytes (the printer is unplugged).
    pub disconnect_after: Option<usize>,
    /// After each status reply, send [`FLOOD_BYTES`] of this byte nobody asked for (a
    /// printer left with automatic status back on, or a broken firmware).
    pub flood: Option<u8>,
}

/// How many unasked bytes a flooding printer sends after each status reply.
pub const FLOOD_BYTES: usize = 64 * 1024;

/// What the sink has seen.
#[derive(Debug, Default)]
pub struct Received {
    /// Job bytes (status requests excluded), all connections.
    pub job_bytes: Vec<u8>,
    pub status_requests: usize,
}

#[derive(Debug, Default)]
struct Shared {
    switches: Switches,
    received: Received,
}

/// The virtual printer on a TCP port (like a JetDirect port 9100 printer).
#[derive(Debug, Clone)]
pub struct PrinterSink {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PrinterSink {
    /// Listens on `addr` (use port 0 for any free port).
    ///
    /// # Errors
    /// The port cannot be bound.
    pub fn start(addr: &str) -> std::io::Result<PrinterSink> {
        let listener = TcpListener::bind(addr)?;
        let sink = PrinterSink { addr: listener.local_addr()?, shared: Arc::default() };
        let shared = Arc::clone(&sink.shared);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &shared));
            }
        });
        Ok(sink)
    }

    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Also serves a printer on `link`: the other end of a serial line (a
    /// pseudo-terminal's master side), answering status requests and taking job bytes
    /// as over TCP.
    pub fn serve_link(&self, link: impl Read + Write + Send + 'static) {
        let shared = Arc::clone(&self.shared);
        thread::spawn(move || serve(link, &shared));
    }

    /// Changes how the printer behaves from now on.
    pub fn set(&self, f: impl FnOnce(&mut Switches)) {
        f(&mut lock(&self.shared).switches);
    }

    /// The job bytes received so far.
    #[must_use]
    pub fn job_bytes(&self) -> Vec<u8> {
        lock(&self.shared).received.job_bytes.clone()
    }

    #[must_use]
    pub fn status_requests(&self) -> usize {
        lock(&self.shared).received.status_requests
    }
}

fn current_status(s: &Switches) -> PrinterStatus {
    PrinterStatus {
        online: !s.offline && !s.cover_open && !s.paper_out,
        cover_open: s.cover_open,
        paper: if s.paper_out {
            Paper::Out
        } else if s.paper_near_end {
            Paper::NearEnd
        } else {
            Paper::Ok
        },
        error: false,
    }
}

fn serve(mut stream: impl Read + Write, shared: &Mutex<Shared>) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match stream.read(&mut buf) {
            // A serial line's read times out while nothing comes: keep listening.
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
                continue;
            }
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        loop {
            match parse_one(&pending) {
                Parsed::Incomplete => break,
                Parsed::Command(Command::StatusRequest(n), len) => {
                    pending.drain(..len);
                    let reply = {
                        let mut g = lock(shared);
                        g.received.status_requests += 1;
                        if g.switches.silent {
                            None
                        } else if let Some(flood) = g.switches.flood {
                            let [printer, cause, paper] = status::encode(&current_status(&g.switches));
                            let mut reply = vec![match n {
                                1 => printer,
                                2 => cause,
                                _ => paper,
                            }];
                            reply.resize(1 + FLOOD_BYTES, flood);
                            Some(reply)
                        } else {
                            let [printer, cause, paper] = status::encode(&current_status(&g.switches));
                            Some(vec![match n {
                                1 => printer,
                                2 => cause,
                                _ => paper,
                            }])
                        }
                    };
                    if let Some(bytes) = reply
                        && stream.write_all(&bytes).is_err()
                    {
                        return;
                    }
                }
                Parsed::Command(_, len) => {
                    let bytes: Vec<u8> = pending.drain(..len).collect();
                    if !accept_job_bytes(shared, &bytes) {
                        return; // "unplugged"
                    }
                }
                Parsed::Unknown(_) => {
                    let bytes: Vec<u8> = pending.drain(..1).collect();
                    if !accept_job_bytes(shared, &bytes) {
                        return;
                    }
                }
            }
        }
    }
}

/// Takes job bytes in, honouring the paper and disconnect switches; false = hang up.
fn accept_job_bytes(shared: &Mutex<Shared>, bytes: &[u8]) -> bool {
    let mut g = lock(shared);
    if let Some(left) = g.switches.disconnect_after {
        if bytes.len() > left {
            g.switches.disconnect_after = None;
            return false;
        }
        g.switches.disconnect_after = Some(left - bytes.len());
    }
    if g.switches.paper_out {
        return true; // nothing is printed without paper
    }
    let take = match g.switches.paper_runs_out_after {
        Some(left) if bytes.len() >= left => {
            g.switches.paper_out = true;
            g.switches.paper_runs_out_after = None;
            left
        }
        Some(left) => {
            g.switches.paper_runs_out_after = Some(left - bytes.len());
            bytes.len()
        }
        None => bytes.len(),
    };
    g.received.job_bytes.extend_from_slice(&bytes[..take]);
    true
}

/// Words for receipts composed in the driver's tests: both languages on each line, as a
/// bilingual receipt would read (the kiosk prints its catalogue's words in the patron's
/// language; these only exercise the layout).
#[must_use]
pub fn test_receipt_words(lent: usize, refused: usize) -> kiosk_printer::ReceiptWords {
    kiosk_printer::ReceiptWords {
        heading: "貸出票 / Loan receipt".into(),
        untitled: "(無題 / untitled)".into(),
        renewed: "貸出延長 Renewed".into(),
        due: "返却期限 Due: {}".into(),
        total: format!("合計 Total: {lent} 冊 item(s)"),
        renewed_total: String::new(),
        not_lent: format!("貸出できなかった資料 Not lent: {refused}"),
        why: [
            "未登録の資料 Not in the catalogue".into(),
            "予約資料 Reserved for another patron".into(),
            "貸出中の資料 On loan to someone else".into(),
            "貸出できません Cannot be lent here".into(),
            "未確認（職員が確認します） Not confirmed: staff will check".into(),
        ],
        to_counter: "カウンターへお持ちください。 Please take them to the counter.".into(),
        patron: "利用者 Patron: {}".into(),
        questions: "ご不明な点はカウンターでおたずねください。 Questions? Please ask at the counter.".into(),
    }
}

/// Words for labels composed in the driver's tests.
#[must_use]
pub fn test_label_words() -> kiosk_printer::LabelWords {
    kiosk_printer::LabelWords {
        valid_today: "本日限り有効 / valid today only".into(),
        scan_it: "Scan at a self-checkout machine".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_inside_raster_is_data_not_a_request() {
        // A raster whose data contains DLE EOT 1.
        let mut job = vec![0x1d, b'v', b'0', 0, 1, 0, 3, 0, 0x10, 0x04, 0x01];
        job.extend_from_slice(&[0x10, 0x04, 0x02]);
        let (cmds, unknown) = parse_all(&job);
        assert_eq!(unknown, 0);
        assert_eq!(cmds.len(), 2);
        assert!(matches!(cmds[0], Command::Raster { width_bytes: 1, height: 3, .. }));
        assert_eq!(cmds[1], Command::StatusRequest(2));
        assert_eq!(parse_one(&[0x1d, b'v', b'0', 0, 1, 0, 3, 0, 0x10]), Parsed::Incomplete);
    }
}
