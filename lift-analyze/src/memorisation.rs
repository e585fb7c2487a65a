//! Does a model copy its training images? For every generated image, the distance to its nearest
//! training image, in Inception pool3 features and in pixels (RMS over [0, 1] RGB at the model's
//! resolution). The threshold is calibrated on real images the model never trained on: the
//! smallest nearest-training distance of any held-out image. A sample closer than that is closer
//! to a training image than any new real image came, and is counted as a likely copy. With m
//! held-out images a generator of genuinely new images would still have about 1/(m + 1) of its
//! samples flagged (the chance of falling below the minimum of m draws): the report shows that
//! rate beside the count.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::swd::Planes;

/// The training and held-out images a sample set is compared with.
pub struct Reference {
    pub train_files: Vec<PathBuf>,
    /// `train_files.len()` rows of `dim` features.
    pub train_features: Vec<f32>,
    pub train_planes: Planes,
    pub held_out_features: Vec<f32>,
    pub held_out_planes: Planes,
    pub dim: usize,
}

/// One space's nearest-neighbour summary of a sample set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Nearest {
    /// The smallest nearest-training distance of a held-out image (None without held-out images).
    pub threshold: Option<f64>,
    /// Samples closer to a training image than the threshold.
    pub copies: usize,
    pub samples: usize,
    /// Median nearest-training distance of the samples, and of the held-out images.
    pub median: f64,
    pub held_out_median: Option<f64>,
    /// The fraction a set of new real images would have flagged: 1/(held-out images + 1).
    pub expected_fraction: Option<f64>,
}

impl Nearest {
    /// The fraction of samples counted as copies.
    pub fn fraction(&self) -> f64 {
        self.copies as f64 / self.samples.max(1) as f64
    }
}

/// A sample and its nearest training image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub sample: usize,
    pub train: PathBuf,
    pub feature_distance: f64,
    pub pixel_distance: f64,
}

/// The check of one sample set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Memorisation {
    pub feature: Nearest,
    pub pixel: Nearest,
    /// The samples nearest to a training image in features, closest first.
    pub closest: Vec<Pair>,
}

/// Pairs kept per sample set for the figure.
pub const CLOSEST: usize = 6;

