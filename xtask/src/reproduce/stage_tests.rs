//! Tests of the stage runner and its cache: keys, reruns, code identity.

use super::*;
use std::cell::RefCell;

const ALL: &[Crate] = &[Crate::LiftCore, Crate::LiftTrain, Crate::LiftAnalyze, Crate::Xtask];

fn stage_list() -> Vec<StageSpec> {
    let s = |name, deps, code| StageSpec { name, nominal: 100.0, deps, code };
    vec![
        s("data", &[], &[Crate::Xtask]),
        s("train", &["data"], &[Crate::LiftCore, Crate::LiftTrain]),
        s("heatmap", &["train"], &[Crate::LiftCore, Crate::LiftAnalyze]),
        s("mse", &["train"], &[Crate::LiftCore, Crate::LiftAnalyze]),
        s("report", &["heatmap", "mse"], ALL),
    ]
}

fn code(tag: &str) -> CodeIdentity {
    CodeIdentity(ALL.iter().map(|c| (*c, tag.to_string())).collect())
}

/// Runs the plan; returns the stages that did work.
fn run(root: &Path, code: CodeIdentity, rerun: &[&str]) -> Vec<&'static str> {
    let rerun: Vec<String> = rerun.iter().map(|s| s.to_string()).collect();
    let forced = forced_stages(&stage_list(), &rerun).unwrap();
    let mut stages = Stages::new(root, stage_list(), code, forced, String::new());
    let ran = RefCell::new(Vec::new());
    for spec in stage_list() {
        stages
            .run(spec.name, json!({ "setting": 1 }), |_| {
                ran.borrow_mut().push(spec.name);
                Ok(Outputs { summary: json!(spec.name), files: vec![] })
            })
            .unwrap();
    }
    ran.into_inner()
}

#[test]
fn a_new_code_identity_reruns_every_stage_and_the_same_one_none() {
    let root = std::env::temp_dir().join(format!("lift-stages-code-{}", std::process::id()));
    let all: Vec<&str> = stage_list().iter().map(|s| s.name).collect();
    assert_eq!(run(&root, code("a"), &[]), all);
    assert!(run(&root, code("a"), &[]).is_empty());
    assert_eq!(run(&root, code("b"), &[]), all, "nothing but the code identity changed");
    // Changing only the analysis crate reruns the analysis and what reads it, not the training.
    let mut c = code("b");
    c.0.insert(Crate::LiftAnalyze, "c".into());
    assert_eq!(run(&root, c, &[]), ["heatmap", "mse", "report"]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn rerun_forces_a_stage_and_its_dependents_only() {
    let root = std::env::temp_dir().join(format!("lift-stages-rerun-{}", std::process::id()));
    run(&root, code("a"), &[]);
    assert_eq!(run(&root, code("a"), &["heatmap"]), ["heatmap", "report"]);
    assert_eq!(run(&root, code("a"), &["train"]), ["train", "heatmap", "mse", "report"]);
    assert_eq!(run(&root, code("a"), &["all"]).len(), 5);
    assert!(forced_stages(&stage_list(), &["nope".into()]).unwrap_err().to_string().contains("unknown stage 'nope'"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn independent_stages_run_at_once_and_are_cached_like_serial_ones() {
    let root = std::env::temp_dir().join(format!("lift-stages-parallel-{}", std::process::id()));
    let stage_list = || {
        let s = |name, deps| StageSpec { name, nominal: 1.0, deps, code: &[] };
        vec![s("data", &[]), s("a", &["data"]), s("b", &["data"]), s("c", &["a", "b"])]
    };
    let go = |expect_work: bool| {
        let mut stages = Stages::new(&root, stage_list(), code("x"), BTreeSet::new(), String::new());
        stages.run("data", Value::Null, |_| Ok(Outputs { summary: json!(1), files: vec![] })).unwrap();
        let both = std::sync::Barrier::new(2);
        let job = |name: &'static str| -> Job<'_> {
            let both = &both;
            (
                name,
                Value::Null,
                Box::new(move |_| {
                    both.wait(); // both stages must be running at the same time to get past here
                    Ok(Outputs { summary: json!(name), files: vec![] })
                }),
            )
        };
        if expect_work {
            stages.run_parallel(vec![job("a"), job("b")]).unwrap();
        } else {
            stages
                .run_parallel(vec![
                    ("a", Value::Null, Box::new(|_: &Path| -> Result<Outputs> { panic!("a is up to date") })),
                    ("b", Value::Null, Box::new(|_: &Path| -> Result<Outputs> { panic!("b is up to date") })),
                ])
                .unwrap();
        }
        stages.run("c", Value::Null, |_| Ok(Outputs { summary: json!(3), files: vec![] })).unwrap();
        stages.manifests.iter().map(|m| m.stage.clone()).collect::<Vec<_>>()
    };
    assert_eq!(go(true), ["data", "a", "b", "c"]);
    assert_eq!(go(false), ["data", "a", "b", "c"]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn instant_setup_stages_leave_the_estimate_at_its_nominal_value() {
    let root = std::env::temp_dir().join(format!("lift-stages-{}", std::process::id()));
    let plan = vec![StageSpec { name: "data", nominal: 10.0, deps: &[], code: &[] }, StageSpec { name: "train", nominal: 600.0, deps: &["data"], code: &[] }];
    let mut stages = Stages::new(&root, plan, code("a"), BTreeSet::new(), String::new());
    stages.run("data", Value::Null, |_| Ok(Outputs { summary: Value::Null, files: vec![] })).unwrap();
    let left = stages.remaining_estimate(stages.index);
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(left, 600.0);
}

#[test]
fn durations_round_once() {
    assert_eq!(minutes(119.7), "2 min 00 s");
    assert_eq!(minutes(61.2), "1 min 01 s");
    assert_eq!(minutes(-0.2), "0 s");
    assert_eq!(minutes(59.4), "59 s");
}
