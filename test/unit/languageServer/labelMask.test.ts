// The label-mask core (previewLine with the configured sequence length and truncation) on a transparent tokenizer,
// and the language server's answer when no base model is configured. The real tokenizer and template are covered
// by test/integration/languageServer-labelMask.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { previewLine, type LinePreview } from "../../../sidecar/src/pipeline/preview";
import { DEFAULT_DATASET_SETTINGS } from "../../../sidecar/src/protocol/languageServer";
import { lineMaskPreview, NO_MODEL_MESSAGE } from "../../../extension/server/labelMask";
import { sanitizeSettings } from "../../../extension/server/settings";
import { CHATML_TEMPLATE, fakeTokenizer } from "../pipeline/support/fakeTokenizer";

const tok = fakeTokenizer();
const line = JSON.stringify({ messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "Hi" }] });
const text = (p: LinePreview, pick: (t: LinePreview["sequences"][0][0]) => boolean) => p.sequences[0]!.filter(pick).map((t) => t.text).join("");

test("without a length limit, the trained tokens are the reply and its end token", () => {
    const full = previewLine(line, CHATML_TEMPLATE, tok);
    assert.equal(text(full, (t) => t.trained), "Hi<|im_end|>");
    assert.equal(full.trainableTokens, 3);
    assert.equal(full.truncation, undefined);
    assert.ok(full.sequences[0]!.every((t) => !t.cut));
});

test("truncate-right keeps the start: a reply cut in half trains on what is left, a reply cut whole is an error", () => {
    const full = previewLine(line, CHATML_TEMPLATE, tok).sequences[0]!;
    const firstTrained = full.findIndex((t) => t.trained);
    // Keep one token of the reply.
    const half = previewLine(line, CHATML_TEMPLATE, tok, { maxLength: firstTrained + 1, truncation: "truncate-right" });
    assert.equal(half.trainableTokens, 1);
    assert.equal(text(half, (t) => t.trained), "H");
    assert.equal(text(half, (t) => t.cut === true), full.slice(firstTrained + 1).map((t) => t.text).join(""));
    assert.match(half.truncation ?? "", /cut to/);
    assert.equal(half.error, undefined);
    // Keep only the prompt.
    const none = previewLine(line, CHATML_TEMPLATE, tok, { maxLength: firstTrained, truncation: "truncate-right" });
    assert.equal(none.trainableTokens, 0);
    assert.match(none.error ?? "", /no trainable tokens left after truncation "truncate-right"/);
    assert.equal(none.untruncatedTrainableTokens, 3, "the full rendering had the reply: truncation took it (LS302)");
    assert.equal(none.sequences[0]!.length, full.length, "cut tokens are still shown, marked cut");
});

test("truncate-left keeps the end (the reply), and its new first token is never trained", () => {
    const full = previewLine(line, CHATML_TEMPLATE, tok).sequences[0]!;
    const left = previewLine(line, CHATML_TEMPLATE, tok, { maxLength: 6, truncation: "truncate-left" });
    assert.equal(left.trainableTokens, 3);
    assert.equal(left.sequences[0]!.filter((t) => !t.cut).length, 6);
    assert.ok(left.sequences[0]!.slice(0, full.length - 6).every((t) => t.cut && !t.trained));
    // Keep exactly the reply's tokens: the first kept one has no context left, so it loses its training target.
    const replyTokens = full.filter((t) => t.trained).length;
    const tight = previewLine(line, CHATML_TEMPLATE, tok, { maxLength: replyTokens, truncation: "truncate-left" });
    assert.equal(text(tight, (t) => !t.cut), "Hi<|im_end|>");
    assert.equal(text(tight, (t) => t.trained), "i<|im_end|>");
});

test("drop leaves a too-long example out whole: nothing trained, no error (LS301 reports it)", () => {
    const dropped = previewLine(line, CHATML_TEMPLATE, tok, { maxLength: 5, truncation: "drop" });
    assert.equal(dropped.dropped, true);
    assert.equal(dropped.trainableTokens, 0);
    assert.equal(dropped.error, undefined);
    assert.ok(dropped.sequences[0]!.every((t) => t.cut));
    assert.match(dropped.truncation ?? "", /leaves this example out/);
});

test("a line with no assistant turn has no trainable tokens, with or without a limit", () => {
    const q = JSON.stringify({ messages: [{ role: "user", content: "Q" }] });
    for (const options of [{}, { maxLength: 100, truncation: "truncate-right" as const }]) {
        const p = previewLine(q, CHATML_TEMPLATE, tok, options);
        assert.equal(p.trainableTokens, 0);
        assert.match(p.error ?? "", /needs at least one assistant message/);
    }
});

test("the server's answer without a base model says how to set one; settings read the nested truncation", () => {
    const settings = sanitizeSettings({ maxSequenceLength: 64, training: { truncation: "truncate-left" } });
    assert.equal(settings.truncation, "truncate-left");
    assert.equal(sanitizeSettings({ training: { truncation: "sideways" } }).truncation, DEFAULT_DATASET_SETTINGS.truncation);
    const answer = lineMaskPreview("file:///d.jsonl", 0, line, { counter: null, modelPath: null, error: null }, { format: "auto", mapping: undefined }, settings);
    assert.equal(answer.status, "no-model");
    assert.equal(answer.message, NO_MODEL_MESSAGE);
    assert.match(answer.message, /loraStudio\.baseModel/);
    assert.equal(answer.truncation, "truncate-left");
    const failed = lineMaskPreview("file:///d.jsonl", 0, line, { counter: null, modelPath: "/m.gguf", error: "not a GGUF" }, { format: "auto", mapping: undefined }, settings);
    assert.deepEqual([failed.status, failed.message], ["model-error", "not a GGUF"]);
});
