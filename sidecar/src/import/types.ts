// Shapes shared by the import core (readers, mapping, converter, writer): pure data, no I/O.

/** The input formats the import reads; each has one reader in readers/. */
export const INPUT_FORMATS = ["csv", "tsv", "parquet", "json", "jsonl"] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** One row of the input: its values by column, and where it is, for error messages. */
export interface ImportRow {
    /** 1-based position among the file's rows (the header and blank lines do not count). */
    row: number;
    /** 1-based line where the row starts, in text formats (CSV, TSV, JSON, JSONL). */
    line?: number;
    values: Readonly<Record<string, unknown>>;
}

/** A chat message as the dataset validator's `chat` format has it (schemas/chat.schema.json). */
export interface ChatMessage {
    role: "system" | "user" | "assistant";
    content: string;
}

/** Counts of bytes read so far; readers add to it so progress can show MB and a fraction of the file. */
export interface ByteCounter {
    bytes: number;
}
