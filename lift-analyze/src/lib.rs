//! Analysis of trained LIFT models: inspection, Jacobian error heatmaps, DP paths, figures,
//! generation along paths, FID/SWD and MSE tests.

pub mod cli;
pub mod cross_check;
pub mod dp;
pub mod evaluate;
pub mod fid;
pub mod generate;
pub mod grid;
pub mod heatmap;
pub mod images;
pub mod inspect;
pub mod jacobian;
pub mod mse_test;
pub mod paths;
pub mod plot;
pub mod progress;
pub mod sample_images;
pub mod swd;
