//! Generation along paths: deterministic per seed, resumable, shardable (also over the devices
//! of one process), and the fair protocol's equal budgets.

use std::path::{Path, PathBuf};

use lift_analyze::fid::features::FeatureFile;
use lift_analyze::generate::parts::merge;
use lift_analyze::generate::{resolve_route, FeatureSpec, GenerateJob};
use lift_analyze::heatmap::{Block, Blocks, Heatmap};
use lift_analyze::paths::{find_path, path_steps, PathRequest};
use lift_core::chain_rule::ChainRule;
use lift_core::run::Weights;
use lift_core::study::Resize;
use lift_core::{run_on, DeviceSpec, ModelKind, NoiseSchedule, Shard, Strategy, TimestepRule};

mod common;
use common::fake_run;

fn job(run: &Path, strategy: Strategy, out: &Path, n: usize, batch: usize) -> GenerateJob {
    GenerateJob {
        run: run.to_path_buf(),
        weights: Weights::Ema,
        epoch: None,
        strategy,
        path: None,
        num_images: n,
        out: out.to_path_buf(),
        steps: 6,
        protocol: TimestepRule::Reference,
        batch,
        seed: 11,
        bits: lift_analyze::generate::PngBits::Sixteen,
        features: None,
        shard: lift_core::Shard::WHOLE,
    }
}

fn bytes(dir: &Path, n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|k| std::fs::read(dir.join(format!("{k:06}.png"))).unwrap()).collect()
}

#[test]
fn generation_is_deterministic_and_resumable() {
    let run = fake_run("det", ModelKind::Lift);
    let (a, b) = (run.join("a"), run.join("b"));
    let report = run_on(DeviceSpec::Cpu, job(&run, Strategy::Diagonal, &a, 5, 5)).unwrap().unwrap();
    // 1000 div 6 = 166: 996, 830, 664, 498, 332, 166, 0 → 7 evaluations ("N steps" = N + 1).
    assert_eq!(report.evaluations, 7);
    // Another batch size, then a deleted image regenerated on its own: same bytes.
    run_on(DeviceSpec::Cpu, job(&run, Strategy::Diagonal, &b, 5, 2)).unwrap().unwrap();
    assert_eq!(bytes(&a, 5), bytes(&b, 5));
    std::fs::remove_file(b.join("000003.png")).unwrap();
    let again = run_on(DeviceSpec::Cpu, job(&run, Strategy::Diagonal, &b, 5, 2)).unwrap().unwrap();
    assert_eq!((again.generated, again.already_there), (1, 4));
    assert_eq!(bytes(&a, 5), bytes(&b, 5));
    // Another seed gives other images.
    let c = run.join("c");
    run_on(DeviceSpec::Cpu, GenerateJob { seed: 12, ..job(&run, Strategy::Diagonal, &c, 1, 1) }).unwrap().unwrap();
    assert_ne!(bytes(&a, 1), bytes(&c, 1));
    // A folder of another generation is refused instead of mixed.
    let e = run_on(DeviceSpec::Cpu, GenerateJob { seed: 12, ..job(&run, Strategy::Diagonal, &a, 5, 5) }).unwrap().unwrap_err();
    assert!(e.to_string().contains("another generation"), "{e}");
}

/// Three shards of a generation with features, merged: the same images and features as one run.
#[test]
fn a_generation_in_three_shards_merges_into_the_unsharded_one() {
    let Some(inception) = common::inception_weights() else { return };
    let run = fake_run("shards", ModelKind::Lift);
    let (whole, parts) = (run.join("whole"), run.join("parts"));
    let features = Some(FeatureSpec { inception, resize: Resize::BicubicAntialias });
    let with = |out: &Path, shard: Shard| GenerateJob { features: features.clone(), shard, ..job(&run, Strategy::Diagonal, out, 7, 2) };
    run_on(DeviceSpec::Cpu, with(&whole, Shard::WHOLE)).unwrap().unwrap();
    let files: Vec<PathBuf> = (0..3).map(|i| parts.join(format!("generation.part-{i}-of-3.json"))).collect();
    for (index, file) in files.iter().enumerate() {
        run_on(DeviceSpec::Cpu, with(&parts, Shard { index, count: 3 })).unwrap().unwrap();
        assert!(file.exists());
    }
    assert!(merge(&files[1..]).unwrap_err().to_string().contains("0/3 are missing"));
    assert!(merge(&[files[0].clone(), files[0].clone(), files[1].clone(), files[2].clone()]).unwrap_err().to_string().contains("given twice"));
    merge(&files).unwrap();
    assert_eq!(bytes(&whole, 7), bytes(&parts, 7));
    let read = |dir: &Path| std::fs::read(dir.join(FeatureFile::NAME)).unwrap();
    assert_eq!(read(&whole), read(&parts), "merged features equal the unsharded ones bit for bit");
    std::fs::remove_file(parts.join("000005.png")).unwrap();
    assert!(merge(&files).unwrap_err().to_string().contains("000005.png is missing"));
}

/// `generate --devices cpu,cpu` makes the same images as one device, and merges its parts.
#[test]
fn a_generation_on_two_devices_equals_the_one_device_generation() {
    let run = fake_run("gen-devices", ModelKind::Lift);
    let generate = |out: &str, devices: &[&str]| {
        let (run, out) = (run.display().to_string(), run.join(out).display().to_string());
        let mut args = vec!["generate", "--strategy", "diagonal", "--num-images", "5", "--steps", "6", "--batch", "2", "--seed", "11"];
        args.extend(["--weights", "ema", "--run", &run, "--out", &out]);
        args.extend(devices);
        assert!(common::lift_analyze(&args), "generate {devices:?}");
    };
    generate("one", &[]);
    generate("two", &["--devices", "cpu,cpu"]);
    assert_eq!(bytes(&run.join("one"), 5), bytes(&run.join("two"), 5));
    assert!(run.join("two/generation.part-1-of-2.json").exists(), "the parts' record stays beside the images");
}

