//! Helpers shared by the integration tests (each test binary uses some of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use lift_core::checkpoint::save_module;
use lift_core::model::init::seeded_module;
use lift_core::run::{DatasetInfo, RunDir, RunInfo, Weights};
use lift_core::{BaselineUNet, LiftConfig, LiftUNet, ModelKind, SingleOutputUNet};

/// A run folder holding untrained raw and EMA weights of a small configuration.
pub fn fake_run(name: &str, kind: ModelKind) -> PathBuf {
    fake_run_on(name, kind, Path::new("none"))
}

/// [`fake_run`] whose run.json says it trained on `data`.
pub fn fake_run_on(name: &str, kind: ModelKind, data: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lift-gen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = LiftConfig::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml"))).unwrap();
    config.model.dims = vec![8, 16];
    config.model.attention_min_channels = 16;
    config.model.resolution = 16;
    let run = RunDir(dir.clone());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(run.config(), config.to_toml()).unwrap();
    let info = RunInfo {
        model: kind,
        parameters: 0,
        dataset: DatasetInfo { path: data.to_path_buf(), images: 0, skipped: 0, train_images: 0, valid_images: 0 },
        git_commit: "test".into(),
        device: "cpu".into(),
        epochs_planned: 1,
        epochs_completed: 1,
        train_seconds: 0.0,
    };
    lift_core::io::write_json(&run.info(), &info).unwrap();
    let dev = Default::default();
    for (which, seed) in [(Weights::Ema, 3), (Weights::Raw, 4)] {
        let path = run.weights(which);
        match kind {
            ModelKind::Lift => save_module(seeded_module(LiftUNet::<Flex>::new(&config.model, &dev), seed), &path),
            ModelKind::Baseline => save_module(seeded_module(BaselineUNet::<Flex>::new(&config.model, &dev), seed), &path),
            ablation => save_module(seeded_module(SingleOutputUNet::<Flex>::new(&config.model, ablation == ModelKind::SingleT, &dev), seed), &path),
        }
        .unwrap();
    }
    dir
}

/// `n` generated 16×16 PNGs in a fresh folder.
pub fn png_folder(name: &str, n: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lift-pngs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for k in 0..n {
        let img = image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([(x * 16) as u8, (y * 16) as u8, (k * 40) as u8]));
        img.save(dir.join(format!("{k:03}.png"))).unwrap();
    }
    dir
}

/// The Inception weights, or `None` (a failure under `LIFT_REQUIRE_INCEPTION`) when not fetched.
pub fn inception_weights() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts/weights/inception-2015-12-05.pt");
    if path.exists() {
        return Some(path);
    }
    assert!(std::env::var_os("LIFT_REQUIRE_INCEPTION").is_none(), "{} is missing: run `cargo xtask fetch-inception`", path.display());
    eprintln!("skipped: {} is missing (cargo xtask fetch-inception)", path.display());
    None
}

/// A python3 that imports torch, numpy and PIL (Debian's python3-torch and python3-pil), or None:
/// the test then says it skipped its PyTorch side, or fails under LIFT_REQUIRE_TORCH (CI).
pub fn torch_python() -> Option<&'static str> {
    let imports = |py: &str| std::process::Command::new(py).args(["-c", "import torch, numpy, PIL"]).output().is_ok_and(|o| o.status.success());
    let found = ["/usr/bin/python3", "python3"].into_iter().find(|py| imports(py));
    if found.is_none() {
        assert!(std::env::var_os("LIFT_REQUIRE_TORCH").is_none(), "LIFT_REQUIRE_TORCH is set but no python3 imports torch, numpy and PIL");
        eprintln!("skipped the PyTorch side: no python3 with torch, numpy and PIL (apt-get install python3-torch python3-pil)");
    }
    found
}

/// Runs `bench/<script>` with `args` on [`torch_python`] (which the caller checked) and returns
/// its output; fails the test when the script fails.
pub fn run_bench_script<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench").join(script);
    let out = std::process::Command::new(torch_python().expect("checked by the caller")).arg(path).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script}: {text}");
    text
}

/// Runs the `lift-analyze` binary with `args`; true when it succeeds.
pub fn lift_analyze<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> bool {
    std::process::Command::new(env!("CARGO_BIN_EXE_lift-analyze")).args(args).status().unwrap().success()
}
