//! Training metrics shown by the dashboard and logged per epoch: losses with 5 significant
//! digits, learning rate and images/s; the loss metric stops the run on a non-finite value.

use std::sync::Arc;
use std::time::Instant;

use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes, NumericEntry, SerializedEntry};
use burn::train::Interrupter;

use crate::step::StepStats;

/// One of the loss values of [`StepStats`].
#[derive(Clone)]
pub struct LossMetric {
    name: MetricName,
    pick: fn(&StepStats) -> Option<f64>,
    state: NumericMetricState,
    guard: Option<Interrupter>,
}

impl LossMetric {
    /// A metric named `name` reading the value `pick` selects.
    pub fn new(name: &str, pick: fn(&StepStats) -> Option<f64>) -> Self {
        Self { name: Arc::new(name.to_string()), pick, state: NumericMetricState::new(), guard: None }
    }

    /// Stops training through `interrupter` when the value is NaN or infinite.
    pub fn stop_on_non_finite(mut self, interrupter: Interrupter) -> Self {
        self.guard = Some(interrupter);
        self
    }
}

fn numeric() -> MetricAttributes {
    NumericAttributes { unit: None, higher_is_better: false }.into()
}

impl Metric for LossMetric {
    type Input = StepStats;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        numeric()
    }

    fn update(&mut self, stats: &StepStats, meta: &MetricMetadata) -> SerializedEntry {
        let value = (self.pick)(stats).unwrap_or(f64::NAN);
        if let Some(guard) = self.guard.as_ref().filter(|_| !value.is_finite()) {
            guard.stop(Some(&format!("{} is {value} at epoch {}, iteration {}", self.name, meta.global_progress.items_processed, meta.iteration.unwrap_or(0))));
        }
        let mut entry = self.state.update(value, stats.batch_size, FormatOptions::new(self.name.clone()));
        let running = self.state.running_value().current();
        entry.formatted = format!("epoch {running:.4e} - batch {value:.4e}");
        entry
    }

    fn clear(&mut self) {
        self.state.reset()
    }
}

impl Numeric for LossMetric {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }
    fn running_value(&self) -> NumericEntry {
        self.state.running_value()
    }
}

/// The learning rate of the current step.
#[derive(Clone)]
pub struct LrMetric {
    state: NumericMetricState,
}

impl LrMetric {
    pub fn new() -> Self {
        Self { state: NumericMetricState::new() }
    }
}

impl Default for LrMetric {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for LrMetric {
    type Input = ();

    fn name(&self) -> MetricName {
        Arc::new("lr".into())
    }

    fn attributes(&self) -> MetricAttributes {
        numeric()
    }

    fn update(&mut self, _: &(), meta: &MetricMetadata) -> SerializedEntry {
        let lr = meta.lr.unwrap_or(f64::NAN);
        let mut entry = self.state.update(lr, 1, FormatOptions::new(self.name()));
        entry.formatted = format!("{lr:.4e}");
        entry
    }

    fn clear(&mut self) {
        self.state.reset()
    }
}

impl Numeric for LrMetric {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }
    fn running_value(&self) -> NumericEntry {
        self.state.running_value()
    }
}

/// Images processed per second since the epoch's first batch.
#[derive(Clone)]
pub struct ImagesPerSecond {
    start: Option<(Instant, usize)>,
    state: NumericMetricState,
}

impl ImagesPerSecond {
    pub fn new() -> Self {
        Self { start: None, state: NumericMetricState::new() }
    }
}

impl Default for ImagesPerSecond {
    fn default() -> Self {
        Self::new()
    }
}

impl Metric for ImagesPerSecond {
    type Input = ();

    fn name(&self) -> MetricName {
        Arc::new("images_per_s".into())
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes { unit: Some("img/s".into()), higher_is_better: true }.into()
    }

    fn update(&mut self, _: &(), meta: &MetricMetadata) -> SerializedEntry {
        let done = meta.progress.items_processed;
        // The first batch only starts the clock: its time includes start-up work.
        let (t0, n0) = *self.start.get_or_insert_with(|| (Instant::now(), done));
        let elapsed = t0.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 && done > n0 { (done - n0) as f64 / elapsed } else { f64::NAN };
        let mut entry = self.state.update(rate, 1, FormatOptions::new(self.name()));
        entry.formatted = format!("{rate:.2} img/s");
        entry
    }

    fn clear(&mut self) {
        self.start = None;
        self.state.reset()
    }
}

impl Numeric for ImagesPerSecond {
    fn value(&self) -> NumericEntry {
        self.state.current_value()
    }
    fn running_value(&self) -> NumericEntry {
        self.state.current_value()
    }
}

/// The path of the newest sample grid, as a text entry of the dashboard.
#[derive(Clone)]
pub struct NewestGrid {
    path: Arc<std::sync::Mutex<Option<String>>>,
}

impl NewestGrid {
    /// Shows what the sample hook last wrote into `path`.
    pub fn new(path: Arc<std::sync::Mutex<Option<String>>>) -> Self {
        Self { path }
    }
}

impl Metric for NewestGrid {
    type Input = ();

    fn name(&self) -> MetricName {
        Arc::new("samples".into())
    }

    fn update(&mut self, _: &(), _: &MetricMetadata) -> SerializedEntry {
        let path = self.path.lock().map(|p| p.clone()).unwrap_or_default().unwrap_or_else(|| "none yet".into());
        SerializedEntry { formatted: path.clone(), serialized: path }
    }

    fn clear(&mut self) {}
}
