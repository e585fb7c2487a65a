#!/usr/bin/env bash
# The paper preset's evaluation on a Slurm cluster, as array jobs of `--shard I/N` parts.
#
#   bench/slurm-paper-eval.sh            # submits heatmaps → paths → samples → merge + FID
#
# Needs the two trained runs of `cargo xtask reproduce --preset paper` (or of lift-train /
# import-torch) and a release build with CUDA (`cargo build --release -p lift-analyze --features
# cuda`) on a shared file system. Every array task computes its part on its own GPU and writes a
# part file; the last job checks that no part is missing or doubled (`lift-analyze merge`) and
# computes FID from the merged sample folders (from their 16-bit PNGs, where the study's
# `evaluate` takes features from the sampler's floats).
set -euo pipefail
PARTS=${PARTS:-8}                       # array tasks per stage (GPUs used at once)
SEEDS=${SEEDS:-"0 1 2 3 4"}
IMAGES=${IMAGES:-15803}                 # the original's sample count per set
STUDY=${STUDY:-artifacts/paper}
LIFT=$STUDY/train-lift/lift
BASE=$STUDY/train-baseline/baseline
DATA=${DATA:-artifacts/data/emoji-google-64}
OUT=${OUT:-$STUDY/slurm}
BIN=${BIN:-target/release/lift-analyze}
DEVICE=${DEVICE:-cuda}
ARRAY="--array=0-$((PARTS - 1)) --gres=gpu:1 --parsable"
I='$SLURM_ARRAY_TASK_ID'
# The PARTS part files of one job: NAME with @ standing for the part's index.
parts() { for ((k = 0; k < PARTS; k++)); do printf '%s ' "${1//@/$k}"; done; }

heatmaps=""
for s in $SEEDS; do
  heatmaps+="$BIN heatmap --run $LIFT --data $DATA --seed $s --device $DEVICE --shard $I/$PARTS --out $OUT/heatmap-$s.json; "
done
h=$(sbatch $ARRAY --job-name=lift-heatmap --wrap "$heatmaps")

paths=""
for s in $SEEDS; do
  paths+="$BIN merge $(parts "$OUT/heatmap-$s.json.part-@-of-$PARTS") && "
  for strategy in dp-64 dp-total; do
    paths+="$BIN dp --heatmap $OUT/heatmap-$s.json --strategy $strategy --steps 18 --out $OUT/paths/$s/$strategy-reference.json && "
    paths+="$BIN dp --heatmap $OUT/heatmap-$s.json --strategy $strategy --steps 17 --out $OUT/paths/$s/$strategy-fair.json && "
  done
done
p=$(sbatch --dependency=afterok:$h --job-name=lift-paths --wrap "${paths}true")

samples=""
for s in $SEEDS; do
  for protocol in reference fair; do
    common="--num-images $IMAGES --seed $s --protocol $protocol --device $DEVICE --shard $I/$PARTS"
    samples+="$BIN generate --run $BASE --strategy baseline $common --out $OUT/samples/baseline-$protocol/$s; "
    samples+="$BIN generate --run $LIFT --strategy diagonal $common --out $OUT/samples/diagonal-$protocol/$s; "
    for strategy in dp-64 dp-total; do
      samples+="$BIN generate --run $LIFT --path $OUT/paths/$s/$strategy-$protocol.json $common --out $OUT/samples/$strategy-$protocol/$s; "
    done
  done
done
g=$(sbatch $ARRAY --dependency=afterok:$p --job-name=lift-samples --wrap "$samples")

fid=""
for dir in baseline diagonal dp-64 dp-total; do
  for protocol in reference fair; do
    for s in $SEEDS; do
      d=$OUT/samples/$dir-$protocol/$s
      fid+="$BIN merge $(parts "$d/generation.part-@-of-$PARTS.json") && "
      fid+="echo $dir-$protocol seed $s && $BIN fid --real $DATA --fake $d --device $DEVICE && "
    done
  done
done
sbatch --dependency=afterok:$g --gres=gpu:1 --job-name=lift-fid --output=$OUT/fid-%j.txt --wrap "${fid}true"
echo "submitted: heatmaps $h, paths $p, samples $g; FID lands in $OUT/fid-*.txt"
