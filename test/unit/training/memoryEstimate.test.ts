// The pre-flight memory check: the shape comes from a real GGUF header, the estimate grows the way the engine's
// buffers do, and a run that does not fit is shrunk (same tokens per step) or refused with what to do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturePath } from "../../oracle/fixtures";
import { ALL_TARGET_MODULES, type TargetName } from "../../../sidecar/src/engine/types";
import { SMALL_SHAPE, writeArchBase } from "../support/archModels";
import { OutOfMemoryError, toEngineError } from "../../../sidecar/src/engine/errors";
import {
    estimateTrainingMemory, largestWeightCopyElements, memoryBudget, modelShapeFromGguf, planMemoryFit, readModelShape, USABLE_FRACTION, type EstimateSettings, type MemoryBudget
} from "../../../sidecar/src/training/memoryEstimate";

const GiB = 2 ** 30;
const settings: EstimateSettings = { rank: 16, targetModules: ALL_TARGET_MODULES, sequenceLength: 512, quantizeBase: "none" };

test("the shape is read from the GGUF header: layers, widths, vocabulary, weight bytes and LoRA dimensions", () => {
    const path = fixturePath("tiny-f32.gguf");
    const shape = readModelShape(path);
    assert.equal(shape.arch, "llama");
    assert.equal(shape.nLayer, 4);
    assert.equal(shape.nEmbd, 256);
    assert.equal(shape.nFf, 768);
    assert.equal(shape.nHead, 4);
    assert.ok(shape.nVocab > 30000, `phi-3 vocabulary: ${shape.nVocab}`);
    const embeddings = shape.nVocab * shape.nEmbd * 4;
    assert.ok(Math.abs(shape.weightBytes + embeddings - statSync(path).size) < 1e6, "weights = the file's tensors except token_embd");
    // attn_k: n_in 256, n_out 128 (2 of 4 heads for K/V) in each of 4 layers.
    assert.equal(shape.loraDims.attn_k, 4 * (256 + 128));
    assert.equal(shape.loraDims.ffn_down, 4 * (768 + 256));
    assert.equal(shape.layerMatrixElements, 4 * (2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 768));
});

test("the estimate grows with rank, rows and a wider base; quantizeBase shrinks an F32 base", () => {
    const shape = readModelShape(fixturePath("tiny-f32.gguf"));
    const base = estimateTrainingMemory(shape, settings);
    assert.equal(base.totalBytes, Object.values(base.parts).reduce((a, b) => a + b, 0));
    assert.ok(estimateTrainingMemory(shape, { ...settings, rank: 64 }).parts.adapter === 4 * base.parts.adapter);
    const longer = estimateTrainingMemory(shape, { ...settings, sequenceLength: 1024 });
    assert.ok(Math.abs(longer.parts.activations - 2 * base.parts.activations) <= 2, "activations grow with the row");
    assert.ok(Math.abs(longer.parts.attention - 4 * base.parts.attention) <= 4, "attention scores grow with the square of the row");
    const q4 = estimateTrainingMemory(shape, { ...settings, quantizeBase: "q4_0" });
    assert.ok(q4.parts.weights < base.parts.weights / 5, `Q4_0 weights ${q4.parts.weights} vs F32 ${base.parts.weights}`);
    assert.ok(estimateTrainingMemory(shape, settings, "cuda").totalBytes > base.totalBytes, "a CUDA context costs memory too");
    const onlyQ = estimateTrainingMemory(shape, { ...settings, targetModules: ["attn_q"] });
    assert.equal(onlyQ.parts.adapter, 6 * 4 * 16 * 4 * 512, "6 f32 copies × rank × (n_in + n_out) per layer");
});

test("the backward pass's weight scratch is the largest frozen matrix copy, not the sum over layers", () => {
    const shape = readModelShape(fixturePath("tiny-f32.gguf"));
    const base = estimateTrainingMemory(shape, settings);
    const deeper = estimateTrainingMemory({ ...shape, nLayer: 2 * shape.nLayer, layerMatrixElements: 2 * shape.layerMatrixElements }, settings);
    assert.equal(deeper.parts.weightScratch, base.parts.weightScratch, "more layers, same largest copy");
    // The output projection (n_vocab rows) is copied in chunks of at most 2 × n_embd rows, so it never dominates a
    // 128k vocabulary: Llama-3-8B's largest copy is its 4096 × 14336 FFN matrix.
    assert.equal(largestWeightCopyElements({ nEmbd: 4096, nFf: 14336, nVocab: 128256 }), 4096 * 14336);
    assert.ok(largestWeightCopyElements({ nEmbd: 256, nFf: 256, nVocab: 32064 }) <= 2 * 256 * 256);
    // A vocabulary at most 4 × n_embd is not split.
    assert.equal(largestWeightCopyElements({ nEmbd: 1024, nFf: 2048, nVocab: 4000 }), 1024 * 4000);
});

