//! Training features beyond the original's recipe: gradient accumulation equals one large batch,
//! bf16 forward/backward keeps f32 master weights and a moving EMA, sample grids every epoch,
//! resuming from a named checkpoint, snapshots for a sweep, and a CPU step in concurrent parts
//! equal to the whole batch's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::backend::{Autodiff, Flex};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::lr_scheduler::LrScheduler;
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, SgdConfig};
use burn::tensor::{DType, Tensor};
use burn::train::TrainStep;
use image::{Rgba, RgbaImage};
use lift_core::checkpoint::load_module;
use lift_core::config::{LiftConfig, Precision, TrainConfig};
use lift_core::data::ImageSet;
use lift_core::run::{RunDir, Weights};
use lift_core::{DeviceSpec, LiftUNet, ModelKind, NoiseSchedule};
use lift_train::batch::{EpochLoader, NoiseSource};
use lift_train::clip::grad_norm;
use lift_train::plan::{LrPlan, StepPlan};
use lift_train::run::{initial_lift, train, Dashboard, Resume, TrainOptions};
use lift_train::step::Diffusion;

type A = Autodiff<Flex>;

fn config() -> LiftConfig {
    let mut c = LiftConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/smoke.toml")).unwrap();
    c.train.validation_fraction = 0.0;
    c.train.max_batches_per_epoch = 0;
    c
}

fn images(n: usize, r: usize) -> Arc<ImageSet> {
    Arc::new(ImageSet::from_pixels(r, (0..n).map(|k| (0..r * r * 3).map(|i| ((i * 7 + k * 31) % 256) as u8).collect()).collect()).unwrap())
}

fn values<M: Module<A>>(m: &M) -> Vec<f32> {
    struct V(Vec<f32>);
    impl ModuleVisitor<A> for V {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
            self.0.extend(p.val().into_data().to_vec::<f32>().unwrap());
        }
    }
    let mut v = V(Vec::new());
    m.visit(&mut v);
    v.0
}

/// Runs `steps` optimiser steps of `optim` with `t`'s batch size and accumulation, as the Learner
/// does (one learning-rate step and one optimize call per micro-batch); returns the model and the
/// mean loss of each optimiser step.
fn run_steps<O>(t: &TrainConfig, c: &LiftConfig, steps: usize, mut optim: O) -> (Diffusion<A, LiftUNet<A>>, Vec<f64>)
where
    O: burn::optim::Optimizer<Diffusion<A, LiftUNet<A>>, A>,
{
    let dev = Default::default();
    let source = Arc::new(NoiseSource::new(images(16, c.model.resolution), NoiseSchedule::reference()));
    let loader = EpochLoader::<A>::train(source, (0..16).collect(), t, 1, dev);
    let per_epoch = 16 / t.batch_size;
    let mut model = Diffusion::new(initial_lift::<A>(&c.model, 5, &dev), StepPlan::new(t.clone(), per_epoch / t.accumulate, 0, None));
    let mut lr = LrPlan::new(t.clone(), 100);
    let mut losses = Vec::new();
    let mut micro = Vec::new();
    for k in 0..steps * t.accumulate {
        let batch = loader.batch_of(1 + k / per_epoch, k % per_epoch);
        let rate = lr.step();
        let out = TrainStep::step(&model, batch);
        micro.push(out.item.loss.into_scalar() as f64);
        model = TrainStep::optimize(model, &mut optim, rate, out.grads);
        if micro.len() == t.accumulate {
            losses.push(micro.drain(..).sum::<f64>() / t.accumulate as f64);
        }
    }
    (model, losses)
}

/// The study's optimiser.
fn adamw() -> impl burn::optim::Optimizer<Diffusion<A, LiftUNet<A>>, A> {
    AdamWConfig::new().with_weight_decay(0.01).with_epsilon(1e-8).init()
}

/// The largest difference between two parameter lists, and the largest movement of `x` from `init`.
fn worst_and_moved(x: &[f32], y: &[f32], init: &[f32]) -> (f32, f32) {
    let worst = x.iter().zip(y).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
    let moved = x.iter().zip(init).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
    (worst, moved)
}

