// The token checks of the dataset core (sidecar/src/datasets/tokenChecks.ts) with the tokenizer passed in: the count
// (content plus the per-message allowance), LS301 exactly at the sequence length and one token over, the LS900 cap,
// and LS302 from the real pipeline rendering. The tokenizer is the fake of the pipeline tests (one token per
// character), so every count here can be worked out by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    countExampleTokens, NOTHING_TO_COUNT, TEMPLATE_TOKENS_PER_MESSAGE, tokenDiagnostics, tooLongDiagnostics, TrainableCheck, type ExampleTokenizer
} from "../../../sidecar/src/datasets/tokenChecks";
import { CHATML_TEMPLATE, fakeTokenizer } from "../pipeline/support/fakeTokenizer";

const pipeline = fakeTokenizer();
const tokenizer: ExampleTokenizer = { count: (text) => pipeline.tokenize(text, false).length, pipeline, chatTemplate: CHATML_TEMPLATE };
const auto = { format: undefined, mapping: undefined };
const chat = (user: string, assistant: string): string => JSON.stringify({ messages: [{ role: "user", content: user }, { role: "assistant", content: assistant }] });

test("an example counts its content tokens plus the allowance per message; raw text and blank lines count as such", () => {
    assert.equal(TEMPLATE_TOKENS_PER_MESSAGE, 4);
    assert.equal(countExampleTokens(chat("abc", "de"), auto, tokenizer), 5 + 2 * 4, "5 content tokens and two messages' allowance");
    assert.equal(countExampleTokens(JSON.stringify({ text: "hello" }), auto, tokenizer), 5, "raw text has no template");
    assert.equal(countExampleTokens("{not json", auto, tokenizer), "{not json".length);
    assert.equal(countExampleTokens("   ", auto, tokenizer), NOTHING_TO_COUNT);
});

test("LS301 exactly at the sequence length: an example of N tokens fits N, and warns at N - 1", () => {
    const line = chat("abcdefgh", "ij"); // 10 content + 8 allowance = 18
    const [count] = [countExampleTokens(line, auto, tokenizer)];
    assert.equal(count, 18);
    const at = (max: number) => tokenDiagnostics([line], tokenizer, auto, { maxSequenceLength: max, truncation: "drop" }, 100).filter((d) => d.code === "LS301");
    assert.deepEqual(at(18), [], "18 tokens fit a sequence length of 18");
    const [over, ...rest] = at(17);
    assert.equal(rest.length, 0);
    assert.equal(over!.severity, "warning");
    assert.match(over!.message, /has 18 tokens, more than loraStudio\.training\.sequenceLength \(17\)/);
    assert.deepEqual(over!.range, { start: { line: 0, character: 0 }, end: { line: 0, character: line.length } });
});

test("LS301 is capped, and one LS900 counts the rest", () => {
    const counts = [30, 5, 40, 50, null, NOTHING_TO_COUNT, 60];
    const diagnostics = tooLongDiagnostics(counts, () => 1, 20, 2);
    assert.deepEqual(diagnostics.map((d) => [d.code, d.range.start.line]), [["LS301", 0], ["LS301", 2], ["LS900", 0]]);
    assert.match(diagnostics[2]!.message, /^2 more examples will be truncated/);
});

test("LS302: a reply that truncation cuts off entirely is an error; under drop the line is left out instead (LS301 only)", () => {
    const long = chat("x".repeat(60), "ok");
    const settings = (truncation: "drop" | "truncate-right" | "truncate-left") => ({ maxSequenceLength: 40, truncation });
    const right = tokenDiagnostics([long], tokenizer, auto, settings("truncate-right"), 100);
    assert.deepEqual(right.map((d) => d.code).sort(), ["LS301", "LS302"]);
    assert.match(right.find((d) => d.code === "LS302")!.message, /trains on nothing: no trainable tokens left after truncation "truncate-right" to 40 tokens/);
    assert.deepEqual(tokenDiagnostics([long], tokenizer, auto, settings("truncate-left"), 100).map((d) => d.code), ["LS301"], "the reply survives a left cut");
    assert.deepEqual(tokenDiagnostics([long], tokenizer, auto, settings("drop"), 100).map((d) => d.code), ["LS301"]);
    // The render cache answers a repeated line without rendering it again, and forgets on another setting.
    const check = new TrainableCheck();
    const counts = [countExampleTokens(long, auto, tokenizer)];
    assert.equal(check.diagnostics(counts, () => long, tokenizer, auto, settings("truncate-right")).length, 1);
    assert.equal(check.diagnostics(counts, () => long, tokenizer, auto, settings("truncate-left")).length, 0);
});
