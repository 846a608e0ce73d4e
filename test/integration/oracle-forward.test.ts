// Validates the PyTorch reference itself before it judges our engine: on every architecture's tiny F32 model its
// logits for a prompt longer than the sliding window match stock node-llama-cpp's (RoPE layout, GQA, norms, biases,
// QK-norm, fused projections, GeGLU, soft-caps, sliding windows, NoPE layers, attention temperature), with and without
// a LoRA adapter on every projection; and the Q4_0 fixtures hold exactly the bytes gguf-py's reference quantizer
// produces from the F32 weights.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURES, TRAINABLE_FIXTURE_ARCHS, archFixturePath, fixturePath } from "../oracle/fixtures";
import { stockLlama, stockLogits } from "../oracle/nodeLlamaLogits";
import { writeRandomAdapter } from "../oracle/randomAdapter";
import { PYTHON, repoRoot, runTorchReference, type OracleRequest } from "../oracle/torchReference";
import { maxAbsDiff } from "../oracle/metrics";
import { GgmlType, kvNumber, readGguf } from "../../sidecar/src/gguf";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";
import { TINY_SLIDING_WINDOW } from "../../sidecar/src/tinyModel/archs";

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

const Q4_FIXTURES = Object.entries(FIXTURES).filter(([, f]) => f.quant === "q4_0" && !f.experts);

// Reads both files with the reference's header reader (gguf-py's GGUFReader takes 45 s over a 262k-token tokenizer).
const Q4_SCRIPT = `
import sys, numpy as np
sys.path.insert(0, sys.argv[3])
from torch_arch import FastGguf
from gguf import quants, GGMLQuantizationType as Q
f32, q4 = FastGguf(sys.argv[1]), FastGguf(sys.argv[2])
ref = {i[0]: i for i in f32.infos}
n = 0
for info in q4.infos:
    if info[2] != Q.Q4_0:
        continue
    want = quants.quantize(f32.tensor(*ref[info[0]]), Q.Q4_0)
    if not np.array_equal(want.reshape(-1), np.asarray(q4.tensor_bytes(*info)).reshape(-1)):
        sys.exit("mismatch in " + info[0])
    n += 1
print(n)
`;

for (const [q4Name, spec] of Q4_FIXTURES) {
    test(`${q4Name} is bit-exact with gguf-py's Q4_0 quantization of the F32 weights`, () => {
        const f32Name = q4Name.replace("q4_0", "f32");
        const r = spawnSync(PYTHON, ["-c", Q4_SCRIPT, fixturePath(f32Name), fixturePath(q4Name), join(repoRoot(), "test", "oracle")], {
            env: { ...process.env, PYTHONPATH: join(llamaCppSourceDir(), "gguf-py") },
            encoding: "utf8"
        });
        assert.equal(r.status, 0, r.stderr);
        const weights = readGguf(fixturePath(q4Name), { skipArraysOver: 64 }).tensors.filter((x) => x.dims.length >= 2);
        assert.ok(weights.length > 0 && weights.every((x) => x.type === GgmlType.Q4_0), `every 2-D weight of ${spec.arch} is Q4_0`);
        assert.equal(Number(r.stdout.trim()), weights.length, "and each one matches gguf-py's");
    });
}

