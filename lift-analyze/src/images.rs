//! Image files as float planes, for the distribution metrics.

use std::path::{Path, PathBuf};

use anyhow::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
    let files = lift_train::data::list_images(dir)?;
    planes_of(&files[..files.len().min(limit)], resolution)
}

/// `limit` files of `dir` drawn at random (fixed seed), or all of them when `limit` is 0 or
/// larger: a subset of a folder sorted by name would over-represent its first categories.
pub fn real_subset(dir: &Path, limit: usize) -> Result<Vec<PathBuf>> {
    let mut files = lift_train::data::list_images(dir)?;
    if limit > 0 && limit < files.len() {
        files.shuffle(&mut ChaCha8Rng::seed_from_u64(0));
        files.truncate(limit);
    }
    Ok(files)
}
