//! `cargo xtask reproduce`'s command line: the presets and the flags.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use lift_core::Devices;

use super::budget::Budget;
use crate::data::Subset;

/// A preset: `configs/<name>.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// Minutes; CI runs it end to end (numbers meaningless).
    Smoke,
    /// The CPU default.
    Tiny,
    /// The original recipe, for a GPU.
    Paper,
}

lift_core::value_enum_names!(Preset);

impl Preset {
    /// The emoji the preset trains on when `--data` is not given. The CPU default learns the
    /// smiley faces: one shape, palette and layout that a 0.9M-parameter model can learn in its
    /// budget, where the whole set's 1,911 unrelated pictures stay colour fields. The smoke
    /// preset uses them too: its memorisation check then compares with 108 training images, not
    /// 1,873.
    pub fn subset(self) -> Subset {
        match self {
            Preset::Smoke | Preset::Tiny => Subset::Faces,
            Preset::Paper => Subset::All,
        }
    }
}

/// What `--rerun` takes: a stage's name (the help lists them) or `all`.
fn stage_names() -> clap::builder::PossibleValuesParser {
    use lift_analyze::study_dir::{ABLATION_STAGES, STAGES};
    clap::builder::PossibleValuesParser::new(STAGES.into_iter().chain(ABLATION_STAGES).chain(["peer", "all"]))
}

/// The budget of `cargo xtask reproduce` without flags.
pub const DEFAULT_BUDGET: &str = "45m";

#[derive(Args, Debug, Clone)]
pub struct ReproduceArgs {
    /// smoke (minutes, CI), tiny (the CPU default) or paper (the original recipe, for a GPU);
    /// alone it fixes every size, with --budget it is the base the budget sizes.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Size epochs, sample counts, seeds and heatmaps to this wall time on this machine (e.g. 45m,
    /// 2h, 90s) [default: 45m on the tiny preset when --preset is not given].
    #[arg(long)]
    pub budget: Option<Budget>,
    /// cpu, wgpu, cuda:N, or a list of one backend's devices (cuda:0,cuda:1,…): the two trainings
    /// take half each, heatmaps and sample sets are split over all of them.
    #[arg(long, visible_alias = "devices", default_value = "cpu")]
    pub device: Devices,
    /// Image folder to train on [default: the Noto emoji, fetched by the data stage].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Which Noto emoji the data stage fetches when --data is not given [default: faces for the
    /// tiny preset, all otherwise].
    #[arg(long, value_enum, conflicts_with = "data")]
    pub subset: Option<Subset>,
    /// Output folder [default: artifacts/<preset>, or artifacts/<preset>-<budget> when a budget
    /// sizes the study, e.g. artifacts/tiny-45m].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The config to start from instead of the preset's file (configs/<preset>.toml); the preset
    /// still names the output folder and, with a budget, is what the budget sizes.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Change one config value, e.g. `--set study.heatmap_probes=2` (repeatable; a budget then
    /// sizes the epochs, sample counts, seeds and heatmaps on top).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<lift_core::Override>,
    /// Print the config the study starts from (preset or --config, then --set, --seeds) and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Sampling seeds [default: the preset's].
    #[arg(long, value_parser = lift_analyze::cli::count(1, 1000))]
    pub seeds: Option<usize>,
    /// Run these stages again, and every stage that depends on them (`all` for everything).
    #[arg(long, value_delimiter = ',', value_parser = stage_names())]
    pub rerun: Vec<String>,
    /// Independent work run at once, each on its share of the CPU cores: the two trainings, and on
    /// one CPU device the parts of each heatmap [default: the number of CPU cores].
    #[arg(long, value_parser = lift_analyze::cli::count(1, 64))]
    pub jobs: Option<usize>,
    /// Also train and sample the PyTorch peer (bench/peer_train.py, needs python3 with torch) with
    /// the baseline's recipe, data and steps, scored beside ours; outside the budget (it takes
    /// about as long as one training).
    #[arg(long)]
    pub peer: bool,
    /// Also train the original's single-output ablation models (single-t, no-t) with LIFT's recipe
    /// and epochs, sweep and evaluate each on its diagonal and DP-64 path, and add their table to
    /// the report; outside the budget (about two more trainings and a LIFT sweep's evaluation).
    #[arg(long)]
    pub ablations: bool,
}
