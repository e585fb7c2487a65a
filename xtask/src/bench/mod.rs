//! `cargo xtask bench`: speed of every stage's hot loop on the chosen backend — model forward and
//! forward+backward, the full training step, one heatmap cell, sampling, FID features — beside
//! the PyTorch peer (`bench/torch_peer.py`) measured in the same run, printed as ratios. Each side
//! and thread count runs in a process of its own: PyTorch pays for every change of its thread
//! count inside one process on some hosts (the tiny training step at 2 threads: 30 images/s timed
//! in turns with 1 thread, 85 alone), which made the ratios of earlier tables 2–3× too kind to us.

mod sweep;
pub mod torch;
mod workloads;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;
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
    /// Instead of the configs' rows: the forward pass and training step (or `--only`'s) of both
    /// models over resolutions 32 and 64, widths [16,32,64] and [32,64,128] and batches 1, 8 and 32,
    /// with the first config's other settings.
    #[arg(long)]
    sweep: bool,
    /// Also write the table as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Time the thread counts in turns inside this process (what each worker process does)
    /// instead of one process per side and thread count.
    #[arg(long, hide = true)]
    in_process: bool,
}

/// Width of the first column: a preset's name or a sweep's shape (`64px w32 b32`).
const LABEL: usize = 12;

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
    let cores = lift_cpu::threads::available();
    let mut thread_counts: Vec<usize> = args.threads.iter().map(|&t| if t == 0 { cores } else { t }).collect();
    thread_counts.dedup();
    if !args.in_process {
        println!(
            "device {}, batch {}, median of {} timed runs after 1 warm-up (a single run when it takes over 30 s), \
             each side and thread count in a process of its own, {cores} cores; ratio = burn / torch at the same thread count\n",
            args.device,
            if args.sweep { "in the label".to_string() } else { args.batch.to_string() },
            args.iters
        );
    }
    let mut rows = match args.sweep {
        true => {
            let chosen: Vec<Workload> = if args.only.is_empty() { Vec::new() } else { Workload::all().into_iter().filter(|&w| selected(w)).collect() };
            sweep::run(&args, python.as_deref(), &chosen, &thread_counts)?
        }
        false => Vec::new(),
    };
    let configs = if args.sweep { &[][..] } else { &args.configs[..] };
    let first_label = configs.first().map(|n| config_path(n)).and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    for name in configs {
        let path = config_path(name);
        let config = LiftConfig::load(&path)?;
        let label = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for workload in Workload::all() {
            if !selected(workload) {
                continue;
            }
            if matches!(workload, Workload::Fid | Workload::Reference) && Some(&label) != first_label.as_ref() {
                continue; // neither depends on the config: measure them once
            }
            let shape = Shape { label: label.clone(), config_file: path.clone(), config: config.clone(), batch: args.batch };
            rows.extend(measure(&args, python.as_deref(), &shape, workload, &thread_counts));
        }
    }
    if !args.in_process {
        print_scaling(&rows);
        print_best(&rows);
        if let (Some(py), [_, _, ..]) = (python.as_deref(), &thread_counts[..]) {
            let config = LiftConfig::load(&config_path(args.configs.first().map_or("tiny", |c| c.as_str())))?;
            torch::check_in_turns(py, &config, args.batch, args.iters, &thread_counts, args.device);
        }
    }
    if let Some(path) = &args.json {
        lift_core::io::write_json(path, &rows)?;
    }
    Ok(())
}

/// `configs/<name>.toml`, or `name` itself when it is a TOML file.
fn config_path(name: &str) -> PathBuf {
    if name.ends_with(".toml") {
        PathBuf::from(name)
    } else {
        Path::new("configs").join(format!("{name}.toml"))
    }
}

/// What one row group measures: a config (read from `config_file` by the worker processes) at a batch size.
pub struct Shape {
    pub label: String,
    pub config_file: PathBuf,
    pub config: LiftConfig,
    pub batch: usize,
}

