//! Figures and `REPORT.md`: the write-up's tables filled with this run's numbers, read through
//! [`StudyDir`] and the typed files of each stage.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use lift_analyze::evaluate::{mean_std, results_table, ResultRow};
use lift_analyze::fidelity_table::fidelity_table;
use lift_analyze::mse_test::MseReport;
use lift_analyze::study_dir::StudyDir;
use lift_analyze::super_resolve::{SrReport, SR_FIGURE, SR_JSON};
use lift_core::metrics_csv::{self, IMAGES_PER_S, TRAIN_LOSS, VALID_EMA_LOSS, VALID_LOSS};
use lift_core::run::{RunDir, RunInfo};
use lift_core::study::StudyConfig;
use lift_core::{Devices, LiftConfig, ModelKind, PathFile, Snapshot, Strategy, TimestepRule};

use super::budget::Sizing;
use super::figures::{chain_rule_paths, main_snapshot, shown_paths};
use super::stage::{minutes, Manifest};
use super::view::{name, View};

/// Everything the report reads.
pub struct Inputs<'a> {
    pub preset: &'a str,
    pub config: &'a LiftConfig,
    pub dir: &'a StudyDir,
    pub device: &'a Devices,
    pub manifests: &'a [Manifest],
    /// What `--budget` bought, when it sized the study.
    pub sizing: Option<&'a Sizing>,
}

fn manifest<'a>(ms: &'a [Manifest], stage: &str) -> Result<&'a Manifest> {
    ms.iter().find(|m| m.stage == stage).with_context(|| format!("stage {stage} has no manifest"))
}

/// REPORT.md.
pub fn render(i: &Inputs) -> Result<String> {
    let rows: Vec<ResultRow> = lift_core::io::read_json(&i.dir.results())?;
    let mse: MseReport = lift_core::io::read_json(&i.dir.mse())?;
    let view = View { rows: &rows };
    let main = main_snapshot(i.config, view);
    let mut s = String::new();
    header(&mut s, i)?;
    let mut claims = super::seed_claims::claims(view, main, &mse);
    claims.extend(super::later_claims::claims(view, i.dir, &i.config.study, main)?);
    super::claims::section(&mut s, &claims, &view.snapshots());
    super::over_training::section(&mut s, view);
    super::cost_quality::section(&mut s, &super::cost_quality::points(&rows, i.dir, &i.config.study)?);
    let nearest: Vec<(String, String)> = view
        .strategies()
        .into_iter()
        .filter(|st| i.dir.figure(&format!("nearest-{st}.png")).exists())
        .map(|st| (format!("{} ({})", st.label(), name(main)), format!("figures/nearest-{st}.png")))
        .collect();
    super::memorisation_section::section(&mut s, view, &nearest);
    writeln!(s, "## FID and KID per path strategy, every snapshot and protocol\n")?;
    writeln!(s, "Mean ± std (ddof 0) over seeds.\n\n{}", results_table(&rows))?;
    writeln!(s, "## Precision, recall, density and coverage\n")?;
    writeln!(
        s,
        "On the FID features, as the authors' `prdc` package computes them: precision and recall at k = 3 (Kynkäänniemi et al. 2019), \
         density and coverage at k = 5 (Naeem et al. 2020); mean ± std (ddof 0) over seeds, – where a set has 5 images or fewer.\n\n{}",
        fidelity_table(&rows)
    )?;
    cost_variants(&mut s, i, &rows, main)?;
    writeln!(s, "## MSE tests (t = {}, {} images, {} protocol, {} weights)\n", mse.timestep, mse.samples, mse.protocol, mse.weights)?;
    writeln!(s, "{}", mse.markdown())?;
    let sr: SrReport = lift_core::io::read_json(&i.dir.super_resolution().join(SR_JSON))?;
    writeln!(s, "## Super-resolution\n\n{}", sr.markdown())?;
    writeln!(s, "Columns: the coarse input (enlarged), bicubic, LIFT, the real image.\n\n![super-resolution](sr/{SR_FIGURE})\n")?;
    path_costs(&mut s, i.dir, main)?;
    chain_rules(&mut s, i.dir, main)?;
    training(&mut s, i)?;
    writeln!(s, "## Figures ({})\n", name(main))?;
    writeln!(s, "Errors (log₁₀, {} chain rule, heatmap seed 0) with the DP paths and the diagonal:\n", i.config.study.chain_rule)?;
    writeln!(s, "![heatmap](figures/heatmap.png)\n")?;
    writeln!(s, "The four Jacobian blocks on one colour scale (cross-scale blocks HL, LH beside HH, LL):\n\n![cross-scale Jacobians](figures/cross.png)\n")?;
    writeln!(s, "DP-Total paths under each chain rule, drawn on the sl errors:\n\n![chain rules](figures/chain-rules.png)\n")?;
    writeln!(s, "![MSE tests](figures/mse.png)\n")?;
    writeln!(s, "Training curves (train, valid and EMA-valid loss; per scale for LIFT):\n")?;
    writeln!(s, "![baseline curves](figures/curves-baseline.png) ![LIFT curves](figures/curves-lift.png)\n")?;
    for r in rows.iter().filter(|r| r.seed == 0 && r.snapshot() == main) {
        writeln!(
            s,
            "Samples, {} ({}):\n\n![{} {}](figures/samples-{}-{}.png)\n",
            r.strategy.label(),
            r.protocol,
            r.strategy,
            r.protocol,
            r.strategy,
            r.protocol
        )?;
    }
    let ablations_ran = i.manifests.iter().any(|m| m.stage == lift_analyze::study_dir::ABLATIONS);
    writeln!(s, "## Ablations: single-output models\n\n{}", super::ablations::section(i.dir, ablations_ran)?)?;
    super::peer::section(&mut s, i.dir, &rows)?;
    writeln!(s, "## Wall time and memory per stage\n")?;
    writeln!(s, "| Stage | Seconds | Peak RSS (MiB) | Commit |\n|---|---|---|---|")?;
    for m in i.manifests {
        let memory = m.peak_rss_mib.map_or_else(|| "–".to_string(), |m| format!("{m:.0}"));
        writeln!(s, "| {} | {:.1} | {memory} | {} |", m.stage, m.seconds, m.git_commit)?;
    }
    Ok(s)
}

