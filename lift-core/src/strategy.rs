//! The ways of sampling that the study compares: the baseline, the LIFT paths through the heatmap
//! and the coarse-input ablations. One name per strategy, used in configs, flags, files and
//! reports. The names keep the paper's sizes (`dp-64`, `random32`): "64" is the fine scale and
//! "32" the coarse one whatever the resolution (32×32 and 16×16 in the tiny preset).

use clap::ValueEnum;

use crate::checkpoint::ModelKind;

/// A sampling strategy of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
pub enum Strategy {
    /// The single-scale baseline on its own timesteps.
    #[value(name = "baseline")]
    Baseline,
    /// LIFT with both scales at the same timestep (γ₁ = γ₀).
    #[value(name = "diagonal")]
    Diagonal,
    /// Exact-N-step DP on the fine-scale error only (the paper's 64×64).
    #[value(name = "dp-64")]
    Dp64,
    /// Exact-N-step DP on both scales' errors (J_HH, J_LL).
    #[value(name = "dp-total")]
    DpTotal,
    /// DP on (HH + 1·HL, LL + 1·LH).
    #[value(name = "dp-w1")]
    DpW1,
    /// DP on (HH + 10·HL, LL + 10·LH).
    #[value(name = "dp-w10")]
    DpW10,
    /// DP on (HH + 100·HL, LL + 100·LH).
    #[value(name = "dp-w100")]
    DpW100,
    /// DP on (HH + 1000·HL, LL + 1000·LH).
    #[value(name = "dp-w1000")]
    DpW1000,
    /// DP on (HH·(1 + HL/(HH + 1e-12)), LL·(1 + LH/(LL + 1e-12))).
    #[value(name = "dp-mult")]
    DpMult,
    /// The fine scale on the diagonal timesteps; the coarse input fresh noise at every step.
    #[value(name = "random32")]
    Random32,
    /// The fine scale on the diagonal timesteps; the coarse input its initial noise throughout.
    #[value(name = "fixed32")]
    Fixed32,
    /// The write-up's older greedy rule on the fine-scale error (`plot_heatmap.py`; N evaluations).
    #[value(name = "greedy")]
    Greedy,
    /// The write-up's older rule (`generate_for_fid.py --mode dp`): γ₁ as a monotone function of
    /// γ₀ by a DP over rows of the total error, interpolated to N sampling steps.
    #[value(name = "snr-map")]
    SnrMap,
    /// The same on the fine-scale error only (`--mode dp_64`).
    #[value(name = "snr-map-64")]
    SnrMap64,
}

crate::value_enum_names!(Strategy);

/// How a DP strategy weighs the cross-scale Jacobian blocks into its (fine, coarse) costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DpCost {
    /// (HH, 0).
    Fine,
    /// (HH, LL).
    Total,
    /// (HH + α·HL, LL + α·LH).
    Weighted(f64),
    /// (HH·(1 + HL/(HH + 1e-12)), LL·(1 + LH/(LL + 1e-12))).
    Multiplicative,
}

impl Strategy {
    /// The write-up's name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Baseline => "Baseline (non-LIFT)",
            Self::Diagonal => "LIFT diagonal",
            Self::Dp64 => "LIFT DP-64",
            Self::DpTotal => "LIFT DP-Total",
            Self::DpW1 => "LIFT DP-w1",
            Self::DpW10 => "LIFT DP-w10",
            Self::DpW100 => "LIFT DP-w100",
            Self::DpW1000 => "LIFT DP-w1000",
            Self::DpMult => "LIFT DP-mult",
            Self::Random32 => "LIFT random coarse",
            Self::Fixed32 => "LIFT fixed coarse",
            Self::Greedy => "LIFT greedy (older rule)",
            Self::SnrMap => "LIFT SNR map, total (older rule)",
            Self::SnrMap64 => "LIFT SNR map, fine (older rule)",
        }
    }

    /// The network of the study's two that this strategy samples from.
    pub fn model(self) -> ModelKind {
        match self {
            Self::Baseline => ModelKind::Baseline,
            _ => ModelKind::Lift,
        }
    }

    /// True when the strategy can sample a model of `kind`: the single-output ablations follow
    /// the diagonal or their own DP-64 path (their heatmap has the fine block only).
    pub fn serves(self, kind: ModelKind) -> bool {
        match kind {
            ModelKind::SingleT | ModelKind::NoT => matches!(self, Self::Diagonal | Self::Dp64),
            _ => self.model() == kind,
        }
    }

    /// The DP cost of a DP strategy.
    pub fn dp_cost(self) -> Option<DpCost> {
        Some(match self {
            Self::Dp64 => DpCost::Fine,
            Self::DpTotal => DpCost::Total,
            Self::DpW1 => DpCost::Weighted(1.0),
            Self::DpW10 => DpCost::Weighted(10.0),
            Self::DpW100 => DpCost::Weighted(100.0),
            Self::DpW1000 => DpCost::Weighted(1000.0),
            Self::DpMult => DpCost::Multiplicative,
            _ => return None,
        })
    }

    /// True when the path comes from the heatmap (and therefore from a seed's heatmap).
    pub fn needs_heatmap(self) -> bool {
        self.dp_cost().is_some() || self.is_older_rule()
    }

    /// The write-up's older rules: N-point paths, sampled from the grid's first SNR.
    pub fn is_older_rule(self) -> bool {
        matches!(self, Self::Greedy | Self::SnrMap | Self::SnrMap64)
    }

    /// True when the path also needs the cross-scale blocks J_HL and J_LH.
    pub fn needs_cross_blocks(self) -> bool {
        matches!(self.dp_cost(), Some(DpCost::Weighted(_) | DpCost::Multiplicative))
    }

    /// The strategies of the write-up's main table.
    pub const MAIN: [Strategy; 4] = [Self::Baseline, Self::Diagonal, Self::Dp64, Self::DpTotal];

    /// The cost variants of the cross-Jacobian experiment (`eval_cross_dp.py`).
    pub const COST_VARIANTS: [Strategy; 6] = [Self::DpTotal, Self::DpW1, Self::DpW10, Self::DpW100, Self::DpW1000, Self::DpMult];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_studys() {
        let names: Vec<String> = Strategy::value_variants().iter().map(|s| s.to_string()).collect();
        assert_eq!(
            names,
            [
                "baseline",
                "diagonal",
                "dp-64",
                "dp-total",
                "dp-w1",
                "dp-w10",
                "dp-w100",
                "dp-w1000",
                "dp-mult",
                "random32",
                "fixed32",
                "greedy",
                "snr-map",
                "snr-map-64"
            ]
        );
        for s in Strategy::value_variants() {
            assert_eq!(s.to_string().parse::<Strategy>().unwrap(), *s);
        }
        assert_eq!(Strategy::Baseline.model(), ModelKind::Baseline);
        let ablation: Vec<Strategy> = Strategy::value_variants().iter().copied().filter(|s| s.serves(ModelKind::NoT)).collect();
        assert_eq!(ablation, [Strategy::Diagonal, Strategy::Dp64]);
        assert!(Strategy::DpTotal.serves(ModelKind::Lift) && !Strategy::DpTotal.serves(ModelKind::SingleT));
        assert!(!Strategy::Diagonal.serves(ModelKind::Baseline) && Strategy::Baseline.serves(ModelKind::Baseline));
        assert!(Strategy::DpW10.needs_cross_blocks() && !Strategy::DpTotal.needs_cross_blocks());
        assert!(Strategy::SnrMap.needs_heatmap() && !Strategy::Random32.needs_heatmap());
    }
}
