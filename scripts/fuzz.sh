#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 60) on its committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
shopt -s nullglob
for fuzzer in build/fuzz/fuzz/fuzz_*; do
    [ -x "$fuzzer" ] || continue
    name=$(basename "$fuzzer")
    seeds="fuzz/corpus/${name#fuzz_}"
    work="build/fuzz/corpus-work/${name#fuzz_}"
    artifacts="build/fuzz/artifacts/${name#fuzz_}/"
    mkdir -p "$work" "$artifacts"
    echo "fuzz: $name for ${seconds}s (seeds: $seeds)"
    "$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$artifacts" "$work" $( [ -d "$seeds" ] && echo "$seeds" ) 2>&1 | tail -n 12
done
