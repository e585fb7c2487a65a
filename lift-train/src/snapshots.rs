//! Snapshots for a sweep over training: after each epoch of `train.snapshot_epochs`, the raw and
//! EMA weights go to `<run>/weights/epoch-<E>/` (a few MB on the tiny preset; the optimiser state,
//! three times that, is not kept). A resumed run rewrites a snapshot only for epochs it trains again.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use lift_core::checkpoint::save_module;
use lift_core::config::TrainConfig;
use lift_core::run::{RunDir, Weights};

use crate::plan::EpochHook;

/// The hook writing the snapshots of `train.snapshot_epochs` (None when it asks for none).
pub fn snapshot_hook<B, M>(train: &TrainConfig, run: PathBuf) -> anyhow::Result<Option<EpochHook>>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + 'static,
{
    if train.snapshot_epochs == lift_core::EpochSpec::Last {
        return Ok(None);
    }
    let epochs = train.snapshot_epochs.resolve(train.epochs)?;
    let run = RunDir(run);
    Ok(Some(Arc::new(move |net: &dyn Any, ema: &dyn Any, epoch: usize| {
        let (Some(net), Some(ema)) = (net.downcast_ref::<M>(), ema.downcast_ref::<M>()) else { return };
        if !epochs.contains(&epoch) {
            return;
        }
        for (which, module) in [(Weights::Raw, net), (Weights::Ema, ema)] {
            // A snapshot that cannot be written is reported; the sweep names the missing epoch later.
            if let Err(e) = save_module(module.valid(), &run.snapshot(which, epoch)) {
                eprintln!("warning: {which} snapshot of epoch {epoch}: {e:#}");
            }
        }
    })))
}
