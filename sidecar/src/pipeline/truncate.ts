// What to do with sequences longer than the configured sequence length. Every decision is reported.
import type { MaskedSequence, PipelineIssue, TokenizedExample, TruncationPolicy } from "./types";

export const TRUNCATION_POLICIES: readonly TruncationPolicy[] = ["drop", "truncate-left", "truncate-right", "fail"];

function trainableIn(mask: Uint8Array): number {
    let n = 0;
    for (const m of mask) n += m;
    return n;
}

/** Keeps `length` tokens from the start (right truncation) or the end (left truncation). */
export function truncateSequence(sequence: MaskedSequence, length: number, side: "left" | "right"): MaskedSequence {
    const start = side === "left" ? sequence.tokens.length - length : 0;
    const tokens = sequence.tokens.slice(start, start + length);
    const trainMask = sequence.trainMask.slice(start, start + length);
    if (trainMask.length > 0) trainMask[0] = 0; // the new first token has no context to be predicted from
    return { tokens, trainMask };
}

/**
 * Applies the policy to every sequence longer than `maxLength`:
 * - `drop`: the whole example is left out;
 * - `truncate-left`: the oldest tokens go (keeps the final reply; the prompt loses its start);
 * - `truncate-right`: the newest tokens go (keeps the prompt; the reply loses its end, and its end token);
 * - `fail`: the example is reported as an error ("too-long"); prepareDataset refuses the dataset.
 * An example left with no trainable token is dropped too. Every drop and cut is an issue, so callers can count them.
 */
export function applyTruncation(examples: readonly TokenizedExample[], maxLength: number, policy: TruncationPolicy): { kept: TokenizedExample[]; issues: PipelineIssue[] } {
    if (!Number.isInteger(maxLength) || maxLength < 2) throw new Error(`sequence length must be an integer ≥ 2, got ${maxLength}`);
    const kept: TokenizedExample[] = [];
    const issues: PipelineIssue[] = [];
    for (const example of examples) {
        const longest = Math.max(...example.sequences.map((s) => s.tokens.length));
        if (longest <= maxLength) {
            kept.push(example);
            continue;
        }
        if (policy === "fail") {
            issues.push({ source: example.source, code: "too-long", message: `${longest} tokens is longer than the sequence length ${maxLength}, and the run config's truncation is "fail"` });
            continue;
        }
        if (policy === "drop") {
            issues.push({ source: example.source, code: "too-long-dropped", message: `${longest} tokens is longer than the sequence length ${maxLength}; left out (truncation policy "drop")` });
            continue;
        }
        const side = policy === "truncate-left" ? "left" : "right";
        const sequences = example.sequences.map((s) => (s.tokens.length > maxLength ? truncateSequence(s, maxLength, side) : s));
        if (sequences.every((s) => trainableIn(s.trainMask) === 0)) {
            issues.push({ source: example.source, code: "too-long-dropped", message: `${longest} tokens is longer than the sequence length ${maxLength}, and no trainable token survives "${policy}"; left out` });
            continue;
        }
        issues.push({ source: example.source, code: "truncated", message: `${longest} tokens cut to ${maxLength} (truncation policy "${policy}")` });
        kept.push({ ...example, sequences });
    }
    return { kept, issues };
}
