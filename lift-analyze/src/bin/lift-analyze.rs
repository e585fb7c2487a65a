//! `lift-analyze`: inspect configs and analyse trained LIFT models.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = lift_analyze::cli::Cli::parse();
    // On a pool worker, the main thread does not compete with the workers for the cores.
    lift_cpu::threads::run_in_pool(0, || lift_analyze::cli::run(cli))?
}