/// For each row of `queries`, the distance to the nearest row of `keys` and its index.
fn nearest(queries: &[f32], keys: &[f32], dim: usize, scale: f64) -> Vec<(f64, usize)> {
    queries
        .chunks_exact(dim)
        .map(|q| {
            keys.chunks_exact(dim)
                .enumerate()
                .map(|(k, key)| (q.iter().zip(key).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() * scale, k))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(d2, k)| (d2.sqrt(), k))
                .unwrap_or((f64::NAN, 0))
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn summary(samples: &[(f64, usize)], held_out: &[(f64, usize)]) -> Nearest {
    let threshold = held_out.iter().map(|d| d.0).min_by(f64::total_cmp);
    Nearest {
        threshold,
        copies: threshold.map_or(0, |t| samples.iter().filter(|d| d.0 < t).count()),
        samples: samples.len(),
        median: median(samples.iter().map(|d| d.0).collect()),
        held_out_median: (!held_out.is_empty()).then(|| median(held_out.iter().map(|d| d.0).collect())),
        expected_fraction: (!held_out.is_empty()).then(|| 1.0 / (held_out.len() + 1) as f64),
    }
}

/// Checks a sample set given by its features (`dim` per image) and pixels.
pub fn check(reference: &Reference, features: &[f32], planes: &Planes) -> Result<Memorisation> {
    let (dim, pixels) = (reference.dim, 3 * planes.side * planes.side);
    if reference.train_files.is_empty() {
        bail!("the memorisation check needs training images");
    }
    if features.len() / dim != planes.n || reference.train_planes.side != planes.side {
        bail!(
            "memorisation check: {} feature rows for {} images of side {} (training images: side {})",
            features.len() / dim,
            planes.n,
            planes.side,
            reference.train_planes.side
        );
    }
    let rms = 1.0 / pixels as f64;
    let (f, p) = (nearest(features, &reference.train_features, dim, 1.0), nearest(&planes.data, &reference.train_planes.data, pixels, rms));
    let held_f = nearest(&reference.held_out_features, &reference.train_features, dim, 1.0);
    let held_p = nearest(&reference.held_out_planes.data, &reference.train_planes.data, pixels, rms);
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by(|&a, &b| f[a].0.total_cmp(&f[b].0));
    let closest = order
        .into_iter()
        .take(CLOSEST)
        .map(|k| Pair { sample: k, train: reference.train_files[f[k].1].clone(), feature_distance: f[k].0, pixel_distance: p[k].0 })
        .collect();
    Ok(Memorisation { feature: summary(&f, &held_f), pixel: summary(&p, &held_p), closest })
}

/// A picture of sample/training pairs side by side, one pair per row: the `samples` folder's
/// images named in `pairs` beside their nearest training images, enlarged to 64 pixels.
pub fn pairs_figure(samples: &Path, pairs: &[Pair], resolution: usize, out: &Path) -> Result<()> {
    let zoom = (64 / resolution).max(1) as u32;
    let cell = resolution as u32 * zoom;
    let mut grid = image::RgbImage::from_pixel(2 * cell + 8, pairs.len().max(1) as u32 * (cell + 4) + 4, image::Rgb([255, 255, 255]));
    for (row, pair) in pairs.iter().enumerate() {
        let sample = image::open(samples.join(crate::generate::image_name(pair.sample)))?.to_rgb8();
        let train = lift_core::data::load_image(&pair.train, resolution)?;
        for (col, img) in [sample, train].iter().enumerate() {
            let img = image::imageops::resize(img, cell, cell, image::imageops::FilterType::Nearest);
            image::imageops::overlay(&mut grid, &img, (col as u32 * (cell + 4) + 2) as i64, (row as u32 * (cell + 4) + 4) as i64);
        }
    }
    let mut bytes = Vec::new();
    grid.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)?;
    lift_core::io::write_atomic(out, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, dim: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<f32> {
        (0..n * dim).map(|_| rng.random_range(0.0..1.0)).collect()
    }

    fn planes(data: Vec<f32>, side: usize) -> Planes {
        Planes { n: data.len() / (3 * side * side), side, data }
    }

    /// 40 training images (features of 8, pixels 2×2) and 19 held out, drawn alike.
    fn reference(rng: &mut rand_chacha::ChaCha8Rng) -> Reference {
        Reference {
            train_files: (0..40).map(|k| PathBuf::from(format!("train-{k}.png"))).collect(),
            train_features: random(40, 8, rng),
            train_planes: planes(random(40, 12, rng), 2),
            held_out_features: random(19, 8, rng),
            held_out_planes: planes(random(19, 12, rng), 2),
            dim: 8,
        }
    }

    #[test]
    fn copies_of_training_images_are_flagged_and_new_images_are_not() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let r = reference(&mut rng);
        // Copies: training images 3..13 with a perturbation far below any real image's distance.
        let jitter = |v: &[f32], rng: &mut rand_chacha::ChaCha8Rng| v.iter().map(|x| x + rng.random_range(-1e-3..1e-3)).collect::<Vec<f32>>();
        let copies_f = jitter(&r.train_features[3 * 8..13 * 8], &mut rng);
        let copies_p = planes(jitter(&r.train_planes.data[3 * 12..13 * 12], &mut rng), 2);
        let m = check(&r, &copies_f, &copies_p).unwrap();
        assert_eq!((m.feature.copies, m.pixel.copies, m.feature.samples), (10, 10, 10), "{m:?}");
        assert!(m.feature.threshold.unwrap() > 0.01 && m.feature.median < 0.01, "{m:?}");
        assert_eq!(m.closest.len(), CLOSEST);
        assert!(m.closest.windows(2).all(|w| w[0].feature_distance <= w[1].feature_distance));
        assert!(m.closest[0].train.to_str().unwrap().starts_with("train-"));
        // 40 new images drawn like the real ones: flagged at about the rate expected of new
        // images, 1/(19 + 1) = 5 %, far from the copies' 100 %.
        let new_f = random(40, 8, &mut rng);
        let new_p = planes(random(40, 12, &mut rng), 2);
        let m = check(&r, &new_f, &new_p).unwrap();
        assert_eq!(m.feature.expected_fraction, Some(0.05));
        assert!(m.feature.fraction() <= 0.25 && m.pixel.fraction() <= 0.25, "{m:?}");
        // A set with a copy among new images flags that one.
        let mut mixed = new_f.clone();
        mixed[..8].copy_from_slice(&r.train_features[..8]);
        let m = check(&r, &mixed, &new_p).unwrap();
        assert!(m.feature.copies >= 1 && m.closest[0].sample == 0 && m.closest[0].feature_distance == 0.0, "{m:?}");
    }

    #[test]
    fn mismatched_sets_are_refused() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let r = reference(&mut rng);
        assert!(check(&r, &random(3, 8, &mut rng), &planes(random(4, 12, &mut rng), 2)).is_err());
    }
}
