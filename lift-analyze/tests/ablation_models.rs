//! The single-output ablation models (`single_t`, `no_t`) against a PyTorch re-implementation
//! written from the spec (`bench/torch_checkpoint_reference.py` through
//! `bench/ablation_models_check.py`): our weights, under the original's key names, load strictly into
//! it and its float64 forward pass gives our outputs; its parameter counts at the paper's widths
//! equal ours. Skipped without python3-torch unless LIFT_REQUIRE_TORCH is set (CI).

use std::path::Path;

use burn::backend::Flex;
use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use lift_analyze::npz::{write_npz, NpyArray};
use lift_analyze::torch_import::keys::StateDictCollector;
use lift_core::model::init::seeded_module;
use lift_core::model::SingleOutputUNet;
use lift_core::seed::seeded_tensor;
use lift_core::{LiftConfig, ModelConfig};

mod common;

fn check(args: &[&str]) -> String {
    common::run_bench_script("ablation_models_check.py", args)
}

fn full_config(file: &str) -> LiftConfig {
    LiftConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs").join(file)).unwrap()
}

fn config(file: &str) -> ModelConfig {
    full_config(file).model
}

fn values(t: Tensor<Flex, 4>) -> (Vec<usize>, Vec<f64>) {
    (t.dims().to_vec(), t.into_data().to_vec::<f32>().unwrap().into_iter().map(f64::from).collect())
}

#[test]
fn single_output_models_match_pytorch_built_from_the_spec() {
    if common::torch_python().is_none() {
        return;
    }
    let mut c = config("tiny.toml");
    (c.dims, c.attention_min_channels, c.resolution) = (vec![8, 16], 16, 16);
    let dev = Default::default();
    let dir = tempfile::tempdir().unwrap();
    for (kind, timed) in [("single-t", true), ("no-t", false)] {
        let model = seeded_module(SingleOutputUNet::<Flex>::new(&c, timed, &dev), 7);
        let mut state = StateDictCollector::default();
        model.visit(&mut state);
        assert!(state.errors.is_empty(), "{:?}", state.errors);
        let x64 = seeded_tensor::<Flex, 4>([2, 3, 16, 16], Distribution::Normal(0.0, 1.0), 1, &dev);
        let x32 = seeded_tensor::<Flex, 4>([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), 2, &dev);
        let t64 = Tensor::<Flex, 1>::from_floats([17.0, 640.0], &dev);
        let out = model.forward(x64.clone(), x32.clone(), t64.clone());
        let mut arrays: Vec<(String, NpyArray)> =
            state.tensors.iter().map(|(k, t)| (k.clone(), NpyArray::f64(t.shape.clone(), t.data.iter().map(|v| *v as f64).collect()))).collect();
        for (name, t) in [("input.x64", x64), ("input.x32", x32), ("output", out)] {
            let (shape, v) = values(t);
            arrays.push((name.into(), NpyArray::f64(shape, v)));
        }
        arrays.push(("input.t64".into(), NpyArray::f64(vec![2], vec![17.0, 640.0])));
        let file = dir.path().join(format!("{kind}.npz"));
        write_npz(&file, &arrays.iter().map(|(k, a)| (k.as_str(), a.clone())).collect::<Vec<_>>()).unwrap();
        let text = check(&["forward", kind, "8,16", &c.time_embed_dim.to_string(), &c.time_dim.to_string(), "16", file.to_str().unwrap()]);
        let field = |name: &str| text.split_whitespace().skip_while(|w| *w != name).nth(1).unwrap_or_else(|| panic!("{text}")).to_string();
        let diff: f64 = field("max_abs_diff").parse().unwrap();
        assert!(diff < 1e-5, "{kind}: {text}");
        assert_eq!(field("params").parse::<usize>().unwrap(), model.num_params(), "{kind}");
    }
    // The paper's widths: counted by PyTorch from the spec's definitions, not by our code.
    let paper = config("paper.toml");
    let text = check(&["params"]);
    let inspected = lift_analyze::inspect::render(&lift_analyze::inspect::inspect(&full_config("paper.toml")));
    for (kind, timed, label) in [("single-t", true, "single_t ablation"), ("no-t", false, "no_t ablation")] {
        let theirs: usize = text.lines().find_map(|l| l.strip_prefix(&format!("{kind} "))).unwrap_or_else(|| panic!("{text}")).trim().parse().unwrap();
        assert_eq!(SingleOutputUNet::<Flex>::new(&paper, timed, &dev).num_params(), theirs, "{kind} at the paper's widths");
        // `inspect` lists the same count.
        let line = inspected.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{inspected}"));
        assert!(line.ends_with(&lift_analyze::inspect::group_thousands(theirs)), "{line}");
    }
}
