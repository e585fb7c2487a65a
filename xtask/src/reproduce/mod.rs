//! `cargo xtask reproduce`: the whole study in one resumable command — data, Inception weights,
//! both trainings, heatmap, DP paths, generation, FID/SWD, MSE tests, figures and `REPORT.md`.

mod report;
mod stage;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use lift_analyze::evaluate::{evaluate, EvaluateJob};
use lift_analyze::fid::Resize;
use lift_analyze::heatmap::HeatmapJob;
use lift_analyze::jacobian::Estimator;
use lift_analyze::mse_test::MseJob;
use lift_core::run::{RunDir, Weights};
use lift_core::{run_on, DeviceSpec, LiftConfig, ModelKind, TimestepRule};
use lift_train::run::{train, Dashboard, TrainOptions};
use serde_json::json;

use stage::{Outputs, Stages};

#[derive(Args, Debug, Clone)]
pub struct ReproduceArgs {
    /// smoke (minutes, CI), tiny (the CPU default) or paper (the original recipe, for a GPU).
    #[arg(long, default_value = "tiny")]
    pub preset: String,
    /// cpu, wgpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Image folder to train on [default: the Noto emoji, fetched by the data stage].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Output folder [default: artifacts/<preset>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Sampling seeds [default: the preset's].
    #[arg(long)]
    pub seeds: Option<usize>,
}

/// Stages with nominal durations (seconds on 2 CPU cores for smoke/tiny), for progress estimates.
fn plan(preset: &str) -> Vec<(&'static str, f64)> {
    let t: [f64; 9] = match preset {
        "smoke" => [5.0, 5.0, 10.0, 10.0, 10.0, 60.0, 5.0, 5.0, 1.0],
        "tiny" => [10.0, 20.0, 540.0, 600.0, 200.0, 1000.0, 30.0, 10.0, 1.0],
        _ => [60.0, 60.0, 86_400.0, 86_400.0, 3600.0, 36_000.0, 600.0, 60.0, 1.0],
    };
    let names = ["data", "inception", "train-baseline", "train-lift", "heatmap", "evaluate", "mse", "figures", "report"];
    names.into_iter().zip(t).collect()
}

