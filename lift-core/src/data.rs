//! Image-folder data sets: every PNG/JPEG under a folder, preprocessed once into 8-bit RGB at the
//! model's resolution (shorter side resized, centre-cropped, transparency composited onto white).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Where `cargo xtask data` puts the default data set (the Noto emoji at 64×64).
pub const DEFAULT_DATA: &str = "artifacts/data/emoji-google-64";

/// Preprocessed images of one resolution, kept as 8-bit RGB (4× smaller than f32).
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// Side of every image.
    resolution: usize,
    /// Pixels, HWC order, one entry per image.
    images: Vec<Vec<u8>>,
    /// Source file of each image (empty for sets built from pixels).
    files: Vec<PathBuf>,
    /// Files that could not be decoded and were skipped (only with `skip_bad`).
    skipped: Vec<PathBuf>,
}

/// Lists every .png/.jpg/.jpeg under `root`, recursively, sorted.
pub fn list_images(root: &Path) -> Result<Vec<PathBuf>> {
    if !root.is_dir() {
        bail!("data folder {} does not exist or is not a folder", root.display());
    }
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let path = entry.with_context(|| format!("cannot list {}", dir.display()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_image(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("data folder {} contains no PNG or JPEG images", root.display());
    }
    Ok(files)
}

fn is_image(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
}

/// Decodes and preprocesses one image file to `resolution`² RGB.
pub fn load_image(path: &Path, resolution: usize) -> Result<RgbImage> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("cannot open image {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read image {}", path.display()))?
        .decode()
        .with_context(|| format!("corrupt or unsupported image {}", path.display()))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w.min(h) < resolution {
        bail!(
            "image {} is {w}×{h}, smaller than model.resolution = {resolution}: \
             use a config whose resolution fits the data",
            path.display()
        );
    }
    Ok(preprocess(img, resolution))
}

/// Composites onto white, resizes the shorter side to `resolution` and centre-crops.
pub fn preprocess(img: DynamicImage, resolution: usize) -> RgbImage {
    let rgb = composite_on_white(&img);
    let (w, h) = (rgb.width(), rgb.height());
    let r = resolution as u32;
    let rgb = if w.min(h) == r {
        rgb
    } else {
        let scale = r as f64 / w.min(h) as f64;
        let (nw, nh) = (((w as f64 * scale).round() as u32).max(r), ((h as f64 * scale).round() as u32).max(r));
        image::imageops::resize(&rgb, nw, nh, FilterType::Triangle)
    };
    let (x0, y0) = ((rgb.width() - r) / 2, (rgb.height() - r) / 2);
    image::imageops::crop_imm(&rgb, x0, y0, r, r).to_image()
}

fn composite_on_white(img: &DynamicImage) -> RgbImage {
    let rgba = img.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (src, dst) in rgba.pixels().zip(out.pixels_mut()) {
        let a = src[3] as f32 / 255.0;
        for c in 0..3 {
            dst[c] = (src[c] as f32 * a + 255.0 * (1.0 - a)).round() as u8;
        }
    }
    out
}

impl ImageSet {
    /// Loads every image under `root`. A file that cannot be decoded stops the load with its name,
    /// unless `skip_bad`, which skips it with a warning and counts it.
    pub fn load(root: &Path, resolution: usize, skip_bad: bool) -> Result<Self> {
        let mut set = Self { resolution, images: Vec::new(), files: Vec::new(), skipped: Vec::new() };
        for file in list_images(root)? {
            match load_image(&file, resolution) {
                Ok(img) => {
                    set.images.push(img.into_raw());
                    set.files.push(file);
                }
                Err(e) if skip_bad => {
                    eprintln!("warning: skipping {file:?}: {e:#}");
                    set.skipped.push(file);
                }
                Err(e) => return Err(e.context("use --skip-bad-images to skip unreadable files")),
            }
        }
        if set.images.is_empty() {
            bail!("no usable images in {}", root.display());
        }
        Ok(set)
    }

    /// A set from 8-bit HWC RGB pixels (`resolution`² · 3 bytes each), for tests and benchmarks.
    pub fn from_pixels(resolution: usize, images: Vec<Vec<u8>>) -> Result<Self> {
        if images.is_empty() {
            bail!("an image set needs at least one image");
        }
        if let Some(k) = images.iter().position(|px| px.len() != 3 * resolution * resolution) {
            bail!("image {k} has {} bytes, {resolution}×{resolution} RGB needs {}", images[k].len(), 3 * resolution * resolution);
        }
        Ok(Self { resolution, images, files: Vec::new(), skipped: Vec::new() })
    }

    /// Side of every image.
    pub fn resolution(&self) -> usize {
        self.resolution
    }

