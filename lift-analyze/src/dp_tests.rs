//! Hand-made heatmaps for the path searches.

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn map(n: usize, mut f: impl FnMut(usize, usize) -> f64) -> Vec<Vec<f64>> {
    (0..n).map(|i| (0..n).map(|j| f(i, j)).collect()).collect()
}

fn lambdas(n: usize) -> Vec<f64> {
    (0..n).map(|k| -4.0 + 9.0 * k as f64 / (n - 1) as f64).collect()
}

fn is_valid(path: &[(usize, usize)], n: usize, steps: usize, jump: usize) -> bool {
    path.len() == steps + 1
        && path[0] == (0, 0)
        && *path.last().unwrap() == (n - 1, n - 1)
        && path.windows(2).all(|w| {
            let (di, dj) = (w[1].0 as i64 - w[0].0 as i64, w[1].1 as i64 - w[0].1 as i64);
            di >= 0 && dj >= 0 && di + dj > 0 && di <= jump as i64 && dj <= jump as i64
        })
}

#[test]
fn zero_error_gives_a_feasible_18_step_path() {
    let z = map(30, |_, _| 0.0);
    let l = lambdas(30);
    let c = CostMap { fine: &z, coarse: &z, log_snr: &l };
    let p = cheapest_path_with_retry(&c, 18, 5).unwrap();
    assert!(is_valid(&p.cells, 30, 18, 5), "{:?}", p.cells);
    assert_eq!((p.cost, p.max_jump), (0.0, 5));
}

#[test]
fn symmetric_map_costs_the_same_as_its_mirror() {
    // Symmetric in the two axes: e₃₂[i][j] = e₆₄[j][i]. Swapping the scales maps every path onto
    // its mirror at equal cost, so the cheapest path's mirror is also cheapest.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 12;
    let a = map(n, |_, _| rng.random::<f64>());
    let b: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| a[j][i]).collect()).collect();
    let l = lambdas(n);
    let c = CostMap { fine: &a, coarse: &b, log_snr: &l };
    let p = cheapest_path(&c, 8, 3).unwrap();
    let mirrored: Vec<_> = p.cells.iter().map(|&(i, j)| (j, i)).collect();
    assert!((c.path_cost(&mirrored) - p.cost).abs() < 1e-12, "{} vs {}", c.path_cost(&mirrored), p.cost);
    // An asymmetric map breaks the equality (the test can fail).
    let c2 = CostMap { fine: &a, coarse: &a, log_snr: &l };
    let p2 = cheapest_path(&c2, 8, 3).unwrap();
    let m2: Vec<_> = p2.cells.iter().map(|&(i, j)| (j, i)).collect();
    assert!((c2.path_cost(&m2) - p2.cost).abs() > 1e-9);
}

#[test]
fn a_cheap_corridor_is_followed() {
    // Everything costs 100 except column 0 and the last row: the path must run down column 0,
    // then along the last row.
    let n = 10;
    let e = map(n, |i, j| if j == 0 || i == n - 1 { 0.0 } else { 100.0 });
    let z = map(n, |_, _| 0.0);
    let l = lambdas(n);
    let c = CostMap { fine: &e, coarse: &z, log_snr: &l };
    let p = cheapest_path(&c, 6, 5).unwrap();
    assert_eq!(p.cost, 0.0, "{:?}", p.cells);
    assert!(p.cells.iter().all(|&(i, j)| j == 0 || i == n - 1), "{:?}", p.cells);
}

#[test]
fn unreachable_step_count_triggers_the_retry_rule() {
    // 30×30 needs 29 cells per axis; 3 steps with jumps of 5 reach only 15: 5 → 7 → … → 11.
    let z = map(30, |_, _| 1.0);
    let l = lambdas(30);
    let c = CostMap { fine: &z, coarse: &z, log_snr: &l };
    assert!(cheapest_path(&c, 3, 5).is_none());
    let p = cheapest_path_with_retry(&c, 3, 5).unwrap();
    assert_eq!(p.max_jump, 11);
    assert!(is_valid(&p.cells, 30, 3, 11));
    assert!(cheapest_path_with_retry(&c, 59, 5).is_err(), "59 steps cannot fit in 58 cell moves");
}

fn exhaustive(c: &CostMap, steps: usize, jump: usize) -> f64 {
    fn go(c: &CostMap, at: (usize, usize), left: usize, jump: usize) -> f64 {
        let n = c.n();
        if left == 0 {
            return if at == (n - 1, n - 1) { 0.0 } else { f64::INFINITY };
        }
        let mut best = f64::INFINITY;
        for di in 0..=jump.min(n - 1 - at.0) {
            for dj in 0..=jump.min(n - 1 - at.1) {
                if di + dj > 0 {
                    let to = (at.0 + di, at.1 + dj);
                    best = best.min(c.step(at, to) + go(c, to, left - 1, jump));
                }
            }
        }
        best
    }
    go(c, (0, 0), steps, jump)
}

