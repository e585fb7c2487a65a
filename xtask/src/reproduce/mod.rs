//! `cargo xtask reproduce`: the whole study in one resumable command — data, Inception weights,
//! both trainings, heatmaps, paths, generation, FID/SWD, MSE tests, figures and `REPORT.md`, in
//! the folder tree of [`StudyDir`].

mod ablations;
mod args;
mod budget;
mod claims;
mod cost_quality;
mod figures;
mod later_claims;
mod memorisation_section;
mod over_training;
mod peer;
mod report;
mod seed_claims;
mod stage;
#[cfg(test)]
mod test_rows;
mod view;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lift_analyze::evaluate::{evaluate, EvaluateJob};
use lift_analyze::mse_test::MseJob;
use lift_analyze::study_dir::{StudyDir, ABLATION_STAGES};
use lift_analyze::super_resolve::{panels_figure, SuperResolveJob, FIGURE_ROWS, SR_FIGURE, SR_JSON};
use lift_analyze::sweep::Sweep;
use lift_core::run::{RunDir, Weights};
use lift_core::{run_on, DeviceSpec, Devices, LiftConfig, ModelKind, TimestepRule};
use lift_train::run::{train, Dashboard, Resume, TrainOptions};
use serde_json::json;

pub use args::{Preset, ReproduceArgs, DEFAULT_BUDGET};
use stage::{forced_stages, CodeIdentity, Crate, Job, Outputs, StageSpec, Stages};

const TRAINING: &[Crate] = &[Crate::LiftCpu, Crate::LiftCore, Crate::LiftTrain];
const ANALYSIS: &[Crate] = &[Crate::LiftCpu, Crate::LiftCore, Crate::LiftAnalyze];
const EVERYTHING: &[Crate] = &[Crate::LiftCpu, Crate::LiftCore, Crate::LiftTrain, Crate::LiftAnalyze, Crate::Xtask];

/// The stages, their dependencies and code, with nominal durations (seconds on 2 CPU cores for
/// smoke and tiny) for the progress estimate.
fn stage_list(preset: Preset, peer: bool, ablations: bool) -> Vec<StageSpec> {
    let t: [f64; 11] = match preset {
        Preset::Smoke => [5.0, 5.0, 10.0, 10.0, 10.0, 1.0, 60.0, 5.0, 5.0, 5.0, 1.0],
        Preset::Tiny => [10.0, 20.0, 540.0, 600.0, 200.0, 1.0, 1000.0, 30.0, 30.0, 10.0, 1.0],
        Preset::Paper => [60.0, 60.0, 86_400.0, 86_400.0, 18_000.0, 10.0, 36_000.0, 600.0, 600.0, 60.0, 1.0],
    };
    let s = |name, k: usize, deps, code| StageSpec { name, nominal: t[k], deps, code };
    let mut report_deps = vec!["data", "train-baseline", "train-lift", "heatmap", "paths", "evaluate", "mse", "sr", "figures"];
    let mut stages = vec![
        s("data", 0, &[], &[Crate::Xtask]),
        s("inception", 1, &[], &[Crate::Xtask]),
        s("train-baseline", 2, &["data"], TRAINING),
        s("train-lift", 3, &["data"], TRAINING),
        s("heatmap", 4, &["data", "train-lift"], ANALYSIS),
        s("paths", 5, &["heatmap"], ANALYSIS),
        s("evaluate", 6, &["data", "inception", "train-baseline", "train-lift", "paths"], ANALYSIS),
        s("mse", 7, &["data", "train-lift"], ANALYSIS),
        s("sr", 8, &["data", "train-lift"], ANALYSIS),
        s("figures", 9, &["heatmap", "paths", "evaluate", "mse"], ANALYSIS),
    ];
    if peer {
        stages.push(StageSpec { name: "peer", nominal: t[2], deps: &["data", "inception", "train-baseline", "evaluate"], code: ANALYSIS });
        report_deps.push("peer");
    }
    if ablations {
        const SWEEP_DEPS: &[&str] = &["data", "inception", ABLATION_STAGES[0], ABLATION_STAGES[1], "evaluate"];
        let [single_t, no_t, sweep] = ABLATION_STAGES;
        stages.push(s(single_t, 3, &["data"], TRAINING));
        stages.push(s(no_t, 3, &["data"], TRAINING));
        stages.push(StageSpec { name: sweep, nominal: t[4] + t[6], deps: SWEEP_DEPS, code: EVERYTHING });
        report_deps.push(sweep);
    }
    // Built once per command: leaking the short list gives it the 'static lifetime specs have.
    stages.push(s("report", 10, report_deps.leak(), EVERYTHING));
    stages
}

