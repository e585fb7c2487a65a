//! A `torch.save` zip archive written from a [`Value`] tree whose tensors are [`RawTensor`]s:
//! `<name>/data.pkl`, `<name>/data/<key>` (one float32 storage per tensor, little-endian,
//! 64-byte aligned as torch writes them, so `torch.load(mmap=True)` maps them) and
//! `<name>/version`.

use std::io::{Cursor, Write};

use anyhow::{Context, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::pickle::{to_pickle, Value};
use crate::torch_archive::RawTensor;

/// The archive format version torch 1.6–2.x writes and reads.
const FORMAT_VERSION: &str = "3\n";

/// Collects tensors while the object tree is built; each becomes a storage of its own.
#[derive(Default)]
pub struct Storages {
    tensors: Vec<RawTensor>,
}

impl Storages {
    /// The pickled form of `tensor`: `_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`.
    pub fn tensor(&mut self, tensor: RawTensor) -> Value {
        let key = self.tensors.len().to_string();
        let numel = tensor.data.len() as i64;
        let mut stride = vec![1i64; tensor.shape.len()];
        for d in (0..tensor.shape.len().saturating_sub(1)).rev() {
            stride[d] = stride[d + 1] * tensor.shape[d + 1] as i64;
        }
        let ints = |v: Vec<i64>| Value::Tuple(v.into_iter().map(Value::Int).collect());
        let storage = Value::Tuple(vec![
            Value::Str("storage".into()),
            Value::Global("torch.FloatStorage".into()),
            Value::Str(key),
            Value::Str("cpu".into()),
            Value::Int(numel),
        ]);
        let shape = ints(tensor.shape.iter().map(|d| *d as i64).collect());
        self.tensors.push(tensor);
        Value::Call {
            func: "torch._utils._rebuild_tensor_v2".into(),
            args: vec![
                Value::Persistent(Box::new(storage)),
                Value::Int(0),
                shape,
                ints(stride),
                Value::Bool(false),
                Value::Call { func: "collections.OrderedDict".into(), args: vec![] },
            ],
        }
    }

    /// The archive's bytes: `root` pickled under `name/`, then every storage.
    pub fn archive(self, name: &str, root: &Value) -> Result<Vec<u8>> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored).with_alignment(64).large_file(true);
        let mut entry = |path: String, bytes: &[u8]| -> Result<()> {
            zip.start_file(path.as_str(), stored).with_context(|| format!("cannot add {path} to the archive"))?;
            zip.write_all(bytes).with_context(|| format!("cannot write {path} into the archive"))
        };
        entry(format!("{name}/data.pkl"), &to_pickle(root))?;
        for (key, tensor) in self.tensors.iter().enumerate() {
            let bytes: Vec<u8> = tensor.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            entry(format!("{name}/data/{key}"), &bytes)?;
        }
        entry(format!("{name}/version"), FORMAT_VERSION.as_bytes())?;
        Ok(zip.finish().context("cannot finish the archive")?.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pickle::CheckpointGlobals;
    use crate::torch_archive::{tensor_ref, Archive};

    #[test]
    fn our_reader_finds_the_tensors_where_torch_would() {
        let mut storages = Storages::default();
        let a = RawTensor { shape: vec![2, 3], data: vec![1.0, -2.0, 3.5, 0.25, f32::MIN_POSITIVE, -0.0] };
        let root = Value::Dict(vec![(Value::Str("w".into()), storages.tensor(a.clone()))]);
        // size (2, 3), stride (3, 1): C order
        let Value::Call { args, .. } = root.get("w").unwrap() else { panic!() };
        assert_eq!(args[3], Value::Tuple(vec![Value::Int(3), Value::Int(1)]));
        let bytes = storages.archive("m", &root).unwrap();
        let path = std::env::temp_dir().join(format!("lift-torch-file-{}.pth", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let mut archive = Archive::open(&path).unwrap();
        let back = archive.pickle(&CheckpointGlobals).unwrap();
        let got = archive.read_f32(&tensor_ref(back.get("w").unwrap()).unwrap()).unwrap();
        assert_eq!(got.shape, a.shape);
        assert_eq!(got.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), a.data.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        // Every storage starts on a 64-byte boundary.
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let start = zip.by_name("m/data/0").unwrap().data_start();
        assert_eq!(start % 64, 0);
        std::fs::remove_file(path).unwrap();
    }
}
