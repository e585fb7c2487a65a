//! The forward-process noise schedule: ᾱ table, SNR, λ = log SNR and the inverse t(SNR).
//!
//! Everything is computed in f64 from the formulas: the study's decisions (heatmap grid, DP step
//! cost, sampling timesteps) all read this table.

use anyhow::{bail, Result};
use burn::tensor::{backend::Backend, Tensor};
use serde::{Deserialize, Serialize};

/// Which β sequence defines ᾱ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScheduleKind {
    /// Cosine (s = 0.008) with every β clipped to [1e-4, 0.02]: the original.
    #[default]
    CosineClipped,
    /// Nichol & Dhariwal's cosine, β clipped to at most 0.999 only.
    Cosine,
    /// β linear from 1e-4 to 0.02.
    Linear,
}

const COSINE_OFFSET: f64 = 0.008;

/// ᾱ_t for t = 0..T-1 and the quantities derived from it.
#[derive(Debug, Clone)]
pub struct NoiseSchedule {
    kind: ScheduleKind,
    alpha_bar: Vec<f64>,
    log_snr: Vec<f64>,
}

impl NoiseSchedule {
    /// Builds the table for `timesteps` training steps.
    pub fn new(kind: ScheduleKind, timesteps: usize) -> Self {
        assert!(timesteps >= 2, "a schedule needs at least two timesteps");
        let n = timesteps as f64;
        let betas: Vec<f64> = match kind {
            ScheduleKind::Linear => (0..timesteps).map(|i| 1e-4 + (0.02 - 1e-4) * i as f64 / (n - 1.0)).collect(),
            ScheduleKind::Cosine | ScheduleKind::CosineClipped => {
                let f = |t: f64| ((t / n + COSINE_OFFSET) / (1.0 + COSINE_OFFSET) * std::f64::consts::FRAC_PI_2).cos().powi(2);
                (0..timesteps)
                    .map(|i| {
                        let beta = 1.0 - f(i as f64 + 1.0) / f(i as f64);
                        match kind {
                            ScheduleKind::CosineClipped => beta.clamp(1e-4, 0.02),
                            _ => beta.min(0.999),
                        }
                    })
                    .collect()
            }
        };
        let mut alpha_bar = Vec::with_capacity(timesteps);
        let mut prod = 1.0;
        for beta in betas {
            prod *= 1.0 - beta;
            alpha_bar.push(prod);
        }
        let log_snr = alpha_bar.iter().map(|&a| (a / (1.0 - a)).ln()).collect();
        Self { kind, alpha_bar, log_snr }
    }

    /// The original's schedule: clipped cosine, 1000 steps.
    pub fn reference() -> Self {
        Self::new(ScheduleKind::CosineClipped, 1000)
    }

    /// Which formula built the table.
    pub fn kind(&self) -> ScheduleKind {
        self.kind
    }

    /// Number of training timesteps T.
    pub fn len(&self) -> usize {
        self.alpha_bar.len()
    }

    /// Always false: a schedule has at least two timesteps.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// ᾱ_t.
    pub fn alpha_bar(&self, t: usize) -> f64 {
        self.alpha_bar[t]
    }

    /// SNR(t) = ᾱ/(1−ᾱ).
    pub fn snr(&self, t: usize) -> f64 {
        self.log_snr[t].exp()
    }

    /// λ(t) = log SNR(t).
    pub fn log_snr(&self, t: usize) -> f64 {
        self.log_snr[t]
    }

    /// λ at a fractional timestep, linear between the integer timesteps.
    pub fn log_snr_at(&self, t: f64) -> f64 {
        let last = (self.len() - 1) as f64;
        assert!((0.0..=last).contains(&t), "timestep {t} outside [0, {last}]");
        let i = (t.floor() as usize).min(self.len() - 2);
        let w = t - i as f64;
        self.log_snr[i] * (1.0 - w) + self.log_snr[i + 1] * w
    }

    /// SNR at a fractional timestep (log-linear between integer timesteps).
    pub fn snr_at(&self, t: f64) -> f64 {
        self.log_snr_at(t).exp()
    }

    /// SNR range covered by the table: (SNR(T−1), SNR(0)).
    pub fn snr_range(&self) -> (f64, f64) {
        (self.snr(self.len() - 1), self.snr(0))
    }

    /// The fractional timestep whose log SNR equals `log(snr)`, interpolated linearly in λ.
    pub fn timestep_for_snr(&self, snr: f64) -> Result<f64> {
        let (lo, hi) = self.snr_range();
        if !(snr.is_finite() && snr >= lo && snr <= hi) {
            bail!("SNR {snr} is outside the schedule's range [{lo:.6}, {hi:.6}]");
        }
        let target = snr.ln();
        // λ decreases with t: find the first t whose λ is at or below the target.
        let j = self.log_snr.partition_point(|&l| l > target);
        if j == 0 {
            return Ok(0.0);
        }
        let j = j.min(self.len() - 1);
        let (l0, l1) = (self.log_snr[j - 1], self.log_snr[j]);
        let w = if l0 == l1 { 0.0 } else { (l0 - target) / (l0 - l1) };
        Ok((j - 1) as f64 + w)
    }

    /// The integer timestep nearest to [`timestep_for_snr`](Self::timestep_for_snr).
    pub fn nearest_timestep_for_snr(&self, snr: f64) -> Result<usize> {
        Ok(self.timestep_for_snr(snr)?.round() as usize)
    }

