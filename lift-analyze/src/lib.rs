//! Analysis of trained LIFT models: inspection, Jacobian error heatmaps, DP paths, figures,
//! generation along paths, FID/SWD and MSE tests.

pub mod clean_images;
pub mod cli;
pub mod compare;
pub mod dp;
pub mod evaluate;
pub mod fid;
pub mod fidelity_table;
pub mod generate;
pub mod heatmap;
pub mod image_quality;
pub mod images;
pub mod inspect;
pub mod jacobian;
pub mod memorisation;
pub mod mse_test;
pub mod npz;
pub mod older_rules;
pub mod paths;
pub mod pickle;
pub mod plot;
pub mod progress;
pub mod spread;
pub mod stats;
pub mod study_dir;
pub mod super_resolve;
pub mod swd;
pub mod sweep;
pub mod torch_archive;
pub mod torch_export;
pub mod torch_import;
