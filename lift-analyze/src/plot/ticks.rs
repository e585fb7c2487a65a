//! A linear f64 axis whose ticks are chosen by the figure (cell or group centres), not by plotters.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A linear axis over `range` with a tick at each of `at`.
pub struct Ticks {
    pub range: Range<f64>,
    pub at: Vec<f64>,
}

impl Ranged for Ticks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, (lo, hi): (i32, i32)) -> i32 {
        let t = (v - self.range.start) / (self.range.end - self.range.start);
        (lo as f64 + t * (hi - lo) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _: H) -> Vec<f64> {
        self.at.clone()
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_linearly_onto_the_pixels() {
        let axis = Ticks { range: 0.0..4.0, at: vec![0.5, 3.5] };
        assert_eq!(axis.map(&0.0, (10, 110)), 10);
        assert_eq!(axis.map(&1.0, (10, 110)), 35);
        assert_eq!(axis.map(&4.0, (110, 10)), 10);
        assert_eq!(axis.key_points(5usize), vec![0.5, 3.5]);
    }
}
