//! Arguments of the `lift-analyze` subcommands.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use lift_core::run::Weights;
use lift_core::{DeviceSpec, TimestepRule};

use super::DEFAULT_DATA;
use crate::fid::Resize;
use crate::generate::PathChoice;
use crate::grid::GridSpec;
use crate::jacobian::Estimator;
use crate::paths::PathMode;

#[derive(Args)]
pub struct EvaluateArgs {
    /// Run folders (LIFT and/or baseline).
    #[arg(long, num_args = 1.., required = true)]
    pub runs: Vec<PathBuf>,
    /// Heatmap of the LIFT run (adds the DP-64 and DP-Total strategies).
    #[arg(long)]
    pub heatmap: Option<PathBuf>,
    /// Real images.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub real: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Generated images per (strategy, protocol, seed).
    #[arg(long, default_value_t = 1000)]
    pub num_images: usize,
    /// Real images compared against (0 = all).
    #[arg(long, default_value_t = 0)]
    pub real_images: usize,
    #[arg(long, default_value_t = 1)]
    pub seeds: usize,
    #[arg(long, value_delimiter = ',', default_value = "reference,fair")]
    pub protocols: Vec<TimestepRule>,
    #[arg(long, default_value_t = 18)]
    pub steps: usize,
    #[arg(long, default_value_t = 5)]
    pub max_jump: usize,
    #[arg(long, default_value = "bicubic")]
    pub resize: Resize,
    #[arg(long, default_value = crate::fid::DEFAULT_WEIGHTS)]
    pub inception: PathBuf,
    #[arg(long, default_value = "ema")]
    pub weights: Weights,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Run folder written by lift-train.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// ema or raw.
    #[arg(long, default_value = "ema")]
    pub weights: Weights,
    /// baseline, diagonal, or a path file from `dp`.
    #[arg(long)]
    pub path: PathChoice,
    #[arg(long)]
    pub num_images: usize,
    #[arg(long)]
    pub out: PathBuf,
    /// "N steps" (reference: every multiple of 1000 div N, N + 1 evaluations; fair: exactly N).
    #[arg(long, default_value_t = 18)]
    pub steps: usize,
    /// reference (the original's step counts and starts) or fair (equal evaluations and start).
    #[arg(long, default_value = "reference")]
    pub protocol: TimestepRule,
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write an 8×8 sample grid here.
    #[arg(long)]
    pub grid: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Args)]
pub struct FidArgs {
    /// Folder of real images, or a .fidstats file saved by --save-stats.
    #[arg(long)]
    pub real: PathBuf,
    /// Folder of generated images.
    #[arg(long)]
    pub fake: PathBuf,
    /// bicubic (clamped; the LIFT original) or bilinear (pytorch-fid's command line).
    #[arg(long, default_value = "bicubic")]
    pub resize: Resize,
    /// Save the real images' statistics here.
    #[arg(long)]
    pub save_stats: Option<PathBuf>,
    /// Compare at this resolution [default: the generated images' size].
    #[arg(long)]
    pub resolution: Option<usize>,
    #[arg(long, default_value = crate::fid::DEFAULT_WEIGHTS)]
    pub inception: PathBuf,
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Args)]
pub struct SwdArgs {
    #[arg(long)]
    pub real: PathBuf,
    #[arg(long)]
    pub fake: PathBuf,
    /// Most images per set.
    #[arg(long, default_value_t = 8192)]
    pub max_images: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Options shared by commands that load a trained run.
#[derive(Args, Clone)]
pub struct RunArgs {
    /// Run folder written by lift-train.
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// ema or raw.
    #[arg(long, default_value = "ema")]
    pub weights: Weights,
    /// Image folder the run was trained on.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// cpu, wgpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Args)]
pub struct HeatmapArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[arg(long)]
    pub out: PathBuf,
    /// t-linspace:N (the original's newest protocol) or snr-logspace:N (the write-up's older one).
    #[arg(long, default_value = "t-linspace:30")]
    pub grid: GridSpec,
    /// Training images per cell.
    #[arg(long, default_value_t = 16)]
    pub images: usize,
    /// Rademacher probes per image.
    #[arg(long, default_value_t = 4)]
    pub probes: usize,
    /// vjp (reverse mode) or fd (central finite differences, h = 1e-3).
    #[arg(long, default_value = "vjp")]
    pub estimator: Estimator,
    /// Most samples (images × probes) per forward pass.
    #[arg(long, default_value_t = 64)]
    pub max_batch: usize,
}

#[derive(Args)]
pub struct DpArgs {
    #[arg(long)]
    pub heatmap: PathBuf,
    /// total, 64, diagonal, greedy or snr-map.
    #[arg(long, default_value = "total")]
    pub mode: PathMode,
    /// Steps (the path has steps + 1 points, all evaluated).
    #[arg(long, default_value_t = 18)]
    pub steps: usize,
    /// Most grid cells per axis per step; raised by 2 until a path exists.
    #[arg(long, default_value_t = 5)]
    pub max_jump: usize,
    /// Config of the run (for the schedule) [default: the original schedule].
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct PlotArgs {
    #[arg(long)]
    pub heatmap: PathBuf,
    /// Paths to overlay, NAME=FILE (repeatable).
    #[arg(long = "path", value_parser = parse_named)]
    pub paths: Vec<(String, PathBuf)>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct MseArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[arg(long, default_value_t = 500)]
    pub timestep: usize,
    #[arg(long, default_value_t = 500)]
    pub samples: usize,
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Folder for mse.json, mse.md and mse.png.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

pub(crate) fn parse_named(s: &str) -> Result<(String, PathBuf)> {
    let (name, file) = s.split_once('=').context("expected NAME=FILE")?;
    Ok((name.to_string(), PathBuf::from(file)))
}
