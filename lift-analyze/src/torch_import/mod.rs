//! `lift-analyze import-torch`: a run folder from a checkpoint of the original PyTorch code
//! (`model_state`, `ema_state.shadow`, `hidden_dims`, …; `docs/protocol.md` §13),
//! so that every command takes researchers' own trained models. The reader accepts only the
//! globals a checkpoint needs and runs nothing (see [`crate::pickle`]).

pub mod keys;
mod safetensors_file;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::backend::Flex;
use burn::tensor::{Tensor, TensorData};
use lift_core::run::{DatasetInfo, RunDir, RunInfo, Trained, Weights};
use lift_core::{LiftConfig, ModelKind};

use crate::pickle::{CheckpointGlobals, Value};
use crate::torch_archive::{tensor_ref, Archive, RawTensor};
use keys::StateDictLoader;

/// Largest difference `--check` accepts between our outputs and the stored ones.
pub const CHECK_TOLERANCE: f32 = 1e-4;

/// What `import-torch` was asked to do.
#[derive(Debug, Clone)]
pub struct ImportJob {
    pub checkpoint: PathBuf,
    pub model: ModelKind,
    pub config: PathBuf,
    pub out: PathBuf,
    pub check: Option<PathBuf>,
}

/// The weights of a checkpoint: `model_state` and, when present, `ema_state.shadow`.
pub struct TorchCheckpoint {
    pub raw: HashMap<String, RawTensor>,
    pub ema: Option<HashMap<String, RawTensor>>,
    pub hidden_dims: Option<Vec<usize>>,
    pub epochs: Option<usize>,
}

/// Reads a `torch.save` checkpoint of the original's layout, or a safetensors file of its state
/// dict (told apart by the zip signature).
pub fn read_checkpoint(path: &Path) -> Result<TorchCheckpoint> {
    let mut magic = [0u8; 4];
    let zip = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok() && magic == *b"PK\x03\x04";
    if !zip && path.exists() {
        return safetensors_file::read(path);
    }
    let mut archive = Archive::open(path)?;
    let root = archive.pickle(&CheckpointGlobals)?;
    let context = |what: &str| format!("{} in {}", what, path.display());
    let model_state = root.get("model_state").with_context(|| format!("{} has no model_state (not a checkpoint of the original's layout)", path.display()))?;
    let raw = state_dict(&mut archive, model_state).with_context(|| context("model_state"))?;
    let ema = match root.get("ema_state") {
        Some(e) => {
            Some(state_dict(&mut archive, e.get("shadow").with_context(|| context("ema_state has no shadow;"))?).with_context(|| context("ema_state.shadow"))?)
        }
        None => None,
    };
    let hidden_dims = match root.get("hidden_dims") {
        Some(v) => Some(
            v.items()
                .with_context(|| context("hidden_dims is not a list;"))?
                .iter()
                .map(|d| d.as_int().filter(|d| *d > 0).map(|d| d as usize).with_context(|| context("hidden_dims holds a non-positive entry;")))
                .collect::<Result<_>>()?,
        ),
        None => None,
    };
    let epochs = root.get("epochs").and_then(Value::as_int).filter(|e| *e >= 0).map(|e| e as usize);
    Ok(TorchCheckpoint { raw, ema, hidden_dims, epochs })
}

/// A dict of name → float32 tensor.
fn state_dict(archive: &mut Archive, v: &Value) -> Result<HashMap<String, RawTensor>> {
    let Value::Dict(pairs) = v else { bail!("not a state dict") };
    let mut out = HashMap::new();
    for (k, t) in pairs {
        let name = k.as_str().context("a state-dict key is not a string")?;
        let r = tensor_ref(t).with_context(|| format!("key {name}"))?;
        out.insert(name.to_string(), archive.read_f32(&r).with_context(|| format!("key {name}"))?);
    }
    Ok(out)
}

/// A model of `kind` for `config` filled from `state`; every missing, extra or misshapen key is
/// an error naming it.
fn load(template: Net, state: &HashMap<String, RawTensor>, what: &str) -> Result<Net> {
    let mut loader = StateDictLoader::new(state);
    let model = template.map_module(&mut loader);
    let mut errors = loader.errors;
    let mut extra: Vec<&String> = state.keys().filter(|k| !loader.used.contains(*k)).collect();
    extra.sort();
    errors.extend(extra.into_iter().map(|k| format!("key {k} is not part of this model (another architecture or config?)")));
    if !errors.is_empty() {
        let shown = errors.iter().take(8).cloned().collect::<Vec<_>>().join("\n  ");
        bail!("{what} does not fit the config ({} problems):\n  {shown}", errors.len());
    }
    Ok(model)
}

type Net = Trained<Flex>;

fn build(kind: ModelKind, config: &LiftConfig, state: &HashMap<String, RawTensor>, what: &str) -> Result<Net> {
    load(Trained::new(kind, &config.model, &Default::default()), state, what)
}

/// Largest absolute difference per checked output.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub parameters: usize,
    pub ema: bool,
    pub differences: Vec<(String, f32)>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "imported {} parameters (raw{})", self.parameters, if self.ema { " and EMA" } else { "" })?;
        for (name, d) in &self.differences {
            writeln!(f, "  {name:<10} largest |difference| {d:.3e}")?;
        }
        Ok(())
    }
}

