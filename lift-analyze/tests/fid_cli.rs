//! `lift-analyze fid` on two folders reports FID, KID, precision, recall, density and coverage;
//! from saved statistics (pytorch-fid's .npz) it gives the same FID, says why it has no more, and
//! refuses statistics taken under another resize.

mod common;

use std::process::Command;

use common::{inception_weights, png_folder};

fn fid(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lift-analyze")).arg("fid").args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "fid {}:\n{stdout}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn fid_on_two_folders_reports_every_measure() {
    let Some(inception) = inception_weights() else { return };
    let (real, fake) = (png_folder("fid-cli-real", 8), png_folder("fid-cli-fake", 7));
    let stats = real.with_extension("npz");
    let (r, f, w, s) = (real.to_str().unwrap(), fake.to_str().unwrap(), inception.to_str().unwrap(), stats.to_str().unwrap());
    let both = fid(&["--real", r, "--fake", f, "--inception", w, "--save-stats", s]);
    for measure in ["FID: ", "KID×10³: ", "precision ", "recall ", "density ", "coverage "] {
        assert!(both.contains(measure), "no {measure}in:\n{both}");
    }
    let value = |text: &str| -> f64 { text.lines().find_map(|l| l.strip_prefix("FID: ")).unwrap().parse().unwrap() };
    let from_stats = fid(&["--real", s, "--fake", f, "--inception", w]);
    // From features the distance takes the low-rank path (8 images < 2,048 features), from saved
    // statistics the full one: the same number to rounding.
    let (a, b) = (value(&from_stats), value(&both));
    assert!((a - b).abs() <= 1e-6 * b, "FID {a} from statistics vs {b} from features");
    assert!(from_stats.contains("give --real a folder"), "{from_stats}");
    // Statistics taken under another resize are refused, naming both.
    let out =
        Command::new(env!("CARGO_BIN_EXE_lift-analyze")).args(["fid", "--real", s, "--fake", f, "--inception", w, "--resize", "bilinear"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("resized by bicubic-aa") && stderr.contains("resized by bilinear"), "{stderr}");
    std::fs::remove_file(&stats).ok();
}
