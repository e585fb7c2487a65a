//! Which epochs of a run a study evaluates (and so which snapshots training keeps): the last one,
//! every N-th, or a list. Written `last`, `every:200` or `200,400,600` in configs and flags.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::kinds::Weights;

/// A set of epochs, resolved against a run's length by [`EpochSpec::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EpochSpec {
    /// The final weights only.
    #[default]
    Last,
    /// N, 2N, … and the last epoch.
    Every(usize),
    /// These epochs, in increasing order.
    List(Vec<usize>),
}

impl EpochSpec {
    /// The epochs of a run of `total` epochs, increasing; an epoch past the run is an error.
    pub fn resolve(&self, total: usize) -> Result<Vec<usize>> {
        let mut epochs = match self {
            Self::Last => vec![total],
            Self::Every(n) => (1..=total / n).map(|k| k * n).chain([total]).collect(),
            Self::List(list) => list.clone(),
        };
        epochs.sort_unstable();
        epochs.dedup();
        if let Some(e) = epochs.iter().find(|&&e| e == 0 || e > total) {
            bail!("epoch {e} of '{self}' is not an epoch of a {total}-epoch run");
        }
        Ok(epochs)
    }
}

impl fmt::Display for EpochSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Last => f.write_str("last"),
            Self::Every(n) => write!(f, "every:{n}"),
            Self::List(l) => f.write_str(&l.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(",")),
        }
    }
}

impl FromStr for EpochSpec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let hint = || format!("epochs '{s}': expected last, every:N or a list like 200,400");
        let spec = match s.trim() {
            "last" => Self::Last,
            t => match t.strip_prefix("every:") {
                Some(n) => Self::Every(n.trim().parse().with_context(hint)?),
                None => Self::List(t.split(',').map(|e| e.trim().parse::<usize>()).collect::<Result<_, _>>().with_context(hint)?),
            },
        };
        if matches!(spec, Self::Every(0)) || matches!(&spec, Self::List(l) if l.contains(&0)) {
            bail!("{}: epochs count from 1", hint());
        }
        Ok(spec)
    }
}

impl Serialize for EpochSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for EpochSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(|e: anyhow::Error| serde::de::Error::custom(format!("{e:#}")))
    }
}

/// One evaluated state of a run: its raw or EMA weights after `epoch` epochs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Snapshot {
    pub weights: Weights,
    pub epoch: usize,
}

impl fmt::Display for Snapshot {
    /// `ema-e400`: the folder name of the snapshot's heatmaps, paths and samples.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-e{}", self.weights, self.epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_resolve_and_round_trip() {
        assert_eq!("every:200".parse::<EpochSpec>().unwrap().resolve(1000).unwrap(), [200, 400, 600, 800, 1000]);
        // The last epoch is always evaluated.
        assert_eq!(EpochSpec::Every(300).resolve(700).unwrap(), [300, 600, 700]);
        assert_eq!("400, 200,400".parse::<EpochSpec>().unwrap().resolve(400).unwrap(), [200, 400]);
        assert_eq!(EpochSpec::Last.resolve(7).unwrap(), [7]);
        let e = "500".parse::<EpochSpec>().unwrap().resolve(400).unwrap_err().to_string();
        assert!(e.contains("epoch 500") && e.contains("400-epoch"), "{e}");
        for bad in ["every:0", "0,5", "every:x", "1;2", ""] {
            assert!(bad.parse::<EpochSpec>().unwrap_err().to_string().contains("expected last"), "{bad}");
        }
        for s in ["last", "every:50", "10,20"] {
            assert_eq!(s.parse::<EpochSpec>().unwrap().to_string(), s);
        }
        assert_eq!(Snapshot { weights: Weights::Ema, epoch: 400 }.to_string(), "ema-e400");
    }
}
