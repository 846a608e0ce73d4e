// GPU checks of issue 6, run on the lent GPU machine by bench/gpu/run.sh (and by `npm test` anywhere, where they
// skip by name unless the engine was built with LORA_STUDIO_CUDA=1 and finds a CUDA device):
//   1. a training step on a Q4_0, Q4_K_M, Q8_0 and F16 base puts 0 graph nodes on the CPU (no silent fallback),
//   2. the adapter gradients on the GPU match the CPU engine's on the same base, adapter and micro-batch.
//
// Tolerance of (2), per adapter tensor: relative L2 error ||g_gpu - g_cpu|| / ||g_cpu|| <= GRAD_REL_L2_MAX and
// cosine similarity >= GRAD_COSINE_MIN; the losses agree within LOSS_REL_MAX. The two engines legitimately differ
// in rounding: quantized matmuls quantize the activations to Q8_1 on the GPU (MMQ) and Q8_K/Q8_0 on the CPU, an F16
// base multiplies in F16 through cuBLAS on the GPU, the backward GEMM through a frozen weight runs in BF16 on the GPU
// (patch 0007), and reductions run in a different order. Each of these is around 1e-3 relative per element; the
// bounds leave room for their accumulation over the layers and are to be tightened once GPU runs have measured them
// (the test prints the worst tensor as a diagnostic).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { cpuNodeCount, describeBackend, type NamedTensor, type QuantizeType } from "../../sidecar/src/engine";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { ADAPTER, TEST_SHAPE, engineFixture, engineSkip, optimizer, pack, tokensFrom, type EngineFixture } from "../integration/engineHarness";

const GRAD_REL_L2_MAX = 0.05;
const GRAD_COSINE_MIN = 0.998;
const LOSS_REL_MAX = 0.01;

const BASES: { name: string; make: (fx: EngineFixture, out: string) => Promise<void> }[] = [
    ...(["q4_0", "q4_k_m", "q8_0"] as QuantizeType[]).map((q) => ({ name: q, make: (fx: EngineFixture, out: string) => fx.engine.quantizeModel(fx.modelPath, out, q) })),
    { name: "f16", make: async (_fx: EngineFixture, out: string) => void makeTinyModel({ out, quant: "f16", shape: TEST_SHAPE, seed: 7 }) }
];

function compare(gpu: NamedTensor, cpu: NamedTensor): { relL2: number; cosine: number } {
    let diff = 0, dot = 0, ng = 0, nc = 0;
    for (let i = 0; i < cpu.data.length; i++) {
        const g = gpu.data[i]!, c = cpu.data[i]!;
        diff += (g - c) ** 2;
        dot += g * c;
        ng += g * g;
        nc += c * c;
    }
    return { relL2: Math.sqrt(diff / Math.max(nc, 1e-30)), cosine: dot / Math.max(Math.sqrt(ng * nc), 1e-30) };
}

describe("CUDA training", { skip: engineSkip }, () => {
    let fx: EngineFixture;
    let skipReason: string | false = false;

    before(async () => {
        fx = await engineFixture();
        const caps = fx.engine.capabilities();
        // the reason names the path the engine took, e.g. "CPU: built without CUDA"
        if (!caps.cuda) skipReason = `CUDA absent: ${describeBackend(caps).description}`;
    });
    after(() => fx?.cleanup());

    for (const base of BASES) {
        test(`a training step on a ${base.name} base runs entirely on the GPU and matches the CPU gradients`, async (t) => {
            if (skipReason) {
                t.skip(skipReason);
                return;
            }
            const path = join(fx.dir, `tiny-${base.name}.gguf`);
            await base.make(fx, path);
            const batch = pack([{ tokens: tokensFrom(30, 40) }, { tokens: tokensFrom(31, 24) }]);
            // A nonzero B makes every adapter tensor's gradient informative (with B = 0, lora_a's gradient is 0).
            const warmup = pack([{ tokens: tokensFrom(32, 48) }]);

            const gpuModel = await fx.engine.loadModel(path, { threads: 2, nCtx: 128 });
            const cpuModel = await fx.engine.loadModel(path, { threads: 2, nCtx: 128, device: "cpu" });
            const gpu = await gpuModel.createTrainer(ADAPTER, optimizer({ lr: 1e-3 }));
            const cpu = await cpuModel.createTrainer(ADAPTER, optimizer({ lr: 1e-3 }));
            try {
                await gpu.step(warmup);
                const placement = gpu.backendNodes();
                assert.ok(placement.backends.some((b) => b.name.startsWith("CUDA") && b.nodes > 0), `GPU backend used: ${JSON.stringify(placement.backends)}`);
                assert.equal(cpuNodeCount(placement), 0, `CPU nodes in a training step: ${JSON.stringify(placement.cpuOps)}`);
                assert.deepEqual(cpu.backendNodes(), { backends: [], cpuOps: [] }, "the CPU trainer has not run yet");

                // same adapter state on both: the CPU trainer loads the GPU trainer's checkpoint
                const ckpt = join(fx.dir, `parity-${base.name}.ckpt`);
                await gpu.saveCheckpoint(ckpt, "parity");
                await cpu.loadCheckpoint(ckpt);
                const g = await gpu.computeGradients(batch);
                const c = await cpu.computeGradients(batch);
                assert.equal(cpuNodeCount(gpu.backendNodes()), 0, "computeGradients also stays on the GPU");
                assert.deepEqual(cpu.backendNodes().backends.map((b) => b.name), ["CPU"], "device: cpu is a pure CPU engine");

                assert.ok(Math.abs(g.loss - c.loss) <= LOSS_REL_MAX * Math.abs(c.loss), `loss GPU ${g.loss} vs CPU ${c.loss}`);
                let worst = { name: "", relL2: 0, cosine: 1 };
                for (const [name, cpuGrad] of Object.entries(c.grads)) {
                    const r = compare(g.grads[name]!, cpuGrad);
                    if (r.relL2 > worst.relL2) worst = { name, ...r };
                    assert.ok(r.relL2 <= GRAD_REL_L2_MAX && r.cosine >= GRAD_COSINE_MIN, `${name}: relative L2 ${r.relL2.toExponential(2)}, cosine ${r.cosine.toFixed(6)}`);
                }
                t.diagnostic(`${base.name}: ${JSON.stringify(placement.backends)}; worst gradient ${worst.name} relative L2 ${worst.relL2.toExponential(2)}, cosine ${worst.cosine.toFixed(6)}`);
            } finally {
                gpu.dispose();
                cpu.dispose();
                gpuModel.dispose();
                cpuModel.dispose();
            }
        });
    }
});
