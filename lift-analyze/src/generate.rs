//! `lift-analyze generate`: DDIM samples along a path, written as 16-bit PNGs as they are made.
//!
//! Each image's starting noise depends only on (seed, image index), so a run can stop anywhere
//! and continue, and any subset of images can be regenerated identically.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Result};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Tensor;
use lift_core::pipeline::{sample_baseline, sample_lift};
use lift_core::run::{load_run, Trained, Weights};
use lift_core::{BackendTask, ModelKind, PathFile, SamplingPath, TimestepRule};
use lift_train::batch::mix;
use serde::{Deserialize, Serialize};

use crate::progress::Progress;
use crate::sample_images::gaussian;

/// Which timesteps to sample along.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathChoice {
    /// The single-scale baseline run.
    Baseline,
    /// LIFT with both scales at the same timesteps.
    Diagonal,
    /// LIFT along a path file.
    File(PathBuf),
}

impl std::str::FromStr for PathChoice {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "baseline" => Self::Baseline,
            "diagonal" => Self::Diagonal,
            file => Self::File(file.into()),
        })
    }
}

/// What `generate` was asked to do (also saved as `generation.json` in the output folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateJob {
    pub checkpoint: PathBuf,
    pub weights: Weights,
    pub path: PathChoice,
    pub num_images: usize,
    pub out: PathBuf,
    pub steps: usize,
    pub protocol: TimestepRule,
    pub batch: usize,
    pub seed: u64,
}

/// What a generation run did.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateReport {
    pub evaluations: usize,
    pub timesteps: Vec<[usize; 2]>,
    pub generated: usize,
    pub already_there: usize,
    pub seconds: f64,
    pub images_per_s: f64,
}

/// The evaluation timesteps of a job for a model of `kind` with `train_timesteps` steps.
pub fn resolve_path(job: &GenerateJob, kind: ModelKind, train_timesteps: usize) -> Result<SamplingPath> {
    let rule = job.protocol.timesteps(job.steps, train_timesteps);
    let path = match (&job.path, kind) {
        (PathChoice::Baseline, ModelKind::Baseline) | (PathChoice::Diagonal, ModelKind::Lift) => SamplingPath::diagonal(&rule),
        (PathChoice::Baseline, ModelKind::Lift) => bail!("--path baseline needs a baseline run; this is a LIFT run (use diagonal or a path file)"),
        (_, ModelKind::Baseline) => bail!("a baseline run samples one scale: use --path baseline"),
        (PathChoice::File(f), ModelKind::Lift) => {
            let path = PathFile::load(f, train_timesteps)?.sampling_path();
            if job.protocol == TimestepRule::Fair {
                let want = rule.len();
                if path.evaluations() != want || path.timesteps[0] != [rule[0], rule[0]] {
                    bail!(
                        "the fair protocol gives every path {want} evaluations starting at t = {}: {} has {} starting at {:?} \
                         (make it with `lift-analyze dp --steps {}`)",
                        rule[0],
                        f.display(),
                        path.evaluations(),
                        path.timesteps[0],
                        want - 1
                    );
                }
            }
            path
        }
    };
    path.validate(train_timesteps)?;
    Ok(path)
}

/// File name of image `k`.
pub fn image_name(k: usize) -> String {
    format!("{k:06}.png")
}

/// Writes x ∈ [−1, 1] (CHW) as a 16-bit RGB PNG, atomically.
pub fn save_png16(path: &Path, chw: &[f32], side: usize) -> Result<()> {
    let n = side * side;
    let mut img = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::new(side as u32, side as u32);
    for (p, px) in img.pixels_mut().enumerate() {
        for c in 0..3 {
            px[c] = (((chw[c * n + p].clamp(-1.0, 1.0) + 1.0) / 2.0) * 65535.0).round() as u16;
        }
    }
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb16(img).write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
    lift_core::io::write_atomic(path, &bytes)
}

