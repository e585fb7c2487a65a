//! numpy's `.npz` (a zip of `.npy` files), C-order arrays of little-endian float32, float64 and
//! int64 and byte strings: the import check cases and FID statistics in pytorch-fid's format.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::torch_archive::RawTensor;

/// Largest array read (a 2048² covariance is 32 MiB).
const MAX_ARRAY: u64 = 1 << 30;

/// The values of an array.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    /// A byte string (`|S<n>`), e.g. a name stored as `np.bytes_`.
    Bytes(Vec<u8>),
}

/// One array: its shape (empty for a scalar) and values.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: NpyData,
}

impl NpyArray {
    /// A float64 array.
    pub fn f64(shape: Vec<usize>, values: Vec<f64>) -> Self {
        Self { shape, data: NpyData::F64(values) }
    }

    /// A float32 array as a tensor; other types are an error.
    pub fn to_f32(&self) -> Result<RawTensor> {
        match &self.data {
            NpyData::F32(v) => Ok(RawTensor { shape: self.shape.clone(), data: v.clone() }),
            other => bail!("a float32 array is expected, not {}", other.descr()),
        }
    }

    /// Float values widened to f64; other types are an error.
    pub fn to_f64(&self) -> Result<Vec<f64>> {
        match &self.data {
            NpyData::F32(v) => Ok(v.iter().map(|x| *x as f64).collect()),
            NpyData::F64(v) => Ok(v.clone()),
            other => bail!("a float array is expected, not {}", other.descr()),
        }
    }

    /// The integer of a one-element int64 array.
    pub fn to_int(&self) -> Option<i64> {
        match &self.data {
            NpyData::I64(v) if v.len() == 1 => Some(v[0]),
            _ => None,
        }
    }

    /// The text of a byte string.
    pub fn to_text(&self) -> Option<String> {
        match &self.data {
            NpyData::Bytes(b) => Some(String::from_utf8_lossy(b).trim_end_matches('\0').to_string()),
            _ => None,
        }
    }
}

impl NpyData {
    fn descr(&self) -> String {
        match self {
            NpyData::F32(_) => "<f4".into(),
            NpyData::F64(_) => "<f8".into(),
            NpyData::I64(_) => "<i8".into(),
            NpyData::Bytes(b) => format!("|S{}", b.len().max(1)),
        }
    }
}

/// Every array of the `.npz` at `path`, by name (without `.npy`).
pub fn read_npz(path: &Path) -> Result<HashMap<String, NpyArray>> {
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

/// Writes `arrays` as an `.npz` (stored, as `np.savez`), atomically.
pub fn write_npz(path: &Path, arrays: &[(&str, NpyArray)]) -> Result<()> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored).large_file(true);
    for (name, array) in arrays {
        zip.start_file(format!("{name}.npy"), stored).context("cannot add an array to the .npz")?;
        zip.write_all(&npy_bytes(array)).context("cannot write an array into the .npz")?;
    }
    let bytes = zip.finish().context("cannot finish the .npz")?.into_inner();
    lift_core::io::write_atomic(path, &bytes)
}

/// One `.npy` (version 1.0): magic, header padded to 64 bytes, values.
fn npy_bytes(array: &NpyArray) -> Vec<u8> {
    let shape = match array.shape.as_slice() {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        dims => format!("({})", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", array.data.descr());
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    match &array.data {
        NpyData::F32(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        NpyData::F64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        NpyData::I64(v) => out.extend(v.iter().flat_map(|x| x.to_le_bytes())),
        NpyData::Bytes(b) if b.is_empty() => out.push(0),
        NpyData::Bytes(b) => out.extend(b),
    }
    out
}

/// One `.npy`: magic, version, header length, a Python dict literal, then the data.
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray> {
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
    if header.contains("'fortran_order': True") {
        bail!("Fortran-order arrays are not read");
    }
    let descr = header.split("'descr': '").nth(1).and_then(|s| s.split('\'').next()).context(".npy header has no descr")?;
    let shape_text = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).context(".npy header has no shape")?;
    let shape: Vec<usize> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().with_context(|| format!("bad dimension '{s}'")))
        .collect::<Result<_>>()?;
    let numel = shape.iter().try_fold(1usize, |n, d| n.checked_mul(*d)).context("array size overflows")?;
    let data = &bytes[start + len..];
    let width = match descr {
        "<f4" => 4,
        "<f8" | "<i8" => 8,
        s if s.starts_with("|S") => s[2..].parse::<usize>().with_context(|| format!("bad byte-string type {s}"))?,
        other => bail!("arrays of type {other} are not read (float32, float64, int64 and byte strings are)"),
    };
    if Some(data.len()) != numel.checked_mul(width) {
        bail!("array {shape:?} of {descr} needs {} bytes of data, the file has {}", numel.saturating_mul(width), data.len());
    }
    let data = match descr {
        "<f4" => NpyData::F32(data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect()),
        "<f8" => NpyData::F64(data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect()),
        "<i8" => NpyData::I64(data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect()),
        _ => NpyData::Bytes(data.to_vec()),
    };
    Ok(NpyArray { shape, data })
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
        assert_eq!(parse_npy(&b).unwrap().to_f32().unwrap(), RawTensor { shape: vec![2, 1], data: vec![1.5, -2.0] });
        assert!(parse_npy(&b[..b.len() - 1]).is_err());
        assert!(parse_npy(&b"\x93NUMPY\x01\x00\xff\xff"[..]).is_err());
    }

    #[test]
    fn writes_what_it_reads_with_numpys_header_layout() {
        let arrays = [
            ("mu", NpyArray::f64(vec![3], vec![0.5, -1.0, f64::MIN_POSITIVE])),
            ("n", NpyArray { shape: vec![], data: NpyData::I64(vec![7]) }),
            ("resize", NpyArray { shape: vec![], data: NpyData::Bytes(b"bicubic-aa".to_vec()) }),
        ];
        for (_, a) in &arrays {
            let bytes = npy_bytes(a);
            // numpy pads the header so that the data starts on a 64-byte boundary
            let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + len) % 64, 0);
            assert_eq!(&parse_npy(&bytes).unwrap(), a);
        }
        let path = std::env::temp_dir().join(format!("lift-npz-{}.npz", std::process::id()));
        write_npz(&path, &arrays).unwrap();
        let back = read_npz(&path).unwrap();
        assert_eq!(back["n"].to_int(), Some(7));
        assert_eq!(back["resize"].to_text().as_deref(), Some("bicubic-aa"));
        assert_eq!(back["mu"].to_f64().unwrap(), [0.5, -1.0, f64::MIN_POSITIVE]);
        std::fs::remove_file(path).unwrap();
    }
}
