//! The figures stage: every picture the report shows, drawn from the files the other stages
//! wrote (heatmaps, path files, results, MSE tests, training metrics); nothing is recomputed.

use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;
use lift_analyze::evaluate::ResultRow;
use lift_analyze::heatmap::Heatmap;
use lift_analyze::memorisation::pairs_figure;
use lift_analyze::mse_test::MseReport;
use lift_analyze::plot::{chart, cross_figure, error_figure, sample_grid, training_curves, Axes, Figure, Overlay, Series};
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

/// Writes `figure` as `figures/<name>.png` and `.svg` and lists both in `files`.
fn save(figure: impl Figure, dir: &StudyDir, name: &str, files: &mut Vec<PathBuf>) -> Result<()> {
    files.extend(figure.save(&dir.figure(&format!("{name}.png")))?);
    Ok(())
}

/// Every figure of the report; the charts as PNG (which the report shows) and SVG.
pub fn figures(dir: &StudyDir, config: &LiftConfig) -> Result<Outputs> {
    let rows: Vec<ResultRow> = lift_core::io::read_json(&dir.results())?;
    let view = View { rows: &rows };
    let main = main_snapshot(config, view);
    let map = Heatmap::load(&dir.heatmap(main, 0))?;
    let chain = config.study.chain_rule;
    let mut files = Vec::new();
    save(error_figure(&map, chain, Overlay::palette(&shown_paths(dir, main)?)), dir, "heatmap", &mut files)?;
    save(cross_figure(&map, chain, Vec::new()), dir, "cross", &mut files)?;
    let variants: Vec<(String, PathFile)> = chain_rule_paths(dir, main)?.into_iter().map(|(c, p)| (format!("DP-Total, {c}"), p)).collect();
    save(error_figure(&map, ChainRule::Sl, Overlay::palette(&variants)), dir, "chain-rules", &mut files)?;
    let mse: MseReport = lift_core::io::read_json(&dir.mse())?;
    save(mse.chart(), dir, "mse", &mut files)?;
    for kind in [ModelKind::Baseline, ModelKind::Lift] {
        let rows = metrics_csv::read(&RunDir(dir.run(kind)).metrics())?;
        save(training_curves(&format!("{kind} training"), &rows, config.model.resolution), dir, &format!("curves-{kind}"), &mut files)?;
    }
    let axes = Axes { log_x: false, log_y: false, lines: true, y_label: "FID" };
    for w in view.weights() {
        let curves = series(super::over_training::curves(view, w, super::view::fid));
        save(chart(&format!("FID over training, {w} weights"), "epoch", curves, axes), dir, &format!("fid-{w}"), &mut files)?;
    }
    let points = super::cost_quality::points(&rows, dir, &config.study)?;
    let scatter = Axes { log_x: true, log_y: false, lines: false, y_label: "FID" };
    let cost = series(super::cost_quality::series(&points));
    save(chart("Path cost against FID", "DP cost of the path (total error)", cost, scatter), dir, "cost-fid", &mut files)?;
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
