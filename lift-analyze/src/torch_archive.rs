//! PyTorch's zip archives (`torch.save` since 1.6, TorchScript): `<prefix>/data.pkl` holds the
//! object tree, `<prefix>/data/<key>` the raw little-endian storages its tensors point to.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::pickle::{unpickle, Policy, Value};

/// The largest `data.pkl` read (real ones are kilobytes; a module tree a few megabytes).
const MAX_PICKLE: u64 = 256 << 20;

/// A float32 tensor read from an archive.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Where a tensor's values are: `_rebuild_tensor_v2(('storage', Storage, key, location, numel),
/// offset, size, stride, …)` for a contiguous tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorRef {
    pub storage: String,
    /// The storage class, e.g. `torch.FloatStorage`.
    pub class: String,
    /// Elements in the storage.
    pub storage_numel: usize,
    /// First element of the tensor in the storage.
    pub offset: usize,
    pub shape: Vec<usize>,
}

impl TensorRef {
    /// Elements of the tensor.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

fn usize_of(v: &Value, what: &str) -> Result<usize> {
    v.as_int().filter(|i| *i >= 0).map(|i| i as usize).with_context(|| format!("{what} is not a non-negative integer"))
}

/// Reads a tensor reference; a strided (non-contiguous) tensor is an error.
pub fn tensor_ref(v: &Value) -> Result<TensorRef> {
    let Value::Call { func, args } = v else { bail!("not a tensor") };
    if !matches!(func.as_str(), "torch._utils._rebuild_tensor_v2") || args.len() < 4 {
        bail!("not a tensor ({func})");
    }
    let Value::Persistent(pid) = &args[0] else { bail!("tensor without a storage") };
    let pid = pid.items().context("storage id is not a tuple")?;
    if pid.len() < 5 || pid[0].as_str() != Some("storage") {
        bail!("storage id is not ('storage', class, key, location, numel)");
    }
    let Value::Global(class) = &pid[1] else { bail!("storage class is not a global") };
    let storage = pid[2].as_str().context("storage key is not a string")?.to_string();
    let dims = |v: &Value, what: &str| -> Result<Vec<usize>> {
        v.items().with_context(|| format!("tensor {what} is not a tuple"))?.iter().map(|d| usize_of(d, what)).collect()
    };
    let (shape, stride) = (dims(&args[2], "size")?, dims(&args[3], "stride")?);
    if shape.len() != stride.len() {
        bail!("tensor size and stride differ in length");
    }
    let mut expected = 1usize;
    for (d, s) in shape.iter().zip(&stride).rev() {
        if *s != expected && *d > 1 {
            bail!("a strided tensor (size {shape:?}, stride {stride:?}) is not supported");
        }
        expected = expected.checked_mul(*d).context("tensor size overflows")?;
    }
    let t = TensorRef { storage, class: class.clone(), storage_numel: usize_of(&pid[4], "storage size")?, offset: usize_of(&args[1], "offset")?, shape };
    if t.offset.checked_add(t.numel()).is_none_or(|end| end > t.storage_numel) {
        bail!("tensor of {} elements at offset {} overruns its storage of {}", t.numel(), t.offset, t.storage_numel);
    }
    Ok(t)
}

/// An open archive.
pub struct Archive {
    path: PathBuf,
    zip: zip::ZipArchive<File>,
    prefix: String,
}

impl Archive {
    /// Opens `path` and finds its top-level `data.pkl`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let zip = zip::ZipArchive::new(file).with_context(|| format!("{} is not a PyTorch zip archive (torch.save since 1.6 writes one)", path.display()))?;
        let pkl = zip
            .file_names()
            .find(|n| n.ends_with("/data.pkl") && n.matches('/').count() == 1)
            .with_context(|| format!("{} has no <name>/data.pkl", path.display()))?
            .to_string();
        let prefix = pkl.trim_end_matches("data.pkl").to_string();
        Ok(Self { path: path.to_path_buf(), zip, prefix })
    }

    /// The object tree, with only the globals `policy` allows.
    pub fn pickle(&mut self, policy: &dyn Policy) -> Result<Value> {
        let name = format!("{}data.pkl", self.prefix);
        let entry = self.zip.by_name(&name).with_context(|| format!("{name} missing from {}", self.path.display()))?;
        if entry.size() > MAX_PICKLE {
            bail!("{name} in {} is {} bytes, more than any checkpoint's", self.path.display(), entry.size());
        }
        let mut bytes = Vec::new();
        entry.take(MAX_PICKLE).read_to_end(&mut bytes).with_context(|| format!("cannot read {name} in {}", self.path.display()))?;
        unpickle(&bytes, policy).with_context(|| format!("cannot read {name} in {}", self.path.display()))
    }

    /// The values of a float32 tensor.
    pub fn read_f32(&mut self, t: &TensorRef) -> Result<RawTensor> {
        if t.class != "torch.FloatStorage" {
            bail!("a tensor of {} where float32 weights are expected", t.class);
        }
        let name = format!("{}data/{}", self.prefix, t.storage);
        let entry = self.zip.by_name(&name).with_context(|| format!("storage {name} missing from {}", self.path.display()))?;
        let need = (t.offset + t.numel()) * 4;
        if (entry.size() as usize) < need {
            bail!("storage {name} holds {} bytes, {need} needed", entry.size());
        }
        let mut raw = Vec::with_capacity(need);
        entry.take(need as u64).read_to_end(&mut raw).with_context(|| format!("cannot read {name} in {}", self.path.display()))?;
        if raw.len() < need {
            bail!("storage {name} is truncated ({} of {need} bytes)", raw.len());
        }
        let data = raw[t.offset * 4..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok(RawTensor { shape: t.shape.clone(), data })
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
