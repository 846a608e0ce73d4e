#!/usr/bin/env bash
# One visit to a GPU machine for issue 6: build the CUDA engine, run the GPU tests, benchmark the engine's LoRA
# training against HF transformers + PEFT bf16 LoRA on the same shapes, and summarize. Everything it prints goes to
# $OUT/run.log; results.jsonl (one JSON line per measurement) and summary.md sit beside it.
#
#   bash bench/gpu/run.sh              # on the GPU machine (the device `run` tool: see docs/cuda.md)
#   bash bench/gpu/run.sh --dry-run    # anywhere: CPU engine, tiny stand-in shapes, no torch/transformers needed
#
# Needs nvcc, CMake, python3 with torch, transformers and peft. Node.js, node_modules and the patched llama.cpp come
# from .cache/gpu-kit (bench/gpu/make-kit.sh) where the machine has none. The device allows 10 minutes per command,
# so the phases run in order of importance and each later one is skipped, saying so, once the time budget
# (LORA_STUDIO_GPU_BUDGET_S, default 560 s) would be overrun. Re-runs reuse the build cache and the GGUFs.
# Knobs: BENCH_SHAPES ("llama-3.2-1b qwen2.5-1.5b"), LORA_STUDIO_CUDA_ARCHS (native), HF_MICRO_BATCHES ("8 1").
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT="${OUT:-$ROOT/test-results/gpu-bench}"
WORK="${LORA_STUDIO_GPU_WORK:-$ROOT/.cache/gpu-bench}"
BUDGET_S="${LORA_STUDIO_GPU_BUDGET_S:-560}"
SHAPES="${BENCH_SHAPES:-llama-3.2-1b qwen2.5-1.5b}"
HF_MICRO_BATCHES="${HF_MICRO_BATCHES:-8 1}"
DRY=""
[[ "${1:-}" == "--dry-run" ]] && DRY="--dry-run"
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/run.log") 2>&1
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
START=$SECONDS
export PYTHONUNBUFFERED=1

phase() { echo; echo "=== [$((SECONDS - START)) s] $*"; }
# time_for NEEDED_S: true when the phase fits the remaining budget; otherwise says what is skipped
time_for() {
    if (( SECONDS - START + $1 > BUDGET_S )); then echo "SKIPPED (needs ~$1 s, $((BUDGET_S - SECONDS + START)) s of the budget left): $2"; return 1; fi
}

phase "environment"
[[ -d /usr/local/cuda/bin ]] && export PATH="$PATH:/usr/local/cuda/bin"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
command -v nvcc >/dev/null && nvcc --version | tail -1
python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)' 2>/dev/null \
    || echo "python3: torch/transformers/peft not all importable (fine for --dry-run)"

KIT="$ROOT/.cache/gpu-kit"
KIT_RT=/tmp/lora-studio-kit
if ! command -v node >/dev/null; then
    [[ -f $KIT/node.xz ]] || { echo "no Node.js and no $KIT/node.xz: run bench/gpu/make-kit.sh on a dev machine and carry .cache/gpu-kit"; exit 2; }
    mkdir -p "$KIT_RT/bin" "$KIT_RT/include"
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$KIT/node.xz" "$KIT_RT/bin/node"
    chmod +x "$KIT_RT/bin/node"
    cp -r "$KIT/include/node" "$KIT_RT/include/"
    export PATH="$KIT_RT/bin:$PATH"
fi
echo "node $(node --version)"
[[ -d node_modules/node-addon-api ]] || export LORA_STUDIO_NODE_ADDON_API="$KIT/node-addon-api"
if [[ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]]; then
    [[ -d $KIT_RT/llama.cpp ]] || python3 -c 'import tarfile, sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$KIT/llama.cpp.tar.xz" "$KIT_RT"
    export LORA_STUDIO_PATCHED_LLAMA_CPP="$KIT_RT/llama.cpp" LORA_STUDIO_LLAMA_CPP_SRC="$KIT_RT/llama.cpp"
fi
JS=out
[[ -f out/bench/gpu/engineBench.mjs ]] || JS="$KIT/out"

if [[ -z $DRY ]]; then
    phase "build the CUDA engine"
    export LORA_STUDIO_CUDA=1 LORA_STUDIO_BUILD_JOBS="$(nproc)" LORA_STUDIO_CUDA_ARCHS="${LORA_STUDIO_CUDA_ARCHS:-native}"
    if ! node scripts/build-native.mjs; then
        echo "the static CUDA runtime build failed; retrying with the CUDA runtime and cuBLAS linked dynamically"
        LORA_STUDIO_CUDA_STATIC=0 node scripts/build-native.mjs || { echo "CUDA build failed"; exit 1; }
    fi
    addon=sidecar/native/build/Release/lora_studio_engine.node
    if ldd "$addon" | grep -q "not found"; then
        # a dynamic build against pip's CUDA wheels: put their library folders on the loader path
        libs=$(python3 -c 'import glob, os, nvidia; print(":".join(sorted({os.path.dirname(p) for d in nvidia.__path__ for p in glob.glob(d + "/*/lib/lib*.so*")})))' 2>/dev/null)
        export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    ldd "$addon" | grep -E "cuda|cublas|not found" || echo "no CUDA library dependency besides the driver (static runtime)"
else
    phase "the CPU engine (dry run: built only if missing)"
    [[ -f sidecar/native/build/Release/lora_studio_engine.node ]] || node scripts/build-native.mjs || exit 1
fi

phase "GPU tests (0 CPU nodes per training step; GPU vs CPU gradients)"
node --test --test-reporter=spec "$JS/test/gpu/"*.test.mjs 2>&1 | tee "$OUT/gpu-tests.log"
echo "GPU tests exit code: ${PIPESTATUS[0]}"

phase "bf16 matmul peak (MFU denominator)"
python3 bench/gpu/hf_peft_baseline.py --peak-bf16 $DRY | tee -a "$RESULTS"

for shape in $SHAPES; do
    name="$shape"
    [[ -n $DRY ]] && name="$shape-dry-run"
    phase "engine: $shape, Q4_K_M base"
    if time_for 150 "engine benchmark of $shape"; then
        node "$JS/bench/gpu/engineBench.mjs" --shape "$shape" --work "$WORK" --base q4_k_m $DRY | tee -a "$RESULTS"
    fi
    for mb in $HF_MICRO_BATCHES; do
        phase "HF + PEFT bf16 LoRA: $shape, micro-batch $mb"
        if [[ -f $WORK/$name.shape.json ]] && time_for 90 "HF baseline of $shape at micro-batch $mb"; then
            python3 bench/gpu/hf_peft_baseline.py --shape-json "$WORK/$name.shape.json" --micro-batch "$mb" $DRY | tee -a "$RESULTS"
        fi
    done
done

phase "summary"
node "$JS/bench/gpu/report.mjs" "$RESULTS" | tee "$OUT/summary.md"
echo "done in $((SECONDS - START)) s"