/// One workload of one shape at every thread count, Burn and the peer each in a process of its
/// own per thread count (or Burn in this process with `--in-process`); the rows are printed as
/// they come. A workload Burn cannot run here is reported and gives no rows.
fn measure(args: &BenchArgs, python: Option<&str>, shape: &Shape, workload: Workload, thread_counts: &[usize]) -> Vec<Row> {
    let burn = match args.in_process {
        true => {
            let task = WorkloadTask { workload, config: shape.config.clone(), batch: shape.batch, iters: args.iters, threads: thread_counts.to_vec() };
            run_on(args.device, task).and_then(|r| r)
        }
        false => thread_counts.iter().map(|&t| worker(args, shape, workload, t)).collect(),
    };
    let burn = match burn {
        Ok(rates) => rates,
        Err(e) => {
            println!("{:<LABEL$} {:<19} skipped: {e:#}", shape.label, workload.name());
            return Vec::new();
        }
    };
    let peer = |t: usize| torch::peer(python?, &shape.config, workload, shape.batch, args.iters, t, args.device);
    let torch = if python.is_some() { thread_counts.iter().map(|&t| peer(t)).collect::<Option<Vec<f64>>>() } else { None };
    let mut rows = Vec::new();
    for (k, (&threads, burn)) in thread_counts.iter().zip(burn).enumerate() {
        let torch = torch.as_ref().map(|rates| rates[k]);
        let row = Row { config: shape.label.clone(), workload: workload.name(), threads, unit: workload.unit(), burn, torch };
        print_row(&row);
        rows.push(row);
    }
    rows
}

/// Burn's rate for one workload at `threads`, measured by a fresh `xtask bench --in-process`.
fn worker(args: &BenchArgs, shape: &Shape, workload: Workload, threads: usize) -> Result<f64> {
    let json = std::env::temp_dir().join(format!("lift-bench-{}-{threads}.json", std::process::id()));
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["bench", "--in-process", "--no-torch", "--device", &args.device.to_string(), "--configs"])
        .arg(&shape.config_file)
        .args(["--batch", &shape.batch.to_string(), "--iters", &args.iters.to_string(), "--only", &workload.name()])
        .args(["--threads", &threads.to_string(), "--json"])
        .arg(&json)
        .output()?;
    let rows: Vec<serde_json::Value> = lift_core::io::read_json(&json).unwrap_or_default();
    std::fs::remove_file(&json).ok();
    match rows.first().and_then(|r| r["burn"].as_f64()) {
        Some(rate) if out.status.success() => Ok(rate),
        _ => {
            // The worker's last line says why it skipped ("<label> <workload> skipped: why").
            let stdout = String::from_utf8_lossy(&out.stdout);
            let last = stdout.lines().last().unwrap_or("");
            bail!("{}{}", last.split_once("skipped: ").map_or(last, |(_, why)| why), String::from_utf8_lossy(&out.stderr).trim())
        }
    }
}

/// Per workload: the ratio at one thread and at each side's best thread count, and the worst of
/// each over the table.
fn print_best(rows: &[Row]) {
    let mut worst: [Option<(f64, String)>; 2] = [None, None];
    println!("\nbest vs best (each side at its fastest thread count) and one thread:");
    for (i, first) in rows.iter().enumerate() {
        let same = |r: &&Row| r.config == first.config && r.workload == first.workload;
        if rows[..i].iter().any(|r| same(&r)) || first.torch.is_none() {
            continue;
        }
        let mine: Vec<&Row> = rows[i..].iter().filter(same).collect();
        let best = |f: fn(&Row) -> f64| mine.iter().map(|r| (f(r), r.threads)).max_by(|a, b| a.0.total_cmp(&b.0)).unwrap_or((f64::NAN, 0));
        let (b, bt) = best(|r| r.burn);
        let (t, tt) = best(|r| r.torch.unwrap_or(f64::NAN));
        let one = mine.iter().find(|r| r.threads == 1).and_then(|r| r.torch.map(|t| r.burn / t));
        println!(
            "{:<LABEL$} {:<19} best burn {b:>10.3} ({bt} thr)  torch {t:>10.3} ({tt} thr)  ratio {:>5.2}x{}",
            first.config,
            first.workload,
            b / t,
            one.map(|r| format!("   1 thr {r:>5.2}x")).unwrap_or_default()
        );
        let label = format!("{} {}", first.config, first.workload);
        for (k, ratio) in [Some(b / t), one].into_iter().enumerate() {
            if let Some(r) = ratio.filter(|r| r.is_finite()) {
                if worst[k].as_ref().is_none_or(|w| r < w.0) {
                    worst[k] = Some((r, label.clone()));
                }
            }
        }
    }
    for (name, w) in ["best vs best", "one thread"].iter().zip(worst) {
        if let Some((r, label)) = w {
            println!("worst ratio, {name}: {r:.2}x ({label})");
        }
    }
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
        println!("{:<LABEL$} {:<19} burn {:>5.2}x{torch}", first.config, first.workload, most.burn / fewest.burn);
    }
}

fn print_row(r: &Row) {
    let head = format!("{:<LABEL$} {:<19} {:>2} thr  burn {:>10.3} {:<8}", r.config, r.workload, r.threads, r.burn, r.unit);
    match r.torch {
        Some(t) => println!("{head} torch {t:>10.3}   ratio {:>5.2}x", r.burn / t),
        None => println!("{head}"),
    }
}
