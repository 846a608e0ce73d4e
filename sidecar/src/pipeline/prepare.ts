// The whole pipeline behind training, preview and CLI: parse → normalize → render + mask → check → truncate →
// split → (shuffle → pack per epoch). Pure: the caller reads files and supplies the tokenizer and template.
import { parseDatasetText, systemFoldWarning, tokenizeExamples, type ParseOptions } from "./examples";
import { packFirstFit, packItems } from "./pack";
import { seededShuffle } from "./shuffle";
import { findLeakage, splitByRatio } from "./split";
import { applyTruncation } from "./truncate";
import type { OverLength } from "./overLength";
import { PipelineError, type PackedRow, type PipelineIssue, type PipelineTokenizer, type TokenizedExample, type TruncationPolicy } from "./types";

export interface DatasetText {
    /** Shown in messages; usually the workspace-relative path. */
    file: string;
    text: string;
}

export interface PrepareOptions extends ParseOptions {
    train: DatasetText;
    /** A separate validation file; when absent, `validationRatio` of the training file is held out. */
    validation?: DatasetText | undefined;
    validationRatio?: number | undefined;
    seed: number;
    /** Tokens per packed row (the training context length). */
    sequenceLength: number;
    truncation: TruncationPolicy;
    /** The GGUF's tokenizer.chat_template; undefined only for models without one (then only text examples work). */
    chatTemplate: string | undefined;
    tokenizer: PipelineTokenizer;
}

export interface PreparedDataset {
    train: TokenizedExample[];
    validation: TokenizedExample[];
    /** Warnings that do not stop a run: truncations, drops, leakage. Errors throw a PipelineError instead. */
    warnings: PipelineIssue[];
    /**
     * Warnings about the whole dataset rather than one line, each said once per preparation (also in `warnings`): a
     * template without a system role (Gemma) folding system prompts into user turns. The run log, the CLI and
     * dataset/prepare show these.
     */
    datasetWarnings: PipelineIssue[];
    /** Examples longer than the sequence length and what the policy did to them, training and validation together. */
    overLength: OverLength;
    stats: { trainExamples: number; validationExamples: number; trainTokens: number; trainTargets: number };
}

const ERROR_CODES = new Set<PipelineIssue["code"]>(["invalid-example", "no-trainable-tokens", "template-error"]);

function load(file: DatasetText, options: PrepareOptions): { tokenized: TokenizedExample[]; issues: PipelineIssue[]; datasetWarnings: PipelineIssue[] } {
    const parsed = parseDatasetText(file.text, file.file, options);
    const rendered = tokenizeExamples(parsed.examples, options.chatTemplate, options.tokenizer);
    const datasetWarnings = rendered.systemFolds ? [systemFoldWarning(rendered.systemFolds)] : [];
    return { tokenized: rendered.tokenized, issues: [...parsed.issues, ...rendered.issues], datasetWarnings };
}

/**
 * Prepares a dataset for a run. Throws PipelineError listing every unusable line (file:line) before any run
 * starts; everything else is reported in `warnings`.
 */
export function prepareDataset(options: PrepareOptions): PreparedDataset {
    const trainLoad = load(options.train, options);
    const valLoad = options.validation ? load(options.validation, options) : { tokenized: [], issues: [], datasetWarnings: [] };
    const errors = [...trainLoad.issues, ...valLoad.issues].filter((i) => ERROR_CODES.has(i.code));
    if (errors.length > 0) throw new PipelineError(errors);

    const split = options.validation
        ? { train: trainLoad.tokenized, validation: valLoad.tokenized }
        : splitByRatio(trainLoad.tokenized, options.validationRatio ?? 0, options.seed);
    const train = applyTruncation(split.train, options.sequenceLength, options.truncation);
    const validation = applyTruncation(split.validation, options.sequenceLength, options.truncation);
    const refused = [...train.issues, ...validation.issues].filter((i) => i.code === "too-long");
    if (refused.length > 0) throw new PipelineError(refused);
    const lengthIssues = [...train.issues, ...validation.issues].filter((i) => i.code === "too-long-dropped" || i.code === "truncated");
    const overLength: OverLength = {
        policy: options.truncation, sequenceLength: options.sequenceLength, issues: lengthIssues,
        dropped: lengthIssues.filter((i) => i.code === "too-long-dropped").length,
        truncated: lengthIssues.filter((i) => i.code === "truncated").length
    };
    if (train.kept.length === 0) {
        throw new PipelineError([{ source: { file: options.train.file, line: 1 }, code: "no-trainable-tokens", message: "no training example is left after the validation split and the truncation policy" }]);
    }
    const datasetWarnings = [...trainLoad.datasetWarnings, ...valLoad.datasetWarnings];
    const warnings = [...datasetWarnings, ...train.issues, ...validation.issues, ...findLeakage(train.kept, validation.kept)];
    let trainTokens = 0;
    let trainTargets = 0;
    for (const e of train.kept) for (const s of e.sequences) {
        trainTokens += s.tokens.length;
        for (const m of s.trainMask) trainTargets += m;
    }
    return {
        train: train.kept,
        validation: validation.kept,
        warnings,
        datasetWarnings,
        overLength,
        stats: { trainExamples: train.kept.length, validationExamples: validation.kept.length, trainTokens, trainTargets }
    };
}

/** The packed rows of one epoch: the examples shuffled with (seed, epoch), then packed first-fit. */
export function packEpoch(examples: readonly TokenizedExample[], sequenceLength: number, seed: number, epoch: number): PackedRow[] {
    return packFirstFit(packItems(seededShuffle(examples, seed, epoch)), sequenceLength);
}

/** Validation rows are packed in file order, so the validation loss is comparable between epochs and runs. */
export function packValidation(examples: readonly TokenizedExample[], sequenceLength: number): PackedRow[] {
    return packFirstFit(packItems(examples), sequenceLength);
}
