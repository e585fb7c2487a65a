//! `inspect` and `schedule`: what a configuration builds, and the noise schedule table.

use burn::backend::Flex;
use burn::module::Module;
use lift_core::{BaselineUNet, LiftConfig, LiftUNet, NoiseSchedule};
use serde::Serialize;

/// Parameter counts and schedule summary of a configuration.
#[derive(Debug, Serialize)]
pub struct Inspection {
    pub lift_params: usize,
    pub baseline_params: usize,
    pub schedule: ScheduleSummary,
    /// The timesteps a "steps"-step sampler evaluates under the config's protocol.
    pub sampling_timesteps: Vec<usize>,
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

/// Builds both models on the CPU and counts their parameters.
pub fn inspect(config: &LiftConfig) -> Inspection {
    let device = Default::default();
    let schedule = schedule_of(config);
    Inspection {
        lift_params: LiftUNet::<Flex>::new(&config.model, &device).num_params(),
        baseline_params: BaselineUNet::<Flex>::new(&config.model, &device).num_params(),
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
    format!(
        "LIFT UNet parameters:     {:>12}\n\
         baseline UNet parameters: {:>12}\n\
         schedule: {} with {} timesteps, alpha_bar {:.6} .. {:.6}, SNR {:.6} .. {:.2}\n\
         sampling timesteps ({} evaluations): {:?}\n",
        group_thousands(i.lift_params),
        group_thousands(i.baseline_params),
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
