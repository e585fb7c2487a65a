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
        checkpoint: run.clone(),
        weights: Weights::Ema,
        out: run.join(out),
        grid: "t-linspace:3".parse().unwrap(),
        images: 2,
        probes: 2,
        seed: 4,
        data: data.clone(),
        estimator: Estimator::Vjp,
        device: DeviceSpec::Cpu,
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
            let se = |m: &str| partial[m][0][j].clone();
            serde_json::json!({"error_64": {"mean": 123.0, "se": se("stderr_64")}, "error_32": {"mean": partial["error_32"][0][j], "se": se("stderr_32")}})
        })
        .collect();
    let meta = partial["meta"].take();
    let rows = serde_json::json!({ "meta": meta, "rows": [{ "index": 0, "cells": first_row }] });
    std::fs::write(run.join("b.json.partial"), rows.to_string()).unwrap();
    let resumed = run_on(DeviceSpec::Cpu, job("b.json")).unwrap().unwrap();
    assert_eq!(resumed.error_64[0], vec![123.0; 3], "row 0 comes from the partial file");
    assert_eq!(resumed.error_64[1..], full.error_64[1..], "the other rows are computed as before");
    assert_eq!(resumed.error_32, full.error_32);
}
