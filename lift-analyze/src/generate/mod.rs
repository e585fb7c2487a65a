//! `lift-analyze generate`: DDIM samples of a strategy, written as PNGs (16 bits per channel unless
//! asked for 8) as they are made,
//! and optionally their Inception features computed from the sampler's floats in memory (the
//! original's FID protocol: no clamp, no quantisation before the resize).
//!
//! Each image's starting noise depends only on (seed, image index), so a run can stop anywhere
//! and continue, and any subset of images can be regenerated identically.

pub mod parts;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use clap::ValueEnum;
use lift_core::pipeline::{sample_baseline, sample_fine_only, sample_lift, CoarseInput};
use lift_core::run::{load_run_at, Trained, TrainedRun, Weights};
use lift_core::seed::mix;
use lift_core::single_output_sampling::sample_rebuilt;
use lift_core::study::Resize;
use lift_core::{BackendTask, ModelKind, PathFile, SamplingPath, Shard, Strategy, TimestepRule};
use serde::{Deserialize, Serialize};

use crate::clean_images::gaussian;
use crate::fid::features::FeatureFile;
use crate::fid::{extract, InceptionV3};
use crate::progress::Progress;

/// What `generate` was asked to do (also saved as `generation.json` in the output folder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateJob {
    pub run: PathBuf,
    pub weights: Weights,
    /// The snapshot's epoch (None: the run's final weights).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<usize>,
    pub strategy: Strategy,
    /// The path file of a strategy whose path comes from a heatmap.
    pub path: Option<PathBuf>,
    pub num_images: usize,
    pub out: PathBuf,
    pub steps: usize,
    pub protocol: TimestepRule,
    pub batch: usize,
    pub seed: u64,
    /// Bits per channel of the PNGs (files written before this was recorded are 16-bit).
    #[serde(default)]
    pub bits: PngBits,
    /// Also compute Inception features of the float samples into `features.f32`.
    pub features: Option<FeatureSpec>,
    /// Only this part of the images (whole batches), for `lift-analyze merge`.
    #[serde(default, skip_serializing_if = "Shard::is_whole")]
    pub shard: Shard,
}

impl GenerateJob {
    /// The job as the folder records it: what fixes the images, not how many or in which parts.
    fn identity(&self) -> GenerateJob {
        GenerateJob { num_images: 0, batch: 0, shard: Shard::WHOLE, ..self.clone() }
    }

    /// The features file of this job's part.
    pub fn features_file(&self) -> PathBuf {
        match self.shard.is_whole() {
            true => self.out.join(FeatureFile::NAME),
            false => self.out.join(format!("features.{}.f32", self.shard.suffix())),
        }
    }
}

/// The Inception network and resize for features of generated images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub inception: PathBuf,
    pub resize: Resize,
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

impl GenerateReport {
    /// Parts that ran side by side (`--devices`): their images summed over the slowest part's time.
    pub fn joined(parts: Vec<GenerateReport>) -> Self {
        let seconds = parts.iter().map(|p| p.seconds).fold(0.0, f64::max);
        let generated = parts.iter().map(|p| p.generated).sum::<usize>();
        let already_there = parts.iter().map(|p| p.already_there).sum();
        let first = parts.into_iter().next().expect("one part per device");
        let images_per_s = if generated == 0 { f64::NAN } else { generated as f64 / seconds };
        Self { generated, already_there, seconds, images_per_s, ..first }
    }
}

/// How a strategy samples.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// The baseline on its timesteps.
    Baseline(Vec<usize>),
    /// LIFT along a (t₆₄, t₃₂) path.
    Lift(SamplingPath),
    /// LIFT's 64×64 scale on its timesteps with a never-denoised 32×32 input.
    FineOnly { timesteps: Vec<usize>, coarse: CoarseInput },
    /// A single-output ablation along a (t₆₄, t₃₂) path, its coarse input rebuilt from x̂₀.
    Rebuilt(SamplingPath),
}

impl Route {
    /// Model evaluations per image.
    pub fn evaluations(&self) -> usize {
        self.timesteps().len()
    }

    /// (t₆₄, t₃₂) per evaluation (t₃₂ = t₆₄ for the baseline, the label for the ablations).
    pub fn timesteps(&self) -> Vec<[usize; 2]> {
        match self {
            Self::Baseline(ts) => ts.iter().map(|&t| [t, t]).collect(),
            Self::Lift(p) | Self::Rebuilt(p) => p.timesteps.clone(),
            Self::FineOnly { timesteps, coarse } => timesteps.iter().map(|&t| [t, coarse.label(t)]).collect(),
        }
    }
}

