//! Core of the LIFT dual-scale diffusion pipeline: configuration, noise schedule, the two UNets,
//! the DDIM sampler and sampling paths. Everything is generic over the Burn backend; the CPU
//! kernels that the models call through `lift_cpu` are the one place that asks which backend runs.

pub mod chain_rule;
pub mod checkpoint;
pub mod cli_help;
pub mod config;
pub mod data;
pub mod device;
pub mod epochs;
pub mod grid;
pub mod image_grid;
pub mod io;
pub mod kinds;
pub mod lock;
pub mod metrics_csv;
pub mod model;
pub mod names;
pub mod noise_alignment;
pub mod overrides;
pub mod path;
pub mod pipeline;
pub mod run;
pub mod sampler;
pub mod schedule;
pub mod seed;
pub mod single_output_sampling;
pub mod strategy;
pub mod study;
pub mod timesteps;
pub mod train_config;

pub use burn;
pub use config::{LiftConfig, ModelConfig};
#[cfg(feature = "flex")]
pub use device::CpuBackend;
pub use device::{run_on, run_on_devices, BackendTask, DeviceSpec, Devices, MultiBackendTask};
pub use epochs::{EpochSpec, Snapshot};
pub use kinds::{ModelKind, Weights};
pub use lift_cpu::shard::{self, Shard};
pub use model::{BaselineUNet, LiftUNet, SingleOutputUNet};
pub use overrides::Override;
pub use path::{PathFile, SamplingPath};
pub use schedule::NoiseSchedule;
pub use strategy::Strategy;
pub use timesteps::TimestepRule;

/// Where `cargo xtask test` unpacks the pure-Python reference packages the tests compare
/// against (pytorch-fid, tensorboard's event reader), relative to the workspace root.
pub const PYTHON_REFERENCES: &str = "artifacts/python";
