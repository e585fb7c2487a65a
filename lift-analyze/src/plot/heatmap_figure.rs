//! Heatmap figures: log₁₀ panels of a heatmap's errors with paths on top, axes in grid timestep
//! and SNR (rows: the fine scale, columns: the coarse scale, noisiest first).

use lift_core::chain_rule::ChainRule;
use lift_core::PathFile;

use super::canvas::{short_number, viridis, Canvas, Colour, BLACK, GREY};
use crate::heatmap::{Heatmap, Matrix};

/// A path to overlay.
pub struct Overlay<'a> {
    pub name: &'a str,
    pub path: &'a PathFile,
    pub colour: Colour,
    /// Dash length in pixels (0 = solid).
    pub dash: usize,
}

impl<'a> Overlay<'a> {
    /// Overlays for named paths in the figures' fixed colours (the third one dashed).
    pub fn palette(files: &'a [(String, PathFile)]) -> Vec<Overlay<'a>> {
        const COLOURS: [Colour; 5] = [[255, 255, 255], [230, 40, 40], [0, 200, 255], [255, 150, 0], [200, 0, 200]];
        files.iter().enumerate().map(|(k, (name, path))| Overlay { name, path, colour: COLOURS[k % COLOURS.len()], dash: if k == 2 { 6 } else { 0 } }).collect()
    }
}

const LEFT: i64 = 120;
const TOP: i64 = 40;
const BAR: i64 = 80;
const BOTTOM: i64 = 120;

/// The write-up's figure: log₁₀ of the fine-scale error (HH), the coarse-scale error (LL) and their
/// sum under `chain`, each on its own colour scale, paths on top.
pub fn error_figure(map: &Heatmap, chain: ChainRule, overlays: &[Overlay]) -> Canvas {
    let e = map.errors(chain);
    let total = e.total();
    let [fine, coarse] = lift_core::data::scale_names(map.meta.resolution);
    let panels = [(format!("{fine} error (HH)"), &e.hh), (format!("{coarse} error (LL)"), &e.ll), ("total error".to_string(), &total)];
    heatmap_figure(map, &panels, 3, false, overlays)
}

/// The cross-scale figure: the four blocks HH, HL (top), LH, LL (bottom) under `chain`, on one
/// shared colour scale so that their sizes compare.
pub fn cross_figure(map: &Heatmap, chain: ChainRule, overlays: &[Overlay]) -> Canvas {
    let e = map.errors(chain);
    let panels = [
        ("J_HH (d eps_fine / d x_fine)".to_string(), &e.hh),
        ("J_HL (d eps_fine / d x_coarse)".to_string(), &e.hl),
        ("J_LH (d eps_coarse / d x_fine)".to_string(), &e.lh),
        ("J_LL (d eps_coarse / d x_coarse)".to_string(), &e.ll),
    ];
    heatmap_figure(map, &panels, 2, true, overlays)
}

/// Panels of log₁₀ values in rows of `columns`, with the overlays on every panel; `shared` puts
/// all panels on one colour scale.
pub fn heatmap_figure(map: &Heatmap, panels: &[(String, &Matrix)], columns: usize, shared: bool, overlays: &[Overlay]) -> Canvas {
    let n = map.len() as i64;
    let cell = (360 / n).max(6);
    let side = cell * n;
    let (panel_w, panel_h) = (LEFT + side + BAR, TOP + side + BOTTOM);
    let rows = panels.len().div_ceil(columns) as i64;
    let mut c = Canvas::new((columns as i64 * panel_w + 20) as u32, (rows * panel_h + 30) as u32);
    let range = shared.then(|| log_range(panels.iter().flat_map(|(_, m)| m.iter().flatten())));
    for (p, (title, values)) in panels.iter().enumerate() {
        let (x0, y0) = ((p % columns) as i64 * panel_w + LEFT, (p / columns) as i64 * panel_h + TOP);
        let range = range.unwrap_or_else(|| log_range(values.iter().flatten()));
        draw_panel(&mut c, map, values, title, (x0, y0), cell, range);
        for o in overlays {
            let centre = |[i, j]: [usize; 2]| ((x0 + j as i64 * cell + cell / 2) as f64, (y0 + i as i64 * cell + cell / 2) as f64);
            for w in o.path.indices.windows(2) {
                c.line(centre(w[0]), centre(w[1]), 2, o.colour, o.dash);
            }
            for &ij in &o.path.indices {
                c.dot(centre(ij), 3, o.colour);
            }
        }
    }
    // Legend.
    let mut x = LEFT;
    let y = rows * panel_h;
    for o in overlays {
        c.rect(x, y + 3, 24, 6, o.colour);
        c.frame(x - 1, y + 2, 26, 8, GREY);
        x += 30 + c.text(x + 30, y, &format!("{} (cost {})", o.name, short_number(o.path.cost)), 1, BLACK) + 30;
    }
    c
}

/// (lo, hi) of the finite positive values' log₁₀.
fn log_range<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| **v > 0.0 && v.is_finite()).map(|v| v.log10()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo < hi {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 1.0, lo + 1.0)
    } else {
        (0.0, 1.0)
    }
}

