//! A training run: run folder, resume, Learner setup, final weights.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::module::AutodiffModule;
use burn::record::Recorder;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::train::logger::FileMetricLogger;
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::{ExecutionStrategy, Interrupter, Learner, MultiDeviceOptim, SupervisedTraining};
use lift_core::checkpoint::{save_module, ModelKind};
use lift_core::config::{LiftConfig, ModelConfig};
use lift_core::data::ImageSet;
use lift_core::model::init::seeded_module;
use lift_core::noise_alignment::{CoarseTimestep, NoiseAlignment};
use lift_core::run::{git_commit, DatasetInfo, RunDir, RunInfo, Weights};
use lift_core::{run_on_devices, BaselineUNet, Devices, LiftUNet, MultiBackendTask, SingleOutputUNet};

use crate::batch::{steps_per_epoch, EpochLoader, NoiseSource};
use crate::checkpoints::CheckpointPolicy;
use crate::loss::Denoiser;
use crate::metrics::{ImagesPerSecond, LossMetric, LrMetric, NewestGrid};
use crate::plan::{all_hooks, LrPlan, StepPlan};
use crate::recorder::AtomicRecorder;
use crate::samples::sample_hook;
use crate::snapshots::snapshot_hook;
use crate::step::{Diffusion, StepStats};
use crate::tensorboard::TensorBoardLogger;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dashboard {
    /// The TUI when stdout is a terminal, otherwise one line per epoch.
    #[default]
    Auto,
    /// Always one line per epoch.
    Quiet,
}

/// Where a run starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resume {
    /// A new run (an existing one with checkpoints is refused).
    #[default]
    Fresh,
    /// From the last complete checkpoint (a fresh start when there is none).
    Latest,
    /// From the checkpoint of this epoch.
    Epoch(usize),
    /// From the best-validation checkpoint (`checkpoint/best.json`).
    Best,
}

impl std::str::FromStr for Resume {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "latest" => Ok(Self::Latest),
            "best" => Ok(Self::Best),
            n => n.parse::<usize>().ok().filter(|n| *n > 0).map(Self::Epoch).context("expected latest, best or an epoch number ≥ 1"),
        }
    }
}

/// Everything `lift-train` needs.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub config: LiftConfig,
    pub model: ModelKind,
    pub data: PathBuf,
    pub out: PathBuf,
    /// One device, or several for data-parallel training (the first is the main one).
    pub devices: Devices,
    pub resume: Resume,
    pub skip_bad_images: bool,
    pub dashboard: Dashboard,
    /// TensorBoard event files go here (None: into `RUN/tensorboard` if train.tensorboard is set).
    pub tensorboard: Option<PathBuf>,
}

/// Trains (or resumes) a run; returns its final `run.json`.
pub fn train(opts: TrainOptions) -> Result<RunInfo> {
    let _lock = lift_core::lock::FolderLock::acquire(&opts.out, "lift-train")?;
    let run = RunDir(opts.out.clone());
    let coarse = coarse_timesteps(&opts)?;
    let images = Arc::new(ImageSet::load(&opts.data, opts.config.model.resolution, opts.skip_bad_images)?);
    let completed = prepare_run_dir(&run, &opts)?;
    let (train_idx, valid_idx) = images.split(opts.config.train.validation_fraction, opts.config.train.seed);
    let n = opts.devices.len();
    if !opts.config.train.batch_size.is_multiple_of(n) {
        bail!("train.batch_size = {} does not split over the {n} devices {}: use a multiple of {n}", opts.config.train.batch_size, opts.devices);
    }
    if steps_per_epoch(train_idx.len(), &opts.config.train) == 0 {
        bail!(
            "{} training images make no batch of train.batch_size = {} (train.drop_last drops a short last batch)",
            train_idx.len(),
            opts.config.train.batch_size
        );
    }
    let mut info = RunInfo {
        model: opts.model,
        parameters: 0,
        dataset: DatasetInfo {
            path: opts.data.clone(),
            images: images.len(),
            skipped: images.skipped().len(),
            train_images: train_idx.len(),
            valid_images: valid_idx.len(),
        },
        git_commit: git_commit(),
        device: opts.devices.to_string(),
        epochs_planned: opts.config.train.epochs,
        epochs_completed: completed,
        train_seconds: previous_seconds(&run),
    };
    lift_core::io::write_json(&run.info(), &info)?;
    if !images.skipped().is_empty() {
        eprintln!("skipped {} unreadable images (see warnings above)", images.skipped().len());
    }
    println!(
        "training {} on {} images ({} train / {} valid) from {} → {}",
        opts.model,
        images.len(),
        train_idx.len(),
        valid_idx.len(),
        opts.data.display(),
        opts.out.display()
    );
    let start = Instant::now();
    let task = TrainTask { opts: opts.clone(), images, train_idx, valid_idx, first_epoch: completed + 1, coarse };
    let outcome = run_on_devices(&opts.devices, task)??;
    info.parameters = outcome.parameters;
    info.train_seconds += start.elapsed().as_secs_f64();
    info.epochs_completed = outcome.epochs_completed;
    lift_core::io::write_json(&run.info(), &info)?;
    if let Some(reason) = outcome.stopped {
        bail!("training stopped: {reason}. The last complete checkpoint (epoch {}) is kept in {}", outcome.epochs_completed, run.checkpoints().display());
    }
    Ok(info)
}

