//! The `lift-analyze` command line.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use lift_core::run::Weights;
use lift_core::{run_on, DeviceSpec, LiftConfig, NoiseSchedule, PathFile};

use crate::grid::GridSpec;
use crate::heatmap::{Heatmap, HeatmapJob};
use crate::inspect;
use crate::jacobian::Estimator;
use crate::mse_test::MseJob;
use crate::paths::{find_path, PathMode};
use crate::plot::{heatmap_figure, Overlay};

/// Default data folder, filled by `cargo xtask data`.
pub const DEFAULT_DATA: &str = "artifacts/data/emoji-google-64";

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
        #[arg(long)]
        json: bool,
    },
    /// Jacobian-error heatmap of a trained LIFT run over (SNR64, SNR32).
    Heatmap(HeatmapArgs),
    /// A sampling path through a heatmap.
    Dp(DpArgs),
    /// Figure: log10 heatmaps with paths overlaid.
    Plot(PlotArgs),
    /// MSE tests 1, 2a and 2b of the write-up.
    MseTest(MseArgs),
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

fn parse_named(s: &str) -> Result<(String, PathBuf)> {
    let (name, file) = s.split_once('=').context("expected NAME=FILE")?;
    Ok((name.to_string(), PathBuf::from(file)))
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Inspect { config, json } => {
            let report = inspect::inspect(&LiftConfig::load(&config)?);
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", inspect::render(&report));
            }
        }
        Command::Schedule { config, json } => {
            let schedule = match config {
                Some(path) => inspect::schedule_of(&LiftConfig::load(&path)?),
                None => NoiseSchedule::reference(),
            };
            let table = inspect::schedule_table(&schedule);
            if json {
                println!("{}", serde_json::to_string(&table)?);
            } else {
                println!("{:>5} {:>14} {:>16} {:>12}", "t", "alpha_bar", "snr", "log_snr");
                for r in table {
                    println!("{:>5} {:>14.10} {:>16.8} {:>12.6}", r.t, r.alpha_bar, r.snr, r.log_snr);
                }
            }
        }
        Command::Heatmap(a) => {
            let job = HeatmapJob {
                checkpoint: a.run.checkpoint,
                weights: a.run.weights,
                out: a.out.clone(),
                grid: a.grid,
                images: a.images,
                probes: a.probes,
                seed: a.run.seed,
                data: a.run.data,
                estimator: a.estimator,
                device: a.run.device,
                max_batch: a.max_batch,
            };
            let map = run_on(job.device, job)??;
            println!("heatmap {}×{} in {:.0} s → {}", map.len(), map.len(), map.meta.seconds, a.out.display());
        }
        Command::Dp(a) => {
            let map = Heatmap::load(&a.heatmap)?;
            let schedule = match &a.config {
                Some(c) => inspect::schedule_of(&LiftConfig::load(c)?),
                None => NoiseSchedule::reference(),
            };
            let path = find_path(&map, &a.heatmap, a.mode, a.steps, a.max_jump, &schedule)?;
            lift_core::io::write_json(&a.out, &path)?;
            println!("{} path, {} evaluations, cost {:.6} → {}", a.mode.name(), path.timesteps.len(), path.cost, a.out.display());
        }
        Command::Plot(a) => {
            let map = Heatmap::load(&a.heatmap)?;
            let files: Vec<(String, PathFile)> =
                a.paths.iter().map(|(n, p)| Ok((n.clone(), load_path(p)?))).collect::<Result<_>>()?;
            let colours = [[255, 255, 255], [230, 40, 40], [0, 200, 255], [255, 150, 0], [200, 0, 200]];
            let overlays: Vec<Overlay> = files
                .iter()
                .enumerate()
                .map(|(k, (name, path))| Overlay { name, path, colour: colours[k % colours.len()], dash: if k == 2 { 6 } else { 0 } })
                .collect();
            heatmap_figure(&map, &overlays).save(&a.out)?;
            println!("figure → {}", a.out.display());
        }
        Command::MseTest(a) => {
            let job = MseJob {
                checkpoint: a.run.checkpoint,
                weights: a.run.weights,
                data: a.run.data,
                timestep: a.timestep,
                samples: a.samples,
                seed: a.run.seed,
                batch: a.batch,
                device: a.run.device,
            };
            let report = run_on(job.device, job)??;
            lift_core::io::write_json(&a.out.join("mse.json"), &report)?;
            lift_core::io::write_atomic(&a.out.join("mse.md"), report.markdown().as_bytes())?;
            report.chart().save(&a.out.join("mse.png"))?;
            print!("{}", report.markdown());
        }
    }
    Ok(())
}

/// A path file whose heatmap indices are present (figures need them).
fn load_path(p: &Path) -> Result<PathFile> {
    PathFile::load(p, usize::MAX)
}
