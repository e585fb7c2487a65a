//! The `lift-analyze` command line.

mod args;

pub use args::*;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};
use lift_core::{run_on, LiftConfig, NoiseSchedule, PathFile};

use crate::evaluate::{evaluate, EvaluateJob};
use crate::fid::{frechet_distance, FeatureJob};
use crate::generate::{sample_grid, GenerateJob};
use crate::images::folder_planes;
use crate::swd::swd;
use crate::heatmap::{Heatmap, HeatmapJob};
use crate::inspect;
use crate::mse_test::MseJob;
use crate::paths::find_path;
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
    /// DDIM samples along a path (PNG, 16 bits per channel), resumable.
    Generate(GenerateArgs),
    /// FID between two image folders (or saved statistics), as pytorch-fid computes it.
    Fid(FidArgs),
    /// Sliced Wasserstein distance on Laplacian-pyramid patches (Karras et al. 2018).
    Swd(SwdArgs),
    /// Samples, FID and SWD for every model, path strategy, protocol and seed; results table.
    Evaluate(EvaluateArgs),
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
        Command::Generate(a) => {
            let job = GenerateJob {
                checkpoint: a.checkpoint,
                weights: a.weights,
                path: a.path,
                num_images: a.num_images,
                out: a.out.clone(),
                steps: a.steps,
                protocol: a.protocol,
                batch: a.batch,
                seed: a.seed,
            };
            let report = run_on(a.device, job)??;
            println!(
                "{} model evaluations per image; generated {} ({} already there) in {:.1} s ({:.2} images/s) → {}",
                report.evaluations,
                report.generated,
                report.already_there,
                report.seconds,
                report.images_per_s,
                a.out.display()
            );
            if let Some(grid) = a.grid {
                sample_grid(&a.out, &grid, 64)?;
            }
        }
        Command::Fid(a) => {
            let resolution = match a.resolution {
                Some(r) => r,
                None => crate::fid::folder_resolution(&a.fake)?,
            };
            let job = FeatureJob { weights: a.inception, files: vec![], resolution, resize: a.resize, batch: a.batch, label: "fid".into() };
            let real = crate::fid::stats_of(&a.real, &job, a.device)?;
            if let Some(path) = &a.save_stats {
                real.save(path)?;
            }
            let fake = crate::fid::stats_of(&a.fake, &job, a.device)?;
            for (name, s) in [("real", &real), ("fake", &fake)] {
                if s.n < crate::fid::DIM {
                    eprintln!("warning: {name} has {} images, fewer than 2048: FID is biased upwards and not comparable across N", s.n);
                }
            }
            println!("FID: {}", frechet_distance(&real, &fake));
        }
        Command::Swd(a) => {
            let resolution = crate::fid::folder_resolution(&a.fake)?;
            let real = folder_planes(&a.real, resolution, a.max_images)?;
            let fake = folder_planes(&a.fake, resolution, a.max_images)?;
            let report = swd(&real, &fake, a.seed)?;
            for (r, v) in report.resolutions.iter().zip(&report.swd_x1e3) {
                println!("SWD x1e3 at {r}x{r}: {v:.3}");
            }
            println!("SWD x1e3 (mean over levels, {} images): {:.3}", report.images, report.mean_x1e3);
        }
        Command::Evaluate(a) => {
            let job = EvaluateJob {
                runs: a.runs,
                heatmap: a.heatmap,
                real: a.real,
                out: a.out.clone(),
                num_images: a.num_images,
                real_images: a.real_images,
                seeds: a.seeds,
                protocols: a.protocols,
                steps: a.steps,
                max_jump: a.max_jump,
                resize: a.resize,
                inception: a.inception,
                weights: a.weights,
                device: a.device,
                batch: a.batch,
            };
            let rows = evaluate(&job)?;
            print!("{}", crate::evaluate::results_table(&rows));
            println!("results: {}", a.out.join("results.json").display());
        }
    }
    Ok(())
}

/// A path file whose heatmap indices are present (figures need them).
fn load_path(p: &Path) -> Result<PathFile> {
    PathFile::load(p, usize::MAX)
}