/// The sampling route of a job for a model of `kind` with `train_timesteps` steps.
pub fn resolve_route(job: &GenerateJob, kind: ModelKind, train_timesteps: usize) -> Result<Route> {
    let rule = job.protocol.timesteps(job.steps, train_timesteps).context("--steps")?;
    let s = job.strategy;
    if !s.serves(kind) {
        let models = ModelKind::value_variants().iter().filter(|&&k| s.serves(k)).map(|k| k.to_string()).collect::<Vec<_>>().join(", ");
        bail!("the {s} strategy samples {models} models, but {} is a {kind} run", job.run.display());
    }
    if !s.needs_heatmap() && job.path.is_some() {
        bail!("the {s} strategy takes no path file (--path is for strategies whose path comes from a heatmap)");
    }
    let route = match s {
        Strategy::Baseline => Route::Baseline(rule),
        Strategy::Diagonal => Route::Lift(SamplingPath::diagonal(&rule)),
        Strategy::Random32 => Route::FineOnly { timesteps: rule, coarse: CoarseInput::FreshNoise },
        Strategy::Fixed32 => Route::FineOnly { timesteps: rule, coarse: CoarseInput::InitialNoise },
        _ => {
            let file = job.path.as_ref().with_context(|| format!("the {s} strategy needs --path (a path file made by `lift-analyze dp`)"))?;
            let loaded = PathFile::load(file, train_timesteps)?;
            if loaded.meta.strategy != s {
                bail!("{} is a {} path, not {s}", file.display(), loaded.meta.strategy);
            }
            let path = loaded.sampling_path();
            if job.protocol == TimestepRule::Fair && (path.evaluations() != rule.len() || path.timesteps[0] != [rule[0], rule[0]]) {
                bail!(
                    "the fair protocol gives every path {} evaluations starting at t = {}: {} has {} starting at {:?} \
                     (make it with `lift-analyze dp --steps {}`)",
                    rule.len(),
                    rule[0],
                    file.display(),
                    path.evaluations(),
                    path.timesteps[0],
                    rule.len() - 1
                );
            }
            Route::Lift(path)
        }
    };
    if let Route::Lift(p) = &route {
        p.validate(train_timesteps)?;
    }
    Ok(match route {
        Route::Lift(p) if kind.is_single_output() => Route::Rebuilt(p),
        other => other,
    })
}

/// File name of image `k`.
pub fn image_name(k: usize) -> String {
    format!("{k:06}.png")
}

/// Bits per channel of a generated PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
pub enum PngBits {
    /// 8 bits: what viewers and most tools expect.
    #[value(name = "8")]
    #[serde(rename = "8")]
    Eight,
    /// 16 bits: the sampler's floats to within 1/65535, for FID and SWD from the files.
    #[default]
    #[value(name = "16")]
    #[serde(rename = "16")]
    Sixteen,
}

/// Writes x ∈ [−1, 1] (CHW) as an RGB PNG of `bits` per channel, atomically.
pub fn save_png(path: &Path, chw: &[f32], side: usize, bits: PngBits) -> Result<()> {
    let n = side * side;
    let level = |c: usize, p: usize, max: f32| ((chw[c * n + p].clamp(-1.0, 1.0) + 1.0) / 2.0 * max).round();
    let img = match bits {
        PngBits::Sixteen => image::DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(side as u32, side as u32, |x, y| {
            let p = y as usize * side + x as usize;
            image::Rgb([0, 1, 2].map(|c| level(c, p, 65535.0) as u16))
        })),
        PngBits::Eight => image::DynamicImage::ImageRgb8(image::ImageBuffer::from_fn(side as u32, side as u32, |x, y| {
            let p = y as usize * side + x as usize;
            image::Rgb([0, 1, 2].map(|c| level(c, p, 255.0) as u8))
        })),
    };
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
    lift_core::io::write_atomic(path, &bytes)
}

/// The starting noise of images `ks` at one scale: image k's depends only on (seed, k, salt).
fn noise<B: Backend>(ks: &[usize], side: usize, seed: u64, salt: u64, device: &B::Device) -> Tensor<B, 4> {
    Tensor::cat(ks.iter().map(|&k| gaussian::<B>([1, 3, side, side], mix(seed, k as u64) ^ salt, device)).collect(), 0)
}

/// Samples images `ks` with `route`.
///
/// # Shapes
/// - output: `[ks.len(), 3, res, res]`, the sampler's floats (not clamped).
pub fn sample_images<B: Backend>(trained: &TrainedRun<B>, route: &Route, ks: &[usize], seed: u64, device: &B::Device) -> Tensor<B, 4> {
    let r = trained.config.model.resolution;
    let c = trained.config.model.coarse_resolution();
    let schedule = trained.config.schedule.build();
    match (&trained.model, route) {
        (Trained::Baseline(m), Route::Baseline(ts)) => sample_baseline(m, &schedule, ts, noise(ks, r, seed, 0, device)),
        (Trained::Lift(m), Route::Lift(path)) => sample_lift(m, &schedule, path, noise(ks, r, seed, 0, device), noise(ks, c, seed, 1, device)).0,
        (Trained::Lift(m), Route::FineOnly { timesteps, coarse }) => {
            // Step s's fresh coarse noise depends on (seed, image, step) only.
            let coarse_at = |step: usize| noise(ks, c, seed, 2 + step as u64, device);
            sample_fine_only(m, &schedule, timesteps, noise(ks, r, seed, 0, device), noise(ks, c, seed, 1, device), *coarse, coarse_at)
        }
        (Trained::SingleOutput(m), Route::Rebuilt(path)) => {
            // Step s's fresh coarse noise depends on (seed, image, step) only, as above.
            let fresh = |step: usize| noise(ks, c, seed, 2 + step as u64, device);
            sample_rebuilt(|x64, x32, t64, _t32| m.forward(x64, x32, t64), &schedule, path, noise(ks, r, seed, 0, device), fresh)
        }
        _ => unreachable!("resolve_route checks the model kind"),
    }
}