test("a run that fits is left alone; one that does not is shrunk with the same tokens per step, or refused with a hint", () => {
    const shape = readModelShape(fixturePath("tiny-f32.gguf"));
    const need = (L: number): number => estimateTrainingMemory(shape, { ...settings, sequenceLength: L }).totalBytes;
    const budget = (bytes: number): MemoryBudget => ({ device: "cpu", deviceName: "CPU (RAM)", availableBytes: bytes / USABLE_FRACTION });

    const fits = planMemoryFit({ shape, settings, gradAccum: 2, budget: budget(need(512)), minSequenceLength: 40 });
    assert.equal(fits.kind, "fits");

    const shrunk = planMemoryFit({ shape, settings, gradAccum: 2, budget: budget(need(128) + 1), minSequenceLength: 40 });
    assert.equal(shrunk.kind, "shrunk");
    if (shrunk.kind !== "shrunk") return;
    assert.equal(shrunk.sequenceLength, 128);
    assert.equal(shrunk.gradAccum, 8, "512 × 2 tokens per step = 128 × 8");
    assert.match(shrunk.message, /needs about .* GiB with sequenceLength 512 .* training with sequenceLength 128 and gradAccum 8 instead/);

    // The data's longest example (200 tokens) stops the halving at 256, which still does not fit.
    const refused = planMemoryFit({ shape, settings, gradAccum: 2, budget: budget(need(128) + 1), minSequenceLength: 200 });
    assert.equal(refused.kind, "refused");
    if (refused.kind !== "refused") return;
    assert.match(refused.message, /not enough memory: the run needs about .* GiB .*sequenceLength 256.* CPU \(RAM\) has .* GiB free/);
    assert.match(refused.hint, /cpu preset|smaller sequenceLength|smaller base model/);

    const hopeless = planMemoryFit({ shape, settings, gradAccum: 1, budget: budget(need(16) / 4), minSequenceLength: 0 });
    assert.equal(hopeless.kind, "refused");
    if (hopeless.kind === "refused") assert.match(hopeless.hint, /The model itself needs about .* GiB: set quantizeBase to q4_k_m/);
});

test("the budget is the first CUDA device's free VRAM, else free RAM", () => {
    assert.deepEqual(memoryBudget({ cuda: false, devices: [] }, 8 * GiB), { device: "cpu", deviceName: "CPU (RAM)", availableBytes: 8 * GiB });
    assert.deepEqual(
        memoryBudget({ cuda: true, devices: [{ name: "RTX", freeBytes: 5 * GiB }] }, 64 * GiB),
        { device: "cuda", deviceName: "RTX", availableBytes: 5 * GiB }
    );
});

test("an allocation failure is OutOfMemoryError by the addon's code alone, never by the words of another error", () => {
    const withCode = (code: string, message: string): unknown => toEngineError(Object.assign(new Error(message), { code }));
    const oom = withCode("OUT_OF_MEMORY", "out of memory evaluating the micro-batch: llama_lora_train_eval returned -8");
    assert.ok(oom instanceof OutOfMemoryError);
    assert.equal((oom as OutOfMemoryError).code, "OUT_OF_MEMORY");
    // Log text that merely mentions memory (a CUDA message, a bad_alloc in a log line) is not a code: no retry on it.
    assert.equal(withCode("INTERNAL", "internal engine error: std::bad_alloc") instanceof OutOfMemoryError, false);
    assert.equal(withCode("INTERNAL", "cudaMalloc failed: out of memory") instanceof OutOfMemoryError, false);
    assert.equal(withCode("INVALID_BATCH", "out of memory") instanceof OutOfMemoryError, false);
});

test("Phi-3's fused projections: q, k and v (and gate and up) are one adapter, counted once however they are named", () => {
    const dir = mkdtempSync(join(tmpdir(), "memory-phi3-"));
    try {
        const shape = modelShapeFromGguf(writeArchBase(join(dir, "phi3.gguf"), "phi3", { kv: { "phi3.vocab_size": { type: "u32", value: 32 } } }));
        const { nLayer, nEmbd, nFf, nHead, nHeadKv } = SMALL_SHAPE;
        const qkvOut = nEmbd + 2 * (nEmbd / nHead) * nHeadKv;
        for (const t of ["attn_q", "attn_k", "attn_v"] as const) assert.equal(shape.loraDims[t], nLayer * (nEmbd + qkvOut), `${t} selects attn_qkv`);
        assert.equal(shape.loraDims.ffn_gate, nLayer * (nEmbd + 2 * nFf), "ffn_gate selects the fused ffn_up");
        const adapterBytes = (targetModules: TargetName[]): number => estimateTrainingMemory(shape, { ...settings, targetModules }).parts.adapter;
        assert.equal(adapterBytes(["attn_q", "attn_k", "attn_v"]), adapterBytes(["attn_qkv"]));
        assert.equal(adapterBytes(["attn_q"]), adapterBytes(["attn_qkv"]), "one attn_q adapts the whole fused tensor");
        assert.equal(adapterBytes([...ALL_TARGET_MODULES]), adapterBytes(["attn_qkv", "attn_o", "ffn_gate_up", "ffn_down"]));
        assert.ok(adapterBytes(["attn_qkv", "ffn_gate_up"]) > adapterBytes(["attn_qkv"]));
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
