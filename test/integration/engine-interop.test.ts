// The adapter the engine saves is a standard GGUF LoRA: stock node-llama-cpp (its prebuilt CPU binary, not
// our build) loads it with createContext({lora}) and computes the same logits as the engine.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import type { EngineModel } from "../../sidecar/src/engine";
import { stockLogits } from "../oracle/nodeLlamaLogits";
import { ADAPTER, engineFixture, engineSkip, optimizer, pack, tokensFrom, type EngineFixture } from "./engineHarness";

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    return d;
}

describe("engine adapters in stock node-llama-cpp", { skip: engineSkip }, () => {
    let fx: EngineFixture;
    let model: EngineModel;
    let stock: LlamaModel;

    before(async () => {
        fx = await engineFixture();
        model = await fx.engine.loadModel(fx.modelPath, { threads: 2, nCtx: 64 });
        const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
        stock = await llama.loadModel({ modelPath: fx.modelPath });
    });
    after(async () => {
        model?.dispose();
        await stock?.dispose();
        fx?.cleanup();
    });

    test("a trained adapter loads and gives the engine's logits", async () => {
        const trainer = await model.createTrainer(ADAPTER, optimizer({ lr: 2e-2 }));
        for (let i = 0; i < 5; i++) await trainer.step(pack([{ tokens: tokensFrom(70 + i, 20) }]));
        const adapterPath = join(fx.dir, "trained.gguf");
        await trainer.saveAdapter(adapterPath);
        const tokens = tokensFrom(80, 12);
        const engineLogits = await trainer.evalLogits(pack([{ tokens }]));
        trainer.dispose();

        const nVocab = model.info.nVocab;
        const withAdapter = await stockLogits(stock, tokens, nVocab, { loraPath: adapterPath });
        const without = await stockLogits(stock, tokens, nVocab);
        const diff = maxAbsDiff(engineLogits, withAdapter);
        assert.ok(diff < 1e-3, `max |engine - node-llama-cpp| = ${diff}`);
        assert.ok(maxAbsDiff(withAdapter, without) > 1e-2, "the adapter changes the logits");
    });
});