    /// The integer timestep whose ᾱ is nearest to SNR/(1 + SNR) (the first on ties): how the
    /// original's older scripts turn an SNR into a timestep.
    pub fn nearest_alpha_bar_timestep(&self, snr: f64) -> usize {
        let target = Self::alpha_bar_for_snr(snr);
        (0..self.len()).min_by(|&a, &b| (self.alpha_bar[a] - target).abs().total_cmp(&(self.alpha_bar[b] - target).abs())).unwrap_or(0)
    }

    /// ᾱ for a given SNR (the inverse of SNR = ᾱ/(1−ᾱ)).
    pub fn alpha_bar_for_snr(snr: f64) -> f64 {
        snr / (1.0 + snr)
    }

    /// The forward process at timestep `t`: x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε.
    ///
    /// # Shapes
    /// - `x0`, `eps`: any shape, equal; the output has the same shape.
    pub fn add_noise<B: Backend, const D: usize>(&self, x0: Tensor<B, D>, eps: Tensor<B, D>, t: usize) -> Tensor<B, D> {
        add_noise(x0, eps, self.alpha_bar(t))
    }
}

/// x = √ᾱ·x₀ + √(1−ᾱ)·ε for any ᾱ, also one between timesteps (an SNR grid point).
pub fn add_noise<B: Backend, const D: usize>(x0: Tensor<B, D>, eps: Tensor<B, D>, alpha_bar: f64) -> Tensor<B, D> {
    x0.mul_scalar(alpha_bar.sqrt()) + eps.mul_scalar((1.0 - alpha_bar).sqrt())
}

/// [`add_noise`] on host values, with the coefficients rounded to f32 once.
pub fn add_noise_host(x0: &[f32], eps: &[f32], alpha_bar: f64) -> Vec<f32> {
    let (sa, s1a) = (alpha_bar.sqrt() as f32, (1.0 - alpha_bar).sqrt() as f32);
    x0.iter().zip(eps).map(|(x, e)| sa * x + s1a * e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts' table (reference-facts.md, "Noise schedule and DDIM"), six decimals.
    const ALPHA_BAR: [(usize, f64); 10] = [
        (0, 0.9999),
        (10, 0.998901),
        (100, 0.971202),
        (250, 0.845563),
        (500, 0.492096),
        (750, 0.143124),
        (900, 0.023607),
        (950, 0.008597),
        (990, 0.003832),
        (999, 0.003195),
    ];

    #[test]
    fn clipped_cosine_matches_the_facts_table() {
        let s = NoiseSchedule::reference();
        assert_eq!(s.len(), 1000);
        for (t, expected) in ALPHA_BAR {
            // The table is rounded to 6 decimals: allow half a unit in the last place.
            assert!((s.alpha_bar(t) - expected).abs() <= 5e-7 + 1e-12, "alpha_bar({t}) = {} vs {expected}", s.alpha_bar(t));
        }
    }

    #[test]
    fn write_up_snr_landmarks() {
        // LIFT-seed.md: SNR 0.01 ↔ t = 943, SNR 100 ↔ t = 54.
        let s = NoiseSchedule::reference();
        assert_eq!(s.nearest_timestep_for_snr(0.01).unwrap(), 943);
        assert_eq!(s.nearest_timestep_for_snr(100.0).unwrap(), 54);
    }

    #[test]
    fn the_older_scripts_snap_snr_to_the_nearest_alpha_bar() {
        // docs/protocol.md: the 15-point SNR grid logspace(0.01, 100) lands on these timesteps.
        let s = NoiseSchedule::reference();
        let ts: Vec<usize> = (0..15).map(|k| s.nearest_alpha_bar_timestep(10f64.powf(-2.0 + 4.0 * k as f64 / 14.0))).collect();
        assert_eq!(ts, [943, 911, 877, 831, 770, 692, 599, 495, 391, 298, 220, 159, 113, 79, 54]);
    }

    #[test]
    fn snr_to_t_round_trips() {
        let s = NoiseSchedule::reference();
        let (lo, hi) = s.snr_range();
        for k in 0..=200 {
            let snr = (lo.ln() + (hi.ln() - lo.ln()) * k as f64 / 200.0).exp();
            let t = s.timestep_for_snr(snr).unwrap();
            let back = s.snr_at(t);
            assert!(((back - snr) / snr).abs() < 1e-9, "{snr} -> {t} -> {back}");
        }
        for t in [0usize, 1, 54, 500, 943, 998, 999] {
            let tt = s.timestep_for_snr(s.snr(t)).unwrap();
            assert!((tt - t as f64).abs() < 1e-9, "{t} -> {tt}");
        }
    }

    #[test]
    fn snr_outside_range_is_an_error() {
        let s = NoiseSchedule::reference();
        let e = s.timestep_for_snr(1e-4).unwrap_err().to_string();
        assert!(e.contains("outside"), "{e}");
        assert!(s.timestep_for_snr(1e5).is_err());
        assert!(s.timestep_for_snr(f64::NAN).is_err());
    }

    #[test]
    fn other_schedules() {
        let lin = NoiseSchedule::new(ScheduleKind::Linear, 1000);
        // ᾱ₀ = 1 − 1e-4 for the linear schedule, by definition.
        assert!((lin.alpha_bar(0) - 0.9999).abs() < 1e-15);
        let cos = NoiseSchedule::new(ScheduleKind::Cosine, 1000);
        // Unclipped: β₀ = 1 − f(1)/f(0) is far below 1e-4, so ᾱ₀ is closer to 1 than the clipped one.
        assert!(cos.alpha_bar(0) > 0.9999);
        for s in [lin, cos] {
            for t in 1..1000 {
                assert!(s.alpha_bar(t) < s.alpha_bar(t - 1));
            }
        }
    }
}
