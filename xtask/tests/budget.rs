//! `cargo xtask reproduce --preset smoke --budget 3m`: the probe sizes the study, the sizes are
//! kept in `budget.json` and the report states them. The plan's arithmetic from a probe's rates is
//! checked with fixed rates by `budget::tests::sizes_fill_the_budget_shares`, not here by the
//! clock: on a shared machine a wall-clock bound tests the neighbours. A binary of its own, so that
//! no other study shares the cores while the probe measures them.

use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn a_budgeted_study_keeps_and_reports_what_it_chose() {
    let out = std::env::temp_dir().join(format!("lift-budget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["reproduce", "--preset", "smoke", "--budget", "3m", "--out"])
        .arg(&out)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "reproduce failed:\n{}", String::from_utf8_lossy(&output.stdout));
    let sizing: serde_json::Value = lift_core::io::read_json(&out.join("budget.json")).unwrap();
    let epochs = sizing["epochs"].as_u64().unwrap();
    let images = sizing["fid_images"].as_u64().unwrap();
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for chosen in [format!("Chosen: {epochs} epochs, evaluated at epochs"), format!("{images} images per sample set")] {
        assert!(report.contains("Sized for a budget of") && report.contains(&chosen), "the report lacks '{chosen}'");
    }
    std::fs::remove_dir_all(&out).ok();
}