/// Plain SGD without a clip sees the gradient's scale, which AdamW (its first step is the
/// gradient's sign) and an active clip would hide: two accumulated half batches must step by their
/// mean, not their sum.
#[test]
fn accumulated_half_batches_step_by_their_mean() {
    let c = config();
    let mut full = c.train.clone();
    (full.batch_size, full.accumulate, full.grad_clip, full.lr_warmup_steps, full.lr) = (8, 1, 1e9, 0, 0.05);
    let half = TrainConfig { batch_size: 4, accumulate: 2, ..full.clone() };
    let (a, la) = run_steps(&full, &c, 2, SgdConfig::new().init());
    let (b, lb) = run_steps(&half, &c, 2, SgdConfig::new().init());
    assert_eq!(b.plan().step(), 2, "two optimiser steps from four micro-batches");
    let init = values(&initial_lift::<A>(&c.model, 5, &Default::default()));
    let (worst, moved) = worst_and_moved(&values(&a.net), &values(&b.net), &init);
    // A sum would be off by a whole step (`moved`); rounding is orders of magnitude below it.
    assert!(moved > 1e-4 && worst <= 1e-3 * moved, "accumulated step off by {worst}, the step moved {moved}");
    for (p, q) in la.iter().zip(&lb) {
        assert!((p - q).abs() <= 1e-5, "loss curves {la:?} vs {lb:?}");
    }
}

/// The same under the study's optimiser (AdamW) with an active clip: the weights and the EMA.
#[test]
fn accumulating_two_half_batches_equals_one_full_batch() {
    let c = config();
    let mut full = c.train.clone();
    (full.batch_size, full.accumulate, full.grad_clip, full.lr_warmup_steps, full.lr) = (8, 1, 0.05, 2, 1e-4);
    let half = TrainConfig { batch_size: 4, accumulate: 2, ..full.clone() };
    let (a, la) = run_steps(&full, &c, 3, adamw());
    let (b, lb) = run_steps(&half, &c, 3, adamw());
    assert_eq!(b.plan().step(), 3, "three optimiser steps from six micro-batches");
    let init = values(&initial_lift::<A>(&c.model, 5, &Default::default()));
    for (name, x, y) in [("weights", values(&a.net), values(&b.net)), ("EMA", values(&a.ema), values(&b.ema))] {
        let (worst, moved) = worst_and_moved(&x, &y, &init);
        assert!(moved > 1e-5 && worst <= 1e-3 * moved, "{name} differ by {worst} (moved {moved})");
    }
    for (p, q) in la.iter().zip(&lb) {
        assert!((p - q).abs() <= 1e-5, "loss curves {la:?} vs {lb:?}");
    }
    // The clip (0.05) was active: the gradients' global norm is above it.
    let dev = Default::default();
    let source = Arc::new(NoiseSource::new(images(16, c.model.resolution), NoiseSchedule::reference()));
    let batch = EpochLoader::<A>::train(source, (0..16).collect(), &full, 1, dev).batch_of(1, 0);
    let model = Diffusion::new(initial_lift::<A>(&c.model, 5, &dev), StepPlan::new(full.clone(), 2, 0, None));
    let norm: f32 = grad_norm::<A, _>(&model.net, &TrainStep::step(&model, batch).grads).unwrap().into_scalar();
    assert!(norm > 0.05, "global gradient norm {norm}");
}

/// Every parameter's gradient (in visiting order) and the loss of one training step on the first
/// batch, the step run on a pool of `threads` workers.
fn step_gradient(t: &TrainConfig, c: &LiftConfig, threads: usize) -> (Vec<f32>, f32) {
    struct Grads<'a>(&'a GradientsParams, Vec<f32>);
    impl ModuleVisitor<A> for Grads<'_> {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
            self.1.extend(self.0.get::<Flex, D>(p.id).expect("a gradient for every parameter").into_data().to_vec::<f32>().unwrap());
        }
    }
    lift_cpu::threads::run_in_pool(threads, || {
        let dev = Default::default();
        let source = Arc::new(NoiseSource::new(images(16, c.model.resolution), NoiseSchedule::reference()));
        let batch = EpochLoader::<A>::train(source, (0..16).collect(), t, 1, dev).batch_of(1, 0);
        let model = Diffusion::new(initial_lift::<A>(&c.model, 5, &dev), StepPlan::new(t.clone(), 2, 0, None));
        let out = TrainStep::step(&model, batch);
        let mut grads = Grads(&out.grads, Vec::new());
        model.net.visit(&mut grads);
        (grads.1, out.item.loss.into_scalar())
    })
    .unwrap()
}

