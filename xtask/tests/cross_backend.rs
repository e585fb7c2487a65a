//! flex and wgpu give the same numbers (forward, training-step loss and gradient norm, one
//! Hutchinson estimate) within 1e-4 relative, through `cargo xtask cross-check`. Runs with
//! `--features wgpu`; CI provides Vulkan through Mesa's lavapipe and sets LIFT_REQUIRE_WGPU so
//! that a missing adapter fails instead of skipping.
#![cfg(feature = "wgpu")]

use std::path::Path;
use std::process::Command;

#[test]
fn flex_and_wgpu_agree() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["cross-check", "--device", "wgpu"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    eprint!("{stdout}{stderr}");
    if !output.status.success() && stderr.contains("could not start") {
        assert!(std::env::var_os("LIFT_REQUIRE_WGPU").is_none(), "wgpu unavailable: {stderr}");
        eprintln!("skipped: no wgpu adapter");
        return;
    }
    assert!(output.status.success(), "cross-check failed");
    assert!(stdout.contains("agree within 1e-4"), "{stdout}");
}
