//! `lift-analyze`: inspect configs and analyse trained LIFT models.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    lift_analyze::cli::run(lift_analyze::cli::Cli::parse())
}
