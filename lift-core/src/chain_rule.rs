//! The chain-rule factor that turns an x_t-space Jacobian norm into an error per unit of the
//! sampler's parameterisation. The heatmap stores the un-factored values, so any factor can be
//! applied afterwards without recomputing a Jacobian.

use clap::ValueEnum;

/// Which parameterisation the error is measured in (`../docs/protocol.md`, "Chain-rule variants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, ValueEnum)]
pub enum ChainRule {
    /// 1/(SNR·(1+SNR)): z = √SNR·x₀ + ε, the stochastic-localisation space (the original's default).
    #[default]
    #[value(name = "sl")]
    Sl,
    /// 1/(1+SNR): the standard z-space.
    #[value(name = "standard")]
    Standard,
    /// SNR/(4·(1+SNR)²) = ‖dx_t/dλ‖², the squared speed of x_t in λ = log SNR.
    #[value(name = "dx-dlambda")]
    DxDlambda,
    /// 1/(4·(1+SNR)²) = γ_C/SNR, the error of x̂₀ per unit Δλ (the original's γ_D: its code and
    /// note apply this form; its README writes γ_C's formula under γ_D's name).
    #[value(name = "dx0-dlambda")]
    Dx0Dlambda,
}

crate::value_enum_names!(ChainRule);

impl ChainRule {
    /// The factor at `snr`.
    pub fn factor(self, snr: f64) -> f64 {
        match self {
            Self::Sl => 1.0 / (snr * (1.0 + snr)),
            Self::Standard => 1.0 / (1.0 + snr),
            Self::DxDlambda => snr / (4.0 * (1.0 + snr).powi(2)),
            Self::Dx0Dlambda => 1.0 / (4.0 * (1.0 + snr).powi(2)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_by_hand() {
        // SNR = 1: 1/(1·2) = 0.5; 1/2 = 0.5; 1/(4·4) = 0.0625. SNR = 0.01: 1/0.0101; 1/1.01; 0.01/(4·1.0201).
        assert_eq!(ChainRule::Sl.factor(1.0), 0.5);
        assert_eq!(ChainRule::Standard.factor(1.0), 0.5);
        assert_eq!(ChainRule::DxDlambda.factor(1.0), 0.0625);
        assert!((ChainRule::Sl.factor(0.01) - 1.0 / 0.0101).abs() < 1e-9);
        assert!((ChainRule::Standard.factor(0.01) - 1.0 / 1.01).abs() < 1e-12);
        assert!((ChainRule::DxDlambda.factor(0.01) - 0.01 / 4.0804).abs() < 1e-12);
        assert_eq!("dx-dlambda".parse::<ChainRule>().unwrap(), ChainRule::DxDlambda);
    }

    #[test]
    fn gamma_d_against_its_formula() {
        // 1/(4·(1 + SNR)²) by hand: 1/(4·1.001²), 1/(4·4), 1/(4·121), 1/(4·10201), 1/(4·(10⁴+1)²).
        // (later-experiments.md lists 0.083 at SNR 0.1, which is not this formula: 1/(4·1.21) = 0.2066.)
        for (snr, want) in [(0.001, 0.249_500_7), (0.1, 0.206_611_6), (1.0, 0.0625), (10.0, 2.066_115_7e-3), (100.0, 2.450_740_1e-5), (1e4, 2.499_500_1e-9)] {
            let got = ChainRule::Dx0Dlambda.factor(snr);
            assert!((got - want).abs() < 1e-6 * want, "SNR {snr}: {got} vs {want}");
            // γ_D = γ_C / SNR.
            assert!((got - ChainRule::DxDlambda.factor(snr) / snr).abs() < 1e-12 * want.max(1e-300) + 1e-18);
        }
        assert_eq!("dx0-dlambda".parse::<ChainRule>().unwrap(), ChainRule::Dx0Dlambda);
    }
}
