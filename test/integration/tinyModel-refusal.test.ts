// The refusal fixtures are real models of the kinds the trainer must refuse: a Mixtral-style mixture-of-experts
// llama and Qwen3.5's hybrid (gated delta net + attention) stack. Stock node-llama-cpp loads and runs both, so a
// refusal is the trainer's choice, not a broken file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { kvNumber, readGguf } from "../../sidecar/src/gguf";
import { refusalFixturePath } from "../oracle/fixtures";
import { stockLlama, stockLogits } from "../oracle/nodeLlamaLogits";

for (const kind of ["moe", "hybrid"] as const) {
    test(`the ${kind} refusal fixture loads in stock node-llama-cpp and gives finite logits`, async () => {
        const modelPath = refusalFixturePath(kind);
        const file = readGguf(modelPath, { skipArraysOver: 64 });
        if (kind === "moe") {
            assert.deepEqual([kvNumber(file, "llama.expert_count"), kvNumber(file, "llama.expert_used_count")], [4, 2]);
            assert.ok(file.tensors.some((t) => t.name === "blk.0.ffn_up_exps.weight" && t.dims.length === 3));
        } else {
            assert.equal(kvNumber(file, "qwen35.full_attention_interval"), 4);
            assert.ok(file.tensors.some((t) => t.name === "blk.0.ssm_conv1d.weight"), "layer 0 is a gated delta-net layer");
            assert.ok(file.tensors.some((t) => t.name === "blk.3.attn_q.weight"), "layer 3 is an attention layer");
        }
        const nVocab = file.tensors.find((t) => t.name === "token_embd.weight")!.dims[1]!;
        const llama = await stockLlama();
        const model = await llama.loadModel({ modelPath });
        try {
            const tokens = (model.tokenize("A short prompt to run the whole graph once, recurrent state included.", false) as number[]).slice(0, 16);
            const logits = await stockLogits(model, tokens, nVocab, { rows: [0, tokens.length - 1] });
            assert.ok(logits.every(Number.isFinite) && logits.some((v) => v !== 0), "finite, non-zero logits");
        } finally {
            await model.dispose();
        }
    });
}
