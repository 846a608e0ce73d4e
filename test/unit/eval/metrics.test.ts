// The evaluation metrics on hand-checked cases: SQuAD normalization, exact match and token F1 (values worked out
// by hand below each case), PubMedQA yes/no/maybe extraction, and the aggregation over rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
    aggregate, exactMatch, extractYesNoMaybe, normalizeAnswer, referenceLabel, scoreAnswer, tokenF1, yesNoCorrect
} from "../../../sidecar/src/eval/metrics";
import type { EvalRow } from "../../../sidecar/src/protocol/sidecar";

test("normalizeAnswer lowercases, drops punctuation and articles, collapses whitespace", () => {
    assert.equal(normalizeAnswer("  The   Eiffel Tower! "), "eiffel tower");
    assert.equal(normalizeAnswer("A cat, an owl and THE dog."), "cat owl and dog");
    // Punctuation is deleted, not replaced by a space (SQuAD): "state-of-the-art" is one word.
    assert.equal(normalizeAnswer("state-of-the-art"), "stateoftheart");
    // Articles only as whole words: "another", "theme" and "anthem" keep their letters.
    assert.equal(normalizeAnswer("another theme anthem"), "another theme anthem");
    // Unicode punctuation and the ASCII symbols of Python's string.punctuation go too.
    assert.equal(normalizeAnswer("“Yes” — $5 + tax…"), "yes 5 tax");
    assert.equal(normalizeAnswer("Ünïcode Straße"), "ünïcode straße");
    assert.equal(normalizeAnswer("...!"), "");
});

test("exactMatch compares normalized answers", () => {
    assert.equal(exactMatch("Teal.", "teal"), 1);
    assert.equal(exactMatch("the teal", "Teal"), 1);
    assert.equal(exactMatch("teal blue", "teal"), 0);
    assert.equal(exactMatch("", ""), 1);
    assert.equal(exactMatch("a", ""), 1, "an article alone normalizes to the empty answer");
});

test("tokenF1 matches SQuAD's bag-of-words F1", () => {
    assert.equal(tokenF1("teal", "teal"), 1);
    assert.equal(tokenF1("crimson", "teal"), 0);
    // predicted [the cat sat] → [cat sat]; gold [cat sat on mat]: same 2, P = 2/2, R = 2/4, F1 = 2·1·0.5/1.5 = 2/3.
    assert.equal(tokenF1("The cat sat", "cat sat on the mat"), 2 / 3);
    // Repeats count once per occurrence in gold: predicted [yes yes yes], gold [yes no]: same 1, P 1/3, R 1/2, F1 = 0.4.
    assert.ok(Math.abs(tokenF1("yes yes yes", "yes no") - 0.4) < 1e-12);
    // Order does not matter.
    assert.equal(tokenF1("mat cat", "cat mat"), 1);
    // Empty against non-empty is 0; both empty is 1 (SQuAD v2).
    assert.equal(tokenF1("", "teal"), 0);
    assert.equal(tokenF1("teal", "..."), 0);
    assert.equal(tokenF1("the", "an"), 1);
});

test("extractYesNoMaybe takes the first yes/no/maybe word of the answer", () => {
    assert.equal(extractYesNoMaybe("Yes, it does."), "yes");
    assert.equal(extractYesNoMaybe("The answer is no; maybe later."), "no");
    assert.equal(extractYesNoMaybe("MAYBE"), "maybe");
    assert.equal(extractYesNoMaybe("Nothing is certain"), null, "whole words only: 'nothing' is not 'no'");
    assert.equal(extractYesNoMaybe("I don't know"), null);
    assert.equal(extractYesNoMaybe(""), null);
});

test("yes/no/maybe is scored only where the reference starts with one", () => {
    assert.equal(referenceLabel("yes"), "yes");
    assert.equal(referenceLabel("No.\n\nThe trial found no effect."), "no", "PubMedQA: final_decision then long_answer");
    assert.equal(referenceLabel("teal"), null);
    assert.equal(referenceLabel("It is maybe"), null, "only the first word labels a reference");
    assert.equal(yesNoCorrect("Yes, clearly.", "yes"), true);
    assert.equal(yesNoCorrect("no", "yes"), false);
    assert.equal(yesNoCorrect("I cannot say", "maybe"), false, "no label in the answer is wrong, not skipped");
    assert.equal(yesNoCorrect("yes", "teal"), null);
    assert.deepEqual(scoreAnswer("The Yes", "yes"), { em: 1, f1: 1, yesNo: true });
});

function row(em: [number, number], f1: [number, number], yesNo: [boolean, boolean] | null): EvalRow {
    return {
        file: "held-out.jsonl", line: 1, question: "q", reference: "r", base: "b", tuned: "t",
        em: { base: em[0], tuned: em[1] }, f1: { base: f1[0], tuned: f1[1] },
        yesNo: yesNo && { base: yesNo[0], tuned: yesNo[1] }, loss: { base: 0, tuned: 0 }
    };
}

test("aggregate averages rows, labels and token-weighted losses", () => {
    const rows = [row([0, 1], [0.5, 1], [false, true]), row([0, 1], [0, 1], null), row([1, 0], [1, 0.25], [true, true]), row([0, 0], [0, 0], null)];
    const losses = [
        { nll: { base: 6, tuned: 1 }, tokens: 3 },
        { nll: { base: 2, tuned: 1 }, tokens: 1 },
        { nll: { base: 0, tuned: 0 }, tokens: 0 },
        { nll: { base: 4, tuned: 2 }, tokens: 4 }
    ];
    const summary = aggregate(rows, losses, 2);
    assert.equal(summary.rows, 4);
    assert.equal(summary.skipped, 2);
    assert.deepEqual(summary.em, { base: 0.25, tuned: 0.5 });
    assert.deepEqual(summary.f1, { base: 1.5 / 4, tuned: 2.25 / 4 });
    assert.deepEqual(summary.yesNo, { rows: 2, base: 0.5, tuned: 1 });
    // (6 + 2 + 0 + 4) / 8 tokens and (1 + 1 + 0 + 2) / 8.
    assert.deepEqual(summary.loss, { base: 1.5, tuned: 0.5 });
    assert.equal(summary.lossTokens, 8);
});

test("aggregate of no rows is zeros, and yes/no is null without labelled rows", () => {
    const summary = aggregate([], [], 3);
    assert.deepEqual(summary, { rows: 0, skipped: 3, em: { base: 0, tuned: 0 }, f1: { base: 0, tuned: 0 }, yesNo: null, loss: { base: 0, tuned: 0 }, lossTokens: 0 });
});
