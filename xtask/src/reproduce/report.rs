//! Figures and `REPORT.md`: the write-up's tables filled with this run's numbers.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use lift_analyze::evaluate::{results_table, ResultRow};
use lift_analyze::generate::sample_grid;
use lift_analyze::heatmap::Heatmap;
use lift_analyze::mse_test::MseReport;
use lift_analyze::paths::{find_path, PathMode};
use lift_analyze::plot::{heatmap_figure, Overlay};
use lift_core::run::{RunDir, RunInfo};
use lift_core::{DeviceSpec, LiftConfig, NoiseSchedule, PathFile};
use serde_json::json;

use super::stage::{minutes, Manifest, Outputs};

const STRATEGIES: [&str; 4] = ["baseline", "diagonal", "dp-64", "dp-total"];

/// The heatmap with paths, the MSE chart and one sample grid per strategy and protocol.
pub fn figures(dir: &Path, heatmap: &Path, eval: &Path, mse: &Path, config: &LiftConfig) -> Result<Outputs> {
    let map = Heatmap::load(heatmap)?;
    let schedule = NoiseSchedule::new(config.schedule.kind, config.schedule.timesteps);
    let diagonal = find_path(&map, heatmap, PathMode::Diagonal, config.sample.steps, config.study.max_jump, &schedule)?;
    let dp64 = PathFile::load(&eval.join("paths/dp-64-reference.json"), usize::MAX)?;
    let dptotal = PathFile::load(&eval.join("paths/dp-total-reference.json"), usize::MAX)?;
    lift_core::io::write_json(&dir.join("path-diagonal.json"), &diagonal)?;
    let overlays = [
        Overlay { name: "DP-64", path: &dp64, colour: [255, 255, 255], dash: 0 },
        Overlay { name: "DP-Total", path: &dptotal, colour: [230, 40, 40], dash: 0 },
        Overlay { name: "diagonal", path: &diagonal, colour: [0, 200, 255], dash: 6 },
    ];
    let mut files = vec![dir.join("heatmap.png"), dir.join("mse.png")];
    heatmap_figure(&map, &overlays).save(&files[0])?;
    std::fs::copy(mse.join("mse.png"), &files[1]).context("MSE chart")?;
    for strategy in STRATEGIES {
        for protocol in ["reference", "fair"] {
            let samples = sample_dir(eval, strategy, protocol);
            let out = dir.join(format!("samples-{strategy}-{protocol}.png"));
            sample_grid(&samples, &out, 64)?;
            files.push(out);
        }
    }
    Ok(Outputs { summary: json!({ "figures": files.len() }), files })
}

/// Samples of the first seed; runs are evaluated under their folder names, `baseline` and `lift`.
fn sample_dir(eval: &Path, strategy: &str, protocol: &str) -> std::path::PathBuf {
    let run = if strategy == "baseline" { "baseline" } else { "lift" };
    eval.join("samples").join(run).join(format!("{strategy}-{protocol}")).join("seed-0")
}

/// Everything the report reads.
pub struct Inputs<'a> {
    pub preset: &'a str,
    pub config: &'a LiftConfig,
    pub out: &'a Path,
    pub device: DeviceSpec,
    pub manifests: &'a [Manifest],
}

fn manifest<'a>(ms: &'a [Manifest], stage: &str) -> Result<&'a Manifest> {
    ms.iter().find(|m| m.stage == stage).with_context(|| format!("stage {stage} has no manifest"))
}

