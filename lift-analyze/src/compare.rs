//! Whether two strategies' scores differ by more than their seeds' spread: the plain statements
//! of the report. The difference of the means is compared with twice its standard error
//! √(s_a²/n_a + s_b²/n_b) (Welch), the seeds' sample standard deviations s.

use serde::Serialize;

/// Mean and sample standard deviation (N − 1) of one strategy's values over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Summary {
    /// The summary of `values` (at least one).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let std = if n > 1 { (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { f64::NAN };
        Self { mean, std, n }
    }
}

/// The outcome of a comparison of `a` with `b` (lower is better for the scores compared here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// `a` is lower by more than two standard errors.
    Lower,
    /// `a` is higher by more than two standard errors.
    Higher,
    /// The difference is within two standard errors.
    Within,
    /// Fewer than two seeds: no spread to compare with.
    NoSpread,
}

/// Compares `a` with `b`; returns the verdict and the standard error of the difference.
pub fn compare(a: &Summary, b: &Summary) -> (Verdict, f64) {
    if a.n < 2 || b.n < 2 {
        return (Verdict::NoSpread, f64::NAN);
    }
    let se = (a.std.powi(2) / a.n as f64 + b.std.powi(2) / b.n as f64).sqrt();
    let d = a.mean - b.mean;
    let verdict = if d.abs() <= 2.0 * se {
        Verdict::Within
    } else if d < 0.0 {
        Verdict::Lower
    } else {
        Verdict::Higher
    };
    (verdict, se)
}

/// "A (x ± s) is lower than B (y ± s) by d, more than twice its standard error e" and the like.
pub fn statement(metric: &str, (name_a, a): (&str, &Summary), (name_b, b): (&str, &Summary)) -> String {
    let (verdict, se) = compare(a, b);
    let show = |s: &Summary| if s.n > 1 { format!("{:.2} ± {:.2}", s.mean, s.std) } else { format!("{:.2}", s.mean) };
    let d = (a.mean - b.mean).abs();
    match verdict {
        Verdict::Lower => format!("{name_a} ({}) has a lower {metric} than {name_b} ({}) by {d:.2}, more than twice the standard error of the difference ({se:.2}).", show(a), show(b)),
        Verdict::Higher => format!("{name_a} ({}) has a higher {metric} than {name_b} ({}) by {d:.2}, more than twice the standard error of the difference ({se:.2}).", show(a), show(b)),
        Verdict::Within => format!("{name_a} ({}) and {name_b} ({}) differ in {metric} by {d:.2}, within twice the standard error of the difference ({se:.2}): not distinguishable with these seeds.", show(a), show(b)),
        Verdict::NoSpread => format!("{name_a} ({}) vs {name_b} ({}): one seed only, so no spread to judge the {metric} difference of {d:.2} against.", show(a), show(b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_on_synthetic_seeds() {
        // a: 10, 11, 12 → mean 11, s = 1; b: 14, 15, 16 → mean 15, s = 1; se = √(1/3 + 1/3) = 0.8165.
        let (a, b) = (Summary::of(&[10.0, 11.0, 12.0]), Summary::of(&[14.0, 15.0, 16.0]));
        assert_eq!((a.mean, a.std), (11.0, 1.0));
        let (v, se) = compare(&a, &b);
        assert_eq!(v, Verdict::Lower);
        assert!((se - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(compare(&b, &a).0, Verdict::Higher);
        // c: 11.5 ± 1 against a: |Δ| = 0.5 < 2·0.8165.
        assert_eq!(compare(&Summary::of(&[10.5, 11.5, 12.5]), &a).0, Verdict::Within);
        assert_eq!(compare(&Summary::of(&[3.0]), &a).0, Verdict::NoSpread);
        let s = statement("FID", ("DP-64", &a), ("diagonal", &b));
        assert!(s.contains("lower FID") && s.contains("11.00 ± 1.00") && s.contains("4.00") && s.contains("0.82"), "{s}");
    }
}