/// Everything the stages share.
struct Study<'a> {
    args: &'a ReproduceArgs,
    config: LiftConfig,
    dir: StudyDir,
    data: PathBuf,
    inception: PathBuf,
    /// The devices each heatmap is split over.
    heatmap_devices: Devices,
}

pub fn run(mut args: ReproduceArgs) -> Result<()> {
    let budget = match (args.preset, args.budget) {
        (None, None) => Some(DEFAULT_BUDGET.parse()?),
        (_, b) => b,
    };
    let preset = *args.preset.get_or_insert(Preset::Tiny);
    let mut config = starting_config(&args, preset)?;
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    let name = match budget {
        Some(b) => format!("{preset}-{}", b.label()),
        None => preset.to_string(),
    };
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("artifacts").join(&name));
    let _lock = lift_core::lock::FolderLock::acquire(&out, "cargo xtask reproduce")?;
    let forced = forced_stages(&stage_list(preset, args.peer, args.ablations), &args.rerun)?;
    let header = format!("LIFT study, preset {name} on {} → {}", args.device, out.display());
    let mut stages = Stages::new(&out, stage_list(preset, args.peer, args.ablations), CodeIdentity::of_this_build(), forced, header);
    let data = data_stage(&mut stages, &args, preset)?;
    let inception = inception_stage(&mut stages)?;
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let sizing = match budget {
        Some(b) => {
            let images = lift_core::data::ImageSet::load(&data, config.model.resolution, false)?;
            let sizing = budget::load_or_probe(&out.join(budget::FILE), &config, b, &images, args.device.main(), jobs >= 2)?;
            config = sizing.apply(&config);
            plan_seconds(&mut stages, &sizing);
            Some(sizing)
        }
        None => None,
    };
    // Training keeps the snapshots the sweep evaluates.
    config.train.snapshot_epochs = config.study.eval_epochs.clone();
    config.validate()?;
    let args = &args;
    // On one CPU, --jobs N splits each heatmap over N workers as a list of CPU devices would
    // (same results; 61 -> 43 s here). Sample sets stay whole: split, they gained nothing per image
    // (uneven shards of whole batches, Inception scaling well anyway) and doubled the peak memory.
    let heatmap_devices = match args.device.len() == 1 && args.device.main() == DeviceSpec::Cpu && jobs >= 2 {
        true => Devices::cpu_workers(jobs),
        false => args.device.clone(),
    };
    let study = Study { args, config, dir: StudyDir(out.clone()), data, inception, heatmap_devices };
    let side_by_side = jobs >= 2 || args.device.len() >= 2;
    train_pair(&mut stages, &study, [ModelKind::Baseline, ModelKind::Lift], side_by_side)?;
    heatmap_stage(&mut stages, &study)?;
    paths_stage(&mut stages, &study)?;
    evaluate_stage(&mut stages, &study)?;
    mse_stage(&mut stages, &study)?;
    sr_stage(&mut stages, &study)?;
    stages.run("figures", json!({}), |_| figures::figures(&study.dir, &study.config))?;
    if args.peer {
        peer::peer_stage(&mut stages, &study)?;
    }
    if args.ablations {
        train_pair(&mut stages, &study, ModelKind::ABLATIONS, side_by_side)?;
        ablations::ablations_stage(&mut stages, &study)?;
    }
    let manifests = stages.manifests.clone();
    stages.run("report", json!({ "device": args.device.to_string(), "preset": name }), |_| {
        let path = study.dir.report();
        let text = report::render(&report::Inputs {
            preset: &name,
            config: &study.config,
            dir: &study.dir,
            device: &args.device,
            manifests: &manifests,
            sizing: sizing.as_ref(),
        })?;
        lift_core::io::write_atomic(&path, text.as_bytes())?;
        Ok(Outputs { summary: json!({ "report": path }), files: vec![path] })
    })?;
    println!("report: {}", study.dir.report().display());
    Ok(())
}

