// Data types of the training-data pipeline. Pure data: no node-llama-cpp, no I/O.
// Shape legend: T = tokens in one sequence, N = tokens in one packed row (≤ the configured sequence length).

import type { ChatMessage } from "../datasets/types";

export type { ChatMessage };

/**
 * The tokenizer the pipeline needs. The real one wraps node-llama-cpp (llamaTokenizer.ts); unit tests use a fake.
 * `continuation` mirrors node-llama-cpp's "trimLeadingSpace" option: the text does not start the sequence, so a
 * SentencePiece tokenizer must not add its word-start space. Chat tokenizes that way, so we must too.
 */
export interface PipelineTokenizer {
    tokenize(text: string, special: boolean, continuation?: boolean): number[];
    detokenize(tokens: readonly number[]): string;
    /** Token ids that the template's `bos_token` / `eos_token` / `eot_token` stand for, if the vocabulary has them. */
    bos?: number | undefined;
    eos?: number | undefined;
    eot?: number | undefined;
    /** Whether the tokenizer prepends BOS to raw text (llama.cpp's `add_bos_token`); used only for raw text examples. */
    addBos?: boolean;
    /** True for tokens that end generation (llama.cpp's end-of-generation set: EOS, EOT, <|im_end|>, <|end|>…). */
    isEndOfGeneration(token: number): boolean;
}

/** Where an example came from, for errors and reports. `line` is 1-based, as editors and the CLI show it. */
export interface ExampleSource {
    file: string;
    line: number;
}

/** One token sequence of an example: what the model sees, and which tokens are training targets. */
export interface MaskedSequence {
    /** [T] */
    tokens: Int32Array;
    /** [T] 1 = this token is a training target (predicted from the tokens before it); trainMask[0] is always 0. */
    trainMask: Uint8Array;
}

/**
 * An example after rendering. Usually one sequence; a template that renders earlier turns differently once later
 * turns exist (e.g. it strips reasoning from old turns) yields one sequence per assistant turn, so every trained
 * turn sees exactly the prompt chat would send.
 */
export interface TokenizedExample {
    source: ExampleSource;
    /** Canonical JSON of the normalized messages: equal keys mean identical examples (duplicates, leakage). */
    key: string;
    sequences: MaskedSequence[];
}

/** A row of packed sequences. Each sequence has its own seq id (0, 1, … within the row); positions restart at 0. */
export interface PackedRow {
    /** [N] */
    tokens: Int32Array;
    /** [N] */
    positions: Int32Array;
    /** [N] */
    seqIds: Int32Array;
    /** [N] */
    trainMask: Uint8Array;
    /** Which examples' sequences the row holds, in order. */
    sources: ExampleSource[];
}

/**
 * What the engine consumes for one optimizer micro-step: llama_batch fields plus labels.
 * labels[i] is the token that logits row i must predict (tokens[i+1] of the same sequence, when that token is a
 * training target), else -1 (no loss on that row).
 */
export interface MicroBatch {
    /** [N] */
    tokens: Int32Array;
    /** [N] */
    positions: Int32Array;
    /** [N] */
    seqIds: Int32Array;
    /** [N] */
    labels: Int32Array;
}

/** What happens to an example longer than the sequence length; "fail" refuses the dataset, naming every such line. */
export type TruncationPolicy = "drop" | "truncate-left" | "truncate-right" | "fail";

/** A problem with one example; `code` is stable so the CLI, preview and tests can key on it. */
export interface PipelineIssue {
    source: ExampleSource;
    code: PipelineIssueCode;
    message: string;
}

export type PipelineIssueCode =
    | "no-trainable-tokens"
    | "invalid-example"
    | "template-error"
    | "too-long-dropped"
    | "truncated"
    | "too-long"
    | "leakage"
    | "system-folded";

/** Thrown when the dataset cannot be trained on; it lists every offending example before any run starts. */
export class PipelineError extends Error {
    constructor(readonly issues: PipelineIssue[]) {
        super(formatIssues(issues));
        this.name = "PipelineError";
    }
}

export function formatIssue(issue: PipelineIssue): string {
    return `${issue.source.file}:${issue.source.line}: ${issue.message} [${issue.code}]`;
}

function formatIssues(issues: PipelineIssue[]): string {
    const shown = issues.slice(0, 20).map(formatIssue);
    if (issues.length > shown.length) shown.push(`… and ${issues.length - shown.length} more`);
    return `the dataset cannot be trained on:\n${shown.join("\n")}`;
}
