//! Analysis of trained LIFT models: inspection, Jacobian error heatmaps, DP paths, figures,
//! generation along paths, FID/SWD and MSE tests.

pub mod grid;
pub mod heatmap;
pub mod inspect;
pub mod jacobian;
pub mod progress;
pub mod sample_images;
pub mod dp;
pub mod paths;
pub mod plot;
pub mod mse_test;
pub mod cli;
pub mod fid;
pub mod generate;
pub mod swd;
pub mod images;
pub mod evaluate;
pub mod cross_check;
