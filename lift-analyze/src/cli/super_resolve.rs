//! `lift-analyze super-resolve`: the LIFT model as a coarse → fine super-resolver against bicubic
//! upsampling (PSNR, SSIM, a figure and a table).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use lift_core::run::RunDir;
use lift_core::timesteps::TimestepRule;
use lift_core::{run_on, LiftConfig};

use super::args::{count, DataArgs, RunArgs};
use crate::super_resolve::{panels_figure, SuperResolveJob, FIGURE_ROWS, SR_FIGURE, SR_JSON, SR_TABLE};

#[derive(Args)]
pub struct SuperResolveArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Images to super-resolve: held-out ones first, then training images.
    #[arg(long, value_parser = count(1, 1_000_000))]
    pub num_images: usize,
    /// Sampling steps of the fine scale [default: the run's sample.steps].
    #[arg(long, value_parser = count(1, 100_000))]
    pub steps: Option<usize>,
    /// fair (the steps evenly from t = T−1 to 0, as the original's super-resolution) or reference.
    #[arg(long, value_enum, default_value_t = TimestepRule::Fair)]
    pub protocol: TimestepRule,
    /// Images per sampling batch (the numbers do not depend on it) [default: the run's study.batch].
    #[arg(long, value_parser = count(1, 4096))]
    pub batch: Option<usize>,
    /// Folder for sr.json, sr.md and sr.png.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Runs `lift-analyze super-resolve`.
pub fn super_resolve(a: SuperResolveArgs) -> Result<()> {
    let (config, _): (LiftConfig, _) = RunDir(a.run.run.clone()).load()?;
    let data = a.data.folder(&a.run.run)?;
    let job = SuperResolveJob {
        run: a.run.run.clone(),
        weights: a.run.weights.unwrap_or(config.study.main_weights()),
        epoch: a.run.epoch,
        data,
        images: a.num_images,
        steps: a.steps.unwrap_or(config.sample.steps),
        protocol: a.protocol,
        seed: a.run.seed,
        batch: a.batch.unwrap_or(config.study.batch),
    };
    let (report, panels) = run_on(a.run.device.main(), job)??;
    lift_core::io::write_json(&a.out.join(SR_JSON), &report)?;
    lift_core::io::write_atomic(&a.out.join(SR_TABLE), report.markdown().as_bytes())?;
    panels_figure(&panels, report.resolution, FIGURE_ROWS, &a.out.join(SR_FIGURE))?;
    print!("{}", report.markdown());
    println!("→ {} (sr.json, sr.md, sr.png: coarse input | bicubic | LIFT | real)", a.out.display());
    Ok(())
}
