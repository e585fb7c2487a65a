//! LIFT training: seeded noising, the Learner's steps, EMA, checkpoints and resume.

pub mod batch;
pub mod checkpoints;
pub mod clip;
pub mod ema;
pub mod epoch_means;
pub mod event_file;
pub mod loss;
pub mod metrics;
pub mod optim;
pub mod parts;
pub mod plan;
pub mod recorder;
pub mod renderer;
pub mod run;
pub mod samples;
pub mod snapshots;
pub mod step;
pub mod tensorboard;