#[test]
fn dp_equals_exhaustive_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for (n, steps, jump) in [(6, 4, 5), (6, 4, 2), (5, 6, 1), (6, 3, 3)] {
        let a = map(n, |_, _| rng.random::<f64>());
        let b = map(n, |_, _| rng.random::<f64>());
        let l: Vec<f64> = {
            let mut v: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 10.0 - 5.0).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let zero = map(n, |_, _| 0.0);
        for coarse in [&zero, &b] {
            let c = CostMap { fine: &a, coarse, log_snr: &l };
            let brute = exhaustive(&c, steps, jump);
            match cheapest_path(&c, steps, jump) {
                Some(p) => {
                    assert!((p.cost - brute).abs() < 1e-12, "{n} {steps} {jump}: {} vs {brute}", p.cost);
                    assert!((c.path_cost(&p.cells) - p.cost).abs() < 1e-12);
                    assert!(is_valid(&p.cells, n, steps, jump));
                }
                None => assert!(brute.is_infinite()),
            }
        }
    }
    // On a 30×30 random map the returned path is valid and costs what the DP claims.
    let a = map(30, |_, _| rng.random::<f64>());
    let l = lambdas(30);
    let c = CostMap { fine: &a, coarse: &a, log_snr: &l };
    let p = cheapest_path(&c, 18, 5).unwrap();
    assert!(is_valid(&p.cells, 30, 18, 5));
    assert!((c.path_cost(&p.cells) - p.cost).abs() < 1e-9);
}

#[test]
fn diagonal_path_has_n_steps_when_the_grid_allows() {
    let p = diagonal_path(30, 18);
    assert_eq!(p.len(), 19);
    assert_eq!((p[0], p[18]), ((0, 0), (29, 29)));
}

/// A step's cost by hand: (0, 0) → (1, 2) on λ = (−2, 0, 3) moves Δλ₆₄ = 2 and Δλ₃₂ = 5, so it
/// costs (1 + 6)/2·2 + (0.1 + 0.6)/2·5 = 7 + 1.75; the diagonal (0,0) → (1,1) → (2,2) costs
/// (1 + 5)/2·2 + (0.1 + 0.5)/2·2 + (5 + 9)/2·3 + (0.5 + 0.9)/2·3 = 6 + 0.6 + 21 + 2.1.
#[test]
fn step_costs_by_hand_on_a_3x3_map() {
    let fine = map(3, |i, j| (3 * i + j + 1) as f64);
    let coarse = map(3, |i, j| (3 * i + j + 1) as f64 / 10.0);
    let l = [-2.0, 0.0, 3.0];
    let c = CostMap { fine: &fine, coarse: &coarse, log_snr: &l };
    assert!((c.step((0, 0), (1, 2)) - 8.75).abs() < 1e-12, "{}", c.step((0, 0), (1, 2)));
    assert!((c.path_cost(&[(0, 0), (1, 1), (2, 2)]) - 29.7).abs() < 1e-12);
    // Two steps with jumps of up to 2: the middle cell decides. By hand, through (1, 1) is 29.7,
    // through (2, 0): (1 + 7)/2·5 + (0.1 + 0.7)/2·0 + (7 + 9)/2·0 + (0.7 + 0.9)/2·5 = 24;
    // through (0, 2): (1 + 3)/2·0 + (0.1 + 0.3)/2·5 + (3 + 9)/2·5 + (0.3 + 0.9)/2·0 = 31.
    let p = cheapest_path(&c, 2, 2).unwrap();
    assert_eq!(p.cells, [(0, 0), (2, 0), (2, 2)]);
    assert!((p.cost - 24.0).abs() < 1e-12, "{}", p.cost);
}

/// `bench/dp_reference.py`, a search written from the spec in Python, on two 30×30 maps: the
/// same cheapest cost and path for each step count, jump limit and cost pair.
#[test]
fn dp_matches_an_independent_python_search() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dp_reference.json");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let matrix = |v: &serde_json::Value| -> Vec<Vec<f64>> { serde_json::from_value(v.clone()).unwrap() };
    let (fine, coarse) = (matrix(&r["fine"]), matrix(&r["coarse"]));
    let l: Vec<f64> = serde_json::from_value(r["log_snr"].clone()).unwrap();
    let zero = map(fine.len(), |_, _| 0.0);
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let (steps, jump) = (case["steps"].as_u64().unwrap() as usize, case["jump"].as_u64().unwrap() as usize);
        let coarse = if case["coarse"] == "total" { &coarse } else { &zero };
        let c = CostMap { fine: &fine, coarse, log_snr: &l };
        let found = cheapest_path(&c, steps, jump).unwrap();
        let expected: Vec<(usize, usize)> = serde_json::from_value(case["path"].clone()).unwrap();
        let cost = case["cost"].as_f64().unwrap();
        assert!((found.cost - cost).abs() < 1e-9 * cost, "{case:?}: {} vs {cost}", found.cost);
        assert_eq!(found.cells, expected, "steps {steps}, jump {jump}, {}", case["coarse"]);
    }
}