pub fn run(args: ReproduceArgs) -> Result<()> {
    if !matches!(args.preset.as_str(), "smoke" | "tiny" | "paper") {
        bail!("unknown preset '{}': expected smoke, tiny or paper", args.preset);
    }
    let config_path = PathBuf::from("configs").join(format!("{}.toml", args.preset));
    let mut config = LiftConfig::load(&config_path)?;
    if let Some(seeds) = args.seeds {
        config.study.seeds = seeds;
        config.validate()?;
    }
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("artifacts").join(&args.preset));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let weights: Weights = config.study.weights.parse()?;
    let study = &config.study;
    let header = format!("LIFT study, preset {} on {} → {}", args.preset, args.device, out.display());
    let mut stages = Stages::new(&out, &plan(&args.preset), header);

    // 1. Data.
    let data_stage = stages.run("data", json!({ "data": args.data }), |_| {
        let path = match &args.data {
            Some(p) => p.clone(),
            None => crate::data::fetch(&crate::data::GOOGLE, Path::new("artifacts/data"), false)?,
        };
        let files = lift_train::data::list_images(&path)?;
        let listing: Vec<(String, u64)> = files
            .iter()
            .map(|f| (f.strip_prefix(&path).unwrap_or(f).display().to_string(), f.metadata().map(|m| m.len()).unwrap_or(0)))
            .collect();
        Ok(Outputs { summary: json!({ "path": path, "images": files.len(), "listing_hash": stage::hash_json(&json!(listing)) }), files: vec![] })
    })?;
    let data = PathBuf::from(data_stage.outputs["path"].as_str().context("data path")?);

    // 2. Inception weights.
    let inception = PathBuf::from(lift_analyze::fid::DEFAULT_WEIGHTS);
    stages.run("inception", json!({ "file": inception }), |_| {
        let path = crate::fetch_inception::fetch(&inception)?;
        Ok(Outputs { summary: json!({ "path": path }), files: vec![path] })
    })?;

    // 3–4. Training.
    let mut runs = Vec::new();
    for (name, kind) in [("train-baseline", ModelKind::Baseline), ("train-lift", ModelKind::Lift)] {
        let inputs = json!({ "config": config.model, "schedule": config.schedule, "train": config.train, "model": kind, "data": data_stage.outputs_hash });
        let run_dir = stages.dir(name).join(kind.name());
        let m = stages.run(name, inputs, |_| {
            let info = train(TrainOptions {
                config: config.clone(),
                model: kind,
                data: data.clone(),
                out: run_dir.clone(),
                device: args.device,
                resume: true,
                skip_bad_images: false,
                dashboard: Dashboard::Quiet,
            })?;
            let run = RunDir(run_dir.clone());
            Ok(Outputs {
                summary: json!({ "run": run_dir, "parameters": info.parameters, "epochs": info.epochs_completed, "train_seconds": info.train_seconds }),
                files: vec![run.weights(Weights::Raw), run.weights(Weights::Ema)],
            })
        })?;
        runs.push((run_dir, m));
    }
    let (baseline_run, lift_run) = (runs[0].0.clone(), runs[1].0.clone());

    // 5. Heatmap.
    let heatmap_file = stages.dir("heatmap").join("heatmap.json");
    let heatmap_inputs = json!({ "lift": runs[1].1.outputs_hash, "grid": study.heatmap_grid, "images": study.heatmap_images,
        "probes": study.heatmap_probes, "weights": weights.name(), "seed": config.train.seed });
    let heatmap_stage = stages.run("heatmap", heatmap_inputs, |_| {
        let job = HeatmapJob {
            checkpoint: lift_run.clone(),
            weights,
            out: heatmap_file.clone(),
            grid: study.heatmap_grid.parse()?,
            images: study.heatmap_images,
            probes: study.heatmap_probes,
            seed: config.train.seed,
            data: data.clone(),
            estimator: Estimator::Vjp,
            device: args.device,
            max_batch: 64,
        };
        let map = run_on(args.device, job)??;
        Ok(Outputs { summary: json!({ "file": heatmap_file, "seconds": map.meta.seconds }), files: vec![heatmap_file.clone()] })
    })?;

    // 6. Paths, samples, FID and SWD.
    let eval_dir = stages.dir("evaluate");
    let eval_inputs = json!({ "baseline": runs[0].1.outputs_hash, "lift": runs[1].1.outputs_hash, "heatmap": heatmap_stage.outputs_hash,
        "fid_images": study.fid_images, "real_images": study.real_images, "seeds": study.seeds, "steps": config.sample.steps,
        "max_jump": study.max_jump, "weights": weights.name(), "inception": "inception-2015-12-05", "data": data_stage.outputs_hash });
    stages.run("evaluate", eval_inputs, |dir| {
        let job = EvaluateJob {
            runs: vec![baseline_run.clone(), lift_run.clone()],
            heatmap: Some(heatmap_file.clone()),
            real: data.clone(),
            out: dir.to_path_buf(),
            num_images: study.fid_images,
            real_images: study.real_images,
            seeds: study.seeds,
            protocols: vec![TimestepRule::Reference, TimestepRule::Fair],
            steps: config.sample.steps,
            max_jump: study.max_jump,
            resize: Resize::Bicubic,
            inception: inception.clone(),
            weights,
            device: args.device,
            batch: study.batch,
        };
        let rows = evaluate(&job)?;
        Ok(Outputs { summary: json!({ "rows": rows.len() }), files: vec![dir.join("results.json")] })
    })?;

    // 7. MSE tests.
    let mse_inputs = json!({ "lift": runs[1].1.outputs_hash, "samples": study.mse_samples, "timestep": study.mse_timestep, "weights": weights.name() });
    stages.run("mse", mse_inputs, |dir| {
        let job = MseJob {
            checkpoint: lift_run.clone(),
            weights,
            data: data.clone(),
            timestep: study.mse_timestep,
            samples: study.mse_samples,
            seed: config.train.seed,
            batch: study.batch,
            device: args.device,
        };
        let report = run_on(args.device, job)??;
        lift_core::io::write_json(&dir.join("mse.json"), &report)?;
        report.chart().save(&dir.join("mse.png"))?;
        Ok(Outputs { summary: json!({ "tests": report.tests.len() }), files: vec![dir.join("mse.json")] })
    })?;

    // 8. Figures.
    let figure_inputs = json!({ "hashes": stages.manifests.iter().map(|m| m.outputs_hash.clone()).collect::<Vec<_>>() });
    stages.run("figures", figure_inputs, |dir| report::figures(dir, &heatmap_file, &eval_dir, &stages_dir(&out, "mse"), &config))?;

    // 9. Report.
    let report_inputs = json!({ "hashes": stages.manifests.iter().map(|m| m.outputs_hash.clone()).collect::<Vec<_>>(), "device": args.device.to_string() });
    let manifests = stages.manifests.clone();
    stages.run("report", report_inputs, |_| {
        let path = out.join("REPORT.md");
        let text = report::render(&report::Inputs { preset: &args.preset, config: &config, out: &out, device: args.device, manifests: &manifests })?;
        lift_core::io::write_atomic(&path, text.as_bytes())?;
        Ok(Outputs { summary: json!({ "report": path }), files: vec![path] })
    })?;
    println!("report: {}", out.join("REPORT.md").display());
    Ok(())
}

fn stages_dir(out: &Path, name: &str) -> PathBuf {
    out.join(name)
}
