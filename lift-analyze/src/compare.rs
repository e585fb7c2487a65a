//! Whether two strategies' scores differ beyond their seeds' spread: the plain statements of the
//! report. A difference counts when Welch's t-test (Welch–Satterthwaite degrees of freedom) gives
//! p < [`ALPHA`]; spreads are shown as the original shows them, the population standard
//! deviation (ddof = 0).

use serde::Serialize;

use crate::stats::{mean, std_population, var_sample, welch_of, Welch};

/// The significance level of the report's verdicts (two-sided).
pub const ALPHA: f64 = 0.05;

/// One strategy's values over seeds: mean, population std (shown), sample variance (tested).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub mean: f64,
    /// Population standard deviation (ddof = 0).
    pub std: f64,
    /// Sample variance (ddof = 1; NaN for one value).
    pub var: f64,
    pub n: usize,
}

impl Summary {
    /// The summary of `values` (at least one).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let var = if n > 1 { var_sample(values) } else { f64::NAN };
        Self { mean: mean(values), std: std_population(values), var, n }
    }

    /// "x ± s" (ddof 0), or "x" for one value.
    pub fn show(&self) -> String {
        if self.n > 1 {
            format!("{:.2} ± {:.2}", self.mean, self.std)
        } else {
            format!("{:.2}", self.mean)
        }
    }
}

/// The outcome of a comparison of `a` with `b` (lower is better for the scores compared here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// `a` is lower, p < ALPHA.
    Lower,
    /// `a` is higher, p < ALPHA.
    Higher,
    /// p ≥ ALPHA.
    Within,
    /// Fewer than two seeds (or no spread at all): nothing to test.
    NoSpread,
}

/// Compares `a` with `b` by Welch's test.
pub fn compare(a: &Summary, b: &Summary) -> (Verdict, Option<Welch>) {
    let Some(w) = welch_of((a.mean, a.var, a.n), (b.mean, b.var, b.n)) else { return (Verdict::NoSpread, None) };
    let verdict = match (w.p < ALPHA, a.mean < b.mean) {
        (false, _) => Verdict::Within,
        (true, true) => Verdict::Lower,
        (true, false) => Verdict::Higher,
    };
    (verdict, Some(w))
}

/// "A (x ± s) has a lower FID than B (y ± s) by d (Welch t = …, df = …, p = …)" and the like.
pub fn statement(metric: &str, (name_a, a): (&str, &Summary), (name_b, b): (&str, &Summary)) -> String {
    let (verdict, w) = compare(a, b);
    let d = (a.mean - b.mean).abs();
    let test = w.map(|w| format!("Welch t = {:.2}, df = {:.1}, p = {}", w.t, w.df, p_value(w.p))).unwrap_or_default();
    let (sa, sb) = (a.show(), b.show());
    match verdict {
        Verdict::Lower => format!("{name_a} ({sa}) has a lower {metric} than {name_b} ({sb}) by {d:.2} ({test})."),
        Verdict::Higher => format!("{name_a} ({sa}) has a higher {metric} than {name_b} ({sb}) by {d:.2} ({test})."),
        Verdict::Within => format!("{name_a} ({sa}) and {name_b} ({sb}) differ in {metric} by {d:.2}, not significantly ({test})."),
        Verdict::NoSpread => format!("{name_a} ({sa}) vs {name_b} ({sb}): one seed only, so no test of the {metric} difference of {d:.2}."),
    }
}

/// A p-value as the report prints it.
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_on_synthetic_seeds() {
        // a: 10, 11, 12 → mean 11, population std √(2/3); b: 14, 15, 16 → mean 15.
        // Welch: s² = 1 each, se = √(2/3), t = −4.899, df = 4, p = 0.0080.
        let (a, b) = (Summary::of(&[10.0, 11.0, 12.0]), Summary::of(&[14.0, 15.0, 16.0]));
        assert_eq!(a.mean, 11.0);
        assert!((a.std - (2.0f64 / 3.0).sqrt()).abs() < 1e-15);
        let (v, w) = compare(&a, &b);
        assert_eq!(v, Verdict::Lower);
        let w = w.unwrap();
        assert!((w.t + 4.898_979).abs() < 1e-5 && (w.df - 4.0).abs() < 1e-12, "{w:?}");
        assert!((w.p - 0.008_050).abs() < 1e-5, "{w:?}");
        assert_eq!(compare(&b, &a).0, Verdict::Higher);
        // c: 11.5 ± … against a: t = −0.61, p = 0.57.
        assert_eq!(compare(&Summary::of(&[10.5, 11.5, 12.5]), &a).0, Verdict::Within);
        assert_eq!(compare(&Summary::of(&[3.0]), &a).0, Verdict::NoSpread);
        let s = statement("FID", ("DP-64", &a), ("diagonal", &b));
        assert!(s.contains("lower FID") && s.contains("11.00 ± 0.82") && s.contains("4.00") && s.contains("p = 0.0080"), "{s}");
    }
}
