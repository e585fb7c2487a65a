//! Inception features of generated images, appended batch by batch to `features.f32` (raw
//! little-endian f32, 2048 per image, in image order) so that a killed generation resumes after
//! its last complete image.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::DIM;

const RECORD: u64 = (DIM * 4) as u64;

/// An open feature file.
pub struct FeatureFile {
    path: PathBuf,
    file: File,
}

impl FeatureFile {
    /// File name inside a sample folder.
    pub const NAME: &'static str = "features.f32";

    /// Opens (creating) the file when `enabled`; a trailing partial record from a crash is cut.
    pub fn open(path: &Path, enabled: bool) -> Result<Option<Self>> {
        if !enabled {
            return Ok(None);
        }
        let file =
            OpenOptions::new().create(true).truncate(false).read(true).append(true).open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let len = file.metadata()?.len();
        if len % RECORD != 0 {
            file.set_len(len - len % RECORD).with_context(|| format!("cannot repair {}", path.display()))?;
        }
        Ok(Some(Self { path: path.to_path_buf(), file }))
    }

    /// Complete images in the file.
    pub fn len(&self) -> Result<usize> {
        Ok((self.file.metadata().with_context(|| format!("cannot read {}", self.path.display()))?.len() / RECORD) as usize)
    }

    /// True when no image is in the file.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Appends whole images' features and syncs them to disk.
    pub fn append(&mut self, features: &[f32]) -> Result<()> {
        if !features.len().is_multiple_of(DIM) {
            bail!("{} feature values are not whole images of {DIM}", features.len());
        }
        let bytes: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.file.write_all(&bytes).and_then(|_| self.file.sync_data()).with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// The first `n` images' features of the file at `path`.
    pub fn read(path: &Path, n: usize) -> Result<Vec<f32>> {
        let mut bytes = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).with_context(|| format!("cannot read features {}", path.display()))?;
        let need = n * RECORD as usize;
        if bytes.len() < need {
            bail!("{} holds features of {} images, {n} needed", path.display(), bytes.len() / RECORD as usize);
        }
        Ok(bytes[..need].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_resume_after_a_torn_write() {
        let dir = std::env::temp_dir().join(format!("lift-features-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(FeatureFile::NAME);
        let image = |k: usize| -> Vec<f32> { (0..DIM).map(|i| (k * DIM + i) as f32).collect() };
        let mut f = FeatureFile::open(&path, true).unwrap().unwrap();
        f.append(&[image(0), image(1)].concat()).unwrap();
        assert_eq!(f.len().unwrap(), 2);
        drop(f);
        // A crash in the middle of the third record.
        OpenOptions::new().append(true).open(&path).unwrap().write_all(&[1, 2, 3]).unwrap();
        let mut f = FeatureFile::open(&path, true).unwrap().unwrap();
        assert_eq!(f.len().unwrap(), 2);
        f.append(&image(2)).unwrap();
        assert_eq!(FeatureFile::read(&path, 3).unwrap(), [image(0), image(1), image(2)].concat());
        assert!(FeatureFile::read(&path, 4).is_err());
        assert!(f.append(&[1.0]).is_err());
        assert!(FeatureFile::open(&path, false).unwrap().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
