//! A small raster canvas for the figures: rectangles, lines, markers and 8×8 bitmap text, so
//! figures need no system fonts or plotting stack.

use std::path::Path;

use anyhow::Result;
use font8x8::{UnicodeFonts, BASIC_FONTS, LATIN_FONTS};
use image::{Rgb, RgbImage};

pub type Colour = [u8; 3];

/// The 8×8 bitmap of `ch`: ASCII and Latin-1 (which has ×), else '?'.
fn glyph(ch: char) -> Option<[u8; 8]> {
    BASIC_FONTS.get(ch).or_else(|| LATIN_FONTS.get(ch)).or_else(|| BASIC_FONTS.get('?'))
}

pub const WHITE: Colour = [255, 255, 255];
pub const BLACK: Colour = [0, 0, 0];
pub const GREY: Colour = [120, 120, 120];

/// An RGB image being drawn on.
pub struct Canvas {
    pub img: RgbImage,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Self { img: RgbImage::from_pixel(width, height, Rgb(WHITE)) }
    }

    fn put(&mut self, x: i64, y: i64, c: Colour) {
        if x >= 0 && y >= 0 && (x as u32) < self.img.width() && (y as u32) < self.img.height() {
            self.img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }

    /// Filled rectangle with top-left (x, y).
    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: Colour) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.put(xx, yy, c);
            }
        }
    }

    /// Rectangle outline.
    pub fn frame(&mut self, x: i64, y: i64, w: i64, h: i64, c: Colour) {
        self.rect(x, y, w, 1, c);
        self.rect(x, y + h - 1, w, 1, c);
        self.rect(x, y, 1, h, c);
        self.rect(x + w - 1, y, 1, h, c);
    }

    /// A line `width` pixels thick; `dash` > 0 draws dashes of that many pixels.
    pub fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), width: i64, c: Colour, dash: usize) {
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
        for s in 0..=steps {
            if dash > 0 && (s / dash) % 2 == 1 {
                continue;
            }
            let t = s as f64 / steps as f64;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            let h = width / 2;
            self.rect(x.round() as i64 - h, y.round() as i64 - h, width, width, c);
        }
    }

    /// A filled disc marker.
    pub fn dot(&mut self, (x, y): (f64, f64), radius: i64, c: Colour) {
        let (cx, cy) = (x.round() as i64, y.round() as i64);
        for dy in -radius..=radius {
            for dx in -radius..=radius {
                if dx * dx + dy * dy <= radius * radius {
                    self.put(cx + dx, cy + dy, c);
                }
            }
        }
    }

    /// Text with its top-left at (x, y), each font pixel `scale` pixels wide; returns its width.
    pub fn text(&mut self, x: i64, y: i64, s: &str, scale: i64, c: Colour) -> i64 {
        let mut cx = x;
        for ch in s.chars() {
            if let Some(glyph) = glyph(ch) {
                for (row, bits) in glyph.iter().enumerate() {
                    for col in 0..8 {
                        if bits >> col & 1 == 1 {
                            self.rect(cx + col * scale, y + row as i64 * scale, scale, scale, c);
                        }
                    }
                }
            }
            cx += 8 * scale;
        }
        cx - x
    }

    /// Text centred on x.
    pub fn text_centred(&mut self, x: i64, y: i64, s: &str, scale: i64, c: Colour) {
        let w = 8 * scale * s.chars().count() as i64;
        self.text(x - w / 2, y, s, scale, c);
    }

    /// Text rotated by 90° (reading bottom to top), its bottom-left at (x, y).
    pub fn text_vertical(&mut self, x: i64, y: i64, s: &str, scale: i64, c: Colour) {
        let mut cy = y;
        for ch in s.chars() {
            if let Some(glyph) = glyph(ch) {
                for (row, bits) in glyph.iter().enumerate() {
                    for col in 0..8 {
                        if bits >> col & 1 == 1 {
                            self.rect(x + row as i64 * scale, cy - (col + 1) * scale, scale, scale, c);
                        }
                    }
                }
            }
            cy -= 8 * scale;
        }
    }

    /// Writes the PNG atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        self.img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
        lift_core::io::write_atomic(path, &bytes)
    }
}

/// Viridis at t ∈ [0, 1], piecewise linear through 9 stops of matplotlib's table.
pub fn viridis(t: f64) -> Colour {
    const STOPS: [[f64; 3]; 9] = [
        [68.0, 1.0, 84.0],
        [71.0, 44.0, 122.0],
        [59.0, 81.0, 139.0],
        [44.0, 113.0, 142.0],
        [33.0, 144.0, 141.0],
        [39.0, 173.0, 129.0],
        [92.0, 200.0, 99.0],
        [170.0, 220.0, 50.0],
        [253.0, 231.0, 37.0],
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * 8.0;
    let i = (t.floor() as usize).min(7);
    let w = t - i as f64;
    let mix = |k: usize| (STOPS[i][k] * (1.0 - w) + STOPS[i + 1][k] * w).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// A compact number: 3 significant digits, scientific outside [0.01, 1000).
pub fn short_number(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (0.01..1000.0).contains(&x.abs()) {
        let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_colours() {
        assert_eq!(short_number(0.5), "0.500");
        assert_eq!(short_number(123.4), "123");
        assert_eq!(short_number(0.001234), "1.2e-3");
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
    }

    #[test]
    fn text_draws_the_glyph_bits_left_to_right() {
        let mut c = Canvas::new(40, 10);
        assert_eq!(c.text(0, 0, "Hi", 1, BLACK), 16);
        // font8x8's 'H' is rows 0x33 ×3, 0x3F, 0x33 ×3, 0x00, bit k the k-th pixel from the left.
        let black = |x: u32, y: u32| c.img.get_pixel(x, y).0 == BLACK;
        let row = |y: u32| (0..8).filter(|&x| black(x, y)).collect::<Vec<_>>();
        assert_eq!(row(0), [0, 1, 4, 5]);
        assert_eq!(row(3), [0, 1, 2, 3, 4, 5]);
        assert_eq!(row(7), Vec::<u32>::new());
        assert_eq!((0..8).flat_map(|y| (0..8).map(move |x| (x, y))).filter(|&(x, y)| black(x, y)).count(), 30);
    }

    #[test]
    fn sizes_draw_a_times_sign_not_a_question_mark() {
        let drawn = |s: &str| {
            let mut c = Canvas::new(8, 8);
            c.text(0, 0, s, 1, BLACK);
            c.img.pixels().map(|p| p.0 == BLACK).collect::<Vec<_>>()
        };
        assert_ne!(drawn("×"), drawn("?"));
        assert!(drawn("×").contains(&true));
    }
}
