//! Rendering without a display: a `slint::platform::Platform` whose windows are
//! `MinimalSoftwareWindow`s, so any scene can be drawn to pixels with the software
//! renderer and saved as PNG. Used by the screenshot tests, the scripted headless demo
//! and the benchmark.

use std::path::Path;
use std::rc::Rc;

use i_slint_backend_testing::{ElementHandle, ElementQuery};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, PointerEventButton, WindowAdapter, WindowEvent};
use slint::{ComponentHandle, PhysicalSize};

use crate::{AppWindow, Scene};

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
}

/// An error while rendering or saving a screenshot.
#[derive(Debug)]
pub struct ShotError(pub String);

impl core::fmt::Display for ShotError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ShotError {}

/// An RGBA image.
#[derive(Clone, PartialEq, Eq)]
pub struct Shot {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl core::fmt::Debug for Shot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Shot({}x{})", self.width, self.height)
    }
}

impl Shot {
    /// Saves as an 8-bit RGB PNG (a screen is opaque).
    ///
    /// # Errors
    /// File or encoder errors.
    pub fn save_png(&self, path: &Path) -> Result<(), ShotError> {
        let err = |e: &dyn core::fmt::Display| ShotError(format!("{}: {e}", path.display()));
        let file = std::fs::File::create(path).map_err(|e| err(&e))?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| err(&e))?;
        let rgb: Vec<u8> = self.rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        w.write_image_data(&rgb).map_err(|e| err(&e))?;
        w.finish().map_err(|e| err(&e))
    }

    /// Loads a PNG saved by [`Shot::save_png`] (RGB, or RGBA as older references are).
    ///
    /// # Errors
    /// File or decoder errors, or a PNG that is not 8-bit RGB or RGBA.
    pub fn load_png(path: &Path) -> Result<Shot, ShotError> {
        let err = |e: &dyn core::fmt::Display| ShotError(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| err(&e))?;
        let mut reader = png::Decoder::new(std::io::BufReader::new(file)).read_info().map_err(|e| err(&e))?;
        let mut rgba = vec![0; reader.output_buffer_size().unwrap_or(0)];
        let info = reader.next_frame(&mut rgba).map_err(|e| err(&e))?;
        if info.bit_depth != png::BitDepth::Eight {
            return Err(ShotError(format!("{}: not an 8-bit PNG", path.display())));
        }
        rgba.truncate(info.buffer_size());
        let rgba = match info.color_type {
            png::ColorType::Rgba => rgba,
            png::ColorType::Rgb => rgba.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect(),
            _ => return Err(ShotError(format!("{}: not an RGB or RGBA PNG", path.display()))),
        };
        Ok(Shot { width: info.width, height: info.height, rgba })
    }

    /// The share of pixels whose colour differs by more than `threshold` (0–255, any
    /// channel) from `other`; 1.0 if the sizes differ.
    #[must_use]
    pub fn difference(&self, other: &Shot, threshold: u8) -> f64 {
        if (self.width, self.height) != (other.width, other.height) {
            return 1.0;
        }
        let differing = self
            .rgba
            .chunks_exact(4)
            .zip(other.rgba.chunks_exact(4))
            .filter(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| x.abs_diff(*y) > threshold))
            .count();
        differing as f64 / (f64::from(self.width) * f64::from(self.height))
    }
}

/// A window rendered by the software renderer, with nothing on screen.
pub struct Headless {
    window: Rc<MinimalSoftwareWindow>,
    pub ui: AppWindow,
}

impl core::fmt::Debug for Headless {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Headless")
    }
}

