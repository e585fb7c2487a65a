//! LIFT as a super-resolver (`later-experiments.md` §6): the coarse input is held clean at
//! t₃₂ = 0 (the real image's 2×2 average) while the fine scale is denoised from pure noise; PSNR
//! and SSIM against the real image, beside bicubic upsampling of the same coarse input.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;
use lift_core::data::{coarse_side, ImageSet};
use lift_core::model::resample::resample_separable;
use lift_core::pipeline::{sample_fine_only, CoarseInput};
use lift_core::run::{load_run_at, Trained, Weights};
use lift_core::seed::mix;
use lift_core::timesteps::TimestepRule;
use lift_core::BackendTask;
use serde::{Deserialize, Serialize};

use crate::clean_images::{gaussian, images_at};
use crate::evaluate::mean_std;
use crate::fid::resize::{resize_matrix, Resize};
use crate::image_quality::{psnr, ssim, Planes};

/// The comparison's files in its output folder: scores, table, figure.
pub const SR_JSON: &str = "sr.json";
pub const SR_TABLE: &str = "sr.md";
pub const SR_FIGURE: &str = "sr.png";
/// Rows of the figure (the table covers every image).
pub const FIGURE_ROWS: usize = 8;

/// What `lift-analyze super-resolve` was asked to do.
#[derive(Debug, Clone)]
pub struct SuperResolveJob {
    pub run: PathBuf,
    pub weights: Weights,
    pub epoch: Option<usize>,
    pub data: PathBuf,
    pub images: usize,
    pub steps: usize,
    pub protocol: TimestepRule,
    pub seed: u64,
    /// Images per sampling batch (does not change the numbers).
    pub batch: usize,
}

/// One image's scores, each method against the real image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SrScores {
    pub file: String,
    /// Whether the image was held out of training.
    pub held_out: bool,
    pub psnr_lift: f64,
    pub ssim_lift: f64,
    pub psnr_bicubic: f64,
    pub ssim_bicubic: f64,
}

/// The comparison over every image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SrReport {
    pub checkpoint: String,
    pub weights: Weights,
    pub epoch: Option<usize>,
    pub resolution: usize,
    /// The fine scale's evaluation timesteps, noisiest first.
    pub timesteps: Vec<usize>,
    pub seed: u64,
    pub images: Vec<SrScores>,
}

/// One image's four panels on [0, 1], CHW at the fine size: the coarse input (nearest-neighbour
/// enlarged), bicubic, LIFT and the real image.
pub type Panels = [Vec<f64>; 4];

/// The images the comparison uses: held-out images first (the model never saw them), then
/// training images, each in the data set's order.
pub fn chosen_images(set: &ImageSet, validation_fraction: f64, split_seed: u64, count: usize, data: &Path) -> Result<Vec<(usize, bool)>> {
    let (mut train, mut held_out) = set.split(validation_fraction, split_seed);
    held_out.sort_unstable();
    train.sort_unstable();
    let chosen: Vec<(usize, bool)> = held_out.into_iter().map(|i| (i, true)).chain(train.into_iter().map(|i| (i, false))).take(count).collect();
    if chosen.len() < count {
        bail!("{} has {} images; --num-images asked for {count}", data.display(), chosen.len());
    }
    Ok(chosen)
}

/// [−1, 1] model space to [0, 1] pixels, clamped, per image.
fn to_unit<B: Backend>(x: Tensor<B, 4>) -> Vec<Vec<f64>> {
    let n = x.dims()[0];
    let v: Vec<f32> = x.add_scalar(1.0).div_scalar(2.0).clamp(0.0, 1.0).into_data().convert::<f32>().to_vec().expect("f32 pixels");
    v.chunks(v.len() / n.max(1)).map(|c| c.iter().map(|&p| p as f64).collect()).collect()
}

/// Each pixel repeated over a 2×2 block (CHW).
fn nearest_2x(chw: &[f64], side: usize) -> Vec<f64> {
    let big = 2 * side;
    (0..chw.len() * 4).map(|i| (i / (big * big), i % (big * big))).map(|(c, p)| chw[c * side * side + (p / big / 2) * side + (p % big) / 2]).collect()
}

