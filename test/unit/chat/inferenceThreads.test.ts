// The default thread count for answering (issue 12.8): never more than the physical cores, one thread for small
// models, an explicit setting wins. The figures behind SINGLE_THREAD_BELOW_WEIGHTS come from bench/eval-threads.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { defaultInferenceThreads, physicalCoreCount, SINGLE_THREAD_BELOW_WEIGHTS, weightsPerToken } from "../../../sidecar/src/chat/inferenceThreads";

const cpuinfo = (pairs: Array<[number, number]>): string => pairs.map(([p, c], i) => `processor\t: ${i}\nphysical id\t: ${p}\ncore id\t\t: ${c}\n`).join("\n");

test("physical cores are distinct (package, core) pairs, never more than the CPUs this process may use", () => {
    assert.equal(physicalCoreCount(cpuinfo([[0, 0], [0, 1], [0, 0], [0, 1]])), Math.min(2, availableParallelism()), "hyperthreads count once");
    assert.equal(physicalCoreCount(cpuinfo([[0, 0], [1, 0]])), Math.min(2, availableParallelism()), "two packages with core 0 each");
    assert.equal(physicalCoreCount(""), availableParallelism(), "no topology: the logical count");
    assert.ok(physicalCoreCount() <= availableParallelism());
});

test("small models get one thread, larger ones every physical core, an explicit count wins", () => {
    assert.equal(defaultInferenceThreads(SINGLE_THREAD_BELOW_WEIGHTS - 1, undefined, 8), 1);
    assert.equal(defaultInferenceThreads(SINGLE_THREAD_BELOW_WEIGHTS, undefined, 8), 8);
    assert.equal(defaultInferenceThreads(1e9, 0, 8), 8, "0 means the default");
    assert.equal(defaultInferenceThreads(1e9, 3, 8), 3);
    for (const cores of [1, 2, 16]) assert.ok(defaultInferenceThreads(1e12, undefined, cores) <= cores);
});

test("weights per token leave out the embedding lookup, except where the output reuses the embedding", () => {
    const layer = { name: "blk.0.attn_q.weight", dims: [256, 256] };
    const embd = { name: "token_embd.weight", dims: [256, 32000] };
    assert.equal(weightsPerToken([embd, layer, { name: "output.weight", dims: [256, 32000] }]), 256 * 256 + 256 * 32000);
    assert.equal(weightsPerToken([embd, layer]), 256 * 256 + 256 * 32000, "tied embeddings: the output matmul uses them");
});
