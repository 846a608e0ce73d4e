// The one protocol module for the extension ↔ dataset language server boundary.
// Every custom message is declared here once, as a namespace holding its literal `method` and its
// typed RequestType/NotificationType; both the language client (extension host) and the server import it.
// Standard LSP messages (diagnostics, code actions) need no declaration here.
import { RequestType } from "vscode-languageserver-protocol";
import type { ColumnMapping, DatasetFormat, FormatOverride, Severity } from "../datasets/types";
import type { TruncationPolicy } from "../pipeline/types";

/** The `loraStudio.*` settings the language server reads (pulled with workspace/configuration). */
export interface DatasetSettings {
    /** Path of a GGUF whose tokenizer measures token lengths; relative paths resolve against the first workspace folder. Empty = off. */
    baseModel: string;
    /** Examples longer than this many tokens will be truncated in training. */
    maxSequenceLength: number;
    /** Cap on diagnostics per file; one summary diagnostic reports the rest. */
    maxDiagnosticsPerFile: number;
    /** Per-glob format (and optional column mapping) overrides; the first match wins, unmatched files are detected (`auto`). */
    datasetFormats: FormatOverride[];
    /** Glob → custom column names, e.g. SciQ's `question`/`correct_answer`/`support`; used when the matching override has none. */
    columnMappings: Record<string, ColumnMapping>;
    /**
     * What training does with examples longer than maxSequenceLength (the `loraStudio.training.truncation` setting,
     * which arrives nested as `training.truncation`); the label-mask preview and LS302 apply it.
     */
    truncation: TruncationPolicy;
}

export const DEFAULT_DATASET_SETTINGS: DatasetSettings = {
    baseModel: "",
    // The run-config schema's default sequenceLength: dataset checks truncate where training does.
    maxSequenceLength: 512,
    maxDiagnosticsPerFile: 1000,
    datasetFormats: [],
    columnMappings: {},
    truncation: "drop"
};

/** The configuration section the server pulls; each key above lives under it. */
export const SETTINGS_SECTION = "loraStudio";

/** Bins of a length histogram: bin i counts values in [i*binWidth, (i+1)*binWidth). */
export interface Histogram {
    binWidth: number;
    counts: number[];
    /** Largest value seen (0 for an empty file). */
    max: number;
    /** The max-length cut-off to draw, in the histogram's unit; null when there is none. */
    cutoff: number | null;
    /** True when the cut-off is an estimate (chars from tokens) rather than a real limit. */
    cutoffEstimated: boolean;
}

export interface DuplicateEntry {
    /** 0-based line of the duplicate. */
    line: number;
    /** 0-based line of the first identical (normalized) example. */
    duplicateOf: number;
}

export interface DatasetSummary {
    uri: string;
    /** Document version the summary describes (null when read from disk). */
    version: number | null;
    format: DatasetFormat | "unknown";
    totalLines: number;
    counts: { valid: number; warning: number; error: number; blank: number };
    /** Lines per detected format (including "invalid" and "blank"). */
    formats: Record<string, number>;
    /** Messages per role over the whole file (chat-normalised). */
    roles: Record<string, number>;
    charHistogram: Histogram;
    /** Present only when `loraStudio.baseModel` is set and its tokenizer loaded. */
    tokenHistogram: Histogram | null;
    /** Why there is no token histogram (no model configured, load failed, still counting). */
    tokenStatus: string;
    maxSequenceLength: number;
    /** Lines that would be truncated (token count > maxSequenceLength); null without a tokenizer. */
    truncatedLines: number | null;
    duplicates: DuplicateEntry[];
    /** Total duplicates; `duplicates` is capped. */
    duplicateCount: number;
}

export interface DatasetRow {
    line: number; // 0-based
    severity: Severity | "ok";
    format: DatasetFormat | "invalid" | "blank";
    chars: number;
    tokens: number | null;
    roles: Record<string, number>;
    duplicateOf: number | null;
    /** The line's text, cut to a preview length. */
    text: string;
}

export interface DatasetRowsResult {
    uri: string;
    version: number | null;
    total: number;
    offset: number;
    rows: DatasetRow[];
}

/**
 * Sent by the extension (preview panel) to the server: summary statistics of one dataset.
 * Works for open documents (latest edits are validated first) and for files on disk that are not open.
 */
export namespace DatasetSummaryRequest {
    export const method = "loraStudio/datasetSummary" as const;
    export interface Params {
        uri: string;
    }
    export const type = new RequestType<Params, DatasetSummary, void>(method);
}

/** Sent by the extension (preview panel's virtualized table) to the server: one page of rows. */
export namespace DatasetRowsRequest {
    export const method = "loraStudio/datasetRows" as const;
    export interface Params {
        uri: string;
        offset: number;
        /** Capped by the server at MAX_ROWS_PER_PAGE. */
        limit: number;
    }
    export const MAX_ROWS_PER_PAGE = 2000;
    export const type = new RequestType<Params, DatasetRowsResult, void>(method);
}

/** One token of the label-mask preview. */
export interface MaskToken {
    /** The token's text, special tokens spelled out ("<|im_end|>"). */
    text: string;
    /** Trained on (assistant reply or its end token), after truncation. */
    trained: boolean;
    /** Cut off by truncation: the model never sees it. */
    cut: boolean;
}

export interface LineMaskPreview {
    uri: string;
    line: number; // 0-based
    /**
     * `ok`: tokens below. `no-model`: loraStudio.baseModel is not set. `loading`: the tokenizer is still loading.
     * `model-error`: it could not be loaded. `line-error`: this line cannot be rendered (the message says why).
     */
    status: "ok" | "no-model" | "loading" | "model-error" | "line-error";
    /** What to tell the user: how to set a model, why the line has no tokens, or what truncation did. */
    message: string;
    /** One list per rendered sequence (usually one), capped at MAX_TOKENS_SHOWN tokens in all. */
    sequences: MaskToken[][];
    /** Tokens not sent because of the cap. */
    omittedTokens: number;
    trainableTokens: number;
    totalTokens: number;
    maxSequenceLength: number;
    truncation: TruncationPolicy;
}

/**
 * Sent by the extension (preview panel, when the user selects a row) to the server: the line's tokens as the base
 * model's chat template and tokenizer render them, trained and masked ones marked, after the configured truncation.
 */
export namespace DatasetLinePreviewRequest {
    export const method = "loraStudio/datasetLinePreview" as const;
    export interface Params {
        uri: string;
        /** 0-based line. */
        line: number;
    }
    export const MAX_TOKENS_SHOWN = 4096;
    export const type = new RequestType<Params, LineMaskPreview, void>(method);
}

/** Where the documentation of each diagnostic code lives, relative to the extension root. */
export const DIAGNOSTICS_DOC_PATH = "docs/diagnostics.md";
