//! The heatmap figure: log₁₀ of error_64, error_32 and error_total side by side, paths on top,
//! axes in grid timestep and SNR (rows: 64×64 scale, columns: 32×32 scale, noisiest first).

use lift_core::PathFile;

use super::canvas::{short_number, viridis, Canvas, Colour, BLACK, GREY};
use crate::heatmap::Heatmap;

/// A path to overlay.
pub struct Overlay<'a> {
    pub name: &'a str,
    pub path: &'a PathFile,
    pub colour: Colour,
    /// Dash length in pixels (0 = solid).
    pub dash: usize,
}

const LEFT: i64 = 120;
const TOP: i64 = 40;
const BAR: i64 = 80;
const BOTTOM: i64 = 120;

/// Draws the three panels with the overlays.
pub fn heatmap_figure(map: &Heatmap, overlays: &[Overlay]) -> Canvas {
    let n = map.len() as i64;
    let cell = (360 / n).max(6);
    let side = cell * n;
    let panel_w = LEFT + side + BAR;
    let mut c = Canvas::new((3 * panel_w + 20) as u32, (TOP + side + BOTTOM) as u32);
    let panels: [(&str, &Vec<Vec<f64>>); 3] =
        [("error_64", &map.error_64), ("error_32", &map.error_32), ("error_total", &map.error_total)];
    for (p, (title, values)) in panels.iter().enumerate() {
        let x0 = p as i64 * panel_w + LEFT;
        draw_panel(&mut c, map, values, title, x0, cell);
        for o in overlays {
            let centre = |[i, j]: [usize; 2]| ((x0 + j as i64 * cell + cell / 2) as f64, (TOP + i as i64 * cell + cell / 2) as f64);
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
    let y = TOP + side + 90;
    for o in overlays {
        c.rect(x, y + 3, 24, 6, o.colour);
        c.frame(x - 1, y + 2, 26, 8, GREY);
        x += 30 + c.text(x + 30, y, &format!("{} (cost {})", o.name, short_number(o.path.cost)), 1, BLACK) + 30;
    }
    c
}

fn draw_panel(c: &mut Canvas, map: &Heatmap, values: &[Vec<f64>], title: &str, x0: i64, cell: i64) {
    let n = map.len();
    let side = cell * n as i64;
    let logs: Vec<f64> = values.iter().flatten().map(|v| if *v > 0.0 { v.log10() } else { f64::NAN }).collect();
    let finite = logs.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
    for i in 0..n {
        for j in 0..n {
            let t = (logs[i * n + j] - lo) / (hi - lo);
            c.rect(x0 + j as i64 * cell, TOP + i as i64 * cell, cell, cell, viridis(t));
        }
    }
    c.frame(x0 - 1, TOP - 1, side + 2, side + 2, BLACK);
    c.text_centred(x0 + side / 2, 10, &format!("log10 {title}"), 2, BLACK);
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
        c.rect(x0 + pos, TOP + side, 1, 5 + dy, BLACK);
        c.text_centred(x0 + pos, TOP + side + 8 + dy, &t, 1, BLACK);
        c.text_centred(x0 + pos, TOP + side + 18 + dy, &s, 1, GREY);
        c.rect(x0 - 5, TOP + pos, 5, 1, BLACK);
        c.text(x0 - 8 - 8 * t.len() as i64, TOP + pos - 9, &t, 1, BLACK);
        c.text(x0 - 8 - 8 * s.len() as i64, TOP + pos + 1, &s, 1, GREY);
    }
    c.text_centred(x0 + side / 2, TOP + side + 56, "32x32 scale (columns)", 1, BLACK);
    c.text_vertical(x0 - 112, TOP + side / 2 + 88, "64x64 scale (rows)", 1, BLACK);
    // Colour bar.
    let bx = x0 + side + 12;
    for y in 0..side {
        c.rect(bx, TOP + y, 14, 1, viridis(1.0 - y as f64 / (side - 1).max(1) as f64));
    }
    c.frame(bx - 1, TOP - 1, 16, side + 2, BLACK);
    c.text(bx + 18, TOP, &short_number(hi), 1, BLACK);
    c.text(bx + 18, TOP + side - 8, &short_number(lo), 1, BLACK);
}
