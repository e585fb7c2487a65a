//! `lift-analyze sample`: images along a strategy's path in one command. For a heatmap strategy
//! the run's heatmap is computed once into the output folder (and reused by later calls), the
//! strategy's path found through it, and the images made along it; every setting (grid, images,
//! probes, steps, protocol, chain rule, max jump, weights, data, batch) comes from the run's
//! config. The images are 8-bit PNGs unless `--bits 16`.

use std::path::PathBuf;

use anyhow::Result;
use lift_core::run::RunDir;
use lift_core::{LiftConfig, Shard, Weights};

use super::args::SampleArgs;
use crate::generate::GenerateJob;
use crate::heatmap::compute::DEFAULT_MAX_BATCH;
use crate::heatmap::{Heatmap, HeatmapJob};
use crate::jacobian::Estimator;
use crate::paths::{find_path, PathRequest};
use crate::plot::sample_grid;

/// Runs `lift-analyze sample`.
pub fn sample(a: SampleArgs) -> Result<()> {
    let (config, _) = RunDir(a.run.run.clone()).load()?;
    let weights = a.run.weights.unwrap_or(config.study.main_weights());
    let path = match a.strategy.needs_heatmap() {
        true => Some(path_of(&a, &config, weights)?),
        false => None,
    };
    let images = a.out.join("images");
    let job = GenerateJob {
        run: a.run.run.clone(),
        weights,
        epoch: a.run.epoch,
        strategy: a.strategy,
        path,
        num_images: a.num_images,
        out: images.clone(),
        steps: config.sample.steps,
        protocol: config.sample.protocol,
        batch: a.batch.unwrap_or(config.study.batch),
        seed: a.run.seed,
        bits: a.bits,
        features: None,
        shard: Shard::WHOLE,
    };
    let report = crate::generate::parts::generate_on(job, &a.run.device)?;
    let grid = a.out.join("grid.png");
    sample_grid(&images, &grid, 64)?;
    println!(
        "{} along {} ({} {} steps, {} model evaluations per image): {} made, {} already there → {}, {}",
        a.strategy,
        if a.strategy.needs_heatmap() { "its DP path" } else { "its fixed timesteps" },
        config.sample.steps,
        config.sample.protocol,
        report.evaluations,
        report.generated,
        report.already_there,
        images.display(),
        grid.display()
    );
    Ok(())
}

/// The strategy's path file in `--out`, from the run's heatmap of these weights (computed when
/// `--out` does not hold it yet).
fn path_of(a: &SampleArgs, config: &LiftConfig, weights: Weights) -> Result<PathBuf> {
    let st = &config.study;
    let epoch = a.run.epoch.map_or_else(|| "final".to_string(), |e| format!("e{e}"));
    let heatmap = a.out.join(format!("heatmap-{weights}-{epoch}-seed{}.json", a.run.seed));
    if heatmap.exists() {
        println!("heatmap: {} (computed before)", heatmap.display());
    } else {
        let job = HeatmapJob {
            run: a.run.run.clone(),
            weights,
            epoch: a.run.epoch,
            out: heatmap.clone(),
            grid: st.heatmap_grid,
            images: st.heatmap_images,
            probes: st.heatmap_probes,
            seed: a.run.seed,
            data: a.data.folder(&a.run.run)?,
            estimator: Estimator::default(),
            max_batch: DEFAULT_MAX_BATCH,
            shard: Shard::WHOLE,
        };
        crate::heatmap::parts::compute_on(job, &a.run.device)?;
        println!("heatmap: {} ({}, {} images, {} probes)", heatmap.display(), st.heatmap_grid, st.heatmap_images, st.heatmap_probes);
    }
    let map = Heatmap::load(&heatmap)?;
    let request = PathRequest { strategy: a.strategy, chain_rule: st.chain_rule, steps: config.sample.steps, max_jump: st.max_jump };
    let path = find_path(&map, &heatmap, request, &config.schedule.build())?;
    let file = a.out.join(format!("path-{}.json", a.strategy));
    lift_core::io::write_json(&file, &path)?;
    println!("path: {} ({} chain rule, cost {:.6})", file.display(), st.chain_rule, path.cost);
    Ok(file)
}
