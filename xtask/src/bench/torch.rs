//! The PyTorch peer: `bench/torch_peer.py`, the same architecture written from the facts.

use std::process::Command;

use lift_core::{DeviceSpec, LiftConfig, ModelKind};

use super::Workload;

/// A python3 that can import torch: the one on PATH, then Debian's.
pub fn python() -> Option<String> {
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .map(String::from)
        .find(|py| Command::new(py).args(["-c", "import torch"]).output().map(|o| o.status.success()).unwrap_or(false))
}

/// The peer's rate for a workload at `threads` in a process of its own (same unit as Burn's), or
/// None (with a warning) if it has none.
pub fn peer(python: &str, config: &LiftConfig, workload: Workload, batch: usize, iters: usize, threads: usize, device: DeviceSpec) -> Option<f64> {
    peer_in_turns(python, config, workload, batch, iters, &[threads], device).map(|r| r[0])
}

/// The peer's rates at several thread counts timed in turns inside one process: what the bench
/// did before 2026-12-06, kept only for [`check_in_turns`].
fn peer_in_turns(python: &str, config: &LiftConfig, workload: Workload, batch: usize, iters: usize, threads: &[usize], device: DeviceSpec) -> Option<Vec<f64>> {
    let (model, mode) = match workload {
        Workload::Forward(m) => (m, "forward"),
        Workload::FwdBwd(m) => (m, "backward"),
        Workload::TrainStep(m) => (m, "train"),
        Workload::Sample(m) => (m, "sample"),
        Workload::HeatmapCell => (ModelKind::Lift, "hutchinson"),
        Workload::Fid => (ModelKind::Lift, "fid"),
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
        .args(["--model", &model.to_string(), "--mode", mode, "--dims", &dims.join(",")])
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

/// Rounds of [`check_in_turns`]: the host's speed drifts by a third within minutes, so both ways
/// are timed in each round and each side's median over the rounds compared.
const CHECK_ROUNDS: usize = 5;
/// Timed steps per process in [`check_in_turns`], at least.
const CHECK_ITERS: usize = 10;

/// Times the peer's training step (LIFT) at `thread_counts` both ways — a process per thread count,
/// and all counts in turns inside one process — in [`CHECK_ROUNDS`] alternating rounds, and says
/// whether the medians agree within 10%. Where they do not, ratios against a peer timed in turns
/// would be biased; the bench's table never is, as [`peer`] takes one thread count.
pub fn check_in_turns(python: &str, config: &LiftConfig, batch: usize, iters: usize, thread_counts: &[usize], device: DeviceSpec) {
    let (workload, iters) = (Workload::TrainStep(ModelKind::Lift), iters.max(CHECK_ITERS));
    let (mut alone, mut turns) = (vec![Vec::new(); thread_counts.len()], vec![Vec::new(); thread_counts.len()]);
    for _ in 0..CHECK_ROUNDS {
        let each: Option<Vec<f64>> = thread_counts.iter().map(|&t| peer(python, config, workload, batch, iters, t, device)).collect();
        let (Some(each), Some(together)) = (each, peer_in_turns(python, config, workload, batch, iters, thread_counts, device)) else {
            return;
        };
        for k in 0..thread_counts.len() {
            alone[k].push(each[k]);
            turns[k].push(together[k]);
        }
    }
    let (alone, turns): (Vec<f64>, Vec<f64>) =
        (alone.into_iter().map(crate::measure::median).collect(), turns.into_iter().map(crate::measure::median).collect());
    let diffs: Vec<f64> = turns.iter().zip(&alone).map(|(t, a)| t / a - 1.0).collect();
    let each: Vec<String> = thread_counts
        .iter()
        .zip(turns.iter().zip(&alone))
        .zip(&diffs)
        .map(|((n, (t, a)), d)| format!("{n} thr {t:.1} vs {a:.1} img/s ({:+.0}%)", 100.0 * d))
        .collect();
    let verdict = match diffs.iter().all(|d| d.abs() <= 0.10) {
        true => "agree within 10%",
        false => "they differ by more than 10% (PyTorch's cost of switching its thread count, or the host's drift); the table above took a process per thread count either way",
    };
    println!(
        "\nPyTorch timed in turns in one process vs a process per thread count ({}, median of {CHECK_ROUNDS} alternating rounds): {}; {verdict}",
        workload.name(),
        each.join(", ")
    );
}
