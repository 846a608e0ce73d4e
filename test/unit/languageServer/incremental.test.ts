// The server's incremental path must agree with validating from scratch: random LSP edits (typing, pasting
// several lines, deleting across lines, batches of changes before one validation) on a LineBuffer and a
// DatasetDocument, checked against the pure core run on the whole resulting text.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Range } from "vscode-languageserver";
import { validateJsonl } from "../../../sidecar/src/datasets/index";
import { DatasetDocument } from "../../../extension/server/datasetDocument";
import { LineBuffer, splitLines } from "../../../extension/server/lineBuffer";
import { prng as rng } from "../support/prng";

const SNIPPETS = [
    '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}',
    '{"instruction":"Add","input":"1+1","output":"2"}',
    '{"prompt":"2+2=","completion":"4"}',
    '{"text":"raw"}',
    '{"messages":[{"role":"user","content":"no answer"}]}',
    "",
    "  ",
    "{broken",
    '"a string"'
];

type RangeChange = { range: Range; text: string };

function randomChange(lines: string[], random: () => number): RangeChange {
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const line = Math.floor(random() * lines.length);
    const endLine = Math.min(lines.length - 1, line + Math.floor(random() * 3));
    const startChar = Math.floor(random() * (lines[line]!.length + 1));
    const endChar = endLine === line ? startChar + Math.floor(random() * (lines[line]!.length - startChar + 1)) : Math.floor(random() * (lines[endLine]!.length + 1));
    const kind = random();
    const text = kind < 0.4 ? pick(["a", "}", '"', " ", "x1"]) : kind < 0.7 ? `${pick(SNIPPETS)}\n${pick(SNIPPETS)}` : kind < 0.85 ? "\n" : "";
    return { range: { start: { line, character: startChar }, end: { line: endLine, character: endChar } }, text };
}

function applyToText(lines: string[], change: RangeChange): string[] {
    const { start, end } = change.range;
    const merged = lines[start.line]!.slice(0, start.character) + change.text + lines[end.line]!.slice(end.character);
    return [...lines.slice(0, start.line), ...splitLines(merged), ...lines.slice(end.line + 1)];
}

test("LineBuffer: merged pending edits replay the exact text change", () => {
    for (let seed = 1; seed <= 200; seed++) {
        const random = rng(seed);
        const initial = Array.from({ length: 1 + Math.floor(random() * 8) }, (_, i) => SNIPPETS[i % SNIPPETS.length]!);
        const buffer = new LineBuffer(initial.join("\n"));
        buffer.takePending();
        let expected = initial;
        let seen = [...initial]; // what a consumer of takePending() has
        for (let step = 0; step < 12; step++) {
            const change = randomChange(expected, random);
            buffer.applyChange(change.range, change.text);
            expected = applyToText(expected, change);
            if (random() < 0.4) {
                const pending = buffer.takePending();
                if (pending === "all") seen = buffer.slice(0, buffer.lineCount);
                else if (pending) seen = [...seen.slice(0, pending.start), ...buffer.slice(pending.start, pending.newEnd), ...seen.slice(pending.oldEnd)];
                assert.deepEqual(seen, expected, `seed ${seed}, step ${step}`);
            }
        }
        assert.deepEqual(buffer.slice(0, buffer.lineCount), expected, `seed ${seed}`);
    }
});

test("DatasetDocument: incremental validation equals validating the whole text", async () => {
    for (let seed = 1; seed <= 60; seed++) {
        const random = rng(seed * 7919);
        let lines = Array.from({ length: 2 + Math.floor(random() * 10) }, () => SNIPPETS[Math.floor(random() * SNIPPETS.length)]!);
        const doc = new DatasetDocument("file:///t.jsonl", lines.join("\n"), 1, { maxDiagnostics: 50 });
        await doc.validate();
        for (let round = 0; round < 6; round++) {
            const batch = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
                const change = randomChange(lines, random);
                lines = applyToText(lines, change);
                return change;
            });
            doc.applyChanges(batch, round + 2);
            const incremental = await doc.validate();
            const scratch = validateJsonl(lines.join("\n"), { maxDiagnostics: 50 });
            assert.equal(doc.buffer.text(), lines.join("\n"), `seed ${seed} round ${round}: text`);
            assert.deepEqual(incremental.diagnostics, scratch.diagnostics, `seed ${seed} round ${round}: diagnostics`);
            assert.deepEqual(incremental.counts, scratch.counts, `seed ${seed} round ${round}: counts`);
        }
    }
});

test("DatasetDocument: a full pass in slices equals one synchronous pass", async () => {
    const lines = Array.from({ length: 25_000 }, (_, i) => (i % 997 === 0 ? SNIPPETS[i % SNIPPETS.length]! : `{"messages":[{"role":"user","content":"q${i % 5000}"},{"role":"assistant","content":"a"}]}`));
    const text = lines.join("\n");
    const doc = new DatasetDocument("file:///big.jsonl", text, 1, { maxDiagnostics: 300 });
    const sliced = await doc.validate();
    const whole = validateJsonl(text, { maxDiagnostics: 300 });
    assert.deepEqual(sliced.diagnostics, whole.diagnostics);
    assert.deepEqual(sliced.counts, whole.counts);
    assert.equal(sliced.format, whole.format);
});
