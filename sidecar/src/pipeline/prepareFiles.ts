// File-level entry for the sidecar's `dataset/prepare`, the trainer and the CLI: reads the dataset files, loads the
// model's vocabulary and runs the pure pipeline (prepare.ts). Paths in messages are the ones the caller gave.
import { createHash } from "node:crypto";
import { decodeDatasetBytes } from "../datasets/decode";
import { DatasetReadError, readDatasetFile } from "../datasets/readDatasetFile";
import type { DatasetPrepareResult } from "../protocol/sidecar";
import { loadVocabModel, type VocabModel } from "./llamaTokenizer";
import { overLengthReport } from "./overLength";
import { packEpoch, prepareDataset, type PreparedDataset } from "./prepare";
import type { ColumnMapping, DatasetFormat } from "../datasets/types";
import { formatIssue, type TruncationPolicy } from "./types";

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
    let bytes: Uint8Array;
    try {
        bytes = readDatasetFile(path);
    } catch (err) {
        if (err instanceof DatasetReadError) throw new Error(`cannot read dataset: ${err.message}`);
        throw err;
    }
    return { text: decodeDatasetBytes(bytes).text, sha256: createHash("sha256").update(bytes).digest("hex") };
}

function overLengthField(prepared: PreparedDataset): Pick<DatasetPrepareResult, "overLength"> {
    const report = overLengthReport(prepared.overLength);
    return report ? { overLength: report } : {};
}

/** The model's tokenizer and chat template; node-llama-cpp's vocab-only load in production. */
export type VocabularyLoader = (modelPath: string) => Promise<Pick<VocabModel, "tokenizer" | "chatTemplate" | "dispose">>;

/** Throws PipelineError (every unusable line, with file and line) before any run starts. */
export async function prepareDatasetFiles(options: PrepareFilesOptions, loadVocabulary: VocabularyLoader = loadVocabModel): Promise<PreparedFiles> {
    const train = await readDataset(options.trainPath);
    const validation = options.validationPath ? await readDataset(options.validationPath) : undefined;
    const vocab = await loadVocabulary(options.modelPath);
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
                leakedExamples: prepared.warnings.filter((w) => w.code === "leakage").length,
                datasetWarnings: prepared.datasetWarnings.map(formatIssue),
                ...overLengthField(prepared)
            }
        };
    } finally {
        await vocab.dispose();
    }
}
