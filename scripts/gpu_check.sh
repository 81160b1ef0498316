#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds the `cuda` preset, runs the GPU tests and the GPU
# micro-benchmarks. Logs go to LOG_DIR (default build/cuda/logs).
#   scripts/gpu_check.sh [targets...]      (default: gpu_tests gpu_matvec_bench rocmforge)
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
exit $status
