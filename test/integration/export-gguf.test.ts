// The GGUF exports, read back by an independent reader: stock node-llama-cpp (its own prebuilt binary).
// - The GGUF LoRA copy loads as an adapter and gives exactly the original adapter's logits.
// - A merged model (base + adapter folded in) gives the logits of base + adapter on the context: F32 to summation
//   order, F16 to half-precision rounding, the quantized types to within the quantization error of the base
//   alone (measured in the same run), and always far closer to base + adapter than to the base.
// - Mismatched, missing and corrupt inputs fail with messages that name both files.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Llama } from "node-llama-cpp";
import { kvString, readGguf } from "../../sidecar/src/gguf";
import { runExport, type MergedType } from "../../sidecar/src/export";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { syntheticFacts, tokenizeFacts } from "../oracle/facts";
import { maxAbsDiff } from "../oracle/metrics";
import { stockLlama } from "../oracle/nodeLlamaLogits";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { repoRoot } from "../oracle/torchReference";

const dir = mkdtempSync(join(tmpdir(), "export-gguf-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Probe {
    tokens: number[];
    /** Logits are compared on the rows from here on: the end of the prompt and the answer. */
    from: number;
}

/** Logits (answer rows only, concatenated) of the probes; stock node-llama-cpp, F32 KV cache, optional LoRA. */
async function logitsOf(llama: Llama, modelPath: string, probes: Probe[], loraPath?: string): Promise<Float32Array> {
    const model = await llama.loadModel({ modelPath });
    const nVocab = (readGguf(modelPath).kv.get("tokenizer.ggml.tokens")!.value as string[]).length;
    try {
        const parts: number[] = [];
        for (const p of probes) {
            const context = await model.createContext({
                contextSize: 256, batchSize: 256, sequences: 1, flashAttention: false,
                experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
                ...(loraPath ? { lora: { adapters: [{ filePath: loraPath, scale: 1 }] } } : {})
            });
            try {
                const rows = await context.getSequence().controlledEvaluate(p.tokens.map((t, i) => (i >= p.from ? [t as never, { generateNext: { logits: true } }] : (t as never))));
                for (let i = p.from; i < p.tokens.length; i++) {
                    const logits = rows[i]?.next?.logits;
                    if (!logits) throw new Error(`no logits for row ${i}`);
                    const row = new Float32Array(nVocab);
                    for (const [token, value] of logits) row[token as number] = value;
                    parts.push(...row);
                }
            } finally {
                await context.dispose();
            }
        }
        return Float32Array.from(parts);
    } finally {
        await model.dispose();
    }
}

describe("GGUF exports read by stock node-llama-cpp", () => {
    let fx: FactsAdapter;
    let llama: Llama;
    let tokens: Probe[];
    let tuned: Float32Array;
    let base: Float32Array;

    before(async () => {
        fx = await factsAdapter();
        llama = await stockLlama();
        const model = await llama.loadModel({ modelPath: fx.model });
        try {
            tokens = tokenizeFacts(model, syntheticFacts(2)).map((e) => ({ tokens: e.tokens, from: e.promptLength - 1 }));
        } finally {
            await model.dispose();
        }
        tuned = await logitsOf(llama, fx.model, tokens, fx.adapter);
        base = await logitsOf(llama, fx.model, tokens);
        assert.ok(maxAbsDiff(base, tuned) > 0.5, "the adapter changes the logits, so the comparisons are not vacuous");
    });

    test("the GGUF LoRA copy loads as an adapter and gives the original adapter's logits", async () => {
        const out = join(dir, "copy", "adapter.gguf");
        const r = await runExport({ format: "gguf-lora", model: fx.model, adapter: fx.adapter, out });
        assert.deepEqual(r.files, [out]);
        assert.deepEqual(readFileSync(out), readFileSync(fx.adapter));
        assert.equal(maxAbsDiff(await logitsOf(llama, fx.model, tokens, out), tuned), 0);
    });

    const tolerances: Array<{ type: MergedType; needsEngine: boolean }> = [
        { type: "f32", needsEngine: false },
        { type: "f16", needsEngine: false },
        { type: "q8_0", needsEngine: true },
        { type: "q4_0", needsEngine: true },
        { type: "q4_k_m", needsEngine: true }
    ];
    for (const { type, needsEngine } of tolerances) {
        test(`a merged ${type} model gives base + adapter's logits`, async (t) => {
            const engine = needsEngine ? await engineOrSkip(t) : undefined;
            if (needsEngine && !engine) return;
            const quantize = engine ? (i: string, o: string, q: "q4_0" | "q4_k_m" | "q8_0") => engine.quantizeModel(i, o, q) : undefined;
            const out = join(dir, `merged-${type}.gguf`);
            await runExport({ format: "merged", model: fx.model, adapter: fx.adapter, out, type, ...(quantize ? { quantize } : {}) });

            // Everything but the weights is the base's: tokenizer, chat template, hyperparameters.
            const merged = readGguf(out);
            const src = readGguf(fx.model);
            assert.equal(kvString(merged, "tokenizer.chat_template"), kvString(src, "tokenizer.chat_template"));
            assert.deepEqual(merged.kv.get("tokenizer.ggml.tokens"), src.kv.get("tokenizer.ggml.tokens"));
            assert.deepEqual(merged.tensors.map((x) => x.name).sort(), src.tensors.map((x) => x.name).sort());

            const got = await logitsOf(llama, out, tokens);
            const error = maxAbsDiff(got, tuned);
            const distanceToBase = maxAbsDiff(got, base);
            let bound: number;
            if (type === "f32") bound = 1e-3; // summation order only
            else if (type === "f16") bound = 1e-2; // half-precision weights (measured ~7e-4 on this model)
            else {
                // The quantization error of the base alone, on the same tokens, is the yardstick.
                const quantizedBase = join(dir, `base-${type}.gguf`);
                await quantize!(fx.model, quantizedBase, type as "q4_0" | "q4_k_m" | "q8_0");
                const baseQuantError = maxAbsDiff(await logitsOf(llama, quantizedBase, tokens), base);
                bound = 2 * baseQuantError;
                t.diagnostic(`quantization error of the base alone: ${baseQuantError.toFixed(4)}`);
            }
            t.diagnostic(`merged ${type}: max |logit - (base + adapter)| = ${error.toFixed(5)} (bound ${bound.toFixed(4)}), distance to the base ${distanceToBase.toFixed(3)}`);
            assert.ok(error <= bound, `merged ${type} differs from base + adapter by ${error} (> ${bound})`);
            assert.ok(error < distanceToBase / 4, `merged ${type} is not clearly closer to base + adapter (${error}) than to the base (${distanceToBase})`);
        });
    }
});

describe("merging into a quantized base", () => {
    // The merge dequantizes the base in TypeScript; stock llama.cpp reads the same blocks its own way. Merged to
    // F32, the result must match llama.cpp running the quantized base + adapter up to what llama.cpp's quantized
    // matmul adds (it quantizes activations to 8 bits), far below the adapter's effect.
    let fx: FactsAdapter;
    let llama: Llama;
    let tokens: Probe[];
    before(async () => {
        fx = await factsAdapter();
        llama = await stockLlama();
        const model = await llama.loadModel({ modelPath: fx.model });
        try {
            tokens = tokenizeFacts(model, syntheticFacts(1)).map((e) => ({ tokens: e.tokens, from: e.promptLength - 1 }));
        } finally {
            await model.dispose();
        }
    });

    for (const quant of ["q4_0", "q8_0", "q4_k_m"] as const) {
        test(`a ${quant} base is dequantized as llama.cpp reads it`, async (t) => {
            let quantizedBase: string;
            if (quant === "q4_0") {
                quantizedBase = fixturePath("tiny-q4_0.gguf"); // written by the TS encoder, no engine needed
            } else {
                const engine = await engineOrSkip(t);
                if (!engine) return;
                quantizedBase = join(dir, `base-for-merge-${quant}.gguf`);
                await engine.quantizeModel(fx.model, quantizedBase, quant);
            }
            const out = join(dir, `merged-from-${quant}.gguf`);
            await runExport({ format: "merged", model: quantizedBase, adapter: fx.adapter, out, type: "f32" });
            const expected = await logitsOf(llama, quantizedBase, tokens, fx.adapter);
            const baseOnly = await logitsOf(llama, quantizedBase, tokens);
            const error = maxAbsDiff(await logitsOf(llama, out, tokens), expected);
            const adapterEffect = maxAbsDiff(baseOnly, expected);
            t.diagnostic(`merged from ${quant}: max |logit - (${quant} base + adapter)| = ${error.toFixed(4)}, adapter effect ${adapterEffect.toFixed(3)}`);
            assert.ok(error < 0.1 && error < adapterEffect / 20, `merged from ${quant} differs by ${error} (adapter effect ${adapterEffect})`);
        });
    }
});

describe("export refuses bad input with both files named", () => {
    let fx: FactsAdapter;
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot(), "bin", "lora-studio.mjs"), "export", ...args], { encoding: "utf8" });

    before(async () => {
        fx = await factsAdapter();
    });

    test("an adapter trained on another base", async () => {
        const other = join(dir, "other-base.gguf");
        makeTinyModel({ out: other, quant: "f32", shape: { nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 512 }, seed: 9 });
        for (const format of ["gguf-lora", "merged", "ollama", "peft"] as const) {
            await assert.rejects(runExport({ format, model: other, adapter: fx.adapter, out: join(dir, `bad-${format}`) }), (err: Error) => {
                assert.match(err.message, /do not match/);
                assert.ok(err.message.includes(fx.adapter) && err.message.includes(other), err.message);
                return true;
            });
        }
        const r = cli("--adapter", fx.adapter, "--model", other, "--format", "merged", "--out", join(dir, "bad.gguf"));
        assert.equal(r.status, 1);
        assert.ok(r.stderr.includes(fx.adapter) && r.stderr.includes(other), r.stderr);
    });

    test("a missing adapter, a truncated adapter and a base model given as the adapter", async () => {
        const missing = join(dir, "nope.gguf");
        await assert.rejects(runExport({ format: "peft", model: fx.model, adapter: missing, out: join(dir, "p") }), new RegExp(`adapter ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} does not exist`));
        const truncated = join(dir, "truncated.gguf");
        writeFileSync(truncated, readFileSync(fx.adapter).subarray(0, 5000));
        await assert.rejects(runExport({ format: "gguf-lora", model: fx.model, adapter: truncated, out: join(dir, "t.gguf") }), /adapter is corrupt: .*truncated/);
        const baseCopy = join(dir, "base-as-adapter.gguf");
        copyFileSync(fx.model, baseCopy);
        await assert.rejects(runExport({ format: "merged", model: fx.model, adapter: baseCopy, out: join(dir, "m.gguf") }), /is not a LoRA adapter.*is it a base model/);
        const r = cli("--adapter", fx.adapter, "--model", fx.model, "--format", "zip", "--out", join(dir, "x"));
        assert.equal(r.status, 2);
        assert.match(r.stderr, /--format must be one of gguf-lora, merged, ollama, peft/);
    });
});
