//! The two small choices every config, run folder and command names: which network, and which of
//! a run's weights. They live apart from the configs, runs and checkpoints that use them, so none
//! of those modules has to reach into another for them.

/// Which network a run trains: the study's two, or one of the original's single-output ablations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum ModelKind {
    /// The dual-scale LIFT UNet.
    #[value(name = "lift")]
    Lift,
    /// The single-scale baseline UNet.
    #[value(name = "baseline")]
    Baseline,
    /// Ablation `single_t`: LIFT's two inputs, one output (ε̂₆₄), told t₆₄ only.
    #[value(name = "single-t")]
    SingleT,
    /// Ablation `no_t`: LIFT's two inputs, one output (ε̂₆₄), told no timestep.
    #[value(name = "no-t")]
    NoT,
}

impl ModelKind {
    /// The original's single-output ablation models.
    pub const ABLATIONS: [ModelKind; 2] = [Self::SingleT, Self::NoT];

    /// The name in tables and reports.
    pub fn label(self) -> &'static str {
        match self {
            Self::Lift => "LIFT UNet",
            Self::Baseline => "baseline UNet",
            Self::SingleT => "single_t ablation",
            Self::NoT => "no_t ablation",
        }
    }

    /// True when the network takes a coarse input (whose noise level training draws).
    pub fn has_coarse_input(self) -> bool {
        self != Self::Baseline
    }

    /// True for the models that predict the fine scale's noise only from both scales' inputs.
    pub fn is_single_output(self) -> bool {
        matches!(self, Self::SingleT | Self::NoT)
    }
}

crate::value_enum_names!(ModelKind);

/// Which weights of a run to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, clap::ValueEnum)]
pub enum Weights {
    /// The exponential moving average (what the original's best results used).
    #[default]
    #[value(name = "ema")]
    Ema,
    /// The trained network itself.
    #[value(name = "raw")]
    Raw,
}

crate::value_enum_names!(Weights);
