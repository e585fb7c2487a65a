//! `cargo xtask bench`: speed of every stage's hot loop on the chosen backend — model forward and
//! forward+backward, the full training step, one heatmap cell, sampling, FID features — beside
//! the PyTorch peer (`bench/torch_peer.py`) measured in the same run, printed as ratios.

pub mod torch;
mod workloads;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use lift_core::threads::ThreadPool;
use lift_core::{run_on, DeviceSpec, LiftConfig};
use serde::Serialize;

pub use workloads::{Workload, WorkloadTask};

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Backend: cpu, wgpu, cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Configs to measure: preset names (tiny, paper) or paths to TOML files.
    #[arg(long, value_delimiter = ',', default_value = "tiny,paper")]
    configs: Vec<String>,
    /// Batch size of the model, training and sampling rows.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Timed rounds per measurement, each thread count once per round (after one warm-up at each);
    /// each count's median is reported.
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Only these workloads: reference-loop, forward, fwd+bwd, train-step, sample (both models, or e.g. `forward/lift`),
    /// heatmap-cell, heatmap-cell-fd, fid-features.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Skip the PyTorch peer even if torch is importable.
    #[arg(long)]
    no_torch: bool,
    /// CPU thread counts to measure at, timed in turns (0: one per core); the default measures
    /// one thread and every core, which shows how the loops scale.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 0])]
    threads: Vec<usize>,
    /// Also write the table as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One measured row: a rate (higher is better) for Burn and, if run, the PyTorch peer.
#[derive(Debug, Serialize)]
pub struct Row {
    pub config: String,
    pub workload: String,
    pub threads: usize,
    pub unit: &'static str,
    pub burn: f64,
    pub torch: Option<f64>,
}

pub fn run(args: BenchArgs) -> Result<()> {
    // `--only forward` selects both models' rows; `--only forward/lift` one of them.
    let picks = |o: &str, w: Workload| w.name() == o || w.name().split('/').next() == Some(o);
    let selected = |w: Workload| args.only.is_empty() || args.only.iter().any(|o| picks(o, w));
    if let Some(unknown) = args.only.iter().find(|o| !Workload::all().into_iter().any(|w| picks(o, w))) {
        let names: Vec<_> = Workload::all().into_iter().map(Workload::name).collect();
        bail!("--only: unknown workload '{unknown}'; expected one of {}", names.join(", "));
    }
    let python = if args.no_torch { None } else { torch::python() };
    match &python {
        Some(p) => println!("PyTorch peer: {p} (bench/torch_peer.py)"),
        None => println!("PyTorch peer: not run (no python3 with torch; `apt-get install python3-torch` adds it)"),
    }
    let cores = lift_core::threads::available();
    let mut thread_counts: Vec<usize> = args.threads.iter().map(|&t| if t == 0 { cores } else { t }).collect();
    thread_counts.dedup();
    println!(
        "device {}, batch {}, median of {} timed runs after 1 warm-up (a single run when it takes over 30 s), \
         the thread counts in turns, {cores} cores, both sides at the same thread count; ratio = burn / torch\n",
        args.device, args.batch, args.iters
    );
    let mut rows = Vec::new();
    for name in &args.configs {
        let path = if name.ends_with(".toml") { PathBuf::from(name) } else { Path::new("configs").join(format!("{name}.toml")) };
        let config = LiftConfig::load(&path)?;
        let label = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for workload in Workload::all() {
            if !selected(workload) {
                continue;
            }
            if matches!(workload, Workload::Fid | Workload::Reference) && label != args.configs[0] {
                continue; // neither depends on the config: measure them once
            }
            let task = WorkloadTask { workload, config: config.clone(), batch: args.batch, iters: args.iters, threads: thread_counts.clone() };
            let burn = match run_on(args.device, task)? {
                Ok(rates) => rates,
                Err(e) => {
                    println!("{label:<6} {:<16} skipped: {e:#}", workload.name());
                    continue;
                }
            };
            let torch = python.as_deref().and_then(|py| torch::peer(py, &config, workload, args.batch, args.iters, &thread_counts, args.device));
            for (k, (&threads, burn)) in thread_counts.iter().zip(burn).enumerate() {
                let torch = torch.as_ref().map(|rates| rates[k]);
                let row = Row { config: label.clone(), workload: workload.name().into(), threads, unit: workload.unit(), burn, torch };
                print_row(&row);
                rows.push(row);
            }
        }
    }
    print_scaling(&rows);
    if let Some(path) = &args.json {
        lift_core::io::write_json(path, &rows)?;
    }
    Ok(())
}

/// Each workload's rate at its most threads over its rate at its fewest, from the rows above.
fn print_scaling(rows: &[Row]) {
    let mut printed_head = false;
    for (i, first) in rows.iter().enumerate() {
        let same = |r: &&Row| r.config == first.config && r.workload == first.workload;
        if rows[..i].iter().any(|r| same(&r)) {
            continue; // the workload's first row speaks for it
        }
        let fewest = rows[i..].iter().filter(same).min_by_key(|r| r.threads).unwrap_or(first);
        let most = rows[i..].iter().filter(same).max_by_key(|r| r.threads).unwrap_or(first);
        if most.threads == fewest.threads {
            continue;
        }
        if !printed_head {
            println!("\nscaling (same run): rate at {} threads / rate at {}", most.threads, fewest.threads);
            printed_head = true;
        }
        let torch = match (most.torch, fewest.torch) {
            (Some(m), Some(f)) => format!("  torch {:>5.2}x", m / f),
            _ => String::new(),
        };
        println!("{:<6} {:<19} burn {:>5.2}x{torch}", first.config, first.workload, most.burn / fewest.burn);
    }
}

fn print_row(r: &Row) {
    let head = format!("{:<6} {:<19} {:>2} thr  burn {:>10.3} {:<8}", r.config, r.workload, r.threads, r.burn, r.unit);
    match r.torch {
        Some(t) => println!("{head} torch {t:>10.3}   ratio {:>5.2}x", r.burn / t),
        None => println!("{head}"),
    }
}

/// Times `f` on each pool in turn, `iters` rounds after one warm-up on each, and returns each
/// pool's median seconds. Taking the thread counts in turns puts them all in the same minutes: on a
/// shared machine each core's speed drifts by up to a half within seconds, so thread counts timed
/// one after the other compare different minutes. A warm-up that takes more than 30 s (the paper
/// model on a CPU) is timed itself instead.
pub fn interleaved_medians(pools: &[ThreadPool], iters: usize, mut f: impl FnMut() + Send) -> Vec<f64> {
    let mut timed = |pool: &ThreadPool| {
        let start = Instant::now();
        pool.install(&mut f);
        start.elapsed().as_secs_f64()
    };
    let warm_ups: Vec<f64> = pools.iter().map(&mut timed).collect();
    if warm_ups.iter().any(|&s| s > 30.0) {
        return warm_ups;
    }
    let mut times = vec![Vec::with_capacity(iters); pools.len()];
    for _ in 0..iters.max(1) {
        for (pool, times) in pools.iter().zip(&mut times) {
            times.push(timed(pool));
        }
    }
    times.into_iter().map(crate::median).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_timing_takes_the_pools_in_turns() {
        let pools: Vec<_> = [1, 2].iter().map(|&t| lift_core::threads::pool(t).unwrap()).collect();
        let mut seen = Vec::new();
        let medians = interleaved_medians(&pools, 3, || seen.push(rayon::current_num_threads()));
        assert_eq!(medians.len(), 2);
        assert_eq!(seen, [1, 2, 1, 2, 1, 2, 1, 2]);
    }
}
