// Rendering and masking with a transparent fake tokenizer: which tokens are trained, and why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { previewLine } from "../../../sidecar/src/pipeline/preview";
import { renderConversation, renderPromptTokens, renderRawText, TemplateRenderError } from "../../../sidecar/src/pipeline/render";
import { CHATML_TEMPLATE, fakeTokenizer, trainedSpans } from "./support/fakeTokenizer";

const tok = fakeTokenizer();
const decode = (t: Int32Array | number[]): string => tok.detokenize(Array.from(t));

test("trains exactly each assistant reply plus its end-of-turn token", () => {
    const [seq, ...rest] = renderConversation(CHATML_TEMPLATE, [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi?" },
        { role: "assistant", content: "Hello." },
        { role: "user", content: "Bye?" },
        { role: "assistant", content: "Bye." }
    ], tok);
    assert.equal(rest.length, 0);
    assert.deepEqual(trainedSpans(seq!.tokens, seq!.trainMask, (t) => tok.detokenize(t)), ["Hello.<|im_end|>", "Bye.<|im_end|>"]);
    // The sequence is the template's rendering, BOS included, cut after the last target.
    assert.equal(decode(seq!.tokens),
        "<s><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n" +
        "<|im_start|>user\nBye?<|im_end|>\n<|im_start|>assistant\nBye.<|im_end|>");
});

test("message text is plain text: a special-token string typed in a message is not a special token", () => {
    const [seq] = renderConversation(CHATML_TEMPLATE, [
        { role: "user", content: "say <|im_end|>" },
        { role: "assistant", content: "ok <|im_end|> done" }
    ], tok);
    const imEnd = tok.tokenize("<|im_end|>", true)[0]!;
    const special = Array.from(seq!.tokens).filter((t) => t === imEnd).length;
    assert.equal(special, 2, "only the template's two <|im_end|> are special tokens");
    assert.deepEqual(trainedSpans(seq!.tokens, seq!.trainMask, (t) => tok.detokenize(t)), ["ok <|im_end|> done<|im_end|>"]);
});

test("the prompt tokens before a reply equal the generation prompt chat sends", () => {
    const messages = [{ role: "user" as const, content: "Q" }, { role: "assistant" as const, content: "A" }];
    const [seq] = renderConversation(CHATML_TEMPLATE, messages, tok);
    const prompt = renderPromptTokens(CHATML_TEMPLATE, messages.slice(0, 1), tok);
    assert.equal(tok.detokenize(prompt), "<s><|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n");
    assert.deepEqual(Array.from(seq!.tokens.slice(0, prompt.length)), prompt);
    assert.equal(seq!.trainMask[prompt.length - 1], 0);
    assert.equal(seq!.trainMask[prompt.length], 1);
});

test("an empty reply still trains the end-of-turn token", () => {
    const [seq] = renderConversation(CHATML_TEMPLATE, [{ role: "user", content: "Q" }, { role: "assistant", content: "" }], tok);
    assert.deepEqual(trainedSpans(seq!.tokens, seq!.trainMask, (t) => tok.detokenize(t)), ["<|im_end|>"]);
});

test("a conversation without an assistant message has no trainable token", () => {
    const [seq] = renderConversation(CHATML_TEMPLATE, [{ role: "user", content: "Q" }], tok);
    assert.equal(seq!.trainMask.reduce((a, b) => a + b, 0), 0);
});

test("adjacent messages of one role are joined with a blank line, as chat does", () => {
    const [seq] = renderConversation(CHATML_TEMPLATE, [
        { role: "user", content: "A" }, { role: "user", content: "B" }, { role: "assistant", content: "C" }
    ], tok);
    assert.match(decode(seq!.tokens), /<\|im_start\|>user\nA\n\nB<\|im_end\|>/);
});

test("a template that rejects system messages gets them folded into the user turn, as chat does", () => {
    const noSystem = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
        "{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}";
    const [seq] = renderConversation(noSystem, [
        { role: "system", content: "S" }, { role: "user", content: "U" }, { role: "assistant", content: "A" }
    ], tok);
    assert.match(decode(seq!.tokens), /^<\|im_start\|>user\n### System message\n\nS\n\n----\n\nU<\|im_end\|>/);
    assert.deepEqual(trainedSpans(seq!.tokens, seq!.trainMask, (t) => tok.detokenize(t)), ["A<|im_end|>"]);
});

test("a template that renders old turns differently yields one sequence per assistant turn", () => {
    // Like templates that strip reasoning from earlier turns: the last assistant turn is rendered with a marker.
    const varying = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' }}{% if m.role == 'assistant' and loop.last %}{{ '[last]' }}{% endif %}" +
        "{{ m.content + '<|im_end|>\\n' }}{% endfor %}";
    const sequences = renderConversation(varying, [
        { role: "user", content: "1" }, { role: "assistant", content: "a" }, { role: "user", content: "2" }, { role: "assistant", content: "b" }
    ], tok);
    assert.equal(sequences.length, 2);
    assert.deepEqual(sequences.map((s) => trainedSpans(s.tokens, s.trainMask, (t) => tok.detokenize(t))), [["a<|im_end|>"], ["b<|im_end|>"]]);
    assert.match(decode(sequences[0]!.tokens), /\[last\]a<\|im_end\|>$/);
});

test("a template with no end-of-turn token after replies is rejected with a clear error", () => {
    const noEnd = "{% for m in messages %}{{ m.role + ': ' + m.content + '\\n' }}{% endfor %}";
    assert.throws(() => renderConversation(noEnd, [{ role: "user", content: "Q" }, { role: "assistant", content: "A" }], tok),
        (err: unknown) => err instanceof TemplateRenderError && /no end-of-turn token after assistant message 2/.test(err.message));
});

test("a template that drops a message is rejected", () => {
    const dropsUser = "{% for m in messages %}{% if m.role == 'assistant' %}{{ m.content + '<|im_end|>' }}{% endif %}{% endfor %}";
    assert.throws(() => renderConversation(dropsUser, [{ role: "user", content: "Q" }, { role: "assistant", content: "A" }], tok),
        /drops message 1 \(role user\)/);
});

test("raw text trains every token after BOS and ends with EOS", () => {
    const seq = renderRawText("abc", tok);
    assert.equal(decode(seq.tokens), "<s>abc</s>");
    assert.deepEqual(Array.from(seq.trainMask), [0, 1, 1, 1, 1]);
});

test("the line preview marks trained tokens and counts them, and flags a line with none", () => {
    const line = JSON.stringify({ messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "Hi" }] });
    const preview = previewLine(line, CHATML_TEMPLATE, tok);
    assert.equal(preview.error, undefined);
    assert.equal(preview.trainableTokens, 3);
    assert.deepEqual(preview.sequences[0]!.filter((t) => t.trained).map((t) => t.text), ["H", "i", "<|im_end|>"]);
    const none = previewLine(JSON.stringify({ messages: [{ role: "user", content: "Q" }] }), CHATML_TEMPLATE, tok);
    assert.equal(none.trainableTokens, 0);
    assert.match(none.error ?? "", /no trainable tokens/);
    assert.match(previewLine("{", CHATML_TEMPLATE, tok).error ?? "", /not valid JSON/);
});
