// Train/validation split and the leakage check.
import { seededShuffle } from "./shuffle";
import type { PipelineIssue, TokenizedExample } from "./types";

/**
 * Splits by ratio: the examples are shuffled with `seed`, then the first round(n × ratio) go to validation
 * (at least one when ratio > 0 and there are two or more examples, so that a small set still gets a val loss).
 */
export function splitByRatio<T>(examples: readonly T[], ratio: number, seed: number): { train: T[]; validation: T[] } {
    if (!(ratio >= 0 && ratio < 1)) throw new Error(`validation ratio must be in [0, 1), got ${ratio}`);
    const shuffled = seededShuffle(examples, seed, 0x5711);
    let n = Math.round(shuffled.length * ratio);
    if (ratio > 0 && n === 0 && shuffled.length >= 2) n = 1;
    return { validation: shuffled.slice(0, n), train: shuffled.slice(n) };
}

/** Validation examples whose normalized content also appears in the training set: their val loss measures recall. */
export function findLeakage(train: readonly TokenizedExample[], validation: readonly TokenizedExample[]): PipelineIssue[] {
    const trainByKey = new Map<string, TokenizedExample>();
    for (const t of train) if (!trainByKey.has(t.key)) trainByKey.set(t.key, t);
    const issues: PipelineIssue[] = [];
    for (const v of validation) {
        const twin = trainByKey.get(v.key);
        if (twin) {
            issues.push({
                source: v.source,
                code: "leakage",
                message: `identical to training example ${twin.source.file}:${twin.source.line}; the validation loss will look better than it is`
            });
        }
    }
    return issues;
}
