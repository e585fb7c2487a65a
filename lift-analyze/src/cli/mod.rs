//! The `lift-analyze` command line.

mod args;
mod commands;
mod sample;
mod super_resolve;

pub use args::*;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "lift-analyze", version, about = "Analyse LIFT dual-scale diffusion models")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Parameter counts of both models and the schedule summary of a config.
    Inspect {
        /// The config to inspect (configs/tiny.toml, …).
        #[arg(long)]
        config: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// t, ᾱ, SNR and log SNR for every timestep.
    Schedule {
        /// Config whose schedule to print (default: the original clipped cosine, 1000 steps).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Jacobian-error heatmap of a trained LIFT run over (fine SNR, coarse SNR): all four blocks.
    Heatmap(HeatmapArgs),
    /// A sampling path through a heatmap.
    Dp(DpArgs),
    /// Figure: log10 heatmaps with paths overlaid.
    Plot(PlotArgs),
    /// MSE tests 1, 2a and 2b of the write-up.
    MseTest(MseArgs),
    /// The LIFT model as a coarse → fine super-resolver against bicubic upsampling: PSNR, SSIM, figure.
    SuperResolve(super_resolve::SuperResolveArgs),
    /// DDIM samples of a strategy (PNG, 16 bits per channel), resumable.
    Generate(GenerateArgs),
    /// Images along a strategy's path in one command: the run's heatmap (computed once into --out),
    /// the path and the samples, every setting from the run's config.
    Sample(SampleArgs),
    /// FID between two image folders (or saved statistics), as pytorch-fid computes it; for two folders also KID, precision, recall, density and coverage.
    Fid(FidArgs),
    /// Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018).
    Swd(SwdArgs),
    /// Samples, FID and SWD for every model, strategy, protocol and seed; results table.
    Evaluate(EvaluateArgs),
    /// A run folder from a checkpoint of the original PyTorch code.
    ImportTorch(ImportTorchArgs),
    /// A run's weights for PyTorch: the original's checkpoint layout (.pth) or safetensors.
    Export(ExportArgs),
    /// Joins the parts of a heatmap or a generation computed with --shard I/N.
    Merge(MergeArgs),
    /// Training curves of a run (train, valid and EMA-valid loss; per scale for LIFT) as PNG and SVG.
    PlotMetrics {
        /// Run folder written by lift-train.
        #[arg(long, visible_alias = "checkpoint")]
        run: PathBuf,
        /// The figure to write: F.png and F.svg (name either).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Inspect { config, json } => commands::inspect(&config, json),
        Command::Schedule { config, json } => commands::schedule(config.as_deref(), json),
        Command::Heatmap(a) => commands::heatmap(a),
        Command::Dp(a) => commands::dp(a),
        Command::Plot(a) => commands::plot(a),
        Command::MseTest(a) => commands::mse_test(a),
        Command::SuperResolve(a) => super_resolve::super_resolve(a),
        Command::Generate(a) => commands::generate(a),
        Command::Sample(a) => sample::sample(a),
        Command::Fid(a) => commands::fid(a),
        Command::Swd(a) => commands::swd(a),
        Command::Evaluate(a) => commands::evaluate(a),
        Command::ImportTorch(a) => commands::import_torch(a),
        Command::Export(a) => commands::export(a),
        Command::Merge(a) => commands::merge(a),
        Command::PlotMetrics { run, out } => commands::plot_metrics(&run, &out),
    }
}
