//! The statistics of the report: spreads as the original states them (population standard
//! deviation, numpy's default ddof = 0), Welch's t-test with Welch–Satterthwaite degrees of
//! freedom for the verdicts, and Spearman's rank correlation with a bootstrap interval.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean of `v` (NaN when empty).
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Population standard deviation (ddof = 0), what the original's tables show.
pub fn std_population(v: &[f64]) -> f64 {
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
}

/// Sample variance (ddof = 1), what Welch's test uses.
pub fn var_sample(v: &[f64]) -> f64 {
    let m = mean(v);
    v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)
}

/// Welch's two-sample t-test of mean(a) against mean(b).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Welch {
    /// (mean(a) − mean(b)) / √(s_a²/n_a + s_b²/n_b).
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's test; None when either side has fewer than two values or neither has any spread.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    welch_of((mean(a), var_sample(a), a.len()), (mean(b), var_sample(b), b.len()))
}

/// Welch's test from each side's (mean, sample variance, count).
pub fn welch_of((ma, sa, na): (f64, f64, usize), (mb, sb, nb): (f64, f64, usize)) -> Option<Welch> {
    if na < 2 || nb < 2 {
        return None;
    }
    let (va, vb) = (sa / na as f64, sb / nb as f64);
    let se2 = va + vb;
    if se2.is_nan() || se2 <= 0.0 {
        return None;
    }
    let t = (ma - mb) / se2.sqrt();
    let df = se2.powi(2) / (va.powi(2) / (na as f64 - 1.0) + vb.powi(2) / (nb as f64 - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    Some(Welch { t, df, p: 2.0 * dist.cdf(-t.abs()) })
}

/// Ranks from 1, ties given their average rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut r = vec![0.0; v.len()];
    let mut k = 0;
    while k < order.len() {
        let mut end = k;
        while end + 1 < order.len() && v[order[end + 1]] == v[order[k]] {
            end += 1;
        }
        for &i in &order[k..=end] {
            r[i] = (k + end) as f64 / 2.0 + 1.0;
        }
        k = end + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let (sx, sy) = (x.iter().map(|a| (a - mx).powi(2)).sum::<f64>(), y.iter().map(|b| (b - my).powi(2)).sum::<f64>());
    cov / (sx * sy).sqrt()
}

/// Spearman's ρ: the Pearson correlation of the ranks (NaN when either side is constant).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// Spearman's ρ with a percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Correlation {
    pub rho: f64,
    /// 2.5 % and 97.5 % of the resampled ρ (pairs drawn with replacement).
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

/// ρ of the pairs (x, y) and its 95 % bootstrap interval from `resamples` draws seeded by `seed`.
pub fn spearman_bootstrap(x: &[f64], y: &[f64], resamples: usize, seed: u64) -> Correlation {
    let n = x.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draws: Vec<f64> = (0..resamples)
        .filter_map(|_| {
            let pick: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
            let rho = spearman(&pick.iter().map(|&i| x[i]).collect::<Vec<_>>(), &pick.iter().map(|&i| y[i]).collect::<Vec<_>>());
            rho.is_finite().then_some(rho)
        })
        .collect();
    draws.sort_by(f64::total_cmp);
    let at = |q: f64| draws.get(((draws.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(f64::NAN);
    Correlation { rho: spearman(x, y), low: at(0.025), high: at(0.975), n }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_by_hand() {
        // 1, 2, 3, 4: mean 2.5, squared deviations 5; ddof 0: √(5/4) = 1.1180; ddof 1: 5/3.
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((std_population(&v) - 1.25f64.sqrt()).abs() < 1e-15);
        assert!((var_sample(&v) - 5.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn welch_against_a_hand_computed_case() {
        // a = 1, 2, 3, 4 (mean 2.5, s² = 5/3, n 4); b = 3, 5, 7 (mean 5, s² = 4, n 3).
        // s_a²/n_a = 0.416667, s_b²/n_b = 1.333333, sum 1.75: t = −2.5/√1.75 = −1.889822.
        // df = 1.75² / (0.416667²/3 + 1.333333²/2) = 3.0625 / (0.0578704 + 0.8888889) = 3.234719.
        // p = 2·P(T_3.2347 < −1.889822) = 0.148471 (`python3 bench/stats_reference.py`).
        let w = welch(&[1.0, 2.0, 3.0, 4.0], &[3.0, 5.0, 7.0]).unwrap();
        assert!((w.t + 1.889_822_4).abs() < 1e-6, "{w:?}");
        assert!((w.df - 3.234_719).abs() < 1e-5, "{w:?}");
        assert!((w.p - 0.148_471).abs() < 2e-6, "{w:?}");
        assert!(welch(&[1.0], &[2.0, 3.0]).is_none());
        assert!(welch(&[1.0, 1.0], &[1.0, 1.0]).is_none());
    }

    #[test]
    fn spearman_against_a_hand_computed_case() {
        // x ranks 1..5; y = 2, 1, 4, 3, 5 → ranks 2, 1, 4, 3, 5; Σd² = 4; ρ = 1 − 6·4/(5·24) = 0.8.
        let (x, y) = ([10.0, 20.0, 30.0, 40.0, 50.0], [2.0, 1.0, 4.0, 3.0, 5.0]);
        assert!((spearman(&x, &y) - 0.8).abs() < 1e-12);
        // Ties share their average rank: y = 1, 2, 2, 2, 3 → ranks 1, 3, 3, 3, 5; against 1..5:
        // covariance sum 8, squared deviations 10 and 8, ρ = 8/√80 = 0.894427 (ranks 1, 2, 2, 2, 5
        // would give 8/√92 = 0.834).
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[1.0, 2.0, 2.0, 2.0, 3.0]) - 0.894_427_2).abs() < 1e-6);
        let c = spearman_bootstrap(&x, &y, 500, 1);
        assert!(c.low <= c.rho && c.rho <= c.high && c.low >= -1.0 && c.high <= 1.0, "{c:?}");
        assert_eq!(spearman_bootstrap(&x, &y, 500, 1), c, "seeded");
    }
}
