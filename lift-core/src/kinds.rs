//! The two small choices every config, run folder and command names: which network, and which of
//! a run's weights. They live apart from the configs, runs and checkpoints that use them, so none
//! of those modules has to reach into another for them.

/// Which of the two networks a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ModelKind {
    /// The dual-scale LIFT UNet.
    #[value(name = "lift")]
    Lift,
    /// The single-scale baseline UNet.
    #[value(name = "baseline")]
    Baseline,
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
