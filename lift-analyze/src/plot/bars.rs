//! Grouped bar chart (the MSE tests).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, Entry, Swatch};

use super::figure::{text, title, Drawn, Figure};
use super::style::{filled, short_number, Colour, GRID};
use super::ticks::Ticks;

/// One group of bars: a label and one value per series.
pub struct Group {
    pub label: String,
    pub values: Vec<f64>,
}

/// Groups of bars, one bar per series in each; see [`bar_chart`].
pub struct BarChart {
    title: String,
    y_label: String,
    series: Vec<(String, Colour)>,
    groups: Vec<Group>,
}

/// Groups of bars; `series` names and colours the bars within a group, `y_label` their values.
pub fn bar_chart(title: &str, y_label: &str, series: &[(&str, Colour)], groups: Vec<Group>) -> BarChart {
    BarChart { title: title.into(), y_label: y_label.into(), series: series.iter().map(|(n, c)| (n.to_string(), *c)).collect(), groups }
}

/// Share of a group's width its bars take (the rest is the gap between groups).
const FILL: f64 = 0.8;

impl BarChart {
    /// The x extent of bar `s` in group `g` (group g spans [g, g + 1]).
    fn bar(&self, g: usize, s: usize) -> (f64, f64) {
        let w = FILL / self.series.len() as f64;
        let x = g as f64 + (1.0 - FILL) / 2.0 + s as f64 * w;
        (x, x + w)
    }

    /// The x axis: one tick in the middle of each group.
    fn x_axis(&self) -> Ticks {
        let n = self.groups.len().max(1);
        Ticks { range: 0.0..n as f64, at: (0..n).map(|g| g as f64 + 0.5).collect() }
    }
}

/// Height above the legend.
const HEIGHT: u32 = 440;

impl BarChart {
    fn width(&self) -> u32 {
        (160 * self.groups.len() as u32 + 160).max(640)
    }

    fn entries(&self) -> Vec<Entry> {
        self.series.iter().map(|(name, colour)| Entry { label: name.clone(), colour: *colour, swatch: Swatch::Box }).collect()
    }
}

impl Figure for BarChart {
    fn size(&self) -> (u32, u32) {
        (self.width(), HEIGHT + legend::height(&self.entries(), self.width()))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (root, below) = root.split_vertically(HEIGHT);
        let root = &root;
        let max = self.groups.iter().flat_map(|g| g.values.iter().copied()).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let top = if max > 0.0 { max * 1.1 } else { 1.0 };
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, title(18))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(self.x_axis(), 0.0..top)?;
        let group_label = |x: &f64| self.groups.get(x.floor() as usize).map(|g| g.label.clone()).unwrap_or_default();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&group_label)
            .y_label_formatter(&|v| short_number(*v))
            .label_style(text(14))
            .axis_desc_style(text(15))
            .draw()?;
        for (s, (_, colour)) in self.series.iter().enumerate() {
            let bars = self.groups.iter().enumerate().filter_map(|(g, group)| {
                let v = group.values.get(s).copied().filter(|v| v.is_finite())?;
                let (x0, x1) = self.bar(g, s);
                Some(Rectangle::new([(x0, 0.0), (x1, v)], filled(*colour)))
            });
            chart.draw_series(bars)?;
            let values = self.groups.iter().enumerate().filter_map(|(g, group)| {
                let v = group.values.get(s).copied().filter(|v| v.is_finite())?;
                let (x0, x1) = self.bar(g, s);
                Some(Text::new(short_number(v), ((x0 + x1) / 2.0, v + top * 0.01), text(12).pos(Pos::new(HPos::Center, VPos::Bottom))))
            });
            chart.draw_series(values)?;
        }
        legend::legend(&below, &self.entries())
    }
}
