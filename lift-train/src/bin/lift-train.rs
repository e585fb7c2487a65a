//! `lift-train`: train the LIFT model or the single-scale baseline.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Parser;
use lift_core::data::DEFAULT_DATA;
use lift_core::{DeviceSpec, LiftConfig, ModelKind};
use lift_train::run::{train, Dashboard, TrainOptions};

#[derive(Parser)]
#[command(name = "lift-train", version, about = "Train the LIFT dual-scale UNet or the single-scale baseline")]
struct Cli {
    /// Configuration file (configs/tiny.toml, configs/paper.toml, …).
    #[arg(long)]
    config: PathBuf,
    /// Which model: lift or baseline.
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
    /// cpu, wgpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Continue from the last complete checkpoint in the run folder.
    #[arg(long)]
    resume: bool,
    /// Skip unreadable images with a warning instead of stopping.
    #[arg(long)]
    skip_bad_images: bool,
    /// One line per epoch even on a terminal (no dashboard).
    #[arg(long)]
    quiet: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let mut config = LiftConfig::load(&cli.config)?;
    if let Some(epochs) = cli.epochs {
        config.train.epochs = epochs as usize;
        config.validate()?;
    }
    let data = cli.data.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
    if !data.exists() && data == PathBuf::from(DEFAULT_DATA) {
        bail!("the default data set is missing: run `cargo xtask data` first, or pass --data DIR");
    }
    let stem = cli.config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    let out = cli.out.unwrap_or_else(|| PathBuf::from("artifacts/runs").join(format!("{stem}-{}", cli.model)));
    let info = train(TrainOptions {
        config,
        model: cli.model,
        data,
        out: out.clone(),
        device: cli.device,
        resume: cli.resume,
        skip_bad_images: cli.skip_bad_images,
        dashboard: if cli.quiet { Dashboard::Quiet } else { Dashboard::Auto },
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
