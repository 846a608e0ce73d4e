// LoRA on quantized and half-precision bases: the engine quantizes the tiny F32 model (quantizeModel) and trains
// on each variant. The base stays frozen and the gradients reach the adapters through the dequantized weights.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { QuantizeType } from "../../sidecar/src/engine";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { ADAPTER, TEST_SHAPE, engineFixture, engineSkip, l2, optimizer, pack, relMaxDiff, tokensFrom, type EngineFixture } from "./engineHarness";

describe("engine on quantized bases", { skip: engineSkip }, () => {
    let fx: EngineFixture;

    before(async () => {
        fx = await engineFixture();
    });
    after(() => fx?.cleanup());

    const variants: { name: string; fileType: string; make: (out: string) => Promise<void> }[] = [
        ...(["q4_0", "q4_k_m", "q8_0"] as QuantizeType[]).map((q) => ({
            name: q, fileType: q, make: (out: string) => fx.engine.quantizeModel(fx.modelPath, out, q)
        })),
        { name: "f16", fileType: "f16", make: async (out: string) => void makeTinyModel({ out, quant: "f16", shape: TEST_SHAPE, seed: 7 }) },
        { name: "bf16", fileType: "bf16", make: async (out: string) => void makeTinyModel({ out, quant: "bf16", shape: TEST_SHAPE, seed: 7 }) }
    ];

    for (const v of variants) {
        test(`trains a LoRA on a ${v.name} base`, async () => {
            const path = join(fx.dir, `tiny-${v.name}.gguf`);
            await v.make(path);
            const model = await fx.engine.loadModel(path, { threads: 2, nCtx: 64 });
            assert.equal(model.info.fileType, v.fileType);
            const trainer = await model.createTrainer(ADAPTER, optimizer());
            const batch = pack([{ tokens: tokensFrom(90, 20) }, { tokens: tokensFrom(91, 12) }]);
            const { grads } = await trainer.computeGradients(batch);
            assert.ok(l2(grads["blk.1.ffn_down.weight.lora_b"]!.data) > 0);
            assert.ok(l2(grads["blk.0.attn_k.weight.lora_b"]!.data) > 0);
            const first = (await trainer.step(batch)).loss;
            let last = first;
            for (let i = 0; i < 9; i++) last = (await trainer.step(batch)).loss;
            assert.ok(Number.isFinite(first) && last < first - 0.5, `loss ${first} → ${last}`);
            trainer.dispose();
            model.dispose();
        });
    }

    test("gradients on the Q8_0 and BF16 bases are close to the F32 base's", async () => {
        const q8 = join(fx.dir, "tiny-q8_0-grad.gguf");
        await fx.engine.quantizeModel(fx.modelPath, q8, "q8_0");
        // the same seed and shape as the fixture: the F32 weights rounded to BF16 (8 significant bits, like Q8_0)
        const bf16 = join(fx.dir, "tiny-bf16-grad.gguf");
        makeTinyModel({ out: bf16, quant: "bf16", shape: TEST_SHAPE, seed: 7 });
        const batch = pack([{ tokens: tokensFrom(92, 16) }]);
        const gradsOf = async (path: string) => {
            const model = await fx.engine.loadModel(path, { threads: 2, nCtx: 64 });
            const trainer = await model.createTrainer(ADAPTER, optimizer());
            const { grads } = await trainer.computeGradients(batch);
            trainer.dispose();
            model.dispose();
            return grads;
        };
        const f32 = await gradsOf(fx.modelPath);
        for (const [label, path] of [["Q8_0", q8], ["BF16", bf16]] as const) {
            const q = await gradsOf(path);
            // fresh adapters (B = 0): the B gradients depend on the base's forward and backward passes only
            for (const name of ["blk.0.attn_q.weight.lora_b", "blk.0.attn_k.weight.lora_b", "blk.1.ffn_up.weight.lora_b", "blk.1.ffn_down.weight.lora_b"]) {
                const d = relMaxDiff(q[name]!.data, f32[name]!.data);
                assert.ok(d > 0 && d < 0.05, `${name}: ${label} vs F32 gradient relative difference ${d}`);
            }
        }
    });
});
