//! `cargo xtask reproduce --preset smoke --devices cpu,cpu` end to end: every artifact exists and
//! parses, a re-run does nothing, the figures and report need only the files the stages list,
//! `--peer` and `--ablations` join a finished study, and a run killed during training finishes with
//! the same numbers.
//! Two CPU devices take the multi-device paths (trainings side by side, heatmaps and sample sets
//! split and merged).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn reproduce(out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(workspace()).args(["reproduce", "--preset", "smoke", "--devices", "cpu,cpu", "--out"]).arg(out);
    cmd
}

fn run_to_end(out: &Path) -> String {
    let output = reproduce(out).stderr(Stdio::inherit()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "reproduce failed:\n{stdout}");
    stdout
}

/// Every value cell of every markdown table (all cells but the first of each row, below the
/// header) holds a number.
fn assert_tables_full(report: &str) {
    let mut tables = 0;
    let lines: Vec<&str> = report.lines().collect();
    for (k, line) in lines.iter().enumerate().filter(|(_, l)| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.iter().all(|c| c.chars().all(|ch| ch == '-')) {
            tables += 1;
            continue;
        }
        let separator = |l: &&str| l.starts_with("|---");
        if lines.get(k + 1).is_some_and(separator) {
            continue; // header row
        }
        // "–" marks a protocol a strategy is not sampled under (the older rules' fair column) or a
        // claim with nothing to test; the claims table's cells are verdicts; "raw" and "ema" name
        // a row's weights, "reference" and "fair" its protocol (the ablation table).
        for c in cells[1..].iter().filter(|c| !["–", "yes", "no", "n.s.", "raw", "ema", "reference", "fair"].contains(*c)) {
            assert!(c.chars().any(|ch| ch.is_ascii_digit()), "cell '{c}' of row '{line}' holds no number");
            assert!(!c.contains("NaN") && !c.contains("inf"), "cell '{c}' of row '{line}' is not finite");
        }
    }
    assert!(tables >= 5, "REPORT.md has {tables} tables");
}

fn check_artifacts(out: &Path) {
    for stage in lift_analyze::study_dir::STAGES {
        let m: serde_json::Value = lift_core::io::read_json(&out.join(stage).join("manifest.json")).unwrap();
        assert_eq!(m["stage"], stage);
    }
    let config = lift_core::LiftConfig::load(&workspace().join("configs/smoke.toml")).unwrap();
    // The sweep: raw and EMA weights after each of the two epochs, each with its own heatmaps.
    let snapshots = config.study.snapshots(config.train.epochs).unwrap();
    assert_eq!(snapshots.len(), 4);
    for snapshot in &snapshots {
        for seed in 0..config.study.seeds {
            let map = lift_analyze::heatmap::Heatmap::load(&out.join(format!("heatmap/{snapshot}/seed-{seed}/heatmap.json"))).unwrap();
            assert_eq!(map.meta.seed, seed as u64, "one heatmap per seed");
            assert_eq!(map.meta.weights, format!("{}@{}", snapshot.weights, snapshot.epoch), "each snapshot's own weights");
        }
    }
    let rows: Vec<lift_analyze::evaluate::ResultRow> = lift_core::io::read_json(&out.join("evaluate/results.json")).unwrap();
    assert_eq!(rows.len(), config.study.sample_sets().len() * config.study.seeds * snapshots.len(), "every snapshot × strategy × protocol × seed");
    assert!(rows.iter().all(|r| r.memorisation.is_some()), "every sample set has its memorisation check");
    assert!(rows.iter().all(|r| r.fid.is_finite() && r.swd_x1e3.is_finite()));
    let mse: lift_analyze::mse_test::MseReport = lift_core::io::read_json(&out.join("mse/mse.json")).unwrap();
    assert_eq!(mse.tests.len(), 3);
    for f in std::fs::read_dir(out.join("figures")).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "png") {
            image::open(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert_tables_full(&report);
    for section in [
        "## What this run shows",
        "### The later write-up's claims",
        "## FID over training",
        "| degradation (last − best) |",
        "## Does the theoretical cost predict quality?",
        "## Memorisation",
        "| KID×10³ (reference)",
        "## DP cost variants",
        "## Chain-rule variants of DP-Total",
        "## Super-resolution",
        "## Ablations: single-output models\n\nNot run: `cargo xtask reproduce --ablations`",
        "LIFT DP-mult",
        "DP-Total, dx-dlambda",
        "DP-Total, dx0-dlambda",
    ] {
        assert!(report.contains(section), "REPORT.md lacks {section}");
    }
    for figure in [
        "figures/heatmap.png",
        "figures/cross.png",
        "figures/chain-rules.png",
        "figures/mse.png",
        "figures/samples-dp-total-fair.png",
        "figures/fid-raw.png",
        "figures/fid-ema.png",
        "figures/cost-fid.png",
        "figures/nearest-dp-total.png",
        "sr/sr.png",
    ] {
        assert!(report.contains(figure) && out.join(figure).exists(), "{figure}");
    }
    for chart in ["heatmap", "cross", "chain-rules", "mse", "curves-lift", "fid-ema", "cost-fid"] {
        let svg = std::fs::read_to_string(out.join(format!("figures/{chart}.svg"))).unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.contains("<text"), "figures/{chart}.svg: the vector copy of every chart");
    }
}

