//! The write-up's older path rules, as the original's `plot_heatmap.py` and `generate_for_fid.py`
//! computed them (`docs/protocol.md`, "Older paths"): a column (γ₁ grid index) per heatmap row
//! (γ₀ grid index), then an N-point sampling schedule interpolated from it.
//!
//! - `greedy` (on the 64×64 error): column 0 for row 0; each later row takes the first cheapest
//!   column at or right of the current one, or its own diagonal index when the candidates differ
//!   by less than 5% of their minimum; the column never moves left.
//! - `snr-map` (total error) and `snr-map-64` (64×64 error): the non-decreasing column map,
//!   pinned at (0, 0), minimising the plain sum of its cells, ending at the last row's cheapest cell.
//! - Schedule: γ₀ = N log-spaced points from the grid's first to last SNR; γ₁ interpolated
//!   linearly in log₁₀ SNR between the rows' columns; each SNR becomes the integer t whose ᾱ is
//!   nearest to SNR/(1 + SNR). The path has N points and N evaluations.

use anyhow::Result;
use lift_core::NoiseSchedule;

use crate::heatmap::{Heatmap, Matrix};

/// Relative spread below which the greedy rule keeps the diagonal.
const FLAT_ROW: f64 = 0.05;

/// The greedy column per row on `e64`.
pub fn greedy_columns(e64: &Matrix) -> Vec<usize> {
    let mut cols = vec![0];
    let mut j = 0;
    for (i, row) in e64.iter().enumerate().skip(1) {
        let slice = &row[j..];
        let (min, max) = slice.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let candidate = if min > 0.0 && (max - min) / min < FLAT_ROW { i } else { j + first_argmin(slice) };
        j = j.max(candidate);
        cols.push(j);
    }
    cols
}

/// The non-decreasing column map from (0, 0) minimising the sum of its cells; ties keep the
/// smallest column.
pub fn row_dp_columns(values: &Matrix) -> Vec<usize> {
    let n = values.len();
    let mut best: Vec<f64> = (0..n).map(|j| if j == 0 { values[0][0] } else { f64::INFINITY }).collect();
    let mut from = vec![vec![0usize; n]; n];
    for i in 1..n {
        let (mut run_min, mut run_arg) = (f64::INFINITY, 0);
        let mut next = vec![f64::INFINITY; n];
        for j in 0..n {
            if best[j] < run_min {
                (run_min, run_arg) = (best[j], j);
            }
            next[j] = run_min + values[i][j];
            from[i][j] = run_arg;
        }
        best = next;
    }
    let mut j = first_argmin(&best);
    let mut cols = vec![0; n];
    for i in (0..n).rev() {
        cols[i] = j;
        j = from[i][j];
    }
    cols
}

fn first_argmin(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |best, k| if v[k] < v[best] { k } else { best })
}

/// N (γ₀, γ₁) points from a column map.
pub fn schedule_from_columns(map: &Heatmap, cols: &[usize], steps: usize) -> Vec<[f64; 2]> {
    let x: Vec<f64> = map.snr.iter().map(|s| s.log10()).collect();
    let y: Vec<f64> = cols.iter().map(|&j| x[j]).collect();
    let (lo, hi) = (x[0], x[x.len() - 1]);
    (0..steps)
        .map(|k| {
            let g0 = if steps == 1 { lo } else { lo + (hi - lo) * k as f64 / (steps - 1) as f64 };
            [10f64.powf(g0), 10f64.powf(interp(g0, &x, &y))]
        })
        .collect()
}

/// numpy's `interp` for increasing `xs`: linear inside, the end values outside.
fn interp(x: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let k = xs.partition_point(|&v| v <= x);
    if k == 0 {
        return ys[0];
    }
    if k == xs.len() {
        return ys[ys.len() - 1];
    }
    let w = (x - xs[k - 1]) / (xs[k] - xs[k - 1]);
    ys[k - 1] + (ys[k] - ys[k - 1]) * w
}

