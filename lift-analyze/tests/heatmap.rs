//! A heatmap computation resumes from its saved rows and gives the same numbers.

use lift_analyze::heatmap::{Heatmap, HeatmapJob};
use lift_analyze::jacobian::Estimator;
use lift_core::run::Weights;
use lift_core::{run_on, DeviceSpec, ModelKind};

mod common;
use common::{fake_run, png_folder};

#[test]
fn an_interrupted_heatmap_resumes_from_its_rows() {
    let run = fake_run("heatmap", ModelKind::Lift);
    let data = png_folder("heatmap", 6);
    let job = |out: &str| HeatmapJob {
        run: run.clone(),
        weights: Weights::Ema,
        out: run.join(out),
        grid: "t-linspace:3".parse().unwrap(),
        images: 2,
        probes: 2,
        seed: 4,
        data: data.clone(),
        estimator: Estimator::Vjp,
        max_batch: 64,
    };
    let full = run_on(DeviceSpec::Cpu, job("a.json")).unwrap().unwrap();
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
    let resumed = run_on(DeviceSpec::Cpu, job("b.json")).unwrap().unwrap();
    let (a, b) = (&resumed.blocks, &full.blocks);
    assert_eq!(a.hh.mean[0], vec![123.0; 3], "row 0 comes from the partial file");
    assert_eq!(a.hh.mean[1..], b.hh.mean[1..], "the other rows are computed as before");
    assert_eq!((&a.hl, &a.lh, &a.ll), (&b.hl, &b.lh, &b.ll));
    assert!(b.hl.mean.iter().flatten().all(|v| *v > 0.0), "the cross blocks are computed");
}
