// The one protocol module for the extension ↔ dataset language server boundary.
// Every custom message is declared here once, as a namespace holding its literal `method` and its
// typed RequestType/NotificationType; both the language client (extension host) and the server import it.
// Standard LSP messages (diagnostics, code actions) need no declaration here.
import { RequestType } from "vscode-languageserver-protocol";
import type { ColumnMapping, DatasetFormat, FormatOverride, Severity } from "../datasets/types";

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
}

export const DEFAULT_DATASET_SETTINGS: DatasetSettings = {
    baseModel: "",
    maxSequenceLength: 2048,
    maxDiagnosticsPerFile: 1000,
    datasetFormats: [],
    columnMappings: {}
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

/** Where the documentation of each diagnostic code lives, relative to the extension root. */
export const DIAGNOSTICS_DOC_PATH = "docs/diagnostics.md";
