//! The figures stage: every picture the report shows, drawn from the files the other stages
//! wrote (heatmaps, path files, results, MSE tests, training metrics); nothing is recomputed.

use anyhow::{Context, Result};
use clap::ValueEnum;
use lift_analyze::evaluate::ResultRow;
use lift_analyze::heatmap::Heatmap;
use lift_analyze::memorisation::pairs_figure;
use lift_analyze::plot::{chart, cross_figure, error_figure, sample_grid, training_curves, Axes, Overlay, Series};
use lift_analyze::study_dir::StudyDir;
use lift_core::chain_rule::ChainRule;
use lift_core::metrics_csv;
use lift_core::run::RunDir;
use lift_core::{LiftConfig, ModelKind, PathFile, Snapshot, Strategy, TimestepRule};
use serde_json::json;

use super::stage::Outputs;
use super::view::View;

/// Series colours, one per strategy in the order they appear.
const COLOURS: [[u8; 3]; 8] = [[40, 40, 40], [230, 120, 20], [59, 81, 139], [33, 144, 141], [180, 60, 140], [120, 170, 40], [200, 40, 40], [120, 120, 220]];

/// The snapshot the single-snapshot figures show: the last epoch of the main weights.
pub fn main_snapshot(config: &LiftConfig, view: View) -> Snapshot {
    let weights = config.study.main_weights();
    view.last(weights).unwrap_or(Snapshot { weights, epoch: config.train.epochs })
}

/// The paths drawn on the heatmap: DP-64, DP-Total and the diagonal of heatmap seed 0.
pub fn shown_paths(dir: &StudyDir, at: Snapshot) -> Result<Vec<(String, PathFile)>> {
    let mut shown = Vec::new();
    for s in [Strategy::Dp64, Strategy::DpTotal, Strategy::Diagonal] {
        let file = dir.path(at, 0, s, TimestepRule::Reference);
        if file.exists() {
            shown.push((s.label().to_string(), PathFile::load(&file, usize::MAX)?));
        }
    }
    Ok(shown)
}

/// DP-Total under every chain rule, from heatmap seed 0.
pub fn chain_rule_paths(dir: &StudyDir, at: Snapshot) -> Result<Vec<(ChainRule, PathFile)>> {
    ChainRule::value_variants().iter().map(|&c| Ok((c, PathFile::load(&dir.chain_rule_path(at, 0, c), usize::MAX)?))).collect()
}

fn series(curves: Vec<(Strategy, Vec<(f64, f64)>)>) -> Vec<Series> {
    curves.into_iter().enumerate().map(|(k, (st, points))| Series { name: st.label().into(), points, colour: COLOURS[k % COLOURS.len()] }).collect()
}

/// Every figure of the report.
pub fn figures(dir: &StudyDir, config: &LiftConfig) -> Result<Outputs> {
    let rows: Vec<ResultRow> = lift_core::io::read_json(&dir.results())?;
    let view = View { rows: &rows };
    let main = main_snapshot(config, view);
    let map = Heatmap::load(&dir.heatmap(main, 0))?;
    let chain = config.study.chain_rule;
    let mut files = vec![dir.figure("heatmap.png"), dir.figure("cross.png"), dir.figure("chain-rules.png"), dir.figure("mse.png")];
    error_figure(&map, chain, &Overlay::palette(&shown_paths(dir, main)?)).save(&files[0])?;
    cross_figure(&map, chain, &[]).save(&files[1])?;
    let variants: Vec<(String, PathFile)> = chain_rule_paths(dir, main)?.into_iter().map(|(c, p)| (format!("DP-Total, {c}"), p)).collect();
    error_figure(&map, ChainRule::Sl, &Overlay::palette(&variants)).save(&files[2])?;
    std::fs::copy(dir.mse_chart(), &files[3]).context("MSE chart")?;
    for kind in [ModelKind::Baseline, ModelKind::Lift] {
        let out = dir.figure(&format!("curves-{kind}.png"));
        let rows = metrics_csv::read(&RunDir(dir.run(kind)).metrics())?;
        training_curves(&format!("{kind} training"), &rows, config.model.resolution).save(&out)?;
        files.push(out);
    }
    let axes = Axes { log_x: false, log_y: false, lines: true, y_label: "FID" };
    for w in view.weights() {
        let out = dir.figure(&format!("fid-{w}.png"));
        chart(&format!("FID over training, {w} weights"), "epoch", &series(super::over_training::curves(view, w, super::view::fid)), axes).save(&out)?;
        files.push(out);
    }
    let points = super::cost_quality::points(&rows, dir, &config.study)?;
    let out = dir.figure("cost-fid.png");
    let scatter = Axes { log_x: true, log_y: false, lines: false, y_label: "FID" };
    chart("Path cost against FID", "DP cost of the path (total error, log scale)", &series(super::cost_quality::series(&points)), scatter).save(&out)?;
    files.push(out);
    for r in rows.iter().filter(|r| r.seed == 0 && r.snapshot() == main) {
        let out = dir.figure(&format!("samples-{}-{}.png", r.strategy, r.protocol));
        sample_grid(&r.samples, &out, 64)?;
        files.push(out);
        if let (Some(m), TimestepRule::Reference) = (&r.memorisation, r.protocol) {
            let out = dir.figure(&format!("nearest-{}.png", r.strategy));
            pairs_figure(&r.samples, &m.closest, config.model.resolution, &out)?;
            files.push(out);
        }
    }
    Ok(Outputs { summary: json!({ "figures": files.len() }), files })
}
