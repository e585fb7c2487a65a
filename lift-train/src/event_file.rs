//! TensorBoard event files (what TensorBoard, aim and W&B import): TFRecord framing (length,
//! masked CRC-32C of the length, the record, masked CRC-32C of the record) around `Event`
//! protocol buffers. The messages are the fields of tensorflow/core/util/event.proto and
//! framework/summary.proto that scalars and images need, encoded by `prost`; the checksums by
//! `crc32c` (hardware CRC-32C where the CPU has it).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use prost::Message;

/// `Event` (event.proto): a summary at a step, or the file's version line.
#[derive(Clone, PartialEq, Message)]
struct Event {
    #[prost(double, tag = "1")]
    wall_time: f64,
    #[prost(int64, tag = "2")]
    step: i64,
    #[prost(oneof = "EventKind", tags = "3, 5")]
    what: Option<EventKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum EventKind {
    #[prost(string, tag = "3")]
    FileVersion(String),
    #[prost(message, tag = "5")]
    Summary(Summary),
}

/// `Summary` (summary.proto).
#[derive(Clone, PartialEq, Message)]
struct Summary {
    #[prost(message, repeated, tag = "1")]
    value: Vec<SummaryValue>,
}

/// `Summary.Value`: a tag with a scalar or an image.
#[derive(Clone, PartialEq, Message)]
struct SummaryValue {
    #[prost(string, tag = "1")]
    tag: String,
    #[prost(oneof = "ValueKind", tags = "2, 4")]
    value: Option<ValueKind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum ValueKind {
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    #[prost(message, tag = "4")]
    Image(Image),
}

/// `Summary.Image`: an encoded PNG with its size and channel count.
#[derive(Clone, PartialEq, Message)]
struct Image {
    #[prost(int32, tag = "1")]
    height: i32,
    #[prost(int32, tag = "2")]
    width: i32,
    #[prost(int32, tag = "3")]
    colorspace: i32,
    #[prost(bytes = "vec", tag = "4")]
    encoded_image_string: Vec<u8>,
}

/// TFRecord's checksum: CRC-32C rotated right by 15 bits plus a constant.
fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// One TFRecord.
fn record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend(len);
    out.extend(masked_crc(&len).to_le_bytes());
    out.extend(data);
    out.extend(masked_crc(data).to_le_bytes());
    out
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// An event file being written; each event is flushed at once, so a crash loses nothing written.
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

impl EventWriter {
    /// A new event file in `dir` (TensorBoard reads every `*tfevents*` file of a folder, so a
    /// resumed run adds one beside the earlier ones).
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the TensorBoard folder {}", dir.display()))?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        // TensorBoard reads a folder's files in name order: the time first, then a number that
        // keeps two files of one second and process apart (a resume within the same second).
        let stem = format!("events.out.tfevents.{:010}.{host}.{}", now() as u64, std::process::id());
        let (path, file) = (0..1000)
            .map(|n| dir.join(format!("{stem}.{n:03}.lift")))
            .find_map(|path| std::fs::OpenOptions::new().write(true).create_new(true).open(&path).ok().map(|f| (path, f)))
            .with_context(|| format!("cannot create an event file {stem}.*.lift in {}", dir.display()))?;
        let mut writer = Self { path, file: BufWriter::new(file) };
        writer.write(Event { wall_time: now(), step: 0, what: Some(EventKind::FileVersion("brain.Event:2".into())) })?;
        Ok(writer)
    }

    fn write(&mut self, event: Event) -> Result<()> {
        let bytes = record(&event.encode_to_vec());
        (|| {
            self.file.write_all(&bytes)?;
            self.file.flush()
        })()
        .with_context(|| format!("cannot write {}", self.path.display()))
    }

    fn summary(&mut self, step: i64, value: SummaryValue) -> Result<()> {
        self.write(Event { wall_time: now(), step, what: Some(EventKind::Summary(Summary { value: vec![value] })) })
    }

    /// A scalar under `tag` at `step`.
    pub fn scalar(&mut self, tag: &str, step: i64, value: f64) -> Result<()> {
        self.summary(step, SummaryValue { tag: tag.into(), value: Some(ValueKind::SimpleValue(value as f32)) })
    }

    /// A PNG image (`channels` 3 for RGB, 4 for RGBA) under `tag` at `step`.
    pub fn png(&mut self, tag: &str, step: i64, png: Vec<u8>, width: u32, height: u32, channels: u8) -> Result<()> {
        let image = Image { height: height as i32, width: width as i32, colorspace: channels as i32, encoded_image_string: png };
        self.summary(step, SummaryValue { tag: tag.into(), value: Some(ValueKind::Image(image)) })
    }

    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_frame_and_checksum_as_tfrecord() {
        // CRC-32C of "123456789" is 0xE3069283 (RFC 3720's check value); masked by hand:
        // rotate right 15 → 0x2507C60D, + 0xA282EAD8 → 0xC78AB0E5.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(masked_crc(b"123456789"), 0xC78A_B0E5);
        let r = record(b"abc");
        assert_eq!(r.len(), 8 + 4 + 3 + 4);
        assert_eq!(&r[..8], &3u64.to_le_bytes());
        assert_eq!(&r[12..15], b"abc");
        // A scalar event by hand: step 7 (field 2, varint), summary (field 5) holding one value
        // with tag "a" (field 1) and simple_value 1.0 (field 2, fixed32).
        let event = Event {
            wall_time: 0.0,
            step: 7,
            what: Some(EventKind::Summary(Summary { value: vec![SummaryValue { tag: "a".into(), value: Some(ValueKind::SimpleValue(1.0)) }] })),
        };
        assert_eq!(event.encode_to_vec(), [0x10, 7, 0x2a, 10, 0x0a, 8, 0x0a, 1, b'a', 0x15, 0, 0, 0x80, 0x3f]);
    }
}
