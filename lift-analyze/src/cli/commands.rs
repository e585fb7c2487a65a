//! One function per `lift-analyze` subcommand: arguments (defaults from the run's study config)
//! become a job, the job runs on the chosen device, the result is written and summarised.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lift_core::run::{RunDir, RunInfo};
use lift_core::study::{HeatmapSeeds, StudyConfig};
use lift_core::{run_on, Devices, LiftConfig, ModelKind, NoiseSchedule, PathFile};

use super::args::*;
use crate::evaluate::{evaluate as evaluate_all, results_table, EvaluateJob};
use crate::fid::kid::{kid, SUBSETS as KID_SUBSETS, SUBSET_SIZE as KID_SUBSET_SIZE};
use crate::fid::prdc::{Balls, Prdc, DC_NEIGHBOURS, PR_NEIGHBOURS};
use crate::fid::{frechet_distance, FeatureJob, FeatureProtocol, Stats, DIM};
use crate::generate::GenerateJob;
use crate::heatmap::{Heatmap, HeatmapJob};
use crate::images::folder_planes;
use crate::inspect as inspection;
use crate::mse_test::MseJob;
use crate::paths::{find_path, write_study_paths, PathRequest};
use crate::plot::{cross_figure, error_figure, sample_grid, Figure, Overlay};
use crate::study_dir::StudyDir;
use crate::sweep::Sweep;
use crate::torch_export::ExportJob;
use crate::torch_import::{import, ImportJob};

/// `--shard` is one cluster node's part: it runs on one device.
fn one_device_for_a_shard(devices: &Devices) -> Result<()> {
    if devices.len() > 1 {
        bail!("--shard I/N runs on one device, not {devices}: give one --device, or drop --shard to split over the list");
    }
    Ok(())
}

/// The `[study]` section of a run's config.
fn study_of(run: &Path) -> Result<StudyConfig> {
    Ok(RunDir(run.to_path_buf()).load()?.0.study)
}

pub fn inspect(config: &Path, json: bool) -> Result<()> {
    let report = inspection::inspect(&LiftConfig::load(config)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", inspection::render(&report));
    }
    Ok(())
}

pub fn schedule(config: Option<&Path>, json: bool) -> Result<()> {
    let schedule = match config {
        Some(path) => LiftConfig::load(path)?.schedule.build(),
        None => NoiseSchedule::reference(),
    };
    let table = inspection::schedule_table(&schedule);
    if json {
        println!("{}", serde_json::to_string(&table)?);
    } else {
        println!("{:>5} {:>14} {:>16} {:>12}", "t", "alpha_bar", "snr", "log_snr");
        for r in table {
            println!("{:>5} {:>14.10} {:>16.8} {:>12.6}", r.t, r.alpha_bar, r.snr, r.log_snr);
        }
    }
    Ok(())
}

pub fn heatmap(a: HeatmapArgs) -> Result<()> {
    let st = study_of(&a.run.run)?;
    let data = a.data.folder(&a.run.run)?;
    let job = HeatmapJob {
        run: a.run.run,
        weights: a.run.weights.unwrap_or(st.main_weights()),
        epoch: a.run.epoch,
        out: a.out.clone(),
        grid: a.grid.unwrap_or(st.heatmap_grid),
        images: a.images.unwrap_or(st.heatmap_images),
        probes: a.probes.unwrap_or(st.heatmap_probes),
        seed: a.run.seed,
        data,
        estimator: a.estimator,
        max_batch: a.max_batch,
        shard: a.shard,
    };
    let devices = &a.run.device;
    if a.shard.is_whole() {
        let map = crate::heatmap::parts::compute_on(job, devices)?;
        println!("heatmap {}×{} on {devices} in {:.0} device-s → {}", map.len(), map.len(), map.meta.seconds, a.out.display());
    } else {
        one_device_for_a_shard(devices)?;
        run_on(devices.main(), job)??;
        println!("part {} of the heatmap → {}", a.shard, crate::heatmap::compute::partial_path(&a.out, a.shard).display());
    }
    Ok(())
}

