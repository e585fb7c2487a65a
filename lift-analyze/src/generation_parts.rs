//! The part files of a generation run in shards (`lift-analyze generate --shard I/N`): each part
//! writes its images into the shared folder and, when it is complete, `generation.part-I-of-N.json`;
//! merging checks that every part is there once and joins their Inception features.

use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lift_core::shard::complete_split;
use lift_core::{run_on, run_on_devices, Devices, Shard};
use serde::{Deserialize, Serialize};

use crate::fid::features::FeatureFile;
use crate::generate::{image_name, GenerateJob, GenerateReport};
use crate::spread::Spread;

/// Makes the whole generation of `job` on `devices`: a part per device, merged, or the plain run
/// on one device.
pub fn generate_on(job: GenerateJob, devices: &Devices) -> Result<GenerateReport> {
    if !job.shard.is_whole() {
        bail!("a generation shard ({}) runs on one device", job.shard);
    }
    if devices.len() == 1 {
        return run_on(devices.main(), job)?;
    }
    let count = devices.len();
    let parts: Vec<PathBuf> = (0..count).map(|index| part_file(&GenerateJob { shard: Shard { index, count }, ..job.clone() })).collect();
    let reports = run_on_devices(devices, Spread(job))?.into_iter().collect::<Result<Vec<_>>>()?;
    merge(&parts)?;
    Ok(GenerateReport::joined(reports))
}

/// A finished part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenerationPart {
    /// The job with this part's shard.
    pub job: GenerateJob,
    /// Image indices this part made.
    pub images: Range<usize>,
}

fn part_file(job: &GenerateJob) -> PathBuf {
    job.out.join(format!("generation.{}.json", job.shard.suffix()))
}

/// Records a finished part.
pub(crate) fn write_part(job: &GenerateJob, images: Range<usize>) -> Result<()> {
    lift_core::io::write_json(&part_file(job), &GenerationPart { job: job.clone(), images })
}

/// Merges the parts `files` (all in one sample folder); returns the folder and the image count.
pub fn merge(files: &[PathBuf]) -> Result<(PathBuf, usize)> {
    let parts: Vec<GenerationPart> = files
        .iter()
        .map(|f| lift_core::io::read_json::<GenerationPart>(f).with_context(|| format!("{} is not a generation part", f.display())))
        .collect::<Result<_>>()?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let shards: Vec<Shard> = parts.iter().map(|p| p.job.shard).collect();
    let order = complete_split(&shards, &names)?;
    let first = &parts[0].job;
    let mut features = Vec::new();
    for (shard, name) in order {
        let part = &parts[names.iter().position(|n| n == name).expect("a given part")];
        let same = GenerateJob { shard: Shard::WHOLE, ..part.job.clone() } == GenerateJob { shard: Shard::WHOLE, ..first.clone() };
        if !same {
            bail!("{name} belongs to another generation than {}", names[0]);
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
