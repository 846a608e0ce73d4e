// Examples longer than the sequence length: what the run config's truncation did to them, counted, and said the same
// way in the run log, the CLI summary, the progress view and dataset/prepare. Pure, and light enough for the
// extension's bundle (types only from the rest of the pipeline).
import type { OverLengthReport } from "../protocol/sidecar";
import { formatIssue, type PipelineIssue, type TruncationPolicy } from "./types";

export interface OverLength {
    policy: TruncationPolicy;
    sequenceLength: number;
    dropped: number;
    truncated: number;
    /** One issue per example dropped or cut ("too-long-dropped", "truncated"). */
    issues: PipelineIssue[];
}

/** How many over-long examples are named one by one in a report; the run log names them all. */
export const OVER_LENGTH_EXAMPLES_SHOWN = 5;

/** The protocol's OverLengthReport of a preparation, or undefined when no example was too long. */
export function overLengthReport(overLength: OverLength): OverLengthReport | undefined {
    if (overLength.issues.length === 0) return undefined;
    const { policy, sequenceLength, dropped, truncated } = overLength;
    return { policy, sequenceLength, dropped, truncated, examples: overLength.issues.slice(0, OVER_LENGTH_EXAMPLES_SHOWN).map(formatIssue) };
}

/**
 * `examples longer than the sequence length 128: 2 left out, 1 cut to 128 tokens (truncation "drop")`: one line for
 * the run log, the CLI and the progress view.
 */
export function describeOverLength(report: { policy: string; sequenceLength: number; dropped: number; truncated: number }): string {
    const parts: string[] = [];
    if (report.dropped > 0) parts.push(`${report.dropped} left out`);
    if (report.truncated > 0) parts.push(`${report.truncated} cut to ${report.sequenceLength} tokens`);
    return `examples longer than the sequence length ${report.sequenceLength}: ${parts.join(", ")} (truncation "${report.policy}")`;
}
