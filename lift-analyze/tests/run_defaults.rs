//! Analysis follows the run it analyses: without `--data` (or `--real`), `heatmap`, `mse-test` and
//! `evaluate` read the folder the run was trained on, not the default data set, and say so.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fake_run_on, inception_weights, png_folder};
use lift_core::ModelKind;

/// Runs `lift-analyze` with `args`; its standard output, after checking that it succeeded.
fn stdout_of(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lift-analyze")).args(args).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "lift-analyze {}:\n{stdout}\n{stderr}", args.join(" "));
    stdout
}

#[test]
fn analysis_reads_the_run_s_own_images() {
    let data = png_folder("own-data", 12);
    let run = fake_run_on("own-data", ModelKind::Lift, &data);
    let out = std::env::temp_dir().join(format!("lift-own-data-out-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let (run_s, out_s, data_s) = (run.to_str().unwrap(), out.to_str().unwrap(), data.display().to_string());
    let heatmap = out.join("heatmap.json");
    // `--devices` is the old spelling of `--device`.
    let said = stdout_of(&[
        "heatmap",
        "--run",
        run_s,
        "--out",
        heatmap.to_str().unwrap(),
        "--grid",
        "t-linspace:3",
        "--images",
        "2",
        "--probes",
        "1",
        "--devices",
        "cpu",
    ]);
    assert!(said.contains(&format!("data: {data_s}")), "{said}");
    assert!(Path::new(&heatmap).exists());
    // `--checkpoint` and `--samples` are the old spellings of `--run` and `--images`, kept for scripts.
    let said = stdout_of(&["mse-test", "--checkpoint", run_s, "--samples", "2", "--protocol", "noised-t0", "--batch", "2", "--out", out_s]);
    assert!(said.contains(&format!("data: {data_s}")), "{said}");
    let mse: serde_json::Value = lift_core::io::read_json(&out.join("mse.json")).unwrap();
    assert_eq!(mse["samples"], 2);
    // `generate` reads no images: it refuses `--data` rather than ignore it.
    let refused = Command::new(env!("CARGO_BIN_EXE_lift-analyze")).args(["generate", "--run", run_s, "--data", &data_s]).output().unwrap();
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("--data"));
    if let Some(inception) = inception_weights() {
        let said = stdout_of(&[
            "evaluate",
            "--runs",
            run_s,
            "--out",
            out.join("study").to_str().unwrap(),
            "--strategies",
            "diagonal",
            "--protocols",
            "reference",
            "--num-images",
            "2",
            "--real-images",
            "4",
            "--seeds",
            "1",
            "--weights",
            "ema",
            "--eval-epochs",
            "last",
            "--steps",
            "2",
            "--inception",
            inception.to_str().unwrap(),
        ]);
        assert!(said.contains(&format!("real images: {data_s}")), "{said}");
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn sample_makes_heatmap_path_and_images_then_reuses_the_heatmap() {
    let data = png_folder("sample-cmd", 12);
    let run = fake_run_on("sample-cmd", ModelKind::Lift, &data);
    let out = std::env::temp_dir().join(format!("lift-sample-cmd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let args = ["sample", "--run", run.to_str().unwrap(), "--strategy", "dp-total", "--num-images", "3", "--out", out.to_str().unwrap()];
    let first = stdout_of(&args);
    assert!(first.contains(&format!("data: {}", data.display())) && first.contains("path: "), "{first}");
    for file in ["heatmap-ema-final-seed0.json", "path-dp-total.json", "grid.png", "images/000002.png"] {
        assert!(out.join(file).exists(), "{file} missing:\n{first}");
    }
    let path: lift_core::PathFile = lift_core::io::read_json(&out.join("path-dp-total.json")).unwrap();
    assert_eq!(path.meta.strategy, lift_core::Strategy::DpTotal);
    let again = stdout_of(&args);
    assert!(again.contains("(computed before)") && again.contains("0 made, 3 already there"), "{again}");
    // 8-bit PNGs unless asked for 16.
    assert_eq!(image::open(out.join("images/000002.png")).unwrap().color(), image::ColorType::Rgb8);
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn old_spellings_of_renamed_flags_still_work() {
    let data = png_folder("old-flags", 6);
    let run = fake_run_on("old-flags", ModelKind::Lift, &data);
    let out = std::env::temp_dir().join(format!("lift-old-flags-{}", std::process::id()));
    let (images, sheet) = (out.join("images"), out.join("sheet.png"));
    let (run_s, images_s) = (run.to_str().unwrap(), images.to_str().unwrap());
    // `generate --grid FILE` is now `--grid-png FILE` (`heatmap --grid` is the SNR grid).
    stdout_of(&[
        "generate",
        "--run",
        run_s,
        "--strategy",
        "diagonal",
        "--num-images",
        "2",
        "--steps",
        "2",
        "--out",
        images_s,
        "--grid",
        sheet.to_str().unwrap(),
    ]);
    assert!(sheet.exists());
    assert_eq!(image::open(images.join("000001.png")).unwrap().color(), image::ColorType::Rgb16);
    // `swd --max-images` is now `--images`.
    let said = stdout_of(&["swd", "--real", data.to_str().unwrap(), "--fake", data.to_str().unwrap(), "--max-images", "4"]);
    assert!(said.contains("4 images"), "{said}");
    std::fs::remove_dir_all(&out).ok();
}
