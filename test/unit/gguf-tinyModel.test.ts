// The tiny-model generator: same options → same bytes, a complete llama header that node-llama-cpp's
// loader needs, the real tokenizer and chat template, and clear errors for impossible shapes.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, kvNumber, kvString, readGguf, readTensorF32 } from "../../sidecar/src/gguf";
import { bundledTemplatePath } from "../../sidecar/src/tinyModel/bundleAssets";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";

const dir = mkdtempSync(join(tmpdir(), "tiny-model-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const small = { nLayer: 1, nEmbd: 256, nHead: 2, nHeadKv: 1, nFf: 256 };
const sha = (p: string): string => createHash("sha256").update(readFileSync(p)).digest("hex");

test("the same seed gives the same file; another seed gives other weights", () => {
    const a = makeTinyModel({ out: join(dir, "a.gguf"), seed: 7, shape: small }).path;
    const b = makeTinyModel({ out: join(dir, "b.gguf"), seed: 7, shape: small }).path;
    const c = makeTinyModel({ out: join(dir, "c.gguf"), seed: 8, shape: small }).path;
    assert.equal(sha(a), sha(b));
    assert.notEqual(sha(a), sha(c));
});

test("the model is a complete llama GGUF with the phi-3 tokenizer and the Phi-3.5 chat template", () => {
    const info = makeTinyModel({ out: join(dir, "m.gguf"), shape: small });
    const f = readGguf(info.path);
    assert.equal(kvString(f, "general.architecture"), "llama");
    assert.equal(kvNumber(f, "llama.block_count"), 1);
    assert.equal(kvNumber(f, "llama.attention.head_count_kv"), 1);
    assert.equal(kvNumber(f, "llama.rope.dimension_count"), 128);
    assert.equal(kvString(f, "tokenizer.ggml.model"), "llama");
    assert.equal(kvString(f, "tokenizer.chat_template"), readFileSync(bundledTemplatePath("microsoft-Phi-3.5-mini-instruct"), "utf8"));
    assert.equal(info.nVocab, 32064);
    const names = f.tensors.map((t) => t.name);
    assert.deepEqual(names.filter((n) => n.startsWith("blk.0.")).sort(), [
        "attn_k", "attn_norm", "attn_output", "attn_q", "attn_v", "ffn_down", "ffn_gate", "ffn_norm", "ffn_up"
    ].map((n) => `blk.0.${n}.weight`));
    assert.deepEqual(f.tensors.find((t) => t.name === "blk.0.attn_k.weight")?.dims, [256, 128]);
    const w = readTensorF32(f, "blk.0.ffn_up.weight");
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    assert.ok(Math.abs(mean) < 1e-3 && Math.abs(std - 0.02) < 1e-3, `N(0, 0.02²) weights: mean ${mean}, std ${std}`);
    assert.deepEqual([...readTensorF32(f, "output_norm.weight")].every((v) => v === 1), true);
});

test("the Q4_0 variant stores 2-D weights as Q4_0 and norms as F32", () => {
    const f = readGguf(makeTinyModel({ out: join(dir, "q.gguf"), shape: small, quant: "q4_0" }).path);
    assert.equal(kvNumber(f, "general.file_type"), 2);
    for (const t of f.tensors) assert.equal(t.type, t.dims.length === 1 ? GgmlType.F32 : GgmlType.Q4_0, t.name);
});

test("impossible shapes are refused with the offending field named", () => {
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: { nEmbd: 258 } }), /nEmbd 258 is not divisible by nHead 4/);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: { nHeadKv: 3 } }), /nHead 4 is not divisible by nHeadKv 3/);
    assert.throws(() => makeTinyModel({ out: join(dir, "x.gguf"), shape: { nLayer: 0 } }), /nLayer must be a positive number/);
});
