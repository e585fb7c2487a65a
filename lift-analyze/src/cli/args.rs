//! Arguments of the `lift-analyze` subcommands. Counts are range-checked by clap (the error names
//! the flag); an absent study setting comes from the run's own config (`[study]`), so each
//! default is written once, in `lift_core::study::StudyConfig`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::builder::TypedValueParser;
use clap::Args;
use lift_core::chain_rule::ChainRule;
use lift_core::data::DEFAULT_DATA;
use lift_core::grid::GridSpec;
use lift_core::run::Weights;
use lift_core::study::{MseProtocol, RealSubset, Resize};
use lift_core::{DeviceSpec, Devices, ModelKind, Shard, Strategy, TimestepRule};

use crate::fid::DEFAULT_WEIGHTS;
use crate::jacobian::Estimator;

/// A count in `lo..=hi`, as usize.
pub fn count(lo: u64, hi: u64) -> impl TypedValueParser<Value = usize> {
    clap::value_parser!(u64).range(lo..=hi).map(|v| v as usize)
}

/// Options of every command that loads a trained run.
#[derive(Args, Clone)]
pub struct RunArgs {
    /// Run folder written by lift-train or import-torch.
    #[arg(long, visible_alias = "checkpoint")]
    pub run: PathBuf,
    /// ema or raw [default: ema when the run's study evaluates it].
    #[arg(long)]
    pub weights: Option<Weights>,
    /// Use the snapshot kept after this epoch (train.snapshot_epochs) [default: the final weights].
    #[arg(long)]
    pub epoch: Option<usize>,
    /// Image folder the run was trained on.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
    /// cpu, wgpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args)]
pub struct HeatmapArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[arg(long)]
    pub out: PathBuf,
    /// t-linspace:N (the original's newest protocol) or snr-logspace:N (the write-up's older one)
    /// [default: the run's study config].
    #[arg(long)]
    pub grid: Option<GridSpec>,
    /// Training images per cell [default: the run's study config].
    #[arg(long, value_parser = count(1, 100_000))]
    pub images: Option<usize>,
    /// Rademacher probes per image [default: the run's study config].
    #[arg(long, value_parser = count(1, 100_000))]
    pub probes: Option<usize>,
    /// vjp (reverse mode) or fd (central finite differences, h = 1e-3).
    #[arg(long, value_enum, default_value_t)]
    pub estimator: Estimator,
    /// Most samples (images × probes) per forward pass.
    #[arg(long, value_parser = count(1, 65_536), default_value = "64")]
    pub max_batch: usize,
    /// Compute part I of N of the rows into `<out>.part-I-of-N` (join the parts with `merge`).
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Several devices of one backend (cuda:0,cuda:1): each does one part, merged at the end.
    #[arg(long, conflicts_with_all = ["device", "shard"])]
    pub devices: Option<Devices>,
}

