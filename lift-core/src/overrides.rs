//! `--set section.key=value`: one config value changed on the command line, checked exactly as the
//! file's own values are (unknown keys refused, every value validated).

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Context, Result};

use crate::config::LiftConfig;

/// One `--set section.key=value`; the value is TOML (`0.5`, `true`, `[16, 32]`, `"text"`), and a
/// bare word is a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub section: String,
    pub key: String,
    pub value: toml::Value,
}

impl FromStr for Override {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let (path, raw) = s.split_once('=').with_context(|| format!("--set '{s}': expected section.key=value, e.g. train.epochs=10"))?;
        let Some((section, key)) = path.trim().split_once('.') else { bail!("--set '{s}': expected section.key=value, e.g. train.epochs=10") };
        let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
            Ok(mut t) => t.remove("v").expect("parsed v"),
            Err(_) => toml::Value::String(raw.trim().to_string()),
        };
        Ok(Self { section: section.to_string(), key: key.to_string(), value })
    }
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}={}", self.section, self.key, self.value)
    }
}

impl LiftConfig {
    /// This config with `sets` applied in order, validated; an unknown section or key, or a value
    /// of the wrong type or range, is an error naming the `--set`.
    pub fn with_overrides(&self, sets: &[Override]) -> Result<Self> {
        let mut doc: toml::Table = toml::from_str(&self.to_toml()).expect("a config's own TOML parses");
        for set in sets {
            let Some(section) = doc.get_mut(&set.section).and_then(toml::Value::as_table_mut) else {
                let sections: Vec<&String> = doc.keys().collect();
                bail!("--set {set}: no section [{}] (the sections: {sections:?})", set.section);
            };
            section.insert(set.key.clone(), set.value.clone());
            let text = toml::to_string(&doc).expect("a TOML table serialises");
            Self::from_toml(&text).with_context(|| format!("--set {set}"))?;
        }
        Self::from_toml(&toml::to_string(&doc).expect("a TOML table serialises"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> LiftConfig {
        LiftConfig::from_toml(include_str!("../../configs/tiny.toml")).unwrap()
    }

    #[test]
    fn values_land_where_they_are_named() {
        let sets: Vec<Override> =
            ["train.epochs=7", "model.dims=[8, 16, 32]", "sample.protocol=fair", "train.lr=5e-4"].iter().map(|s| s.parse().unwrap()).collect();
        let c = tiny().with_overrides(&sets).unwrap();
        assert_eq!((c.train.epochs, c.model.dims.clone(), c.train.lr), (7, vec![8, 16, 32], 5e-4));
        assert_eq!(c.sample.protocol, crate::TimestepRule::Fair);
        let untouched = tiny();
        assert_eq!((c.schedule.clone(), c.study.clone()), (untouched.schedule, untouched.study));
    }

    #[test]
    fn bad_sets_name_themselves() {
        let err = |s: &str| match s.parse::<Override>() {
            Ok(set) => format!("{:#}", tiny().with_overrides(&[set]).unwrap_err()),
            Err(e) => e.to_string(),
        };
        assert!(err("epochs=3").contains("expected section.key=value"));
        assert!(err("train.epochs").contains("expected section.key=value"));
        assert!(err("nope.epochs=3").contains("no section [nope]"));
        let unknown = err("train.epoch=3");
        assert!(unknown.contains("--set train.epoch=3") && unknown.contains("epoch"), "{unknown}");
        assert!(err("train.epochs=-1").contains("--set train.epochs=-1"));
        assert!(err("train.batch_size=0").contains("--set train.batch_size=0"));
    }
}
