#!/usr/bin/env bash
# GPU check and benchmark, for a machine with an NVIDIA GPU, PyTorch 2.x and no Rust toolchain.
#
# Build here (needs the workspace's Rust toolchain), carry the binary, run there:
#   cargo build --release -p xtask --features cuda && mkdir -p target-gpu \
#     && cp target/release/xtask target-gpu/ && strip target-gpu/xtask
#   # on the GPU machine, from the repository root (configs/ and bench/ must be there):
#   bench/gpu.sh target-gpu/xtask [OUT_DIR]
#
# It runs, in this order and within about 8 minutes on an H100:
#   1. the cross-backend check: the tiny LIFT model's forward, one training step's loss and
#      gradient norm, one Hutchinson estimate on CUDA against the CPU (flex), within 1e-4;
#   2. the paper model (58.5M parameters): training step at batch 64, one heatmap cell
#      (16 images × 4 probes), sampling 256 images × 19 evaluations — Burn and PyTorch in the same
#      run, with their ratio;
#   3. the fraction of the card's dense bf16 peak the training step reaches (57 GFLOP per image).
set -uo pipefail
BIN=${1:?usage: bench/gpu.sh path/to/xtask [out_dir]}
OUT=${2:-${OUT:-gpu-results}}
mkdir -p "$OUT"
log() { echo "== $*" | tee -a "$OUT/gpu.log"; }

log "$(date -u) $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 | tee -a "$OUT/gpu.log"
# Burn 0.21's cuda backend loads libcuda and NVRTC at run time: say where they are.
ldconfig -p 2>/dev/null | grep -E 'libcuda\.so|libnvrtc' | tee -a "$OUT/gpu.log"
ls /usr/local/cuda*/lib64/libnvrtc* 2>/dev/null | tee -a "$OUT/gpu.log"

log "1. cross-backend check (tiny model, CUDA vs flex)"
timeout 180 "$BIN" cross-check --device cuda 2>&1 | tee "$OUT/cross-check.txt"
check=${PIPESTATUS[0]}

log "2a. paper model: training step at batch 64 and one heatmap cell"
timeout 240 "$BIN" bench --device cuda --configs paper --batch 64 --iters 5 \
    --only train-step/lift,train-step/baseline,heatmap-cell --json "$OUT/bench-train.json" 2>&1 | tee "$OUT/bench-train.txt"
log "2b. paper model: sampling 256 images x 19 evaluations"
timeout 180 "$BIN" bench --device cuda --configs paper --batch 256 --iters 3 \
    --only sample/lift,sample/baseline --json "$OUT/bench-sample.json" 2>&1 | tee "$OUT/bench-sample.txt"

log "3. fraction of dense bf16 peak reached by the training step (57 GFLOP per image)"
python3 - "$OUT/bench-train.json" <<'PY' 2>&1 | tee -a "$OUT/gpu.log"
import json, subprocess, sys
name = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
peak = 989e12 if "H100" in name and "PCIe" not in name else 756e12 if "H100" in name else 989e12 if "H200" in name else None
for row in json.load(open(sys.argv[1])):
    if row["workload"].startswith("train-step"):
        for who in ("burn", "torch"):
            v = row.get(who)
            if v:
                print(f'{row["workload"]:<22} {who:<5} {v:8.1f} img/s  {v * 57e9 / 1e12:7.1f} TFLOP/s'
                      + (f'  {100 * v * 57e9 / peak:5.2f}% of {name} bf16 peak' if peak else ''))
PY
log "done (cross-check exit status $check)"
exit "$check"
