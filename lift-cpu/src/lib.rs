//! LIFT's CPU speed layer, the one crate that knows which Burn backend runs. On flex (Burn's CPU
//! backend) it computes convolutions, GroupNorm+SiLU, pooling and channel concatenation with its
//! own batched kernels (with their own backward for training) and AdamW in one pass per
//! parameter; on every other backend each call is Burn's own op. Callers write what reads like
//! Burn (`conv.fast_forward(x)`, `group_norm(…, composed)`, [`FusedAdamW`]) and never see which
//! ran. It also owns the CPU threads: pools, jobs side by side, and batches cut into parts.
//! Profiles and measured gains: `bench/README.md`.

mod adamw;
mod backend;
mod conv;
mod flex;
mod gemm;
mod group_norm;
mod im2col;
mod inference;
mod ops;
mod optim;
mod parts;
mod plan;
mod pool;
pub mod shard;
pub mod threads;

pub use flex::kernel_calls;
pub use group_norm::NormShape;
pub use inference::{avg_pool2d, cat_channels, conv2d_relu, max_pool2d};
pub use ops::{group_norm, FastForward};
pub use optim::FusedAdamW;
pub use parts::{batch_parts, in_batch_parts, queued, PartSize};
pub use shard::Shard;