fn draw_panel(c: &mut Canvas, map: &Heatmap, values: &[Vec<f64>], title: &str, (x0, top): (i64, i64), cell: i64, (lo, hi): (f64, f64)) {
    let n = map.len();
    let side = cell * n as i64;
    let logs: Vec<f64> = values.iter().flatten().map(|v| if *v > 0.0 { v.log10() } else { f64::NAN }).collect();
    for i in 0..n {
        for j in 0..n {
            let t = ((logs[i * n + j] - lo) / (hi - lo)).clamp(0.0, 1.0);
            c.rect(x0 + j as i64 * cell, top + i as i64 * cell, cell, cell, viridis(t));
        }
    }
    c.frame(x0 - 1, top - 1, side + 2, side + 2, BLACK);
    c.text_centred(x0 + side / 2, top - 30, &format!("log10 {title}"), 2, BLACK);
    // Ticks: about five per axis, labelled with the grid's t and SNR.
    let ticks: Vec<usize> = {
        let mut v: Vec<usize> = (0..5).map(|k| k * (n - 1) / 4).collect();
        v.dedup();
        v
    };
    for (m, &k) in ticks.iter().enumerate() {
        let pos = k as i64 * cell + cell / 2;
        let (t, s) = (format!("t={:.0}", map.t_grid[k]), format!("snr={}", short_number(map.snr[k])));
        // Alternate label rows so neighbouring labels never overlap.
        let dy = if m % 2 == 1 { 22 } else { 0 };
        c.rect(x0 + pos, top + side, 1, 5 + dy, BLACK);
        c.text_centred(x0 + pos, top + side + 8 + dy, &t, 1, BLACK);
        c.text_centred(x0 + pos, top + side + 18 + dy, &s, 1, GREY);
        c.rect(x0 - 5, top + pos, 5, 1, BLACK);
        c.text(x0 - 8 - 8 * t.len() as i64, top + pos - 9, &t, 1, BLACK);
        c.text(x0 - 8 - 8 * s.len() as i64, top + pos + 1, &s, 1, GREY);
    }
    let [fine, coarse] = lift_core::data::scale_names(map.meta.resolution);
    c.text_centred(x0 + side / 2, top + side + 56, &format!("{coarse} scale (columns)"), 1, BLACK);
    c.text_vertical(x0 - 112, top + side / 2 + 88, &format!("{fine} scale (rows)"), 1, BLACK);
    // Colour bar.
    let bx = x0 + side + 12;
    for y in 0..side {
        c.rect(bx, top + y, 14, 1, viridis(1.0 - y as f64 / (side - 1).max(1) as f64));
    }
    c.frame(bx - 1, top - 1, 16, side + 2, BLACK);
    c.text(bx + 18, top, &short_number(hi), 1, BLACK);
    c.text(bx + 18, top + side - 8, &short_number(lo), 1, BLACK);
}
