#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has nvcc, CMake, ninja and PyTorch but no Node.js, no
# node_modules, no git and no network, into .cache/gpu-kit/ (git-ignored; name it in the device run's `carry`):
#   node.xz                  this machine's Node.js binary (official builds need only glibc), xz-compressed
#   include/node/            the N-API headers the addon compiles against
#   node-addon-api/          node-addon-api's headers
#   llama.cpp.tar.xz         llama.cpp at the manifest's tag with the patch series applied (build-native.mjs checks
#                            its lora-studio-patches.json against the patches), plus the vocabularies and chat
#                            templates the benchmark's GGUFs use; no tools, tests or docs
#   out/                     the bundled GPU tests and benchmark (npm run build), which need no node_modules
# Run on a dev machine, in the repository, after `npm ci`:  bash bench/gpu/make-kit.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
KIT=.cache/gpu-kit
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

node_bin=$(readlink -f "$(command -v node)")
node_inc=$(dirname "$(dirname "$node_bin")")/include/node
bundle=node_modules/node-llama-cpp/llama/gitRelease.bundle
[[ -f $bundle ]] || { echo "make-kit: $bundle is missing; run npm ci first" >&2; exit 1; }
[[ -f $node_inc/node_api.h ]] || { echo "make-kit: N-API headers not found in $node_inc" >&2; exit 1; }

echo "make-kit: bundling the GPU tests and benchmark"
npm run --silent build >/dev/null

rm -rf "$KIT.tmp"
mkdir -p "$KIT.tmp/include/node" "$KIT.tmp/out/test/gpu" "$KIT.tmp/out/test/integration" "$KIT.tmp/out/bench"
echo "make-kit: compressing $node_bin"
xz -T2 -6 -c "$node_bin" >"$KIT.tmp/node.xz"
cp "$node_inc"/{node_api.h,node_api_types.h,js_native_api.h,js_native_api_types.h} "$KIT.tmp/include/node/"
cp -r node_modules/node-addon-api "$KIT.tmp/node-addon-api"
cp out/test/gpu/*.mjs "$KIT.tmp/out/test/gpu/"
cp out/test/integration/engine-backend-nodes.test.mjs "$KIT.tmp/out/test/integration/"
cp -r out/bench/gpu "$KIT.tmp/out/bench/gpu"

echo "make-kit: patching llama.cpp"
git -c advice.detachedHead=false clone --quiet "$bundle" "$STAGE/llama.cpp"
head=$(git bundle list-heads "$bundle" | head -1)
node -e '
    const { readFileSync, writeFileSync } = require("node:fs");
    const { createHash } = require("node:crypto");
    const [dir, out, head] = process.argv.slice(1);
    const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8"));
    const digest = createHash("sha256");
    for (const p of manifest.patches) digest.update(readFileSync(`${dir}/${p.file}`));
    writeFileSync(out, JSON.stringify({ patches: digest.digest("hex"), bundleHead: head, tag: manifest.llamaCpp.tag }, null, 4) + "\n");
    for (const p of manifest.patches) console.log(p.file);
' sidecar/native/patches "$STAGE/lora-studio-patches.json" "$head" >"$STAGE/order"
while read -r patch; do
    git -C "$STAGE/llama.cpp" apply --whitespace=nowarn "$PWD/sidecar/native/patches/$patch"
done <"$STAGE/order"
(
    cd "$STAGE/llama.cpp"
    rm -rf .git .github app benches ci conversion docs examples gguf-py grammars media pocs requirements scripts skills tests tools ./*.py
    find models -maxdepth 1 -type f ! -name 'ggml-vocab-phi-3.gguf' ! -name 'ggml-vocab-llama-bpe.gguf' ! -name 'ggml-vocab-qwen2.gguf' -delete
    find models -mindepth 1 -maxdepth 1 -type d ! -name templates -exec rm -rf {} +
    find models/templates -type f ! -name 'microsoft-Phi-3.5-mini-instruct.jinja' ! -name 'meta-llama-Llama-3.2-3B-Instruct.jinja' ! -name 'Qwen-Qwen2.5-7B-Instruct.jinja' -delete
)
mv "$STAGE/lora-studio-patches.json" "$STAGE/llama.cpp/"
tar -C "$STAGE" -cJf "$KIT.tmp/llama.cpp.tar.xz" llama.cpp

rm -rf "$KIT"
mv "$KIT.tmp" "$KIT"
du -sh "$KIT"
echo "make-kit: done; carry .cache/gpu-kit in the device run"
