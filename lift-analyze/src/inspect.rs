//! `inspect` and `schedule`: what a configuration builds, and the noise schedule table.

use burn::backend::Flex;
use clap::ValueEnum;
use lift_core::run::Trained;
use lift_core::{LiftConfig, ModelKind, NoiseSchedule};
use serde::Serialize;

/// Parameter counts and schedule summary of a configuration.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// Every model kind's parameter count: LIFT, baseline, then the ablations.
    pub parameters: Vec<ModelParameters>,
    pub schedule: ScheduleSummary,
    /// The timesteps a "steps"-step sampler evaluates under the config's protocol.
    pub sampling_timesteps: Vec<usize>,
}

/// One network's size.
#[derive(Debug, Serialize)]
pub struct ModelParameters {
    pub model: ModelKind,
    pub parameters: usize,
}

/// The landmarks of a schedule.
#[derive(Debug, Serialize)]
pub struct ScheduleSummary {
    pub kind: String,
    pub timesteps: usize,
    pub alpha_bar_first: f64,
    pub alpha_bar_last: f64,
    pub snr_min: f64,
    pub snr_max: f64,
}

/// One row of the schedule table.
#[derive(Debug, Serialize)]
pub struct ScheduleRow {
    pub t: usize,
    pub alpha_bar: f64,
    pub snr: f64,
    pub log_snr: f64,
}

/// Builds every model on the CPU and counts its parameters.
pub fn inspect(config: &LiftConfig) -> Inspection {
    let device = Default::default();
    let schedule = schedule_of(config);
    let count = |&model: &ModelKind| ModelParameters { model, parameters: Trained::<Flex>::new(model, &config.model, &device).num_params() };
    Inspection {
        parameters: ModelKind::value_variants().iter().map(count).collect(),
        schedule: summary(&schedule),
        sampling_timesteps: config.sample.protocol.timesteps(config.sample.steps, schedule.len()).expect("validated config"),
    }
}

/// The schedule a config describes.
pub fn schedule_of(config: &LiftConfig) -> NoiseSchedule {
    NoiseSchedule::new(config.schedule.kind, config.schedule.timesteps)
}

/// Landmarks of a schedule.
pub fn summary(s: &NoiseSchedule) -> ScheduleSummary {
    let (snr_min, snr_max) = s.snr_range();
    ScheduleSummary {
        kind: format!("{:?}", s.kind()),
        timesteps: s.len(),
        alpha_bar_first: s.alpha_bar(0),
        alpha_bar_last: s.alpha_bar(s.len() - 1),
        snr_min,
        snr_max,
    }
}

/// Every timestep's ᾱ, SNR and log SNR.
pub fn schedule_table(s: &NoiseSchedule) -> Vec<ScheduleRow> {
    (0..s.len()).map(|t| ScheduleRow { t, alpha_bar: s.alpha_bar(t), snr: s.snr(t), log_snr: s.log_snr(t) }).collect()
}

/// Human-readable form of an [`Inspection`].
pub fn render(i: &Inspection) -> String {
    let s = &i.schedule;
    let counts: String =
        i.parameters.iter().map(|p| format!("{:<30}{:>12}\n", format!("{} parameters:", p.model.label()), group_thousands(p.parameters))).collect();
    format!(
        "{counts}schedule: {} with {} timesteps, alpha_bar {:.6} .. {:.6}, SNR {:.6} .. {:.2}\n\
         sampling timesteps ({} evaluations): {:?}\n",
        s.kind,
        s.timesteps,
        s.alpha_bar_first,
        s.alpha_bar_last,
        s.snr_min,
        s.snr_max,
        i.sampling_timesteps.len(),
        i.sampling_timesteps,
    )
}

/// 58475206 → "58,475,206".
pub fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::group_thousands(58_475_206), "58,475,206");
        assert_eq!(super::group_thousands(999), "999");
    }
}
