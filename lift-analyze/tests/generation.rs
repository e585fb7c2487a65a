//! Generation along paths: deterministic per seed, resumable, and the fair protocol's equal budgets.

use std::path::Path;

use lift_analyze::generate::{resolve_path, GenerateJob, PathChoice};
use lift_analyze::heatmap::Heatmap;
use lift_analyze::paths::{find_path, PathMode};
use lift_core::run::Weights;
use lift_core::{run_on, DeviceSpec, ModelKind, NoiseSchedule, TimestepRule};

mod common;
use common::fake_run;

fn job(run: &Path, path: PathChoice, out: &Path, n: usize, batch: usize) -> GenerateJob {
    GenerateJob {
        checkpoint: run.to_path_buf(),
        weights: Weights::Ema,
        path,
        num_images: n,
        out: out.to_path_buf(),
        steps: 6,
        protocol: TimestepRule::Reference,
        batch,
        seed: 11,
    }
}

fn bytes(dir: &Path, n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|k| std::fs::read(dir.join(format!("{k:06}.png"))).unwrap()).collect()
}

#[test]
fn generation_is_deterministic_and_resumable() {
    let run = fake_run("det", ModelKind::Lift);
    let (a, b) = (run.join("a"), run.join("b"));
    let report = run_on(DeviceSpec::Cpu, job(&run, PathChoice::Diagonal, &a, 5, 5)).unwrap().unwrap();
    // 1000 div 6 = 166: 996, 830, 664, 498, 332, 166, 0 → 7 evaluations ("N steps" = N + 1).
    assert_eq!(report.evaluations, 7);
    // Another batch size, then a deleted image regenerated on its own: same bytes.
    run_on(DeviceSpec::Cpu, job(&run, PathChoice::Diagonal, &b, 5, 2)).unwrap().unwrap();
    assert_eq!(bytes(&a, 5), bytes(&b, 5));
    std::fs::remove_file(b.join("000003.png")).unwrap();
    let again = run_on(DeviceSpec::Cpu, job(&run, PathChoice::Diagonal, &b, 5, 2)).unwrap().unwrap();
    assert_eq!((again.generated, again.already_there), (1, 4));
    assert_eq!(bytes(&a, 5), bytes(&b, 5));
    // Another seed gives other images.
    let c = run.join("c");
    run_on(DeviceSpec::Cpu, GenerateJob { seed: 12, ..job(&run, PathChoice::Diagonal, &c, 1, 1) }).unwrap().unwrap();
    assert_ne!(bytes(&a, 1), bytes(&c, 1));
    // A folder of another generation is refused instead of mixed.
    let e = run_on(DeviceSpec::Cpu, GenerateJob { seed: 12, ..job(&run, PathChoice::Diagonal, &a, 5, 5) }).unwrap().unwrap_err();
    assert!(e.to_string().contains("another generation"), "{e}");
}

#[test]
fn baseline_runs_sample_one_scale() {
    let run = fake_run("base", ModelKind::Baseline);
    let out = run.join("s");
    let report = run_on(DeviceSpec::Cpu, job(&run, PathChoice::Baseline, &out, 2, 2)).unwrap().unwrap();
    assert_eq!(report.evaluations, 7);
    assert!(run_on(DeviceSpec::Cpu, job(&run, PathChoice::Diagonal, &run.join("x"), 1, 1)).unwrap().is_err());
}

#[test]
fn the_fair_protocol_gives_every_path_the_same_budget() {
    let schedule = NoiseSchedule::reference();
    let steps = 18;
    // A heatmap on the original's grid; the DP paths for the fair protocol take N − 1 steps.
    let map = synthetic_heatmap(30, &schedule);
    let dir = std::env::temp_dir().join(format!("lift-fair-{}", std::process::id()));
    let mut counts = Vec::new();
    for protocol in [TimestepRule::Reference, TimestepRule::Fair] {
        let mut per_path = Vec::new();
        for (name, choice, kind) in [("baseline", PathChoice::Baseline, ModelKind::Baseline), ("diagonal", PathChoice::Diagonal, ModelKind::Lift)] {
            let j = GenerateJob { steps, protocol, ..job(Path::new("unused"), choice, &dir, 1, 1) };
            per_path.push((name.to_string(), resolve_path(&j, kind, 1000).unwrap()));
        }
        for mode in [PathMode::Fine, PathMode::Total] {
            let dp_steps = if protocol == TimestepRule::Fair { steps - 1 } else { steps };
            let file = dir.join(format!("{}-{}.json", mode.name(), protocol.name()));
            lift_core::io::write_json(&file, &find_path(&map, &file, mode, dp_steps, 5, &schedule).unwrap()).unwrap();
            let j = GenerateJob { steps, protocol, ..job(Path::new("unused"), PathChoice::File(file), &dir, 1, 1) };
            per_path.push((mode.name().to_string(), resolve_path(&j, ModelKind::Lift, 1000).unwrap()));
        }
        counts.push(per_path.iter().map(|(n, p)| (n.clone(), p.evaluations(), p.timesteps[0])).collect::<Vec<_>>());
    }
    // Reference: the quirks — 19 evaluations everywhere, diagonal and baseline from 990, DP from 999.
    assert!(counts[0].iter().all(|c| c.1 == 19), "{:?}", counts[0]);
    assert_eq!(counts[0][0].2, [990, 990]);
    assert_eq!(counts[0][2].2, [999, 999]);
    // Fair: exactly 18 evaluations from 999 for every path.
    assert!(counts[1].iter().all(|c| c.1 == 18 && c.2 == [999, 999]), "{:?}", counts[1]);
    // A reference-length DP path is refused under the fair protocol, with the fix in the message.
    let long = dir.join("64-reference.json");
    let j = GenerateJob { steps, protocol: TimestepRule::Fair, ..job(Path::new("unused"), PathChoice::File(long), &dir, 1, 1) };
    let e = resolve_path(&j, ModelKind::Lift, 1000).unwrap_err().to_string();
    assert!(e.contains("--steps 17"), "{e}");
}

fn synthetic_heatmap(n: usize, schedule: &NoiseSchedule) -> Heatmap {
    let grid = lift_analyze::grid::Grid::new(lift_analyze::grid::GridSpec::TLinspace { points: n }, schedule).unwrap();
    let m = |f: &dyn Fn(usize, usize) -> f64| (0..n).map(|i| (0..n).map(|j| f(i, j)).collect()).collect::<Vec<Vec<f64>>>();
    let e64 = m(&|i, j| 1.0 / (1.0 + i as f64) + 0.1 / (1.0 + j as f64));
    let e32 = m(&|i, j| 0.5 / (1.0 + j as f64) + 0.05 / (1.0 + i as f64));
    Heatmap {
        t_grid: grid.t.clone(),
        snr: grid.snr.clone(),
        log_snr: grid.log_snr.clone(),
        error_total: m(&|i, j| e64[i][j] + e32[i][j]),
        error_64: e64.clone(),
        error_32: e32.clone(),
        stderr_64: vec![],
        stderr_32: vec![],
        meta: serde_json::from_value(serde_json::json!({
            "checkpoint": "synthetic", "weights": "ema", "grid": {"kind": "t-linspace", "points": n},
            "images": 0, "probes": 0, "seed": 0, "estimator": "none", "data": "none"
        }))
        .unwrap(),
    }
}
