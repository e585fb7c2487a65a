//! Our parameter paths and the original's state-dict keys (`docs/protocol.md` §13),
//! and a module mapper that fills a model from a state dict by them.

use std::collections::{BTreeSet, HashMap};

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::torch_archive::RawTensor;

/// The original's key of our parameter at `path` (fields joined by dots, e.g.
/// `body.encoder.0.res1.norm1.gamma`), or None for a path the original has no counterpart of.
pub fn original_key(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('.').collect();
    let (leaf, modules) = parts.split_last()?;
    let leaf = match *leaf {
        "gamma" | "weight" => "weight",
        "beta" | "bias" => "bias",
        _ => return None,
    };
    let prefix = match modules {
        ["time", "mlp", "fc1"] => "time_mlp.1".to_string(),
        ["time", "mlp", "fc2"] => "time_mlp.3".to_string(),
        ["combine", "fc1"] => "time_combine.0".to_string(),
        ["combine", "fc2"] => "time_combine.2".to_string(),
        ["body", "conv_in"] => "init_conv".to_string(),
        ["body", "norm_out"] => "final_conv.0".to_string(),
        ["body", "conv_out"] => "final_conv.2".to_string(),
        ["body", "encoder", i, "down"] => format!("downsample.{i}"),
        ["body", "decoder", i, "up"] => format!("upsample.{i}"),
        ["body", "encoder", i, block, rest @ ..] => format!("encoder_blocks.{i}.{}", block_key(block, rest)?),
        ["body", "decoder", i, block, rest @ ..] => format!("decoder_blocks.{i}.{}", block_key(block, rest)?),
        ["body", "mid1", rest @ ..] => format!("bottleneck.0.{}", inner_key(rest)?),
        ["body", "mid_attn", rest @ ..] => format!("bottleneck.1.{}", inner_key(rest)?),
        ["body", "mid2", rest @ ..] => format!("bottleneck.2.{}", inner_key(rest)?),
        _ => return None,
    };
    Some(format!("{prefix}.{leaf}"))
}

/// Where `key` comes in `state_dict()` of the original: modules in registration order
/// (`time_mlp`, `time_combine`, `init_conv`, `encoder_blocks`, `downsample`, `bottleneck`,
/// `decoder_blocks`, `upsample`, `final_conv`; inside a residual block `time_mlp`, `conv1`,
/// `conv2`, `norm1`, `norm2`, `shortcut`; in attention `norm`, `qkv`, `proj`), weight before bias,
/// indices in order. Sorting by it gives the file the original's key order.
pub fn original_rank(key: &str) -> Vec<usize> {
    const TOP: [&str; 9] = ["time_mlp", "time_combine", "init_conv", "encoder_blocks", "downsample", "bottleneck", "decoder_blocks", "upsample", "final_conv"];
    const INNER: [&str; 8] = ["time_mlp", "conv1", "conv2", "norm1", "norm2", "shortcut", "qkv", "proj"];
    key.split('.')
        .enumerate()
        .map(|(i, part)| match part.parse::<usize>() {
            Ok(n) => n,
            Err(_) if i == 0 => TOP.iter().position(|t| *t == part).unwrap_or(TOP.len()),
            Err(_) => match part {
                "weight" | "norm" => 0,
                "bias" => 1,
                _ => INNER.iter().position(|t| *t == part).unwrap_or(INNER.len()),
            },
        })
        .collect()
}

/// `res1`/`res2`/`attn` of a level are the original's Sequential entries 0, 1, 2.
fn block_key(block: &str, rest: &[&str]) -> Option<String> {
    let k = match block {
        "res1" => 0,
        "res2" => 1,
        "attn" => 2,
        _ => return None,
    };
    Some(format!("{k}.{}", inner_key(rest)?))
}

/// A layer inside a residual block or attention.
fn inner_key(rest: &[&str]) -> Option<String> {
    Some(
        match rest {
            ["time_proj"] => "time_mlp",
            ["skip"] => "shortcut",
            [name @ ("norm1" | "conv1" | "norm2" | "conv2" | "norm" | "qkv" | "proj")] => name,
            _ => return None,
        }
        .to_string(),
    )
}

/// Fills every float parameter from `state` by [`original_key`]; Linear weights are transposed
/// (PyTorch stores them [out, in], Burn [in, out]). Problems are collected, not panicked on.
pub struct StateDictLoader<'a> {
    pub state: &'a HashMap<String, RawTensor>,
    path: Vec<(String, String)>,
    /// Keys used.
    pub used: BTreeSet<String>,
    /// What did not fit, one line each.
    pub errors: Vec<String>,
}

impl<'a> StateDictLoader<'a> {
    /// A loader reading `state`.
    pub fn new(state: &'a HashMap<String, RawTensor>) -> Self {
        Self { state, path: Vec::new(), used: BTreeSet::new(), errors: Vec::new() }
    }
}