impl BackendTask for SuperResolveJob {
    type Output = Result<(SrReport, Vec<Panels>)>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Self::Output {
        let trained = load_run_at::<B::InnerBackend>(&self.run, self.weights, self.epoch, &device)?;
        let Trained::Lift(model) = &trained.model else {
            bail!("{} is a baseline run: super-resolution needs the two-scale LIFT model", self.run.display());
        };
        let config = &trained.config;
        let (r, c) = (config.model.resolution, coarse_side(config.model.resolution));
        let schedule = config.schedule.build();
        let timesteps = self.protocol.timesteps(self.steps, schedule.len())?;
        let set = ImageSet::load(&self.data, r, true)?;
        let chosen = chosen_images(&set, config.train.validation_fraction, config.train.seed, self.images, &self.data)?;
        let bicubic = resize_matrix(Resize::Bicubic, c, r);
        let (mut scores, mut panels) = (Vec::new(), Vec::new());
        for chunk in chosen.chunks(self.batch.max(1)) {
            let indices: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
            let x = images_at::<B::InnerBackend>(&set, &indices, &device);
            // Image k's starting noise depends on (seed, k) only, whatever the batch.
            let noise = Tensor::cat(indices.iter().map(|&k| gaussian([1, 3, r, r], mix(self.seed, k as u64), &device)).collect(), 0);
            let coarse01 = x.x32.clone().add_scalar(1.0).div_scalar(2.0);
            let upsampled = resample_separable(coarse01, &bicubic, r, &bicubic, r).mul_scalar(2.0).sub_scalar(1.0);
            let lift =
                sample_fine_only(model, &schedule, &timesteps, noise, x.x32.clone(), CoarseInput::Clean, |_| unreachable!("a clean input is never redrawn"));
            let (real, coarse, up, sr) = (to_unit(x.x64), to_unit(x.x32), to_unit(upsampled), to_unit(lift));
            for (k, &(index, held_out)) in chunk.iter().enumerate() {
                let planes = |pixels| Planes { pixels, channels: 3, side: r };
                let (truth, ours, theirs) = (planes(real[k].as_slice()), planes(sr[k].as_slice()), planes(up[k].as_slice()));
                scores.push(SrScores {
                    file: set.files()[index].display().to_string(),
                    held_out,
                    psnr_lift: psnr(ours, truth)?,
                    ssim_lift: ssim(ours, truth)?,
                    psnr_bicubic: psnr(theirs, truth)?,
                    ssim_bicubic: ssim(theirs, truth)?,
                });
                panels.push([nearest_2x(&coarse[k], c), up[k].clone(), sr[k].clone(), real[k].clone()]);
            }
        }
        let report = SrReport {
            checkpoint: self.run.display().to_string(),
            weights: self.weights,
            epoch: self.epoch,
            resolution: r,
            timesteps,
            seed: self.seed,
            images: scores,
        };
        Ok((report, panels))
    }
}

/// The original's numbers (EMA, 2,000 epochs; `later-experiments.md` §6), for the report.
const ORIGINAL: &str = "The original reports (EMA weights, 2,000 epochs, 64×64): LIFT 30.99 dB / SSIM 0.9539 against bicubic \
30.44 dB / 0.9477, with LIFT behind bicubic in PSNR before about 1,600 epochs.";

impl SrReport {
    /// The comparison table with the protocol and the original's numbers, in markdown.
    pub fn markdown(&self) -> String {
        let column = |f: fn(&SrScores) -> f64, decimals: usize| mean_std(&self.images.iter().map(f).collect::<Vec<_>>(), decimals);
        let row = |name: &str, psnr: String, ssim: String| format!("| {name} | {psnr} | {ssim} |\n");
        let [fine, coarse] = lift_core::data::scale_names(self.resolution);
        let held_out = self.images.iter().filter(|s| s.held_out).count();
        let wins = self.images.iter().filter(|s| s.psnr_lift > s.psnr_bicubic).count();
        let mut s = format!(
            "Super-resolution {coarse} → {fine}: the {coarse} input held clean at t = 0, the {fine} scale denoised from pure noise \
             over {} evaluations (t = {} → {}), {} images ({held_out} held out of training, {} from it), {} weights{}. \
             PSNR on [0, 1]; SSIM with an 11-tap Gaussian window (σ 1.5), mean ± std over images (ddof 0).\n\n\
             | method | PSNR (dB) | SSIM |\n|---|---|---|\n",
            self.timesteps.len(),
            self.timesteps.first().copied().unwrap_or(0),
            self.timesteps.last().copied().unwrap_or(0),
            self.images.len(),
            self.images.len() - held_out,
            self.weights,
            self.epoch.map(|e| format!(" after epoch {e}")).unwrap_or_default(),
        );
        s += &row("LIFT", column(|x| x.psnr_lift, 2), column(|x| x.ssim_lift, 4));
        s += &row("bicubic", column(|x| x.psnr_bicubic, 2), column(|x| x.ssim_bicubic, 4));
        s += &format!(
            "\nLIFT beats bicubic in PSNR on {wins} of {} images. LPIPS is not reported: it needs AlexNet or VGG weights that \
             cannot be fetched from the package registries. {ORIGINAL}\n",
            self.images.len()
        );
        s
    }
}

/// The figure: one row per image (at most `rows`), columns coarse input | bicubic | LIFT | real.
pub fn panels_figure(panels: &[Panels], side: usize, rows: usize, out: &Path) -> Result<()> {
    let zoom = (64 / side).max(1) as u32;
    let cell = side as u32 * zoom;
    let shown = &panels[..panels.len().min(rows)];
    let mut grid = image::RgbImage::from_pixel(4 * (cell + 2) + 2, shown.len() as u32 * (cell + 2) + 2, image::Rgb([255, 255, 255]));
    for (row, images) in shown.iter().enumerate() {
        for (col, chw) in images.iter().enumerate() {
            let plane = side * side;
            let tile = image::RgbImage::from_fn(side as u32, side as u32, |x, y| {
                let p = y as usize * side + x as usize;
                image::Rgb([0, 1, 2].map(|c| (chw[c * plane + p] * 255.0).round().clamp(0.0, 255.0) as u8))
            });
            let tile = image::imageops::resize(&tile, cell, cell, image::imageops::FilterType::Nearest);
            image::imageops::overlay(&mut grid, &tile, (col as u32 * (cell + 2) + 2) as i64, (row as u32 * (cell + 2) + 2) as i64);
        }
    }
    lift_core::image_grid::save_png(&grid, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_enlargement_repeats_each_pixel_over_two_by_two() {
        // One channel plane of 2×2 then a second: [1 2; 3 4] and [5 6; 7 8].
        let big = nearest_2x(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 2);
        let expect = [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8];
        assert_eq!(big, expect.map(|v| v as f64));
    }
}