fn previous_seconds(run: &RunDir) -> f64 {
    lift_core::io::read_json::<RunInfo>(&run.info()).map(|i| i.train_seconds).unwrap_or(0.0)
}

/// The epoch a resume starts after (0 for a fresh start), checked against the folder.
fn resume_point(run: &RunDir, resume: Resume) -> Result<usize> {
    let dir = run.checkpoints();
    let complete = |e: usize| checkpoint_epochs(&dir).contains(&e);
    Ok(match resume {
        Resume::Fresh => 0,
        Resume::Latest => last_complete_checkpoint(&dir),
        Resume::Epoch(e) if complete(e) => e,
        Resume::Epoch(e) => bail!("{} has no complete checkpoint of epoch {e} (complete: {:?})", dir.display(), checkpoint_epochs(&dir)),
        Resume::Best => {
            let file = dir.join("best.json");
            let best: crate::checkpoints::Best = lift_core::io::read_json(&file).context("--resume-from best needs train.keep_best")?;
            if !complete(best.epoch) {
                bail!("{} names epoch {}, whose checkpoint is incomplete", file.display(), best.epoch);
            }
            best.epoch
        }
    })
}

/// Checks the folder against the options; returns the number of epochs already completed.
fn prepare_run_dir(run: &RunDir, opts: &TrainOptions) -> Result<usize> {
    let completed = resume_point(run, opts.resume)?;
    if run.config().exists() {
        let saved = LiftConfig::load(&run.config())?;
        if opts.resume == Resume::Fresh && last_complete_checkpoint(&run.checkpoints()) > 0 {
            bail!(
                "{} already holds a run with {} completed epochs: pass --resume to continue it, \
                 or choose another --out",
                run.0.display(),
                last_complete_checkpoint(&run.checkpoints())
            );
        }
        if opts.resume != Resume::Fresh {
            let same = |a: &LiftConfig| (a.model.clone(), a.schedule.clone(), a.sample.clone(), a.train.trajectory());
            if same(&saved) != same(&opts.config) {
                bail!(
                    "cannot resume {}: its checkpoints were trained with another configuration ({}); \
                     only train.epochs and the bookkeeping keys (sample_every, checkpoint_every, keep_last, keep_best, snapshot_epochs, tensorboard) \
                     may change on --resume",
                    run.0.display(),
                    run.config().display()
                );
            }
            if let Ok(info) = lift_core::io::read_json::<RunInfo>(&run.info()) {
                if info.model != opts.model {
                    bail!("cannot resume {}: it trains the {} model, not {}", run.0.display(), info.model, opts.model);
                }
            }
        }
    }
    std::fs::create_dir_all(&run.0).with_context(|| format!("cannot create run folder {}", run.0.display()))?;
    lift_core::io::write_atomic(&run.config(), opts.config.to_toml().as_bytes())?;
    Ok(completed)
}

/// The epochs whose model, optimiser and scheduler checkpoints all exist, in order.
pub fn checkpoint_epochs(dir: &Path) -> Vec<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut epochs: Vec<usize> = entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("model-")?.strip_suffix(".mpk")?.parse::<usize>().ok()
        })
        .filter(|n| ["optim", "scheduler"].iter().all(|p| dir.join(format!("{p}-{n}.mpk")).exists()))
        .collect();
    epochs.sort_unstable();
    epochs
}

/// The largest epoch with a complete checkpoint (0 if none).
pub fn last_complete_checkpoint(dir: &Path) -> usize {
    checkpoint_epochs(dir).last().copied().unwrap_or(0)
}

/// The LIFT network a run with `seed` starts from.
pub fn initial_lift<B: Backend>(config: &ModelConfig, seed: u64, device: &B::Device) -> LiftUNet<B> {
    seeded_module(LiftUNet::new(config, device), seed)
}