impl<B: Backend> ModuleMapper<B> for StateDictLoader<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let ours = self.path.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(".");
        let Some(key) = original_key(&ours) else {
            self.errors.push(format!("parameter {ours} has no counterpart in the original's layout"));
            return param;
        };
        let (shape, device): ([usize; D], _) = match param.is_initialized() {
            true => (param.val().dims(), param.val().device()),
            false => (param.lazy_shape().dims(), param.lazy_device()),
        };
        let Some(raw) = self.state.get(&key) else {
            self.errors.push(format!("key {key} is missing (for {ours}, shape {shape:?})"));
            return param;
        };
        self.used.insert(key.clone());
        let linear = self.path.last().is_some_and(|(f, owner)| f == "weight" && owner == "Struct:Linear");
        let torch_shape: Vec<usize> = if linear && D == 2 { vec![shape[1], shape[0]] } else { shape.to_vec() };
        if raw.shape != torch_shape {
            self.errors.push(format!("key {key} has shape {:?}, this model's config needs {torch_shape:?}", raw.shape));
            return param;
        }
        let data = if linear && D == 2 { transpose(&raw.data, torch_shape[0], torch_shape[1]) } else { raw.data.clone() };
        let tensor = Tensor::<B, D>::from_data(TensorData::new(data, shape), &device);
        Param::initialized(param.id, if param.is_require_grad() { tensor.require_grad() } else { tensor })
    }
}

/// The other direction: every float parameter under its original key, in module order, with
/// Linear weights transposed back to PyTorch's [out, in]. A parameter without a counterpart is
/// collected in `errors` (a model this mapping does not know).
#[derive(Default)]
pub struct StateDictCollector {
    path: Vec<(String, String)>,
    /// (original key, tensor) in module order.
    pub tensors: Vec<(String, RawTensor)>,
    pub errors: Vec<String>,
}

impl<B: Backend> ModuleVisitor<B> for StateDictCollector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let ours = self.path.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join(".");
        let Some(key) = original_key(&ours) else {
            self.errors.push(format!("parameter {ours} has no counterpart in the original's layout"));
            return;
        };
        let value = param.val();
        let shape = value.dims().to_vec();
        let data: Vec<f32> = value.into_data().convert::<f32>().into_vec().expect("converted to f32");
        let linear = self.path.last().is_some_and(|(f, owner)| f == "weight" && owner == "Struct:Linear");
        let tensor = match (linear, shape.as_slice()) {
            (true, [rows, cols]) => RawTensor { shape: vec![*cols, *rows], data: transpose(&data, *rows, *cols) },
            _ => RawTensor { shape, data },
        };
        self.tensors.push((key, tensor));
    }
}

/// A row-major `[rows, cols]` matrix transposed.
fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_originals_layout() {
        for (ours, theirs) in [
            ("time.mlp.fc1.weight", "time_mlp.1.weight"),
            ("combine.fc2.bias", "time_combine.2.bias"),
            ("body.conv_in.weight", "init_conv.weight"),
            ("body.encoder.1.res1.skip.weight", "encoder_blocks.1.0.shortcut.weight"),
            ("body.encoder.0.res2.norm1.gamma", "encoder_blocks.0.1.norm1.weight"),
            ("body.encoder.2.attn.qkv.bias", "encoder_blocks.2.2.qkv.bias"),
            ("body.encoder.3.down.weight", "downsample.3.weight"),
            ("body.mid_attn.norm.beta", "bottleneck.1.norm.bias"),
            ("body.mid2.time_proj.weight", "bottleneck.2.time_mlp.weight"),
            ("body.decoder.0.up.bias", "upsample.0.bias"),
            ("body.decoder.3.res1.conv1.weight", "decoder_blocks.3.0.conv1.weight"),
            ("body.norm_out.gamma", "final_conv.0.weight"),
            ("body.conv_out.bias", "final_conv.2.bias"),
        ] {
            assert_eq!(original_key(ours).as_deref(), Some(theirs), "{ours}");
        }
        assert_eq!(original_key("body.encoder.0.res1.extra.weight"), None);
        // The original's registration order (spec list): conv1 before norm1, attention's norm first.
        let mut keys = [
            "encoder_blocks.1.0.norm1.weight",
            "encoder_blocks.1.0.conv1.bias",
            "encoder_blocks.0.1.time_mlp.weight",
            "time_mlp.3.weight",
            "time_mlp.1.bias",
            "encoder_blocks.1.2.qkv.weight",
            "encoder_blocks.1.2.norm.bias",
            "downsample.0.weight",
        ];
        keys.sort_by_key(|k| original_rank(k));
        assert_eq!(
            keys,
            [
                "time_mlp.1.bias",
                "time_mlp.3.weight",
                "encoder_blocks.0.1.time_mlp.weight",
                "encoder_blocks.1.0.conv1.bias",
                "encoder_blocks.1.0.norm1.weight",
                "encoder_blocks.1.2.norm.bias",
                "encoder_blocks.1.2.qkv.weight",
                "downsample.0.weight"
            ]
        );
        assert_eq!(transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }
}
