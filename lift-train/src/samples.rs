//! Sample grids while training: every `sample_every` epochs, 16 images of the EMA network from
//! fixed noise (the diagonal path for LIFT, both scales shown) in `<run>/samples/epoch-N.png`.

use std::any::Any;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::Distribution;
use lift_core::config::LiftConfig;
use lift_core::image_grid::{grid_image, save_png};
use lift_core::seed::mix;
use lift_core::seed::seeded_tensor;

use crate::loss::Denoiser;
use crate::plan::EpochHook;

/// Images per grid.
pub const GRID_IMAGES: usize = 16;

/// The path of epoch `epoch`'s grid in the run folder `run`.
pub fn grid_path(run: &std::path::Path, epoch: usize) -> PathBuf {
    run.join("samples").join(format!("epoch-{epoch}.png"))
}

/// The hook writing the grids; `newest` receives each grid's path (the dashboard shows it).
pub fn sample_hook<B, M>(config: &LiftConfig, run: PathBuf, newest: Arc<Mutex<Option<String>>>, device: B::Device) -> Option<EpochHook>
where
    B: AutodiffBackend,
    M: AutodiffModule<B> + 'static,
    M::InnerModule: Denoiser<B::InnerBackend>,
{
    let every = config.train.sample_every;
    if every == 0 {
        return None;
    }
    let schedule = config.schedule.build();
    let timesteps = config.sample.protocol.timesteps(config.sample.steps, schedule.len()).expect("a validated config");
    let (r, c) = (config.model.resolution, config.model.coarse_resolution());
    let seed = mix(config.train.seed, 0x5A3F);
    Some(Arc::new(move |_net: &dyn Any, ema: &dyn Any, epoch: usize| {
        let Some(ema) = ema.downcast_ref::<M>().filter(|_| epoch.is_multiple_of(every)) else { return };
        let noise =
            |side: usize, salt: u64| seeded_tensor::<B::InnerBackend, 4>([GRID_IMAGES, 3, side, side], Distribution::Normal(0.0, 1.0), seed ^ salt, &device);
        let (fine, coarse) = ema.valid().sample(&schedule, &timesteps, noise(r, 0), noise(c, 1));
        let fine: Vec<f32> = fine.into_data().to_vec().expect("f32 samples");
        let coarse: Option<Vec<f32>> = coarse.map(|t| t.into_data().to_vec().expect("f32 samples"));
        let grid = grid_image(&fine, coarse.as_deref().map(|v| (v, c)), GRID_IMAGES, r, 8);
        let path = grid_path(&run, epoch);
        // A grid is a convenience: a failure to write one is reported, not fatal to the run.
        match save_png(&grid, &path) {
            Ok(()) => *newest.lock().expect("newest grid") = Some(path.display().to_string()),
            Err(e) => eprintln!("warning: sample grid of epoch {epoch}: {e:#}"),
        }
    }))
}