pub fn merge(a: MergeArgs) -> Result<()> {
    if a.parts.iter().all(|p| crate::generate::parts::is_generation_part(p)) {
        let (dir, n) = crate::generate::parts::merge(&a.parts)?;
        println!("{} parts, {n} images → {}", a.parts.len(), dir.display());
        return Ok(());
    }
    let out = match &a.out {
        Some(out) => out.clone(),
        None => {
            let name = a.parts[0].to_string_lossy();
            let stem = name.rsplit_once(".part-").map(|(s, _)| s.to_string()).context("--out: the part's name does not end in .part-I-of-N")?;
            PathBuf::from(stem)
        }
    };
    let map = crate::heatmap::parts::merge(&a.parts, &out)?;
    println!("{} parts, heatmap {}×{} → {}", a.parts.len(), map.len(), map.len(), out.display());
    Ok(())
}

pub fn dp(a: DpArgs) -> Result<()> {
    let map = Heatmap::load(&a.heatmap)?;
    let config = a.config.as_deref().map(LiftConfig::load).transpose()?;
    let schedule = config.as_ref().map_or_else(NoiseSchedule::reference, |c| c.schedule.build());
    // The original's steps and max jump without a config.
    let steps = a.steps.or(config.as_ref().map(|c| c.sample.steps)).unwrap_or(lift_core::config::SampleConfig::ORIGINAL_STEPS);
    let max_jump = a.max_jump.or(config.as_ref().map(|c| c.study.max_jump)).unwrap_or(StudyConfig::default().max_jump);
    let request = PathRequest { strategy: a.strategy, chain_rule: a.chain_rule, steps, max_jump };
    let path = find_path(&map, &a.heatmap, request, &schedule)?;
    lift_core::io::write_json(&a.out, &path)?;
    println!("{} path ({}), {} evaluations, cost {:.6} → {}", a.strategy, a.chain_rule, path.timesteps.len(), path.cost, a.out.display());
    Ok(())
}

pub fn plot(a: PlotArgs) -> Result<()> {
    let map = Heatmap::load(&a.heatmap)?;
    let files: Vec<(String, PathFile)> = a.paths.iter().map(|(n, p)| Ok((n.clone(), PathFile::load(p, usize::MAX)?))).collect::<Result<_>>()?;
    let overlays = Overlay::palette(&files);
    let figure = if a.cross { cross_figure(&map, a.chain_rule, overlays) } else { error_figure(&map, a.chain_rule, overlays) };
    let [png, svg] = figure.save(&a.out)?;
    println!("figure → {} and {}", png.display(), svg.display());
    Ok(())
}

pub fn mse_test(a: MseArgs) -> Result<()> {
    let st = study_of(&a.run.run)?;
    let data = a.data.folder(&a.run.run)?;
    let job = MseJob {
        run: a.run.run,
        weights: a.run.weights.unwrap_or(st.mse_weights),
        data,
        timestep: a.timestep.unwrap_or(st.mse_timestep),
        samples: a.images.unwrap_or(st.mse_samples),
        protocol: a.protocol.unwrap_or(st.mse_protocol),
        seed: a.run.seed,
        batch: a.batch.unwrap_or(st.batch),
    };
    let report = run_on(a.run.device.main(), job)??;
    lift_core::io::write_json(&a.out.join("mse.json"), &report)?;
    lift_core::io::write_atomic(&a.out.join("mse.md"), report.markdown().as_bytes())?;
    report.chart().save(&a.out.join("mse.png"))?;
    print!("{}", report.markdown());
    Ok(())
}

