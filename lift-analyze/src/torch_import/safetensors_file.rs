//! safetensors files as `export --format safetensors` writes them (and as PyTorch users save state
//! dicts): bare state-dict keys are the raw weights; with `--weights both` the keys carry the
//! torch layout's paths, `model_state.` and `ema_state.shadow.`.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;

use super::TorchCheckpoint;
use crate::torch_archive::RawTensor;

const RAW_PREFIX: &str = "model_state.";
const EMA_PREFIX: &str = "ema_state.shadow.";

/// Reads the weights (and the `epochs` metadata, when present) of a safetensors file.
pub fn read(path: &Path) -> Result<TorchCheckpoint> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (_, metadata) =
        SafeTensors::read_metadata(&bytes).with_context(|| format!("{} is neither a PyTorch zip archive nor a safetensors file", path.display()))?;
    let file = SafeTensors::deserialize(&bytes).with_context(|| format!("{} is not a valid safetensors file", path.display()))?;
    let (mut raw, mut ema) = (HashMap::new(), HashMap::new());
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            bail!("{}: tensor {name} is {:?}; float32 weights are expected", path.display(), view.dtype());
        }
        let tensor =
            RawTensor { shape: view.shape().to_vec(), data: view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect() };
        match (name.strip_prefix(EMA_PREFIX), name.strip_prefix(RAW_PREFIX)) {
            (Some(key), _) => ema.insert(key.to_string(), tensor),
            (None, Some(key)) => raw.insert(key.to_string(), tensor),
            (None, None) => raw.insert(name, tensor),
        };
    }
    let epochs = metadata.metadata().as_ref().and_then(|m| m.get("epochs")).and_then(|e| e.parse().ok());
    Ok(TorchCheckpoint { raw, ema: (!ema.is_empty()).then_some(ema), hidden_dims: None, epochs })
}
