//! Figures drawn in Rust (PNG): heatmaps with paths, bar charts, sample grids.

pub mod bars;
pub mod canvas;
pub mod heatmap_figure;
pub mod lines;
pub mod sample_grid;

pub use bars::{bar_chart, Group};
pub use canvas::Canvas;
pub use heatmap_figure::{cross_figure, error_figure, heatmap_figure, Overlay};
pub use lines::{chart, line_chart, training_curves, Axes, Series};
pub use sample_grid::sample_grid;