pub fn generate(a: GenerateArgs) -> Result<()> {
    let (config, _) = RunDir(a.run.run.clone()).load()?;
    let st = config.study;
    let strategy = match (a.strategy, &a.path) {
        (Some(s), _) => s,
        (None, Some(p)) => PathFile::load(p, usize::MAX)?.meta.strategy,
        (None, None) => bail!("give --strategy (baseline, diagonal, random32, fixed32) or --path FILE"),
    };
    let job = GenerateJob {
        run: a.run.run,
        weights: a.run.weights.unwrap_or(st.main_weights()),
        epoch: a.run.epoch,
        strategy,
        path: a.path,
        num_images: a.num_images,
        out: a.out.clone(),
        steps: a.steps.unwrap_or(config.sample.steps),
        protocol: a.protocol.unwrap_or(config.sample.protocol),
        batch: a.batch.unwrap_or(st.batch),
        seed: a.run.seed,
        bits: a.bits,
        features: None,
        shard: a.shard,
    };
    let report = match a.shard.is_whole() {
        true => crate::generate::parts::generate_on(job, &a.run.device)?,
        false => {
            one_device_for_a_shard(&a.run.device)?;
            run_on(a.run.device.main(), job)??
        }
    };
    println!(
        "{} model evaluations per image; generated {} ({} already there) in {:.1} s ({:.2} images/s) → {}",
        report.evaluations,
        report.generated,
        report.already_there,
        report.seconds,
        report.images_per_s,
        a.out.display()
    );
    if let Some(grid) = a.grid_png {
        sample_grid(&a.out, &grid, 64)?;
    }
    Ok(())
}

pub fn fid(a: FidArgs) -> Result<()> {
    let resolution = match a.resolution {
        Some(r) => r,
        None => crate::fid::folder_resolution(&a.fake)?,
    };
    let job = FeatureJob { weights: a.inception, files: vec![], resolution, resize: a.resize, batch: a.batch, label: "fid".into() };
    let protocol = FeatureProtocol { resize: a.resize, resolution };
    let real_features = crate::fid::features_of(&a.real, &job, a.device)?;
    let real = match &real_features {
        Some(f) => Stats { protocol: Some(protocol), ..Stats::from_features(f, DIM)? },
        None => {
            let stats = Stats::load(&a.real)?;
            stats.check_protocol(protocol, &format!("--real {}", a.real.display()))?;
            stats
        }
    };
    if let Some(path) = &a.save_stats {
        real.save(path)?;
        println!("real statistics ({} images, {protocol}) → {}", real.n, path.display());
    }
    let fake_features = crate::fid::features_of(&a.fake, &job, a.device)?.with_context(|| format!("--fake {}: give a folder of images", a.fake.display()))?;
    let fake = Stats::from_features(&fake_features, DIM)?;
    for (name, s) in [("real", &real), ("fake", &fake)] {
        if s.n > 0 && s.n < DIM {
            eprintln!("warning: {name} has {} images, fewer than 2048: FID is biased upwards and not comparable across N", s.n);
        }
    }
    println!("FID: {}", frechet_distance(&real, &fake));
    let Some(real_features) = real_features else {
        println!("KID, precision, recall, density and coverage need the real images' features: give --real a folder");
        return Ok(());
    };
    match kid(&real_features, &fake_features, DIM, KID_SUBSETS, KID_SUBSET_SIZE, 0) {
        Ok(k) => println!("KID×10³: {:.4} ± {:.4} ({} subsets of {})", k.mean * 1e3, k.std * 1e3, k.subsets, k.subset_size),
        Err(e) => println!("KID: {e}"),
    }
    match Balls::study(&real_features, DIM).and_then(|balls| Prdc::of(&balls, &fake_features)) {
        Ok(p) => println!(
            "precision {:.4}, recall {:.4} (k = {PR_NEIGHBOURS}); density {:.4}, coverage {:.4} (k = {DC_NEIGHBOURS})",
            p.precision, p.recall, p.density, p.coverage
        ),
        Err(e) => println!("precision, recall, density and coverage: {e}"),
    }
    Ok(())
}