#[test]
fn baseline_runs_sample_one_scale() {
    let run = fake_run("base", ModelKind::Baseline);
    let out = run.join("s");
    let report = run_on(DeviceSpec::Cpu, job(&run, Strategy::Baseline, &out, 2, 2)).unwrap().unwrap();
    assert_eq!(report.evaluations, 7);
    assert!(run_on(DeviceSpec::Cpu, job(&run, Strategy::Diagonal, &run.join("x"), 1, 1)).unwrap().is_err());
}

#[test]
fn the_32x32_ablations_sample_and_differ_from_the_diagonal() {
    let run = fake_run("ablations", ModelKind::Lift);
    let out = |name: &str| run.join(name);
    let mut images = Vec::new();
    for (name, strategy) in [("d", Strategy::Diagonal), ("r", Strategy::Random32), ("f", Strategy::Fixed32)] {
        let report = run_on(DeviceSpec::Cpu, job(&run, strategy, &out(name), 2, 2)).unwrap().unwrap();
        // The 64×64 scale follows the diagonal's timesteps, labelled the same at both scales.
        assert_eq!(report.evaluations, 7, "{strategy}");
        assert!(report.timesteps.iter().all(|t| t[0] == t[1]), "{strategy}: {:?}", report.timesteps);
        images.push(bytes(&out(name), 2));
    }
    assert_ne!(images[0], images[1]);
    assert_ne!(images[1], images[2]);
    // A strategy needing a path file is refused without one, naming the flag.
    let e = run_on(DeviceSpec::Cpu, job(&run, Strategy::Dp64, &out("x"), 1, 1)).unwrap().unwrap_err().to_string();
    assert!(e.contains("--path"), "{e}");
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
        for strategy in [Strategy::Baseline, Strategy::Diagonal] {
            let j = GenerateJob { steps, protocol, ..job(Path::new("unused"), strategy, &dir, 1, 1) };
            per_path.push((strategy, resolve_route(&j, strategy.model(), 1000).unwrap()));
        }
        for strategy in [Strategy::Dp64, Strategy::DpTotal] {
            let file = dir.join(format!("{strategy}-{protocol}.json"));
            let request = PathRequest { strategy, chain_rule: ChainRule::Sl, steps: path_steps(strategy, protocol, steps, 1000).unwrap(), max_jump: 5 };
            lift_core::io::write_json(&file, &find_path(&map, &file, request, &schedule).unwrap()).unwrap();
            let j = GenerateJob { steps, protocol, path: Some(file), ..job(Path::new("unused"), strategy, &dir, 1, 1) };
            per_path.push((strategy, resolve_route(&j, ModelKind::Lift, 1000).unwrap()));
        }
        counts.push(per_path.iter().map(|(s, p)| (*s, p.evaluations(), p.timesteps()[0])).collect::<Vec<_>>());
    }
    // Reference: the quirks — 19 evaluations everywhere, diagonal and baseline from 990, DP from 999.
    assert!(counts[0].iter().all(|c| c.1 == 19), "{:?}", counts[0]);
    assert_eq!(counts[0][0].2, [990, 990]);
    assert_eq!(counts[0][2].2, [999, 999]);
    // Fair: exactly 18 evaluations from 999 for every path.
    assert!(counts[1].iter().all(|c| c.1 == 18 && c.2 == [999, 999]), "{:?}", counts[1]);
    // A reference-length DP path is refused under the fair protocol, with the fix in the message.
    let long = dir.join("dp-64-reference.json");
    let j = GenerateJob { steps, protocol: TimestepRule::Fair, path: Some(long.clone()), ..job(Path::new("unused"), Strategy::Dp64, &dir, 1, 1) };
    let e = resolve_route(&j, ModelKind::Lift, 1000).unwrap_err().to_string();
    assert!(e.contains("--steps 17"), "{e}");
    // A path file of another strategy is refused.
    let j = GenerateJob { steps, path: Some(long), ..job(Path::new("unused"), Strategy::DpTotal, &dir, 1, 1) };
    assert!(resolve_route(&j, ModelKind::Lift, 1000).unwrap_err().to_string().contains("not dp-total"));
}

fn synthetic_heatmap(n: usize, schedule: &NoiseSchedule) -> Heatmap {
    let grid = lift_core::grid::Grid::new(lift_core::grid::GridSpec::TLinspace { points: n }, schedule).unwrap();
    let m = |f: &dyn Fn(usize, usize) -> f64| (0..n).map(|i| (0..n).map(|j| f(i, j)).collect()).collect::<Vec<Vec<f64>>>();
    let block = |f: &dyn Fn(usize, usize) -> f64| Block { mean: m(f), se: m(&|_, _| 0.0) };
    Heatmap {
        t_grid: grid.t.clone(),
        snr: grid.snr.clone(),
        log_snr: grid.log_snr.clone(),
        blocks: Blocks {
            hh: block(&|i, j| 1.0 / (1.0 + i as f64) + 0.1 / (1.0 + j as f64)),
            hl: block(&|_, _| 0.01),
            lh: block(&|_, _| 0.01),
            ll: block(&|i, j| 0.5 / (1.0 + j as f64) + 0.05 / (1.0 + i as f64)),
        },
        meta: serde_json::from_value(serde_json::json!({
            "checkpoint": "synthetic", "weights": "ema", "grid": format!("t-linspace:{n}"),
            "images": 0, "probes": 0, "seed": 0, "estimator": "none", "data": "none"
        }))
        .unwrap(),
    }
}
