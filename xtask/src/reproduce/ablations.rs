//! `reproduce --ablations`: the original's single-output ablation models (`later-experiments.md`
//! §4), trained with LIFT's recipe and epochs by their own stages, then each swept as LIFT is
//! (a fine-block heatmap per snapshot and heatmap seed, its DP-64 and diagonal paths) and
//! evaluated; the table sets diagonal against DP-64 per model and snapshot, LIFT's rows beside.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use lift_analyze::evaluate::{evaluate, in_order, mean_std, EvaluateJob, ResultRow};
use lift_analyze::study_dir::{StudyDir, ABLATIONS};
use lift_analyze::sweep::Sweep;
use lift_core::study::StudyConfig;
use lift_core::{ModelKind, Snapshot, Strategy, TimestepRule};
use serde_json::json;

use super::figures::main_snapshot;
use super::stage::{self, Outputs, Stages};
use super::view::View;
use super::Study;

/// The study an ablation model is swept and evaluated under: the main one's snapshots, seeds,
/// protocols and image counts, with the two strategies these models can follow.
fn ablation_study(main: &StudyConfig) -> StudyConfig {
    StudyConfig { strategies: vec![Strategy::Diagonal, Strategy::Dp64], ..main.clone() }
}

/// The sweeps and evaluations of every ablation model, their rows and table.
pub fn ablations_stage(stages: &mut Stages, study: &Study) -> Result<()> {
    let c = &study.config;
    let st = ablation_study(&c.study);
    let inputs = json!({ "study": st, "steps": c.sample.steps, "models": ModelKind::ABLATIONS, "inception": "inception-2015-12-05" });
    stages.run(ABLATIONS, inputs, |_| {
        let mut rows = Vec::new();
        let mut files = Vec::new();
        for kind in ModelKind::ABLATIONS {
            let dir = study.dir.ablation(kind);
            share_real_features(&study.dir, &dir)?;
            let sweep = Sweep { dir: &dir, run: study.dir.run(kind), data: study.data.clone(), study: &st, epochs: c.train.epochs };
            files.extend(sweep.heatmaps(&study.heatmap_devices)?);
            files.extend(sweep.paths(c.sample.steps, &c.schedule.build())?);
            let job = EvaluateJob {
                dir: dir.clone(),
                runs: vec![study.dir.run(kind)],
                real: study.data.clone(),
                study: st.clone(),
                steps: c.sample.steps,
                inception: study.inception.clone(),
                devices: study.args.device.clone(),
            };
            let evaluated = evaluate(&job).with_context(|| format!("evaluating the {kind} ablation"))?;
            files.extend([dir.results(), dir.results_table()]);
            for r in &evaluated {
                files.extend(stage::files_under(&r.samples)?);
            }
            rows.extend(evaluated);
        }
        let lift: Vec<ResultRow> = lift_core::io::read_json(&study.dir.results())?;
        let main = main_snapshot(c, View { rows: &lift });
        let [json_file, table_file] = study.dir.ablation_results();
        lift_core::io::write_json(&json_file, &rows)?;
        lift_core::io::write_atomic(&table_file, table(&lift, &rows, main).as_bytes())?;
        files.extend([json_file, table_file]);
        Ok(Outputs { summary: json!({ "rows": rows.len() }), files })
    })?;
    Ok(())
}

/// Copies the main study's cached real-image features and statistics into an ablation's
/// evaluate folder (the same images under the same protocol), so they are not extracted again.
fn share_real_features(main: &StudyDir, ablation: &StudyDir) -> Result<()> {
    let (from, to) = (main.stage("evaluate"), ablation.stage("evaluate"));
    let Ok(entries) = std::fs::read_dir(&from) else { return Ok(()) };
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("real-") && !to.join(&name).exists() {
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            lift_core::io::write_atomic(&to.join(&name), &bytes)?;
        }
    }
    Ok(())
}

/// One (model, snapshot, protocol) group: diagonal and DP-64 FID over seeds.
struct Pair {
    model: ModelKind,
    snapshot: Snapshot,
    protocol: TimestepRule,
    diagonal: Vec<f64>,
    dp: Vec<f64>,
}

impl Pair {
    /// Mean DP-64 FID minus mean diagonal FID (negative: DP helps).
    fn gain(&self) -> Option<f64> {
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        Some(mean(&self.dp)? - mean(&self.diagonal)?)
    }
}

fn pairs(rows: &[ResultRow]) -> Vec<Pair> {
    let fids = |m, sn, p, s| rows.iter().filter(|r| (r.model, r.snapshot(), r.protocol, r.strategy) == (m, sn, p, s)).map(|r| r.fid).collect();
    in_order(rows.iter().filter(|r| matches!(r.strategy, Strategy::Diagonal | Strategy::Dp64)).map(|r| (r.model, r.snapshot(), r.protocol)))
        .into_iter()
        .map(|(model, snapshot, protocol)| Pair {
            model,
            snapshot,
            protocol,
            diagonal: fids(model, snapshot, protocol, Strategy::Diagonal),
            dp: fids(model, snapshot, protocol, Strategy::Dp64),
        })
        .collect()
}

