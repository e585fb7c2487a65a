//! `cargo xtask data`: the default data set, the Noto emoji of `emoji-datasource-google@16.0.0`
//! from the npm registry, checked by sha256 and unpacked once.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};

/// An npm package of emoji images.
pub struct EmojiPackage {
    pub vendor: &'static str,
    pub version: &'static str,
    pub sha256: &'static str,
    pub images_license: &'static str,
}

/// The default data set.
pub const GOOGLE: EmojiPackage = EmojiPackage {
    vendor: "google",
    version: "16.0.0",
    sha256: "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438",
    images_license: "Android/Google/Noto images are available under the Apache License 2.0 \
                     (https://github.com/googlei18n/noto-emoji/blob/master/LICENSE).",
};

/// Twitter's emoji, a second vendor (FID sanity checks compare vendors).
pub const TWITTER: EmojiPackage = EmojiPackage {
    vendor: "twitter",
    version: "16.0.0",
    sha256: "f64a530c63bca463bd8317fdc4615ce63a53a0c65018e4ce2d848aaba7a28877",
    images_license: "Twitter images are available under the Creative Commons Attribution 4.0 license \
                     (https://github.com/jdecked/twemoji/blob/v15.0.2/LICENSE-GRAPHICS).",
};

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// google (the default data set) or twitter (a second vendor, for FID checks).
    #[arg(long, default_value = "google")]
    pub vendor: String,
    /// Where data sets go.
    #[arg(long, default_value = "artifacts/data")]
    pub dir: PathBuf,
    /// Keep the skin-tone variants (3,786 images instead of 1,911).
    #[arg(long)]
    pub with_skin_tones: bool,
}

pub fn run(args: DataArgs) -> Result<()> {
    let package = match args.vendor.as_str() {
        "google" => &GOOGLE,
        "twitter" => &TWITTER,
        other => bail!("unknown vendor '{other}': expected google or twitter"),
    };
    let dir = fetch(package, &args.dir, args.with_skin_tones)?;
    println!("data: {}", dir.display());
    Ok(())
}

/// Folder name of a package's 64×64 images.
pub fn folder_name(p: &EmojiPackage, with_skin_tones: bool) -> String {
    format!("emoji-{}-64{}", p.vendor, if with_skin_tones { "-all" } else { "" })
}

/// Downloads (with `npm pack`), verifies and unpacks a package; does nothing if already done.
pub fn fetch(p: &EmojiPackage, root: &Path, with_skin_tones: bool) -> Result<PathBuf> {
    let dest = root.join(folder_name(p, with_skin_tones));
    if dest.join("LICENSE").exists() {
        let n = count_pngs(&dest)?;
        println!("{} already holds {n} images", dest.display());
        return Ok(dest);
    }
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let name = format!("emoji-datasource-{}", p.vendor);
    let tarball = root.join(format!("{name}-{}.tgz", p.version));
    if !tarball.exists() {
        println!("npm pack {name}@{} …", p.version);
        let status = Command::new("npm")
            .args(["pack", &format!("{name}@{}", p.version), "--silent", "--pack-destination"])
            .arg(root)
            .status()
            .context("cannot run npm: install Node.js/npm (Debian: apt-get install npm) or fetch the data by hand")?;
        if !status.success() {
            bail!("npm pack {name}@{} failed", p.version);
        }
    }
    let bytes = std::fs::read(&tarball).with_context(|| format!("cannot read {}", tarball.display()))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    if digest != p.sha256 {
        let _ = std::fs::remove_file(&tarball);
        bail!("{} has sha256 {digest}, expected {}: removed it, try again", tarball.display(), p.sha256);
    }
    let count = unpack(&bytes, p, &dest, with_skin_tones)?;
    std::fs::remove_file(&tarball).ok();
    println!("unpacked {count} images into {}", dest.display());
    Ok(dest)
}

fn unpack(tgz: &[u8], p: &EmojiPackage, dest: &Path, with_skin_tones: bool) -> Result<usize> {
    let prefix = format!("package/img/{}/64/", p.vendor);
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let (mut emoji_json, mut license) = (None, None);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().context("corrupt tarball")? {
        let mut entry = entry.context("corrupt tarball")?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut data = Vec::new();
        if path == "package/emoji.json" {
            entry.read_to_end(&mut data)?;
            emoji_json = Some(data);
        } else if path == "package/LICENSE" {
            entry.read_to_end(&mut data)?;
            license = Some(data);
        } else if let Some(name) = path.strip_prefix(&prefix) {
            entry.read_to_end(&mut data)?;
            files.push((name.to_string(), data));
        }
    }
    let emoji_json = emoji_json.context("package has no emoji.json")?;
    let keep: Option<HashSet<String>> = (!with_skin_tones).then(|| base_images(&emoji_json)).transpose()?;
    let staging = dest.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let mut count = 0;
    for (name, data) in files {
        if keep.as_ref().is_none_or(|k| k.contains(&name)) {
            std::fs::write(staging.join(&name), data)?;
            count += 1;
        }
    }
    let mut notice = license.unwrap_or_default();
    notice.extend_from_slice(format!("\n\n{}\n", p.images_license).as_bytes());
    std::fs::write(staging.join("LICENSE"), notice)?;
    let _ = std::fs::remove_dir_all(dest);
    std::fs::rename(&staging, dest)?;
    Ok(count)
}

/// Image names of the emoji themselves, without skin-tone variants.
fn base_images(emoji_json: &[u8]) -> Result<HashSet<String>> {
    let list: Vec<serde_json::Value> = serde_json::from_slice(emoji_json).context("emoji.json is not valid JSON")?;
    Ok(list.iter().filter_map(|e| e["image"].as_str().map(String::from)).collect())
}

fn count_pngs(dir: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(dir)?.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))).count())
}
