//! The part files of a generation run in shards (`lift-analyze generate --shard I/N`): each part
//! writes its images into the shared folder and, when it is complete, `generation.part-I-of-N.json`;
//! merging checks that every part is there once and joins their Inception features.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use lift_core::{Devices, Shard};
use serde::{Deserialize, Serialize};

use super::{image_name, GenerateJob, GenerateReport};
use crate::fid::features::FeatureFile;
use crate::spread::{read_parts, spread_and_merge, Part};

/// Makes the whole generation of `job` on `devices`: a part per device, merged, or the plain run
/// on one device.
pub fn generate_on(job: GenerateJob, devices: &Devices) -> Result<GenerateReport> {
    spread_and_merge(
        job,
        devices,
        |report| report,
        |reports, files| {
            let reports = reports.into_iter().collect::<Result<Vec<_>>>()?;
            merge(&files)?;
            Ok(GenerateReport::joined(reports))
        },
    )
}

/// A finished part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerationPart {
    /// The job with this part's shard.
    pub job: GenerateJob,
    /// Image indices this part made.
    pub images: Range<usize>,
}

impl Part for GenerationPart {
    fn shard(&self) -> Shard {
        self.job.shard
    }
}

/// The file of part `shard` of a generation into `out`.
pub(crate) fn part_file(out: &Path, shard: Shard) -> PathBuf {
    out.join(format!("generation.{}.json", shard.suffix()))
}

/// Records a finished part.
pub(crate) fn write_part(job: &GenerateJob, images: Range<usize>) -> Result<()> {
    lift_core::io::write_json(&part_file(&job.out, job.shard), &GenerationPart { job: job.clone(), images })
}

/// Merges the parts `files` (all in one sample folder); returns the folder and the image count.
pub fn merge(files: &[PathBuf]) -> Result<(PathBuf, usize)> {
    let parts: Vec<(GenerationPart, String)> = read_parts(files, "generation")?;
    let (first, first_name) = (&parts[0].0.job, &parts[0].1);
    let mut features = Vec::new();
    for (part, name) in &parts {
        let shard = part.job.shard;
        let same = GenerateJob { shard: Shard::WHOLE, ..part.job.clone() } == GenerateJob { shard: Shard::WHOLE, ..first.clone() };
        if !same {
            bail!("{name} belongs to another generation than {first_name}");
        }
        if part.images != shard.range(first.num_images, first.batch) {
            bail!("{name} made images {:?}, not part {shard}'s {:?}", part.images, shard.range(first.num_images, first.batch));
        }
        if let Some(k) = part.images.clone().find(|k| !first.out.join(image_name(*k)).exists()) {
            bail!("{name}: image {} is missing from {}", image_name(k), first.out.display());
        }
        if first.features.is_some() {
            features.extend(FeatureFile::read(&part.job.features_file(), part.images.len())?);
        }
    }
    if first.features.is_some() {
        let bytes: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
        lift_core::io::write_atomic(&first.out.join(FeatureFile::NAME), &bytes)?;
    }
    Ok((first.out.clone(), first.num_images))
}

/// Whether `file` is a generation part (by its name).
pub fn is_generation_part(file: &Path) -> bool {
    file.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("generation.part-") && n.ends_with(".json"))
}
