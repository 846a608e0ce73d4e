// Interop: the adapter our engine saves is a standard GGUF LoRA. Stock node-llama-cpp (its own CPU
// binary, `createContext({lora})`) loads it unchanged, and its logits equal our engine's eval logits
// and the PyTorch reference's within 1e-3 (all float32; what remains is summation order).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GgmlType, kvNumber, kvString, readGguf } from "../../sidecar/src/gguf";
import { engineOrSkip, toMicroBatch } from "../oracle/engine";
import { packFacts, syntheticFacts, tokenizeFacts } from "../oracle/facts";
import { fixturePath } from "../oracle/fixtures";
import { maxAbsDiff } from "../oracle/metrics";
import { stockLlama, stockLogits } from "../oracle/nodeLlamaLogits";
import { runTorchReference } from "../oracle/torchReference";

const LOGIT_TOL = 1e-3;
const dir = mkdtempSync(join(tmpdir(), "oracle-interop-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("stock node-llama-cpp loads the engine's adapter and its logits match the engine's and PyTorch's", async (t) => {
    const engine = await engineOrSkip(t);
    if (!engine) return;
    const modelPath = fixturePath("tiny-f32.gguf");
    const llama = await stockLlama();
    const stock = await llama.loadModel({ modelPath });
    const model = await engine.loadModel(modelPath, { threads: 2, nCtx: 256 });
    const trainer = await model.createTrainer(
        { rank: 8, alpha: 16, dropout: 0, seed: 3 },
        { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradClip: 1, schedule: "constant", warmupSteps: 0, totalSteps: 10, gradAccum: 1 }
    );
    try {
        const examples = tokenizeFacts(stock, syntheticFacts(6));
        const batches = packFacts(examples, 80);
        for (let s = 0; s < 10; s++) await trainer.step(toMicroBatch(batches[s % batches.length]!));
        const adapterPath = join(dir, "adapter.gguf");
        await trainer.saveAdapter(adapterPath);

        // The file is a standard llama.cpp LoRA adapter.
        const file = readGguf(adapterPath);
        assert.equal(kvString(file, "general.type"), "adapter");
        assert.equal(kvString(file, "adapter.type"), "lora");
        assert.equal(kvNumber(file, "adapter.lora.alpha"), 16);
        assert.equal(file.tensors.length, 4 * 7 * 2);
        const q0a = file.tensors.find((x) => x.name === "blk.0.attn_q.weight.lora_a");
        const q0b = file.tensors.find((x) => x.name === "blk.0.attn_q.weight.lora_b");
        assert.deepEqual([q0a?.type, q0a?.dims], [GgmlType.F32, [256, 8]]);
        assert.deepEqual([q0b?.type, q0b?.dims], [GgmlType.F32, [8, 256]]);

        const tokens = examples[0]!.tokens;
        const nVocab = model.info.nVocab;
        const single = { tokens, positions: tokens.map((_, i) => i), seqIds: tokens.map(() => 0), labels: tokens.map((_, i) => tokens[i + 1] ?? -1) };
        const ours = await trainer.evalLogits(toMicroBatch(single));
        const theirs = await stockLogits(stock, tokens, nVocab, { loraPath: adapterPath });
        const base = await stockLogits(stock, tokens, nVocab);
        const ref = Float32Array.from((await runTorchReference({ model: modelPath, adapter: adapterPath, mode: "logits", batches: [single] })).logits![0]!);

        assert.ok(maxAbsDiff(base, theirs) > 1e-2, "the adapter changes the logits, so the comparison is not vacuous");
        const engineVsStock = maxAbsDiff(ours, theirs);
        const torchVsStock = maxAbsDiff(ref, theirs);
        t.diagnostic(`max |engine - stock| = ${engineVsStock.toExponential(3)}, max |torch - stock| = ${torchVsStock.toExponential(3)}`);
        assert.ok(engineVsStock <= LOGIT_TOL, `engine vs stock node-llama-cpp: ${engineVsStock}`);
        assert.ok(torchVsStock <= LOGIT_TOL, `PyTorch vs stock node-llama-cpp: ${torchVsStock}`);
    } finally {
        trainer.dispose();
        model.dispose();
        await stock.dispose();
    }
});