/// Imports the checkpoint into a run folder, then checks it against `job.check` if given.
pub fn import(job: &ImportJob) -> Result<ImportReport> {
    let config = LiftConfig::load(&job.config)?;
    let ck = read_checkpoint(&job.checkpoint)?;
    if let Some(dims) = &ck.hidden_dims {
        if *dims != config.model.dims {
            bail!("{} has hidden_dims {dims:?}, but {} sets model.dims = {:?}", job.checkpoint.display(), job.config.display(), config.model.dims);
        }
    }
    let raw = build(job.model, &config, &ck.raw, "model_state")?;
    let ema = match &ck.ema {
        Some(state) => Some(build(job.model, &config, state, "ema_state.shadow")?),
        None => None,
    };
    let parameters = raw.num_params();
    let differences = match &job.check {
        Some(file) => check(&raw, ema.as_ref(), file)?,
        None => Vec::new(),
    };
    let report = ImportReport { parameters, ema: ck.ema.is_some(), differences };
    if report.differences.iter().any(|(_, d)| d.is_nan() || *d > CHECK_TOLERANCE) {
        bail!("{report}the imported model differs from the check case by more than {CHECK_TOLERANCE}; nothing was written");
    }
    let run = RunDir(job.out.clone());
    if run.config().exists() {
        bail!("{} already holds a run: choose another --out", job.out.display());
    }
    std::fs::create_dir_all(&job.out).with_context(|| format!("cannot create {}", job.out.display()))?;
    for (net, which) in [(Some(raw), Weights::Raw), (ema, Weights::Ema)] {
        if let Some(net) = net {
            net.save(&run.weights(which))?;
        }
    }
    let epochs = ck.epochs.unwrap_or(0);
    let info = RunInfo {
        model: job.model,
        parameters,
        dataset: DatasetInfo { path: job.checkpoint.clone(), images: 0, skipped: 0, train_images: 0, valid_images: 0 },
        git_commit: lift_core::run::git_commit(),
        device: "imported from PyTorch".into(),
        epochs_planned: epochs,
        epochs_completed: epochs,
        train_seconds: 0.0,
    };
    lift_core::io::write_json(&run.info(), &info)?;
    // config.toml last: its presence marks a complete run folder.
    lift_core::io::write_atomic(&run.config(), config.to_toml().as_bytes())?;
    Ok(report)
}

/// Runs both weight sets on the check case; returns the largest difference per output.
fn check(raw: &Net, ema: Option<&Net>, file: &Path) -> Result<Vec<(String, f32)>> {
    let arrays = crate::npz::read_npz(file)?;
    let get = |name: &str| arrays.get(name).with_context(|| format!("{} has no array {name}", file.display()));
    let tensor = |name: &str, dims: usize| -> Result<RawTensor> {
        let a = get(name)?;
        if a.shape.len() != dims {
            bail!("{}: {name} has shape {:?}, {dims} dimensions expected", file.display(), a.shape);
        }
        a.to_f32().with_context(|| format!("{}: {name}", file.display()))
    };
    let device = Default::default();
    let t4 = |a: RawTensor| Tensor::<Flex, 4>::from_data(TensorData::new(a.data, [a.shape[0], a.shape[1], a.shape[2], a.shape[3]]), &device);
    let t1 = |a: RawTensor| Tensor::<Flex, 1>::from_data(TensorData::new(a.data, [a.shape[0]]), &device);
    let diff = |ours: Tensor<Flex, 4>, name: &str| -> Result<(String, f32)> {
        let want = tensor(name, 4)?;
        if ours.dims().to_vec() != want.shape {
            bail!("{}: {name} has shape {:?}, the model gives {:?}", file.display(), want.shape, ours.dims());
        }
        let got: Vec<f32> = ours.into_data().to_vec().expect("f32");
        Ok((name.to_string(), got.iter().zip(&want.data).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)))
    };
    let mut out = Vec::new();
    for (net, prefix) in [(Some(raw), ""), (ema, "ema_")] {
        let has = |n: &str| arrays.contains_key(&format!("{prefix}{n}"));
        match net {
            Some(Net::Lift(m)) if has("eps64") => {
                let (e64, e32) = m.forward(t4(tensor("x64", 4)?), t4(tensor("x32", 4)?), t1(tensor("t64", 1)?), t1(tensor("t32", 1)?));
                out.push(diff(e64, &format!("{prefix}eps64"))?);
                out.push(diff(e32, &format!("{prefix}eps32"))?);
            }
            Some(Net::Baseline(m)) if has("eps") => out.push(diff(m.forward(t4(tensor("x", 4)?), t1(tensor("t", 1)?)), &format!("{prefix}eps"))?),
            Some(Net::SingleOutput(m)) if has("eps64") => {
                out.push(diff(m.forward(t4(tensor("x64", 4)?), t4(tensor("x32", 4)?), t1(tensor("t64", 1)?)), &format!("{prefix}eps64"))?)
            }
            Some(_) if prefix.is_empty() => bail!("{} holds no expected outputs for this model (eps64/eps32 or eps)", file.display()),
            _ => {}
        }
    }
    Ok(out)
}
