//! A 1-bit image in the printer's raster layout: rows of bytes, most significant bit
//! first, 1 = black. This is byte for byte the payload of `GS v 0` and of a PBM (P4)
//! file, so what we test is exactly what the print head receives.

/// A 1-bit image whose width is a whole number of bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width_bytes: usize,
    height: usize,
    data: Vec<u8>,
}

impl core::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Bitmap({}x{})", self.width(), self.height)
    }
}

impl Bitmap {
    /// A white image at least `width` dots wide (rounded up to a multiple of 8).
    #[must_use]
    pub fn new(width: usize, height: usize) -> Bitmap {
        let width_bytes = width.div_ceil(8);
        Bitmap { width_bytes, height, data: vec![0; width_bytes * height] }
    }

    /// Builds from raw rows (as `GS v 0` carries them); `None` if the length is wrong.
    #[must_use]
    pub fn from_raw(width_bytes: usize, height: usize, data: Vec<u8>) -> Option<Bitmap> {
        (data.len() == width_bytes.checked_mul(height)?).then_some(Bitmap { width_bytes, height, data })
    }

    #[must_use]
    pub fn width(&self) -> usize {
        self.width_bytes * 8
    }

    #[must_use]
    pub fn width_bytes(&self) -> usize {
        self.width_bytes
    }

    #[must_use]
    pub fn height(&self) -> usize {
        self.height
    }

    /// The raster rows.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    #[must_use]
    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width()
            && y < self.height
            && self.data[y * self.width_bytes + x / 8] & (0x80 >> (x % 8)) != 0
    }

    /// Sets a dot black (`true`) or white; dots outside the image are ignored.
    pub fn set(&mut self, x: usize, y: usize, black: bool) {
        if x < self.width() && y < self.height {
            let byte = &mut self.data[y * self.width_bytes + x / 8];
            let bit = 0x80 >> (x % 8);
            if black {
                *byte |= bit;
            } else {
                *byte &= !bit;
            }
        }
    }

    /// Fills a rectangle black.
    pub fn fill(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width()) {
                self.set(xx, yy, true);
            }
        }
    }

    /// Copies `other` onto this image with its top-left corner at (`x`, `y`).
    pub fn blit(&mut self, other: &Bitmap, x: usize, y: usize) {
        for yy in 0..other.height {
            for xx in 0..other.width() {
                if other.get(xx, yy) {
                    self.set(x + xx, y + yy, true);
                }
            }
        }
    }

    /// The image as a PBM (P4) file, readable by zbarimg and any image tool.
    #[must_use]
    pub fn to_pbm(&self) -> Vec<u8> {
        let mut out = format!("P4\n{} {}\n", self.width(), self.height).into_bytes();
        out.extend_from_slice(&self.data);
        out
    }

    /// Number of black dots (for tests and the thermal-load estimate).
    #[must_use]
    pub fn black_dots(&self) -> usize {
        self.data.iter().map(|b| b.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_pbm_layout() {
        let mut b = Bitmap::new(10, 2);
        assert_eq!(b.width(), 16);
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert!(b.get(0, 0) && b.get(9, 1) && !b.get(1, 0));
        assert_eq!(b.data(), &[0x80, 0x00, 0x00, 0x40]);
        assert_eq!(&b.to_pbm()[..9], b"P4\n16 2\n\x80");
        b.set(100, 100, true); // outside: ignored
        assert_eq!(b.black_dots(), 2);
        assert!(Bitmap::from_raw(2, 2, vec![0; 3]).is_none());
    }
}
