//! flex and wgpu give the same numbers (forward, training-step loss and gradient norm, one
//! Hutchinson estimate) within 1e-4 relative. Runs with `--features wgpu`; CI provides Vulkan
//! through Mesa's lavapipe and sets LIFT_REQUIRE_WGPU so that a missing adapter fails.
#![cfg(feature = "wgpu")]

use lift_analyze::cross_check::CrossCheck;
use lift_core::{run_on, DeviceSpec, LiftConfig};

#[test]
fn flex_and_wgpu_agree() {
    let config = LiftConfig::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/tiny.toml"))).unwrap();
    let report = match run_on(DeviceSpec::Wgpu, CrossCheck { config, seed: 9 }) {
        Ok(r) => r,
        Err(e) => {
            assert!(std::env::var_os("LIFT_REQUIRE_WGPU").is_none(), "wgpu unavailable: {e:#}");
            eprintln!("skipped: {e:#}");
            return;
        }
    };
    eprint!("{}", report.table());
    assert!(report.passed(1e-4), "{}", report.table());
}
