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

/// Method B's picture kept while the same number shows: the event loop publishes a scene
/// after every step, and drawing the barcode each time would be wasted work. The number
/// is kept zeroized-on-drop, and forgotten when the hand-off ends.
#[derive(Default)]
pub struct Picture {
    drawn: Option<(zeroize::Zeroizing<String>, Option<kiosk_core::scene::Gray>)>,
}

impl core::fmt::Debug for Picture {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.drawn.is_some() { "Picture(drawn)" } else { "Picture(none)" })
    }
}

impl Picture {
    /// The picture of `number` (drawn if it is a new one); `None` when no number shows.
    pub fn picture(
        &mut self,
        number: Option<kiosk_core::flow::PatronId>,
        symbology: kiosk_printer::Symbology,
    ) -> Option<kiosk_core::scene::Gray> {
        let Some(number) = number else {
            self.drawn = None;
            return None;
        };
        match &self.drawn {
            Some((drawn, picture)) if drawn.as_str() == number.expose() => picture.clone(),
            _ => {
                let picture = barcode(number.expose(), symbology);
                self.drawn = Some((zeroize::Zeroizing::new(number.expose().to_owned()), picture.clone()));
                picture
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kiosk_core::flow::PatronId;

    #[test]
    fn a_picture_is_drawn_once_per_number_and_forgotten_after() {
        let symbology = kiosk_printer::Symbology::Code128 { check: kiosk_printer::CheckDigit::None };
        let mut p = Picture::default();
        let a = p.picture(PatronId::new("2300012345678"), symbology).unwrap();
        assert_eq!(Some(&a), p.picture(PatronId::new("2300012345678"), symbology).as_ref());
        let b = p.picture(PatronId::new("2300087654321"), symbology).unwrap();
        assert_ne!(a, b, "a new number is drawn again");
        assert_eq!(p.picture(None, symbology), None);
        assert!(p.drawn.is_none(), "the number is forgotten when the hand-off ends");
    }
}
