//! `lift-train`: train the LIFT model or the single-scale baseline.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Parser;
use lift_core::config::Precision;
use lift_core::data::DEFAULT_DATA;
use lift_core::{Devices, LiftConfig, ModelKind, Override};
use lift_train::run::{train, Dashboard, Resume, TrainOptions};

#[derive(Parser)]
#[command(name = "lift-train", version, about = "Train the LIFT dual-scale UNet, the single-scale baseline or an ablation model")]
struct Cli {
    /// Configuration file (configs/tiny.toml, configs/paper.toml, …).
    #[arg(long)]
    config: PathBuf,
    /// Which model: lift, baseline, or an ablation (single-t, no-t).
    #[arg(long, value_enum)]
    model: ModelKind,
    /// Image folder (searched recursively for PNG/JPEG) [default: artifacts/data/emoji-google-64].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run folder [default: artifacts/runs/<config>-<model>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override train.epochs (the total, also when resuming).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    epochs: Option<u64>,
    /// cpu, wgpu, cuda or cuda:N; a list (cuda:0,cuda:1) trains data-parallel with the global
    /// batch train.batch_size split over the devices.
    #[arg(long, visible_alias = "devices", default_value = "cpu")]
    device: Devices,
    /// Continue from the last complete checkpoint in the run folder.
    #[arg(long, conflicts_with = "resume_from")]
    resume: bool,
    /// Continue from a named checkpoint: an epoch number, `best` or `latest`.
    #[arg(long)]
    resume_from: Option<Resume>,
    /// Override train.sample_every (a grid of EMA samples every N epochs; 0 = never).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    sample_every: Option<u64>,
    /// Override train.accumulate (micro-batches per optimiser step).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    accumulate: Option<u64>,
    /// Override train.seed (weights, data order, noise and held-out images).
    #[arg(long)]
    seed: Option<u64>,
    /// Override train.lr_warmup_steps (optimiser steps of linear warm-up from 0).
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    lr_warmup_steps: Option<u64>,
    /// Turn on the EMA warm-up (diffusers' inv_gamma/power form).
    #[arg(long)]
    ema_warmup: bool,
    /// Override train.checkpoint_every (epochs).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    checkpoint_every: Option<u64>,
    /// Override train.keep_last (checkpoints kept).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    keep_last: Option<u64>,
    /// Keep the best-validation checkpoint too.
    #[arg(long)]
    keep_best: bool,
    /// Override train.precision: f32 or bf16 (forward and backward; weights stay f32).
    #[arg(long, value_enum)]
    precision: Option<Precision>,
    /// Skip unreadable images with a warning instead of stopping.
    #[arg(long)]
    skip_bad_images: bool,
    /// One line per epoch even on a terminal (no dashboard).
    #[arg(long)]
    quiet: bool,
    /// Also write TensorBoard event files into DIR (train.tensorboard = true writes them into RUN/tensorboard).
    #[arg(long, value_name = "DIR")]
    tensorboard: Option<PathBuf>,
    /// Change one config value, e.g. `--set train.lr=5e-4 --set model.dims=[16,32]` (repeatable;
    /// applied after the file, before the flags above).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    sets: Vec<Override>,
    /// Print the config this run would use (file, then --set, then the flags) and exit.
    #[arg(long)]
    print_config: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // On a pool worker, the main thread does not compete with the workers for the cores.
    lift_cpu::threads::run_in_pool(0, || run(cli))?
}

fn run(cli: Cli) -> Result<()> {
    let mut config = LiftConfig::load(&cli.config)?.with_overrides(&cli.sets)?;
    let t = &mut config.train;
    let set = |slot: &mut usize, value: Option<u64>| {
        if let Some(v) = value {
            *slot = v as usize;
        }
    };
    set(&mut t.epochs, cli.epochs);
    set(&mut t.sample_every, cli.sample_every);
    set(&mut t.accumulate, cli.accumulate);
    set(&mut t.lr_warmup_steps, cli.lr_warmup_steps);
    set(&mut t.checkpoint_every, cli.checkpoint_every);
    set(&mut t.keep_last, cli.keep_last);
    t.ema_warmup |= cli.ema_warmup;
    t.keep_best |= cli.keep_best;
    t.precision = cli.precision.unwrap_or(t.precision);
    t.seed = cli.seed.unwrap_or(t.seed);
    config.validate()?;
    if cli.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    let resume = match (cli.resume, cli.resume_from) {
        (_, Some(r)) => r,
        (true, None) => Resume::Latest,
        (false, None) => Resume::Fresh,
    };
    let data = cli.data.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
    if !data.exists() && data == Path::new(DEFAULT_DATA) {
        bail!("the default data set is missing: run `cargo xtask data` first, or pass --data DIR");
    }
    let stem = cli.config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    let out = cli.out.unwrap_or_else(|| PathBuf::from("artifacts/runs").join(format!("{stem}-{}", cli.model)));
    let info = train(TrainOptions {
        config,
        model: cli.model,
        data,
        out: out.clone(),
        devices: cli.device,
        resume,
        skip_bad_images: cli.skip_bad_images,
        dashboard: if cli.quiet { Dashboard::Quiet } else { Dashboard::Auto },
        tensorboard: cli.tensorboard,
    })?;
    println!(
        "done: {} epochs of {} ({} parameters) in {:.0} s; weights in {}",
        info.epochs_completed,
        info.model,
        info.parameters,
        info.train_seconds,
        out.join("weights").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_flag_has_help() {
        lift_core::cli_help::assert_documented(&super::Cli::command());
    }
}