impl BackendTask for GenerateJob {
    type Output = Result<GenerateReport>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<GenerateReport> {
        let trained = load_run::<B::InnerBackend>(&self.checkpoint, self.weights, &device)?;
        let config = &trained.config;
        let schedule = lift_core::NoiseSchedule::new(config.schedule.kind, config.schedule.timesteps);
        let path = resolve_path(&self, trained.info.model, schedule.len())?;
        std::fs::create_dir_all(&self.out)?;
        let record = self.out.join("generation.json");
        match lift_core::io::read_json::<GenerateJob>(&record) {
            Ok(previous) if GenerateJob { num_images: self.num_images, batch: self.batch, ..previous.clone() } != self => bail!(
                "{} holds images of another generation (see {}); use another --out",
                self.out.display(),
                record.display()
            ),
            _ => lift_core::io::write_json(&record, &self)?,
        }
        let missing: Vec<usize> = (0..self.num_images).filter(|k| !self.out.join(image_name(*k)).exists()).collect();
        let r = config.model.resolution;
        let progress = Progress::new("generate", self.num_images as u64, (self.num_images - missing.len()) as u64);
        let start = Instant::now();
        for chunk in missing.chunks(self.batch.max(1)) {
            let noise = |side: usize, salt: u64| {
                let parts: Vec<Tensor<B::InnerBackend, 4>> =
                    chunk.iter().map(|&k| gaussian::<B::InnerBackend>([1, 3, side, side], mix(self.seed, k as u64) ^ salt, &device)).collect();
                Tensor::cat(parts, 0)
            };
            let x64 = match &trained.model {
                Trained::Lift(m) => sample_lift(m, &schedule, &path, noise(r, 0), noise(r / 2, 1)).0,
                Trained::Baseline(m) => {
                    let ts: Vec<usize> = path.timesteps.iter().map(|p| p[0]).collect();
                    sample_baseline(m, &schedule, &ts, noise(r, 0))
                }
            };
            let values: Vec<f32> = x64.into_data().to_vec().expect("f32 samples");
            for (i, &k) in chunk.iter().enumerate() {
                save_png16(&self.out.join(image_name(k)), &values[i * 3 * r * r..(i + 1) * 3 * r * r], r)?;
                progress.inc();
            }
        }
        progress.finish();
        let seconds = start.elapsed().as_secs_f64();
        Ok(GenerateReport {
            evaluations: path.evaluations(),
            timesteps: path.timesteps.clone(),
            generated: missing.len(),
            already_there: self.num_images - missing.len(),
            seconds,
            images_per_s: if missing.is_empty() { f64::NAN } else { missing.len() as f64 / seconds },
        })
    }
}

/// An 8×8 grid (or fewer) of the first images in `dir`, each scaled to at least 64 pixels.
pub fn sample_grid(dir: &Path, out: &Path, count: usize) -> Result<()> {
    let files: Vec<PathBuf> = (0..count).map(|k| dir.join(image_name(k))).take_while(|p| p.exists()).collect();
    if files.is_empty() {
        bail!("no images in {}", dir.display());
    }
    let side = image::image_dimensions(&files[0])?.0;
    let zoom = (64 / side).max(1);
    let cell = side * zoom;
    let cols = 8u32.min(files.len() as u32);
    let rows = (files.len() as u32).div_ceil(cols);
    let mut grid = image::RgbImage::from_pixel(cols * (cell + 2) + 2, rows * (cell + 2) + 2, image::Rgb([255, 255, 255]));
    for (k, f) in files.iter().enumerate() {
        let img = image::open(f)?.to_rgb8();
        let img = image::imageops::resize(&img, cell, cell, image::imageops::FilterType::Nearest);
        let (x, y) = ((k as u32 % cols) * (cell + 2) + 2, (k as u32 / cols) * (cell + 2) + 2);
        image::imageops::overlay(&mut grid, &img, x as i64, y as i64);
    }
    let mut bytes = Vec::new();
    grid.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
    lift_core::io::write_atomic(out, &bytes)
}