/// The greedy path's N points.
pub fn greedy(map: &Heatmap, e64: &Matrix, steps: usize) -> Vec<[f64; 2]> {
    schedule_from_columns(map, &greedy_columns(e64), steps)
}

/// The row-DP path's N points on `values` (total error for `snr-map`, 64×64 for `snr-map-64`).
pub fn snr_map(map: &Heatmap, values: &Matrix, steps: usize) -> Vec<[f64; 2]> {
    schedule_from_columns(map, &row_dp_columns(values), steps)
}

/// The older scripts' SNR → t rule (an error for an SNR the schedule cannot reach).
pub fn nearest_alpha_bar_timestep(schedule: &NoiseSchedule, snr: f64) -> Result<usize> {
    let (lo, hi) = schedule.snr_range();
    if !(snr.is_finite() && snr > 0.0) {
        anyhow::bail!("SNR {snr} has no timestep");
    }
    if snr < lo * 0.5 || snr > hi * 2.0 {
        anyhow::bail!("SNR {snr} is far outside the schedule's range [{lo:.6}, {hi:.1}]");
    }
    Ok(schedule.nearest_alpha_bar_timestep(snr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[&[f64]]) -> Matrix {
        rows.iter().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn greedy_by_hand() {
        // Row 0 is never examined; row 1 from column 0: min 1 at column 2; row 2 from column 2:
        // [5, 5.1] varies by 2% < 5% → its diagonal index 2; row 3 from column 2: min at 3.
        let e = m(&[&[9.0, 9.0, 9.0, 9.0], &[4.0, 3.0, 1.0, 2.0], &[0.0, 0.0, 5.0, 5.1], &[1.0, 1.0, 3.0, 2.0]]);
        assert_eq!(greedy_columns(&e), [0, 2, 2, 3]);
        // Row 1 jumps to column 3; flat row 2's diagonal index 2 is left of it: the column stays.
        let e = m(&[&[1.0; 4], &[5.0, 5.0, 5.0, 0.1], &[1.0; 4], &[1.0; 4]]);
        assert_eq!(greedy_columns(&e), [0, 3, 3, 3]);
    }

    #[test]
    fn row_dp_is_pinned_at_the_start_only_and_optimal() {
        // Sums of non-decreasing maps from column 0: the cheapest ends in column 1, not the last.
        let e = m(&[&[1.0, 0.0, 0.0], &[5.0, 1.0, 9.0], &[5.0, 1.0, 0.5]]);
        // Candidates: [0,1,1] = 1+1+1 = 3; [0,1,2] = 1+1+0.5 = 2.5; [0,0,2] = 1+5+0.5 = 6.5 → [0,1,2].
        assert_eq!(row_dp_columns(&e), [0, 1, 2]);
        let e = m(&[&[1.0, 0.0, 0.0], &[5.0, 1.0, 9.0], &[5.0, 1.0, 3.0]]);
        // Now [0,1,1] = 3 beats [0,1,2] = 5: the path ends at the last row's argmin, column 1.
        assert_eq!(row_dp_columns(&e), [0, 1, 1]);
    }

    #[test]
    fn schedule_has_n_points_interpolated_in_log_snr() {
        let map = crate::heatmap::test_support::sample(3); // SNR 0.01, 1, 100
        let pts = schedule_from_columns(&map, &[0, 2, 2], 5);
        assert_eq!(pts.len(), 5);
        // γ₀ = 0.01, 0.1, 1, 10, 100; γ₁ in log₁₀: row 0 → −2, row 1 → 2: at log γ₀ = −1 it is 0.
        let logs: Vec<[f64; 2]> = pts.iter().map(|p| [p[0].log10(), p[1].log10()]).collect();
        for (got, want) in logs.iter().zip([[-2.0, -2.0], [-1.0, 0.0], [0.0, 2.0], [1.0, 2.0], [2.0, 2.0]]) {
            assert!((got[0] - want[0]).abs() < 1e-12 && (got[1] - want[1]).abs() < 1e-12, "{logs:?}");
        }
    }
}
