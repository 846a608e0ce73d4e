// Truncation policies, seeded shuffling, the train/validation split, leakage and the up-front error report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyTruncation } from "../../../sidecar/src/pipeline/truncate";
import { seededShuffle } from "../../../sidecar/src/pipeline/shuffle";
import { findLeakage, splitByRatio } from "../../../sidecar/src/pipeline/split";
import { prepareDataset, packEpoch } from "../../../sidecar/src/pipeline/prepare";
import { PipelineError, type TokenizedExample } from "../../../sidecar/src/pipeline/types";
import { CHATML_TEMPLATE, fakeTokenizer } from "./support/fakeTokenizer";

function example(line: number, tokens: number[], mask: number[], key = `k${line}`): TokenizedExample {
    return { source: { file: "d.jsonl", line }, key, sequences: [{ tokens: Int32Array.from(tokens), trainMask: Uint8Array.from(mask) }] };
}

const long = example(1, [1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]);
const short = example(2, [7, 8, 9], [0, 1, 1]);

test("truncation 'drop' leaves out long examples and says so", () => {
    const { kept, issues } = applyTruncation([long, short], 4, "drop");
    assert.deepEqual(kept.map((e) => e.source.line), [2]);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.code, "too-long-dropped");
    assert.equal(issues[0]!.source.line, 1);
});

test("truncation 'truncate-left' keeps the end; the new first token is not a target", () => {
    const { kept, issues } = applyTruncation([long], 4, "truncate-left");
    assert.deepEqual(Array.from(kept[0]!.sequences[0]!.tokens), [3, 4, 5, 6]);
    assert.deepEqual(Array.from(kept[0]!.sequences[0]!.trainMask), [0, 1, 1, 1]);
    assert.equal(issues[0]!.code, "truncated");
});

test("truncation 'truncate-right' keeps the start, and drops an example left with no targets", () => {
    const kept = applyTruncation([long], 5, "truncate-right").kept;
    assert.deepEqual(Array.from(kept[0]!.sequences[0]!.tokens), [1, 2, 3, 4, 5]);
    assert.deepEqual(Array.from(kept[0]!.sequences[0]!.trainMask), [0, 0, 0, 1, 1]);
    const none = applyTruncation([long], 3, "truncate-right");
    assert.equal(none.kept.length, 0);
    assert.equal(none.issues[0]!.code, "too-long-dropped");
});

test("seeded shuffle is deterministic per seed and stream, and a permutation", () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const a = seededShuffle(items, 42);
    assert.deepEqual(seededShuffle(items, 42), a);
    assert.notDeepEqual(seededShuffle(items, 43), a);
    assert.notDeepEqual(seededShuffle(items, 42, 1), a);
    assert.notDeepEqual(a, items);
    assert.deepEqual([...a].sort((x, y) => x - y), items);
});

test("split by ratio is seeded, disjoint and complete", () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const s = splitByRatio(items, 0.25, 7);
    assert.equal(s.validation.length, 5);
    assert.deepEqual([...s.train, ...s.validation].sort((x, y) => x - y), items);
    assert.deepEqual(splitByRatio(items, 0.25, 7), s);
    assert.equal(splitByRatio([1, 2, 3], 0.1, 1).validation.length, 1, "a small set still gets one validation example");
});

test("leakage: identical normalized examples in both sets are reported with both lines", () => {
    const train = [example(3, [1], [0], "same"), example(4, [1], [0], "other")];
    const val = [{ ...example(9, [1], [0], "same"), source: { file: "val.jsonl", line: 2 } }];
    const issues = findLeakage(train, val);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.code, "leakage");
    assert.deepEqual(issues[0]!.source, { file: "val.jsonl", line: 2 });
    assert.match(issues[0]!.message, /d\.jsonl:3/);
});

const chat = (q: string, a: string): string => JSON.stringify({ messages: [{ role: "user", content: q }, { role: "assistant", content: a }] });

test("prepareDataset reports every example with zero trainable tokens, by file and line, before anything else", () => {
    const text = [chat("a", "b"), JSON.stringify({ messages: [{ role: "user", content: "no reply" }] }), "", "{oops", chat("c", "d")].join("\n");
    assert.throws(() => prepareDataset({
        train: { file: "data/train.jsonl", text }, seed: 1, sequenceLength: 256, truncation: "drop", chatTemplate: CHATML_TEMPLATE, tokenizer: fakeTokenizer()
    }), (err: unknown) => {
        assert.ok(err instanceof PipelineError);
        assert.deepEqual(err.issues.map((i) => [i.source.line, i.code]), [[4, "invalid-example"], [2, "no-trainable-tokens"]]);
        assert.match(err.message, /data\/train\.jsonl:2: no trainable tokens/);
        return true;
    });
});

test("prepareDataset with a separate validation file reports leakage and packs epochs deterministically", () => {
    const train = Array.from({ length: 12 }, (_, i) => chat(`q${i}`, `a${i}`)).join("\n");
    const validation = [chat("q3", "a3"), chat("new", "one")].join("\n");
    const prepared = prepareDataset({
        train: { file: "t.jsonl", text: train }, validation: { file: "v.jsonl", text: validation },
        seed: 5, sequenceLength: 64, truncation: "truncate-left", chatTemplate: CHATML_TEMPLATE, tokenizer: fakeTokenizer()
    });
    assert.equal(prepared.stats.trainExamples, 12);
    assert.equal(prepared.stats.validationExamples, 2);
    assert.deepEqual(prepared.warnings.map((w) => [w.source.file, w.source.line, w.code]), [["v.jsonl", 1, "leakage"]]);
    const epoch0 = packEpoch(prepared.train, 64, 5, 0);
    assert.deepEqual(packEpoch(prepared.train, 64, 5, 0), epoch0);
    const order = (rows: typeof epoch0): number[] => rows.flatMap((r) => r.sources.map((s) => s.line));
    assert.notDeepEqual(order(packEpoch(prepared.train, 64, 5, 1)), order(epoch0), "each epoch has its own order");
    assert.deepEqual([...order(epoch0)].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i + 1));
});
