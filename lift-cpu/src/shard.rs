//! `--shard I/N`: part I (0-based) of N of a job's work, for a cluster's array jobs (Slurm
//! `--array`, a Kubernetes indexed Job). Parts are contiguous runs of whole batches, so that the
//! merged parts equal an unsharded run bit for bit.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Part `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl Shard {
    /// The whole job.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// True for the whole job.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// This part's units of `units`, cut at multiples of `batch` (batches spread as evenly as
    /// they go).
    pub fn range(&self, units: usize, batch: usize) -> Range<usize> {
        let batch = batch.max(1);
        let batches = units.div_ceil(batch);
        let edge = |i: usize| (i * batches / self.count * batch).min(units);
        edge(self.index)..edge(self.index + 1)
    }

    /// `part-I-of-N`, for file names.
    pub fn suffix(&self) -> String {
        format!("part-{}-of-{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (i, n) = s.split_once('/').with_context(|| format!("shard '{s}': expected I/N, e.g. 0/4"))?;
        let parse = |v: &str| v.trim().parse::<usize>().with_context(|| format!("shard '{s}': '{v}' is not a whole number"));
        let (index, count) = (parse(i)?, parse(n)?);
        if count == 0 || index >= count || count > 1_000_000 {
            bail!("shard '{s}': need 0 ≤ I < N ≤ 1000000");
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Serialize for Shard {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Shard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Checks that `parts` (named by `names`, in the same order) are each part of one split exactly
/// once; returns them sorted by index with their names.
pub fn complete_split<'a>(parts: &[Shard], names: &'a [String]) -> Result<Vec<(Shard, &'a String)>> {
    let Some(first) = parts.first() else { bail!("no parts to merge") };
    let mut sorted: Vec<(Shard, &String)> = parts.iter().copied().zip(names).collect();
    sorted.sort();
    for (shard, name) in &sorted {
        if shard.count != first.count {
            bail!("{name} is part {shard}, but {} is part {first}: parts of different splits", names[0]);
        }
    }
    for pair in sorted.windows(2) {
        if pair[0].0 == pair[1].0 {
            bail!("part {} is given twice: {} and {}", pair[0].0, pair[0].1, pair[1].1);
        }
    }
    let missing: Vec<String> = (0..first.count).filter(|i| !sorted.iter().any(|(s, _)| s.index == *i)).map(|i| format!("{i}/{}", first.count)).collect();
    if !missing.is_empty() {
        bail!("parts {} are missing", missing.join(", "));
    }
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_whole_batches_once() {
        let parts: Vec<Range<usize>> = (0..3).map(|i| Shard { index: i, count: 3 }.range(100, 8)).collect();
        // 13 batches of 8 (the last of 4): 4, 4 and 5 batches.
        assert_eq!(parts, [0..32, 32..64, 64..100]);
        assert_eq!(Shard::WHOLE.range(100, 8), 0..100);
        // More parts than batches: some parts are empty.
        assert_eq!(Shard { index: 0, count: 4 }.range(10, 8), 0..0);
        assert_eq!(Shard { index: 3, count: 4 }.range(10, 8), 8..10);
    }

    #[test]
    fn parses_and_checks_splits() {
        assert_eq!("2/5".parse::<Shard>().unwrap(), Shard { index: 2, count: 5 });
        for bad in ["5/5", "1", "a/3", "0/0"] {
            assert!(bad.parse::<Shard>().unwrap_err().to_string().contains("shard"), "{bad}");
        }
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let s = |i, n| Shard { index: i, count: n };
        assert_eq!(complete_split(&[s(2, 3), s(0, 3), s(1, 3)], &names).unwrap()[0].1, "b");
        assert!(complete_split(&[s(0, 3), s(2, 3)], &names[..2]).unwrap_err().to_string().contains("1/3 are missing"));
        assert!(complete_split(&[s(0, 3), s(0, 3), s(1, 3)], &names).unwrap_err().to_string().contains("given twice"));
        assert!(complete_split(&[s(0, 2), s(1, 3)], &names[..2]).unwrap_err().to_string().contains("different splits"));
    }
}