/// REPORT.md.
pub fn render(i: &Inputs) -> Result<String> {
    let (c, st) = (i.config, &i.config.study);
    let rows: Vec<ResultRow> = lift_core::io::read_json(&i.out.join("evaluate/results.json"))?;
    let mse: MseReport = lift_core::io::read_json(&i.out.join("mse/mse.json"))?;
    let data = manifest(i.manifests, "data")?;
    let lift_info: RunInfo = lift_core::io::read_json(&RunDir(i.out.join("train-lift/lift")).info())?;
    let base_info: RunInfo = lift_core::io::read_json(&RunDir(i.out.join("train-baseline/baseline")).info())?;
    let total: f64 = i.manifests.iter().map(|m| m.seconds).sum();
    let real_n = if st.real_images == 0 { data.outputs["images"].as_u64().unwrap_or(0) as usize } else { st.real_images };
    let r = c.model.resolution;
    let mut s = String::new();
    writeln!(s, "# LIFT study — `{}` preset\n", i.preset)?;
    writeln!(
        s,
        "Device `{}`, git `{}`, {} of stage time in the sessions that finished each stage.\n",
        i.device,
        lift_core::run::git_commit(),
        minutes(total)
    )?;
    writeln!(
        s,
        "Data: `{}` ({} images, {r}×{r} after preprocessing, coarse scale {}×{}). LIFT UNet {} parameters, baseline {}; \
         dims {:?}; {} epochs of batch {} each (lr {}, {} schedule, EMA {}).\n",
        data.outputs["path"].as_str().unwrap_or("?"),
        data.outputs["images"],
        r / 2,
        r / 2,
        lift_info.parameters,
        base_info.parameters,
        c.model.dims,
        lift_info.epochs_completed,
        c.train.batch_size,
        c.train.lr,
        format!("{:?}", c.train.lr_schedule).to_lowercase(),
        c.train.ema_decay
    )?;
    writeln!(s, "## How this run differs from the original protocol\n")?;
    writeln!(s, "- Data: the Noto emoji set (npm emoji-datasource-google 16.0.0) or `--data`, not AFHQv2 (15,803 images).")?;
    writeln!(
        s,
        "- Model and training: dims {:?} at {r}×{r} and {} epochs (original: [64, 128, 256, 512] at 64×64, 400 epochs, EMA 0.9999).",
        c.model.dims, lift_info.epochs_completed
    )?;
    writeln!(
        s,
        "- FID: {} generated images per strategy, protocol and seed against {real_n} real images, {} seed(s) \
         (original: 15,803 vs 15,803, 5 seeds). Below 2,048 images FID is biased upwards; compare rows of this table only.",
        st.fid_images, st.seeds
    )?;
    writeln!(s, "- Heatmap: grid {}, {} images, {} probe(s) per cell (original: t-linspace:30, 16 images, 4 probes).", st.heatmap_grid, st.heatmap_images, st.heatmap_probes)?;
    writeln!(
        s,
        "- Protocols: `reference` keeps the original's quirks (\"{} steps\" = {} evaluations; diagonal and baseline start at {}, \
         DP paths at the grid's first t); `fair` gives every path exactly {} evaluations from t = {}.",
        c.sample.steps,
        lift_core::TimestepRule::Reference.timesteps(c.sample.steps, c.schedule.timesteps).len(),
        lift_core::TimestepRule::Reference.timesteps(c.sample.steps, c.schedule.timesteps)[0],
        c.sample.steps,
        c.schedule.timesteps - 1
    )?;
    writeln!(s, "- Generated images are saved as 16-bit PNGs; FID resizes bicubically (clamped) as the original.\n")?;

    writeln!(s, "## FID per path strategy\n")?;
    writeln!(s, "{}", results_table(&rows))?;
    writeln!(s, "## MSE tests (t = {}, {} samples)\n", mse.timestep, mse.samples)?;
    writeln!(s, "| Test | t64 | t32 | MSE 64x64 | MSE 32x32 | Total |\n|---|---|---|---|---|---|")?;
    for t in &mse.tests {
        writeln!(s, "| Test {} ({}) | {} | {} | {:.4} | {:.4} | {:.4} |", t.name, t.description, t.t64, t.t32, t.mse_64, t.mse_32, t.mse_total)?;
    }
    writeln!(s, "\n## Theoretical error per path (reference protocol, on the heatmap)\n")?;
    writeln!(s, "| Path | Grid points on the path | Cost, 64x64 error | Cost, total error |\n|---|---|---|---|")?;
    let path_files = [
        ("LIFT DP-64", i.out.join("evaluate/paths/dp-64-reference.json")),
        ("LIFT diagonal", i.out.join("figures/path-diagonal.json")),
        ("LIFT DP-Total", i.out.join("evaluate/paths/dp-total-reference.json")),
    ];
    for (name, file) in path_files {
        let p: PathFile = lift_core::io::read_json(&file)?;
        let costs = &p.meta["costs"];
        writeln!(s, "| {name} | {} | {:.4} | {:.4} |", p.timesteps.len(), costs["64"].as_f64().unwrap_or(f64::NAN), costs["total"].as_f64().unwrap_or(f64::NAN))?;
    }
    writeln!(s, "\n## Training\n")?;
    writeln!(s, "| Model | Epochs | Train loss (sum over scales) | Valid loss | EMA valid loss | Images/s | Train time (s) |\n|---|---|---|---|---|---|---|")?;
    for (name, info) in [("Baseline", &base_info), ("LIFT", &lift_info)] {
        let dir = if name == "LIFT" { "train-lift/lift" } else { "train-baseline/baseline" };
        let last = last_metrics(&RunDir(i.out.join(dir)).metrics())?;
        writeln!(s, "| {name} | {} | {:.4} | {:.4} | {:.4} | {:.1} | {:.0} |", info.epochs_completed, last[0], last[3], last[6], last[8], info.train_seconds)?;
    }
    writeln!(s, "\n## Figures\n")?;
    writeln!(s, "Error heatmaps (log₁₀) with the DP-64 (white), DP-Total (red) and diagonal (dashed cyan) paths:\n")?;
    writeln!(s, "![heatmap](figures/heatmap.png)\n\n![MSE tests](figures/mse.png)\n")?;
    for strategy in STRATEGIES {
        for protocol in ["reference", "fair"] {
            writeln!(s, "Samples, {} ({protocol}):\n\n![{strategy} {protocol}](figures/samples-{strategy}-{protocol}.png)\n", lift_analyze::evaluate::strategy_label(strategy))?;
        }
    }
    writeln!(s, "## Wall time per stage\n")?;
    writeln!(s, "| Stage | Seconds |\n|---|---|")?;
    for m in i.manifests {
        writeln!(s, "| {} | {:.1} |", m.stage, m.seconds)?;
    }
    Ok(s)
}

/// The last row of a run's metrics.csv, without the epoch column.
fn last_metrics(csv: &Path) -> Result<Vec<f64>> {
    let text = std::fs::read_to_string(csv).with_context(|| format!("cannot read {}", csv.display()))?;
    let line = text.lines().last().context("empty metrics.csv")?;
    Ok(line.split(',').skip(1).map(|v| v.parse().unwrap_or(f64::NAN)).collect())
}
