//! Line charts (training curves): one or more series over a shared x axis, log-scaled y.

use lift_core::metrics_csv::{self, MetricsRow, EPOCH};

use super::canvas::{short_number, Canvas, Colour, BLACK, GREY};

/// A named series of (x, y) points; non-finite y values are gaps.
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
    pub const CURVES: Axes = Axes { log_x: false, log_y: true, lines: true, y_label: "" };
}

/// Draws the series with a log₁₀ y axis (losses span decades).
pub fn line_chart(title: &str, x_label: &str, series: &[Series]) -> Canvas {
    chart(title, x_label, series, Axes::CURVES)
}

/// Draws the series on the axes asked for; points a log axis cannot show are left out.
pub fn chart(title: &str, x_label: &str, series: &[Series], axes: Axes) -> Canvas {
    let (left, top, w, h) = (80i64, 50i64, 560i64, 300i64);
    let mut c = Canvas::new((left + w + 40) as u32, (top + h + 90) as u32);
    c.text_centred(left + w / 2, 12, title, 2, BLACK);
    let fx = |x: f64| if axes.log_x { x.log10() } else { x };
    let fy = |y: f64| if axes.log_y { y.log10() } else { y };
    let shown = |&(x, y): &(f64, f64)| fx(x).is_finite() && fy(y).is_finite();
    let all = || series.iter().flat_map(|s| s.points.iter().copied()).filter(shown).map(|(x, y)| (fx(x), fy(y)));
    let range = |v: (f64, f64), pad: f64| {
        if v.0 < v.1 {
            v
        } else if v.0.is_finite() {
            (v.0 - pad, v.0 + pad)
        } else {
            (0.0, 1.0)
        }
    };
    let (x0, x1) = range(all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| (a.min(x), b.max(x))), 1.0);
    let (y0, y1) = range(all().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, y)| (a.min(y), b.max(y))), 0.5);
    let px = |x: f64| left as f64 + (fx(x) - x0) / (x1 - x0) * w as f64;
    let py = |y: f64| (top + h) as f64 - (fy(y) - y0) / (y1 - y0) * h as f64;
    let unmap = |v: f64, log: bool| if log { 10f64.powf(v) } else { v };
    for k in 0..=4 {
        let v = unmap(y0 + (y1 - y0) * k as f64 / 4.0, axes.log_y);
        let y = py(v) as i64;
        c.rect(left, y, w, 1, if k == 0 { BLACK } else { [225, 225, 225] });
        let s = short_number(v);
        c.text(left - 8 - 8 * s.len() as i64, y - 4, &s, 1, GREY);
    }
    if !axes.y_label.is_empty() {
        c.text_vertical(14, top + h / 2, axes.y_label, 1, BLACK);
    }
    for k in 0..=4 {
        let v = unmap(x0 + (x1 - x0) * k as f64 / 4.0, axes.log_x);
        let x = px(v) as i64;
        c.rect(x, top + h, 1, 5, BLACK);
        c.text_centred(x, top + h + 10, &short_number(v), 1, GREY);
    }
    c.text_centred(left + w / 2, top + h + 28, x_label, 1, BLACK);
    for s in series {
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(shown).map(|(x, y)| (px(x), py(y))).collect();
        if axes.lines {
            for pair in pts.windows(2) {
                c.line(pair[0], pair[1], 2, s.colour, 0);
            }
        }
        for p in &pts {
            c.dot(*p, if axes.lines { 3 } else { 4 }, s.colour);
        }
    }
    let mut x = left;
    for s in series {
        c.rect(x, top + h + 50, 14, 10, s.colour);
        x += 20 + c.text(x + 20, top + h + 51, &s.name, 1, BLACK) + 20;
    }
    c
}

/// Training curves of a run's `metrics.csv`: train, valid and EMA-valid loss, and the per-scale
/// training losses (named by role and `resolution`) when the run has two scales.
pub fn training_curves(title: &str, rows: &[MetricsRow], resolution: usize) -> Canvas {
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
    line_chart(title, "epoch", &series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_draw_every_series_that_has_values() {
        let rows: Vec<MetricsRow> = (1..=4)
            .map(|e| {
                let mut r = MetricsRow::new();
                r.insert(EPOCH.into(), e as f64);
                r.insert(metrics_csv::TRAIN_LOSS.into(), 1.0 / e as f64);
                r.insert(metrics_csv::VALID_LOSS.into(), 1.2 / e as f64);
                r.insert(metrics_csv::VALID_EMA_LOSS.into(), f64::NAN);
                r
            })
            .collect();
        let c = training_curves("t", &rows, 32);
        let has = |colour: [u8; 3]| c.img.pixels().any(|p| p.0 == colour);
        assert!(has([59, 81, 139]) && has([230, 120, 20]), "train and valid are drawn");
        // The EMA series has no values: only its legend swatch shows its colour, not a line.
        let ema = c.img.pixels().filter(|p| p.0 == [33, 144, 141]).count();
        assert_eq!(ema, 14 * 10, "legend swatch only");
    }
}
