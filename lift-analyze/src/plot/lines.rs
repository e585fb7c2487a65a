//! Line and scatter charts (training curves, FID over training, path cost against FID): series
//! over shared axes, either of them log₁₀-scaled.

use lift_core::metrics_csv::{self, MetricsRow, EPOCH};
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{text, title, Drawn, Figure};
use super::legend::{self, Entry, Swatch};
use super::style::{filled, rgb, short_number, Colour, GRID};
use super::ticks::Ticks;

/// A named series of (x, y) points; a point an axis cannot show (non-finite, or ≤ 0 on a log
/// axis) is a gap.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub colour: Colour,
}

/// How a chart draws its axes and points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axes {
    pub log_x: bool,
    pub log_y: bool,
    /// Join each series' points with lines (a scatter plot when false).
    pub lines: bool,
    /// The y axis label.
    pub y_label: &'static str,
}

impl Axes {
    /// Lines over a log₁₀ y axis (losses span decades).
    pub const CURVES: Axes = Axes { log_x: false, log_y: true, lines: true, y_label: "loss" };
}

/// A chart of series; see [`chart`].
pub struct Chart {
    title: String,
    x_label: String,
    series: Vec<Series>,
    axes: Axes,
}

/// The series on the axes asked for.
pub fn chart(title: &str, x_label: &str, series: Vec<Series>, axes: Axes) -> Chart {
    Chart { title: title.into(), x_label: x_label.into(), series, axes }
}

/// The series with a log₁₀ y axis (losses span decades).
pub fn line_chart(title: &str, x_label: &str, series: Vec<Series>) -> Chart {
    chart(title, x_label, series, Axes::CURVES)
}

/// The value an axis plots (log₁₀ on a log axis), `None` where it cannot show it.
fn on_axis(v: f64, log: bool) -> Option<f64> {
    let v = if log { v.log10() } else { v };
    v.is_finite().then_some(v)
}

/// A range that holds `values`, padded by 5 % (or `pad` around a single value).
fn span(values: impl Iterator<Item = f64>, pad: f64) -> std::ops::Range<f64> {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo < hi {
        let m = (hi - lo) * 0.05;
        lo - m..hi + m
    } else if lo.is_finite() {
        lo - pad..lo + pad
    } else {
        0.0..1.0
    }
}

/// An axis over `range` (log₁₀ values on a log axis) with ticks at round numbers: plotters' own
/// choice on a linear axis, 1, 2, 5 × 10ᵏ (or every digit, when that gives fewer than three) on a
/// log axis.
fn axis(range: std::ops::Range<f64>, log: bool) -> Ticks {
    let at = if log {
        let decades = range.start.floor() as i32..=range.end.ceil() as i32;
        let within = |digits: &[f64]| -> Vec<f64> {
            decades.clone().flat_map(|k| digits.iter().map(move |m| (m * 10f64.powi(k)).log10())).filter(|v| range.contains(v)).collect()
        };
        let round = within(&[1.0, 2.0, 5.0]);
        if round.len() >= 3 {
            round
        } else {
            within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
        }
    } else {
        RangedCoordf64::from(range.clone()).key_points(8usize)
    };
    Ticks { range, at }
}

/// An axis description, saying when it is logarithmic.
fn axis_name(name: &str, log: bool) -> String {
    if log {
        format!("{name} (log scale)")
    } else {
        name.into()
    }
}

impl Chart {
    /// Each series' runs of showable points, in axis coordinates.
    fn runs(&self, s: &Series) -> Vec<Vec<(f64, f64)>> {
        let mut runs = vec![Vec::new()];
        for &(x, y) in &s.points {
            match (on_axis(x, self.axes.log_x), on_axis(y, self.axes.log_y)) {
                (Some(x), Some(y)) => runs.last_mut().expect("one run at least").push((x, y)),
                _ => runs.push(Vec::new()),
            }
        }
        runs.retain(|r| !r.is_empty());
        runs
    }
}

/// The chart's width and the height above its legend.
const SIZE: (u32, u32) = (760, 440);

