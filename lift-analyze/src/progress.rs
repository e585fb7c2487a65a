//! Progress for long computations: a bar on a terminal, otherwise a line every 10% (one at the
//! end for fewer than 20 items).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts finished work items.
pub struct Progress {
    label: String,
    total: u64,
    done: AtomicU64,
    first: u64,
    start: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// `total` items, `already` of them done before this session.
    pub fn new(label: &str, total: u64, already: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total).with_position(already);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})").expect("valid template").progress_chars("=> "),
            );
            bar.set_message(label.to_string());
            bar
        });
        Self { label: label.into(), total, done: AtomicU64::new(already), first: already, start: Instant::now(), bar }
    }

    /// One more item finished.
    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                // Small jobs get one line at the end; larger ones one every 10%.
                let step = if self.total < 20 { self.total } else { self.total / 10 };
                if done.is_multiple_of(step.max(1)) || done == self.total {
                    let rate = (done - self.first) as f64 / self.start.elapsed().as_secs_f64().max(1e-9);
                    let eta = (self.total - done) as f64 / rate.max(1e-9);
                    eprintln!("{}: {done}/{} ({:.0} s elapsed, ~{eta:.0} s left)", self.label, self.total, self.start.elapsed().as_secs_f64());
                }
            }
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