pub fn swd(a: SwdArgs) -> Result<()> {
    let resolution = crate::fid::folder_resolution(&a.fake)?;
    let real = folder_planes(&a.real, resolution, a.images)?;
    let fake = folder_planes(&a.fake, resolution, a.images)?;
    let report = crate::swd::swd(&real, &fake, a.seed)?;
    for (r, v) in report.resolutions.iter().zip(&report.swd_x1e3) {
        println!("SWD x1e3 at {r}x{r}: {v:.3}");
    }
    println!("SWD x1e3 (mean over levels, {} images): {:.3}", report.images, report.mean_x1e3);
    Ok(())
}

/// The snapshot a heatmap's `weights` names: `ema` (the final weights, epoch `epochs`) or `ema@400`.
fn heatmap_snapshot(weights: &str, epochs: usize) -> Result<lift_core::Snapshot> {
    let (w, epoch) = match weights.split_once('@') {
        Some((w, e)) => (w, e.parse().context("the heatmap's weights name a bad epoch")?),
        None => (weights, epochs),
    };
    Ok(lift_core::Snapshot { weights: w.parse()?, epoch })
}

/// The run whose heatmaps give the paths: LIFT's, or a single-output ablation's when it is
/// evaluated alone (its DP-64 path comes from its own fine-block heatmap).
#[allow(clippy::type_complexity)]
fn swept_run<'a>(configs: &'a [(LiftConfig, RunInfo)], runs: &'a [PathBuf]) -> Result<Option<(&'a (LiftConfig, RunInfo), &'a PathBuf)>> {
    let with = |f: fn(ModelKind) -> bool| configs.iter().zip(runs).filter(move |((_, i), _)| f(i.model));
    let ablations: Vec<_> = with(ModelKind::is_single_output).collect();
    let lift = with(|k| k == ModelKind::Lift).next();
    if ablations.len() + lift.is_some() as usize > 1 {
        bail!(
            "{} and {} would share this folder's heatmaps and paths: evaluate each single-t or no-t run with its own --out",
            ablations[0].1.display(),
            lift.map_or(ablations[ablations.len() - 1].1, |l| l.1).display()
        );
    }
    Ok(lift.or(ablations.first().copied()))
}