/// `--peer` on a finished study runs only the peer and the report; the report scores the peer's
/// images beside our baseline's. Skipped without a python3 that imports torch, unless
/// LIFT_REQUIRE_TORCH is set (CI).
fn peer_joins_a_finished_study(out: &Path) {
    let output = reproduce(out).arg("--peer").output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() && stderr.contains("imports torch") && std::env::var_os("LIFT_REQUIRE_TORCH").is_none() {
        eprintln!("skipped the peer: no python3 with torch (apt-get install python3-torch python3-pil)");
        return;
    }
    assert!(output.status.success(), "reproduce --peer failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("peer") && !stdout.contains("train-baseline …"), "only the peer and the report run:\n{stdout}");
    let scores: serde_json::Value = lift_core::io::read_json(&out.join("peer/scores.json")).unwrap();
    assert!(scores["steps"].as_u64().unwrap() > 0 && scores["scores"]["fid"].as_f64().unwrap().is_finite(), "{scores}");
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("## The PyTorch peer") && report.contains("| PyTorch peer |") && out.join("peer/samples.png").exists());
    assert_tables_full(&report);
}

/// `--ablations` on a finished study trains the two single-output models, sweeps and evaluates them
/// (their heatmaps are the fine block alone) and the report gains their table; the main study's
/// stages do not run again.
fn ablations_join_a_finished_study(out: &Path) {
    let output = reproduce(out).arg("--ablations").stderr(Stdio::inherit()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "reproduce --ablations failed:\n{stdout}");
    for stage in lift_analyze::study_dir::ABLATION_STAGES {
        assert!(stdout.contains(&format!("{stage} …")), "{stage} ran:\n{stdout}");
    }
    assert!(!stdout.contains("evaluate …") && !stdout.contains("train-lift …"), "the main study is not redone:\n{stdout}");
    let config = lift_core::LiftConfig::load(&workspace().join("configs/smoke.toml")).unwrap();
    let snapshots = config.study.snapshots(config.train.epochs).unwrap();
    for kind in lift_core::ModelKind::ABLATIONS {
        let map = lift_analyze::heatmap::Heatmap::load(&out.join(format!("ablations/{kind}/heatmap/{}/seed-0/heatmap.json", snapshots[0]))).unwrap();
        assert_eq!(map.meta.model, kind);
        assert!(map.blocks.ll.mean.iter().flatten().all(|v| *v == 0.0) && map.blocks.hh.mean.iter().flatten().all(|v| *v > 0.0));
    }
    let rows: Vec<lift_analyze::evaluate::ResultRow> = lift_core::io::read_json(&out.join("ablations/ablations.json")).unwrap();
    assert_eq!(
        rows.len(),
        2 * snapshots.len() * 2 * config.study.protocols.len() * config.study.seeds,
        "models × snapshots × (diagonal, DP-64) × protocols × seeds"
    );
    assert!(rows.iter().all(|r| r.model.is_single_output() && r.fid.is_finite()));
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    assert!(report.contains("## Ablations: single-output models") && report.contains("| single_t ablation |") && report.contains("| no_t ablation |"));
    assert_tables_full(&report);
}

