//! The code identity of the study's stages: one sha256 per workspace crate over its sources and
//! manifest, plus the lock file, baked into the binary. `cargo xtask reproduce` puts the hashes a
//! stage runs into its cache key, so a change to the code reruns what it can change.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const CRATES: [&str; 5] = ["lift-cpu", "lift-core", "lift-train", "lift-analyze", "xtask"];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("..");
    let lock = std::fs::read(root.join("Cargo.lock")).unwrap_or_default();
    println!("cargo:rerun-if-changed=../Cargo.lock");
    println!("cargo:rerun-if-changed=../Cargo.toml");
    for name in CRATES {
        let dir = root.join(name);
        println!("cargo:rerun-if-changed=../{name}/src");
        println!("cargo:rerun-if-changed=../{name}/Cargo.toml");
        let mut list = Vec::new();
        files(&dir.join("src"), &mut list);
        list.push(dir.join("Cargo.toml"));
        list.sort();
        let mut h = Sha256::new();
        h.update(&lock);
        h.update(std::fs::read(root.join("Cargo.toml")).unwrap_or_default());
        for f in list {
            h.update(f.strip_prefix(&root).unwrap_or(&f).to_string_lossy().as_bytes());
            h.update(std::fs::read(&f).unwrap_or_default());
        }
        let var = name.to_uppercase().replace('-', "_");
        println!("cargo:rustc-env=LIFT_CODE_{var}={:x}", h.finalize());
    }
}
