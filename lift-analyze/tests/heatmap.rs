//! A heatmap computation resumes from its saved rows and gives the same numbers; computed in
//! shards and merged, or on several devices of one process, it equals the unsharded one.

use std::path::PathBuf;

use lift_analyze::heatmap::parts::merge;
use lift_analyze::heatmap::{Heatmap, HeatmapJob};
use lift_analyze::jacobian::Estimator;
use lift_core::run::Weights;
use lift_core::{run_on, DeviceSpec, ModelKind, Shard};

mod common;
use common::{fake_run, png_folder};

#[test]
fn an_interrupted_heatmap_resumes_from_its_rows() {
    let run = fake_run("heatmap", ModelKind::Lift);
    let data = png_folder("heatmap", 6);
    let job = |out: &str| HeatmapJob {
        run: run.clone(),
        weights: Weights::Ema,
        epoch: None,
        out: run.join(out),
        grid: "t-linspace:3".parse().unwrap(),
        images: 2,
        probes: 2,
        seed: 4,
        data: data.clone(),
        estimator: Estimator::Vjp,
        max_batch: 64,
        shard: lift_core::Shard::WHOLE,
    };
    let full = run_on(DeviceSpec::Cpu, job("a.json")).unwrap().unwrap().unwrap();
    assert_eq!(full.len(), 3);
    assert_eq!(Heatmap::load(&run.join("a.json")).unwrap(), full);
    assert!(!run.join("a.json.partial").exists(), "the partial file is removed at the end");

    // A partial file holding the first row (with a marker value) stands for an interrupted run.
    let mut partial: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("a.json")).unwrap()).unwrap();
    let first_row: Vec<serde_json::Value> = (0..3)
        .map(|j| {
            let cell = |b: &str| serde_json::json!({"mean": partial["blocks"][b]["mean"][0][j], "se": partial["blocks"][b]["se"][0][j]});
            serde_json::json!({"hh": {"mean": 123.0, "se": 0.0}, "hl": cell("hl"), "lh": cell("lh"), "ll": cell("ll")})
        })
        .collect();
    let meta = partial["meta"].take();
    let rows = serde_json::json!({ "meta": meta, "rows": [{ "index": 0, "cells": first_row }] });
    std::fs::write(run.join("b.json.partial"), rows.to_string()).unwrap();
    let resumed = run_on(DeviceSpec::Cpu, job("b.json")).unwrap().unwrap().unwrap();
    let (a, b) = (&resumed.blocks, &full.blocks);
    assert_eq!(a.hh.mean[0], vec![123.0; 3], "row 0 comes from the partial file");
    assert_eq!(a.hh.mean[1..], b.hh.mean[1..], "the other rows are computed as before");
    assert_eq!((&a.hl, &a.lh, &a.ll), (&b.hl, &b.lh, &b.ll));
    assert!(b.hl.mean.iter().flatten().all(|v| *v > 0.0), "the cross blocks are computed");
}

#[test]
fn a_heatmap_in_three_shards_merges_into_the_unsharded_one() {
    let run = fake_run("heatmap-shards", ModelKind::Lift);
    let data = png_folder("heatmap-shards", 6);
    let job = |out: &str, shard: Shard, seed: u64| HeatmapJob {
        run: run.clone(),
        weights: Weights::Ema,
        epoch: None,
        out: run.join(out),
        grid: "t-linspace:4".parse().unwrap(),
        images: 2,
        probes: 1,
        seed,
        data: data.clone(),
        estimator: Estimator::Vjp,
        max_batch: 64,
        shard,
    };
    let whole = run_on(DeviceSpec::Cpu, job("whole.json", Shard::WHOLE, 4)).unwrap().unwrap().unwrap();
    let part = |i: usize| Shard { index: i, count: 3 };
    for i in 0..3 {
        assert!(run_on(DeviceSpec::Cpu, job("merged.json", part(i), 4)).unwrap().unwrap().is_none(), "a shard writes a part only");
    }
    let files: Vec<PathBuf> = (0..3).map(|i| run.join(format!("merged.json.part-{i}-of-3"))).collect();
    let merged = merge(&files, &run.join("merged.json")).unwrap();
    assert_eq!((&merged.blocks, &merged.t_grid), (&whole.blocks, &whole.t_grid), "merged parts equal the unsharded heatmap");
    assert_eq!(Heatmap::load(&run.join("merged.json")).unwrap().blocks, whole.blocks);
    let err = |files: &[PathBuf]| merge(files, &run.join("bad.json")).unwrap_err().to_string();
    assert!(err(&files[..2]).contains("2/3 are missing"), "{}", err(&files[..2]));
    assert!(err(&[files[0].clone(), files[1].clone(), files[1].clone(), files[2].clone()]).contains("given twice"));
    run_on(DeviceSpec::Cpu, job("other.json", part(1), 5)).unwrap().unwrap();
    let other = [files[0].clone(), run.join("other.json.part-1-of-3"), files[2].clone()];
    assert!(err(&other).contains("another heatmap job"), "{}", err(&other));
}

/// `heatmap --devices cpu,cpu,cpu` runs a shard per device and merges them into the one-device map.
#[test]
fn a_heatmap_on_three_devices_equals_the_one_device_heatmap() {
    let run = fake_run("heatmap-devices", ModelKind::Lift);
    let data = png_folder("heatmap-devices", 6);
    let heatmap = |out: &str, devices: &[&str]| {
        let (r, d, o) = (run.display().to_string(), data.display().to_string(), run.join(out).display().to_string());
        let mut args = vec!["heatmap", "--grid", "t-linspace:4", "--images", "2", "--probes", "1", "--seed", "4"];
        args.extend(["--weights", "ema", "--run", &r, "--data", &d, "--out", &o]);
        args.extend(devices);
        assert!(common::lift_analyze(&args), "heatmap {devices:?}");
        Heatmap::load(&run.join(out)).unwrap()
    };
    let one = heatmap("one.json", &[]);
    let three = heatmap("three.json", &["--devices", "cpu,cpu,cpu"]);
    assert_eq!((&three.blocks, &three.t_grid), (&one.blocks, &one.t_grid));
    assert!(!run.join("three.json.part-0-of-3").exists(), "merged parts are removed");
}
