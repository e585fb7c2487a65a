//! `lift-train --tensorboard`: tensorboard's own event reader (bench/tensorboard_check.py, the
//! PyPI package unpacked by `cargo xtask test`) finds every training step's loss at its global
//! step, every `metrics.csv` column at its epoch with the CSV's value, and the sample grids; a
//! resumed run goes on at the right steps. Skipped without python3 and the package unless
//! LIFT_REQUIRE_TORCH is set (CI).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use image::{Rgba, RgbaImage};
use lift_core::config::LiftConfig;
use lift_core::metrics_csv;
use lift_core::{DeviceSpec, ModelKind, PYTHON_REFERENCES};
use lift_train::run::{train, Dashboard, Resume, TrainOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Read {
    scalars: BTreeMap<String, Vec<(i64, f64)>>,
    images: BTreeMap<String, Vec<(i64, u32, u32, usize)>>,
}

fn read_events(dir: &Path) -> Option<Read> {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(PYTHON_REFERENCES);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/tensorboard_check.py");
    let usable = |py: &str| {
        Command::new(py)
            .env("PYTHONPATH", &site)
            .args(["-c", "import tensorboard.backend.event_processing.event_accumulator"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let Some(python) = ["/usr/bin/python3", "python3"].into_iter().find(|py| usable(py)) else {
        assert!(std::env::var_os("LIFT_REQUIRE_TORCH").is_none(), "no python3 reads tensorboard from {}: run `cargo xtask test`", site.display());
        eprintln!("skipped: tensorboard is not in {} (cargo xtask test fetches it)", site.display());
        return None;
    };
    let out = Command::new(python).arg(script).arg(&site).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

fn disc_folder(dir: &Path, n: usize) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..n {
        let colour = Rgba([(i * 37 % 256) as u8, (i * 91 % 256) as u8, 200, 255]);
        RgbaImage::from_fn(16, 16, |x, y| if (x as i64 - 8).pow(2) + (y as i64 - 8).pow(2) < 20 { colour } else { Rgba([0, 0, 0, 0]) })
            .save(data.join(format!("{i:03}.png")))
            .unwrap();
    }
    data
}

#[test]
fn tensorboard_reads_our_steps_epochs_and_grids() {
    let dir = std::env::temp_dir().join(format!("lift-tensorboard-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = disc_folder(&dir, 20);
    let mut c = LiftConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/smoke.toml")).unwrap();
    // 16 training images in batches of 8: two steps per epoch; 4 held out for validation.
    let t = &mut c.train;
    (t.epochs, t.batch_size, t.drop_last, t.max_batches_per_epoch, t.validation_fraction, t.sample_every) = (2, 8, true, 0, 0.2, 1);
    let (run, events) = (dir.join("run"), dir.join("events"));
    let options = |resume, epochs| {
        let mut config = c.clone();
        config.train.epochs = epochs;
        TrainOptions {
            config,
            model: ModelKind::Lift,
            data: data.clone(),
            out: run.clone(),
            devices: DeviceSpec::Cpu.into(),
            resume,
            skip_bad_images: false,
            dashboard: Dashboard::Quiet,
            tensorboard: Some(events.clone()),
        }
    };
    train(options(Resume::Fresh, 2)).unwrap();
    // Resuming adds a third epoch in a second event file.
    train(options(Resume::Latest, 3)).unwrap();
    let Some(read) = read_events(&events) else { return };
    let steps: Vec<i64> = read.scalars["train/loss"].iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6], "two steps per epoch, on from the resumed epoch");
    for tag in ["train/loss_64", "train/loss_32", "train/lr"] {
        assert_eq!(read.scalars[tag].len(), 6, "{tag}");
    }
    // Throughput is measured from an epoch's second step on.
    assert_eq!(read.scalars["train/images_per_s"].iter().map(|(s, _)| *s).collect::<Vec<_>>(), [2, 4, 6]);
    let rows = metrics_csv::read(&run.join("metrics.csv")).unwrap();
    assert_eq!(rows.len(), 3);
    for column in metrics_csv::COLUMNS.iter().filter(|c| **c != metrics_csv::EPOCH) {
        let logged = &read.scalars[&format!("epoch/{column}")];
        assert_eq!(logged.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [1, 2, 3], "{column}");
        if *column == metrics_csv::SECONDS {
            continue; // the two logs time the epoch a moment apart
        }
        for ((epoch, value), row) in logged.iter().zip(&rows) {
            let want = metrics_csv::value(row, column);
            // The CSV keeps 7 significant digits, the event file an f32.
            assert!((value - want).abs() <= 1e-6 * want.abs().max(1e-12), "{column} epoch {epoch}: {value} vs metrics.csv {want}");
        }
    }
    let grids = &read.images["samples"];
    assert_eq!(grids.iter().map(|g| g.0).collect::<Vec<_>>(), [2, 4, 6], "one grid per epoch at its last step");
    let first = image::open(run.join("samples/epoch-1.png")).unwrap();
    assert_eq!((grids[0].1, grids[0].2), (first.width(), first.height()));
    assert_eq!(grids[0].3 as u64, std::fs::metadata(run.join("samples/epoch-1.png")).unwrap().len());
    std::fs::remove_dir_all(dir).unwrap();
}