fn header(s: &mut String, i: &Inputs) -> Result<()> {
    let (c, st) = (i.config, &i.config.study);
    let commit = lift_core::run::git_commit();
    let total: f64 = i.manifests.iter().map(|m| m.seconds).sum();
    let data = manifest(i.manifests, "data")?;
    let info = |kind: ModelKind| -> Result<RunInfo> { lift_core::io::read_json(&RunDir(i.dir.run(kind)).info()) };
    let (lift, base) = (info(ModelKind::Lift)?, info(ModelKind::Baseline)?);
    let r = c.model.resolution;
    writeln!(s, "# LIFT study — `{}` preset\n", i.preset)?;
    writeln!(s, "Device `{}`, git `{commit}`, {} of stage time in the sessions that finished each stage.\n", i.device, minutes(total))?;
    if let Some(b) = i.sizing {
        budget(s, b, st)?;
    }
    let older: Vec<String> = i.manifests.iter().filter(|m| m.git_commit != commit).map(|m| format!("{} ({})", m.stage, m.git_commit)).collect();
    if !older.is_empty() {
        writeln!(s, "Reused from older commits with the same code identity and inputs: {}.\n", older.join(", "))?;
    }
    writeln!(
        s,
        "Data: `{}` ({} images, {r}×{r} after preprocessing, coarse scale {c2}×{c2}). LIFT UNet {} parameters, baseline {}; \
         dims {:?}; {} epochs of batch {} each (lr {}, {} schedule, EMA {}).\n",
        data.outputs["path"].as_str().unwrap_or("?"),
        data.outputs["images"],
        lift.parameters,
        base.parameters,
        c.model.dims,
        lift.epochs_completed,
        c.train.batch_size,
        c.train.lr,
        format!("{:?}", c.train.lr_schedule).to_lowercase(),
        c.train.ema_decay,
        c2 = c.model.coarse_resolution(),
    )?;
    differences(s, i, data, &lift)
}

