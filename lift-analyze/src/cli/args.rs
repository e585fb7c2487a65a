//! Arguments of the `lift-analyze` subcommands. Counts are range-checked by clap (the error names
//! the flag); an absent study setting comes from the run's own config (`[study]`), so each
//! default is written once, in `lift_core::study::StudyConfig`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::builder::TypedValueParser;
use clap::Args;
use lift_core::chain_rule::ChainRule;
use lift_core::grid::GridSpec;
use lift_core::run::Weights;
use lift_core::study::{MseProtocol, RealSubset, Resize, StudyConfig};
use lift_core::{DeviceSpec, Devices, ModelKind, Shard, Strategy, TimestepRule};

use crate::fid::DEFAULT_WEIGHTS;
use crate::generate::PngBits;
use crate::jacobian::Estimator;
use crate::torch_export::{ExportFormat, WeightSets};

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
    /// cpu, wgpu, cuda or cuda:N; for heatmap, generate and sample also a list of one backend's devices
    /// (cuda:0,cuda:1), each computing one part, merged at the end.
    #[arg(long, visible_alias = "devices", default_value = "cpu")]
    pub device: Devices,
    /// Seed of the images, noise and probes drawn.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// The image folder of the commands that read training images.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// Image folder [default: the folder the run was trained on, from its run.json].
    #[arg(long)]
    pub data: Option<PathBuf>,
}

impl DataArgs {
    /// `--data`, or the folder `run` was trained on; says which.
    pub fn folder(&self, run: &Path) -> Result<PathBuf> {
        if let Some(data) = &self.data {
            return Ok(data.clone());
        }
        let (_, info) = lift_core::run::RunDir(run.to_path_buf()).load()?;
        println!("data: {} (the run's training folder; --data to change)", info.dataset.path.display());
        Ok(info.dataset.path)
    }
}

#[derive(Args)]
pub struct HeatmapArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// The heatmap file to write (JSON).
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
    #[arg(long, value_parser = count(1, 65_536), default_value_t = crate::heatmap::compute::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Compute part I of N of the rows into `<out>.part-I-of-N` (join the parts with `merge`).
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
}

#[derive(Args)]
pub struct DpArgs {
    /// A heatmap file written by `heatmap`.
    #[arg(long)]
    pub heatmap: PathBuf,
    /// A strategy whose path comes from a heatmap (dp-64, dp-total, dp-w10, greedy, …) or diagonal;
    /// the others (baseline, random32, fixed32) sample without a path.
    #[arg(long, value_enum, default_value = "dp-total")]
    pub strategy: Strategy,
    /// Chain-rule factor of the costs.
    #[arg(long, value_enum, default_value_t)]
    pub chain_rule: ChainRule,
    /// Steps (DP paths have steps + 1 points, the older rules steps; all are evaluated) [default:
    /// the config's sample.steps, else the original's 18].
    #[arg(long, value_parser = count(1, 10_000))]
    pub steps: Option<usize>,
    /// Most grid cells per axis per step; raised by 2 until a path exists [default: the config's
    /// study.max_jump, else 5].
    #[arg(long, value_parser = count(1, 10_000))]
    pub max_jump: Option<usize>,
    /// Config of the run (its schedule, steps and max jump) [default: the original's].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The path file to write (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct PlotArgs {
    /// A heatmap file written by `heatmap`.
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
    /// The figure to write: F.png and F.svg (name either).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct MseArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Timestep of the noisy scale [default: the run's study config].
    #[arg(long, value_parser = count(0, 1_000_000))]
    pub timestep: Option<usize>,
    /// Training images per test [default: the run's study.mse_samples].
    #[arg(long, visible_alias = "samples", value_parser = count(1, 10_000_000))]
    pub images: Option<usize>,
    /// reference (the original) or noised-t0 [default: the run's study config].
    #[arg(long, value_enum)]
    pub protocol: Option<MseProtocol>,
    /// Images per forward pass (the numbers do not depend on it) [default: the run's study.batch].
    #[arg(long, value_parser = count(1, 4096))]
    pub batch: Option<usize>,
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
    /// Images to generate.
    #[arg(long, value_parser = count(1, 100_000_000))]
    pub num_images: usize,
    /// Folder for the images (and generation.json, the record that makes a run resumable).
    #[arg(long)]
    pub out: PathBuf,
    /// "N steps" (reference: every multiple of 1000 div N, N + 1 evaluations; fair: exactly N)
    /// [default: the run's sample.steps].
    #[arg(long, value_parser = count(1, 100_000))]
    pub steps: Option<usize>,
    /// reference (the original's step counts and starts) or fair (equal evaluations and start)
    /// [default: the run's sample.protocol].
    #[arg(long, value_enum)]
    pub protocol: Option<TimestepRule>,
    /// Images per batch (each image's noise depends on its index alone, so any batch gives the
    /// same images) [default: the run's study.batch].
    #[arg(long, value_parser = count(1, 4096))]
    pub batch: Option<usize>,
    /// Bits per channel of the PNGs (16 keeps the sampler's precision for FID).
    #[arg(long, value_enum, default_value = "16")]
    pub bits: PngBits,
    /// Also write an 8×8 contact sheet of the first images here (PNG). `--grid` is its old name.
    #[arg(long, alias = "grid")]
    pub grid_png: Option<PathBuf>,
    /// Make part I of N of the images (whole batches) and record it for `merge`.
    #[arg(long, default_value = "0/1")]
    pub shard: Shard,
}

