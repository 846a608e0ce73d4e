// The data cursor stored in checkpoints: where the next micro-batch comes from, plus the loss sums of a group
// of micro-batches accumulated before a cancel (the engine's checkpoint holds their gradients).
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeCursor, encodeCursor } from "../../../sidecar/src/training/trainer";

test("a cursor at an update boundary round-trips as plain {epoch, row}", () => {
    const text = encodeCursor({ epoch: 2, row: 7 });
    assert.deepEqual(JSON.parse(text), { epoch: 2, row: 7 });
    assert.deepEqual(decodeCursor(text, "ckpt"), { cursor: { epoch: 2, row: 7 }, group: { lossSum: 0, lossCount: 0, tokens: 0 } });
});

test("a partly accumulated group round-trips exactly", () => {
    const group = { lossSum: 8.049409866333008 + 1e-15, lossCount: 3, tokens: 96 };
    assert.deepEqual(decodeCursor(encodeCursor({ epoch: 1, row: 3 }, group), "ckpt"), { cursor: { epoch: 1, row: 3 }, group });
});

test("malformed cursors name the checkpoint", () => {
    assert.throws(() => decodeCursor(JSON.stringify({ epoch: 1 }), "run/step-4.ckpt"), /run\/step-4\.ckpt: .* is not \{epoch, row\}/);
    assert.throws(() => decodeCursor(JSON.stringify({ epoch: 1, row: 2, group: { lossSum: "x", lossCount: 1, tokens: 3 } }), "run/step-4.ckpt"),
        /run\/step-4\.ckpt: .*malformed group/);
});
