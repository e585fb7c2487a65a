//! FID statistics files in pytorch-fid's format: an `.npz` with `mu` (float64, d) and `sigma`
//! (float64, d × d), which pytorch-fid and clean-fid read as they are. Ours add `n` (the image
//! count), `resolution` and `resize`, so that statistics taken another way are refused instead of
//! compared.

use std::path::Path;

use anyhow::{bail, Context, Result};
use lift_core::study::Resize;
use nalgebra::{DMatrix, DVector};

use super::Stats;
use crate::npz::{read_npz, write_npz, NpyArray, NpyData};

/// How a feature set was taken: the images' side and the resize to Inception's 299×299.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureProtocol {
    pub resize: Resize,
    pub resolution: usize,
}

impl std::fmt::Display for FeatureProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{r}×{r} images resized by {}", self.resize, r = self.resolution)
    }
}

impl Stats {
    /// Writes pytorch-fid's `.npz` (`mu`, `sigma`) with our `n`, `resolution` and `resize`.
    pub fn save(&self, path: &Path) -> Result<()> {
        let d = self.mean.len();
        let int = |v: usize| NpyArray { shape: vec![], data: NpyData::I64(vec![v as i64]) };
        // numpy is row-major, nalgebra column-major.
        let sigma = self.cov.transpose().iter().copied().collect();
        let mut arrays =
            vec![("mu", NpyArray::f64(vec![d], self.mean.iter().copied().collect())), ("sigma", NpyArray::f64(vec![d, d], sigma)), ("n", int(self.n))];
        if let Some(p) = self.protocol {
            arrays.push(("resolution", int(p.resolution)));
            arrays.push(("resize", NpyArray { shape: vec![], data: NpyData::Bytes(p.resize.to_string().into_bytes()) }));
        }
        write_npz(path, &arrays)
    }

    /// Reads an `.npz` with `mu` and `sigma` (ours or pytorch-fid's; n = 0 when it does not say).
    pub fn load(path: &Path) -> Result<Self> {
        let arrays =
            read_npz(path).with_context(|| format!("{} is not a FID statistics file (an .npz with mu and sigma, as --save-stats writes)", path.display()))?;
        let get = |name: &str| arrays.get(name).with_context(|| format!("{} has no array {name}: not FID statistics", path.display()));
        let (mu, sigma) = (get("mu")?, get("sigma")?);
        let d = mu.shape.first().copied().unwrap_or(0);
        if mu.shape.len() != 1 || sigma.shape != [d, d] || d == 0 {
            bail!("{}: mu has shape {:?} and sigma {:?}; (d) and (d, d) are expected", path.display(), mu.shape, sigma.shape);
        }
        let mean = DVector::from_vec(mu.to_f64().with_context(|| format!("{}: mu", path.display()))?);
        let cov = DMatrix::from_row_slice(d, d, &sigma.to_f64().with_context(|| format!("{}: sigma", path.display()))?);
        let n = arrays.get("n").and_then(NpyArray::to_int).unwrap_or(0).max(0) as usize;
        let protocol = match (arrays.get("resolution").and_then(NpyArray::to_int), arrays.get("resize").and_then(NpyArray::to_text)) {
            (Some(r), Some(resize)) if r > 0 => {
                Some(FeatureProtocol { resolution: r as usize, resize: resize.parse().with_context(|| format!("{}: resize", path.display()))? })
            }
            (None, None) => None,
            _ => bail!("{}: resolution and resize must both be given, the resolution positive", path.display()),
        };
        Ok(Self { n, mean, cov, centred: None, protocol })
    }

    /// An error naming both when these statistics were taken otherwise than `wanted`; for
    /// statistics that do not say (another tool's), a warning.
    pub fn check_protocol(&self, wanted: FeatureProtocol, what: &str) -> Result<()> {
        match self.protocol {
            Some(p) if p != wanted => {
                bail!("{what} holds statistics of {p}, but these features are of {wanted}: FIDs under different resizes or resolutions are not comparable")
            }
            Some(_) => Ok(()),
            None => {
                eprintln!("note: {what} does not say how its features were taken (another tool's file); make sure they are of {wanted}");
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("lift-stats-{name}-{}.npz", std::process::id()))
    }

    #[test]
    fn round_trips_with_the_protocol_and_refuses_another() {
        // An asymmetric Σ would show a transposed write; real covariances are symmetric.
        let cov = DMatrix::from_row_slice(2, 2, &[1.0, 0.25, 0.5, 2.0]);
        let protocol = FeatureProtocol { resize: Resize::BicubicAntialias, resolution: 64 };
        let s = Stats { n: 9, mean: DVector::from_vec(vec![0.5, -1.5]), cov, centred: None, protocol: Some(protocol) };
        let path = scratch("ours");
        s.save(&path).unwrap();
        let back = Stats::load(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(read_npz(&path).unwrap()["sigma"].to_f64().unwrap(), [1.0, 0.25, 0.5, 2.0], "row-major as numpy");
        back.check_protocol(protocol, "--real").unwrap();
        let e = back.check_protocol(FeatureProtocol { resize: Resize::Bilinear, resolution: 64 }, "--real x.npz").unwrap_err().to_string();
        assert!(e.contains("64×64 images resized by bicubic-aa") && e.contains("by bilinear") && e.contains("x.npz"), "{e}");
        let e = back.check_protocol(FeatureProtocol { resolution: 32, ..protocol }, "--real").unwrap_err().to_string();
        assert!(e.contains("32×32"), "{e}");
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn reads_pytorch_fids_files_and_names_what_is_wrong() {
        let path = scratch("theirs");
        write_npz(&path, &[("mu", NpyArray::f64(vec![2], vec![1.0, 2.0])), ("sigma", NpyArray::f64(vec![2, 2], vec![1.0, 0.0, 0.0, 1.0]))]).unwrap();
        let s = Stats::load(&path).unwrap();
        assert_eq!((s.n, s.protocol), (0, None));
        s.check_protocol(FeatureProtocol { resize: Resize::Bilinear, resolution: 64 }, "--real").unwrap();
        write_npz(&path, &[("mu", NpyArray::f64(vec![2], vec![1.0, 2.0])), ("sigma", NpyArray::f64(vec![3], vec![1.0, 0.0, 0.0]))]).unwrap();
        assert!(Stats::load(&path).unwrap_err().to_string().contains("sigma [3]"));
        std::fs::write(&path, b"LIFTFID1").unwrap();
        assert!(format!("{:#}", Stats::load(&path).unwrap_err()).contains("not a FID statistics file"));
        std::fs::remove_file(path).unwrap();
    }
}
