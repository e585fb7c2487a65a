//! Every subcommand, given a bad number or a missing, empty or corrupt file, exits non-zero with
//! a message naming the flag or the file — never a panic, never a hang (the harness times out).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lift_core::ModelKind;

mod common;
use common::{fake_run, png_folder};

const LIMIT: Duration = Duration::from_secs(120);

/// Runs `lift-analyze args`; returns (exit code, stderr). Fails the test on a hang.
fn run(args: &[String]) -> (Option<i32>, String) {
    let mut child =
        Command::new(env!("CARGO_BIN_EXE_lift-analyze")).args(args).env("RUST_BACKTRACE", "0").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > LIMIT {
            child.kill().ok();
            panic!("lift-analyze {args:?} hangs (> {LIMIT:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The command fails cleanly and its message contains `names`.
fn refuses(args: &[String], names: &str) {
    let (code, err) = run(args);
    assert!(code.is_some_and(|c| c != 0 && c != 101), "lift-analyze {args:?}: exit {code:?} (101 = panic)\n{err}");
    assert!(!err.contains("panicked"), "lift-analyze {args:?} panicked:\n{err}");
    assert!(err.contains(names), "lift-analyze {args:?}: the message does not name {names}:\n{err}");
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// (command, flags that make it valid apart from the numeric flag, numeric flags that must be positive).
fn numeric_cases(run: &Path, data: &Path, out: &Path) -> Vec<(Vec<String>, Vec<&'static str>)> {
    let (r, d, o) = (p(run), p(data), p(out));
    vec![
        (strings(&["heatmap", "--run", &r, "--data", &d, "--out", &o]), vec!["--images", "--probes", "--max-batch"]),
        (strings(&["dp", "--heatmap", &o, "--out", &o]), vec!["--steps", "--max-jump"]),
        (strings(&["mse-test", "--run", &r, "--data", &d, "--out", &o]), vec!["--images", "--batch"]),
        (strings(&["generate", "--run", &r, "--strategy", "diagonal", "--num-images", "1", "--out", &o]), vec!["--num-images", "--steps", "--batch"]),
        (strings(&["fid", "--real", &d, "--fake", &d]), vec!["--batch", "--resolution"]),
        (strings(&["swd", "--real", &d, "--fake", &d]), vec!["--images"]),
        (strings(&["evaluate", "--runs", &r, "--real", &d, "--out", &o]), vec!["--num-images", "--seeds", "--batch", "--steps"]),
    ]
}

#[test]
fn numeric_flags_at_zero_huge_or_not_a_number_are_refused_by_name() {
    let run = fake_run("bad-numbers", ModelKind::Lift);
    let data = png_folder("bad-numbers", 4);
    let out = run.join("out");
    for (base, flags) in numeric_cases(&run, &data, &out) {
        for flag in flags {
            for value in ["0", "1000000000000", "abc"] {
                let mut args = base.clone();
                // A flag already in the base command is replaced, not given twice.
                if let Some(k) = args.iter().position(|a| a == flag) {
                    args.drain(k..k + 2);
                }
                args.extend([flag.to_string(), value.to_string()]);
                refuses(&args, flag);
            }
        }
    }
}

#[test]
fn missing_empty_and_corrupt_files_are_refused_by_name() {
    let run = fake_run("bad-files", ModelKind::Lift);
    let data = png_folder("bad-files", 4);
    let dir = run.join("bad");
    std::fs::create_dir_all(dir.join("empty-folder")).unwrap();
    let missing = dir.join("missing.json");
    let empty = dir.join("empty.json");
    let corrupt = dir.join("corrupt.json");
    std::fs::write(&empty, b"").unwrap();
    std::fs::write(&corrupt, b"{\"t_grid\": [1, 2], \x00\xff garbage").unwrap();
    // A truncated copy of the Inception archive (when fetched) or a zip-looking stub.
    let short = dir.join("short.pt");
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts/weights/inception-2015-12-05.pt");
    let bytes = std::fs::read(&weights).map(|b| b[..b.len() / 3].to_vec()).unwrap_or_else(|_| b"PK\x03\x04 not a zip".to_vec());
    std::fs::write(&short, bytes).unwrap();
    let (r, d, o) = (p(&run), p(&data), p(&dir.join("out")));
    let empty_dir = dir.join("empty-folder");
    for bad in [&missing, &empty, &corrupt] {
        let b = p(bad);
        refuses(&strings(&["dp", "--heatmap", &b, "--out", &o]), &b);
        refuses(&strings(&["plot", "--heatmap", &b, "--out", &o]), &b);
        refuses(&strings(&["inspect", "--config", &b]), &b);
        refuses(&strings(&["schedule", "--config", &b]), &b);
        refuses(&strings(&["generate", "--run", &r, "--path", &b, "--num-images", "1", "--out", &o]), &b);
        refuses(&strings(&["evaluate", "--runs", &r, "--real", &d, "--out", &o, "--heatmap", &b]), &b);
        refuses(&strings(&["import-torch", "--checkpoint", &b, "--model", "lift", "--config", &b, "--out", &o]), &b);
        refuses(&strings(&["fid", "--real", &b, "--fake", &d]), &b);
    }
    for bad_run in [&missing, &empty_dir, &corrupt] {
        let b = p(bad_run);
        refuses(&strings(&["heatmap", "--run", &b, "--out", &o]), &b);
        refuses(&strings(&["mse-test", "--run", &b]), &b);
        refuses(&strings(&["generate", "--run", &b, "--strategy", "diagonal", "--num-images", "1", "--out", &o]), &b);
        refuses(&strings(&["evaluate", "--runs", &b, "--out", &o]), &b);
        refuses(&strings(&["export", "--run", &b, "--format", "torch", "--out", &o]), &b);
        refuses(&strings(&["plot-metrics", "--run", &b, "--out", &o]), &b);
        refuses(&strings(&["super-resolve", "--run", &b, "--num-images", "1", "--out", &o]), &b);
    }
    for bad_data in [&missing, &empty_dir] {
        let b = p(bad_data);
        refuses(&strings(&["heatmap", "--run", &r, "--data", &b, "--out", &o]), &b);
        refuses(&strings(&["mse-test", "--run", &r, "--data", &b]), &b);
        refuses(&strings(&["swd", "--real", &b, "--fake", &d]), &b);
        refuses(&strings(&["fid", "--real", &d, "--fake", &b]), &b);
    }
    let s = p(&short);
    refuses(&strings(&["fid", "--real", &d, "--fake", &d, "--inception", &s]), &s);
    refuses(&strings(&["evaluate", "--runs", &r, "--real", &d, "--out", &o, "--num-images", "2", "--inception", &s]), &s);
    // A wrong strategy for the run, and a heatmap strategy without its path file.
    refuses(&strings(&["generate", "--run", &r, "--strategy", "baseline", "--num-images", "1", "--out", &o]), "baseline");
    refuses(&strings(&["generate", "--run", &r, "--strategy", "dp-64", "--num-images", "1", "--out", &o]), "--path");
    refuses(&strings(&["dp", "--heatmap", &o, "--strategy", "no-such", "--out", &o]), "--strategy");
    // An ablation run: DP-Total needs LIFT's coarse output; with LIFT in one evaluation, the two
    // would share one folder's paths.
    let ablation = p(&fake_run("bad-files-ablation", ModelKind::SingleT));
    refuses(&strings(&["generate", "--run", &ablation, "--strategy", "dp-total", "--num-images", "1", "--out", &o]), "single-t run");
    refuses(&strings(&["evaluate", "--runs", &r, &ablation, "--real", &d, "--out", &o]), "its own --out");
}
