//! The `--device` flag: picks one of the backends compiled into the binary at run time.
//!
//! Code is generic over the backend; a [`BackendTask`] is monomorphised once per compiled backend
//! and [`run_on`] calls the one the user asked for.

use std::fmt;
use std::str::FromStr;

use anyhow::{bail, Result};
use burn::tensor::backend::{AutodiffBackend, Backend};

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

/// Several devices of one backend, written `cpu,cpu`, `wgpu` or `cuda:0,cuda:1`: the first is the
/// main device (optimiser, validation, checkpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Devices(Vec<DeviceSpec>);

impl Devices {
    /// The main device.
    pub fn main(&self) -> DeviceSpec {
        self.0[0]
    }

    /// How many devices.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never empty; for clippy's `len` convention.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `n` CPU workers side by side, each on its share of the cores.
    pub fn cpu_workers(n: usize) -> Self {
        Self(vec![DeviceSpec::Cpu; n.max(1)])
    }

    /// Two groups for two jobs side by side: the first and the second half, or the one device twice.
    pub fn halves(&self) -> [Devices; 2] {
        if self.0.len() < 2 {
            return [self.clone(), self.clone()];
        }
        let (a, b) = self.0.split_at(self.0.len() / 2);
        [Self(a.to_vec()), Self(b.to_vec())]
    }
}

impl From<DeviceSpec> for Devices {
    fn from(spec: DeviceSpec) -> Self {
        Self(vec![spec])
    }
}

impl FromStr for Devices {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let specs = s.split(',').map(|d| d.trim().parse()).collect::<Result<Vec<DeviceSpec>>>()?;
        let kind = |d: &DeviceSpec| std::mem::discriminant(d);
        if specs.iter().any(|d| kind(d) != kind(&specs[0])) {
            bail!("devices '{s}' mix backends: list devices of one backend (cpu,cpu or cuda:0,cuda:1)");
        }
        let cuda: Vec<usize> = specs.iter().filter_map(|d| if let DeviceSpec::Cuda(n) = d { Some(*n) } else { None }).collect();
        if (1..cuda.len()).any(|k| cuda[..k].contains(&cuda[k])) {
            bail!("devices '{s}' name a CUDA device twice");
        }
        Ok(Self(specs))
    }
}

impl fmt::Display for Devices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.0.iter().map(|d| d.to_string()).collect();
        write!(f, "{}", names.join(","))
    }
}

/// Work that runs on whichever autodiff backend the user picked.
pub trait BackendTask {
    /// What the task returns.
    type Output;
    /// Runs on backend `B` (use `B::InnerBackend` for gradient-free work).
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Self::Output;
}

/// Work spread over several devices of the backend the user picked.
pub trait MultiBackendTask {
    /// What the task returns.
    type Output;
    /// Runs on backend `B`; `devices[0]` is the main device.
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>) -> Self::Output;
}

/// A one-device task seen as a task on a list of one.
struct One<T>(T);

impl<T: BackendTask> MultiBackendTask for One<T> {
    type Output = T::Output;
    fn run<B: AutodiffBackend>(self, devices: Vec<B::Device>) -> T::Output {
        self.0.run::<B>(devices.into_iter().next().expect("one device"))
    }
}

/// The backend and device in words, for records: `flex` on the CPU, `cubecl<cuda> Cuda(1)` on a GPU.
pub fn device_name<B: Backend>(device: &B::Device) -> String {
    match format!("{device:?}") {
        d if d == "DefaultDevice" => B::name(device),
        d => format!("{} {d}", B::name(device)),
    }
}

/// The CPU backend type, used by tests and tools that need no choice.
#[cfg(feature = "flex")]
pub type CpuBackend = burn::backend::Autodiff<burn::backend::Flex>;

/// Runs `task` on the backend named by `spec`, or explains why it cannot.
pub fn run_on<T: BackendTask>(spec: DeviceSpec, task: T) -> Result<T::Output> {
    run_on_devices(&spec.into(), One(task))
}

/// Runs `task` on `devices`, or explains why it cannot.
pub fn run_on_devices<T: MultiBackendTask>(devices: &Devices, task: T) -> Result<T::Output> {
    let n = devices.len();
    match devices.main() {
        DeviceSpec::Cpu => run_cpu(task, n),
        DeviceSpec::Wgpu => run_wgpu(task, n),
        DeviceSpec::Cuda(_) => run_cuda(task, devices.0.iter().map(|d| if let DeviceSpec::Cuda(i) = d { *i } else { 0 }).collect()),
    }
}

// One flex device stands for the CPU: several of them are threads sharing its cores.
#[cfg(feature = "flex")]
fn run_cpu<T: MultiBackendTask>(task: T, n: usize) -> Result<T::Output> {
    Ok(task.run::<CpuBackend>(vec![Default::default(); n]))
}

#[cfg(not(feature = "flex"))]
fn run_cpu<T: MultiBackendTask>(_task: T, _n: usize) -> Result<T::Output> {
    bail!("this binary was built without the CPU backend: rebuild with `--features flex`")
}

// `wgpu` names the default adapter: listed twice, both workers share its one client.
#[cfg(feature = "wgpu")]
fn run_wgpu<T: MultiBackendTask>(task: T, n: usize) -> Result<T::Output> {
    use burn::backend::wgpu::{Wgpu, WgpuDevice};
    type B = burn::backend::Autodiff<Wgpu>;
    probe::<Wgpu>(&WgpuDevice::default(), "wgpu")?;
    Ok(task.run::<B>(vec![WgpuDevice::default(); n]))
}

#[cfg(not(feature = "wgpu"))]
fn run_wgpu<T: MultiBackendTask>(_task: T, _n: usize) -> Result<T::Output> {
    bail!("this binary was built without the wgpu backend: rebuild with `--features wgpu`")
}

#[cfg(feature = "cuda")]
fn run_cuda<T: MultiBackendTask>(task: T, indices: Vec<usize>) -> Result<T::Output> {
    use burn::backend::cuda::{Cuda, CudaDevice};
    type B = burn::backend::Autodiff<Cuda>;
    let devices: Vec<CudaDevice> = indices.into_iter().map(CudaDevice::new).collect();
    for device in &devices {
        probe::<Cuda>(device, "cuda")?;
    }
    Ok(task.run::<B>(devices))
}

#[cfg(not(feature = "cuda"))]
fn run_cuda<T: MultiBackendTask>(_task: T, _indices: Vec<usize>) -> Result<T::Output> {
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

    #[test]
    fn parses_device_lists() {
        let d: Devices = "cuda:0,cuda:1".parse().unwrap();
        assert_eq!((d.main(), d.len(), d.to_string()), (DeviceSpec::Cuda(0), 2, "cuda:0,cuda:1".to_string()));
        assert_eq!("cpu,cpu".parse::<Devices>().unwrap().len(), 2);
        let halves = |s: &str| s.parse::<Devices>().unwrap().halves().map(|d| d.to_string());
        assert_eq!(halves("cuda:0,cuda:1,cuda:2"), ["cuda:0".to_string(), "cuda:1,cuda:2".to_string()]);
        assert_eq!(halves("wgpu"), ["wgpu".to_string(), "wgpu".to_string()]);
        assert!("cpu,cuda:0".parse::<Devices>().unwrap_err().to_string().contains("mix backends"));
        assert!("cuda:1,cuda:1".parse::<Devices>().unwrap_err().to_string().contains("twice"));
        assert!("cpu,".parse::<Devices>().is_err());
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
