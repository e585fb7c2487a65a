//! Colours and number formats the figures share.

use plotters::prelude::ColorMap;
use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::{Color, RGBColor, ShapeStyle};

/// An RGB colour.
pub type Colour = [u8; 3];

/// The plotters colour of `c`.
pub fn rgb(c: Colour) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// A filled shape in `c`.
pub fn filled(c: Colour) -> ShapeStyle {
    rgb(c).filled()
}

/// The grid lines behind a chart.
pub const GRID: RGBColor = RGBColor(225, 225, 225);

/// Cells without a value (a heatmap's non-positive or missing entries).
pub const MISSING: RGBColor = RGBColor(200, 200, 200);

/// Viridis (matplotlib's default colour map) at t ∈ [0, 1].
pub fn viridis(t: f64) -> RGBColor {
    ViridisRGB.get_color(if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } as f32)
}

/// A compact number: at most 3 significant digits, scientific outside [0.01, 1000).
pub fn short_number(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (0.01..1000.0).contains(&x.abs()) {
        let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').into()
        } else {
            s
        }
    } else {
        format!("{x:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_colours() {
        assert_eq!(short_number(0.5), "0.5");
        assert_eq!(short_number(123.4), "123");
        assert_eq!(short_number(2.0), "2");
        assert_eq!(short_number(0.09999999), "0.1");
        assert_eq!(short_number(0.0838), "0.0838");
        assert_eq!(short_number(0.001234), "1.2e-3");
        // matplotlib's viridis starts at #440154 and ends at #FDE725 (plotters rounds it to #FEE825).
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        let end = viridis(1.0);
        assert!((end.0 as i32 - 253).abs() <= 1 && (end.1 as i32 - 231).abs() <= 1 && end.2 == 37, "{end:?}");
    }
}
