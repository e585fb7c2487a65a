//! Weights out: `export` writes the original's checkpoint layout, which PyTorch opens with
//! `weights_only=True`, loads with `strict=True` into the original's architecture written from the
//! spec (`bench/torch_checkpoint_reference.py`) and runs to our outputs; export → import gives the
//! same weights bit for bit, in both formats. The PyTorch side needs Debian's python3-torch: without
//! it that part is skipped, unless LIFT_REQUIRE_TORCH is set (`cargo xtask test`, CI).

use std::path::{Path, PathBuf};

use burn::backend::Flex;
use lift_analyze::torch_export::{export, state_dict, ExportFormat, ExportJob, WeightSets};
use lift_analyze::torch_import::{import, ImportJob};
use lift_core::run::{load_run, RunDir};
use lift_core::{ModelKind, Weights};

mod common;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch").join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lift-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_python(args: &[&str]) -> String {
    common::run_bench_script("torch_export_check.py", args)
}

fn bits(run: &Path, which: Weights) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let model = load_run::<Flex>(run, which, &Default::default()).unwrap().model;
    state_dict(&model).unwrap().into_iter().map(|(k, t)| (k, t.shape, t.data.iter().map(|v| v.to_bits()).collect())).collect()
}

fn do_export(run: &Path, format: ExportFormat, weights: WeightSets, out: &Path) {
    export(&ExportJob { run: run.to_path_buf(), format, out: out.to_path_buf(), weights }).unwrap();
}

fn do_import(kind: ModelKind, checkpoint: &Path, out: &Path, check: Option<PathBuf>) -> lift_analyze::torch_import::ImportReport {
    import(&ImportJob { checkpoint: checkpoint.to_path_buf(), model: kind, config: fixture("config.toml"), out: out.to_path_buf(), check }).unwrap()
}