/// The baseline network a run with `seed` starts from.
pub fn initial_baseline<B: Backend>(config: &ModelConfig, seed: u64, device: &B::Device) -> BaselineUNet<B> {
    seeded_module(BaselineUNet::new(config, device), seed)
}

/// The single-output ablation network (`single-t` when `timed`, else `no-t`) a run with `seed` starts from.
pub fn initial_single_output<B: Backend>(config: &ModelConfig, timed: bool, seed: u64, device: &B::Device) -> SingleOutputUNet<B> {
    seeded_module(SingleOutputUNet::new(config, timed, device), seed)
}

struct Outcome {
    parameters: usize,
    epochs_completed: usize,
    stopped: Option<String>,
}

/// How t₃₂ follows t₆₄ in this run, read before anything else so that a bad rule or path file
/// stops it at once.
fn coarse_timesteps(opts: &TrainOptions) -> Result<CoarseTimestep> {
    let alignment = &opts.config.train.noise_alignment;
    if !opts.model.has_coarse_input() && *alignment != NoiseAlignment::Independent {
        bail!("train.noise_alignment = {alignment}: the baseline has no coarse input to align (it applies to the models with one)");
    }
    alignment.resolve(opts.config.schedule.build().len())
}

struct TrainTask {
    opts: TrainOptions,
    coarse: CoarseTimestep,
    images: Arc<ImageSet>,
    train_idx: Vec<usize>,
    valid_idx: Vec<usize>,
    first_epoch: usize,
}

impl MultiBackendTask for TrainTask {
    type Output = Result<Outcome>;

    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>) -> Result<Outcome> {
        let (config, seed) = (self.opts.config.model.clone(), self.opts.config.train.seed);
        let device = devices[0].clone();
        match self.opts.model {
            ModelKind::Lift => self.launch::<B, _>(initial_lift::<B>(&config, seed, &device), devices),
            ModelKind::Baseline => self.launch::<B, _>(initial_baseline::<B>(&config, seed, &device), devices),
            kind => self.launch::<B, _>(initial_single_output::<B>(&config, kind == ModelKind::SingleT, seed, &device), devices),
        }
    }
}

impl TrainTask {
    /// The epoch lines and `metrics.csv`, with burn-train's dashboard on a terminal.
    fn renderer(&self, interrupter: &Interrupter, newest_grid: Arc<Mutex<Option<String>>>, devices: usize) -> crate::renderer::EpochRenderer {
        let opts = &self.opts;
        let resumed = self.first_epoch - 1;
        let tui: Option<Box<dyn burn::train::renderer::MetricsRenderer>> = (opts.dashboard == Dashboard::Auto && std::io::stdout().is_terminal())
            .then(|| Box::new(TuiMetricsRendererWrapper::new(interrupter.clone(), (resumed > 0).then_some(resumed))) as _);
        let (metrics, label, resolution) = (RunDir(opts.out.clone()).metrics(), opts.model.to_string(), opts.config.model.resolution);
        crate::renderer::EpochRenderer::new(metrics, self.first_epoch, !self.valid_idx.is_empty(), tui, newest_grid, label, resolution).on_devices(devices)
    }

