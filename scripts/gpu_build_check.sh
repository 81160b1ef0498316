#!/usr/bin/env bash
# Compiles the GPU backend for NVIDIA (nvcc: sm_80 + sm_90) and AMD (HIP: gfx90a wave64 +
# gfx1030 wave32) with warnings as errors. Needs no GPU; a missing toolkit is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
targets=(rf_backend_gpu gpu_matvec_bench)
common=(-DRF_WERROR=ON -DRF_BUILD_TESTS=OFF -DRF_BUILD_BENCHMARKS=OFF)

if [ -x /usr/local/cuda/bin/nvcc ] || command -v nvcc >/dev/null; then
    echo "gpu-build: CUDA (sm_80, sm_90)"
    cmake --preset cuda "${common[@]}" >/dev/null
    cmake --build build/cuda -j "$jobs" --target "${targets[@]}"
else
    echo "gpu-build: SKIPPED CUDA: nvcc not found"
fi

if command -v clang++-15 >/dev/null && [ -f /usr/include/hip/hip_runtime.h ]; then
    echo "gpu-build: HIP (gfx90a, gfx1030)"
    cmake --preset hip "${common[@]}" >/dev/null
    cmake --build build/hip -j "$jobs" --target "${targets[@]}"
else
    echo "gpu-build: SKIPPED HIP: clang-15 or the HIP headers are missing (apt-get install hipcc libamdhip64-dev)"
fi