#[test]
fn a_step_in_cpu_parts_equals_the_whole_batch_on_any_thread_count() {
    let c = config();
    let whole = TrainConfig { batch_size: 8, cpu_part: 0, ..c.train.clone() };
    let parts = TrainConfig { cpu_part: 3, ..whole.clone() };
    let (g_whole, l_whole) = step_gradient(&whole, &c, 1);
    let (g_parts, l_parts) = step_gradient(&parts, &c, 1);
    for threads in [2, 3] {
        assert!(step_gradient(&parts, &c, threads) == (g_parts.clone(), l_parts), "parts of 3, 3 and 2 images on {threads} threads");
    }
    let scale = g_whole.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = g_whole.iter().zip(&g_parts).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= 1e-5 * scale, "gradients differ by {worst} (largest {scale})");
    assert!((l_whole - l_parts).abs() <= 1e-6 * l_whole, "losses {l_whole} and {l_parts}");
}

#[test]
fn bf16_steps_track_f32_with_f32_master_weights_and_a_moving_ema() {
    let c = config();
    let mut t = c.train.clone();
    (t.batch_size, t.ema_decay) = (8, 0.9999);
    let (f, lf) = run_steps(&t, &c, 3, adamw());
    let (h, lh) = run_steps(&TrainConfig { precision: Precision::Bf16, ..t }, &c, 3, adamw());
    // bf16 keeps 8 significant bits: one step is 0.4–0.8% of a value, and each of the batch's
    // CPU parts rounds its loss before they are added.
    for (p, q) in lf.iter().zip(&lh) {
        assert!((p - q).abs() <= 1e-2 * q.abs(), "bf16 losses {lh:?} vs f32 {lf:?}");
    }
    struct Dtypes(Vec<DType>);
    impl ModuleVisitor<A> for Dtypes {
        fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<A, D>>) {
            self.0.push(p.val().dtype());
        }
    }
    let mut d = Dtypes(Vec::new());
    h.net.visit(&mut d);
    h.ema.visit(&mut d);
    assert!(d.0.iter().all(|t| *t == DType::F32), "master weights and EMA stay f32");
    let init = values(&initial_lift::<A>(&c.model, 5, &Default::default()));
    let moved = |ema: &[f32]| ema.iter().zip(&init).map(|(e, i)| (e - i).abs()).fold(0f32, f32::max);
    // An EMA kept in bf16 would round 0.9999·w + 0.0001·w' back to w and never move.
    let (moved_f, moved_h) = (moved(&values(&f.ema)), moved(&values(&h.ema)));
    assert!(moved_f > 0.0 && (moved_h - moved_f).abs() <= 0.1 * moved_f, "the bf16 run's EMA moved {moved_h}, the f32 run's {moved_f}");
    assert!(values(&f.net) != values(&h.net), "bf16 is a different computation");
}

fn disc_folder(dir: &Path, n: usize) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..n {
        let colour = Rgba([(i * 37 % 256) as u8, (i * 91 % 256) as u8, 200, 255]);
        let img = RgbaImage::from_fn(16, 16, |x, y| if (x as i64 - 8).pow(2) + (y as i64 - 8).pow(2) < 20 { colour } else { Rgba([0, 0, 0, 0]) });
        img.save(data.join(format!("{i:03}.png"))).unwrap();
    }
    data
}

fn options(config: &LiftConfig, data: &Path, out: &Path, resume: Resume) -> TrainOptions {
    TrainOptions {
        config: config.clone(),
        model: ModelKind::Lift,
        data: data.to_path_buf(),
        out: out.to_path_buf(),
        devices: DeviceSpec::Cpu.into(),
        resume,
        skip_bad_images: false,
        dashboard: Dashboard::Quiet,
        tensorboard: None,
    }
}

