// Held-out lines of every dataset format split into prompt and reference (or skipped with a reason), the CSV
// report's quoting, and the terminal table. Pure: no model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { heldOutFromText } from "../../../sidecar/src/eval/heldOut";
import { csvField, reportCsv, CSV_COLUMNS } from "../../../sidecar/src/eval/reportFiles";
import { formatReport } from "../../../sidecar/src/eval/format";
import type { EvalReport } from "../../../sidecar/src/protocol/sidecar";

const lines = [
    JSON.stringify({ messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }, { role: "user", content: "Capital of France?" }, { role: "assistant", content: "Paris" }] }),
    JSON.stringify({ instruction: "Translate", input: "chat", output: "cat" }),
    "",
    JSON.stringify({ question: "Is water wet?", context: "Physics.", answer: "yes" }),
    JSON.stringify({ prompt: "2+2=", completion: "4" }),
    JSON.stringify({ text: "just some text" }),
    JSON.stringify({ messages: [{ role: "user", content: "no answer" }] }),
    "{not json",
    JSON.stringify({ messages: [{ role: "system", content: "s" }, { role: "assistant", content: "unprompted" }] })
];

test("every format becomes a prompt ending in the question and the last assistant turn as reference", () => {
    const { examples, skipped } = heldOutFromText(lines.join("\n"), "held.jsonl");
    assert.deepEqual(examples.map((e) => [e.line, e.question, e.reference]), [
        [1, "Capital of France?", "Paris"],
        [2, "Translate\n\nchat", "cat"],
        [4, "Physics.\n\nIs water wet?", "yes"],
        [5, "2+2=", "4"]
    ]);
    // The whole conversation before the reference is the prompt: system prompt and earlier turns included.
    assert.deepEqual(examples[0]!.prompt.map((m) => m.role), ["system", "user", "assistant", "user"]);
    assert.deepEqual(skipped.map((s) => s.line), [6, 7, 8, 9]);
    assert.match(skipped[0]!.reason, /text-format line/);
    assert.match(skipped[1]!.reason, /no assistant turn/);
    assert.match(skipped[2]!.reason, /not valid JSON/);
    assert.match(skipped[3]!.reason, /does not follow a user turn/);
    assert.ok(skipped.every((s) => s.file === "held.jsonl"));
});

test("a line filter keeps only those lines (a run's validation split)", () => {
    const { examples, skipped } = heldOutFromText(lines.join("\n"), "held.jsonl", { lines: new Set([2, 5, 8]) });
    assert.deepEqual(examples.map((e) => e.line), [2, 5]);
    assert.deepEqual(skipped.map((s) => s.line), [8]);
});

test("CSV fields are quoted per RFC 4180", () => {
    assert.equal(csvField("plain"), "plain");
    assert.equal(csvField('say "hi", then go'), '"say ""hi"", then go"');
    assert.equal(csvField("two\nlines"), '"two\nlines"');
    assert.equal(csvField(null), "");
    assert.equal(csvField(0.5), "0.5");
    assert.equal(csvField(true), "true");
});

const report: EvalReport = {
    formatVersion: 1,
    createdAt: "2026-11-22T09:30:12.345Z",
    model: "/m/base.gguf",
    adapter: "/r/adapter.gguf",
    data: ["/d/held.jsonl"],
    source: "file",
    maxTokens: 8,
    summary: { rows: 2, skipped: 1, em: { base: 0, tuned: 0.5 }, f1: { base: 0.25, tuned: 0.75 }, yesNo: { rows: 1, base: 0, tuned: 1 }, loss: { base: 3.2, tuned: 1.1 }, lossTokens: 5 },
    rows: [
        { file: "/d/held.jsonl", line: 1, question: "Q1", reference: "yes", base: "no", tuned: "Yes.", em: { base: 0, tuned: 1 }, f1: { base: 0, tuned: 1 }, yesNo: { base: false, tuned: true }, loss: { base: 3, tuned: 1 } },
        { file: "/d/held.jsonl", line: 3, question: "Q2", reference: "a, \"b\"", base: "x\ny", tuned: "b", em: { base: 0, tuned: 0 }, f1: { base: 0.5, tuned: 0.5 }, yesNo: null, loss: { base: 3.4, tuned: 1.2 } }
    ],
    skipped: [{ file: "/d/held.jsonl", line: 2, reason: "no assistant turn" }],
    cancelled: false,
    elapsedSeconds: 1
};

test("the CSV report has the header and one line per row", () => {
    const csv = reportCsv(report).split("\r\n");
    assert.equal(csv[0], CSV_COLUMNS.join(","));
    assert.equal(csv[1], "/d/held.jsonl,1,Q1,yes,no,Yes.,0,1,0,1,false,true,3,1");
    assert.equal(csv[2], '/d/held.jsonl,3,Q2,"a, ""b""","x\ny",b,0,0,0.5,0.5,,,3.4,1.2');
    assert.equal(csv[3], "", "ends with a line break");
});

test("the terminal table shows each row on one line and the summary", () => {
    const text = formatReport(report);
    const rowLines = text.split("\n").filter((l) => /^\s+\d+ {2}/.test(l));
    assert.equal(rowLines.length, 2);
    assert.ok(rowLines[1]!.includes("x⏎y"), "a newline in an answer is shown, not printed");
    assert.match(text, /^skipped held\.jsonl:2: no assistant turn$/m);
    assert.match(text, /^2 examples from held\.jsonl \(1 skipped\)$/m);
    assert.match(text, /^exact match\s+0\.0%\s+50\.0%$/m);
    assert.match(text, /^yes\/no\/maybe \(1\)\s+0\.0%\s+100\.0%$/m);
    assert.match(text, /^loss \(nats\/token\)\s+3\.2000\s+1\.1000$/m);
});
