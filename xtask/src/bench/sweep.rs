//! `bench --sweep`: the model workloads over a grid of shapes, so that no one shape is tuned alone.

use anyhow::Result;
use lift_core::LiftConfig;
use lift_core::ModelKind::{Baseline, Lift};

use super::{config_path, measure, BenchArgs, Row, Shape, Workload};

/// Resolutions of the fine scale.
const RESOLUTIONS: [usize; 2] = [32, 64];
/// Channel widths per level.
const WIDTHS: [[usize; 3]; 2] = [[16, 32, 64], [32, 64, 128]];
/// Images per batch.
const BATCHES: [usize; 3] = [1, 8, 32];

/// Measures `workloads` (the forward pass and training step of both models when empty) at every
/// shape, with the first config's other settings; each shape's config goes to a file in the
/// temporary folder for the worker processes.
pub fn run(args: &BenchArgs, python: Option<&str>, workloads: &[Workload], thread_counts: &[usize]) -> Result<Vec<Row>> {
    let base = LiftConfig::load(&config_path(args.configs.first().map_or("tiny", |c| c.as_str())))?;
    let default = [Workload::Forward(Lift), Workload::Forward(Baseline), Workload::TrainStep(Lift), Workload::TrainStep(Baseline)];
    let workloads = if workloads.is_empty() { &default[..] } else { workloads };
    let folder = std::env::temp_dir().join(format!("lift-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let mut rows = Vec::new();
    for resolution in RESOLUTIONS {
        for dims in WIDTHS {
            let mut config = base.clone();
            config.model.resolution = resolution;
            config.model.dims = dims.to_vec();
            config.validate()?;
            let config_file = folder.join(format!("sweep-{resolution}-{}.toml", dims[0]));
            lift_core::io::write_atomic(&config_file, config.to_toml().as_bytes())?;
            for batch in BATCHES {
                let label = format!("{resolution}px w{} b{batch}", dims[0]);
                let shape = Shape { label, config_file: config_file.clone(), config: config.clone(), batch };
                for &workload in workloads {
                    rows.extend(measure(args, python, &shape, workload, thread_counts));
                }
            }
        }
    }
    std::fs::remove_dir_all(&folder).ok();
    Ok(rows)
}
