//! The denoising networks: the LIFT dual-timestep UNet and the single-scale baseline.

pub mod attention;
pub mod baseline;
pub mod embedding;
pub mod init;
pub mod lift;
pub mod norm;
pub mod resample;
pub mod resblock;
pub mod unet;

pub use baseline::BaselineUNet;
pub use lift::LiftUNet;
