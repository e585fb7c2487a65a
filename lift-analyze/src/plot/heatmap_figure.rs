//! Heatmap figures: log₁₀ panels of a heatmap's errors with paths on top. Rows are the fine scale,
//! columns the coarse scale, noisiest first; the axes give the timestep (bottom, left) and the SNR
//! (top, right) of each scale, named by its real size.

use lift_core::chain_rule::ChainRule;
use lift_core::PathFile;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{text, title, Drawn, Figure};
use super::legend::{self, Entry, Swatch};
use super::style::{rgb, short_number, viridis, Colour, MISSING};
use super::ticks::Ticks;
use crate::heatmap::{Heatmap, Matrix};

/// The grid a heatmap is drawn over.
pub struct Grid {
    /// Timestep per grid index.
    pub t: Vec<f64>,
    /// SNR per grid index.
    pub snr: Vec<f64>,
    /// The fine and coarse scales' names with their sizes.
    pub scales: [String; 2],
}

impl Grid {
    /// The grid of `map`.
    pub fn of(map: &Heatmap) -> Grid {
        Grid { t: map.t_grid.clone(), snr: map.snr.clone(), scales: lift_core::data::scale_names(map.meta.resolution) }
    }

    fn len(&self) -> usize {
        self.t.len()
    }

    /// An axis over the grid's cells with about five ticks, at cell centres.
    fn axis(&self) -> Ticks {
        let n = self.len();
        let mut ticks: Vec<usize> = (0..5).map(|k| k * n.saturating_sub(1) / 4).collect();
        ticks.dedup();
        Ticks { range: 0.0..n as f64, at: ticks.into_iter().map(|k| k as f64 + 0.5).collect() }
    }
}

/// A path drawn over the panels.
pub struct Overlay {
    pub name: String,
    /// The path's (row, column) grid indices.
    pub indices: Vec<[usize; 2]>,
    /// Its cost, for the legend.
    pub cost: f64,
    pub colour: Colour,
    pub dashed: bool,
}

impl Overlay {
    /// Overlays for named paths in the figures' fixed colours (the third one dashed).
    pub fn palette(files: &[(String, PathFile)]) -> Vec<Overlay> {
        const COLOURS: [Colour; 5] = [[255, 255, 255], [230, 40, 40], [0, 200, 255], [255, 150, 0], [200, 0, 200]];
        files
            .iter()
            .enumerate()
            .map(|(k, (name, path))| Overlay {
                name: name.clone(),
                indices: path.indices.clone(),
                cost: path.cost,
                colour: COLOURS[k % COLOURS.len()],
                dashed: k == 2,
            })
            .collect()
    }
}

/// Panels of log₁₀ values over one grid; see [`heatmap_figure`].
pub struct HeatmapFigure {
    grid: Grid,
    panels: Vec<(String, Matrix)>,
    columns: usize,
    shared: bool,
    overlays: Vec<Overlay>,
}

/// The write-up's figure: log₁₀ of the fine-scale error (HH), the coarse-scale error (LL) and their
/// sum under `chain`, each on its own colour scale, paths on top.
pub fn error_figure(map: &Heatmap, chain: ChainRule, overlays: Vec<Overlay>) -> HeatmapFigure {
    let e = map.errors(chain);
    let total = e.total();
    let [fine, coarse] = lift_core::data::scale_names(map.meta.resolution);
    let panels = vec![(format!("{fine} error (HH)"), e.hh), (format!("{coarse} error (LL)"), e.ll), ("total error".to_string(), total)];
    heatmap_figure(Grid::of(map), panels, 3, false, overlays)
}

/// The cross-scale figure: the four blocks HH, HL (top), LH, LL (bottom) under `chain`, on one
/// shared colour scale so that their sizes compare.
pub fn cross_figure(map: &Heatmap, chain: ChainRule, overlays: Vec<Overlay>) -> HeatmapFigure {
    let e = map.errors(chain);
    let panels = vec![
        ("J_HH (∂ε_fine / ∂x_fine)".to_string(), e.hh),
        ("J_HL (∂ε_fine / ∂x_coarse)".to_string(), e.hl),
        ("J_LH (∂ε_coarse / ∂x_fine)".to_string(), e.lh),
        ("J_LL (∂ε_coarse / ∂x_coarse)".to_string(), e.ll),
    ];
    heatmap_figure(Grid::of(map), panels, 2, true, overlays)
}

/// Panels of log₁₀ values in rows of `columns`, with the overlays on every panel; `shared` puts
/// all panels on one colour scale.
pub fn heatmap_figure(grid: Grid, panels: Vec<(String, Matrix)>, columns: usize, shared: bool, overlays: Vec<Overlay>) -> HeatmapFigure {
    HeatmapFigure { grid, panels, columns: columns.max(1), shared, overlays }
}

const PANEL: (u32, u32) = (600, 540);
const COLOUR_BAR: u32 = 96;

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

/// The colour of `v` on a log₁₀ scale from lo to hi.
fn cell_colour(v: f64, (lo, hi): (f64, f64)) -> RGBColor {
    if v > 0.0 && v.is_finite() {
        viridis((v.log10() - lo) / (hi - lo))
    } else {
        MISSING
    }
}