impl crate::spread::Sharded for GenerateJob {
    const WHAT: &'static str = "generation";
    fn with_shard(self, shard: Shard) -> Self {
        Self { shard, ..self }
    }
    fn shard(&self) -> Shard {
        self.shard
    }
    fn part_file(&self, shard: Shard) -> PathBuf {
        parts::part_file(&self.out, shard)
    }
}

impl BackendTask for GenerateJob {
    type Output = Result<GenerateReport>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<GenerateReport> {
        let trained = load_run_at::<B::InnerBackend>(&self.run, self.weights, self.epoch, &device)?;
        let r = trained.config.model.resolution;
        let route = resolve_route(&self, trained.info.model, trained.config.schedule.timesteps)?;
        std::fs::create_dir_all(&self.out).with_context(|| format!("cannot create {}", self.out.display()))?;
        let record = self.out.join("generation.json");
        match lift_core::io::read_json::<GenerateJob>(&record) {
            Ok(previous) if previous.identity() != self.identity() => {
                bail!("{} holds images of another generation (see {}); use another --out", self.out.display(), record.display())
            }
            _ => lift_core::io::write_json(&record, &GenerateJob { shard: Shard::WHOLE, ..self.clone() })?,
        }
        let inception = match &self.features {
            Some(f) => Some((InceptionV3::<B::InnerBackend>::load(&f.inception, &device)?, f.resize)),
            None => None,
        };
        let mut features = FeatureFile::open(&self.features_file(), self.features.is_some())?;
        let mine = self.shard.range(self.num_images, self.batch);
        // With features, an image is done when its features are; they come in image order.
        let missing: Vec<usize> = match &features {
            Some(f) => ((mine.start + f.len()?).min(mine.end)..mine.end).collect(),
            None => mine.clone().filter(|k| !self.out.join(image_name(*k)).exists()).collect(),
        };
        let progress = Progress::new("generate", mine.len() as u64, (mine.len() - missing.len()) as u64);
        let start = Instant::now();
        for chunk in missing.chunks(self.batch.max(1)) {
            let x = sample_images(&trained, &route, chunk, self.seed, &device);
            if let (Some((net, resize)), Some(file)) = (&inception, features.as_mut()) {
                file.append(&extract(net, x.clone().add_scalar(1.0).div_scalar(2.0), *resize))?;
            }
            let values: Vec<f32> = x.into_data().to_vec().expect("f32 samples");
            for (i, &k) in chunk.iter().enumerate() {
                save_png(&self.out.join(image_name(k)), &values[i * 3 * r * r..(i + 1) * 3 * r * r], r, self.bits)?;
                progress.inc();
            }
        }
        progress.finish();
        let seconds = start.elapsed().as_secs_f64();
        if !self.shard.is_whole() {
            parts::write_part(&self, mine.clone())?;
        }
        Ok(GenerateReport {
            evaluations: route.evaluations(),
            timesteps: route.timesteps(),
            generated: missing.len(),
            already_there: mine.len() - missing.len(),
            seconds,
            images_per_s: if missing.is_empty() { f64::NAN } else { missing.len() as f64 / seconds },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_levels_map_minus_one_to_one_onto_the_full_range() {
        // One pixel per value: −1, 0 and 1 in all three channels; 0 is half way, rounded up.
        let dir = std::env::temp_dir().join(format!("lift-png-bits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let chw: Vec<f32> = [-1.0, 0.0, 1.0, 2.0].repeat(3);
        for (bits, expected) in [(PngBits::Eight, [0, 128, 255, 255]), (PngBits::Sixteen, [0, 32768, 65535, 65535])] {
            let file = dir.join(format!("{bits:?}.png"));
            save_png(&file, &chw, 2, bits).unwrap();
            let img = image::open(&file).unwrap();
            let read: Vec<u16> = match bits {
                PngBits::Eight => img.as_rgb8().expect("8-bit RGB").pixels().map(|p| p[0] as u16).collect(),
                PngBits::Sixteen => img.as_rgb16().expect("16-bit RGB").pixels().map(|p| p[0]).collect(),
            };
            assert_eq!(read, expected);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