/// The config the study starts from: the preset's file or `--config`, then `--set` and `--seeds`.
fn starting_config(args: &ReproduceArgs, preset: Preset) -> Result<LiftConfig> {
    let file = args.config.clone().unwrap_or_else(|| PathBuf::from("configs").join(format!("{preset}.toml")));
    let mut config = LiftConfig::load(&file)?.with_overrides(&args.sets)?;
    if let Some(seeds) = args.seeds {
        config.study.seeds = seeds;
        config.validate()?;
    }
    Ok(config)
}

/// The stages' nominal seconds from what the budget planned.
fn plan_seconds(stages: &mut Stages, sizing: &budget::Sizing) {
    // The planned seconds cover the two trainings together, side by side or one after the
    // other; the peer trains one model on every core, about as long as the two together.
    let [training, heatmaps, evaluation] = sizing.planned;
    let nominal = [("train-baseline", training / 2.0), ("train-lift", training / 2.0), ("heatmap", heatmaps), ("evaluate", evaluation), ("peer", training)];
    for (stage, seconds) in nominal {
        stages.set_nominal(stage, seconds);
    }
}

fn inception_stage(stages: &mut Stages) -> Result<PathBuf> {
    let inception = PathBuf::from(lift_analyze::fid::DEFAULT_WEIGHTS);
    stages.run("inception", json!({ "file": inception }), |_| {
        let path = crate::fetch_inception::fetch(&inception)?;
        Ok(Outputs { summary: json!({ "path": path }), files: vec![path] })
    })?;
    Ok(inception)
}

fn data_stage(stages: &mut Stages, args: &ReproduceArgs, preset: Preset) -> Result<PathBuf> {
    let subset = args.subset.unwrap_or(preset.subset());
    let inputs = match &args.data {
        Some(p) => json!({ "data": p }),
        None => json!({ "data": null, "subset": subset }),
    };
    let m = stages.run("data", inputs, |_| {
        let path = match &args.data {
            Some(p) => p.clone(),
            None => crate::data::fetch(&crate::data::GOOGLE, Path::new("artifacts/data"), subset)?,
        };
        let files = lift_core::data::list_images(&path)?;
        let listing: Vec<(String, u64)> =
            files.iter().map(|f| (f.strip_prefix(&path).unwrap_or(f).display().to_string(), f.metadata().map(|m| m.len()).unwrap_or(0))).collect();
        Ok(Outputs { summary: json!({ "path": path, "images": files.len(), "listing_hash": stage::hash_json(&json!(listing)) }), files: vec![] })
    })?;
    Ok(PathBuf::from(m.outputs["path"].as_str().context("data path")?))
}

/// Trains two models, side by side (each on half the devices or cores) or one after the other.
fn train_pair(stages: &mut Stages, study: &Study, kinds: [ModelKind; 2], side_by_side: bool) -> Result<()> {
    let halves = study.args.device.halves();
    let [a, b] = [0, 1].map(|k| train_job(study, kinds[k], halves[k].clone()));
    if side_by_side {
        return stages.run_parallel(vec![a, b]);
    }
    for (name, inputs, work) in [a, b] {
        stages.run(name, inputs, work)?;
    }
    Ok(())
}

fn train_job<'a>(study: &'a Study, kind: ModelKind, devices: Devices) -> Job<'a> {
    let c = &study.config;
    let run_dir = study.dir.run(kind);
    let inputs = json!({ "model": c.model, "schedule": c.schedule, "train": c.train, "kind": kind });
    let name = match kind {
        ModelKind::Baseline => "train-baseline",
        ModelKind::Lift => "train-lift",
        ModelKind::SingleT => ABLATION_STAGES[0],
        ModelKind::NoT => ABLATION_STAGES[1],
    };
    (
        name,
        inputs,
        Box::new(move |_: &Path| {
            let info = train(TrainOptions {
                config: c.clone(),
                model: kind,
                data: study.data.clone(),
                out: run_dir.clone(),
                devices,
                resume: Resume::Latest,
                skip_bad_images: false,
                dashboard: Dashboard::Quiet,
                tensorboard: None,
            })?;
            let run = RunDir(run_dir.clone());
            let mut files = vec![run.config(), run.info(), run.metrics()];
            for w in [Weights::Raw, Weights::Ema] {
                files.push(run.weights(w));
                files.extend(run.snapshot_epochs().into_iter().map(|e| run.snapshot(w, e)));
            }
            Ok(Outputs {
                summary: json!({ "run": run_dir, "parameters": info.parameters, "epochs": info.epochs_completed, "train_seconds": info.train_seconds }),
                files,
            })
        }),
    )
}

