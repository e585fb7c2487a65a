//! What happens around each optimiser step, as the run's `[train]` section asks: gradient
//! accumulation (one optimiser step, clipping, EMA update and learning-rate step per K
//! micro-batches, on the averaged gradient), the EMA warm-up, the learning-rate plan, and the
//! epoch-end hook that writes sample grids.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex};

use burn::module::Module;
use burn::optim::lr_scheduler::LrScheduler;
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use lift_core::config::TrainConfig;

use crate::clip::add_grads;

/// Called with the trained network and its EMA (the model type of the run, as `Any`) after the
/// last optimiser step of epoch `epoch`.
pub type EpochHook = Arc<dyn Fn(&dyn Any, &dyn Any, usize) + Send + Sync>;

/// One hook running `hooks` in order (None when there are none).
pub fn all_hooks(hooks: Vec<EpochHook>) -> Option<EpochHook> {
    match hooks.len() {
        0 => None,
        1 => hooks.into_iter().next(),
        _ => Some(Arc::new(move |net: &dyn Any, ema: &dyn Any, epoch: usize| hooks.iter().for_each(|h| h(net, ema, epoch)))),
    }
}

#[derive(Default)]
struct State {
    /// Optimiser steps taken (across resumes).
    step: usize,
    /// Micro-batches in `sum`.
    micro: usize,
    sum: Option<GradientsParams>,
}

/// The per-step behaviour of a run, shared by every copy of its model.
#[derive(Clone)]
pub struct StepPlan {
    pub train: TrainConfig,
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// Data-parallel devices: each optimiser step receives the sum of their gradients.
    pub devices: usize,
    state: Arc<Mutex<State>>,
    hook: Option<EpochHook>,
}

impl fmt::Debug for StepPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StepPlan").field("accumulate", &self.train.accumulate).field("steps_per_epoch", &self.steps_per_epoch).finish()
    }
}

impl StepPlan {
    /// A plan starting after `epochs_done` complete epochs (a resumed run continues its counts).
    pub fn new(train: TrainConfig, steps_per_epoch: usize, epochs_done: usize, hook: Option<EpochHook>) -> Self {
        let state = State { step: epochs_done * steps_per_epoch, ..State::default() };
        Self { train, steps_per_epoch: steps_per_epoch.max(1), devices: 1, state: Arc::new(Mutex::new(state)), hook }
    }

    /// The plan of a run on `devices` data-parallel devices.
    pub fn on_devices(mut self, devices: usize) -> Self {
        self.devices = devices.max(1);
        self
    }

    /// What the summed gradients of one optimiser step are multiplied by to be a mean: one over
    /// the micro-batches times the devices.
    pub fn gradient_scale(&self) -> f64 {
        1.0 / (self.train.accumulate.max(1) * self.devices) as f64
    }

    /// Optimiser steps taken so far.
    pub fn step(&self) -> usize {
        self.state.lock().expect("step state").step
    }

    /// Counts one optimiser step; returns its number (1 = the first) and, if it ends an epoch, the epoch.
    pub fn advance(&self) -> (usize, Option<usize>) {
        let mut s = self.state.lock().expect("step state");
        s.step += 1;
        let epoch_end = s.step.is_multiple_of(self.steps_per_epoch).then_some(s.step / self.steps_per_epoch);
        (s.step, epoch_end)
    }

    /// Runs the epoch hook.
    pub fn end_epoch<M: Any>(&self, net: &M, ema: &M, epoch: usize) {
        if let Some(hook) = &self.hook {
            hook(net, ema, epoch);
        }
    }

    /// Adds a micro-batch's gradients; returns the sum of the last `accumulate` of them once
    /// they are complete (at once when `accumulate` = 1).
    pub fn accumulate<B: AutodiffBackend, M: Module<B>>(&self, module: &M, grads: GradientsParams) -> Option<GradientsParams> {
        if self.train.accumulate <= 1 {
            return Some(grads);
        }
        let mut s = self.state.lock().expect("step state");
        let sum = match s.sum.take() {
            Some(sum) => add_grads::<B, M>(module, sum, grads),
            None => grads,
        };
        s.micro += 1;
        if s.micro < self.train.accumulate {
            s.sum = Some(sum);
            return None;
        }
        s.micro = 0;
        Some(sum)
    }
}

/// The learning rate of every micro-batch: [`TrainConfig::lr_at`] of its optimiser step, so the
/// schedule advances once per `accumulate` calls. Its record is the number of calls, for resume.
#[derive(Debug, Clone)]
pub struct LrPlan {
    train: TrainConfig,
    total_steps: usize,
    calls: usize,
}

impl LrPlan {
    /// The plan of a run of `total_steps` optimiser steps.
    pub fn new(train: TrainConfig, total_steps: usize) -> Self {
        Self { train, total_steps, calls: 0 }
    }
}

impl LrScheduler for LrPlan {
    type Record<B: Backend> = usize;

    fn step(&mut self) -> f64 {
        let step = self.calls / self.train.accumulate.max(1);
        self.calls += 1;
        self.train.lr_at(step, self.total_steps)
    }

    fn to_record<B: Backend>(&self) -> usize {
        self.calls
    }

    fn load_record<B: Backend>(mut self, record: usize) -> Self {
        self.calls = record;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lift_core::LiftConfig;

    #[test]
    fn the_learning_rate_advances_once_per_accumulated_step() {
        let mut t = LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train;
        t.lr_warmup_steps = 2;
        t.accumulate = 3;
        let mut plan = LrPlan::new(t.clone(), 10);
        let lrs: Vec<f64> = (0..7).map(|_| plan.step() / t.lr).collect();
        assert_eq!(lrs, [0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0]);
        // Resumed from its record, it continues where it stopped.
        let resumed = LrPlan::new(t.clone(), 10).load_record::<burn::backend::Flex>(plan.to_record::<burn::backend::Flex>());
        assert_eq!(resumed.calls, 7);
    }

    #[test]
    fn epochs_end_every_steps_per_epoch_steps_and_resume_counts_on() {
        let t = LiftConfig::from_toml(include_str!("../../configs/paper.toml")).unwrap().train;
        let plan = StepPlan::new(t.clone(), 3, 0, None);
        let ends: Vec<Option<usize>> = (0..6).map(|_| plan.advance().1).collect();
        assert_eq!(ends, [None, None, Some(1), None, None, Some(2)]);
        let resumed = StepPlan::new(t, 3, 2, None);
        assert_eq!(resumed.advance(), (7, None));
    }
}
