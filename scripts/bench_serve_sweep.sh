#!/usr/bin/env bash
# Runs `rocmforge bench-serve` against one OpenAI-compatible server (rocmforge serve,
# llama-server, vLLM, ...) at several stream counts and prints one markdown table: aggregate
# generated tokens/s (completed requests, and all streamed tokens) and p50/p99 of TTFT,
# inter-token latency (gaps between streamed chunks) and TPOT (a request's time per token after
# the first) per stream count, then the first failure of each stream count that had one.
# It builds and downloads nothing: it uses the rocmforge binary it is given or finds.
#
#   scripts/bench_serve_sweep.sh --url http://127.0.0.1:8080 [--streams "1 8 32 64"]
#       [--requests-per-stream 4] [--max-tokens 128] [--prompt-len 128] [--model NAME]
#       [--api-key KEY] [--chat] [--bin path/to/rocmforge] [--label TEXT]
set -euo pipefail

url=""
streams="1 8 32 64"
per_stream=4
max_tokens=128
prompt_len=128
model="default"
api_key=""
chat=""
label=""
bin="${ROCMFORGE_BIN:-}"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --url) url="$2"; shift 2 ;;
        --streams) streams="$2"; shift 2 ;;
        --requests-per-stream) per_stream="$2"; shift 2 ;;
        --max-tokens) max_tokens="$2"; shift 2 ;;
        --prompt-len) prompt_len="$2"; shift 2 ;;
        --model) model="$2"; shift 2 ;;
        --api-key) api_key="$2"; shift 2 ;;
        --chat) chat="--chat"; shift ;;
        --bin) bin="$2"; shift 2 ;;
        --label) label="$2"; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "bench_serve_sweep: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ -n "$url" ]] || { echo "bench_serve_sweep: --url is required" >&2; usage; }

if [[ -z "$bin" ]]; then
    root="$(cd "$(dirname "$0")/.." && pwd)"
    for candidate in "$root"/build/release/apps/rocmforge/rocmforge "$root"/build/*/apps/rocmforge/rocmforge; do
        if [[ -x "$candidate" ]]; then bin="$candidate"; break; fi
    done
    [[ -n "$bin" ]] || bin="$(command -v rocmforge || true)"
fi
[[ -n "$bin" && -x "$bin" ]] || { echo "bench_serve_sweep: no rocmforge binary (pass --bin)" >&2; exit 2; }
command -v python3 > /dev/null || { echo "bench_serve_sweep: python3 is needed to format the table" >&2; exit 2; }

key_args=()
[[ -n "$api_key" ]] && key_args=(--api-key "$api_key")

reports=()
status=0
for c in $streams; do
    n=$((c * per_stream))
    echo "bench_serve_sweep: $c streams, $n requests ..." >&2
    if ! out="$("$bin" -q bench-serve --url "$url" -c "$c" -n "$n" --max-tokens "$max_tokens" \
                 --prompt-len "$prompt_len" --model "$model" ${chat:+"$chat"} \
                 ${key_args[@]+"${key_args[@]}"} --json)"; then
        status=1  # some requests failed; the row still shows how many
    fi
    reports+=("$out")
done

printf '%s\n' "${reports[@]}" | python3 -c '
import json, sys
label, url, max_tokens, prompt_len = sys.argv[1:5]
text = sys.stdin.read()
decoder, pos, rows = json.JSONDecoder(), 0, []
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    obj, pos = decoder.raw_decode(text, pos)
    rows.append(obj)
title = label or url
print(f"bench-serve against {title}: max_tokens {max_tokens}, prompt ~{prompt_len} words\n")
print("| streams | requests ok / failed | generated tokens/s | streamed tokens/s (all requests) "
      "| TTFT p50 (ms) | TTFT p99 (ms) | ITL p50 (ms) | ITL p99 (ms) | TPOT p50 (ms) | TPOT p99 (ms) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    t, i, o = r["ttft_ms"], r["itl_ms"], r["tpot_ms"]
    cells = [str(r["concurrency"]), "%d / %d" % (r["succeeded"], r["failed"]),
             "%.1f" % r["generated_tokens_per_second"], "%.1f" % r.get("streamed_tokens_per_second", 0.0),
             "%.1f" % t["p50"], "%.1f" % t["p99"],
             "%.2f" % i["p50"], "%.2f" % i["p99"], "%.2f" % o["p50"], "%.2f" % o["p99"]]
    print("| " + " | ".join(cells) + " |")
for r in rows:
    if r.get("first_error"):
        print("\n%d streams, first failure: %s" % (r["concurrency"], r["first_error"]))
' "$label" "$url" "$max_tokens" "$prompt_len"
exit "$status"
