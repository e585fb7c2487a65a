//! `lift-train` with a bad flag value or a missing, empty or corrupt file exits non-zero with a
//! message naming the flag or the file, never a panic.

use std::path::Path;
use std::process::Command;

fn refuses(args: &[&str], names: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_lift-train")).args(args).env("RUST_BACKTRACE", "0").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(code.is_some_and(|c| c != 0 && c != 101), "lift-train {args:?}: exit {code:?} (101 = panic)\n{err}");
    assert!(err.contains(names), "lift-train {args:?}: the message does not name {names}:\n{err}");
}

#[test]
fn bad_flags_and_files_are_named() {
    let dir = std::env::temp_dir().join(format!("lift-train-bad-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    let corrupt = dir.join("corrupt.toml");
    std::fs::write(&corrupt, "[model]\ndims = [16, 32\n").unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/tiny.toml");
    let (c, bad, empty) = (config.to_str().unwrap(), corrupt.to_str().unwrap(), dir.join("empty"));
    let out = dir.join("run");
    let (e, o) = (empty.to_str().unwrap(), out.to_str().unwrap());
    for value in ["0", "1000000000000", "abc"] {
        refuses(&["--config", c, "--model", "lift", "--epochs", value, "--data", e, "--out", o], "--epochs");
    }
    refuses(&["--config", c, "--model", "unet", "--data", e, "--out", o], "--model");
    refuses(&["--config", c, "--model", "lift", "--device", "tpu", "--data", e, "--out", o], "tpu");
    refuses(&["--config", bad, "--model", "lift", "--data", e, "--out", o], bad);
    refuses(&["--config", "/no/such.toml", "--model", "lift", "--data", e, "--out", o], "/no/such.toml");
    refuses(&["--config", c, "--model", "lift", "--data", e, "--out", o], e);
    refuses(&["--config", c, "--model", "lift", "--data", "/no/such/folder", "--out", o], "/no/such/folder");
    refuses(&["--config", c, "--model", "lift", "--set", "train.epoch=3", "--print-config"], "--set train.epoch=3");
    refuses(&["--config", c, "--model", "lift", "--set", "epochs", "--print-config"], "--set 'epochs'");
    refuses(&["--config", c, "--model", "lift", "--set", "train.noise_alignment=scaled:-1", "--print-config"], "scaled:-1");
    let no_path = dir.join("no-such-path.json");
    let aligned = format!("train.noise_alignment=path:{}", no_path.display());
    refuses(&["--config", c, "--model", "lift", "--set", &aligned, "--data", e, "--out", o], no_path.to_str().unwrap());
    refuses(&["--config", c, "--model", "baseline", "--set", "train.noise_alignment=same", "--data", e, "--out", o], "train.noise_alignment");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_printed_config_has_the_sets_and_flags() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/tiny.toml");
    let args = ["--config", config.to_str().unwrap(), "--model", "lift", "--set", "train.lr=5e-4", "--set", "study.seeds=4", "--seed", "9", "--epochs", "3"];
    let out = Command::new(env!("CARGO_BIN_EXE_lift-train")).args(args).arg("--print-config").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = lift_core::LiftConfig::from_toml(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!((printed.train.lr, printed.study.seeds, printed.train.seed, printed.train.epochs), (5e-4, 4, 9, 3));
}
