// Validates the PyTorch reference itself before it judges our engine: on the tiny F32 model its logits
// for a prompt match stock node-llama-cpp's (same RoPE layout, GQA, norms), and the tiny model's Q4_0
// variant holds exactly the bytes gguf-py's reference quantizer produces from the F32 weights.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fixturePath } from "../oracle/fixtures";
import { stockLlama, stockLogits } from "../oracle/nodeLlamaLogits";
import { PYTHON, runTorchReference } from "../oracle/torchReference";
import { maxAbsDiff } from "../oracle/metrics";
import { kvNumber, readGguf } from "../../sidecar/src/gguf";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";

// "<|user|>\nWhat is the capital of France?<|end|>\n<|assistant|>\n" in the phi-3 vocabulary, with BOS.
const PROMPT = [1, 32010, 29871, 13, 1724, 338, 278, 7483, 310, 3444, 29973, 32007, 29871, 13, 32001, 29871, 13];

test("torch reference logits match stock node-llama-cpp on the tiny F32 model", async (t) => {
    const modelPath = fixturePath("tiny-f32.gguf");
    const nVocab = kvNumber(readGguf(modelPath), "llama.vocab_size");
    const llama = await stockLlama();
    const model = await llama.loadModel({ modelPath });
    try {
        const stock = await stockLogits(model, PROMPT, nVocab);
        const ref = await runTorchReference({
            model: modelPath,
            mode: "logits",
            batches: [{ tokens: PROMPT, positions: PROMPT.map((_, i) => i), seqIds: PROMPT.map(() => 0), labels: PROMPT.map(() => -1) }]
        });
        const torchLogits = Float32Array.from(ref.logits![0]!);
        assert.equal(torchLogits.length, stock.length);
        // Both sides compute in float32 (F32 KV cache); what remains is summation order, ~1e-5 here.
        const diff = maxAbsDiff(torchLogits, stock);
        t.diagnostic(`max |torch - llama.cpp| = ${diff.toExponential(3)}`);
        assert.ok(diff < 1e-4, `max |torch - llama.cpp| = ${diff}`);
    } finally {
        await model.dispose();
    }
});

test("the tiny Q4_0 model is bit-exact with gguf-py's Q4_0 quantization of the F32 weights", () => {
    const script = `
import sys, numpy as np
from gguf import GGUFReader, quants, GGMLQuantizationType as Q
f = {t.name: t for t in GGUFReader(sys.argv[1]).tensors}
n = 0
for t in GGUFReader(sys.argv[2]).tensors:
    if t.tensor_type != Q.Q4_0:
        continue
    ref = quants.quantize(np.asarray(f[t.name].data), Q.Q4_0)
    if not np.array_equal(ref.reshape(-1), np.asarray(t.data).reshape(-1)):
        sys.exit("mismatch in " + t.name)
    n += 1
print(n)
`;
    const r = spawnSync(PYTHON, ["-c", script, fixturePath("tiny-f32.gguf"), fixturePath("tiny-q4_0.gguf")], {
        env: { ...process.env, PYTHONPATH: join(llamaCppSourceDir(), "gguf-py") },
        encoding: "utf8"
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(Number(r.stdout.trim()), 2 + 7 * 4, "every 2-D weight is Q4_0");
});