const dir = mkdtempSync(join(tmpdir(), "oracle-forward-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// One text for every vocabulary; its first 64 tokens reach four times past the 16-token sliding window.
const TEXT = "The old lighthouse keeper counted the ships every night. He wrote their names in a blue notebook, "
    + "and when the fog came in from the sea he lit the lamp early and sang to himself. One winter a small boat with "
    + "a red sail arrived at the harbour, and nobody knew where it had come from or who had built it.";
const N_TOKENS = 64;
// Rows compared: both sides of the window edge (15/16/17), of the attention-temperature steps (31/32/33, 63), and
// spread between. A 262k vocabulary makes every row 1 MB of logits, so not all 64.
const ROWS = [0, 1, 8, 15, 16, 17, 24, 31, 32, 33, 40, 47, 48, 56, 62, 63];

/**
 * Bounds on |torch − llama.cpp| over ROWS (max, and root mean square), both sides in float32 with an F32 KV cache.
 * Measured on this prompt (2 threads): max 6–9e-6, rms 1.0–1.3e-6 for qwen2, qwen3, phi3, smollm3 and mistral3, whose
 * logits reach 5-8 (their final norms are centred on 5, see tinyModel/archs.ts), max 1.3e-6 for llama (logits ≤ 1.5);
 * what remains is summation order.
 *
 * Stock node-llama-cpp's GeGLU goes through ggml-cpu's fp16 GELU table (GGML_GELU_FP16, defined unconditionally in
 * ggml/src/ggml-cpu/vec.h; our engine's patch 0010 turns it off), which the reference reproduces here. But a gate
 * value that float32 summation order puts on the other side of an fp16 rounding step (a 1e-7 relative difference)
 * comes out one fp16 step (5e-4 relative) away: rare, sparse jumps, which Gemma 2 and 3's post-FFN RMSNorm rescales to
 * unit size along with the small FFN output. Perturbing the gate by 1e-7 relative moves the reference's own logits by
 * as much as it differs from llama.cpp. Measured against llama.cpp:
 *   gemma  max 7.1e-4, rms 7.3e-5   (plain tanh GELU: max 1.8e-3, rms 2.8e-4)
 *   gemma2 max 1.5e-3, rms 2.1e-4   (plain tanh GELU: max 5.8e-3, rms 9.3e-4)
 *   gemma3 max 1.1e-3, rms 1.3e-4   (plain tanh GELU: max 3.4e-3, rms 5.9e-4)
 *   gemma4 max 5.3e-3, rms 6.0e-4   (two GELUs a layer, the FFN's and the per-layer input gate's, each followed by an
 *                                    RMSNorm that rescales a jump)
 * The jumps are sparse, so the rms bound stays tight enough to tell the table from the formula (the plain formula in
 * the reference turns gemma and gemma3 red). Each other mistake tried in the reference went red too, moving the logits
 * 20x to 10^5x past its bound (max |Δ|): no attention soft-cap (0.10) or final soft-cap (0.21) in gemma2; a causal-only
 * mask (1.8–10) or `> n_swa` for `>= n_swa` (0.95–7.4) in gemma2/3; the global RoPE base on gemma3's sliding layers
 * (0.87); no QK-norm (1.0–1.3); no post-norm (12); no embedding scale (4.9); NORM for NEOX RoPE (0.07–0.82); SiLU on
 * phi3's up half (0.49); RoPE on smollm3's NoPE layer (0.097); no mistral3 temperature (0.022); no qwen2 biases (1.6);
 * LoRA without alpha/rank (0.30).
 */
const BOUNDS: Partial<Record<string, { max: number; rms: number }>> = {
    gemma: { max: 2e-3, rms: 1.2e-4 },
    gemma2: { max: 5e-3, rms: 5e-4 },
    gemma3: { max: 3e-3, rms: 2.5e-4 },
    gemma4: { max: 1e-2, rms: 1e-3 }
};
const DEFAULT_BOUNDS = { max: 2e-5, rms: 5e-6 };

function rmsDiff(a: Float32Array, b: Float32Array): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return Math.sqrt(s / a.length);
}

/** Asserts both bounds; returns the measured pair for the diagnostics. */
function checkClose(label: string, torch: Float32Array, stock: Float32Array, bounds: { max: number; rms: number }): string {
    const max = maxAbsDiff(torch, stock);
    const rms = rmsDiff(torch, stock);
    assert.ok(max < bounds.max && rms < bounds.rms, `${label}: |torch - llama.cpp| max ${max}, rms ${rms}; bounds ${bounds.max}, ${bounds.rms}`);
    return `max ${max.toExponential(2)}, rms ${rms.toExponential(2)} (bounds ${bounds.max}, ${bounds.rms})`;
}

function batchOf(tokens: number[]): OracleRequest["batches"][number] {
    return { tokens, positions: tokens.map((_, i) => i), seqIds: tokens.map(() => 0), labels: tokens.map(() => -1) };
}

for (const arch of TRAINABLE_FIXTURE_ARCHS) {
    test(`${arch}: the torch reference's logits match stock node-llama-cpp's, with and without a LoRA adapter`, async (t) => {
        const modelPath = archFixturePath(arch, "f32");
        const nVocab = readGguf(modelPath, { skipArraysOver: 64 }).tensors.find((x) => x.name === "token_embd.weight")!.dims[1]!;
        const bounds = BOUNDS[arch] ?? DEFAULT_BOUNDS;
        const llama = await stockLlama();
        const model = await llama.loadModel({ modelPath });
        try {
            const tokens = (model.tokenize(TEXT, false) as number[]).slice(0, N_TOKENS);
            assert.equal(tokens.length, N_TOKENS, `the text is ${N_TOKENS} tokens or more in ${arch}'s vocabulary`);
            const reference = async (extra: Partial<OracleRequest>): Promise<Float32Array> =>
                Float32Array.from((await runTorchReference({ model: modelPath, mode: "logits", logitRows: ROWS, batches: [batchOf(tokens)], ...extra })).logits![0]!);

            const stock = await stockLogits(model, tokens, nVocab, { rows: ROWS });
            assert.ok(stock.every(Number.isFinite), "stock node-llama-cpp gives finite logits");
            t.diagnostic(`|torch - llama.cpp|: ${checkClose(arch, await reference({}), stock, bounds)}`);

            const adapterPath = join(dir, `${arch}-adapter.gguf`);
            const covered = writeRandomAdapter(modelPath, adapterPath);
            const stockLora = await stockLogits(model, tokens, nVocab, { rows: ROWS, loraPath: adapterPath });
            assert.ok(maxAbsDiff(stockLora, stock) > 100 * bounds.max, "the adapter moves the logits far more than the bound (the check is not vacuous)");
            t.diagnostic(`with a LoRA on ${covered.length} weights: ${checkClose(`${arch} + LoRA`, await reference({ adapter: adapterPath }), stockLora, bounds)}`);

            if (arch === "gemma2" || arch === "gemma3" || arch === "gemma4") {
                // Rows before the window's edge see the same keys under either mask; every later row sees fewer.
                const causal = await reference({ causalOnly: true });
                const edge = ROWS.indexOf(TINY_SLIDING_WINDOW);
                const early = maxAbsDiff(causal.subarray(0, edge * nVocab), stock.subarray(0, edge * nVocab));
                const late = maxAbsDiff(causal.subarray(edge * nVocab), stock.subarray(edge * nVocab));
                t.diagnostic(`causal-only mask: rows < ${TINY_SLIDING_WINDOW} differ by ${early.toExponential(2)}, later rows by ${late.toExponential(2)}`);
                assert.ok(early < bounds.max && late > 100 * bounds.max, `a causal-only mask matches rows before the window edge (${early}) and misses after it (${late})`);
            }
            if (arch === "gemma") {
                // The exact tanh formula instead of ggml's fp16 table misses the rms bound (2.3x).
                const tanh = rmsDiff(await reference({ gelu: "tanh" }), stock);
                t.diagnostic(`GELU without ggml's fp16 table: rms |torch - llama.cpp| = ${tanh.toExponential(2)}`);
                assert.ok(tanh > bounds.rms, `the fp16 GELU table matters at this bound (rms ${tanh})`);
            }
        } finally {
            await model.dispose();
        }
    });
}

