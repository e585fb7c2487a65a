//! The training's optimiser: Burn's AdamW, each parameter's update in one pass on the CPU
//! (`lift_cpu::FusedAdamW`), with PyTorch's ε (Burn's default is 1e-5) and the config's weight decay.

use burn::module::AutodiffModule;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::tensor::backend::AutodiffBackend;
use lift_core::config::TrainConfig;
use lift_cpu::FusedAdamW;

/// The training's AdamW for `train`.
pub fn adamw<M: AutodiffModule<B>, B: AutodiffBackend>(train: &TrainConfig) -> OptimizerAdaptor<FusedAdamW, M, B> {
    OptimizerAdaptor::from(FusedAdamW::new(train.weight_decay as f32))
}
