//! Which timesteps a sampler with "N steps" evaluates.

use serde::{Deserialize, Serialize};

/// Rule turning a step count N into descending evaluation timesteps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimestepRule {
    /// The original: every multiple of T div N below T, descending. For T = 1000, N = 18 that is
    /// 990, 935, …, 55, 0: 19 evaluations (the quirk is kept on purpose).
    #[default]
    Reference,
    /// Exactly N evaluations evenly spaced from T−1 down to 0 (rounded to integers).
    Fair,
}

impl TimestepRule {
    /// Evaluation timesteps for `steps` with `train_timesteps` = T, noisiest first.
    pub fn timesteps(self, steps: usize, train_timesteps: usize) -> Vec<usize> {
        assert!(steps >= 1 && steps < train_timesteps, "steps must be in 1..{train_timesteps}");
        match self {
            TimestepRule::Reference => {
                let stride = train_timesteps / steps;
                (0..train_timesteps).step_by(stride).rev().collect()
            }
            TimestepRule::Fair => linspace_timesteps(train_timesteps - 1, steps),
        }
    }

    /// Name used in file names and reports.
    pub fn name(self) -> &'static str {
        match self {
            TimestepRule::Reference => "reference",
            TimestepRule::Fair => "fair",
        }
    }
}

impl std::str::FromStr for TimestepRule {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "reference" => Ok(Self::Reference),
            "fair" => Ok(Self::Fair),
            other => anyhow::bail!("unknown protocol '{other}': expected reference or fair"),
        }
    }
}

/// `n` integers evenly spaced from `start` down to 0 (numpy's linspace, then rounded).
pub fn linspace_timesteps(start: usize, n: usize) -> Vec<usize> {
    if n == 1 {
        return vec![start];
    }
    (0..n)
        .map(|i| (start as f64 * (1.0 - i as f64 / (n - 1) as f64)).round() as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_rule_for_18_steps_is_19_evaluations() {
        let ts = TimestepRule::Reference.timesteps(18, 1000);
        // 1000 div 18 = 55; multiples of 55 below 1000: 0, 55, …, 990 (18·55).
        let expected: Vec<usize> = (0..=18).rev().map(|k| 55 * k).collect();
        assert_eq!(ts, expected);
        assert_eq!(ts.len(), 19);
        assert_eq!(ts[0], 990);
        assert_eq!(ts[1], 935);
        assert_eq!(*ts.last().unwrap(), 0);
    }

    #[test]
    fn reference_rule_for_divisor_step_counts() {
        assert_eq!(TimestepRule::Reference.timesteps(10, 1000), vec![900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    }

    #[test]
    fn fair_rule_gives_exactly_n() {
        for n in [1, 2, 5, 18, 19, 50, 999] {
            let ts = TimestepRule::Fair.timesteps(n, 1000);
            assert_eq!(ts.len(), n);
            assert_eq!(ts[0], 999);
            if n > 1 {
                assert_eq!(*ts.last().unwrap(), 0);
            }
            assert!(ts.windows(2).all(|w| w[0] > w[1]), "{ts:?}");
        }
        // 999·(1 − i/3) for i = 0..3: 999, 666, 333, 0.
        assert_eq!(TimestepRule::Fair.timesteps(4, 1000), vec![999, 666, 333, 0]);
    }
}
