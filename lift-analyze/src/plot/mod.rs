//! Figures: heatmaps with paths, line, scatter and bar charts drawn with plotters in DejaVu Sans
//! and saved as PNG and SVG; sample grids (images, PNG).

pub mod bars;
pub mod figure;
pub mod heatmap_figure;
pub mod legend;
pub mod lines;
pub mod sample_grid;
pub mod style;
pub mod ticks;

pub use bars::{bar_chart, BarChart, Group};
pub use figure::{figure_files, Figure};
pub use heatmap_figure::{cross_figure, error_figure, heatmap_figure, Grid, HeatmapFigure, Overlay};
pub use lines::{chart, line_chart, training_curves, Axes, Chart, Series};
pub use sample_grid::sample_grid;
pub use style::Colour;
