#!/usr/bin/env bash
# Builds lora_matmul.c against the ggml that node-llama-cpp ships (headers from the llama.cpp bundle that
# scripts/build-native.mjs extracts) and runs it: the per-op cost of a LoRA at prompt time, by width.
#   bash bench/lora-matmul/run.sh [rank] [tokens] [widths...]     (default: 16 256 256 512 1024 2048 4096)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
libs="$root/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
include="$root/sidecar/native/build/llama.cpp/ggml/include"
[[ -d "$libs" ]] || { echo "lora-matmul: $libs is missing; run npm ci (node-llama-cpp's CPU prebuilt)" >&2; exit 1; }
[[ -f "$include/ggml.h" ]] || { echo "lora-matmul: $include/ggml.h is missing; run node scripts/build-native.mjs first" >&2; exit 1; }
out="$root/.cache/bench/lora-matmul"
mkdir -p "$(dirname "$out")"
cc -O2 -std=gnu11 -Wall -Wextra "$root/bench/lora-matmul/lora_matmul.c" -I"$include" -L"$libs" \
    -l:libggml.v0.5.0.so -l:libggml-base.so -Wl,-rpath,"$libs" -o "$out"
rank="${1:-16}"; tokens="${2:-256}"; shift $(( $# > 2 ? 2 : $# ))
widths=("$@"); [[ ${#widths[@]} -gt 0 ]] || widths=(256 512 1024 2048 4096)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) × $(nproc)"
"$out" "$libs" "$rank" "$tokens" "${widths[@]}" 2> >(grep -v '^load_backend' >&2)
