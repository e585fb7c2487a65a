//! The denoising networks: the LIFT dual-timestep UNet, the single-scale baseline and the
//! single-output ablation models.

pub mod attention;
pub mod baseline;
pub mod embedding;
pub mod init;
pub mod lift;
pub mod norm;
pub mod resample;
pub mod resblock;
pub mod single_output;
pub mod unet;

pub use baseline::BaselineUNet;
pub use lift::LiftUNet;
pub use single_output::SingleOutputUNet;
