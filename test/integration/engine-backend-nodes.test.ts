// Node placement reporting (issue 6): after a training step the engine says how many graph nodes ggml's scheduler
// gave each backend and which ops ran on the CPU. On this CPU-only engine every node is on the CPU, so the counts
// must cover the whole training graph: forward, cross-entropy loss and backward. The GPU twin of this test, which
// asserts 0 CPU nodes, is test/gpu/cuda-training.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpuNodeCount, formatNodeCounts } from "../../sidecar/src/engine";
import { ADAPTER, engineFixture, engineSkip, optimizer, pack, tokensFrom, type EngineFixture } from "./engineHarness";

describe("engine backend node counts", { skip: engineSkip }, () => {
    let fx: EngineFixture;

    before(async () => {
        fx = await engineFixture();
    });
    after(() => fx?.cleanup());

    test("are empty before the first evaluation", async () => {
        const model = await fx.engine.loadModel(fx.modelPath, { threads: 2, nCtx: 64 });
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        try {
            assert.deepEqual(trainer.backendNodes(), { backends: [], cpuOps: [] });
        } finally {
            trainer.dispose();
            model.dispose();
        }
    });

    test("put every node of a training step on the CPU of a CPU-only engine", async (t) => {
        if (fx.engine.capabilities().cuda) {
            t.skip("a GPU is present: test/gpu/cuda-training.test.ts checks the placement there");
            return;
        }
        const model = await fx.engine.loadModel(fx.modelPath, { threads: 2, nCtx: 64 });
        const trainer = await model.createTrainer(ADAPTER, optimizer());
        try {
            const batch = pack([{ tokens: tokensFrom(5, 20) }, { tokens: tokensFrom(6, 12) }]);
            await trainer.evalLoss(batch);
            const forward = trainer.backendNodes();
            await trainer.step(batch);
            const training = trainer.backendNodes();

            assert.deepEqual(training.backends.map((b) => b.name), ["CPU"]);
            const cpu = cpuNodeCount(training);
            assert.ok(cpu > 0, "a training step has nodes");
            assert.equal(training.cpuOps.reduce((sum, o) => sum + o.nodes, 0), cpu, "the op breakdown covers every CPU node");
            // the backward pass at least doubles the graph of the forward pass with its loss
            assert.ok(cpu > 2 * cpuNodeCount(forward), `training graph ${cpu} nodes, forward ${cpuNodeCount(forward)}`);
            const ops = new Set(training.cpuOps.map((o) => o.op.replace(/\(.*$/, "")));
            for (const op of ["MUL_MAT", "CROSS_ENTROPY_LOSS", "CROSS_ENTROPY_LOSS_BACK", "OUT_PROD", "SOFT_MAX_BACK", "ROPE_BACK", "RMS_NORM_BACK"]) {
                assert.ok(ops.has(op), `${op} is in the training graph (got ${[...ops].join(", ")})`);
            }
            assert.deepEqual(forward.cpuOps.filter((o) => /_BACK\(/.test(o.op)), [], "evalLoss builds no backward pass");
            // sorted most frequent first, and the log line names the backend
            const counts = training.cpuOps.map((o) => o.nodes);
            assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
            assert.match(formatNodeCounts(training), new RegExp(`^graph nodes per backend: CPU ${cpu}$`));
        } finally {
            trainer.dispose();
            model.dispose();
        }
    });
});
