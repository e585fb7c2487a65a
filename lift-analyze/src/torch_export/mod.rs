//! `lift-analyze export`: a run's weights for PyTorch tools. `torch` writes the original's
//! checkpoint layout (`docs/protocol.md` §13: `model_state`, `ema_state` =
//! {`decay`, `shadow`}, `hidden_dims`, `losses`…, `epochs`, `ema_decay`) as a zip archive that
//! `torch.load(weights_only=True)` opens; `safetensors` writes the same tensors under the same key
//! names. [`crate::torch_import`] reads either back.

mod torch_file;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use burn::backend::Flex;
use lift_core::metrics_csv;
use lift_core::run::{load_run, RunDir, Trained};
use lift_core::{ModelKind, Weights};
use safetensors::tensor::{Dtype, TensorView};

use crate::pickle::Value;
use crate::torch_archive::RawTensor;
use crate::torch_import::keys::{original_rank, StateDictCollector};
use torch_file::Storages;

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// `torch.save`'s zip archive in the original's checkpoint layout.
    #[value(name = "torch")]
    Torch,
    /// safetensors: the state-dict tensors under the same key names.
    #[value(name = "safetensors")]
    Safetensors,
}

/// Which weight sets go into the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WeightSets {
    /// The trained weights only (torch: `model_state`, as the original's older `train_lift.py`).
    #[value(name = "raw")]
    Raw,
    /// The EMA weights only, as a plain state dict (torch: in `model_state`).
    #[value(name = "ema")]
    Ema,
    /// Both (torch: `model_state` and `ema_state.shadow`; safetensors: keys prefixed with those paths).
    #[default]
    #[value(name = "both")]
    Both,
}

/// What `export` was asked to do.
#[derive(Debug, Clone)]
pub struct ExportJob {
    pub run: PathBuf,
    pub format: ExportFormat,
    pub out: PathBuf,
    pub weights: WeightSets,
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    pub model: ModelKind,
    /// Tensors per weight set.
    pub tensors: usize,
    pub parameters: usize,
    /// The sets written, under their keys' prefix.
    pub sets: Vec<(Weights, String)>,
}

/// The state dict of `model` under the original's keys, in the original's order.
pub fn state_dict(model: &Trained<Flex>) -> Result<Vec<(String, RawTensor)>> {
    let mut collector = StateDictCollector::default();
    model.visit_module(&mut collector);
    if !collector.errors.is_empty() {
        bail!("the model does not map onto the original's layout:\n  {}", collector.errors.join("\n  "));
    }
    let mut tensors = collector.tensors;
    tensors.sort_by_cached_key(|(k, _)| original_rank(k));
    Ok(tensors)
}

