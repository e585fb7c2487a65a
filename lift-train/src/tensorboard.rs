//! Training in TensorBoard: a burn-train `MetricLogger` beside the dashboard and `metrics.csv`.
//! Every training step's metrics go under `train/<metric>` at the global step; at the end of
//! each epoch every `metrics.csv` column goes under `epoch/<column>` at the epoch number, and the
//! newest sample grid (if the run draws them) under `samples` at the global step.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use lift_core::metrics_csv::SECONDS;

use crate::epoch_means::{value_of, EpochMeans};
use crate::event_file::EventWriter;

/// Writes a run's event files.
pub struct TensorBoardLogger {
    events: EventWriter,
    names: HashMap<MetricId, String>,
    means: EpochMeans,
    epoch: usize,
    steps_per_epoch: usize,
    /// Training updates so far this epoch (one per device per step).
    updates: usize,
    devices: usize,
    has_validation: bool,
    start: Option<Instant>,
    newest_grid: Arc<Mutex<Option<String>>>,
    shown_grid: Option<String>,
    /// Set after the first failed write: training goes on, and the warning is not repeated.
    failed: bool,
}

/// Where the event files of a run go unless `--tensorboard` says otherwise.
pub fn default_dir(run: &Path) -> std::path::PathBuf {
    run.join("tensorboard")
}

impl TensorBoardLogger {
    /// Logs into a new event file in `dir`, starting at epoch `first_epoch` (after a resume).
    pub fn new(
        dir: &Path,
        first_epoch: usize,
        steps_per_epoch: usize,
        devices: usize,
        has_validation: bool,
        newest_grid: Arc<Mutex<Option<String>>>,
    ) -> Result<Self> {
        Ok(Self {
            events: EventWriter::create(dir)?,
            names: HashMap::new(),
            means: EpochMeans::default(),
            epoch: first_epoch,
            steps_per_epoch,
            updates: 0,
            devices: devices.max(1),
            has_validation,
            start: None,
            newest_grid,
            shown_grid: None,
            failed: false,
        })
    }

    fn global_step(&self) -> i64 {
        ((self.epoch - 1) * self.steps_per_epoch + self.updates.div_ceil(self.devices)) as i64
    }

    fn check(&mut self, written: Result<()>) {
        if let (Err(e), false) = (written, self.failed) {
            eprintln!("warning: TensorBoard logging stopped: {e:#}");
            self.failed = true;
        }
    }

    fn end_epoch(&mut self, epoch: usize) {
        let seconds = self.start.take().map_or(f64::NAN, |t| t.elapsed().as_secs_f64());
        let mut columns = self.means.take_columns();
        columns.push((SECONDS, seconds));
        for (column, value) in columns.into_iter().filter(|(_, v)| v.is_finite()) {
            let written = self.events.scalar(&format!("epoch/{column}"), epoch as i64, value);
            self.check(written);
        }
        let newest = self.newest_grid.lock().map(|g| g.clone()).unwrap_or_default();
        if let Some(path) = newest.filter(|p| Some(p) != self.shown_grid.as_ref()) {
            let written = self.grid(&path);
            self.check(written);
            self.shown_grid = Some(path);
        }
        self.epoch = epoch + 1;
        self.updates = 0;
    }

    fn grid(&mut self, path: &str) -> Result<()> {
        let png = std::fs::read(path)?;
        let decoded = image::load_from_memory(&png)?;
        let step = self.global_step();
        self.events.png("samples", step, png, decoded.width(), decoded.height(), decoded.color().channel_count())
    }
}

impl MetricLogger for TensorBoardLogger {
    fn log(&mut self, update: MetricsUpdate, _epoch: usize, split: &Split) {
        // burn's epoch counter restarts at 1 after a resume; ours starts at the resumed epoch.
        let valid = match split {
            Split::Train => false,
            Split::Valid => true,
            Split::Test(_) => return,
        };
        if !valid {
            self.start.get_or_insert_with(Instant::now);
            self.updates += 1;
        }
        let step = self.global_step();
        for entry in update.entries_numeric {
            let name = self.names.get(&entry.entry.metric_id).cloned().unwrap_or_default();
            self.means.add(valid, &name, &entry.numeric_entry);
            let value = value_of(&entry.numeric_entry);
            // Throughput has no value at an epoch's first step.
            if !valid && value.is_finite() && self.updates.is_multiple_of(self.devices) {
                let written = self.events.scalar(&format!("train/{name}"), step, value);
                self.check(written);
            }
        }
    }

    fn read_numeric(&mut self, _name: &str, _epoch: usize, _split: &Split) -> Result<Vec<NumericEntry>, String> {
        Err("the TensorBoard logger only writes".into())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names.insert(definition.metric_id, definition.name);
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        match summary.split {
            Split::Train if !self.has_validation => self.end_epoch(self.epoch),
            Split::Valid => self.end_epoch(self.epoch),
            _ => {}
        }
    }
}
