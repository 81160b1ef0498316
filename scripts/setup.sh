#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12 packages. Safe to run again.
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config git   # toolchain
    clang-14 libclang-rt-14-dev                         # libFuzzer + sanitizer runtimes
    libfmt-dev                                          # formatting (std::format is not in g++ 12)
    libcli11-dev                                        # command-line parsing
    nlohmann-json3-dev                                  # JSON: CLI output, HTTP bodies, templates
    libpcre2-dev                                        # Unicode regex for BPE pre-tokenizers
    libicu-dev                                          # Unicode normalization for WordPiece vocabularies
    libcpp-httplib-dev                                  # HTTP/1.1 server
    libgtest-dev libgmock-dev libbenchmark-dev          # tests and micro-benchmarks
    python3 python3-jinja2                              # reference renderings of chat templates
    hipcc libamdhip64-dev rocm-device-libs              # HIP compile check of the GPU backend
)

# The official `openai` npm package for the server's client test, where node and npm exist (the
# test skips with a message otherwise).
install_openai_client() {
    local d
    d="$(dirname "$0")/../tests/server/openai-client"
    [ -d "$d/node_modules/openai" ] && return 0
    command -v npm >/dev/null || { echo "setup: npm not found; the OpenAI client test will skip"; return 0; }
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error) ||
        echo "setup: npm ci failed in $d; the OpenAI client test will skip"
}

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
else
    echo "setup: installing ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
install_openai_client
