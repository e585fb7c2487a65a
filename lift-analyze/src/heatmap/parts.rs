//! Joining the part files of a heatmap computed in shards (`lift-analyze heatmap --shard I/N`).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use lift_core::{Devices, Shard};

use super::compute::{assemble, HeatmapJob, Partial};
use super::file::Heatmap;
use crate::spread::{read_parts, spread_and_merge, Part};

/// Computes the whole heatmap of `job` on `devices`: a part per device, merged (and the part files
/// removed), or the plain computation on one device.
pub fn compute_on(job: HeatmapJob, devices: &Devices) -> Result<Heatmap> {
    let out = job.out.clone();
    let whole = |map: Result<Option<Heatmap>>| map?.context("a whole heatmap job returns its heatmap");
    spread_and_merge(job, devices, whole, |parts, files| {
        for part in parts {
            part?;
        }
        let map = merge(&files, &out)?;
        for f in files {
            std::fs::remove_file(&f).with_context(|| format!("cannot remove the merged part {}", f.display()))?;
        }
        Ok(map)
    })
}

impl Part for Partial {
    fn shard(&self) -> Shard {
        self.shard
    }
}

/// Merges the complete parts `files` of one heatmap job into `out`.
pub fn merge(files: &[PathBuf], out: &Path) -> Result<Heatmap> {
    let parts: Vec<(Partial, String)> = read_parts(files, "heatmap")?;
    let (first, first_name) = &parts[0];
    let n = first.axes[0].len();
    let mut rows = Vec::new();
    let mut seconds = 0.0;
    for (part, name) in &parts {
        if !part.meta.same_job(&first.meta) || part.axes != first.axes {
            bail!("{name} belongs to another heatmap job than {first_name}");
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
