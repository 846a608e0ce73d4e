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

/** Custom column names, e.g. SciQ: { question: "question", answer: "correct_answer", context: "support" }. */
export interface ColumnMapping {
    format: DatasetFormat;
    /** Maps the format's canonical field name to the user's key name. */
    fields: Record<string, string>;
}

export interface ValidateOptions {
    format?: FormatSetting;
    columnMapping?: ColumnMapping;
    /** Cap on diagnostics per file; one summary diagnostic reports the rest. */
    maxDiagnostics?: number;
    /** Lines longer than this many characters are flagged. */
    maxLineLength?: number;
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
