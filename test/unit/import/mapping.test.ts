// The import's pure parts: which preset a file's columns (and first values) fit, the mapping the user asks for,
// templates, one row → one chat example, and the seeded split.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rowConverter, seededSplit } from "../../../sidecar/src/import/convert";
import { CellError, ImportRequestError } from "../../../sidecar/src/import/errors";
import { detectPresets, resolveMapping } from "../../../sidecar/src/import/mapping";
import { compileTemplate, renderTemplate } from "../../../sidecar/src/import/template";
import type { ImportRow } from "../../../sidecar/src/import/types";

const rows = (...values: Array<Record<string, unknown>>): ImportRow[] => values.map((v, i) => ({ row: i + 1, values: v }));

test("each preset is detected from its columns, the most specific first", () => {
    assert.deepEqual(detectPresets(["question", "distractor1", "correct_answer", "support"], []), ["sciq"]);
    assert.deepEqual(detectPresets(["pubid", "question", "context", "long_answer", "final_decision"], []), ["pubmedqa"]);
    assert.deepEqual(detectPresets(["instruction", "input", "output"], []), ["alpaca"]);
    assert.deepEqual(detectPresets(["instruction", "context", "response", "category"], []), ["dolly"]);
    assert.deepEqual(detectPresets(["id", "conversations"], rows({ id: 1, conversations: [{ from: "human", value: "hi" }] })), ["sharegpt"]);
    assert.deepEqual(detectPresets(["messages"], rows({ messages: [{ role: "user", content: "hi" }] })), ["openai"]);
    // A conversation column in a CSV holds JSON text.
    assert.deepEqual(detectPresets(["messages"], rows({ messages: "[{\"role\":\"user\",\"content\":\"hi\"}]" })), ["openai"]);
    assert.deepEqual(detectPresets(["q", "a"], rows({ q: "x", a: "y" })), []);
});

test("the detected preset maps SciQ and PubMedQA (struct context) to user/assistant templates", () => {
    const sciq = resolveMapping({}, ["question", "correct_answer", "support"], []);
    assert.equal(sciq.detected, "sciq");
    assert.deepEqual(sciq.mapping, { kind: "templates", preset: "sciq", user: "Question: {question}\\nContext: {support}", assistant: "{correct_answer}" });
    const pubmed = resolveMapping({ system: "Answer yes, no or maybe." }, ["question", "context", "long_answer", "final_decision"], rows({ context: { contexts: ["a", "b"] } }));
    assert.deepEqual(pubmed.mapping, { kind: "templates", preset: "pubmedqa", user: "Question: {question}\\nContext: {context.contexts}", assistant: "{final_decision}\\n\\n{long_answer}", system: "Answer yes, no or maybe." });
});

test("a named preset that does not fit, or unknown columns without templates, is refused with the columns", () => {
    assert.throws(() => resolveMapping({ mapping: "sciq" }, ["q", "a"], []), (e: Error) => e instanceof ImportRequestError && /SciQ mapping needs.*"correct_answer".*the file has "q", "a"/.test(e.message));
    assert.throws(() => resolveMapping({}, ["q", "a"], []), (e: Error) => e instanceof ImportRequestError && /no mapping fits the columns "q", "a"/.test(e.message));
    const custom = resolveMapping({ user: "{q}", assistant: "{a}" }, ["q", "a"], []);
    assert.deepEqual(custom.mapping, { kind: "templates", user: "{q}", assistant: "{a}" });
    // A template overrides one message of a preset and keeps the other.
    assert.deepEqual(resolveMapping({ user: "Q: {question}" }, ["question", "correct_answer", "support"], []).mapping, { kind: "templates", preset: "sciq", user: "Q: {question}", assistant: "{correct_answer}" });
});

test("templates: escapes, struct fields, lines with only empty placeholders left out, unknown columns refused", () => {
    const t = compileTemplate("user", "Question: {question}\\nContext: {support}", ["question", "support"]);
    assert.deepEqual(t.columns, ["question", "support"]);
    assert.equal(renderTemplate(t, { question: "Why?", support: "Because." }), "Question: Why?\nContext: Because.");
    assert.equal(renderTemplate(t, { question: "Why?", support: "" }), "Question: Why?");
    assert.equal(renderTemplate(compileTemplate("u", "\\{literal\\} {n}", ["n"]), { n: 3 }), "{literal} 3");
    assert.equal(renderTemplate(compileTemplate("u", "{context.contexts}", ["context"]), { context: { contexts: ["a", "b"] } }), "a\nb");
    assert.throws(() => compileTemplate("user", "{questoin}", ["question"]), (e: Error) => e instanceof ImportRequestError && /unknown column "questoin".*Did you mean \{question\}/.test(e.message));
    assert.throws(() => compileTemplate("user", "{question", ["question"]), /not closed/);
    assert.throws(() => renderTemplate(compileTemplate("u", "{c}", ["c"]), { c: { x: 1 } }), (e: Error) => e instanceof CellError && e.column === "c");
});

test("a row becomes system, user and assistant messages; an empty assistant names its column", () => {
    const convert = rowConverter({ kind: "templates", system: "Be brief.", user: "Question: {question}\\nContext: {support}", assistant: "{correct_answer}" }, ["question", "correct_answer", "support"]);
    assert.deepEqual(convert.convert({ question: "Q?", support: "S.", correct_answer: "A" }), [
        { role: "system", content: "Be brief." }, { role: "user", content: "Question: Q?\nContext: S." }, { role: "assistant", content: "A" }
    ]);
    assert.throws(() => convert.convert({ question: "Q?", support: "", correct_answer: " " }), (e: Error) => e instanceof CellError && e.column === "correct_answer");
});

test("ShareGPT and OpenAI conversations become messages, with the system prompt put first", () => {
    const share = rowConverter({ kind: "conversation", preset: "sharegpt", column: "conversations", system: "S" }, ["conversations"]);
    assert.deepEqual(share.convert({ conversations: [{ from: "human", value: "hi" }, { from: "gpt", value: "hello" }] }), [
        { role: "system", content: "S" }, { role: "user", content: "hi" }, { role: "assistant", content: "hello" }
    ]);
    assert.throws(() => share.convert({ conversations: [{ from: "robot", value: "x" }] }), (e: Error) => e instanceof CellError && e.column === "conversations[0].from");
    const openai = rowConverter({ kind: "conversation", preset: "openai", column: "messages" }, ["messages"]);
    assert.deepEqual(openai.convert({ messages: "[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]" }), [{ role: "user", content: "q" }, { role: "assistant", content: "a" }]);
    assert.throws(() => openai.convert({ messages: [{ role: "user", content: "q" }, { role: "system", content: "late" }, { role: "assistant", content: "a" }] }), /system message after the first/);
});

test("the split is seeded: the same seed gives the same rows, another seed others, and about the fraction", () => {
    const draw = (seed: number): boolean[] => {
        const next = seededSplit(seed, 0.1);
        return Array.from({ length: 10_000 }, () => next());
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    const held = draw(7).filter(Boolean).length;
    assert.ok(held > 900 && held < 1100, `${held} of 10000 held out at 0.1`);
});
