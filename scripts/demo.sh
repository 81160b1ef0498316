#!/usr/bin/env bash
# Installs dependencies, builds the release binary and generates text with the embedded default model.
#   scripts/demo.sh ["prompt"]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target rocmforge
prompt=${1:-"The old man said"}
exec build/release/apps/rocmforge/rocmforge generate -p "$prompt" -n 64
