// Answer metrics for evaluation, pure: SQuAD's normalized exact match and token F1 (the official v2 script's
// rules), PubMedQA's yes/no/maybe accuracy, and their aggregation over rows. No I/O, no model.
import type { BeforeAfter, EvalRow, EvalSummary } from "../protocol/sidecar";

// SQuAD strips Python's string.punctuation. Unicode punctuation (\p{P}: “ ” – … ¿) goes too, so curly quotes
// and dashes from a tokenizer do not spoil a match; the ASCII symbols in string.punctuation are not in \p{P}.
const PUNCTUATION = /[\p{P}$+<=>^`|~]/gu;
const ARTICLES = /\b(a|an|the)\b/g;

/** SQuAD's normalize_answer: lowercase, drop punctuation, drop the articles a/an/the, collapse whitespace. */
export function normalizeAnswer(text: string): string {
    return text.toLowerCase().replace(PUNCTUATION, "").replace(ARTICLES, " ").split(/\s+/).filter((w) => w !== "").join(" ");
}

function answerTokens(text: string): string[] {
    const normalized = normalizeAnswer(text);
    return normalized === "" ? [] : normalized.split(" ");
}

/** 1 when the answers are equal after normalization, else 0. */
export function exactMatch(answer: string, reference: string): number {
    return normalizeAnswer(answer) === normalizeAnswer(reference) ? 1 : 0;
}

/** Harmonic mean of token precision and recall (bag of normalized words); 1 when both are empty, as in SQuAD v2. */
export function tokenF1(answer: string, reference: string): number {
    const predicted = answerTokens(answer);
    const gold = answerTokens(reference);
    if (predicted.length === 0 || gold.length === 0) return predicted.length === gold.length ? 1 : 0;
    const counts = new Map<string, number>();
    for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
    let same = 0;
    for (const t of predicted) {
        const left = counts.get(t) ?? 0;
        if (left > 0) {
            same++;
            counts.set(t, left - 1);
        }
    }
    if (same === 0) return 0;
    const precision = same / predicted.length;
    const recall = same / gold.length;
    return (2 * precision * recall) / (precision + recall);
}

export type YesNoMaybe = "yes" | "no" | "maybe";
const YES_NO_MAYBE = new Set<string>(["yes", "no", "maybe"]);

/** The first yes/no/maybe word of a model's answer ("Yes, because…" → yes), or null when it says none. */
export function extractYesNoMaybe(answer: string): YesNoMaybe | null {
    for (const word of answerTokens(answer)) if (YES_NO_MAYBE.has(word)) return word as YesNoMaybe;
    return null;
}

/**
 * The label of a reference answer: its first word when that is yes/no/maybe, else null (the row is not a
 * yes/no/maybe question). The first word, not the whole answer, because PubMedQA mapped with
 * `answer: ["final_decision", "long_answer"]` gives "yes\n\n<explanation>".
 */
export function referenceLabel(reference: string): YesNoMaybe | null {
    const first = answerTokens(reference)[0];
    return first !== undefined && YES_NO_MAYBE.has(first) ? (first as YesNoMaybe) : null;
}

/** Whether the answer's first yes/no/maybe equals the reference's label; null when the reference has none. */
export function yesNoCorrect(answer: string, reference: string): boolean | null {
    const label = referenceLabel(reference);
    return label === null ? null : extractYesNoMaybe(answer) === label;
}

/** The metrics of one answer against its reference. */
export function scoreAnswer(answer: string, reference: string): { em: number; f1: number; yesNo: boolean | null } {
    return { em: exactMatch(answer, reference), f1: tokenF1(answer, reference), yesNo: yesNoCorrect(answer, reference) };
}

/** A row's reference loss as a sum, so the summary can weight rows by their token counts. */
export interface RowLossTotals {
    /** Summed negative log-likelihood (nats) of the reference tokens. */
    nll: BeforeAfter<number>;
    tokens: number;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** Means over the rows; yes/no accuracy over the rows that have a label; loss weighted by reference tokens. */
export function aggregate(rows: readonly EvalRow[], losses: readonly RowLossTotals[], skipped: number): EvalSummary {
    const labelled = rows.filter((r): r is EvalRow & { yesNo: BeforeAfter<boolean> } => r.yesNo !== null);
    const lossTokens = losses.reduce((n, l) => n + l.tokens, 0);
    const lossOf = (side: "base" | "tuned"): number => (lossTokens === 0 ? 0 : losses.reduce((s, l) => s + l.nll[side], 0) / lossTokens);
    return {
        rows: rows.length,
        skipped,
        em: { base: mean(rows.map((r) => r.em.base)), tuned: mean(rows.map((r) => r.em.tuned)) },
        f1: { base: mean(rows.map((r) => r.f1.base)), tuned: mean(rows.map((r) => r.f1.tuned)) },
        yesNo: labelled.length === 0
            ? null
            : {
                rows: labelled.length,
                base: mean(labelled.map((r) => (r.yesNo.base ? 1 : 0))),
                tuned: mean(labelled.map((r) => (r.yesNo.tuned ? 1 : 0)))
            },
        loss: { base: lossOf("base"), tuned: lossOf("tuned") },
        lossTokens
    };
}