#[derive(Args)]
pub struct DpArgs {
    #[arg(long)]
    pub heatmap: PathBuf,
    /// A strategy whose path comes from a heatmap (dp-64, dp-total, dp-w10, greedy, …) or diagonal.
    #[arg(long, value_enum, default_value = "dp-total")]
    pub strategy: Strategy,
    /// Chain-rule factor of the costs.
    #[arg(long, value_enum, default_value_t)]
    pub chain_rule: ChainRule,
    /// Steps (DP paths have steps + 1 points, the older rules steps; all are evaluated).
    #[arg(long, value_parser = count(1, 10_000), default_value = "18")]
    pub steps: usize,
    /// Most grid cells per axis per step; raised by 2 until a path exists.
    #[arg(long, value_parser = count(1, 10_000), default_value = "5")]
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
    /// Chain-rule factor of the drawn errors.
    #[arg(long, value_enum, default_value_t)]
    pub chain_rule: ChainRule,
    /// Draw the four Jacobian blocks (HH, HL, LH, LL) on one colour scale instead.
    #[arg(long)]
    pub cross: bool,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct MseArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Timestep of the noisy scale [default: the run's study config].
    #[arg(long, value_parser = count(0, 1_000_000))]
    pub timestep: Option<usize>,
    /// Images per test [default: the run's study config].
    #[arg(long, value_parser = count(1, 10_000_000))]
    pub samples: Option<usize>,
    /// reference (the original) or noised-t0 [default: the run's study config].
    #[arg(long, value_enum)]
    pub protocol: Option<MseProtocol>,
    #[arg(long, value_parser = count(1, 4096), default_value = "32")]
    pub batch: usize,
    /// Folder for mse.json, mse.md and mse.png.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// baseline, diagonal, random32, fixed32 — or a heatmap strategy with --path.
    #[arg(long, value_enum)]
    pub strategy: Option<Strategy>,
    /// A path file from `dp` (its strategy is the default for --strategy).
    #[arg(long)]
    pub path: Option<PathBuf>,
    #[arg(long, value_parser = count(1, 100_000_000))]
    pub num_images: usize,
    #[arg(long)]
    pub out: PathBuf,
    /// "N steps" (reference: every multiple of 1000 div N, N + 1 evaluations; fair: exactly N).
    #[arg(long, value_parser = count(1, 100_000), default_value = "18")]
    pub steps: usize,
    /// reference (the original's step counts and starts) or fair (equal evaluations and start).
    #[arg(long, value_enum, default_value_t)]
    pub protocol: TimestepRule,
    #[arg(long, value_parser = count(1, 4096), default_value = "32")]
    pub batch: usize,
    /// Also write an 8×8 sample grid here.
    #[arg(long)]
    pub grid: Option<PathBuf>,
    /// Make part I of N of the images (whole batches) and record it for `merge`.
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
    /// Several devices of one backend (cuda:0,cuda:1): each does one part, merged at the end.
    #[arg(long, conflicts_with_all = ["device", "shard"])]
    pub devices: Option<Devices>,
}

#[derive(Args)]
pub struct MergeArgs {
    /// Part files: `<heatmap>.part-I-of-N`, or a sample folder's `generation.part-I-of-N.json`.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// The merged heatmap (heatmap parts only) [default: the parts' name without the suffix].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct FidArgs {
    /// Folder of real images, or a .fidstats file saved by --save-stats.
    #[arg(long)]
    pub real: PathBuf,
    /// Folder of generated images.
    #[arg(long)]
    pub fake: PathBuf,
    /// bicubic-aa (the LIFT original), bicubic or bilinear (pytorch-fid's command line).
    #[arg(long, value_enum, default_value_t)]
    pub resize: Resize,
    /// Save the real images' statistics here.
    #[arg(long)]
    pub save_stats: Option<PathBuf>,
    /// Compare at this resolution [default: the generated images' size].
    #[arg(long, value_parser = count(8, 4096))]
    pub resolution: Option<usize>,
    #[arg(long, default_value = DEFAULT_WEIGHTS)]
    pub inception: PathBuf,
    #[arg(long, value_parser = count(1, 4096), default_value = "16")]
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
    #[arg(long, value_parser = count(2, 10_000_000), default_value = "8192")]
    pub max_images: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// Run folders (LIFT and/or baseline); the LIFT run's config gives the study settings.
    #[arg(long, num_args = 1.., required = true)]
    pub runs: Vec<PathBuf>,
    /// Heatmap(s) of one snapshot of the LIFT run for the heatmap strategies: one per seed, or one
    /// for all [default: every snapshot's own, computed into <out>/heatmap/].
    #[arg(long)]
    pub heatmap: Vec<PathBuf>,
    /// Real images.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub real: PathBuf,
    /// Study folder: paths, samples and results go below it.
    #[arg(long)]
    pub out: PathBuf,
    /// Strategies [default: the study config's].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub strategies: Vec<Strategy>,
    /// Protocols [default: the study config's].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub protocols: Vec<TimestepRule>,
    /// Generated images per (strategy, protocol, seed) [default: the study config's].
    #[arg(long, value_parser = count(2, 100_000_000))]
    pub num_images: Option<usize>,
    /// Real images compared against, 0 = all [default: the study config's].
    #[arg(long, value_parser = count(0, 100_000_000))]
    pub real_images: Option<usize>,
    /// first (the original) or random [default: the study config's].
    #[arg(long, value_enum)]
    pub real_subset: Option<RealSubset>,
    #[arg(long, value_parser = count(1, 1000))]
    pub seeds: Option<usize>,
    #[arg(long, value_enum)]
    pub resize: Option<Resize>,
    /// Weights evaluated, raw, ema or raw,ema [default: the study config's].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub weights: Vec<Weights>,
    /// Epochs evaluated, each from its own snapshot with its own heatmaps and paths: last,
    /// every:N or a list like 200,400 [default: the study config's].
    #[arg(long)]
    pub eval_epochs: Option<lift_core::EpochSpec>,
    #[arg(long, value_parser = count(1, 4096))]
    pub batch: Option<usize>,
    #[arg(long, value_parser = count(1, 100_000))]
    pub steps: Option<usize>,
    #[arg(long, default_value = DEFAULT_WEIGHTS)]
    pub inception: PathBuf,
    /// cpu, wgpu, cuda:N, or a list of one backend's devices (cuda:0,cuda:1) that share each sample set.
    #[arg(long, visible_alias = "devices", default_value = "cpu")]
    pub device: Devices,
}

#[derive(Args)]
pub struct ImportTorchArgs {
    /// A checkpoint of the original code (`torch.save` of a dict with `model_state`, …).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Which network the checkpoint holds.
    #[arg(long, value_enum)]
    pub model: ModelKind,
    /// Config whose [model] matches the checkpoint (its `hidden_dims` are checked).
    #[arg(long)]
    pub config: PathBuf,
    /// Run folder to create.
    #[arg(long)]
    pub out: PathBuf,
    /// An .npz of inputs and expected outputs to check the import against (fails above 1e-4).
    #[arg(long)]
    pub check: Option<PathBuf>,
}

pub(crate) fn parse_named(s: &str) -> Result<(String, PathBuf)> {
    let (name, file) = s.split_once('=').context("expected NAME=FILE")?;
    Ok((name.to_string(), PathBuf::from(file)))
}
