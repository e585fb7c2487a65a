//! Checkpoints of the original PyTorch code become run folders that reproduce the original's
//! outputs. Fixtures: `bench/torch_checkpoint_reference.py` (the original's architecture written
//! in PyTorch, random weights including norm γ/β, outputs computed by torch), committed under
//! `tests/fixtures/torch/`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use lift_analyze::pickle::{unpickle, CheckpointGlobals};
use lift_analyze::torch_archive::tensor_ref;
use lift_analyze::torch_import::{import, read_checkpoint, ImportJob};
use lift_core::run::{load_run, Trained, Weights};
use lift_core::ModelKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch").join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lift-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn job(model: ModelKind, checkpoint: &str, config: &Path, out: &Path, check: Option<&str>) -> ImportJob {
    ImportJob { checkpoint: fixture(checkpoint), model, config: config.to_path_buf(), out: out.to_path_buf(), check: check.map(fixture) }
}

#[test]
fn both_models_import_and_match_pytorch() {
    for (kind, name, outputs) in [(ModelKind::Lift, "lift", 4), (ModelKind::Baseline, "baseline", 2)] {
        let out = scratch(name);
        let report = import(&job(kind, &format!("{name}.pth"), &fixture("config.toml"), &out, Some(&format!("{name}_check.npz")))).unwrap();
        eprint!("{report}");
        assert!(report.ema, "the fixtures carry ema_state");
        assert_eq!(report.differences.len(), outputs, "raw and EMA outputs are both checked");
        assert!(report.differences.iter().all(|(_, d)| *d <= 1e-4), "{report}");
        assert_eq!(report.parameters, if kind == ModelKind::Lift { 234_686 } else { 231_115 });
        // The run folder is an ordinary one: both weight sets load.
        for which in [Weights::Raw, Weights::Ema] {
            let run = load_run::<burn::backend::Flex>(&out, which, &Default::default()).unwrap();
            assert_eq!(matches!(run.model, Trained::Lift(_)), kind == ModelKind::Lift);
            assert_eq!((run.info.epochs_completed, run.info.model), (3, kind));
        }
        // An existing run folder is not overwritten.
        let again = import(&job(kind, &format!("{name}.pth"), &fixture("config.toml"), &out, None)).unwrap_err();
        assert!(again.to_string().contains("already holds a run"), "{again}");
        std::fs::remove_dir_all(out).unwrap();
    }
}

fn config_with(edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = scratch("configs");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("c{}.toml", rand::random::<u32>()));
    std::fs::write(&path, edit(&std::fs::read_to_string(fixture("config.toml")).unwrap())).unwrap();
    path
}

#[test]
fn mismatches_are_errors_naming_the_key() {
    let out = scratch("mismatch");
    let err = |kind, ck: &str, config: &Path| format!("{:#}", import(&job(kind, ck, config, &out, None)).unwrap_err());
    // hidden_dims against the config's dims.
    let wider = config_with(|c| c.replace("dims = [8, 16, 32]", "dims = [8, 16, 64]"));
    assert!(err(ModelKind::Lift, "lift.pth", &wider).contains("hidden_dims"));
    // Another time width: the first time layer's shape is named.
    let time = config_with(|c| c.replace("time_dim = 32", "time_dim = 64"));
    let e = err(ModelKind::Lift, "lift.pth", &time);
    assert!(e.contains("key time_mlp.1.weight has shape [32, 8]"), "{e}");
    // The other model: LIFT keys missing from a baseline checkpoint, and extra the other way round.
    let e = err(ModelKind::Lift, "baseline.pth", &fixture("config.toml"));
    assert!(e.contains("key time_combine.0.weight is missing"), "{e}");
    let e = err(ModelKind::Baseline, "lift.pth", &fixture("config.toml"));
    assert!(e.contains("key time_combine.0.weight is not part of this model"), "{e}");
    // A check case that does not match fails and writes nothing.
    let e = format!("{:#}", import(&job(ModelKind::Lift, "lift.pth", &fixture("config.toml"), &out, Some("baseline_check.npz"))).unwrap_err());
    assert!(e.contains("baseline_check.npz") || e.contains("differs"), "{e}");
    assert!(!out.exists(), "nothing is written when an import fails");
}

fn data_pkl(path: &Path) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let name = zip.file_names().find(|n| n.ends_with("/data.pkl")).unwrap().to_string();
    let mut bytes = Vec::new();
    zip.by_name(&name).unwrap().read_to_end(&mut bytes).unwrap();
    bytes
}

/// Parses a (possibly damaged) pickle the way the importer does, without the storages.
fn parse(bytes: &[u8]) -> anyhow::Result<usize> {
    let root = unpickle(bytes, &CheckpointGlobals)?;
    let state = root.get("model_state").ok_or_else(|| anyhow::anyhow!("no model_state"))?;
    let lift_analyze::pickle::Value::Dict(pairs) = state else { anyhow::bail!("not a dict") };
    pairs.iter().try_fold(0usize, |n, (_, t)| n.checked_add(tensor_ref(t)?.numel()).ok_or_else(|| anyhow::anyhow!("overflow")))
}

#[test]
fn damaged_checkpoints_are_errors_never_panics() {
    let pkl = data_pkl(&fixture("lift.pth"));
    assert_eq!(parse(&pkl).unwrap(), 234_686, "the intact pickle holds every parameter");
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let (mut flips_caught, mut truncations_parsed) = (0, 0);
    for k in 0..3000 {
        let mut b = pkl.clone();
        let truncated = k % 10 == 0;
        if truncated {
            b.truncate(rng.random_range(0..pkl.len()));
        } else {
            for _ in 0..rng.random_range(1..4) {
                let at = rng.random_range(0..b.len());
                b[at] ^= 1 << rng.random_range(0..8);
            }
        }
        // Nothing may panic; a pickle cut anywhere before its STOP cannot be whole.
        match (parse(&b), truncated) {
            (Ok(_), true) => truncations_parsed += 1,
            (Err(_), false) => flips_caught += 1,
            _ => {}
        }
    }
    assert_eq!(truncations_parsed, 0, "a truncated pickle parsed");
    // A flip inside a name or a number may leave a valid pickle; most flips hit structure.
    assert!(flips_caught > 1000, "only {flips_caught} of 2,700 bit flips were errors");
    // The whole file: truncated or with a damaged zip directory, the importer reports an error.
    let bytes = std::fs::read(fixture("lift.pth")).unwrap();
    let dir = scratch("damaged");
    std::fs::create_dir_all(&dir).unwrap();
    for k in 0..24 {
        let mut b = bytes.clone();
        if k % 2 == 0 {
            b.truncate(bytes.len() * k / 24);
        } else {
            let at = bytes.len() - 1 - rng.random_range(0..4096);
            b[at] ^= 0xff;
        }
        let path = dir.join(format!("damaged-{k}.pth"));
        std::fs::File::create(&path).unwrap().write_all(&b).unwrap();
        // A flip may hit padding the reader never looks at; what it must never do is panic.
        if let Err(e) = read_checkpoint(&path) {
            assert!(format!("{e:#}").contains(&format!("damaged-{k}.pth")), "{e:#}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
