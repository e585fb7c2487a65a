//! Which timesteps a sampler with "N steps" evaluates.

use burn::tensor::{backend::Backend, Tensor};

/// Rule turning a step count N into descending evaluation timesteps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TimestepRule {
    /// The original: every multiple of T div N below T, descending. For T = 1000, N = 18 that is
    /// 990, 935, …, 55, 0: 19 evaluations (the quirk is kept on purpose).
    #[default]
    #[value(name = "reference")]
    Reference,
    /// Exactly N evaluations evenly spaced from T−1 down to 0 (rounded to integers).
    #[value(name = "fair")]
    Fair,
}

crate::value_enum_names!(TimestepRule);

impl TimestepRule {
    /// Evaluation timesteps for `steps` with `train_timesteps` = T, noisiest first; `steps` must
    /// be in 1..T.
    pub fn timesteps(self, steps: usize, train_timesteps: usize) -> anyhow::Result<Vec<usize>> {
        if steps == 0 || steps >= train_timesteps {
            anyhow::bail!("{steps} sampling steps: the number of steps must be in 1..{train_timesteps} (the schedule's length)");
        }
        Ok(match self {
            TimestepRule::Reference => {
                let stride = train_timesteps / steps;
                (0..train_timesteps).step_by(stride).rev().collect()
            }
            TimestepRule::Fair => linspace_timesteps(train_timesteps - 1, steps),
        })
    }
}

/// The timestep `t` for every sample of a batch of `n`, as the models take it.
pub fn timestep_tensor<B: Backend>(t: f64, n: usize, device: &B::Device) -> Tensor<B, 1> {
    Tensor::full([n], t, device)
}

/// `n` integers evenly spaced from `start` down to 0 (numpy's linspace, then rounded).
pub fn linspace_timesteps(start: usize, n: usize) -> Vec<usize> {
    if n == 1 {
        return vec![start];
    }
    (0..n).map(|i| (start as f64 * (1.0 - i as f64 / (n - 1) as f64)).round() as usize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_rule_for_18_steps_is_19_evaluations() {
        let ts = TimestepRule::Reference.timesteps(18, 1000).unwrap();
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
        assert_eq!(TimestepRule::Reference.timesteps(10, 1000).unwrap(), vec![900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    }

    #[test]
    fn fair_rule_gives_exactly_n() {
        for n in [1, 2, 5, 18, 19, 50, 999] {
            let ts = TimestepRule::Fair.timesteps(n, 1000).unwrap();
            assert_eq!(ts.len(), n);
            assert_eq!(ts[0], 999);
            if n > 1 {
                assert_eq!(*ts.last().unwrap(), 0);
            }
            assert!(ts.windows(2).all(|w| w[0] > w[1]), "{ts:?}");
        }
        // 999·(1 − i/3) for i = 0..3: 999, 666, 333, 0.
        assert_eq!(TimestepRule::Fair.timesteps(4, 1000).unwrap(), vec![999, 666, 333, 0]);
        assert!(TimestepRule::Fair.timesteps(1000, 1000).is_err() && TimestepRule::Reference.timesteps(0, 1000).is_err());
    }
}
