//! `cargo xtask reproduce --preset smoke --budget 3m`: the probe sizes the study so that it ends
//! within 1.5× of the budget on this machine, and the report states what was chosen. A binary of
//! its own, so that no other study shares the cores while it is timed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[test]
fn a_three_minute_budget_finishes_in_time_and_says_what_it_chose() {
    let budget = 180.0;
    let out = std::env::temp_dir().join(format!("lift-budget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["reproduce", "--preset", "smoke", "--budget", "3m", "--out"])
        .arg(&out)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert!(output.status.success(), "reproduce failed:\n{}", String::from_utf8_lossy(&output.stdout));
    assert!(seconds <= 1.5 * budget, "a {budget} s budget took {seconds:.0} s");
    let sizing: serde_json::Value = lift_core::io::read_json(&out.join("budget.json")).unwrap();
    let epochs = sizing["epochs"].as_u64().unwrap();
    let images = sizing["fid_images"].as_u64().unwrap();
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for chosen in [format!("Chosen: {epochs} epochs, evaluated at epochs"), format!("{images} images per sample set")] {
        assert!(report.contains("Sized for a budget of") && report.contains(&chosen), "the report lacks '{chosen}'");
    }
    std::fs::remove_dir_all(&out).ok();
}
