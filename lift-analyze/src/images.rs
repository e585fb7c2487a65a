//! Folders of images as float planes, for the distribution metrics.

use std::path::Path;

use anyhow::Result;

use crate::fid::read_image;
use crate::swd::Planes;

/// Up to `limit` images of `dir` (sorted by name) at `resolution`, in [0, 1].
pub fn folder_planes(dir: &Path, resolution: usize, limit: usize) -> Result<Planes> {
    let files = lift_train::data::list_images(dir)?;
    let files = &files[..files.len().min(limit)];
    let mut data = Vec::with_capacity(files.len() * 3 * resolution * resolution);
    for f in files {
        data.extend(read_image(f, resolution)?);
    }
    Ok(Planes { n: files.len(), side: resolution, data })
}
