#!/usr/bin/env bash
# Compile-checks ggml-cuda translation units of the patched llama.cpp with the local nvcc, without cuBLAS and without
# a CMake CUDA build (far too slow on a 2-core machine): `nvcc -arch=sm_90 -c` of each file named, against the
# synced tree of scripts/build-native.mjs (sidecar/native/build/llama.cpp). Objects go to a temp dir and are dropped.
#   bash sidecar/native/cuda-check/check.sh ggml/src/ggml-cuda/ggml-cuda.cu [more .cu files…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src="${LLAMA_CPP_DIR:-$here/../build/llama.cpp}"
nvcc="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
version_dir=$(dirname "$(find "$here/../build" -name ggml-version.h -print -quit 2>/dev/null || true)")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[[ -f $version_dir/ggml-version.h ]] || printf '#pragma once\n#define GGML_VERSION "check"\n#define GGML_COMMIT "check"\n' >"$tmp/ggml-version.h"
for f in "$@"; do
    echo "nvcc -arch=sm_90 -c $f"
    nice -n 15 "$nvcc" -std=c++17 -arch=sm_90 -O1 -c "$src/$f" -o "$tmp/out.o" \
        -I"$here" -I"$tmp" -I"$version_dir" -I"$src/ggml/include" -I"$src/ggml/src" -I"$src/ggml/src/ggml-cuda" \
        -DGGML_USE_CUDA -DGGML_CUDA_NO_VMM -DGGML_CUDA_NO_FA -DGGML_SCHED_MAX_COPIES=4 -D_GNU_SOURCE -D_XOPEN_SOURCE=600 \
        -use_fast_math -extended-lambda -Xcompiler -fPIC
done
echo "compile check passed: $*"