/// The report's result sections (from the findings to the training summary).
fn results_section(out: &Path) -> String {
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    let start = report.find("## What this run shows").unwrap();
    let end = report.find("## Training").unwrap();
    report[start..end].to_string()
}

/// Every arrow is a file: a copy of study `a` holding only the stages' manifests and the files they
/// list redraws every figure and writes the same report. A stage that read a file no stage lists
/// (or recomputed one from its own inputs) would fail here or report something else.
fn stages_read_only_what_stages_wrote(a: &Path, copy: &Path) {
    for stage in lift_analyze::study_dir::STAGES {
        let manifest = Path::new(stage).join("manifest.json");
        let m: serde_json::Value = lift_core::io::read_json(&a.join(&manifest)).unwrap();
        let files = m["files"].as_array().unwrap_or_else(|| panic!("{stage} lists no files"));
        // Files outside the study (the shared Inception weights) are listed by absolute path.
        for f in files.iter().map(|f| PathBuf::from(f.as_str().unwrap())).filter(|f| f.is_relative()).chain([manifest]) {
            std::fs::create_dir_all(copy.join(&f).parent().unwrap()).unwrap();
            std::fs::copy(a.join(&f), copy.join(&f)).unwrap_or_else(|e| panic!("{stage} lists {}: {e}", f.display()));
        }
    }
    let output = reproduce(copy).args(["--rerun", "figures"]).stderr(Stdio::inherit()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "figures and report from the listed files alone failed:\n{stdout}");
    assert!(stdout.contains("figures …") && stdout.contains("report …") && !stdout.contains("evaluate …"), "{stdout}");
    assert_eq!(results_section(a), results_section(copy));
    let figures = |dir: &Path| std::fs::read_dir(dir.join("figures")).unwrap().count();
    assert_eq!(figures(a), figures(copy));
}

#[test]
fn smoke_study_runs_resumes_and_reproduces() {
    let root = std::env::temp_dir().join(format!("lift-reproduce-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (a, b) = (root.join("a"), root.join("b"));

    run_to_end(&a);
    check_artifacts(&a);
    // Nothing to do the second time: only the report's path is printed.
    let again = run_to_end(&a);
    assert_eq!(again.trim(), format!("report: {}", a.join("REPORT.md").display()), "{again}");
    stages_read_only_what_stages_wrote(&a, &root.join("listed"));

    peer_joins_a_finished_study(&a);
    ablations_join_a_finished_study(&a);

    // Kill during the LIFT training (after its first checkpoint), then run again.
    let mut child = reproduce(&b).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let checkpoint = b.join("train-lift/lift/checkpoint/scheduler-1.mpk");
    let start = Instant::now();
    while !checkpoint.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the study ended before it could be killed");
        assert!(start.elapsed() < Duration::from_secs(900), "no LIFT checkpoint after 15 minutes");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!b.join("train-lift/manifest.json").exists(), "the kill came after the training stage finished");
    run_to_end(&b);
    check_artifacts(&b);
    assert_eq!(results_section(&a), results_section(&b), "a resumed study must report the same numbers");
    std::fs::remove_dir_all(&root).ok();
}
