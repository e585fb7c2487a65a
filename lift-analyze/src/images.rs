//! Image files as float planes, for the distribution metrics.

use std::path::{Path, PathBuf};

use anyhow::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use lift_core::data::list_images;
use lift_core::study::RealSubset;

use crate::fid::read_image;
use crate::swd::Planes;

/// The images of `files` at `resolution`, in [0, 1].
pub fn planes_of(files: &[PathBuf], resolution: usize) -> Result<Planes> {
    let mut data = Vec::with_capacity(files.len() * 3 * resolution * resolution);
    for f in files {
        data.extend(read_image(f, resolution)?);
    }
    Ok(Planes { n: files.len(), side: resolution, data })
}

/// Up to `limit` images of `dir` (sorted by name) at `resolution`, in [0, 1].
pub fn folder_planes(dir: &Path, resolution: usize, limit: usize) -> Result<Planes> {
    let files = list_images(dir)?;
    planes_of(&files[..files.len().min(limit)], resolution)
}

/// The real files FID compares against: `limit` of `dir`'s images (0 = all), the first in
/// data-set order (sorted names) or drawn at random with a fixed seed.
pub fn real_files(dir: &Path, limit: usize, subset: RealSubset) -> Result<Vec<PathBuf>> {
    let mut files = list_images(dir)?;
    if limit > 0 && limit < files.len() {
        if subset == RealSubset::Random {
            files.shuffle(&mut ChaCha8Rng::seed_from_u64(0));
        }
        files.truncate(limit);
    }
    Ok(files)
}
