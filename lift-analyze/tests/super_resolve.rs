//! `lift-analyze super-resolve` end to end on a small LIFT run: the bicubic column against an
//! independent computation (`bench/super_resolve_check.py`: PIL, torch's bicubic, SSIM from the
//! formula in numpy), the LIFT column scored like it, the table and the figure. The PyTorch side
//! is skipped without python3-torch unless LIFT_REQUIRE_TORCH is set (`cargo xtask test`, CI).

use std::path::Path;

use lift_analyze::super_resolve::SrReport;
use lift_core::ModelKind;

mod common;
use common::{fake_run_on, lift_analyze, run_bench_script, torch_python};

/// `n` 16×16 PNGs of pseudo-random texture (so that bicubic is far from exact).
fn textured_folder(name: &str, n: usize) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lift-sr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut state = 12345u64;
    for k in 0..n {
        let img = image::RgbImage::from_fn(16, 16, |x, y| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let noise = (state >> 58) as u32;
            image::Rgb([0, 1, 2].map(|c| ((x * 12 + y * 3 + c * 40 + k as u32 * 20 + noise * 4) % 256) as u8))
        });
        img.save(dir.join(format!("{k:03}.png"))).unwrap();
    }
    dir
}

#[test]
fn super_resolve_scores_lift_and_bicubic_against_the_real_images() {
    let data = textured_folder("scores", 12);
    let run = fake_run_on("sr", ModelKind::Lift, &data);
    let out = run.join("sr");
    let dir = out.to_str().unwrap();
    assert!(lift_analyze(&["super-resolve", "--run", run.to_str().unwrap(), "--num-images", "5", "--steps", "3", "--batch", "2", "--out", dir]));
    let report: SrReport = serde_json::from_str(&std::fs::read_to_string(out.join("sr.json")).unwrap()).unwrap();
    assert_eq!(report.images.len(), 5);
    assert_eq!(report.timesteps, [999, 500, 0], "3 fair steps from T − 1 to 0");
    // tiny.toml holds out 10 % of 12 images (1 image); the rest come from the training split.
    assert_eq!(report.images.iter().filter(|s| s.held_out).count(), 1);
    assert!(report.images[0].held_out, "held-out images come first");
    for s in &report.images {
        assert!(s.psnr_lift.is_finite() && s.ssim_lift.abs() <= 1.0, "{s:?}");
        assert!(s.psnr_bicubic > s.psnr_lift, "an untrained network loses to bicubic: {s:?}");
    }
    let table = std::fs::read_to_string(out.join("sr.md")).unwrap();
    assert!(table.contains("coarse 8×8 → fine 16×16") && table.contains("| bicubic |") && table.contains("LPIPS is not reported"), "{table}");
    let figure = image::open(out.join("sr.png")).unwrap();
    // Four 64-pixel columns (16×16 enlarged 4×) and five rows, 2-pixel gaps.
    assert_eq!((figure.width(), figure.height()), (4 * 66 + 2, 5 * 66 + 2));
    // A second run with another batch size gives the same numbers.
    let again = run.join("sr-again");
    assert!(lift_analyze(&[
        "super-resolve",
        "--run",
        run.to_str().unwrap(),
        "--num-images",
        "5",
        "--steps",
        "3",
        "--batch",
        "5",
        "--out",
        again.to_str().unwrap()
    ]));
    let second: SrReport = serde_json::from_str(&std::fs::read_to_string(again.join("sr.json")).unwrap()).unwrap();
    for (a, b) in report.images.iter().zip(&second.images) {
        assert!((a.psnr_lift - b.psnr_lift).abs() < 1e-3 && a.file == b.file, "{a:?} {b:?}");
    }
    check_bicubic_with_torch(&out.join("sr.json"), &report);
}

fn check_bicubic_with_torch(json: &Path, report: &SrReport) {
    if torch_python().is_none() {
        return;
    }
    let text = run_bench_script("super_resolve_check.py", &[json]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), report.images.len(), "{text}");
    for (line, s) in lines.iter().zip(&report.images) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (psnr, ssim): (f64, f64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        assert_eq!(fields[0], s.file);
        // Ours runs in f32 on the backend; the reference in f64.
        assert!((psnr - s.psnr_bicubic).abs() < 1e-3, "PSNR {} against torch's {psnr} for {}", s.psnr_bicubic, s.file);
        assert!((ssim - s.ssim_bicubic).abs() < 1e-4, "SSIM {} against {ssim} for {}", s.ssim_bicubic, s.file);
    }
}