#[derive(Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Any strategy: a heatmap strategy (dp-total, dp-64, …) computes the run's heatmap into --out
    /// once (reused by later calls) and its path through it; baseline, diagonal, random32 and
    /// fixed32 need none.
    #[arg(long, value_enum, default_value = "dp-total")]
    pub strategy: Strategy,
    /// Images to generate.
    #[arg(long, value_parser = count(1, 100_000_000))]
    pub num_images: usize,
    /// Folder for the heatmap, the path, images/ and grid.png.
    #[arg(long)]
    pub out: PathBuf,
    /// Images per batch (does not change the images) [default: the run's study.batch].
    #[arg(long, value_parser = count(1, 4096))]
    pub batch: Option<usize>,
    /// Bits per channel of the PNGs.
    #[arg(long, value_enum, default_value = "8")]
    pub bits: PngBits,
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
    /// Folder of real images, or FID statistics: an .npz saved by --save-stats or by pytorch-fid.
    #[arg(long)]
    pub real: PathBuf,
    /// Folder of generated images.
    #[arg(long)]
    pub fake: PathBuf,
    /// bicubic-aa (the LIFT original), bicubic or bilinear (pytorch-fid's command line).
    #[arg(long, value_enum, default_value_t)]
    pub resize: Resize,
    /// Save the real images' statistics here (.npz: pytorch-fid's mu and sigma, with the image count, resolution and resize).
    #[arg(long)]
    pub save_stats: Option<PathBuf>,
    /// Compare at this resolution [default: the generated images' size].
    #[arg(long, value_parser = count(8, 4096))]
    pub resolution: Option<usize>,
    /// The FID Inception weights (TorchScript, `cargo xtask fetch-inception`).
    #[arg(long, default_value = DEFAULT_WEIGHTS)]
    pub inception: PathBuf,
    /// Images per Inception forward pass (the study's default batch).
    #[arg(long, value_parser = count(1, 4096), default_value_t = StudyConfig::default().batch)]
    pub batch: usize,
    /// cpu, wgpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
}

#[derive(Args)]
pub struct SwdArgs {
    /// Folder of real images.
    #[arg(long)]
    pub real: PathBuf,
    /// Folder of generated images.
    #[arg(long)]
    pub fake: PathBuf,
    /// Most images read from each folder (`--max-images` is its old name).
    #[arg(long, alias = "max-images", value_parser = count(2, 10_000_000), default_value = "8192")]
    pub images: usize,
    /// Seed of the random projections.
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
    /// Real images [default: the folder the LIFT run (else the first run) was trained on].
    #[arg(long)]
    pub real: Option<PathBuf>,
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
    /// Sampling seeds per (strategy, protocol) [default: the study config's].
    #[arg(long, value_parser = count(1, 1000))]
    pub seeds: Option<usize>,
    /// Resize before Inception: bicubic-aa (the original), bicubic or bilinear [default: the study config's].
    #[arg(long, value_enum)]
    pub resize: Option<Resize>,
    /// Weights evaluated, raw, ema or raw,ema [default: the study config's].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub weights: Vec<Weights>,
    /// Epochs evaluated, each from its own snapshot with its own heatmaps and paths: last,
    /// every:N or a list like 200,400 [default: the study config's].
    #[arg(long)]
    pub eval_epochs: Option<lift_core::EpochSpec>,
    /// Images per sampling and Inception batch [default: the study config's].
    #[arg(long, value_parser = count(1, 4096))]
    pub batch: Option<usize>,
    /// "N steps" of the sampler [default: the run's sample.steps].
    #[arg(long, value_parser = count(1, 100_000))]
    pub steps: Option<usize>,
    /// The FID Inception weights (TorchScript, `cargo xtask fetch-inception`).
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

#[derive(Args)]
pub struct ExportArgs {
    /// Run folder written by lift-train (or import-torch).
    #[arg(long, visible_alias = "checkpoint")]
    pub run: PathBuf,
    /// torch: the original's checkpoint layout (`torch.load`); safetensors: the same tensors and keys.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The file to write (e.g. lift.pth or lift.safetensors).
    #[arg(long)]
    pub out: PathBuf,
    /// Which weights: raw, ema (as a plain state dict) or both (model_state and ema_state.shadow).
    #[arg(long, value_enum, default_value_t = WeightSets::Both)]
    pub weights: WeightSets,
}

pub(crate) fn parse_named(s: &str) -> Result<(String, PathBuf)> {
    let (name, file) = s.split_once('=').context("expected NAME=FILE")?;
    Ok((name.to_string(), PathBuf::from(file)))
}
