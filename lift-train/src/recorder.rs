//! A checkpoint recorder that writes through a temporary file and a rename: burn-train's file
//! recorders delete the old file first, so a crash mid-write would lose the checkpoint.

use std::path::PathBuf;

use burn::record::{FileRecorder, FullPrecisionSettings, NamedMpkBytesRecorder, NamedMpkFileRecorder, Recorder, RecorderError};
use burn::tensor::backend::Backend;
use serde::{de::DeserializeOwned, Serialize};

/// Named MessagePack, full f32 precision (exact resume), atomic writes.
#[derive(Debug, Default, Clone)]
pub struct AtomicRecorder;

impl<B: Backend> Recorder<B> for AtomicRecorder {
    type Settings = FullPrecisionSettings;
    type RecordArgs = PathBuf;
    type RecordOutput = ();
    type LoadArgs = PathBuf;

    fn save_item<I: Serialize>(&self, item: I, mut file: PathBuf) -> Result<(), RecorderError> {
        file.set_extension(<Self as FileRecorder<B>>::file_extension());
        let bytes = Recorder::<B>::save_item(&NamedMpkBytesRecorder::<FullPrecisionSettings>::default(), item, ())?;
        lift_core::io::write_atomic(&file, &bytes).map_err(|e| RecorderError::Unknown(format!("{e:#}")))
    }

    fn load_item<I: DeserializeOwned>(&self, file: &mut PathBuf) -> Result<I, RecorderError> {
        Recorder::<B>::load_item(&NamedMpkFileRecorder::<FullPrecisionSettings>::default(), file)
    }
}

impl<B: Backend> FileRecorder<B> for AtomicRecorder {
    fn file_extension() -> &'static str {
        "mpk"
    }
}
