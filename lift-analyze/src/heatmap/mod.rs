//! Discretisation-error heatmaps over (SNR₆₄, SNR₃₂).

pub mod compute;
pub mod file;

pub use compute::{estimate_cell, Analysed, CellEstimate, HeatmapJob};
pub use file::{Heatmap, HeatmapMeta};
