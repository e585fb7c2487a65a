//! The single-output ablation models in the analysis: their heatmap is the fine block alone (ε̂₆₄
//! over both noisy inputs), DP-64 and the diagonal are their strategies, and they sample along a
//! path with the coarse input rebuilt, deterministically per seed whatever the batch.

use std::path::Path;

use lift_analyze::generate::{GenerateJob, PngBits};
use lift_analyze::heatmap::{Heatmap, HeatmapJob};
use lift_analyze::jacobian::Estimator;
use lift_analyze::paths::{find_path, PathRequest};
use lift_core::chain_rule::ChainRule;
use lift_core::run::Weights;
use lift_core::{run_on, DeviceSpec, ModelKind, NoiseSchedule, Shard, Strategy, TimestepRule};

mod common;
use common::{fake_run, png_folder};

fn heatmap(run: &Path, data: &Path, out: &str, estimator: Estimator) -> Heatmap {
    let job = HeatmapJob {
        run: run.to_path_buf(),
        weights: Weights::Ema,
        epoch: None,
        out: run.join(out),
        grid: "t-linspace:3".parse().unwrap(),
        images: 4,
        probes: 8,
        seed: 4,
        data: data.to_path_buf(),
        estimator,
        max_batch: 64,
        shard: Shard::WHOLE,
    };
    run_on(DeviceSpec::Cpu, job).unwrap().unwrap().unwrap()
}

fn generate(run: &Path, strategy: Strategy, path: Option<&Path>, out: &Path, batch: usize) -> anyhow::Result<lift_analyze::generate::GenerateReport> {
    let job = GenerateJob {
        run: run.to_path_buf(),
        weights: Weights::Ema,
        epoch: None,
        strategy,
        path: path.map(Path::to_path_buf),
        num_images: 3,
        out: out.to_path_buf(),
        steps: 4,
        protocol: TimestepRule::Reference,
        batch,
        seed: 5,
        bits: PngBits::Sixteen,
        features: None,
        shard: Shard::WHOLE,
    };
    run_on(DeviceSpec::Cpu, job)?
}

#[test]
fn a_single_output_heatmap_is_the_fine_block_and_gives_dp_64_only() {
    let run = fake_run("ablation-heatmap", ModelKind::SingleT);
    let data = png_folder("ablation-heatmap", 8);
    let vjp = heatmap(&run, &data, "vjp.json", Estimator::Vjp);
    assert_eq!(vjp.meta.model, ModelKind::SingleT);
    let b = &vjp.blocks;
    assert!(b.lh.mean.iter().chain(&b.ll.mean).flatten().all(|v| *v == 0.0), "no coarse output, no LH or LL");
    // The other estimator, by finite differences of the forward pass, agrees within the
    // estimates' combined standard error (the two see the same points, not the same probes' norms).
    let fd = heatmap(&run, &data, "fd.json", Estimator::Fd);
    for (name, v, f) in [("HH", &b.hh, &fd.blocks.hh), ("HL", &b.hl, &fd.blocks.hl)] {
        let cells = |b: &lift_analyze::heatmap::Block| b.mean.iter().flatten().zip(b.se.iter().flatten()).map(|(m, s)| (*m, *s)).collect::<Vec<_>>();
        for ((a, sa), (c, sc)) in cells(v).into_iter().zip(cells(f)) {
            assert!(a > 0.0 && (a - c).abs() <= 3.0 * (sa * sa + sc * sc).sqrt(), "{name}: VJP {a} ± {sa}, finite differences {c} ± {sc}");
        }
    }
    let schedule = NoiseSchedule::reference();
    let request = |strategy| PathRequest { strategy, chain_rule: ChainRule::Sl, steps: 3, max_jump: 2 };
    let dp = find_path(&vjp, &run.join("vjp.json"), request(Strategy::Dp64), &schedule).unwrap();
    assert_eq!(dp.timesteps.len(), 4);
    // The model samples along its DP-64 path.
    let file = run.join("dp-64.json");
    lift_core::io::write_json(&file, &dp).unwrap();
    let report = generate(&run, Strategy::Dp64, Some(&file), &run.join("dp"), 3).unwrap();
    assert_eq!(report.timesteps, dp.sampling_path().timesteps);
    let e = find_path(&vjp, &run.join("vjp.json"), request(Strategy::DpTotal), &schedule).unwrap_err();
    assert!(format!("{e:#}").contains("single-t model"), "{e:#}");
}

#[test]
fn single_output_runs_sample_their_strategies_the_same_in_any_batch() {
    let run = fake_run("ablation-sample", ModelKind::NoT);
    let (a, b) = (run.join("a"), run.join("b"));
    let report = generate(&run, Strategy::Diagonal, None, &a, 3).unwrap();
    // The reference protocol's range(0, 1000, 1000 div 4) reversed, both scales at one t.
    assert_eq!(report.timesteps, [[750, 750], [500, 500], [250, 250], [0, 0]]);
    generate(&run, Strategy::Diagonal, None, &b, 2).unwrap();
    let bytes = |d: &Path| (0..3).map(|k| std::fs::read(d.join(format!("{k:06}.png"))).unwrap()).collect::<Vec<_>>();
    assert_eq!(bytes(&a), bytes(&b), "image k's noise, fresh coarse noise included, depends on (seed, k, step) only");
    let e = generate(&run, Strategy::DpTotal, None, &run.join("c"), 3).unwrap_err();
    assert!(format!("{e:#}").contains("samples lift models"), "{e:#}");
    let e = generate(&fake_run("ablation-base", ModelKind::Baseline), Strategy::Diagonal, None, &run.join("d"), 3).unwrap_err();
    assert!(format!("{e:#}").contains("lift, single-t, no-t"), "{e:#}");
}