/// Writes the export; nothing is written when a requested weight set is missing.
pub fn export(job: &ExportJob) -> Result<ExportReport> {
    let run = RunDir(job.run.clone());
    let (config, info) = run.load()?;
    let wanted: &[Weights] = match job.weights {
        WeightSets::Raw => &[Weights::Raw],
        WeightSets::Ema => &[Weights::Ema],
        WeightSets::Both => &[Weights::Raw, Weights::Ema],
    };
    let device = Default::default();
    let mut sets = Vec::new();
    for &which in wanted {
        if which == Weights::Ema && job.weights == WeightSets::Both && info.epochs_completed >= info.epochs_planned && !run.weights(which).exists() {
            bail!("{} has no ema weights (a checkpoint of the original's older train_lift.py has none): export it with --weights raw", job.run.display());
        }
        let model = load_run::<Flex>(&job.run, which, &device).with_context(|| format!("cannot export the {which} weights of {}", job.run.display()))?;
        sets.push((which, state_dict(&model.model)?));
    }
    let parameters = sets[0].1.iter().map(|(_, t)| t.data.len()).sum();
    let tensors = sets[0].1.len();
    let prefix = |which: Weights| match (job.weights, job.format, which) {
        (WeightSets::Both, _, Weights::Raw) => "model_state",
        (WeightSets::Both, _, Weights::Ema) => "ema_state.shadow",
        (_, ExportFormat::Torch, _) => "model_state",
        (_, ExportFormat::Safetensors, _) => "",
    };
    let report = ExportReport { model: info.model, tensors, parameters, sets: sets.iter().map(|(w, _)| (*w, prefix(*w).to_string())).collect() };
    let bytes = match job.format {
        ExportFormat::Torch => {
            let losses = epoch_losses(&run, info.model);
            let mut storages = Storages::default();
            let mut root = Vec::new();
            for (which, tensors) in sets {
                let dict = state_dict_value(&mut storages, tensors);
                match prefix(which) {
                    "ema_state.shadow" => {
                        root.push(entry("ema_state", Value::Dict(vec![entry("decay", Value::Float(config.train.ema_decay)), entry("shadow", dict)])))
                    }
                    _ => root.push(entry("model_state", dict)),
                }
            }
            root.push(entry("hidden_dims", Value::List(config.model.dims.iter().map(|d| Value::Int(*d as i64)).collect())));
            root.extend(losses.into_iter().map(|(name, values)| entry(name, Value::List(values.into_iter().map(Value::Float).collect()))));
            root.push(entry("epochs", Value::Int(info.epochs_completed as i64)));
            root.push(entry("ema_decay", Value::Float(config.train.ema_decay)));
            // torch ≥ 2.0 names the folder `archive` whatever the file is called.
            storages.archive("archive", &Value::Dict(root))?
        }
        ExportFormat::Safetensors => safetensors_bytes(&report, sets, &info.epochs_completed.to_string())?,
    };
    lift_core::io::write_atomic(&job.out, &bytes)?;
    Ok(report)
}

fn entry(key: &str, value: Value) -> (Value, Value) {
    (Value::Str(key.into()), value)
}

/// An `OrderedDict` of tensors, as `module.state_dict()` pickles.
fn state_dict_value(storages: &mut Storages, tensors: Vec<(String, RawTensor)>) -> Value {
    let pairs = tensors.into_iter().map(|(k, t)| (Value::Str(k), storages.tensor(t))).collect();
    Value::Call { func: "collections.OrderedDict".into(), args: vec![Value::Dict(pairs)] }
}

/// The original's per-epoch loss lists from `metrics.csv` (`losses`, and for LIFT `losses_64`
/// and `losses_32`); empty for a run without one (an imported checkpoint).
fn epoch_losses(run: &RunDir, model: ModelKind) -> Vec<(&'static str, Vec<f64>)> {
    let rows = metrics_csv::read(&run.metrics()).unwrap_or_default();
    let column = |name: &str| rows.iter().map(|r| metrics_csv::value(r, name)).collect::<Vec<_>>();
    let mut lists = vec![("losses", column(metrics_csv::TRAIN_LOSS))];
    if model == ModelKind::Lift {
        lists.push(("losses_64", column(metrics_csv::TRAIN_LOSS_FINE)));
        lists.push(("losses_32", column(metrics_csv::TRAIN_LOSS_COARSE)));
    }
    lists
}

/// safetensors bytes: each set's tensors under `<prefix>.<key>` (or the bare key), with the
/// model, epochs and sets in the metadata.
fn safetensors_bytes(report: &ExportReport, sets: Vec<(Weights, Vec<(String, RawTensor)>)>, epochs: &str) -> Result<Vec<u8>> {
    let mut named = Vec::new();
    for ((_, prefix), (_, tensors)) in report.sets.iter().zip(sets) {
        for (key, t) in tensors {
            let bytes: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            named.push((if prefix.is_empty() { key } else { format!("{prefix}.{key}") }, t.shape, bytes));
        }
    }
    let views = named
        .iter()
        .map(|(k, shape, bytes)| TensorView::new(Dtype::F32, shape.clone(), bytes).map(|v| (k.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot lay out the safetensors tensors")?;
    let metadata = HashMap::from([
        ("model".to_string(), report.model.to_string()),
        ("epochs".to_string(), epochs.to_string()),
        ("weights".to_string(), report.sets.iter().map(|(w, _)| w.to_string()).collect::<Vec<_>>().join(",")),
        ("format".to_string(), "pt".to_string()),
    ]);
    safetensors::tensor::serialize(views, Some(metadata)).context("cannot serialise the safetensors file")
}
