//! The whole study on a GPU backend: `cargo xtask reproduce` on a cut-down smoke study (ten images,
//! three strategies, the last EMA snapshot, one seed, three samples per set) with `--device wgpu`
//! — training through the Learner
//! with autodiff, EMA and checkpoints, heatmap VJPs, DP paths, sampling, Inception and the report —
//! and the same study on the CPU. burn-wgpu and burn-cuda share Burn's CubeCL kernels, so this is the
//! closest check CI can make of what a CUDA user runs. Runs with `--features wgpu`; CI provides
//! Vulkan through Mesa's lavapipe and sets LIFT_REQUIRE_WGPU so that a missing adapter fails.
#![cfg(feature = "wgpu")]

use std::path::{Path, PathBuf};
use std::process::Command;

use lift_analyze::evaluate::ResultRow;
use lift_analyze::heatmap::Heatmap;
use lift_analyze::study_dir::{StudyDir, STAGES};
use lift_core::{metrics_csv, ModelKind, Snapshot, Weights};

/// The cut-down study: every stage, few Inception passes (lavapipe takes ~6 s an image).
const SETS: [&str; 7] = [
    "study.strategies=[\"baseline\", \"diagonal\", \"dp-total\"]",
    "study.protocols=[\"reference\"]",
    "study.weights=[\"ema\"]",
    "study.eval_epochs=\"last\"",
    "study.seeds=1",
    "study.fid_images=3",
    "study.real_images=4",
];

/// Ten 16×16 images: a disc of its own colour and place on a gradient.
fn images(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for k in 0..10u32 {
        let (cx, cy) = (4.0 + (k % 3) as f32 * 4.0, 4.0 + (k / 3 % 3) as f32 * 4.0);
        let img = image::RgbImage::from_fn(16, 16, |x, y| {
            let inside = (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < 16.0;
            match inside {
                true => image::Rgb([(40 * k % 256) as u8, 200, (255 - 20 * k) as u8]),
                false => image::Rgb([(x * 16) as u8, (y * 16) as u8, 128]),
            }
        });
        img.save(dir.join(format!("{k:02}.png"))).unwrap();
    }
    dir.to_path_buf()
}

/// Runs the study on `device` into `out`; None when wgpu has no adapter and none is required.
fn study(device: &str, data: &Path, out: &Path) -> Option<String> {
    let _ = std::fs::remove_dir_all(out);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).args(["reproduce", "--preset", "smoke", "--device", device, "--out"]).arg(out);
    cmd.arg("--data").arg(data);
    for set in SETS {
        cmd.args(["--set", set]);
    }
    let output = cmd.output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() && stderr.contains("could not start") {
        assert!(std::env::var_os("LIFT_REQUIRE_WGPU").is_none(), "wgpu unavailable: {stderr}");
        eprintln!("skipped: no wgpu adapter");
        return None;
    }
    assert!(output.status.success(), "reproduce --device {device} failed:\n{stdout}\n{stderr}");
    Some(stdout)
}

/// Largest |a − b| / max(|b|, floor) over pairs.
fn worst_relative(a: impl IntoIterator<Item = f64>, b: impl IntoIterator<Item = f64>, floor: f64) -> f64 {
    a.into_iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(floor)).fold(0.0, f64::max)
}

fn losses(dir: &StudyDir, kind: ModelKind) -> Vec<f64> {
    let rows = metrics_csv::read(&lift_core::run::RunDir(dir.run(kind)).metrics()).unwrap();
    rows.iter().flat_map(|r| [metrics_csv::TRAIN_LOSS, metrics_csv::VALID_LOSS, metrics_csv::VALID_EMA_LOSS].map(|c| metrics_csv::value(r, c))).collect()
}

fn heatmap_values(dir: &StudyDir, snapshot: Snapshot) -> Vec<f64> {
    let map = Heatmap::load(&dir.heatmap(snapshot, 0)).unwrap();
    [&map.blocks.hh, &map.blocks.hl, &map.blocks.lh, &map.blocks.ll].iter().flat_map(|b| b.mean.iter().flatten().copied()).collect()
}

fn fids(dir: &StudyDir) -> Vec<(String, f64)> {
    let rows: Vec<ResultRow> = lift_core::io::read_json(&dir.results()).unwrap();
    rows.iter().map(|r| (format!("{} {}", r.strategy, r.snapshot()), r.fid)).collect()
}

#[test]
fn the_study_on_wgpu_matches_the_cpu() {
    let root = std::env::temp_dir().join(format!("lift-wgpu-study-{}", std::process::id()));
    let (cpu, gpu): (PathBuf, PathBuf) = (root.join("cpu"), root.join("wgpu"));
    let data = images(&root.join("data"));
    let Some(said) = study("wgpu", &data, &gpu) else { return };
    study("cpu", &data, &cpu).unwrap();
    let (cpu, gpu) = (StudyDir(cpu), StudyDir(gpu));
    // Every stage ran and logged its peak memory.
    for stage in STAGES {
        let m: serde_json::Value = lift_core::io::read_json(&gpu.stage(stage).join("manifest.json")).unwrap();
        assert!(m["peak_rss_mib"].as_f64().is_some_and(|m| m > 0.0), "{stage}: {m}");
    }
    assert!(said.contains("peak RSS"), "{said}");
    // The two backends' f32 kernels sum in different orders. Measured on lavapipe (2026-12-07):
    // losses 9e-7, heatmap 4e-6 and FID 1.3e-6 apart (relative); the bounds leave 20–100× room.
    for kind in [ModelKind::Baseline, ModelKind::Lift] {
        let worst = worst_relative(losses(&gpu, kind), losses(&cpu, kind), 1e-3);
        eprintln!("{kind} losses: wgpu vs cpu {worst:.2e} relative");
        assert!(worst <= 1e-4, "{kind} losses: wgpu {:?} vs cpu {:?} ({worst})", losses(&gpu, kind), losses(&cpu, kind));
    }
    let config = lift_core::LiftConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/smoke.toml")).unwrap();
    let last = Snapshot { weights: Weights::Ema, epoch: config.train.epochs };
    let worst = worst_relative(heatmap_values(&gpu, last), heatmap_values(&cpu, last), 1e-6);
    eprintln!("heatmap: wgpu vs cpu {worst:.2e} relative");
    assert!(worst <= 1e-4, "heatmaps differ by {worst} relative");
    let (a, b) = (fids(&gpu), fids(&cpu));
    assert_eq!(a.iter().map(|r| &r.0).collect::<Vec<_>>(), b.iter().map(|r| &r.0).collect::<Vec<_>>(), "the same sample sets");
    let worst = worst_relative(a.iter().map(|r| r.1), b.iter().map(|r| r.1), 1.0);
    eprintln!("FID: wgpu vs cpu {worst:.2e} relative ({a:?})");
    assert!(worst <= 1e-4, "FID: wgpu {a:?} vs cpu {b:?} ({worst})");
    std::fs::remove_dir_all(&root).ok();
}
