//! Discretisation-error heatmaps over (SNR₆₄, SNR₃₂): all four Jacobian blocks per cell.

pub mod compute;
pub mod dual_scale;
pub mod file;
pub mod parts;

pub use compute::{estimate_cell, estimate_cells, CellEstimate, HeatmapJob};
pub use dual_scale::{Analysed, DualScale};
pub use file::{Block, Blocks, Errors, Heatmap, HeatmapMeta, Matrix};

/// Small hand-made heatmaps for the unit tests of the path searches.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use lift_core::chain_rule::ChainRule;
    use lift_core::grid::GridSpec;

    /// An `n`-point SNR grid from 0.01 to 100 whose `sl`-factored errors are HH = i + 2j,
    /// LL = i·j/10, HL = LH = 0.05·(i + j).
    pub fn sample(n: usize) -> Heatmap {
        let snr: Vec<f64> = (0..n).map(|k| 10f64.powf(4.0 * k as f64 / (n - 1) as f64 - 2.0)).collect();
        let schedule = lift_core::NoiseSchedule::reference();
        let g = |k: usize| ChainRule::Sl.factor(snr[k]);
        let m = |f: &dyn Fn(usize, usize) -> f64| -> Matrix { (0..n).map(|i| (0..n).map(|j| f(i, j)).collect()).collect() };
        let block = |f: &dyn Fn(usize, usize) -> f64| Block { mean: m(f), se: m(&|_, _| 0.0) };
        Heatmap {
            t_grid: snr.iter().map(|&s| schedule.timestep_for_snr(s).unwrap()).collect(),
            log_snr: snr.iter().map(|s| s.ln()).collect(),
            blocks: Blocks {
                hh: block(&|i, j| (i + 2 * j) as f64 / g(i)),
                hl: block(&|i, j| 0.05 * (i + j) as f64 / g(j)),
                lh: block(&|i, j| 0.05 * (i + j) as f64 / g(i)),
                ll: block(&|i, j| (i * j) as f64 / 10.0 / g(j)),
            },
            snr,
            meta: HeatmapMeta {
                checkpoint: "ck".into(),
                weights: "ema".into(),
                grid: GridSpec::SnrLogspace { points: n },
                images: 1,
                probes: 1,
                seed: 0,
                estimator: "vjp".into(),
                data: "d".into(),
                device: String::new(),
                resolution: 0,
                git_commit: String::new(),
                seconds: 0.0,
                normalisation: String::new(),
                model: lift_core::ModelKind::Lift,
            },
        }
    }
}