impl Chart {
    /// One legend entry per series that shows a point.
    fn entries(&self) -> Vec<Entry> {
        self.series.iter().filter(|s| !self.runs(s).is_empty()).map(|s| Entry { label: s.name.clone(), colour: s.colour, swatch: Swatch::Box }).collect()
    }
}

impl Figure for Chart {
    fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + legend::height(&self.entries(), SIZE.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (root, below) = root.split_vertically(SIZE.1);
        let root = &root;
        let runs: Vec<Vec<Vec<(f64, f64)>>> = self.series.iter().map(|s| self.runs(s)).collect();
        let all = || runs.iter().flatten().flatten();
        let xs = span(all().map(|p| p.0), 1.0);
        let ys = span(all().map(|p| p.1), 0.5);
        let unmap = |v: f64, log: bool| if log { 10f64.powf(v) } else { v };
        let (log_x, log_y) = (self.axes.log_x, self.axes.log_y);
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title(20))
            .margin(14)
            .x_label_area_size(46)
            .y_label_area_size(72)
            .build_cartesian_2d(axis(xs, log_x), axis(ys, log_y))?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_desc(axis_name(&self.x_label, log_x))
            .y_desc(axis_name(self.axes.y_label, log_y))
            .x_label_formatter(&|v| short_number(unmap(*v, log_x)))
            .y_label_formatter(&|v| short_number(unmap(*v, log_y)))
            .label_style(text(13))
            .axis_desc_style(text(15))
            .draw()?;
        for (s, runs) in self.series.iter().zip(&runs) {
            let colour = rgb(s.colour);
            if self.axes.lines {
                for run in runs {
                    chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(2)))?;
                }
            }
            let radius = if self.axes.lines { 3 } else { 5 };
            chart.draw_series(runs.iter().flatten().map(|&p| Circle::new(p, radius, filled(s.colour))))?;
        }
        legend::legend(&below, &self.entries())
    }
}

/// Training curves of a run's `metrics.csv`: train, valid and EMA-valid loss, and the per-scale
/// training losses (named by role and `resolution`) when the run has two scales.
pub fn training_curves(title: &str, rows: &[MetricsRow], resolution: usize) -> Chart {
    let column = |name: &str| rows.iter().map(|r| (metrics_csv::value(r, EPOCH), metrics_csv::value(r, name))).collect::<Vec<_>>();
    let mut series = vec![
        Series { name: "train".into(), points: column(metrics_csv::TRAIN_LOSS), colour: [59, 81, 139] },
        Series { name: "valid".into(), points: column(metrics_csv::VALID_LOSS), colour: [230, 120, 20] },
        Series { name: "EMA valid".into(), points: column(metrics_csv::VALID_EMA_LOSS), colour: [33, 144, 141] },
    ];
    let coarse = column(metrics_csv::TRAIN_LOSS_COARSE);
    if coarse.iter().any(|(_, y)| y.is_finite()) {
        let [fine, coarse_name] = lift_core::data::scale_names(resolution);
        series.push(Series { name: format!("train {fine}"), points: column(metrics_csv::TRAIN_LOSS_FINE), colour: [150, 150, 220] });
        series.push(Series { name: format!("train {coarse_name}"), points: coarse, colour: [220, 150, 150] });
    }
    line_chart(title, "epoch", series)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(lo: f64, hi: f64) -> Vec<f64> {
        axis(lo.log10()..hi.log10(), true).at.iter().map(|v| (10f64.powf(*v) * 1e6).round() / 1e6).collect()
    }

    #[test]
    fn log_axes_tick_at_round_numbers() {
        assert_eq!(ticks(0.09, 1.3), [0.1, 0.2, 0.5, 1.0]);
        assert_eq!(ticks(0.8, 30.0), [1.0, 2.0, 5.0, 10.0, 20.0]);
        // Less than a decade: every digit.
        assert_eq!(ticks(0.25, 0.75), [0.3, 0.4, 0.5, 0.6, 0.7]);
    }
}
