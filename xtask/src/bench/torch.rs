//! The PyTorch peer: `bench/torch_peer.py`, the same architecture written from the facts.

use std::process::Command;

use lift_core::{DeviceSpec, LiftConfig};

use super::Workload;

/// A python3 that can import torch: the one on PATH, then Debian's.
pub fn python() -> Option<String> {
    ["python3", "/usr/bin/python3"].into_iter().map(String::from).find(|py| {
        Command::new(py).args(["-c", "import torch"]).output().map(|o| o.status.success()).unwrap_or(false)
    })
}

/// The peer's rate for a workload at each thread count (timed in turns, same unit as Burn's), or
/// None (with a warning) if it has none.
pub fn peer(python: &str, config: &LiftConfig, workload: Workload, batch: usize, iters: usize, threads: &[usize], device: DeviceSpec) -> Option<Vec<f64>> {
    let (model, mode) = match workload {
        Workload::Forward(m) => (m, "forward"),
        Workload::FwdBwd(m) => (m, "backward"),
        Workload::TrainStep(m) => (m, "train"),
        Workload::Sample(m) => (m, "sample"),
        Workload::HeatmapCell => ("lift", "hutchinson"),
        Workload::Fid => ("lift", "fid"),
        Workload::HeatmapCellFd | Workload::Reference => return None,
    };
    let m = &config.model;
    let dims: Vec<String> = m.dims.iter().map(|d| d.to_string()).collect();
    let threads: Vec<String> = threads.iter().map(|t| t.to_string()).collect();
    let torch_device = match device {
        DeviceSpec::Cuda(n) => format!("cuda:{n}"),
        _ => "cpu".into(),
    };
    let out = Command::new(python)
        .arg("bench/torch_peer.py")
        .args(["--model", model, "--mode", mode, "--dims", &dims.join(",")])
        .args(["--embed", &m.time_embed_dim.to_string(), "--time", &m.time_dim.to_string(), "--res", &m.resolution.to_string()])
        .args(["--batch", &batch.to_string(), "--iters", &iters.to_string(), "--threads", &threads.join(",")])
        .args(["--attn-min", &m.attention_min_channels.to_string(), "--device", &torch_device])
        .args(["--weights", lift_analyze::fid::DEFAULT_WEIGHTS])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!("torch peer failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).ok()?;
    let rates: Option<Vec<f64>> = value["rates"].as_array()?.iter().map(|r| r.as_f64()).collect();
    rates.filter(|r| r.len() == threads.len())
}
