//! Training end to end on generated PNGs: learning, exact resume after a kill, bad input.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::backend::Flex;
use image::{Rgba, RgbaImage};
use lift_core::checkpoint::load_module;
use lift_core::data::ImageSet;
use lift_core::run::{RunDir, Weights};
use lift_core::{DeviceSpec, LiftConfig, ModelKind, NoiseSchedule};
use lift_train::batch::{EpochLoader, NoiseSource};
use lift_train::loss::Denoiser;
use lift_train::run::{initial_baseline, initial_lift, initial_single_output, train, Dashboard, Resume, TrainOptions};

type B = Flex;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lift-train-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` 32×32 images of coloured discs on white, in two class folders.
fn disc_folder(name: &str, n: usize) -> PathBuf {
    let dir = scratch(name).join("data");
    for i in 0..n {
        let class = dir.join(if i % 2 == 0 { "a" } else { "b" });
        std::fs::create_dir_all(&class).unwrap();
        let (cx, cy, r) = (8 + (i * 7) % 16, 8 + (i * 11) % 16, 4 + (i % 7) as i64);
        let colour = Rgba([(i * 37 % 256) as u8, (i * 91 % 256) as u8, (i * 53 % 256) as u8, 255]);
        let img = RgbaImage::from_fn(32, 32, |x, y| {
            let (dx, dy) = (x as i64 - cx as i64, y as i64 - cy as i64);
            if dx * dx + dy * dy < r * r {
                colour
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        img.save(class.join(format!("{i:03}.png"))).unwrap();
    }
    dir
}

/// configs/tiny.toml, shortened for tests.
fn test_config(epochs: usize, batches: usize) -> LiftConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/tiny.toml");
    let mut config = LiftConfig::load(&path).unwrap();
    config.train.epochs = epochs;
    config.train.batch_size = 8;
    config.train.max_batches_per_epoch = batches;
    config.train.lr = 2e-3;
    // A dozen steps: no warm-ups.
    (config.train.lr_warmup_steps, config.train.ema_warmup) = (0, false);
    config.train.validation_fraction = 0.1;
    // The folders here hold a handful of images: keep the short last batch.
    config.train.drop_last = false;
    config
}

fn options(config: LiftConfig, model: ModelKind, data: &Path, out: &Path) -> TrainOptions {
    TrainOptions {
        config,
        model,
        data: data.to_path_buf(),
        out: out.to_path_buf(),
        devices: DeviceSpec::Cpu.into(),
        resume: Resume::Fresh,
        skip_bad_images: false,
        dashboard: Dashboard::Quiet,
        tensorboard: None,
    }
}

fn fixed_batch_loss<M: Denoiser<B>>(model: &M, data: &Path, config: &LiftConfig) -> f32 {
    let images = Arc::new(ImageSet::load(data, config.model.resolution, false).unwrap());
    let source = Arc::new(NoiseSource::new(images.clone(), NoiseSchedule::reference()));
    let loader = EpochLoader::<B>::valid(source, (0..16).collect(), 16, 7, Default::default());
    model.losses(&loader.batch_of(1, 0)).total.into_scalar()
}

#[test]
fn training_lowers_the_loss_for_every_model() {
    let data = disc_folder("learn", 48);
    let config = test_config(2, 6);
    let dev = Default::default();
    for kind in [ModelKind::Lift, ModelKind::Baseline, ModelKind::SingleT, ModelKind::NoT] {
        let out = data.parent().unwrap().join(kind.to_string());
        train(options(config.clone(), kind, &data, &out)).unwrap();
        let weights = RunDir(out.clone()).weights(Weights::Raw);
        let (before, after) = match kind {
            ModelKind::Lift => {
                let init = initial_lift::<B>(&config.model, config.train.seed, &dev);
                let trained = load_module(init.clone(), &weights, &dev).unwrap();
                (fixed_batch_loss(&init, &data, &config), fixed_batch_loss(&trained, &data, &config))
            }
            ModelKind::Baseline => {
                let init = initial_baseline::<B>(&config.model, config.train.seed, &dev);
                let trained = load_module(init.clone(), &weights, &dev).unwrap();
                (fixed_batch_loss(&init, &data, &config), fixed_batch_loss(&trained, &data, &config))
            }
            ablation => {
                let init = initial_single_output::<B>(&config.model, ablation == ModelKind::SingleT, config.train.seed, &dev);
                let trained = load_module(init.clone(), &weights, &dev).unwrap();
                (fixed_batch_loss(&init, &data, &config), fixed_batch_loss(&trained, &data, &config))
            }
        };
        assert!(after < 0.9 * before, "{kind}: loss {before} before training, {after} after");
        let csv = std::fs::read_to_string(RunDir(out).metrics()).unwrap();
        assert_eq!(csv.lines().count(), 3, "header + one row per epoch:\n{csv}");
    }
}

#[test]
fn resume_after_a_kill_equals_an_uninterrupted_run() {
    let data = disc_folder("resume", 40);
    let root = data.parent().unwrap().to_path_buf();
    let config = test_config(2, 8);
    let config_path = root.join("config.toml");
    std::fs::write(&config_path, config.to_toml()).unwrap();

    // Both runs in their own processes: model initialisation draws from the backend's global RNG,
    // which the other tests of this binary share.
    let command = |out: &Path, resume: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lift-train"));
        cmd.args(["--model", "lift", "--quiet", "--config"]).arg(&config_path).arg("--data").arg(&data).arg("--out").arg(out);
        if resume {
            cmd.arg("--resume");
        }
        cmd.stdout(std::process::Stdio::null());
        cmd
    };
    let straight = root.join("straight");
    assert!(command(&straight, false).status().unwrap().success());

    let killed = root.join("killed");
    let mut child = command(&killed, false).spawn().unwrap();
    let ck = killed.join("checkpoint");
    let epoch1_saved = || ["model", "optim", "scheduler"].iter().all(|p| ck.join(format!("{p}-1.mpk")).exists());
    let start = Instant::now();
    while !epoch1_saved() {
        assert!(child.try_wait().unwrap().is_none(), "training ended before it could be killed");
        assert!(start.elapsed() < Duration::from_secs(300), "no checkpoint after 5 minutes");
        std::thread::sleep(Duration::from_millis(5));
    }
    // While it runs, a second training into its folder is refused, naming the folder and the holder.
    let second = command(&killed, true).stderr(std::process::Stdio::piped()).output().unwrap();
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "a second training into a busy folder must fail");
    assert!(message.contains(&killed.display().to_string()) && message.contains(&format!("pid {}", child.id())), "{message}");
    // kill -9: the lock goes with the process, so --resume below is not blocked.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!ck.join("model-2.mpk").exists(), "the kill came too late to test anything");
    assert!(!RunDir(killed.clone()).weights(Weights::Raw).exists());

    assert!(command(&killed, true).status().unwrap().success());
    for which in [Weights::Raw, Weights::Ema] {
        let load = |run: &Path| {
            let template = lift_core::LiftUNet::<B>::new(&config.model, &Default::default());
            parameters(&load_module(template, &RunDir(run.to_path_buf()).weights(which), &Default::default()).unwrap())
        };
        let (a, b) = (load(&straight), load(&killed));
        assert_eq!(a.len(), b.len());
        let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert_eq!(diff, 0.0, "{} weights differ after resume by up to {diff}", which);
    }
    let csv = std::fs::read_to_string(RunDir(killed).metrics()).unwrap();
    let epochs: Vec<&str> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(epochs, ["1", "2"]);
}

/// All parameter values, in visiting order (record files also hold random parameter ids, so
/// their bytes differ between runs even when the values are equal).
fn parameters<M: burn::module::Module<B>>(module: &M) -> Vec<f32> {
    struct Values(Vec<f32>);
    impl burn::module::ModuleVisitor<B> for Values {
        fn visit_float<const D: usize>(&mut self, p: &burn::module::Param<burn::tensor::Tensor<B, D>>) {
            self.0.extend(p.val().into_data().to_vec::<f32>().unwrap());
        }
    }
    let mut v = Values(Vec::new());
    module.visit(&mut v);
    v.0
}

#[test]
fn corrupt_image_is_named_or_skipped() {
    let data = disc_folder("corrupt", 6);
    let bad = data.join("a").join("broken.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let out = data.parent().unwrap().join("run");
    let e = format!("{:#}", train(options(test_config(1, 1), ModelKind::Lift, &data, &out)).unwrap_err());
    assert!(e.contains("broken.png"), "{e}");
    let mut opts = options(test_config(1, 1), ModelKind::Lift, &data, &out);
    opts.skip_bad_images = true;
    let info = train(opts).unwrap();
    assert_eq!((info.dataset.images, info.dataset.skipped), (6, 1));
}

#[test]
fn empty_missing_and_too_small_data_are_clear_errors() {
    let root = scratch("empty");
    let empty = root.join("nothing");
    std::fs::create_dir_all(&empty).unwrap();
    let e = format!("{:#}", train(options(test_config(1, 1), ModelKind::Lift, &empty, &root.join("r"))).unwrap_err());
    assert!(e.contains("nothing") && e.contains("no PNG"), "{e}");
    let missing = root.join("absent");
    let e = format!("{:#}", train(options(test_config(1, 1), ModelKind::Lift, &missing, &root.join("r"))).unwrap_err());
    assert!(e.contains("absent") && e.contains("does not exist"), "{e}");
    let data = disc_folder("small", 2);
    let mut config = test_config(1, 1);
    config.model.resolution = 64;
    let e = format!("{:#}", train(options(config, ModelKind::Lift, &data, &root.join("r"))).unwrap_err());
    assert!(e.contains("model.resolution"), "{e}");
}

#[test]
fn resume_with_another_config_is_refused() {
    let data = disc_folder("otherconfig", 8);
    let out = data.parent().unwrap().join("run");
    train(options(test_config(1, 1), ModelKind::Lift, &data, &out)).unwrap();
    let mut other = test_config(2, 1);
    other.model.dims = vec![8, 16, 32];
    let mut opts = options(other, ModelKind::Lift, &data, &out);
    opts.resume = Resume::Latest;
    let e = format!("{:#}", train(opts).unwrap_err());
    assert!(e.contains("another configuration"), "{e}");
    // Weights of one config cannot be loaded into a model of another.
    let wide = lift_core::ModelConfig { dims: vec![24, 48, 96], ..test_config(1, 1).model };
    let e = format!(
        "{:#}",
        load_module(lift_core::LiftUNet::<B>::new(&wide, &Default::default()), &RunDir(out).weights(Weights::Raw), &Default::default())
            .map(|_| ())
            .unwrap_err()
    );
    assert!(e.contains("do not fit"), "{e}");
}

#[test]
fn non_finite_loss_stops_and_keeps_the_last_checkpoint() {
    let data = disc_folder("nan", 8);
    let out = data.parent().unwrap().join("run");
    let mut config = test_config(3, 1);
    config.train.lr = 1e30; // the first update blows the weights up; the next loss is not finite
    config.train.grad_clip = 0.0;
    config.train.lr_schedule = lift_core::config::LrSchedule::Constant;
    let e = format!("{:#}", train(options(config, ModelKind::Lift, &data, &out)).unwrap_err());
    assert!(e.contains("loss is") && e.contains("iteration"), "{e}");
    // Weights of size ~1e30 may give a huge but finite loss for an epoch or two (how soon it
    // overflows depends on summation order), so the test reads which epoch the message names.
    let kept: usize = e.split("(epoch ").nth(1).and_then(|r| r.split(')').next()).and_then(|n| n.parse().ok()).expect(&e);
    assert!((1..3).contains(&kept), "stopped before the last of 3 epochs with a checkpoint: {e}");
    assert!(out.join(format!("checkpoint/model-{kept}.mpk")).exists());
    assert!(!RunDir(out).weights(Weights::Raw).exists());
}
