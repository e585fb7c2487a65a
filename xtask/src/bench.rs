//! `cargo xtask bench`: images/s of the models on the chosen backend, beside the PyTorch peer
//! (`bench/torch_peer.py`) measured in the same run, printed as ratios.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Distribution, Tensor};
use lift_core::{run_on, BackendTask, BaselineUNet, DeviceSpec, LiftConfig, LiftUNet, ModelConfig};

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Backend: cpu, wgpu, cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Configs to measure: preset names (tiny, paper) or paths to TOML files.
    #[arg(long, value_delimiter = ',', default_value = "tiny,paper")]
    configs: Vec<String>,
    /// Batch size.
    #[arg(long, default_value_t = 8)]
    batch: usize,
    /// Timed iterations per measurement (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Skip the PyTorch peer even if torch is importable.
    #[arg(long)]
    no_torch: bool,
}

/// One measured row of the table.
struct Row {
    what: String,
    burn: f64,
    torch: Option<f64>,
}

pub fn run(args: BenchArgs) -> Result<()> {
    let python = if args.no_torch { None } else { torch_python() };
    match &python {
        Some(p) => println!("PyTorch peer: {p} (bench/torch_peer.py)"),
        None => println!("PyTorch peer: not run (no python3 with torch; `apt-get install python3-torch` adds it)"),
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("device: {}, batch {}, median of {} after 1 warm-up, {threads} CPU threads\n", args.device, args.batch, args.iters);
    let mut rows = Vec::new();
    for name in &args.configs {
        let path = if name.ends_with(".toml") { name.into() } else { Path::new("configs").join(format!("{name}.toml")) };
        let config = LiftConfig::load(&path)?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for model in ["lift", "baseline"] {
            for mode in ["forward", "backward"] {
                let burn = run_on(
                    args.device,
                    ModelBench { model: model.into(), mode: mode.into(), config: config.model.clone(), batch: args.batch, iters: args.iters },
                )?;
                let torch = python.as_ref().and_then(|py| torch_peer(py, &config.model, model, mode, args.batch, args.iters, threads));
                let row = Row { what: format!("{name:<6} {model:<8} {mode:<9}"), burn, torch };
                print_row(&row);
                rows.push(row);
            }
        }
    }
    Ok(())
}

fn print_row(r: &Row) {
    match r.torch {
        Some(t) => println!("{}  burn {:>9.3} img/s   torch {:>9.3} img/s   burn/torch {:>5.2}x", r.what, r.burn, t, r.burn / t),
        None => println!("{}  burn {:>9.3} img/s", r.what, r.burn),
    }
}

/// Times `f` `iters` times after one warm-up call; returns the median seconds.
pub fn median_seconds(iters: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

struct ModelBench {
    model: String,
    mode: String,
    config: ModelConfig,
    batch: usize,
    iters: usize,
}

impl BackendTask for ModelBench {
    type Output = f64;
    fn run<B: AutodiffBackend>(self, device: B::Device) -> f64 {
        let (b, r) = (self.batch, self.config.resolution);
        let x64 = Tensor::<B, 4>::random([b, 3, r, r], Distribution::Normal(0.0, 1.0), &device);
        let x32 = Tensor::<B, 4>::random([b, 3, r / 2, r / 2], Distribution::Normal(0.0, 1.0), &device);
        let t = Tensor::<B, 1>::from_floats(vec![500.0f32; b].as_slice(), &device);
        let sync = || B::sync(&device).expect("device sync");
        let seconds = match (self.model.as_str(), self.mode.as_str()) {
            ("lift", "forward") => {
                let m = LiftUNet::<B>::new(&self.config, &device).valid();
                let (x64, x32, t) = (x64.inner(), x32.inner(), t.inner());
                median_seconds(self.iters, || {
                    let (a, c) = m.forward(x64.clone(), x32.clone(), t.clone(), t.clone());
                    let _ = (a.sum() + c.sum()).into_scalar();
                })
            }
            ("lift", _) => {
                let m = LiftUNet::<B>::new(&self.config, &device);
                median_seconds(self.iters, || {
                    let (a, c) = m.forward(x64.clone(), x32.clone(), t.clone(), t.clone());
                    let _ = (a.powi_scalar(2).mean() + c.powi_scalar(2).mean()).backward();
                    sync();
                })
            }
            (_, "forward") => {
                let m = BaselineUNet::<B>::new(&self.config, &device).valid();
                let (x64, t) = (x64.inner(), t.inner());
                median_seconds(self.iters, || {
                    let _ = m.forward(x64.clone(), t.clone()).sum().into_scalar();
                })
            }
            _ => {
                let m = BaselineUNet::<B>::new(&self.config, &device);
                median_seconds(self.iters, || {
                    let _ = m.forward(x64.clone(), t.clone()).powi_scalar(2).mean().backward();
                    sync();
                })
            }
        };
        b as f64 / seconds
    }
}

/// A python3 that can import torch: the one on PATH, then Debian's.
pub fn torch_python() -> Option<String> {
    ["python3", "/usr/bin/python3"].into_iter().map(String::from).find(|py| {
        Command::new(py).args(["-c", "import torch"]).output().map(|o| o.status.success()).unwrap_or(false)
    })
}

/// Runs the PyTorch peer for one measurement; None (with a warning) if it fails.
pub fn torch_peer(
    python: &str,
    model: &ModelConfig,
    kind: &str,
    mode: &str,
    batch: usize,
    iters: usize,
    threads: usize,
) -> Option<f64> {
    let dims: Vec<String> = model.dims.iter().map(|d| d.to_string()).collect();
    let out = Command::new(python)
        .arg("bench/torch_peer.py")
        .args(["--model", kind, "--mode", mode, "--dims", &dims.join(",")])
        .args(["--embed", &model.time_embed_dim.to_string(), "--time", &model.time_dim.to_string()])
        .args(["--res", &model.resolution.to_string(), "--batch", &batch.to_string()])
        .args(["--iters", &iters.to_string(), "--threads", &threads.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("torch peer failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    value["images_per_s"].as_f64()
}
