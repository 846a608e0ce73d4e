// The native LoRA engine on a real build and a real tiny GGUF: learning, frozen base, checkpoints,
// masking, packing, gradients through K/V, cancellation.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EngineCancelledError, type EngineModel, type MicroBatch, type NamedTensor } from "../../sidecar/src/engine";
import { ADAPTER, engineFixture, engineSkip, l2, optimizer, pack, relMaxDiff, tokensFrom, type EngineFixture } from "./engineHarness";

const fileHash = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Σ_i w_i · grads_i over every tensor. */
function weightedSum(parts: { weight: number; grads: Record<string, NamedTensor> }[]): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const { weight, grads } of parts) {
        for (const [name, t] of Object.entries(grads)) {
            const acc = (out[name] ??= new Float32Array(t.data.length));
            t.data.forEach((v, i) => (acc[i]! += weight * v));
        }
    }
    return out;
}

describe("native LoRA engine", { skip: engineSkip }, () => {
    let fx: EngineFixture;
    let model: EngineModel;

    before(async () => {
        fx = await engineFixture();
        model = await fx.engine.loadModel(fx.modelPath, { threads: 2, nCtx: 128 });
    });
    after(() => {
        model?.dispose();
        fx?.cleanup();
    });

    test("reports the model shape", () => {
        assert.equal(model.info.arch, "llama");
        assert.equal(model.info.nLayer, 2);
        assert.equal(model.info.nEmbd, 256);
        assert.equal(model.info.nHeadKv, 2);
        assert.equal(model.info.nFf, 256);
        assert.equal(model.info.fileType, "f32");
        assert.ok(model.info.nVocab > 30000);
    });

    test("the loss falls over steps and the base file is untouched", async () => {
        const before = fileHash(fx.modelPath);
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        const batch = pack([{ tokens: tokensFrom(1, 24) }, { tokens: tokensFrom(2, 16) }]);
        const losses: number[] = [];
        for (let i = 0; i < 15; i++) {
            const r = await trainer.step(batch);
            assert.equal(r.appliedUpdate, true);
            assert.equal(r.optimizerStep, i + 1);
            assert.equal(r.trainedTokens, 23 + 15);
            assert.ok(r.gradNorm !== null && r.gradNorm > 0);
            losses.push(r.loss);
        }
        assert.ok(losses[14]! < losses[0]! - 1, `loss ${losses[0]} → ${losses[14]}`);
        trainer.dispose();
        assert.equal(fileHash(fx.modelPath), before);
    });

    test("training one adapter leaves the base logits unchanged (a fresh adapter is a no-op)", async () => {
        const batch = pack([{ tokens: tokensFrom(3, 12) }]);
        const fresh1 = await model.createTrainer(ADAPTER, optimizer());
        const baseLogits = await fresh1.evalLogits(batch);
        for (let i = 0; i < 3; i++) await fresh1.step(batch);
        const trainedLogits = await fresh1.evalLogits(batch);
        fresh1.dispose();
        const fresh2 = await model.createTrainer({ ...ADAPTER, seed: 99 }, optimizer());
        const againLogits = await fresh2.evalLogits(batch);
        fresh2.dispose();
        assert.deepEqual(againLogits, baseLogits);
        assert.ok(relMaxDiff(trainedLogits, baseLogits) > 1e-3, "training changed the adapted logits");
    });

    test("the loss is the mean cross-entropy of the labelled rows", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        const tokens = tokensFrom(4, 10);
        const labels = [-1, -1, -1, 500, 600, -1, 700, -1, -1, -1];
        const { loss, tokens: n } = await trainer.evalLoss(pack([{ tokens, labels }]));
        const logits = await trainer.evalLogits(pack([{ tokens }]));
        trainer.dispose();
        const nVocab = model.info.nVocab;
        let sum = 0;
        labels.forEach((label, row) => {
            if (label < 0) return;
            const r = logits.subarray(row * nVocab, (row + 1) * nVocab);
            const max = r.reduce((a, b) => Math.max(a, b), -Infinity);
            const lse = max + Math.log(r.reduce((a, b) => a + Math.exp(b - max), 0));
            sum += lse - r[label]!;
        });
        assert.equal(n, 3);
        assert.ok(Math.abs(loss - sum / 3) < 1e-4, `engine ${loss} vs logits ${sum / 3}`);
    });

    test("masked tokens contribute no gradient", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        await trainer.step(pack([{ tokens: tokensFrom(5, 16) }])); // B != 0, so A gets gradients too
        const tokens = tokensFrom(6, 12);
        const labels = [-1, 11, 12, 13, 14, 15, 16, -1, -1, -1, -1, -1];
        // masked rows after the last label change nothing (causal attention): the prefix gives the same gradients
        const full = await trainer.computeGradients(pack([{ tokens, labels }]));
        const prefix = await trainer.computeGradients(pack([{ tokens: tokens.slice(0, 7), labels: labels.slice(0, 7) }]));
        // and a masked row's target does not matter: relabel nothing, but change the tokens after the labels
        const changedTail = await trainer.computeGradients(pack([{ tokens: [...tokens.slice(0, 7), ...tokensFrom(7, 5)], labels }]));
        trainer.dispose();
        assert.ok(Math.abs(full.loss - prefix.loss) < 1e-6);
        for (const [name, g] of Object.entries(full.grads)) {
            assert.ok(relMaxDiff(g.data, prefix.grads[name]!.data) < 1e-5, `${name} differs from the prefix`);
            assert.ok(relMaxDiff(changedTail.grads[name]!.data, g.data) < 1e-5, `${name} depends on masked rows`);
        }
        assert.ok(l2(full.grads["blk.0.attn_q.weight.lora_a"]!.data) > 0);
    });

    test("packing three examples gives the gradients of three separate micro-batches", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        await trainer.step(pack([{ tokens: tokensFrom(8, 20) }]));
        const seqs = [{ tokens: tokensFrom(9, 9) }, { tokens: tokensFrom(10, 14) }, { tokens: tokensFrom(11, 6) }];
        const packed = await trainer.computeGradients(pack(seqs));
        const nLabels = seqs.map((s) => s.tokens.length - 1);
        const total = nLabels.reduce((a, b) => a + b, 0);
        const parts = [];
        for (const [i, s] of seqs.entries()) parts.push({ weight: nLabels[i]! / total, grads: (await trainer.computeGradients(pack([s]))).grads });
        trainer.dispose();
        const separate = weightedSum(parts);
        for (const [name, g] of Object.entries(packed.grads)) {
            assert.ok(relMaxDiff(g.data, separate[name]!) < 1e-4, `${name}: packed vs separate ${relMaxDiff(g.data, separate[name]!)}`);
        }
    });

    test("gradients reach the attn_k and attn_v adapters", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        const { grads } = await trainer.computeGradients(pack([{ tokens: tokensFrom(12, 16) }]));
        for (let layer = 0; layer < 2; layer++) {
            for (const m of ["attn_k", "attn_v", "attn_q", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]) {
                const name = `blk.${layer}.${m}.weight.lora_b`;
                assert.ok(grads[name], `${name} is trained`);
                assert.ok(l2(grads[name]!.data) > 0, `${name} gets a gradient`);
            }
        }
        assert.deepEqual(grads["blk.0.attn_k.weight.lora_a"]!.shape, [4, 256]);
        assert.deepEqual(grads["blk.0.attn_k.weight.lora_b"]!.shape, [128, 4]);
        trainer.dispose();
    });

    test("a checkpoint round trip resumes with identical losses", async () => {
        const opt = optimizer({ schedule: "cosine", warmupSteps: 2, totalSteps: 10, weightDecay: 0.01, gradClip: 1, gradAccum: 2 });
        const batches: MicroBatch[] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => pack([{ tokens: tokensFrom(20 + i, 10 + i) }]));
        // dropout on: the restored RNG state must give the same masks
        const a = await model.createTrainer({ ...ADAPTER, dropout: 0.1 }, opt);
        for (const b of batches.slice(0, 5)) await a.step(b); // odd: one micro-batch is accumulated but not applied
        const ckpt = join(fx.dir, "ckpt.bin");
        await a.saveCheckpoint(ckpt, JSON.stringify({ next: 5 }));
        const expected = [];
        for (const b of batches.slice(5)) expected.push(await a.step(b));
        const adapterA = a.adapterTensors();
        a.dispose();

        const b = await model.createTrainer({ ...ADAPTER, dropout: 0.1, seed: 1 }, opt);
        const restored = await b.loadCheckpoint(ckpt);
        assert.deepEqual(restored, { step: 2, dataCursor: JSON.stringify({ next: 5 }) });
        const resumed = [];
        for (const batch of batches.slice(5)) resumed.push(await b.step(batch));
        assert.deepEqual(resumed, expected);
        const adapterB = b.adapterTensors();
        for (const [name, t] of Object.entries(adapterA)) assert.deepEqual(adapterB[name]!.data, t.data, name);
        b.dispose();
    });

    test("with dropout, a checkpoint written after a cancelled step resumes exactly like an uninterrupted run", async () => {
        const adapter = { ...ADAPTER, dropout: 0.05 };
        const batches: MicroBatch[] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => pack([{ tokens: tokensFrom(70 + i, 120) }]));
        const straight = await model.createTrainer(adapter, optimizer());
        const expected = [];
        for (const b of batches) expected.push(await straight.step(b));
        straight.dispose();

        // The cancel lands before the step starts, while its graph computes, or after it (then the next step is
        // the one rejected): whichever, a cancelled step must not count, and a resumed trainer (other seed, so
        // only the checkpoint can supply the state) must go on with the same losses, masks included.
        let trainer = await model.createTrainer(adapter, optimizer());
        const resumed = [];
        let cancels = 0;
        for (const [i, b] of batches.entries()) {
            for (let attempt = 0; ; attempt++) {
                const pending = trainer.step(b);
                if (attempt === 0) {
                    for (let k = 0; k < i; k++) await new Promise<void>((resolve) => setImmediate(resolve));
                    trainer.cancel();
                }
                try {
                    resumed.push(await pending);
                    break;
                } catch (error) {
                    assert.ok(error instanceof EngineCancelledError, String(error));
                    cancels++;
                    const ckpt = join(fx.dir, "cancelled.ckpt");
                    await trainer.saveCheckpoint(ckpt, String(i));
                    trainer.dispose();
                    trainer = await model.createTrainer({ ...adapter, seed: 1000 + i }, optimizer());
                    assert.deepEqual(await trainer.loadCheckpoint(ckpt), { step: resumed.length, dataCursor: String(i) });
                }
            }
        }
        trainer.dispose();
        assert.ok(cancels > 0);
        assert.deepEqual(resumed, expected);
    });

    test("dropout is reproducible from the seed and applies to training steps only", async () => {
        const batch = pack([{ tokens: tokensFrom(30, 24) }]);
        const run = async (dropout: number, seed: number): Promise<number[]> => {
            const t = await model.createTrainer({ ...ADAPTER, dropout, seed }, optimizer());
            const losses = [];
            for (let i = 0; i < 3; i++) losses.push((await t.step(batch)).loss);
            losses.push((await t.evalLoss(batch)).loss);
            t.dispose();
            return losses;
        };
        const [a, b, off] = [await run(0.3, 5), await run(0.3, 5), await run(0, 5)];
        assert.deepEqual(a, b);
        // B = 0 at the first step, so dropout cannot change that loss; later steps differ
        assert.equal(a[0], off[0]);
        assert.notEqual(a[1], off[1]);
    });

    test("gradient accumulation applies an update every gradAccum micro-batches", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer({ gradAccum: 3 }));
        const applied = [];
        for (let i = 0; i < 6; i++) applied.push((await trainer.step(pack([{ tokens: tokensFrom(40 + i, 8) }]))).appliedUpdate);
        trainer.dispose();
        assert.deepEqual(applied, [false, false, true, false, false, true]);
    });

    test("cancel rejects the running step with EngineCancelledError, then training goes on", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        const batch = pack([{ tokens: tokensFrom(50, 64) }]);
        const pending = trainer.step(batch);
        trainer.cancel();
        await assert.rejects(pending, EngineCancelledError);
        const r = await trainer.step(batch);
        assert.equal(r.optimizerStep, 1);
        trainer.dispose();
    });

    test("saveAdapter writes a standard GGUF LoRA", async () => {
        const trainer = await model.createTrainer({ ...ADAPTER, targetModules: ["attn_q", "attn_v"] }, optimizer());
        await trainer.step(pack([{ tokens: tokensFrom(60, 12) }]));
        const path = join(fx.dir, "adapter.gguf");
        await trainer.saveAdapter(path);
        trainer.dispose();
        const { readGguf, kvString, kvNumber } = await import("../../sidecar/src/gguf");
        const gguf = readGguf(path);
        assert.equal(kvString(gguf, "general.type"), "adapter");
        assert.equal(kvString(gguf, "adapter.type"), "lora");
        assert.equal(kvString(gguf, "general.architecture"), "llama");
        assert.equal(kvNumber(gguf, "adapter.lora.alpha"), 8);
        assert.deepEqual(gguf.tensors.map((t) => t.name).sort(), [
            "blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b", "blk.0.attn_v.weight.lora_a", "blk.0.attn_v.weight.lora_b",
            "blk.1.attn_q.weight.lora_a", "blk.1.attn_q.weight.lora_b", "blk.1.attn_v.weight.lora_a", "blk.1.attn_v.weight.lora_b"
        ]);
    });
});