#[test]
fn exports_load_in_pytorch_and_come_back_bit_for_bit() {
    for (kind, name, outputs) in [(ModelKind::Lift, "lift", 4), (ModelKind::Baseline, "baseline", 2)] {
        let dir = scratch(name);
        let ours = dir.join("ours");
        do_import(kind, &fixture(&format!("{name}.pth")), &ours, None);
        // Three epochs of training losses become the original's `losses` lists.
        let columns = lift_core::metrics_csv::COLUMNS;
        let rows: Vec<String> =
            (1..=3).map(|e| (0..columns.len()).map(|c| if c == 0 { e.to_string() } else { format!("0.{e}{c}") }).collect::<Vec<_>>().join(",")).collect();
        std::fs::write(RunDir(ours.clone()).metrics(), format!("{}\n{}\n", columns.join(","), rows.join("\n"))).unwrap();
        let pth = dir.join("exported.pth");
        do_export(&ours, ExportFormat::Torch, WeightSets::Both, &pth);

        // PyTorch runs the export on the fixture's inputs; our model must give the same outputs.
        let back = dir.join("back");
        if common::torch_python().is_some() {
            let outputs_npz = dir.join("torch_outputs.npz");
            let inputs = fixture(&format!("{name}_check.npz"));
            let (i, o, p) = (inputs.to_str().unwrap(), outputs_npz.to_str().unwrap(), pth.to_str().unwrap());
            let said = run_python(&[p, "--model", name, "--inputs", i, "--out", o, "--attn-min", "32", "--time-dims", "8,32"]);
            eprint!("{said}");
            assert!(said.contains("epochs 3, ema_decay 0.9999, hidden_dims [8, 16, 32], 3 epoch losses"), "{said}");
            let report = do_import(kind, &pth, &back, Some(outputs_npz));
            eprint!("{report}");
            assert_eq!(report.differences.len(), outputs, "raw and EMA both checked");
            assert!(report.differences.iter().all(|(_, d)| *d <= 1e-5), "{report}");
        } else {
            do_import(kind, &pth, &back, None);
        }
        for which in [Weights::Raw, Weights::Ema] {
            assert!(bits(&ours, which) == bits(&back, which), "{name} {which}: torch export → import changed the weights");
        }

        // safetensors: both sets under the torch layout's paths, or one set under bare keys.
        let both = dir.join("both.safetensors");
        do_export(&ours, ExportFormat::Safetensors, WeightSets::Both, &both);
        let from_both = dir.join("from_both");
        do_import(kind, &both, &from_both, None);
        for which in [Weights::Raw, Weights::Ema] {
            assert!(bits(&ours, which) == bits(&from_both, which), "{name} {which}: safetensors export → import changed the weights");
        }
        let ema = dir.join("ema.safetensors");
        do_export(&ours, ExportFormat::Safetensors, WeightSets::Ema, &ema);
        let bytes = std::fs::read(&ema).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert!(file.names().iter().all(|k| !k.contains("model_state") && !k.contains("ema_state")), "bare keys");
        assert_eq!(file.tensor("init_conv.weight").unwrap().shape(), [8, if kind == ModelKind::Lift { 6 } else { 3 }, 3, 3]);
        let from_ema = dir.join("from_ema");
        do_import(kind, &ema, &from_ema, None);
        assert!(bits(&ours, Weights::Ema) == bits(&from_ema, Weights::Raw), "{name}: the EMA set exported alone comes back as the raw set");
        assert!(!RunDir(from_ema).weights(Weights::Ema).exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn a_missing_weight_set_is_named_and_nothing_is_written() {
    let dir = scratch("missing");
    let ours = dir.join("ours");
    do_import(ModelKind::Lift, &fixture("lift.pth"), &ours, None);
    std::fs::remove_file(RunDir(ours.clone()).weights(Weights::Ema)).unwrap();
    let out = dir.join("x.pth");
    let e = export(&ExportJob { run: ours.clone(), format: ExportFormat::Torch, out: out.clone(), weights: WeightSets::Both }).unwrap_err();
    assert!(format!("{e:#}").contains("ema weights") && format!("{e:#}").contains("--weights raw"), "{e:#}");
    assert!(!out.exists());
    let e = export(&ExportJob { run: dir.join("nothing"), format: ExportFormat::Torch, out: out.clone(), weights: WeightSets::Raw }).unwrap_err();
    assert!(format!("{e:#}").contains("nothing"), "{e:#}");
    // A file that is neither format is named.
    std::fs::write(&out, b"not a checkpoint").unwrap();
    let e =
        import(&ImportJob { checkpoint: out.clone(), model: ModelKind::Lift, config: fixture("config.toml"), out: dir.join("b"), check: None }).unwrap_err();
    assert!(format!("{e:#}").contains("x.pth"), "{e:#}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn paper_widths_have_the_originals_keys_shapes_and_order() {
    let config = lift_core::LiftConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/paper.toml")).unwrap();
    let device = Default::default();
    // Counts from the original's checkpoints (shared spec, torch-checkpoint.md).
    for (kind, name, tensors, parameters) in [(ModelKind::Lift, "lift", 266, 58_475_206), (ModelKind::Baseline, "baseline", 262, 58_274_627)] {
        let model = lift_core::run::Trained::<Flex>::new(kind, &config.model, &device);
        let ours: Vec<(String, Vec<usize>)> = state_dict(&model).unwrap().into_iter().map(|(k, t)| (k, t.shape)).collect();
        assert_eq!(ours.len(), tensors);
        assert_eq!(ours.iter().map(|(_, s)| s.iter().product::<usize>()).sum::<usize>(), parameters);
        if common::torch_python().is_some() {
            let listed = run_python(&["--list-keys", "64,128,256,512", "--model", name]);
            let theirs: Vec<(String, Vec<usize>)> = listed.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(ours, theirs, "{name}: names, shapes and order as the original's state_dict()");
        }
    }
}