impl HeatmapFigure {
    fn rows(&self) -> u32 {
        self.panels.len().div_ceil(self.columns) as u32
    }

    fn panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, heading: &str, values: &Matrix, range: (f64, f64)) -> Drawn<DB> {
        let g = &self.grid;
        let n = g.len();
        let [fine, coarse] = &g.scales;
        let column = |x: &f64| (x.floor() as usize).min(n - 1);
        let row = |y: &f64| n - 1 - (y.floor() as usize).min(n - 1);
        let (cells, bar) = area.split_horizontally(PANEL.0 - COLOUR_BAR);
        let mut chart = ChartBuilder::on(&cells)
            .caption(format!("log₁₀ {heading}"), title(16))
            .margin(6)
            .x_label_area_size(44)
            .y_label_area_size(66)
            .top_x_label_area_size(44)
            .right_y_label_area_size(60)
            .build_cartesian_2d(g.axis(), g.axis())?
            .set_secondary_coord(g.axis(), g.axis());
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(format!("t, {coarse} scale"))
            .y_desc(format!("t, {fine} scale"))
            .x_label_formatter(&|x| format!("{:.0}", g.t[column(x)]))
            .y_label_formatter(&|y| format!("{:.0}", g.t[row(y)]))
            .label_style(text(12))
            .axis_desc_style(text(13))
            .draw()?;
        chart
            .configure_secondary_axes()
            .x_desc(format!("SNR, {coarse}"))
            .y_desc(format!("SNR, {fine}"))
            .x_label_formatter(&|x| short_number(g.snr[column(x)]))
            .y_label_formatter(&|y| short_number(g.snr[row(y)]))
            .label_style(text(12))
            .axis_desc_style(text(13))
            .draw()?;
        let top = |i: usize| (n - i) as f64;
        chart.draw_series((0..n).flat_map(|i| (0..n).map(move |j| (i, j))).map(|(i, j)| {
            let v = values.get(i).and_then(|r| r.get(j)).copied().unwrap_or(f64::NAN);
            Rectangle::new([(j as f64, top(i)), (j as f64 + 1.0, top(i) - 1.0)], cell_colour(v, range).filled())
        }))?;
        for o in &self.overlays {
            let centres: Vec<(f64, f64)> = o.indices.iter().map(|&[i, j]| (j as f64 + 0.5, top(i) - 0.5)).collect();
            let style = rgb(o.colour).stroke_width(2);
            if o.dashed {
                chart.draw_series(DashedLineSeries::new(centres.iter().copied(), 7, 5, style))?;
            } else {
                chart.draw_series(LineSeries::new(centres.iter().copied(), style))?;
            }
            chart.draw_series(centres.iter().map(|&c| Circle::new(c, 3, rgb(o.colour).filled())))?;
        }
        let plot = chart.plotting_area().get_pixel_range();
        colour_bar(&bar, plot.1, range)
    }

    /// The paths' names and costs.
    fn entries(&self) -> Vec<Entry> {
        self.overlays.iter().map(|o| Entry { label: format!("{} (cost {})", o.name, short_number(o.cost)), colour: o.colour, swatch: Swatch::Line }).collect()
    }
}

/// A vertical colour bar of log₁₀ values lo..hi beside a panel whose cells span the pixel rows `rows`.
fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, rows: std::ops::Range<i32>, (lo, hi): (f64, f64)) -> Drawn<DB> {
    let own = area.get_pixel_range().1;
    let mut chart = ChartBuilder::on(area)
        .margin_top((rows.start - own.start).max(0) as u32)
        .margin_bottom((own.end - rows.end).max(0) as u32)
        .margin_left(10)
        .right_y_label_area_size(52)
        .build_cartesian_2d(0.0..1.0, lo..hi)?
        .set_secondary_coord(0.0..1.0, lo..hi);
    const SLICES: usize = 128;
    let step = (hi - lo) / SLICES as f64;
    chart.draw_series((0..SLICES).map(|k| {
        let y = lo + k as f64 * step;
        Rectangle::new([(0.0, y), (1.0, y + step)], viridis((k as f64 + 0.5) / SLICES as f64).filled())
    }))?;
    chart.configure_secondary_axes().y_labels(6).y_label_formatter(&|v| short_number(*v)).label_style(text(12)).draw()?;
    chart.plotting_area().draw(&Rectangle::new([(0.0, lo), (1.0, hi)], BLACK))
}

impl Figure for HeatmapFigure {
    fn size(&self) -> (u32, u32) {
        let width = PANEL.0 * self.columns.min(self.panels.len()).max(1) as u32;
        (width, PANEL.1 * self.rows() + legend::height(&self.entries(), width))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (panels, below) = root.split_vertically(PANEL.1 * self.rows());
        let shared = self.shared.then(|| log_range(self.panels.iter().flat_map(|(_, m)| m.iter().flatten())));
        let areas = panels.split_evenly((self.rows() as usize, self.columns.min(self.panels.len()).max(1)));
        for ((heading, values), area) in self.panels.iter().zip(&areas) {
            let range = shared.unwrap_or_else(|| log_range(values.iter().flatten()));
            self.panel(area, heading, values, range)?;
        }
        legend::legend(&below, &self.entries())
    }
}
