#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 60) on its committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake --preset fuzz >/dev/null
# Only the fuzz targets (and the libraries they use), not the whole tree.
targets=$(cmake --build build/fuzz --target help | sed -n 's/^\(fuzz_[a-z_]*\):.*/\1/p')
cmake --build build/fuzz -j "$(nproc)" --target $targets
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
