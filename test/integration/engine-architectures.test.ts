// What the engine trains and what it refuses, on real files:
// - the native engine's list of trainable architectures is the TypeScript table's (architectures.ts);
// - a Mixtral-style mixture-of-experts model (arch "llama" with experts) and Qwen3.5's hybrid stack are refused with the
//   same sentence checkTrainable gives, and the process survives (a refusal, never an abort);
// - Phi-3's q/k/v and gate/up select its fused tensors, and a fused target name on a model without them is refused;
// - the large-vocabulary case: Gemma's 262,144 tokens at width 256 would be 512 output-projection chunks, which
//   overflowed the graph and aborted the sidecar; one step now trains;
// - every op signature of a training step of every architecture (F32 and Q4_K_M) is audited for CUDA in docs/cuda.md.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRAINABLE_ARCHITECTURES, checkTrainable, type Engine, type MicroBatch, type TrainableArch } from "../../sidecar/src/engine";
import { loadNativeBinding } from "../../sidecar/src/engine/native";
import { readGguf } from "../../sidecar/src/gguf";
import { engineOrSkip } from "../oracle/engine";
import { archFixturePath, refusalFixturePath } from "../oracle/fixtures";
import { repoRoot } from "../oracle/torchReference";

const OPTIMIZER = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 1, schedule: "constant" as const, warmupSteps: 0, totalSteps: 10, gradAccum: 1 };
const dir = mkdtempSync(join(tmpdir(), "engine-architectures-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Two packed sequences of 16 tokens, the second half of each labelled. */
function batch(): MicroBatch {
    const n = 32;
    return {
        tokens: Int32Array.from({ length: n }, (_, i) => 10 + i),
        positions: Int32Array.from({ length: n }, (_, i) => i % 16),
        seqIds: Int32Array.from({ length: n }, (_, i) => i >> 4),
        labels: Int32Array.from({ length: n }, (_, i) => (i % 16 > 8 ? 11 + i : -1))
    };
}

test("the native engine trains exactly the architectures of architectures.ts", (t) => {
    let native: string[];
    try {
        native = loadNativeBinding().trainableArchitectures;
    } catch (err) {
        if (process.env.CI) throw err;
        t.skip(`native engine unavailable: ${(err as Error).message}`);
        return;
    }
    assert.deepEqual(native, [...TRAINABLE_ARCHITECTURES]);
});

describe("refusals", () => {
    const label = { moe: "mixture-of-experts llama", hybrid: "hybrid Qwen3.5" } as const;
    const because = { moe: /mixture-of-experts model \(4 experts\)/, hybrid: /'qwen35' is a recurrent or hybrid model/ } as const;
    for (const kind of ["moe", "hybrid"] as const) {
        test(`a tiny ${label[kind]} is refused with the reason, by the engine and by lora-studio train`, async (t) => {
            const engine = await engineOrSkip(t);
            if (!engine) return;
            const path = refusalFixturePath(kind);
            const expected = checkTrainable(readGguf(path));
            assert.equal(expected.trainable, false);
            if (expected.trainable) return;
            assert.match(expected.reason, because[kind]);
            await assert.rejects(engine.loadModel(path, { threads: 2, nCtx: 32 }), (err: Error & { code?: string }) => {
                assert.equal(err.code, "UNSUPPORTED_ARCH");
                assert.ok(err.message.includes(expected.reason), `engine: ${err.message}`);
                assert.ok(err.message.includes(path), "names the file");
                return true;
            });
            // The CLI is a separate process: it must end with the message and exit code 1, not a signal.
            const cli = join(repoRoot(), "bin", "lora-studio.mjs");
            const data = join(repoRoot(), "samples", "facts.jsonl");
            const r = spawnSync(process.execPath, [cli, "train", "--model", path, "--data", data, "--out", join(dir, `run-${kind}`)], { encoding: "utf8", timeout: 120_000 });
            assert.equal(r.signal, null, `lora-studio train died of ${r.signal}`);
            assert.equal(r.status, 1, `exit ${r.status}\n${r.stderr}`);
            assert.ok(r.stderr.includes(expected.reason.split(";")[0]!), `CLI: ${r.stderr}`);
            assert.ok(!existsSync(join(dir, `run-${kind}`)), "a refused start leaves no run folder");
        });
    }
});

describe("targets", () => {
    let engine: Engine | undefined;
    before(async () => {
        try {
            engine = await (await import("../../sidecar/src/engine")).loadEngine();
        } catch {
            engine = undefined;
        }
    });

    test("on Phi-3, attn_q selects the fused attn_qkv adapter and ffn_gate the fused ffn_up; nothing else is adapted", async (t) => {
        if (!engine) return t.skip("native engine unavailable");
        const model = await engine.loadModel(archFixturePath("phi3"), { threads: 2, nCtx: 32 });
        const trainer = await model.createTrainer({ rank: 4, alpha: 8, dropout: 0, seed: 1, targetModules: ["attn_q", "ffn_gate"] }, OPTIMIZER);
        try {
            const names = Object.keys(trainer.adapterTensors()).map((n) => n.replace(/^blk\.\d+\./, "")).sort();
            assert.deepEqual([...new Set(names)], ["attn_qkv.weight.lora_a", "attn_qkv.weight.lora_b", "ffn_up.weight.lora_a", "ffn_up.weight.lora_b"]);
        } finally {
            trainer.dispose();
            model.dispose();
        }
    });

    test("a fused target on a model with separate projections is refused, saying what to use instead", async (t) => {
        if (!engine) return t.skip("native engine unavailable");
        const model = await engine.loadModel(archFixturePath("qwen2"), { threads: 2, nCtx: 32 });
        try {
            await assert.rejects(model.createTrainer({ rank: 4, alpha: 8, dropout: 0, seed: 1, targetModules: ["attn_qkv"] }, OPTIMIZER),
                /'attn_qkv' is a fused target, and qwen2 models have separate projections: use attn_q, attn_k and attn_v/);
        } finally {
            model.dispose();
        }
    });
});

describe("graph coverage", () => {
    test("Gemma's 262k vocabulary at width 256 (512 output chunks unbounded) trains a step", async (t) => {
        const engine = await engineOrSkip(t);
        if (!engine) return;
        const path = archFixturePath("gemma");
        const model = await engine.loadModel(path, { threads: 2, nCtx: 32 });
        assert.equal(model.info.nVocab, 262144);
        assert.equal(model.info.nEmbd, 256);
        const trainer = await model.createTrainer({ rank: 4, alpha: 8, dropout: 0, seed: 1 }, OPTIMIZER);
        try {
            const r = await trainer.step(batch());
            assert.ok(Number.isFinite(r.loss));
        } finally {
            trainer.dispose();
            model.dispose();
        }
    });

    test("every op signature of every architecture's training step is audited for CUDA in docs/cuda.md", async (t) => {
        const engine = await engineOrSkip(t);
        if (!engine) return;
        const doc = readFileSync(join(repoRoot(), "docs", "cuda.md"), "utf8");
        const section = doc.slice(doc.indexOf("### Signatures audited"));
        const audited = new Set([...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
        assert.ok(audited.size > 20, "the audit table is there");
        const unaudited = new Map<string, Set<string>>();
        // Quantized twins of three families cover the op types a 4-bit base adds (fused, GeGLU, SwiGLU).
        const quantized = new Set<TrainableArch>(["llama", "phi3", "gemma2"]);
        for (const arch of TRAINABLE_ARCHITECTURES) {
            const paths = [archFixturePath(arch)];
            if (quantized.has(arch)) {
                const q = join(dir, `${arch}-q4_k_m.gguf`);
                await engine.quantizeModel(paths[0]!, q, "q4_k_m");
                paths.push(q);
            }
            for (const path of paths) {
                const model = await engine.loadModel(path, { threads: 2, nCtx: 32 });
                const trainer = await model.createTrainer({ rank: 4, alpha: 8, dropout: 0.1, seed: 1 }, OPTIMIZER);
                try {
                    await trainer.step(batch());
                    for (const { op } of trainer.backendNodes().cpuOps) {
                        if (!audited.has(op)) (unaudited.get(op) ?? unaudited.set(op, new Set()).get(op)!).add(arch);
                    }
                } finally {
                    trainer.dispose();
                    model.dispose();
                }
            }
        }
        assert.deepEqual([...unaudited].map(([op, archs]) => `${op} (${[...archs].join(", ")})`), [], "op signatures missing from docs/cuda.md's audit");
    });
});