/// What the budget bought, measured and chosen.
fn budget(s: &mut String, b: &Sizing, st: &StudyConfig) -> Result<()> {
    let r = b.rates;
    writeln!(
        s,
        "Sized for a budget of {} on this machine. Measured: training {:.1} (baseline) and {:.1} (LIFT) images/s, \
             {:.2} s per heatmap cell, {:.0} image-evaluations/s sampling, {:.1} images/s through Inception. Chosen: {} epochs, \
             evaluated at epochs {} with the weights {}, {} images per sample set, {} seeds, heatmaps {}, strategies {}, protocols {}; \
             planned {} training, {} heatmaps, {} generation and features.\n",
        minutes(b.budget.seconds),
        r.train_baseline,
        r.train_lift,
        r.heatmap_cell,
        r.sample,
        r.inception,
        b.epochs,
        st.eval_epochs.resolve(b.epochs).map(|e| e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", ")).unwrap_or_default(),
        st.weights.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(" and "),
        b.fid_images,
        b.seeds,
        b.heatmap_seeds,
        b.strategies.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "),
        b.protocols.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
        minutes(b.planned[0]),
        minutes(b.planned[1]),
        minutes(b.planned[2])
    )?;
    Ok(())
}

/// The section on how this run's protocol differs from the original's.
fn differences(s: &mut String, i: &Inputs, data: &Manifest, lift: &RunInfo) -> Result<()> {
    let (c, st) = (i.config, &i.config.study);
    let r = c.model.resolution;
    let rule = |p: TimestepRule| p.timesteps(c.sample.steps, c.schedule.timesteps).expect("validated config");
    writeln!(s, "## How this run differs from the original protocol\n")?;
    let source = match data.inputs["subset"].as_str() {
        Some(subset) => format!("the Noto emoji (npm emoji-datasource-google 16.0.0), subset `{subset}`"),
        None => "the folder given with `--data`".to_string(),
    };
    writeln!(s, "- Data: {source}, not AFHQv2 (15,803 images).")?;
    writeln!(
        s,
        "- Model and training: dims {:?} at {r}×{r} and {} epochs (original: [64, 128, 256, 512] at 64×64, 400 epochs, EMA 0.9999).",
        c.model.dims, lift.epochs_completed
    )?;
    writeln!(
        s,
        "- Held out: {} of the {} images never train (validation loss, memorisation threshold); the original trains on every image.",
        lift.dataset.valid_images, lift.dataset.images
    )?;
    writeln!(
        s,
        "- Sweep: epochs {} for the {} weights, each snapshot with its own heatmap(s) and paths, {} seed(s) each (original: every 200 epochs \
         to 2,000, raw weights with 5 seeds and EMA with one).",
        st.eval_epochs,
        st.weights.iter().map(|w| w.to_string()).collect::<Vec<_>>().join(" and "),
        st.seeds
    )?;
    writeln!(
        s,
        "- FID: {} generated images per strategy, protocol and seed against {} real images ({} of the data set), {} seed(s); \
         {} resize, features from the sampler's floats (original: 15,803 vs the first 15,803, 5 seeds). \
         Below 2,048 images FID is biased upwards; compare rows of this table only.",
        st.fid_images,
        match (st.real_images, data.outputs["images"].as_u64()) {
            (0, _) => "all".to_string(),
            (n, Some(images)) if n as u64 >= images => format!("all {images}"),
            (n, _) => n.to_string(),
        },
        st.real_subset,
        st.seeds,
        st.fid_resize
    )?;
    writeln!(
        s,
        "- Heatmap: grid {}, {} images, {} probe(s) per cell, {} heatmap(s) ({}) (original: t-linspace:30, 16 images, 4 probes, one per seed).",
        st.heatmap_grid,
        st.heatmap_images,
        st.heatmap_probes,
        st.heatmap_seed_list().len(),
        st.heatmap_seeds
    )?;
    writeln!(
        s,
        "- Protocols: `reference` keeps the original's quirks (\"{} steps\" = {} evaluations; diagonal and baseline start at {}, \
         DP paths at the grid's first t); `fair` gives every path exactly {} evaluations from t = {}.\n",
        c.sample.steps,
        rule(TimestepRule::Reference).len(),
        rule(TimestepRule::Reference)[0],
        c.sample.steps,
        c.schedule.timesteps - 1
    )?;
    Ok(())
}

