//! What a run shows and logs: burn-train's TUI dashboard on a terminal, otherwise one quiet line
//! per epoch; in both cases the epoch means go to `metrics.csv` (rewritten atomically).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::metric::{MetricDefinition, MetricId};
use burn::train::renderer::{
    EvaluationName, EvaluationProgress, MetricState, MetricsRenderer, MetricsRendererEvaluation, MetricsRendererTraining, ProgressType, TrainingProgress,
};
use burn::train::LearnerSummary;
use lift_core::metrics_csv::{COLUMNS, IMAGES_PER_S, LR, SECONDS, TRAIN_LOSS, TRAIN_LOSS_COARSE, TRAIN_LOSS_FINE, VALID_EMA_LOSS, VALID_LOSS};

use crate::epoch_means::EpochMeans;

/// Per-epoch accumulation, CSV log and the quiet line; forwards everything to the TUI if any.
pub struct EpochRenderer {
    tui: Option<Box<dyn MetricsRenderer>>,
    names: HashMap<MetricId, String>,
    means: EpochMeans,
    epoch: usize,
    epochs: usize,
    start: Option<Instant>,
    has_validation: bool,
    csv_path: PathBuf,
    rows: Vec<String>,
    /// The newest sample grid (written by the sample hook) and the last one printed.
    newest_grid: Arc<Mutex<Option<String>>>,
    shown_grid: Option<String>,
    /// Names the run on each line (two trainings may share a terminal).
    label: String,
    /// Side of the fine scale's images (the coarse scale's is half): the line names both.
    fine_side: usize,
    /// Training items that report a finished epoch: one per device, since each device's last
    /// step of the epoch reports the whole epoch's progress.
    train_parts: usize,
    finished_parts: usize,
}

impl EpochRenderer {
    /// Logs to `csv_path`, keeping the rows of epochs before `first_epoch` (from a resumed run).
    pub fn new(
        csv_path: PathBuf,
        first_epoch: usize,
        has_validation: bool,
        tui: Option<Box<dyn MetricsRenderer>>,
        newest_grid: Arc<Mutex<Option<String>>>,
        label: String,
        fine_side: usize,
    ) -> Self {
        let rows = std::fs::read_to_string(&csv_path)
            .map(|text| {
                text.lines()
                    .skip(1)
                    .filter(|l| l.split(',').next().and_then(|e| e.parse::<usize>().ok()).is_some_and(|e| e < first_epoch))
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            tui,
            names: HashMap::new(),
            means: EpochMeans::default(),
            epoch: first_epoch,
            epochs: 0,
            start: None,
            has_validation,
            csv_path,
            rows,
            newest_grid,
            shown_grid: None,
            label,
            fine_side,
            train_parts: 1,
            finished_parts: 0,
        }
    }

    /// Training runs on `devices` devices at once (burn-train's multi-device strategy).
    pub fn on_devices(mut self, devices: usize) -> Self {
        self.train_parts = devices.max(1);
        self
    }

    fn record(&mut self, valid: bool, state: &MetricState) {
        if let MetricState::Numeric(entry, value) = state {
            let name = self.names.get(&entry.metric_id).cloned().unwrap_or_default();
            self.means.add(valid, &name, value);
        }
    }

    fn end_epoch(&mut self) {
        let seconds = self.start.take().map(|t| t.elapsed().as_secs_f64()).unwrap_or(f64::NAN);
        let mut columns = self.means.take_columns();
        columns.push((SECONDS, seconds));
        let value: BTreeMap<&str, f64> = columns.iter().copied().collect();
        let mut row = self.epoch.to_string();
        for (_, x) in &columns {
            row.push_str(&format!(",{x:.6e}"));
        }
        self.rows.push(row);
        let mut text = COLUMNS.join(",");
        text.push('\n');
        for r in &self.rows {
            text.push_str(r);
            text.push('\n');
        }
        if let Err(e) = lift_core::io::write_atomic(&self.csv_path, text.as_bytes()) {
            eprintln!("warning: {e:#}");
        }
        if self.tui.is_none() {
            // The baseline has one scale: no per-scale split to show.
            let [fine, coarse] = lift_core::data::scale_names(self.fine_side);
            let (fine_loss, coarse_loss) = (value[TRAIN_LOSS_FINE], value[TRAIN_LOSS_COARSE]);
            let scales = if coarse_loss.is_nan() { String::new() } else { format!(" ({fine}: {fine_loss:.4e}, {coarse}: {coarse_loss:.4e})") };
            println!(
                "{} epoch {:>3}/{}  loss {:.4e}{scales}  valid {:.4e}  ema {:.4e}  lr {:.3e}  {:.1} img/s  {seconds:.0} s",
                self.label, self.epoch, self.epochs, value[TRAIN_LOSS], value[VALID_LOSS], value[VALID_EMA_LOSS], value[LR], value[IMAGES_PER_S]
            );
            let newest = self.newest_grid.lock().map(|g| g.clone()).unwrap_or_default();
            if newest.is_some() && newest != self.shown_grid {
                println!("{} samples → {}", self.label, newest.as_deref().unwrap_or_default());
                self.shown_grid = newest;
            }
        }
    }
}

fn epoch_done(item: &TrainingProgress) -> bool {
    item.progress.as_ref().is_some_and(|p| p.items_processed >= p.items_total)
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.record(false, &state);
        if let Some(tui) = &mut self.tui {
            tui.update_train(state);
        }
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(true, &state);
        if let Some(tui) = &mut self.tui {
            tui.update_valid(state);
        }
    }

    fn render_train(&mut self, item: TrainingProgress, indicators: Vec<ProgressType>) {
        self.epoch = item.global_progress.items_processed;
        self.epochs = item.global_progress.items_total;
        self.start.get_or_insert_with(Instant::now);
        if epoch_done(&item) {
            self.finished_parts += 1;
        }
        let done = self.finished_parts >= self.train_parts;
        if done {
            self.finished_parts = 0;
        }
        if let Some(tui) = &mut self.tui {
            tui.render_train(item, indicators);
        }
        if done && !self.has_validation {
            self.end_epoch();
        }
    }

    fn render_valid(&mut self, item: TrainingProgress, indicators: Vec<ProgressType>) {
        let done = epoch_done(&item);
        if let Some(tui) = &mut self.tui {
            tui.render_valid(item, indicators);
        }
        if done {
            self.end_epoch();
        }
    }

    fn on_train_end(&mut self, summary: Option<LearnerSummary>) -> Result<(), Box<dyn core::error::Error>> {
        match &mut self.tui {
            Some(tui) => tui.on_train_end(summary),
            None => Ok(()),
        }
    }
}

impl MetricsRendererEvaluation for EpochRenderer {
    fn update_test(&mut self, name: EvaluationName, state: MetricState) {
        if let Some(tui) = &mut self.tui {
            tui.update_test(name, state);
        }
    }

    fn render_test(&mut self, item: EvaluationProgress, indicators: Vec<ProgressType>) {
        if let Some(tui) = &mut self.tui {
            tui.render_test(item, indicators);
        }
    }
}

impl MetricsRenderer for EpochRenderer {
    fn manual_close(&mut self) {
        if let Some(tui) = &mut self.tui {
            tui.manual_close();
        }
    }

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names.insert(definition.metric_id.clone(), definition.name.clone());
        if let Some(tui) = &mut self.tui {
            tui.register_metric(definition);
        }
    }
}
