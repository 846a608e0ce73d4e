// The GPU benchmark's summary (bench/gpu/report.ts): MFU against the measured bf16 peak and the engine/HF ratios,
// computed from result lines like those the engine benchmark and the HF baseline print.
import { test } from "node:test";
import assert from "node:assert/strict";
import { summarize } from "../../bench/gpu/report";

test("the summary divides by the measured peak and compares against the fastest HF run", () => {
    const engine = {
        kind: "engine" as const, shape: "s", base: "q4_k_m", backend: "CUDA via …", device: "GPU", tokensPerSecond: 3000,
        peakVramBytes: 2 * 2 ** 30, flopsPerToken: 1e10, tokensPerOptimizerStep: 4096, backendNodes: [{ name: "CUDA0", nodes: 900 }, { name: "CPU", nodes: 0 }]
    };
    const hf = (microBatch: number, tps: number) => ({
        kind: "hf-peft" as const, shape: "s", microBatch, tokensPerSecond: tps, peakVramReservedBytes: 8 * 2 ** 30, peakVramAllocatedBytes: 6 * 2 ** 30, tokensPerOptimizerStep: 4096
    });
    const md = summarize([{ kind: "peak", device: "GPU", bf16Flops: 6e14 }, engine, hf(8, 2000), hf(1, 1000), { ...hf(8, 1), dryRun: true }]);
    assert.match(md, /bf16 matmul peak measured: 600 TFLOP\/s on GPU/);
    assert.match(md, /\| s \| engine q4_k_m \| 4096 \| 3000 \| 2\.00 GiB \| 5\.0% \| 1\.50x \| 0\.25x \|/);
    assert.match(md, /\| s \| HF\+PEFT bf16, micro-batch 8 \| 4096 \| 2000 \| 8\.00 GiB reserved \(6\.00 GiB allocated\) \| 3\.3% \| \| \|/);
    assert.match(md, /graph nodes CUDA0 900, CPU 0/);
    assert.equal(md.match(/HF\+PEFT/g)?.length, 2, "dry-run lines are left out");
});
