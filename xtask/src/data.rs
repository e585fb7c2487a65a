//! `cargo xtask data`: the default data set, the Noto emoji of `emoji-datasource-google@16.0.0`
//! from the npm registry, checked by sha256 and unpacked once.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
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
    /// Whose emoji.
    #[arg(long, value_enum, default_value_t = Vendor::Google)]
    pub vendor: Vendor,
    /// Where data sets go.
    #[arg(long, default_value = "artifacts/data")]
    pub dir: PathBuf,
    /// Which of the package's images: all (1,911), faces (the 110 yellow faces) or with-skin-tones
    /// (all 3,786, skin-tone variants included).
    #[arg(long, value_enum, default_value_t = Subset::All)]
    pub subset: Subset,
}

/// The emoji packages `data` fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Vendor {
    /// Noto emoji: the default data set.
    Google,
    /// Twemoji: a second vendor, for FID sanity checks.
    Twitter,
}

impl Vendor {
    /// The vendor's pinned package.
    pub fn package(self) -> &'static EmojiPackage {
        match self {
            Vendor::Google => &GOOGLE,
            Vendor::Twitter => &TWITTER,
        }
    }
}

/// A selection of a package's images, by the categories of its `emoji.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Subset {
    /// Every emoji, without skin-tone variants.
    #[default]
    All,
    /// The smiley faces (Unicode subcategories `face-*` of "Smileys & Emotion", less
    /// `face-costume`: ghosts, robots, clowns): one coherent shape, colour and layout.
    Faces,
    /// Every image, skin-tone variants included.
    WithSkinTones,
}

lift_core::value_enum_names!(Subset);

impl Subset {
    /// Suffix of the data folder's name.
    fn suffix(self) -> &'static str {
        match self {
            Subset::All => "",
            Subset::Faces => "-faces",
            Subset::WithSkinTones => "-all",
        }
    }

    /// Whether an `emoji.json` entry belongs to the subset (skin-tone variants are not entries).
    fn keeps(self, entry: &serde_json::Value) -> bool {
        match self {
            Subset::All | Subset::WithSkinTones => true,
            Subset::Faces => {
                let sub = entry["subcategory"].as_str().unwrap_or_default();
                entry["category"] == "Smileys & Emotion" && sub.starts_with("face-") && sub != "face-costume"
            }
        }
    }
}

pub fn run(args: DataArgs) -> Result<()> {
    let dir = fetch(args.vendor.package(), &args.dir, args.subset)?;
    println!("data: {}", dir.display());
    Ok(())
}

/// Folder name of a package's 64×64 images.
pub fn folder_name(p: &EmojiPackage, subset: Subset) -> String {
    format!("emoji-{}-64{}", p.vendor, subset.suffix())
}

/// Downloads (with `npm pack`), verifies and unpacks a package; does nothing if already done.
pub fn fetch(p: &EmojiPackage, root: &Path, subset: Subset) -> Result<PathBuf> {
    let dest = root.join(folder_name(p, subset));
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
    let count = unpack(&bytes, p, &dest, subset)?;
    std::fs::remove_file(&tarball).ok();
    println!("unpacked {count} images into {}", dest.display());
    Ok(dest)
}

fn unpack(tgz: &[u8], p: &EmojiPackage, dest: &Path, subset: Subset) -> Result<usize> {
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
    let keep: Option<HashSet<String>> = (subset != Subset::WithSkinTones).then(|| images_of(&emoji_json, subset)).transpose()?;
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

/// Image names of the subset's emoji themselves, without skin-tone variants.
fn images_of(emoji_json: &[u8], subset: Subset) -> Result<HashSet<String>> {
    let list: Vec<serde_json::Value> = serde_json::from_slice(emoji_json).context("emoji.json is not valid JSON")?;
    Ok(list.iter().filter(|e| subset.keeps(e)).filter_map(|e| e["image"].as_str().map(String::from)).collect())
}

fn count_pngs(dir: &Path) -> Result<usize> {
    Ok(std::fs::read_dir(dir)?.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_faces_subset_keeps_smiley_faces_only() {
        let json = br#"[
            {"image": "1f600.png", "category": "Smileys & Emotion", "subcategory": "face-smiling"},
            {"image": "1f47b.png", "category": "Smileys & Emotion", "subcategory": "face-costume"},
            {"image": "2764.png", "category": "Smileys & Emotion", "subcategory": "heart"},
            {"image": "1f436.png", "category": "Animals & Nature", "subcategory": "animal-mammal"}
        ]"#;
        assert_eq!(images_of(json, Subset::Faces).unwrap(), HashSet::from(["1f600.png".to_string()]));
        assert_eq!(images_of(json, Subset::All).unwrap().len(), 4);
        assert!(images_of(b"{", Subset::All).is_err());
        assert_eq!(folder_name(&GOOGLE, Subset::Faces), "emoji-google-64-faces");
    }
}
