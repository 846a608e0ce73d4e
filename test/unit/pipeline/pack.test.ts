// Packing and the conversion to engine batches: seq ids, positions and labels, checked against hand-built rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { labelsFor, packFirstFit, toMicroBatch, type PackItem } from "../../../sidecar/src/pipeline/pack";

function item(line: number, tokens: number[], mask: number[]): PackItem {
    return { source: { file: "d.jsonl", line }, sequence: { tokens: Int32Array.from(tokens), trainMask: Uint8Array.from(mask) } };
}

test("first-fit puts each sequence in the first row with room, never splitting one", () => {
    const rows = packFirstFit([
        item(1, [1, 2, 3, 4, 5], [0, 0, 1, 1, 1]),
        item(2, [6, 7, 8, 9], [0, 1, 1, 1]),
        item(3, [10, 11, 12], [0, 0, 1]),
        item(4, [13, 14], [0, 1])
    ], 8);
    assert.deepEqual(rows.map((r) => r.sources.map((s) => s.line)), [[1, 3], [2, 4]]);
    const [a, b] = rows;
    assert.deepEqual(Array.from(a!.tokens), [1, 2, 3, 4, 5, 10, 11, 12]);
    assert.deepEqual(Array.from(a!.seqIds), [0, 0, 0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(a!.positions), [0, 1, 2, 3, 4, 0, 1, 2]);
    assert.deepEqual(Array.from(b!.seqIds), [0, 0, 0, 0, 1, 1]);
    assert.deepEqual(Array.from(b!.positions), [0, 1, 2, 3, 0, 1]);
});

test("labels predict the next target of the same sequence and never cross into the next one", () => {
    const [row] = packFirstFit([item(1, [1, 2, 3, 4], [0, 0, 1, 1]), item(2, [5, 6, 7], [0, 1, 1])], 16);
    // Row tokens 1 2 3 4 | 5 6 7: token 5 (mask 0, new sequence) is never a label, even though it follows 4.
    assert.deepEqual(Array.from(labelsFor(row!)), [-1, 3, 4, -1, 6, 7, -1]);
});

test("a micro-batch is padded with its own sequence, label -1 and fresh positions", () => {
    const [row] = packFirstFit([item(1, [1, 2, 3], [0, 1, 1])], 6);
    const batch = toMicroBatch(row!, { padTo: 6, padToken: 99 });
    assert.deepEqual(Array.from(batch.tokens), [1, 2, 3, 99, 99, 99]);
    assert.deepEqual(Array.from(batch.seqIds), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(batch.positions), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(Array.from(batch.labels), [2, 3, -1, -1, -1, -1]);
});

test("a sequence longer than the row is an error, not a silent split", () => {
    assert.throws(() => packFirstFit([item(7, [1, 2, 3], [0, 1, 1])], 2), /d\.jsonl:7: sequence of 3 tokens does not fit rows of 2/);
});

test("every target token appears exactly once as a label after packing many sequences", () => {
    const items: PackItem[] = [];
    for (let i = 0; i < 40; i++) {
        const n = 2 + ((i * 7) % 9);
        const tokens = Array.from({ length: n }, (_, j) => 1000 * i + j);
        const mask = tokens.map((_, j) => (j >= n / 2 ? 1 : 0));
        items.push(item(i + 1, tokens, mask));
    }
    const rows = packFirstFit(items, 16);
    const labels = rows.flatMap((r) => Array.from(labelsFor(r)).filter((l) => l >= 0)).sort((x, y) => x - y);
    const targets = items.flatMap((it) => Array.from(it.sequence.tokens).filter((_, j) => it.sequence.trainMask[j] === 1)).sort((x, y) => x - y);
    assert.deepEqual(labels, targets);
    for (const r of rows) assert.ok(r.tokens.length <= 16);
});
