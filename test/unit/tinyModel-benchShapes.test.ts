// The generator options the GPU benchmark uses (bench/gpu/shapes.ts): Qwen2's architecture with its q/k/v biases,
// tied embeddings, and a vocabulary padded to the published matrix size with unused tokens.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kvNumber, kvString, readGguf } from "../../sidecar/src/gguf";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { BENCH_SHAPES, dryRunShape, flopsPerToken, matmulParams } from "../../bench/gpu/shapes";

const dir = mkdtempSync(join(tmpdir(), "tiny-bench-shape-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const small = { nLayer: 2, nEmbd: 256, nHead: 2, nHeadKv: 1, nFf: 256 };

test("qwen2 models get qwen2 keys and q/k/v biases; tied embeddings drop output.weight", () => {
    const info = makeTinyModel({ out: join(dir, "q.gguf"), shape: small, arch: "qwen2", tiedEmbeddings: true });
    const f = readGguf(info.path);
    assert.equal(kvString(f, "general.architecture"), "qwen2");
    assert.equal(kvNumber(f, "qwen2.block_count"), 2);
    const names = new Set(f.tensors.map((t) => t.name));
    for (const b of ["attn_q.bias", "attn_k.bias", "attn_v.bias"]) assert.ok(names.has(`blk.1.${b}`), b);
    assert.ok(!names.has("output.weight"));
    const counted = f.tensors.reduce((n, t) => n + t.dims.reduce((a, d) => a * Number(d), 1), 0);
    assert.equal(info.nParams, counted, "nParams counts the tensors written");
});

test("vocabSize pads the tokenizer with unused tokens and sizes the matrices", () => {
    const base = makeTinyModel({ out: join(dir, "a.gguf"), shape: small });
    const info = makeTinyModel({ out: join(dir, "p.gguf"), shape: small, vocabSize: base.nVocab + 36 });
    assert.equal(info.nVocab, base.nVocab + 36);
    const f = readGguf(info.path);
    const tokens = f.kv.get("tokenizer.ggml.tokens");
    const types = f.kv.get("tokenizer.ggml.token_type");
    assert.ok(tokens?.type === "array" && types?.type === "array");
    assert.equal(tokens.value.length, info.nVocab);
    assert.equal(types.value.length, info.nVocab);
    assert.equal(tokens.value[info.nVocab - 1], `[PAD${info.nVocab - 1}]`);
    assert.deepEqual(f.tensors.find((t) => t.name === "token_embd.weight")?.dims.map(Number), [256, info.nVocab]);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: small, vocabSize: 10 }), /vocabSize 10 must be an integer >= the 32064 tokens/);
});

test("benchmark shapes count matmul parameters and FLOPs as documented", () => {
    const llama = BENCH_SHAPES["llama-3.2-1b"]!;
    // Llama-3.2-1B: 1.236e9 parameters, of which 262.7M are the (tied) embedding, counted once as the LM head
    assert.equal(matmulParams(llama), 16 * (2 * 2048 * 2048 + 2 * 2048 * 512 + 3 * 2048 * 8192) + 128256 * 2048);
    assert.ok(Math.abs(matmulParams(llama) / 1.2358e9 - 1) < 0.01);
    assert.equal(flopsPerToken(llama, 512), 4 * matmulParams(llama) + 12 * 16 * 2048 * 512);
    assert.equal(dryRunShape(llama).shape.nLayer, 1);
});