impl Headless {
    /// Installs the headless platform on this thread (once) and creates the window.
    ///
    /// # Errors
    /// If another platform is already installed on this thread, or the window fails.
    pub fn new(width: u32, height: u32) -> Result<Headless, ShotError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        slint::platform::set_platform(Box::new(HeadlessPlatform { window: window.clone() }))
            .map_err(|e| ShotError(format!("cannot install the headless platform: {e}")))?;
        let ui = AppWindow::new().map_err(|e| ShotError(e.to_string()))?;
        ui.window().set_size(PhysicalSize::new(width, height));
        crate::fit_to_screen(&ui);
        // A screenshot is the same whenever it is taken: what moves on screen stands still.
        ui.global::<crate::Kiosk<'_>>().set_still(true);
        ui.show().map_err(|e| ShotError(e.to_string()))?;
        Ok(Headless { window, ui })
    }

    /// Resizes the window, and scales the screens to fit as the kiosk does.
    pub fn resize(&self, width: u32, height: u32) {
        self.ui.window().set_size(PhysicalSize::new(width, height));
        crate::fit_to_screen(&self.ui);
    }

    /// Shows a scene and renders it.
    ///
    /// # Errors
    /// If the renderer cannot take a snapshot.
    pub fn render(&self, scene: &Scene) -> Result<Shot, ShotError> {
        crate::apply(scene, &self.ui);
        self.snapshot()
    }

    /// Renders what is on the window now.
    ///
    /// # Errors
    /// If the renderer cannot take a snapshot.
    pub fn snapshot(&self) -> Result<Shot, ShotError> {
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        let shot = self.ui.window().take_snapshot().map_err(|e| ShotError(e.to_string()))?;
        Ok(Shot { width: shot.width(), height: shot.height(), rgba: shot.as_bytes().to_vec() })
    }

    /// The Text elements whose glyphs are cut by their own box (the software renderer clips a
    /// Text to its geometry), as messages. With a dialog up, only the dialog's texts: those
    /// under it are checked on the same screen without it.
    #[must_use]
    pub fn cut_text(&self, shot: &Shot) -> Vec<String> {
        let (w, h) = (i64::from(shot.width), i64::from(shot.height));
        let px = |x: i64, y: i64| {
            let i = usize::try_from((y * w + x) * 4).unwrap_or(0);
            shot.rgba.get(i..i + 3).unwrap_or(&[0, 0, 0])
        };
        let differs = |a: &[u8], b: &[u8]| a.iter().zip(b).any(|(p, q)| p.abs_diff(*q) > 60);
        let query = self.dialog_or_window();
        let scale = self.ui.window().scale_factor();
        let rect = |e: &ElementHandle| {
            let (p, s) = (e.absolute_position(), e.size());
            (p.x, p.y, p.x + s.width, p.y + s.height)
        };
        // A list cuts its last row at its own edge, as a list should: those rows are not
        // checked.
        let mut partly_scrolled_away = Vec::new();
        for list in ElementQuery::from_root(&self.ui).match_inherits("Flickable").find_all() {
            let view = rect(&list);
            for t in list.query_descendants().match_inherits("Text").find_all() {
                let r = rect(&t);
                if r.0 < view.0 || r.1 < view.1 || r.2 > view.2 || r.3 > view.3 {
                    partly_scrolled_away.push(r);
                }
            }
        }
        let mut found = Vec::new();
        for text in query.match_inherits("Text").find_all() {
            let label = text.accessible_label().unwrap_or_default();
            if label.trim().is_empty() || text.computed_opacity() <= 0.0 {
                continue;
            }
            // A text that reaches the window's right edge (a layout wider than the
            // window, a list included) is cut there when its ink touches the last column:
            // the screens keep a margin, so nothing else is drawn there.
            {
                let (pos, size) = (text.absolute_position(), text.size());
                let round = |v: f32| (v * scale).round() as i64;
                let (x1, y0, y1) =
                    (round(pos.x + size.width), round(pos.y).max(0), round(pos.y + size.height).min(h));
                if x1 >= w && y1 > y0 {
                    let first = px(w - 1, y0);
                    let inked = (y0..y1).filter(|&y| differs(px(w - 1, y), first)).count();
                    if inked > 0 {
                        found.push(format!("\"{label}\" runs off the window's right edge ({inked} px)"));
                        continue;
                    }
                }
            }
            if partly_scrolled_away.contains(&rect(&text)) {
                continue;
            }
            // Logical pixels, on a window scaled to fit (1024x600 is 0.75).
            let (pos, size) = (text.absolute_position(), text.size());
            let round = |v: f32| (v * scale).round() as i64;
            let (x0, y0) = (round(pos.x), round(pos.y));
            let (x1, y1) = (round(pos.x + size.width), round(pos.y + size.height));
            // Only boxes wholly on screen, with a row of the window beyond each edge.
            if x0 < 0 || y0 < 1 || x1 > w || y1 >= h || x1 <= x0 || y1 <= y0 + 1 {
                continue;
            }
            // A glyph cut by its box leaves ink on the box's edge row that the row just
            // outside does not continue. A border along the whole edge differs everywhere, so
            // it counts only when under half the width differs.
            for (edge, outside, side) in [(y1 - 1, y1, "bottom"), (y0, y0 - 1, "top")] {
                let cut = (x0..x1).filter(|&x| differs(px(x, edge), px(x, outside))).count();
                if cut > 0 && 2 * i64::try_from(cut).unwrap_or(0) < x1 - x0 {
                    found.push(format!("{side} of \"{label}\" at ({x0},{y0})-({x1},{y1}), {cut} px"));
                }
            }
            // The same at the right: a word wider than its box is cut there. (Not the
            // left: a left-aligned line's first glyph may touch its box.)
            if x1 < w {
                let cut = (y0..y1).filter(|&y| differs(px(x1 - 1, y), px(x1, y))).count();
                if cut > 0 && 2 * i64::try_from(cut).unwrap_or(0) < y1 - y0 {
                    found.push(format!("right of \"{label}\" at ({x0},{y0})-({x1},{y1}), {cut} px"));
                }
            }
        }
        found
    }

    /// Presses every button the screen shows now through its accessible default action
    /// (what a screen reader would do), in tree order: the actions they send go to the
    /// callback as taps would. With a dialog up, only the dialog's buttons.
    pub fn press_every_button(&self) {
        let query = self.dialog_or_window();
        for button in query.match_accessible_role(i_slint_backend_testing::AccessibleRole::Button).find_all()
        {
            if button.accessible_enabled() != Some(false) {
                button.invoke_accessible_default_action();
            }
        }
    }

    /// The elements of the dialog up (the last-try warning, "are you still there?", the
    /// language list, staff's confirmation), or of the whole window when there is none.
    fn dialog_or_window(&self) -> ElementQuery {
        let dialog = ["LastTryWarning", "TimeoutWarning", "LanguageList", "AdminConfirmDialog"]
            .iter()
            .find_map(|t| ElementHandle::find_by_element_type_name(&self.ui, t).next());
        match dialog {
            Some(d) => d.query_descendants(),
            None => ElementQuery::from_root(&self.ui),
        }
    }

    /// A tap (press and release) at a point, in logical pixels.
    pub fn tap(&self, x: f32, y: f32) {
        let position = slint::LogicalPosition::new(x, y);
        let w = self.ui.window();
        w.dispatch_event(WindowEvent::PointerMoved { position });
        w.dispatch_event(WindowEvent::PointerPressed { position, button: PointerEventButton::Left });
        w.dispatch_event(WindowEvent::PointerReleased { position, button: PointerEventButton::Left });
        w.dispatch_event(WindowEvent::PointerExited);
    }
}
