//! The report's memorisation check: for every sample set, how many samples are closer to a
//! training image than any held-out real image came (`lift_analyze::memorisation`), beside FID.

use std::fmt::Write as _;

use super::view::{name, View};
use lift_analyze::memorisation::Nearest;

/// Copies and medians summed over a cell's seeds.
fn pooled(parts: &[Nearest]) -> (usize, usize, f64, Option<f64>, Option<f64>) {
    let copies = parts.iter().map(|n| n.copies).sum();
    let samples = parts.iter().map(|n| n.samples).sum();
    let median = parts.iter().map(|n| n.median).sum::<f64>() / parts.len().max(1) as f64;
    (copies, samples, median, parts.first().and_then(|n| n.held_out_median), parts.first().and_then(|n| n.threshold))
}

/// The section: a row per (snapshot, strategy), FID beside the copy counts.
pub fn section(s: &mut String, view: View, figures: &[(String, String)]) {
    let _ = writeln!(s, "## Memorisation\n");
    let any = view.rows.iter().any(|r| r.memorisation.is_some());
    if !any {
        let _ = writeln!(s, "Not checked: the runs' training split could not be rebuilt (their data folder is gone, or they skipped unreadable images).\n");
        return;
    }
    let _ = writeln!(
        s,
        "For every generated image, the distance to its nearest training image, in Inception pool3 features and in pixels (RMS on [0, 1]). \
         A sample counts as a likely copy when it is closer to a training image than the closest held-out real image came \
         (the threshold; the run's held-out images never trained). With m held-out images, a generator of genuinely new images would \
         still have about 1/(m + 1) of its samples flagged: that rate is shown beside the counts. Counts are summed over seeds; distances \
         are medians (mean over seeds).\n"
    );
    let _ = writeln!(s, "| Strategy (snapshot) | FID | copies (features) | copies (pixels) | median NN, features (held-out) | median NN, pixels (held-out) |");
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    let show = |(copies, samples, median, held, _): (usize, usize, f64, Option<f64>, Option<f64>)| {
        (
            format!("{copies}/{samples} ({:.1} %)", 100.0 * copies as f64 / samples.max(1) as f64),
            format!("{median:.3} ({})", held.map_or("–".into(), |h| format!("{h:.3}"))),
        )
    };
    let mut threshold = None;
    for snapshot in view.snapshots() {
        for st in view.strategies() {
            let rows: Vec<_> = view.at(snapshot).into_iter().filter(|r| r.strategy == st).collect();
            let memo: Vec<_> = rows.iter().filter_map(|r| r.memorisation.as_ref()).collect();
            if memo.is_empty() {
                continue;
            }
            let f = pooled(&memo.iter().map(|m| m.feature).collect::<Vec<_>>());
            let p = pooled(&memo.iter().map(|m| m.pixel).collect::<Vec<_>>());
            threshold = threshold.or(f.4.zip(p.4));
            let fid = lift_analyze::evaluate::mean_std(&rows.iter().map(|r| r.fid).collect::<Vec<_>>(), 1);
            let ((fc, fm), (pc, pm)) = (show(f), show(p));
            let _ = writeln!(s, "| {} ({}) | {fid} | {fc} | {pc} | {fm} | {pm} |", st.label(), name(snapshot));
        }
    }
    let expected = view.rows.iter().find_map(|r| r.memorisation.as_ref()?.feature.expected_fraction);
    match (threshold, expected) {
        (Some((f, p)), Some(e)) => {
            let _ = writeln!(
                s,
                "\nThresholds (closest held-out image to a training image): {f:.3} in features, {p:.4} in pixels; new images would be flagged at \
                 about {:.1} %.\n",
                100.0 * e
            );
        }
        _ => {
            let _ = writeln!(s, "\nNo held-out images: no threshold, only the distances.\n");
        }
    }
    if !figures.is_empty() {
        let _ = writeln!(s, "The samples closest to a training image (left) beside that training image (right), seed 0:\n");
        for (label, file) in figures {
            let _ = writeln!(s, "{label}: ![{label}]({file})\n");
        }
    }
}
