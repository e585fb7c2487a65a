//! Saving and loading module weights: full f32 precision, atomic writes, and a shape check that
//! turns a checkpoint from another configuration into a clear error instead of a silent misuse.

use std::path::Path;

use anyhow::{bail, Context, Result};
use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::{backend::Backend, Tensor};

pub use crate::kinds::ModelKind;

type WeightsRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Serialises a module's weights (f32, exact round trip).
pub fn module_to_bytes<B: Backend, M: Module<B>>(module: M) -> Result<Vec<u8>> {
    Recorder::<B>::record(&WeightsRecorder::default(), module.into_record(), ()).map_err(|e| anyhow::anyhow!("cannot serialise weights: {e:?}"))
}

/// Writes a module's weights atomically.
pub fn save_module<B: Backend, M: Module<B>>(module: M, path: &Path) -> Result<()> {
    crate::io::write_atomic(path, &module_to_bytes(module)?)
}

/// Loads weights saved by [`save_module`] into `template`, which must have the same structure and
/// parameter shapes (build it from the checkpoint's config).
pub fn load_module<B: Backend, M: Module<B>>(template: M, path: &Path, device: &B::Device) -> Result<M> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read weights {}", path.display()))?;
    module_from_bytes(template, bytes, device).with_context(|| format!("cannot load weights {}", path.display()))
}

/// Loads weights from bytes made by [`module_to_bytes`].
pub fn module_from_bytes<B: Backend, M: Module<B>>(template: M, bytes: Vec<u8>, device: &B::Device) -> Result<M> {
    let expected = param_shapes(&template);
    let record = Recorder::<B>::load(&WeightsRecorder::default(), bytes, device).map_err(|e| anyhow::anyhow!("not a weights file of this model ({e:?})"))?;
    let module = template.load_record(record);
    let found = param_shapes(&module);
    if found != expected {
        let first = expected.iter().zip(&found).position(|(a, b)| a != b).unwrap_or(0);
        bail!(
            "the weights do not fit this model's configuration: parameter #{first} has shape {:?}, expected {:?} \
             ({} parameters found, {} expected)",
            found.get(first),
            expected.get(first),
            found.len(),
            expected.len()
        );
    }
    Ok(module)
}

struct ShapeCollector(Vec<Vec<usize>>);

impl<B: Backend> ModuleVisitor<B> for ShapeCollector {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0.push(param.val().dims().to_vec());
    }
}

/// The shapes of all float parameters, in visiting order.
pub fn param_shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<usize>> {
    let mut collector = ShapeCollector(Vec::new());
    module.visit(&mut collector);
    collector.0
}
