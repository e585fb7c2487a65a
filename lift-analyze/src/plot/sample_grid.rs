//! A grid of generated images, for people to look at.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::generate::image_name;

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
