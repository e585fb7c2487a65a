//! The `--device` flag: picks one of the backends compiled into the binary at run time.
//!
//! Code is generic over the backend; a [`BackendTask`] is monomorphised once per compiled backend
//! and [`run_on`] calls the one the user asked for.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use burn::tensor::backend::AutodiffBackend;

/// A device named on the command line: `cpu`, `wgpu`, `cuda` or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    /// The flex CPU backend (always compiled).
    #[default]
    Cpu,
    /// The wgpu backend's default adapter (feature `wgpu`).
    Wgpu,
    /// CUDA device N (feature `cuda`).
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" | "flex" => Ok(Self::Cpu),
            "wgpu" => Ok(Self::Wgpu),
            "cuda" => Ok(Self::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(n)) => Ok(Self::Cuda(n)),
                _ => bail!("unknown device '{other}': expected cpu, wgpu, cuda or cuda:N"),
            },
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Wgpu => write!(f, "wgpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Work that runs on whichever autodiff backend the user picked.
pub trait BackendTask {
    /// What the task returns.
    type Output;
    /// Runs on backend `B` (use `B::InnerBackend` for gradient-free work).
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Self::Output;
}

/// The CPU backend type, used by tests and tools that need no choice.
#[cfg(feature = "flex")]
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

/// Runs `task` on the backend named by `spec`, or explains why it cannot.
pub fn run_on<T: BackendTask>(spec: DeviceSpec, task: T) -> Result<T::Output> {
    match spec {
        DeviceSpec::Cpu => run_cpu(task),
        DeviceSpec::Wgpu => run_wgpu(task),
        DeviceSpec::Cuda(index) => run_cuda(task, index),
    }
}

#[cfg(feature = "flex")]
fn run_cpu<T: BackendTask>(task: T) -> Result<T::Output> {
    Ok(task.run::<CpuBackend>(Default::default()))
}

#[cfg(not(feature = "flex"))]
fn run_cpu<T: BackendTask>(_task: T) -> Result<T::Output> {
    bail!("this binary was built without the CPU backend: rebuild with `--features flex`")
}

#[cfg(feature = "wgpu")]
fn run_wgpu<T: BackendTask>(task: T) -> Result<T::Output> {
    use burn::backend::wgpu::{Wgpu, WgpuDevice};
    type B = burn::backend::Autodiff<Wgpu>;
    probe::<Wgpu>(&WgpuDevice::default(), "wgpu")?;
    Ok(task.run::<B>(WgpuDevice::default()))
}

#[cfg(not(feature = "wgpu"))]
fn run_wgpu<T: BackendTask>(_task: T) -> Result<T::Output> {
    bail!("this binary was built without the wgpu backend: rebuild with `--features wgpu`")
}

#[cfg(feature = "cuda")]
fn run_cuda<T: BackendTask>(task: T, index: usize) -> Result<T::Output> {
    use burn::backend::cuda::{Cuda, CudaDevice};
    type B = burn::backend::Autodiff<Cuda>;
    let device = CudaDevice::new(index);
    probe::<Cuda>(&device, "cuda")?;
    Ok(task.run::<B>(device))
}

#[cfg(not(feature = "cuda"))]
fn run_cuda<T: BackendTask>(_task: T, _index: usize) -> Result<T::Output> {
    bail!("this binary was built without the cuda backend: rebuild with `--features cuda`")
}

/// GPU backends panic in a device thread when their driver or runtime library is missing; one
/// tiny operation under `catch_unwind` turns that into an error the user can act on.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn probe<B: burn::tensor::backend::Backend>(device: &B::Device, name: &str) -> Result<()> {
    let device = device.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let t = burn::tensor::Tensor::<B, 1>::from_floats([1.0, 2.0], &device);
        t.sum().into_scalar()
    }));
    match result {
        Ok(_) => Ok(()),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown error".into());
            bail!("the {name} backend could not start on this machine: {msg}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("wgpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Wgpu);
        assert_eq!("cuda".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(0));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(3));
        assert!("tpu".parse::<DeviceSpec>().unwrap_err().to_string().contains("tpu"));
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn uncompiled_backend_is_a_clear_error() {
        struct Nothing;
        impl BackendTask for Nothing {
            type Output = ();
            fn run<B: AutodiffBackend>(self, _: B::Device) {}
        }
        let e = run_on(DeviceSpec::Cuda(0), Nothing).unwrap_err().to_string();
        assert!(e.contains("--features cuda"), "{e}");
    }
}
