//! Joining the part files of a heatmap computed in shards (`lift-analyze heatmap --shard I/N`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lift_core::shard::complete_split;
use lift_core::{run_on, run_on_devices, Devices, Shard};

use super::compute::{assemble, partial_path, HeatmapJob, Partial};
use super::file::Heatmap;
use crate::spread::Spread;

/// Computes the whole heatmap of `job` on `devices`: a part per device, merged (and the part files
/// removed), or the plain computation on one device.
pub fn compute_on(job: HeatmapJob, devices: &Devices) -> Result<Heatmap> {
    if !job.shard.is_whole() {
        bail!("a heatmap shard ({}) runs on one device", job.shard);
    }
    if devices.len() == 1 {
        return run_on(devices.main(), job)??.context("a whole heatmap job returns its heatmap");
    }
    let out = job.out.clone();
    for part in run_on_devices(devices, Spread(job))? {
        part?;
    }
    let files: Vec<PathBuf> = (0..devices.len()).map(|index| partial_path(&out, Shard { index, count: devices.len() })).collect();
    let map = merge(&files, &out)?;
    for f in files {
        std::fs::remove_file(&f).with_context(|| format!("cannot remove the merged part {}", f.display()))?;
    }
    Ok(map)
}

/// Merges the complete parts `files` of one heatmap job into `out`.
pub fn merge(files: &[PathBuf], out: &Path) -> Result<Heatmap> {
    let parts: Vec<Partial> = files
        .iter()
        .map(|f| lift_core::io::read_json::<Partial>(f).with_context(|| format!("{} is not a heatmap part", f.display())))
        .collect::<Result<_>>()?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let shards: Vec<_> = parts.iter().map(|p| p.shard).collect();
    complete_split(&shards, &names)?;
    let first = &parts[0];
    let n = first.axes[0].len();
    let mut rows = Vec::new();
    let mut seconds = 0.0;
    for (part, name) in parts.iter().zip(&names) {
        if !part.meta.same_job(&first.meta) || part.axes != first.axes {
            bail!("{name} belongs to another heatmap job than {}", names[0]);
        }
        let mut done: Vec<usize> = part.rows.iter().map(|r| r.index).collect();
        done.sort_unstable();
        if done != part.shard.range(n, 1).collect::<Vec<_>>() {
            bail!("{name} (part {}) is not finished: it holds rows {done:?} of {:?}", part.shard, part.shard.range(n, 1));
        }
        seconds += part.meta.seconds;
        rows.extend(part.rows.iter().cloned());
    }
    let meta = super::HeatmapMeta { seconds, ..first.meta.clone() };
    let map = assemble(meta, first.axes.clone(), rows)?;
    map.save(out)?;
    Ok(map)
}
