//! Cheapest monotone paths through a heatmap.
//!
//! A path goes from cell (0, 0) (noisiest) to (n−1, n−1) in exactly N steps; each step moves
//! neither index backwards, not both zero, at most `max_jump` cells per axis. The cost of a step
//! a → b is the trapezoid rule in λ = log SNR per axis:
//! (e₆₄[a] + e₆₄[b])/2·|Δλ₆₄| + (e₃₂[a] + e₃₂[b])/2·|Δλ₃₂|; DP-64 sets e₃₂ = 0 and the cost
//! variants put cross-scale blocks into e₆₄ and e₃₂ (`paths::cost_pair`).
//! If no path exists, the jump limit is raised by 2 and the search repeated (the original's rule).

use anyhow::{bail, Result};

use crate::heatmap::Matrix;

/// Per-cell costs of the two scales and per-index λ, the input of every path search: a step
/// a → b costs (fine[a] + fine[b])/2·|Δλ₆₄| + (coarse[a] + coarse[b])/2·|Δλ₃₂|.
pub struct CostMap<'a> {
    pub fine: &'a Matrix,
    pub coarse: &'a Matrix,
    pub log_snr: &'a [f64],
}

impl CostMap<'_> {
    /// Grid points per axis.
    pub fn n(&self) -> usize {
        self.log_snr.len()
    }

    /// Cost of moving from cell `a` to cell `b`.
    pub fn step(&self, a: (usize, usize), b: (usize, usize)) -> f64 {
        let d64 = (self.log_snr[b.0] - self.log_snr[a.0]).abs();
        let d32 = (self.log_snr[b.1] - self.log_snr[a.1]).abs();
        (self.fine[a.0][a.1] + self.fine[b.0][b.1]) / 2.0 * d64 + (self.coarse[a.0][a.1] + self.coarse[b.0][b.1]) / 2.0 * d32
    }

    /// Total cost of a path of cells.
    pub fn path_cost(&self, path: &[(usize, usize)]) -> f64 {
        path.windows(2).map(|w| self.step(w[0], w[1])).sum()
    }
}

/// A path found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPath {
    pub cells: Vec<(usize, usize)>,
    pub cost: f64,
    /// The jump limit the search succeeded with (after retries).
    pub max_jump: usize,
}

/// The cheapest exact-`steps` path with at most `max_jump` cells per axis per step, or None.
pub fn cheapest_path(costs: &CostMap, steps: usize, max_jump: usize) -> Option<FoundPath> {
    let n = costs.n();
    if n == 0 || steps == 0 {
        return None;
    }
    let idx = |i: usize, j: usize| i * n + j;
    let mut best = vec![f64::INFINITY; n * n];
    best[0] = 0.0;
    // from[k][cell]: predecessor of `cell` on the cheapest k-step path.
    let mut from: Vec<Vec<usize>> = Vec::with_capacity(steps);
    for _ in 0..steps {
        let mut next = vec![f64::INFINITY; n * n];
        let mut pred = vec![usize::MAX; n * n];
        for i in 0..n {
            for j in 0..n {
                let here = best[idx(i, j)];
                if !here.is_finite() {
                    continue;
                }
                for di in 0..=max_jump.min(n - 1 - i) {
                    for dj in 0..=max_jump.min(n - 1 - j) {
                        if di == 0 && dj == 0 {
                            continue;
                        }
                        let to = idx(i + di, j + dj);
                        let c = here + costs.step((i, j), (i + di, j + dj));
                        if c < next[to] {
                            next[to] = c;
                            pred[to] = idx(i, j);
                        }
                    }
                }
            }
        }
        best = next;
        from.push(pred);
    }
    let end = idx(n - 1, n - 1);
    if !best[end].is_finite() {
        return None;
    }
    let mut cells = vec![(n - 1, n - 1)];
    let mut at = end;
    for pred in from.iter().rev() {
        at = pred[at];
        cells.push((at / n, at % n));
    }
    cells.reverse();
    Some(FoundPath { cells, cost: best[end], max_jump })
}

/// [`cheapest_path`], raising the jump limit by 2 until a path exists.
pub fn cheapest_path_with_retry(costs: &CostMap, steps: usize, max_jump: usize) -> Result<FoundPath> {
    let n = costs.n();
    if steps == 0 || steps > 2 * (n - 1) {
        bail!("no monotone path of exactly {steps} steps exists on a {n}×{n} grid (1..={} possible)", 2 * (n - 1));
    }
    let mut jump = max_jump.max(1);
    loop {
        if let Some(p) = cheapest_path(costs, steps, jump) {
            return Ok(p);
        }
        if jump >= n - 1 {
            bail!("no path of {steps} steps found on a {n}×{n} grid");
        }
        jump += 2;
    }
}

/// Both scales advance together: cell k·(n−1)/N (rounded) on the diagonal, for k = 0..=N.
pub fn diagonal_path(n: usize, steps: usize) -> Vec<(usize, usize)> {
    let mut cells: Vec<(usize, usize)> = (0..=steps)
        .map(|k| {
            let i = ((n - 1) as f64 * k as f64 / steps as f64).round() as usize;
            (i, i)
        })
        .collect();
    cells.dedup();
    cells
}

#[cfg(test)]
#[path = "dp_tests.rs"]
mod tests;
