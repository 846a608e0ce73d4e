// File-level entry for the sidecar's `dataset/prepare`, the trainer and the CLI: reads the dataset files, loads the
// model's vocabulary and runs the pure pipeline (prepare.ts). Paths in messages are the ones the caller gave.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { decodeDatasetBytes } from "../datasets/decode";
import type { DatasetPrepareResult } from "../protocol/sidecar";
import { loadVocabModel } from "./llamaTokenizer";
import { packEpoch, prepareDataset, type PreparedDataset } from "./prepare";
import type { ColumnMapping, DatasetFormat } from "../datasets/types";
import type { TruncationPolicy } from "./types";

export interface PrepareFilesOptions {
    modelPath: string;
    trainPath: string;
    validationPath?: string;
    validationRatio?: number;
    seed: number;
    sequenceLength: number;
    truncation: TruncationPolicy;
    format?: DatasetFormat;
    columnMapping?: ColumnMapping;
}

export interface PreparedFiles {
    prepared: PreparedDataset;
    /** sha256 of the training file's bytes, as a run's `dataset.sha256` records it. */
    datasetSha256: string;
    summary: DatasetPrepareResult;
}

async function readDataset(path: string): Promise<{ text: string; sha256: string }> {
    let bytes: Buffer;
    try {
        bytes = await readFile(path);
    } catch (err) {
        throw new Error(`cannot read dataset ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return { text: decodeDatasetBytes(bytes).text, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** Throws PipelineError (every unusable line, with file and line) before any run starts. */
export async function prepareDatasetFiles(options: PrepareFilesOptions): Promise<PreparedFiles> {
    const train = await readDataset(options.trainPath);
    const validation = options.validationPath ? await readDataset(options.validationPath) : undefined;
    const vocab = await loadVocabModel(options.modelPath);
    try {
        const prepared = prepareDataset({
            train: { file: options.trainPath, text: train.text },
            validation: validation && options.validationPath ? { file: options.validationPath, text: validation.text } : undefined,
            validationRatio: options.validationRatio,
            seed: options.seed,
            sequenceLength: options.sequenceLength,
            truncation: options.truncation,
            format: options.format,
            columnMapping: options.columnMapping,
            chatTemplate: vocab.chatTemplate,
            tokenizer: vocab.tokenizer
        });
        return {
            prepared,
            datasetSha256: train.sha256,
            summary: {
                datasetSha256: train.sha256,
                trainExamples: prepared.stats.trainExamples,
                validationExamples: prepared.stats.validationExamples,
                trainableTokens: prepared.stats.trainTargets,
                sequences: packEpoch(prepared.train, options.sequenceLength, options.seed, 0).length,
                leakedExamples: prepared.warnings.filter((w) => w.code === "leakage").length
            }
        };
    } finally {
        await vocab.dispose();
    }
}