/// The cross-Jacobian cost variants: each DP objective's path costs and FID (reference protocol).
fn cost_variants(s: &mut String, i: &Inputs, rows: &[ResultRow], at: Snapshot) -> Result<()> {
    let variants: Vec<Strategy> = Strategy::COST_VARIANTS.into_iter().filter(|v| i.config.study.strategies.contains(v)).collect();
    if variants.is_empty() {
        return Ok(());
    }
    writeln!(s, "## DP cost variants with the cross-scale blocks ({}, reference protocol, heatmap seed 0)\n", name(at))?;
    writeln!(s, "| Path | Objective cost | Cost, fine error | Cost, total error | FID |\n|---|---|---|---|---|")?;
    for v in variants {
        let p = PathFile::load(&i.dir.path(at, 0, v, TimestepRule::Reference), usize::MAX)?;
        let fid: Vec<f64> = rows.iter().filter(|r| r.strategy == v && r.protocol == TimestepRule::Reference && r.snapshot() == at).map(|r| r.fid).collect();
        let fid = if fid.is_empty() { "–".to_string() } else { mean_std(&fid, 2) };
        writeln!(s, "| {} | {:.4} | {:.4} | {:.4} | {fid} |", v.label(), p.cost, p.meta.costs.fine, p.meta.costs.total)?;
    }
    writeln!(s)?;
    Ok(())
}

/// The write-up's "theoretical error" per path.
fn path_costs(s: &mut String, dir: &StudyDir, at: Snapshot) -> Result<()> {
    writeln!(s, "## Theoretical error per path ({}, reference protocol, heatmap seed 0)\n", name(at))?;
    writeln!(s, "| Path | Grid points on the path | Cost, fine error | Cost, total error |\n|---|---|---|---|")?;
    for (label, p) in shown_paths(dir, at)? {
        writeln!(s, "| {label} | {} | {:.4} | {:.4} |", p.timesteps.len(), p.meta.costs.fine, p.meta.costs.total)?;
    }
    writeln!(s)?;
    Ok(())
}

/// The DP-Total path under each chain-rule factor, from the same stored heatmap (γ_A standard,
/// γ_B sl, γ_C dx-dlambda, γ_D dx0-dlambda).
fn chain_rules(s: &mut String, dir: &StudyDir, at: Snapshot) -> Result<()> {
    writeln!(s, "## Chain-rule variants of DP-Total ({}, heatmap seed 0, same Jacobians)\n", name(at))?;
    writeln!(s, "| Path | (t fine, t coarse) at steps 0, N/4, N/2, 3N/4, N | Objective cost |\n|---|---|---|")?;
    for (c, p) in chain_rule_paths(dir, at)? {
        let n = p.timesteps.len() - 1;
        let picks: Vec<String> = [0, n / 4, n / 2, 3 * n / 4, n].iter().map(|&k| format!("({}, {})", p.timesteps[k][0], p.timesteps[k][1])).collect();
        writeln!(s, "| DP-Total, {c} | {} | {:.4} |", picks.join(" "), p.cost)?;
    }
    writeln!(s)?;
    Ok(())
}

fn training(s: &mut String, i: &Inputs) -> Result<()> {
    writeln!(s, "## Training\n")?;
    writeln!(s, "| Model | Epochs | Train loss (sum over scales) | Valid loss | EMA valid loss | Images/s (median epoch) | Train time (s) |\n|---|---|---|---|---|---|---|")?;
    for kind in [ModelKind::Baseline, ModelKind::Lift] {
        let run = RunDir(i.dir.run(kind));
        let info: RunInfo = lift_core::io::read_json(&run.info())?;
        let rows = metrics_csv::read(&run.metrics())?;
        let last = rows.last().with_context(|| format!("{} has no epochs", run.metrics().display()))?;
        let v = |k: &str| metrics_csv::value(last, k);
        // The last epoch's rate is one moment of a machine whose speed drifts.
        let rate = crate::measure::median(rows.iter().map(|r| metrics_csv::value(r, IMAGES_PER_S)).collect());
        writeln!(
            s,
            "| {kind} | {} | {:.4} | {:.4} | {:.4} | {:.1} | {:.0} |",
            info.epochs_completed,
            v(TRAIN_LOSS),
            v(VALID_LOSS),
            v(VALID_EMA_LOSS),
            rate,
            info.train_seconds
        )?;
    }
    writeln!(s)?;
    Ok(())
}