/// `ablations.md`: diagonal against DP-64 per model, snapshot and protocol (FID, mean ± std over
/// seeds), LIFT's rows from the main evaluation first; then which model DP helps most at `main`.
pub fn table(lift: &[ResultRow], ablations: &[ResultRow], main: Snapshot) -> String {
    let all: Vec<Pair> = pairs(lift).into_iter().chain(pairs(ablations)).collect();
    let mut s = String::from("| Model | Weights | Epoch | Protocol | Diagonal FID | DP-64 FID | DP-64 − diagonal |\n|---|---|---|---|---|---|---|\n");
    let cell = |v: &[f64]| if v.is_empty() { "–".to_string() } else { mean_std(v, 2) };
    for p in &all {
        let gain = p.gain().map_or("–".to_string(), |g| format!("{g:+.2}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {gain} |",
            p.model.label(),
            p.snapshot.weights,
            p.snapshot.epoch,
            p.protocol,
            cell(&p.diagonal),
            cell(&p.dp)
        );
    }
    let at_main: Vec<&Pair> = all.iter().filter(|p| p.snapshot == main && p.gain().is_some()).collect();
    if let Some(best) = at_main.iter().min_by(|a, b| a.gain().partial_cmp(&b.gain()).expect("finite FIDs")) {
        let gains: Vec<String> = at_main.iter().map(|p| format!("{} ({}) {:+.2}", p.model.label(), p.protocol, p.gain().expect("filtered"))).collect();
        let _ = writeln!(
            s,
            "\nDP-64 − diagonal at {main}: {}. By the means (no test across models: read the ± columns), \
             DP helps most: {} ({}). The original's claim, that the single-timestep model gains most from DP \
             (diagonal 209.8 → DP 34.4 FID, AFHQv2 64×64), {}.",
            gains.join("; "),
            best.model.label(),
            best.protocol,
            if best.model == ModelKind::SingleT { "holds in this run's means" } else { "does not hold in this run's means" }
        );
    }
    s
}

/// The report's section: the table, or why there is none.
pub fn section(dir: &StudyDir, ran: bool) -> Result<String> {
    let [_, table_file] = dir.ablation_results();
    if !ran {
        return Ok("Not run: `cargo xtask reproduce --ablations` also trains the original's single-output ablation \
                   models (`single-t`, `no-t`) with LIFT's recipe and epochs, sweeps each like LIFT (heatmap of the \
                   fine block, DP-64 path) and adds this table. The default study leaves them out to stay within \
                   its budget.\n"
            .into());
    }
    let text = std::fs::read_to_string(&table_file).with_context(|| format!("cannot read {}", table_file.display()))?;
    Ok(format!(
        "The single-output models (`later-experiments.md` §4) see LIFT's two noisy inputs and predict ε̂₆₄ only; \
         `single-t` is told t₆₄, `no-t` no timestep. Each samples along the diagonal and along the DP-64 path of its \
         own fine-block heatmap, the coarse input rebuilt from x̂₀ at every step. Trained with LIFT's recipe and \
         epochs on the same images; FID under the main study's protocol and seeds.\n\n{text}\nFiles: `{}`.\n",
        Path::new(ABLATIONS).join("ablations.json").display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::test_rows::row;
    use lift_core::Weights;

    fn ablation_row(model: ModelKind, strategy: Strategy, epoch: usize, seed: usize, fid: f64) -> ResultRow {
        ResultRow { model, run: model.to_string(), ..row(strategy, Weights::Ema, epoch, seed, fid) }
    }

    #[test]
    fn the_table_sets_dp_64_against_the_diagonal_per_model_and_snapshot() {
        let lift = vec![
            row(Strategy::Baseline, Weights::Ema, 2, 0, 50.0),
            row(Strategy::Diagonal, Weights::Ema, 2, 0, 40.0),
            row(Strategy::Dp64, Weights::Ema, 2, 0, 38.0),
            row(Strategy::DpTotal, Weights::Ema, 2, 0, 30.0),
        ];
        let ablations = vec![
            ablation_row(ModelKind::SingleT, Strategy::Diagonal, 1, 0, 300.0),
            ablation_row(ModelKind::SingleT, Strategy::Dp64, 1, 0, 200.0),
            ablation_row(ModelKind::SingleT, Strategy::Diagonal, 2, 0, 210.0),
            ablation_row(ModelKind::SingleT, Strategy::Diagonal, 2, 1, 230.0),
            ablation_row(ModelKind::SingleT, Strategy::Dp64, 2, 0, 34.0),
            ablation_row(ModelKind::SingleT, Strategy::Dp64, 2, 1, 36.0),
            ablation_row(ModelKind::NoT, Strategy::Diagonal, 2, 0, 90.0),
            ablation_row(ModelKind::NoT, Strategy::Dp64, 2, 0, 100.0),
        ];
        let text = table(&lift, &ablations, Snapshot { weights: Weights::Ema, epoch: 2 });
        let lines: Vec<&str> = text.lines().collect();
        // LIFT first (baseline and DP-Total rows are not part of it), then each model per snapshot.
        assert_eq!(lines[2], "| LIFT UNet | ema | 2 | reference | 40.00 | 38.00 | -2.00 |");
        assert_eq!(lines[3], "| single_t ablation | ema | 1 | reference | 300.00 | 200.00 | -100.00 |");
        // Means 220 and 35, std (ddof 0) 10 and 1.
        assert_eq!(lines[4], "| single_t ablation | ema | 2 | reference | 220.00 ± 10.00 | 35.00 ± 1.00 | -185.00 |");
        assert_eq!(lines[5], "| no_t ablation | ema | 2 | reference | 90.00 | 100.00 | +10.00 |");
        assert_eq!(lines.len(), 8, "{text}");
        assert!(lines[7].contains("DP helps most: single_t ablation (reference)") && lines[7].contains("holds in this run's means"), "{text}");
        // Where no_t gains most, the claim does not hold.
        let swapped: Vec<ResultRow> = ablations
            .iter()
            .map(|r| ResultRow { fid: if r.model == ModelKind::NoT && r.strategy == Strategy::Diagonal { 400.0 } else { r.fid }, ..r.clone() })
            .collect();
        let text = table(&lift, &swapped, Snapshot { weights: Weights::Ema, epoch: 2 });
        assert!(text.contains("DP helps most: no_t ablation") && text.contains("does not hold in this run's means"), "{text}");
    }
}
