#!/usr/bin/env bash
# Builds with warnings as errors and runs every test, then the ASan/UBSan run and a bounded fuzz.
#   scripts/test.sh            everything (what CI runs)
#   FUZZ_SECONDS=10 scripts/test.sh   shorter fuzzing
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/setup.sh

echo "== release build (warnings as errors) + tests"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$jobs"
ctest --preset ci -j "$jobs"

echo "== ASan + UBSan build + tests"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan -j "$jobs"

echo "== GPU builds (compile only)"
scripts/gpu_build_check.sh

echo "== fuzzing"
scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
echo "== all tests passed"
