#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds the `cuda` preset, runs the GPU tests and the GPU
# micro-benchmarks; with MODEL=file.gguf also the model benchmark, a per-op profile of decode and
# a hybrid run with half the layers on the CPU. Logs go to LOG_DIR (default build/cuda/logs).
#   [MODEL=m.gguf] scripts/gpu_check.sh [targets...]   (default: gpu_tests gpu_matvec_bench rocmforge)
set -euo pipefail
cd "$(dirname "$0")/.."
log=${LOG_DIR:-build/cuda/logs}
mkdir -p "$log"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gpu_tests gpu_matvec_bench rocmforge)

cmake --preset cuda -DRF_BUILD_BENCHMARKS=OFF ${CMAKE_ARGS:-} > "$log/configure.log" 2>&1 || { tail -30 "$log/configure.log"; exit 1; }
cmake --build build/cuda -j "$(nproc)" --target "${targets[@]}" > "$log/build.log" 2>&1 || { grep -E "error|FAILED" "$log/build.log" | head -40; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$log/device.txt" || true

status=0
echo "== GPU tests"
build/cuda/tests/backend/gpu/gpu_tests 2>&1 | tee "$log/gpu_tests.log" | tail -n 15 || status=1
echo "== mat-vec benchmark (decode, 1 token)"
build/cuda/benchmarks/gpu/gpu_matvec_bench 1 | tee "$log/matvec_bench_1.log"
echo "== mat-vec benchmark (8 tokens)"
build/cuda/benchmarks/gpu/gpu_matvec_bench 8 | tee "$log/matvec_bench_8.log"
if [ -n "${MODEL:-}" ]; then
    rf=build/cuda/apps/rocmforge/rocmforge
    echo "== $MODEL: pp512 / tg128 on the GPU"
    "$rf" bench -m "$MODEL" -p 512 -n 128 -r 3 --device gpu | tee "$log/bench.md"
    echo "== per-op profile of 32 decode steps (graphs off)"
    ROCMFORGE_GPU_PROFILE=1 "$rf" bench -m "$MODEL" -p 0 -n 32 -r 1 --device gpu 2>&1 |
        tee "$log/profile.txt" | sed -n '/GPU op profile/,$p' | head -30
    n_layer=$("$rf" inspect "$MODEL" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["hparams"]["block_count"])' 2>/dev/null || echo 0)
    if [ "$n_layer" -gt 1 ]; then
        echo "== hybrid: $((n_layer / 2)) of $n_layer layers on the GPU"
        "$rf" bench -m "$MODEL" -p 128 -n 32 -r 1 --device gpu --gpu-layers $((n_layer / 2)) | tee "$log/bench_hybrid.md"
    fi
fi
exit $status
