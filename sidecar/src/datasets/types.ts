// Shared types of the dataset core. Pure data: no vscode, no node-llama-cpp, no I/O.
// Positions are 0-based (LSP style); the CLI converts to 1-based when it prints.

/** The line formats users bring. `auto` means "detect per file". */
export type DatasetFormat = "chat" | "instruction" | "prompt-completion" | "text" | "qa";
export type FormatSetting = DatasetFormat | "auto";

export type Severity = "error" | "warning" | "info";

export interface Position {
    line: number; // 0-based
    character: number; // 0-based UTF-16 offset within the line, as LSP and VS Code count
}

export interface Range {
    start: Position;
    end: Position;
}

/** A quick fix the validator knows how to make; the language server turns it into a CodeAction. */
export interface FixHint {
    kind: "convert-to-chat" | "trim-whitespace" | "delete-line" | "remove-bom" | "delete-blank-line";
    /** Replacement text for the whole line (without the newline); absent for deletions. */
    replacement?: string;
}

export interface DatasetDiagnostic {
    range: Range;
    severity: Severity;
    /** Documented, stable code, e.g. "LS001". See docs/diagnostics.md. */
    code: string;
    message: string;
    fix?: FixHint;
}

/**
 * Custom column names, e.g. SciQ: { format: "qa", fields: { question: "question", answer: "correct_answer", context: "support" } }.
 * PubMedQA: { format: "qa", fields: { question: "question", answer: ["final_decision", "long_answer"] } }.
 */
export interface ColumnMapping {
    format: DatasetFormat;
    /**
     * Maps the format's canonical field name (chat: messages; instruction: instruction, input, output;
     * prompt-completion: prompt, completion; text: text; qa: question, answer, context) to the user's key name.
     * A list joins several of the user's fields, in order, separated by a blank line.
     */
    fields: Record<string, string | string[]>;
}

/** Per-glob settings, e.g. the `loraStudio.datasetFormats` setting: `{ "glob": "data/sciq/**", "format": "qa", "columnMapping": … }`. */
export interface FormatOverride {
    /** Matched against the workspace-relative path with `/` separators; supports `*`, `**`, `?` and `{a,b}`. */
    glob: string;
    format: FormatSetting;
    columnMapping?: ColumnMapping;
}

export interface ValidateOptions {
    format?: FormatSetting;
    columnMapping?: ColumnMapping | undefined;
    /** Cap on diagnostics per file; one summary diagnostic reports the rest. */
    maxDiagnostics?: number;
    /** Lines longer than this many characters are flagged. */
    maxLineLength?: number;
    /**
     * True when the text was decoded from bytes that were not valid UTF-8 (see decodeDatasetBytes): U+FFFD characters
     * are then reported as invalid bytes (error) rather than as a suspicious character (warning).
     */
    decodedFromInvalidUtf8?: boolean;
}

/** One chat message; every format normalizes to a list of these. */
export interface ChatMessage {
    role: "system" | "user" | "assistant";
    content: string;
}

/** Any example in the common shape the pipeline consumes. `raw` marks the text format: no chat template, train on all of it. */
export interface NormalizedExample {
    messages: ChatMessage[];
    raw?: boolean;
}

/** What the preview and the pipeline learn about each line. */
export interface LineInfo {
    line: number; // 0-based
    format: DatasetFormat | "invalid" | "blank";
    chars: number;
    roles: Record<string, number>;
    severity: Severity | "ok";
    /** 0-based line of the first identical (normalized) example, when this one is a duplicate. */
    duplicateOf?: number;
}

export interface ValidationResult {
    format: DatasetFormat | "unknown";
    diagnostics: DatasetDiagnostic[];
    lines: LineInfo[];
    counts: { valid: number; warning: number; error: number; blank: number };
}
