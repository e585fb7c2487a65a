//! Grouped bar chart (the MSE tests).

use super::canvas::{short_number, Canvas, Colour, BLACK, GREY};

/// One group of bars: a label and one value per series.
pub struct Group {
    pub label: String,
    pub values: Vec<f64>,
}

/// Draws groups of bars; `series` names and colours the bars within a group.
pub fn bar_chart(title: &str, series: &[(&str, Colour)], groups: &[Group]) -> Canvas {
    let (left, top, plot_h, bar_w, gap) = (70i64, 50i64, 300i64, 36i64, 40i64);
    let group_w = bar_w * series.len() as i64 + gap;
    let width = left + group_w * groups.len() as i64 + 40;
    let mut c = Canvas::new(width.max(420) as u32, (top + plot_h + 90) as u32);
    c.text_centred(width / 2, 12, title, 2, BLACK);
    let max = groups.iter().flat_map(|g| g.values.iter().copied()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let max = if max > 0.0 { max * 1.15 } else { 1.0 };
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let y = top + plot_h - (plot_h as f64 * k as f64 / 4.0) as i64;
        c.rect(left - 4, y, width - left - 20, 1, if k == 0 { BLACK } else { [220, 220, 220] });
        let s = short_number(v);
        c.text(left - 8 - 8 * s.len() as i64, y - 4, &s, 1, GREY);
    }
    for (g, group) in groups.iter().enumerate() {
        let gx = left + gap / 2 + g as i64 * group_w;
        for (s, &v) in group.values.iter().enumerate() {
            let h = if v.is_finite() { (plot_h as f64 * v / max) as i64 } else { 0 };
            let x = gx + s as i64 * bar_w;
            c.rect(x + 2, top + plot_h - h, bar_w - 4, h, series[s].1);
            c.text_centred(x + bar_w / 2, top + plot_h - h - 12, &short_number(v), 1, BLACK);
        }
        c.text_centred(gx + bar_w * series.len() as i64 / 2, top + plot_h + 10, &group.label, 1, BLACK);
    }
    let mut x = left;
    for (name, colour) in series {
        c.rect(x, top + plot_h + 40, 14, 10, *colour);
        x += 20 + c.text(x + 20, top + plot_h + 41, name, 1, BLACK) + 20;
    }
    c
}
