//! `lift-analyze`: inspect configs and analyse trained LIFT models.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use lift_analyze::inspect;
use lift_core::LiftConfig;

#[derive(Parser)]
#[command(name = "lift-analyze", version, about = "Analyse LIFT dual-scale diffusion models")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

fn main() -> Result<()> {
    match Cli::parse().command {
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
                None => lift_core::NoiseSchedule::reference(),
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
    }
    Ok(())
}
