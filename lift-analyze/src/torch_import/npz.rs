//! numpy's `.npz` (a zip of `.npy` files), float32 C-order arrays only: the `--check` cases.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::torch_archive::RawTensor;

/// Largest array read (the check cases are a few megabytes).
const MAX_ARRAY: u64 = 1 << 30;

/// Every array of the `.npz` at `path`, by name (without `.npy`).
pub fn read_npz(path: &Path) -> Result<HashMap<String, RawTensor>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut zip = zip::ZipArchive::new(file).with_context(|| format!("{} is not an .npz (zip) file", path.display()))?;
    let mut out = HashMap::new();
    for i in 0..zip.len() {
        let entry = zip.by_index(i).with_context(|| format!("cannot read {}", path.display()))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        if entry.size() > MAX_ARRAY {
            bail!("{}: array {name} is {} bytes", path.display(), entry.size());
        }
        let mut bytes = Vec::new();
        entry.take(MAX_ARRAY).read_to_end(&mut bytes).with_context(|| format!("cannot read {name} in {}", path.display()))?;
        let array = parse_npy(&bytes).with_context(|| format!("array {name} in {}", path.display()))?;
        out.insert(name, array);
    }
    Ok(out)
}

/// One `.npy`: magic, version, header length, a Python dict literal, then the data.
pub fn parse_npy(bytes: &[u8]) -> Result<RawTensor> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        bail!("not a .npy array");
    }
    let (len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => bail!("unsupported .npy version {v}"),
    };
    let header = bytes.get(start..start + len).context("truncated .npy header")?;
    let header = std::str::from_utf8(header).context(".npy header is not text")?;
    if !header.contains("'descr': '<f4'") {
        bail!("only little-endian float32 arrays are read (header {header})");
    }
    if header.contains("'fortran_order': True") {
        bail!("Fortran-order arrays are not read");
    }
    let shape_text = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).context(".npy header has no shape")?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().with_context(|| format!("bad dimension '{s}'")))
        .collect::<Result<_>>()?;
    let numel = shape.iter().try_fold(1usize, |n, d| n.checked_mul(*d)).context("array size overflows")?;
    let data = &bytes[start + len..];
    if data.len() != numel * 4 {
        bail!("array {shape:?} needs {} bytes of data, the file has {}", numel * 4, data.len());
    }
    Ok(RawTensor { shape, data: data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_hand_made_npy() {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }";
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((header.len() as u16).to_le_bytes());
        b.extend(header.as_bytes());
        b.extend(1.5f32.to_le_bytes());
        b.extend((-2f32).to_le_bytes());
        assert_eq!(parse_npy(&b).unwrap(), RawTensor { shape: vec![2, 1], data: vec![1.5, -2.0] });
        assert!(parse_npy(&b[..b.len() - 1]).is_err());
        assert!(parse_npy(&b"\x93NUMPY\x01\x00\xff\xff"[..]).is_err());
    }
}