#[test]
fn sample_grids_snapshots_and_resume_from_a_named_checkpoint() {
    let dir = std::env::temp_dir().join(format!("lift-features-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = disc_folder(&dir, 16);
    let mut c = config();
    (c.train.epochs, c.train.sample_every, c.train.keep_last) = (3, 1, 3);
    c.train.snapshot_epochs = "1,3".parse().unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    train(options(&c, &data, &a, Resume::Fresh)).unwrap();
    for epoch in 1..=3 {
        let grid = image::open(a.join(format!("samples/epoch-{epoch}.png"))).unwrap();
        assert!(grid.width() > 64 && grid.height() > 64, "epoch {epoch}: a grid of both scales");
    }
    // Snapshots of both weights after epochs 1 and 3 only; the last equals the final weights.
    let run = RunDir(a.clone());
    assert_eq!(run.snapshot_epochs(), [1, 3]);
    let weights = |file: PathBuf| values(&load_module(LiftUNet::<A>::new(&c.model, &Default::default()), &file, &Default::default()).unwrap());
    for which in [Weights::Raw, Weights::Ema] {
        assert_eq!(weights(run.snapshot(which, 3)), weights(run.weights(which)), "{which}: epoch 3 is the end");
        assert_ne!(weights(run.snapshot(which, 1)), weights(run.weights(which)), "{which}: epoch 1 is earlier");
    }
    assert_ne!(weights(run.snapshot(Weights::Raw, 1)), weights(run.snapshot(Weights::Ema, 1)));
    let e = lift_core::run::load_run_at::<Flex>(&a, Weights::Ema, Some(2), &Default::default()).err().unwrap().to_string();
    assert!(e.contains("no ema snapshot of epoch 2") && e.contains("[1, 3]"), "{e}");
    // Train b to the end, then go back to its epoch-1 checkpoint and train epochs 2 and 3 again:
    // the same weights as the uninterrupted run a.
    train(options(&c, &data, &b, Resume::Fresh)).unwrap();
    train(options(&c, &data, &b, Resume::Epoch(1))).unwrap();
    for which in [Weights::Raw, Weights::Ema] {
        // Record files hold random parameter ids: compare the values.
        let load = |run: &Path| {
            let template = LiftUNet::<A>::new(&c.model, &Default::default());
            values(&load_module(template, &RunDir(run.to_path_buf()).weights(which), &Default::default()).unwrap())
        };
        assert_eq!(load(&a), load(&b), "{which} weights after resuming from epoch 1");
    }
    let e = train(options(&c, &data, &b, Resume::Epoch(9))).unwrap_err().to_string();
    assert!(e.contains("epoch 9"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Burn's multi-device step hands `optimize` the sum of the devices' gradients (burn-train 0.21,
/// `MultiDeviceTrainEpoch`); told of two devices, the plan turns it into their mean, so that one
/// step equals one device's on the whole batch. SGD sees the gradient's scale, which AdamW and an
/// active clip would hide.
#[test]
fn summed_device_gradients_step_as_their_mean() {
    let c = config();
    let mut t = c.train.clone();
    (t.batch_size, t.grad_clip) = (8, 1e9);
    let dev = Default::default();
    let source = Arc::new(NoiseSource::new(images(8, c.model.resolution), NoiseSchedule::reference()));
    let items = EpochLoader::<A>::train(source.clone(), (0..8).collect(), &t, 1, dev).epoch_items(1);
    let net = initial_lift::<A>(&c.model, 5, &dev);
    let one = Diffusion::new(net.clone(), StepPlan::new(t.clone(), 1, 0, None));
    let two = Diffusion::new(net, StepPlan::new(t.clone(), 1, 0, None).on_devices(2));
    let whole = TrainStep::step(&one, source.batch::<A>(&items[..8], &dev)).grads;
    let mut sum = GradientsAccumulator::new();
    for part in [&items[..4], &items[4..8]] {
        sum.accumulate(&two.net, TrainStep::step(&two, source.batch::<A>(part, &dev)).grads);
    }
    let a = TrainStep::optimize(one, &mut SgdConfig::new().init(), 1.0, whole);
    let b = TrainStep::optimize(two, &mut SgdConfig::new().init(), 1.0, sum.grads());
    let init = values(&initial_lift::<A>(&c.model, 5, &dev));
    let (worst, moved) = worst_and_moved(&values(&a.net), &values(&b.net), &init);
    // A sum would be off by the whole step (`moved`); rounding is orders of magnitude below it.
    assert!(moved > 0.0 && worst <= 1e-3 * moved, "the mean of the devices' gradients: off by {worst}, moved {moved}");
}

/// A test folder with `n` disc images and the smoke config for `epochs` epochs of one global batch
/// of 8 with an active clip.
fn one_batch_epochs(name: &str, n: usize, epochs: usize) -> (PathBuf, PathBuf, LiftConfig) {
    let dir = std::env::temp_dir().join(format!("lift-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = disc_folder(&dir, n);
    let mut c = config();
    let t = &mut c.train;
    (t.epochs, t.batch_size, t.drop_last, t.grad_clip, t.lr, t.ema_decay, t.sample_every) = (epochs, 8, true, 0.05, 1e-4, 0.9, 0);
    (dir, data, c)
}

/// The train-loss column of a run's `metrics.csv`, one value per epoch.
fn loss_curve(run: &Path) -> Vec<f64> {
    let csv = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    csv.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect()
}

/// Burn's multi-device training on `cpu,cpu` with a global batch of 8 (4 per device) takes the
/// same three optimiser steps (three epochs of one batch) as one device with batch 8: same weights,
/// EMA and loss curve, clip active.
#[test]
fn two_devices_train_as_one_with_the_same_global_batch() {
    let (dir, data, c) = one_batch_epochs("devices", 8, 3);
    let (one, two) = (dir.join("one"), dir.join("two"));
    train(options(&c, &data, &one, Resume::Fresh)).unwrap();
    train(TrainOptions { devices: "cpu,cpu".parse().unwrap(), ..options(&c, &data, &two, Resume::Fresh) }).unwrap();
    for which in [Weights::Raw, Weights::Ema] {
        let load = |run: &Path| {
            let template = LiftUNet::<A>::new(&c.model, &Default::default());
            values(&load_module(template, &RunDir(run.to_path_buf()).weights(which), &Default::default()).unwrap())
        };
        let (x, y) = (load(&one), load(&two));
        let worst = x.iter().zip(&y).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
        assert!(worst <= 1e-5, "{which} weights differ by {worst}");
        let init = values(&initial_lift::<A>(&c.model, c.train.seed, &Default::default()));
        assert!(x.iter().zip(&init).any(|(p, q)| p != q), "{which} weights moved");
    }
    let (x, y) = (loss_curve(&one), loss_curve(&two));
    assert_eq!((x.len(), y.len()), (3, 3), "one row per epoch: {x:?} vs {y:?}");
    assert!(x.iter().zip(&y).all(|(p, q)| (p - q).abs() <= 1e-5), "train loss {x:?} vs {y:?}");
    let e = train(TrainOptions { devices: "cpu,cpu,cpu".parse().unwrap(), ..options(&c, &data, &dir.join("three"), Resume::Fresh) });
    assert!(e.unwrap_err().to_string().contains("train.batch_size = 8"), "an uneven split is refused");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Two workers on the wgpu adapter (lavapipe in CI: both share its one client) train two steps of
/// a global batch of 8 and follow the CPU's single-device loss curve and weights.
#[cfg(feature = "wgpu")]
#[test]
fn two_wgpu_workers_train_two_steps() {
    let (dir, data, c) = one_batch_epochs("wgpu-devices", 8, 2);
    let (cpu, gpu) = (dir.join("cpu"), dir.join("wgpu"));
    train(options(&c, &data, &cpu, Resume::Fresh)).unwrap();
    match train(TrainOptions { devices: "wgpu,wgpu".parse().unwrap(), ..options(&c, &data, &gpu, Resume::Fresh) }) {
        Err(e) if e.to_string().contains("could not start") => {
            assert!(std::env::var_os("LIFT_REQUIRE_WGPU").is_none(), "wgpu unavailable: {e}");
            eprintln!("skipped: no wgpu adapter ({e})");
            return;
        }
        other => other.unwrap(),
    };
    let (x, y) = (loss_curve(&cpu), loss_curve(&gpu));
    assert_eq!(y.len(), 2, "one row per epoch: {y:?}");
    assert!(x.iter().zip(&y).all(|(p, q)| ((p - q) / p).abs() <= 1e-3), "cpu {x:?} vs wgpu,wgpu {y:?}");
    // The losses alone would pass with workers that never update: the weights must have moved as
    // the CPU's did (measured on lavapipe: 3.4e-9 apart, 1.4e-4 moved, on average). A mean,
    // because AdamW's first steps are the gradient's sign, which rounding may flip for the few
    // parameters whose gradient is nearly zero.
    let init = values(&initial_lift::<A>(&c.model, c.train.seed, &Default::default()));
    let load = |run: &Path| {
        let template = LiftUNet::<A>::new(&c.model, &Default::default());
        values(&load_module(template, &RunDir(run.to_path_buf()).weights(Weights::Raw), &Default::default()).unwrap())
    };
    let (a, b) = (load(&cpu), load(&gpu));
    let mean = |p: &[f32], q: &[f32]| p.iter().zip(q).map(|(u, v)| (u - v).abs() as f64).sum::<f64>() / p.len() as f64;
    let (apart, moved) = (mean(&a, &b), mean(&a, &init));
    assert!(moved > 0.0 && apart <= 1e-2 * moved, "wgpu workers' weights {apart} from the CPU's, which moved {moved}");
    std::fs::remove_dir_all(dir).unwrap();
}
