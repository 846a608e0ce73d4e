// The pure parts of out-of-memory recovery: halving the micro-batch down to the longest example, finding the same
// place of an epoch among shorter rows. (The simulated out-of-memory failures of the integration tests are a fake
// engine injected into the run service, test/integration/simulatedOutOfMemory.ts, no longer an environment switch.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { packEpoch } from "../../../sidecar/src/pipeline";
import type { TokenizedExample } from "../../../sidecar/src/pipeline/types";
import { OutOfMemoryError } from "../../../sidecar/src/engine";
import type { ResolvedRunConfig } from "../../../sidecar/src/training/config";
import { longestSequence, shrinkMicroBatch, smallerAfterOutOfMemory, translateCursor } from "../../../sidecar/src/training/oomRecovery";

function example(line: number, length: number): TokenizedExample {
    const mask = new Uint8Array(length).fill(1);
    mask[0] = 0;
    return { source: { file: "d.jsonl", line }, key: String(line), sequences: [{ tokens: new Int32Array(length).fill(line), trainMask: mask }] };
}

// 40 examples of 9 to 30 tokens: rows of 128 hold several, rows of 64 fewer.
const train = Array.from({ length: 40 }, (_, i) => example(i + 1, 9 + ((i * 7) % 22)));

test("the micro-batch halves (gradAccum doubles) until rows would be shorter than the longest example", () => {
    assert.equal(longestSequence({ train, validation: [example(99, 33)] }), 33);
    assert.deepEqual(shrinkMicroBatch({ sequenceLength: 128, gradAccum: 2 }, 30), { sequenceLength: 64, gradAccum: 4 });
    assert.deepEqual(shrinkMicroBatch({ sequenceLength: 64, gradAccum: 4 }, 30), { sequenceLength: 32, gradAccum: 8 });
    assert.equal(shrinkMicroBatch({ sequenceLength: 32, gradAccum: 8 }, 30), undefined);
    assert.equal(shrinkMicroBatch({ sequenceLength: 31, gradAccum: 1 }, 0), undefined, "never below the schema's 16 tokens");
});

test("a cursor among long rows moves to the first short row holding an untrained example: none skipped", () => {
    for (const epoch of [0, 1]) {
        const oldRows = packEpoch(train, 128, 7, epoch);
        const newRows = packEpoch(train, 64, 7, epoch);
        assert.ok(newRows.length > oldRows.length);
        assert.deepEqual(translateCursor(train, 7, { epoch, row: 0 }, 128, 64), { epoch, row: 0 });
        for (let row = 1; row <= oldRows.length; row++) {
            const moved = translateCursor(train, 7, { epoch, row }, 128, 64);
            assert.equal(moved.epoch, epoch);
            const trained = new Set(oldRows.slice(0, row).flatMap((r) => r.sources.map((s) => s.line)));
            const skipped = newRows.slice(0, moved.row).flatMap((r) => r.sources.map((s) => s.line)).filter((line) => !trained.has(line));
            assert.deepEqual(skipped, [], `row ${row} → ${moved.row}: examples before the new cursor were all trained`);
            if (moved.row < newRows.length) {
                assert.ok(newRows[moved.row]!.sources.some((s) => !trained.has(s.line)), "the new cursor's row has an untrained example");
            }
        }
        assert.equal(translateCursor(train, 7, { epoch, row: oldRows.length }, 128, 64).row, newRows.length, "the end of the epoch stays the end");
    }
});

test("one out-of-memory turn: at load the adjustment keeps the first shape, mid-run it reports each restart; none left throws", () => {
    const prepared = { train, validation: [] };
    const config = { sequenceLength: 128, gradAccum: 2, learningRate: 1e-3 } as unknown as ResolvedRunConfig;
    const first = smallerAfterOutOfMemory({ config, prepared }, "cudaMalloc failed", false, undefined);
    assert.equal(first.config.sequenceLength, 64);
    assert.equal(first.config.gradAccum, 4);
    assert.equal((first.config as unknown as { learningRate: number }).learningRate, 1e-3, "the rest of the config is kept");
    assert.match(first.adjustment.reason, /while loading with sequenceLength 128 \(cudaMalloc failed\)/);
    const second = smallerAfterOutOfMemory({ config: first.config, prepared }, "again", false, first.adjustment);
    assert.deepEqual([second.adjustment.previousSequenceLength, second.adjustment.previousGradAccum], [128, 2], "at load: from the first config");
    assert.deepEqual([second.adjustment.sequenceLength, second.adjustment.gradAccum], [32, 8]);
    const midRun = smallerAfterOutOfMemory({ config: first.config, prepared }, "step 5", true, first.adjustment);
    assert.deepEqual([midRun.adjustment.previousSequenceLength, midRun.adjustment.previousGradAccum], [64, 4], "mid-run: from this attempt");
    assert.match(midRun.adjustment.reason, /continuing from the last checkpoint/);
    assert.throws(() => smallerAfterOutOfMemory({ config: second.config, prepared }, "still", true, undefined),
        (e: unknown) => e instanceof OutOfMemoryError && /already the smallest the data allows \(sequenceLength 32, the longest example has 30 tokens\)/.test(e.message));
});
