//! Counter method B's picture: the patron number drawn as the library's barcode for the
//! screen, by the printer driver's own symbology code (one encoder for paper and screen).

/// Method B's picture: the number as the library's barcode, 2 px per printer dot (the
/// encoder's widest module, 3 dots, becomes 6 px ≈ 1 mm on a 10" 1280 × 800 screen: read
/// by a handheld scanner at arm's length). `None` when the number cannot be drawn (the
/// digits, method A, still can).
#[must_use]
pub fn barcode(number: &str, symbology: kiosk_printer::Symbology) -> Option<kiosk_core::scene::Gray> {
    const SCALE: usize = 2;
    let bits = kiosk_printer::symbology::render(number, symbology, 860 / SCALE, 120).ok()?;
    let (w, h) = (bits.width() * SCALE, bits.height() * SCALE);
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            pixels.push(if bits.get(x / SCALE, y / SCALE) { 0 } else { 255 });
        }
    }
    Some(kiosk_core::scene::Gray { width: u32::try_from(w).ok()?, height: u32::try_from(h).ok()?, pixels })
}