    fn launch<B, M>(self, net: M, devices: Vec<B::Device>) -> Result<Outcome>
    where
        B: AutodiffBackend,
        M: Denoiser<B> + AutodiffModule<B> + std::fmt::Display + 'static,
        M::InnerModule: Denoiser<B::InnerBackend>,
    {
        let opts = &self.opts;
        let t = &opts.config.train;
        let device = devices[0].clone();
        let run = RunDir(opts.out.clone());
        let parameters = burn::module::Module::num_params(&net);
        let (epochs, resumed) = (t.epochs, self.first_epoch - 1);
        let steps_per_epoch = steps_per_epoch(self.train_idx.len(), t);
        let newest_grid = Arc::new(Mutex::new(None));
        let hooks = [sample_hook::<B, M>(&opts.config, opts.out.clone(), newest_grid.clone(), device.clone()), snapshot_hook::<B, M>(t, opts.out.clone())?];
        let hook = all_hooks(hooks.into_iter().flatten().collect());
        let model = Diffusion::<B, M>::new(net, StepPlan::new(t.clone(), steps_per_epoch, resumed, hook).on_devices(devices.len()));
        if resumed >= epochs {
            // Nothing left to train: make sure the final weights exist.
            let model = load_checkpoint(model, &run, resumed, &device)?;
            export_weights::<B, M>(model.valid(), &run)?;
            return Ok(Outcome { parameters, epochs_completed: resumed, stopped: None });
        }
        let source = Arc::new(NoiseSource::new(self.images.clone(), opts.config.schedule.build()).aligned(self.coarse.clone()));
        let train = EpochLoader::<B>::train(source.clone(), self.train_idx.clone(), t, self.first_epoch, device.clone()).for_devices(devices.len());
        let valid = EpochLoader::<B::InnerBackend>::valid(source, self.valid_idx.clone(), t.batch_size, t.seed, device.clone());
        let interrupter = Interrupter::new();
        let renderer = self.renderer(&interrupter, newest_grid.clone(), devices.len());
        let policy = CheckpointPolicy::new(t, epochs, checkpoint_epochs(&run.checkpoints()), run.checkpoints().join("best.json"));
        let pick_64: fn(&StepStats) -> Option<f64> = |s| Some(s.loss_64);
        let pick_32: fn(&StepStats) -> Option<f64> = |s| Some(s.loss_32);
        let mut training = SupervisedTraining::new(&opts.out, Arc::new(train), Arc::new(valid))
            .num_epochs(epochs)
            .metric_train_numeric(LossMetric::new("loss", |s| Some(s.loss)).stop_on_non_finite(interrupter.clone()))
            .metric_train_numeric(LossMetric::new("loss_64", pick_64))
            .metric_train_numeric(LrMetric::new())
            .metric_train_numeric(ImagesPerSecond::new())
            .metric_valid_numeric(LossMetric::new("loss", |s| Some(s.loss)))
            .metric_valid_numeric(LossMetric::new("loss_64", pick_64))
            .metric_valid_numeric(LossMetric::new("ema_loss", |s| s.ema_loss))
            .with_file_checkpointer(AtomicRecorder)
            .with_checkpointing_strategy(policy)
            .with_interrupter(interrupter.clone())
            .with_application_logger(None)
            .renderer(renderer);
        if let Some(dir) = opts.tensorboard.clone().or_else(|| t.tensorboard.then(|| crate::tensorboard::default_dir(&opts.out))) {
            let logger = TensorBoardLogger::new(&dir, self.first_epoch, steps_per_epoch, devices.len(), !self.valid_idx.is_empty(), newest_grid.clone())?;
            // A logger of our own replaces burn-train's default file logger: keep it too.
            training = training.with_metric_logger(FileMetricLogger::new(&opts.out)).with_metric_logger(logger);
        }
        if t.sample_every > 0 {
            training = training.metric_train(NewestGrid::new(newest_grid));
        }
        if opts.model == ModelKind::Lift {
            training = training.metric_train_numeric(LossMetric::new("loss_32", pick_32)).metric_valid_numeric(LossMetric::new("loss_32", pick_32));
        }
        if resumed > 0 {
            training = training.checkpoint(resumed);
        }
        if devices.len() > 1 {
            // Gradients meet on the main device, where our `optimize` averages, clips and updates the EMA once.
            training = training.with_training_strategy(ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice).into());
        }
        let optim = crate::optim::adamw(t);
        let lr = LrPlan::new(t.clone(), (epochs * steps_per_epoch).max(1));
        let result = training.launch(Learner::new(model, optim, lr));
        let completed = last_complete_checkpoint(&run.checkpoints());
        if let Some(reason) = interrupter.get_message() {
            return Ok(Outcome { parameters, epochs_completed: completed, stopped: Some(reason) });
        }
        export_weights::<B, M>(result.model, &run)?;
        Ok(Outcome { parameters, epochs_completed: epochs, stopped: None })
    }
}

fn load_checkpoint<B, M>(model: Diffusion<B, M>, run: &RunDir, epoch: usize, device: &B::Device) -> Result<Diffusion<B, M>>
where
    B: AutodiffBackend,
    M: Denoiser<B> + AutodiffModule<B>,
    M::InnerModule: Denoiser<B::InnerBackend>,
{
    let path = run.checkpoints().join(format!("model-{epoch}.mpk"));
    let record = Recorder::<B>::load(&AtomicRecorder, path.clone(), device).map_err(|e| anyhow::anyhow!("cannot load checkpoint {}: {e:?}", path.display()))?;
    Ok(burn::module::Module::load_record(model, record))
}

fn export_weights<B, M>(model: Diffusion<B::InnerBackend, M::InnerModule>, run: &RunDir) -> Result<()>
where
    B: AutodiffBackend,
    M: AutodiffModule<B>,
    M::InnerModule: Denoiser<B::InnerBackend>,
{
    save_module(model.net, &run.weights(Weights::Raw))?;
    save_module(model.ema, &run.weights(Weights::Ema))
}