    /// Source file of each image, in set order (empty for [`from_pixels`](Self::from_pixels)).
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Files skipped as unreadable.
    pub fn skipped(&self) -> &[PathBuf] {
        &self.skipped
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Image `i` as CHW floats in [−1, 1].
    pub fn chw(&self, i: usize) -> Vec<f32> {
        hwc_to_chw(&self.images[i], self.resolution)
    }

    /// Deterministic (train, validation) index split for `seed`: at least one image on each side
    /// when there are two or more images and `fraction` > 0.
    pub fn split(&self, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
        split_indices(self.len(), fraction, seed)
    }
}

/// The (train, validation) split of `len` images that [`ImageSet::split`] makes, for readers
/// that need it without loading the pixels (the memorisation check).
pub fn split_indices(len: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..len).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut n_val = (len as f64 * fraction).round() as usize;
    if fraction > 0.0 && len >= 2 {
        n_val = n_val.clamp(1, len - 1);
    }
    let val = idx.split_off(len - n_val);
    (idx, val)
}

/// 8-bit HWC RGB to CHW floats in [−1, 1].
pub fn hwc_to_chw(pixels: &[u8], resolution: usize) -> Vec<f32> {
    let n = resolution * resolution;
    let mut out = vec![0f32; 3 * n];
    for (p, rgb) in pixels.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[c * n + p] = rgb[c] as f32 / 127.5 - 1.0;
        }
    }
    out
}

/// Side of the coarse (32×32-like) scale for a fine side `resolution`.
pub fn coarse_side(resolution: usize) -> usize {
    resolution / 2
}

/// The two scales by role and real size, as users read them: `["fine 32×32", "coarse 16×16"]`
/// (just `["fine", "coarse"]` when the resolution is unknown, 0).
pub fn scale_names(resolution: usize) -> [String; 2] {
    match resolution {
        0 => ["fine".into(), "coarse".into()],
        r => [format!("fine {r}×{r}"), format!("coarse {c}×{c}", c = coarse_side(r))],
    }
}

/// 2×2 average of a CHW RGB image: the coarse scale (bilinear with align_corners = false for an
/// exact halving).
pub fn average_2x2(chw: &[f32], resolution: usize) -> Vec<f32> {
    let (r, h) = (resolution, coarse_side(resolution));
    let mut out = vec![0f32; 3 * h * h];
    for c in 0..3 {
        for y in 0..h {
            for x in 0..h {
                let at = |yy: usize, xx: usize| chw[c * r * r + yy * r + xx];
                out[c * h * h + y * h + x] = (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4.0;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_matches_hand_values() {
        // One 2×2 channel block repeated: mean of 1, 2, 3, 4 is 2.5.
        let mut chw = vec![0f32; 12];
        for c in 0..3 {
            chw[c * 4..c * 4 + 4].copy_from_slice(&[1.0, 2.0, 3.0, 4.0]);
        }
        assert_eq!(average_2x2(&chw, 2), vec![2.5, 2.5, 2.5]);
    }

    #[test]
    fn scales_are_named_by_role_and_real_size() {
        assert_eq!(scale_names(32), ["fine 32×32", "coarse 16×16"]);
        assert_eq!(scale_names(64), ["fine 64×64", "coarse 32×32"]);
        assert_eq!(scale_names(0), ["fine", "coarse"]);
    }
    use image::{Rgba, RgbaImage};

    #[test]
    fn transparent_pixels_become_white_and_scale_to_one() {
        let mut img = RgbaImage::new(4, 4);
        img.put_pixel(0, 0, Rgba([0, 0, 0, 0]));
        img.put_pixel(1, 0, Rgba([0, 0, 0, 255]));
        img.put_pixel(2, 0, Rgba([255, 0, 0, 128]));
        let rgb = preprocess(DynamicImage::ImageRgba8(img), 4);
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 0).0, [0, 0, 0]);
        // 50% red over white: (255, 127, 127).
        assert_eq!(rgb.get_pixel(2, 0).0, [255, 127, 127]);
        let chw = hwc_to_chw(&rgb.into_raw(), 4);
        assert_eq!(chw[0], 1.0);
        assert_eq!(chw[1], -1.0);
    }

    #[test]
    fn shorter_side_resize_then_centre_crop() {
        // 8×4 image: left half black, right half white → 4×4 after resizing 8×4 → 8×4 (no-op
        // scale is 1 since the shorter side is 4) and cropping columns 2..6.
        let img = RgbaImage::from_fn(8, 4, |x, _| if x < 4 { Rgba([0, 0, 0, 255]) } else { Rgba([255, 255, 255, 255]) });
        let rgb = preprocess(DynamicImage::ImageRgba8(img), 4);
        assert_eq!((rgb.width(), rgb.height()), (4, 4));
        assert_eq!(rgb.get_pixel(1, 0).0, [0, 0, 0]);
        assert_eq!(rgb.get_pixel(2, 0).0, [255, 255, 255]);
        // 16×8 → shorter side 8 → 4: resized to 8×4 first.
        let big = RgbaImage::from_pixel(16, 8, Rgba([10, 20, 30, 255]));
        let rgb = preprocess(DynamicImage::ImageRgba8(big), 4);
        assert_eq!((rgb.width(), rgb.height()), (4, 4));
        assert_eq!(rgb.get_pixel(3, 3).0, [10, 20, 30]);
    }
}