/// The sweep of the LIFT run: every snapshot's heatmaps and paths.
fn sweep<'a>(study: &'a Study<'a>) -> Sweep<'a> {
    let c = &study.config;
    Sweep { dir: &study.dir, run: study.dir.run(ModelKind::Lift), data: study.data.clone(), study: &c.study, epochs: c.train.epochs }
}

fn heatmap_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let st = &study.config.study;
    let inputs = json!({ "grid": st.heatmap_grid, "images": st.heatmap_images, "probes": st.heatmap_probes,
        "snapshots": sweep(study).snapshots()?, "seeds": st.heatmap_seed_list() });
    stages.run("heatmap", inputs, |_| {
        let files = sweep(study).heatmaps(&study.heatmap_devices)?;
        Ok(Outputs { summary: json!({ "heatmaps": files.len() }), files })
    })?;
    Ok(())
}

fn paths_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let (c, st) = (&study.config, &study.config.study);
    let inputs = json!({ "strategies": st.strategies, "protocols": st.protocols, "chain_rule": st.chain_rule,
        "max_jump": st.max_jump, "steps": c.sample.steps, "schedule": c.schedule });
    stages.run("paths", inputs, |_| {
        let files = sweep(study).paths(c.sample.steps, &c.schedule.build())?;
        Ok(Outputs { summary: json!({ "paths": files.len() }), files })
    })?;
    Ok(())
}

fn evaluate_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let c = &study.config;
    let inputs = json!({ "study": c.study, "steps": c.sample.steps, "inception": "inception-2015-12-05" });
    stages.run("evaluate", inputs, |_| {
        let job = EvaluateJob {
            dir: study.dir.clone(),
            runs: vec![study.dir.run(ModelKind::Baseline), study.dir.run(ModelKind::Lift)],
            real: study.data.clone(),
            study: c.study.clone(),
            steps: c.sample.steps,
            inception: study.inception.clone(),
            devices: study.args.device.clone(),
        };
        let rows = evaluate(&job)?;
        let mut files = vec![study.dir.results(), study.dir.results_table()];
        for r in &rows {
            files.extend(stage::files_under(&r.samples)?);
        }
        Ok(Outputs { summary: json!({ "rows": rows.len() }), files })
    })?;
    Ok(())
}

fn mse_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let (c, st) = (&study.config, &study.config.study);
    let inputs = json!({ "samples": st.mse_samples, "timestep": st.mse_timestep, "protocol": st.mse_protocol, "weights": st.mse_weights });
    stages.run("mse", inputs, |_| {
        let job = MseJob {
            run: study.dir.run(ModelKind::Lift),
            weights: st.mse_weights,
            data: study.data.clone(),
            timestep: st.mse_timestep,
            samples: st.mse_samples,
            protocol: st.mse_protocol,
            seed: c.train.seed,
            batch: st.batch,
        };
        let report = run_on(study.args.device.main(), job)??;
        lift_core::io::write_json(&study.dir.mse(), &report)?;
        Ok(Outputs { summary: json!({ "tests": report.tests.len() }), files: vec![study.dir.mse()] })
    })?;
    Ok(())
}

/// The LIFT model as a super-resolver against bicubic (main weights, final epoch).
fn sr_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let (c, st) = (&study.config, &study.config.study);
    let images = st.sr_images.min(lift_core::data::list_images(&study.data)?.len());
    let inputs = json!({ "images": images, "weights": st.main_weights(), "steps": c.sample.steps });
    stages.run("sr", inputs, |_| {
        let job = SuperResolveJob {
            run: study.dir.run(ModelKind::Lift),
            weights: st.main_weights(),
            epoch: None,
            data: study.data.clone(),
            images,
            steps: c.sample.steps,
            protocol: TimestepRule::Fair,
            seed: c.train.seed,
            batch: st.batch,
        };
        let (report, panels) = run_on(study.args.device.main(), job)??;
        let dir = study.dir.super_resolution();
        let files = [dir.join(SR_JSON), dir.join(SR_FIGURE)];
        lift_core::io::write_json(&files[0], &report)?;
        panels_figure(&panels, report.resolution, FIGURE_ROWS, &files[1])?;
        Ok(Outputs { summary: json!({ "images": report.images.len() }), files: files.into() })
    })?;
    Ok(())
}