pub fn evaluate(a: EvaluateArgs) -> Result<()> {
    let _lock = lift_core::lock::FolderLock::acquire(&a.out, "lift-analyze evaluate")?;
    // The LIFT run's config (the first run when there is none) gives the study settings.
    let configs: Vec<(LiftConfig, _)> = a.runs.iter().map(|r| RunDir(r.clone()).load()).collect::<Result<_>>()?;
    let config = configs.iter().find(|(_, i)| i.model == lift_core::ModelKind::Lift).unwrap_or(&configs[0]).0.clone();
    let mut study = config.study.clone();
    if !a.strategies.is_empty() {
        study.strategies = a.strategies;
    }
    if !a.protocols.is_empty() {
        study.protocols = a.protocols;
    }
    study.fid_images = a.num_images.unwrap_or(study.fid_images);
    study.real_images = a.real_images.unwrap_or(study.real_images);
    study.real_subset = a.real_subset.unwrap_or(study.real_subset);
    study.seeds = a.seeds.unwrap_or(study.seeds);
    study.fid_resize = a.resize.unwrap_or(study.fid_resize);
    if !a.weights.is_empty() {
        study.weights = a.weights;
    }
    study.eval_epochs = a.eval_epochs.unwrap_or(study.eval_epochs);
    study.batch = a.batch.unwrap_or(study.batch);
    let steps = a.steps.unwrap_or(config.sample.steps);
    let dir = StudyDir(a.out.clone());
    let swept = swept_run(&configs, &a.runs)?;
    match (a.heatmap.len(), swept) {
        (0, Some(((_, info), run))) if study.strategies.iter().any(|s| s.needs_heatmap()) => {
            // No heatmap given: every snapshot gets its own, as the study protocol says. A bad
            // Inception file fails before that work, not after it.
            crate::fid::torchscript::read_conv_layers(&a.inception).with_context(|| format!("Inception weights {}", a.inception.display()))?;
            let sweep = Sweep { dir: &dir, run: run.clone(), data: info.dataset.path.clone(), study: &study, epochs: info.epochs_completed };
            sweep.heatmaps(&a.device)?;
            sweep.paths(steps, &config.schedule.build())?;
        }
        (0, _) => study.strategies.retain(|s| !s.needs_heatmap()),
        (n, swept) => {
            study.heatmap_seeds = match n {
                1 => HeatmapSeeds::Shared,
                n if n == study.seeds => HeatmapSeeds::PerSeed,
                n => bail!("--heatmap given {n} times: give one (shared by all seeds) or one per seed ({})", study.seeds),
            };
            let epochs = swept.map(|((_, info), _)| info.epochs_completed).context("--heatmap needs a LIFT (or single-t, no-t) run among --runs")?;
            // The heatmaps name the weights they were computed from: those are the snapshot evaluated.
            let maps: Vec<Heatmap> = a.heatmap.iter().map(|f| Heatmap::load(f)).collect::<Result<_>>()?;
            let snapshot = heatmap_snapshot(&maps[0].meta.weights, epochs).with_context(|| format!("{}", a.heatmap[0].display()))?;
            if maps.iter().any(|m| m.meta.weights != maps[0].meta.weights) {
                bail!("the --heatmap files were computed from different weights: give one snapshot's heatmaps");
            }
            (study.weights, study.eval_epochs) = (vec![snapshot.weights], lift_core::EpochSpec::List(vec![snapshot.epoch]));
            for (seed, file) in a.heatmap.iter().enumerate() {
                write_study_paths(&dir, snapshot, seed, file, &study, steps, &config.schedule.build())?;
            }
        }
    }
    let real = match a.real {
        Some(real) => real,
        None => {
            let (_, info) = configs.iter().find(|(_, i)| i.model == lift_core::ModelKind::Lift).unwrap_or(&configs[0]);
            println!("real images: {} (the run's training folder; --real to change)", info.dataset.path.display());
            info.dataset.path.clone()
        }
    };
    let job = EvaluateJob { dir, runs: a.runs, real, study, steps, inception: a.inception, devices: a.device };
    let rows = evaluate_all(&job)?;
    print!("{}", results_table(&rows));
    println!("results: {}", job.dir.results().display());
    Ok(())
}

pub fn import_torch(a: ImportTorchArgs) -> Result<()> {
    let job = ImportJob { checkpoint: a.checkpoint, model: a.model, config: a.config, out: a.out.clone(), check: a.check };
    let report = import(&job)?;
    print!("{report}");
    println!("run folder → {}", a.out.display());
    Ok(())
}

pub fn export(a: ExportArgs) -> Result<()> {
    let report = crate::torch_export::export(&ExportJob { run: a.run, format: a.format, out: a.out.clone(), weights: a.weights })?;
    for (which, prefix) in &report.sets {
        let under = if prefix.is_empty() { "bare state-dict keys".to_string() } else { prefix.clone() };
        println!("{which}: {} tensors, {} parameters of the {} model under {under}", report.tensors, report.parameters, report.model);
    }
    println!("{:?} export → {}", a.format, a.out.display());
    Ok(())
}

pub fn plot_metrics(run: &Path, out: &Path) -> Result<()> {
    let dir = RunDir(run.to_path_buf());
    let (config, info) = dir.load()?;
    let rows = lift_core::metrics_csv::read(&dir.metrics())?;
    if rows.is_empty() {
        bail!("{} has no finished epoch yet", dir.metrics().display());
    }
    let [png, svg] = crate::plot::training_curves(&format!("{} training ({} epochs)", info.model, rows.len()), &rows, config.model.resolution).save(out)?;
    println!("curves → {} and {}", png.display(), svg.display());
    Ok(())
}
