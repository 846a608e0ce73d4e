// One entry to every reader: which format a file is (by its extension, then by its first bytes), its columns, a
// sample of its first rows, and all its rows in order.
import { open, stat } from "node:fs/promises";
import { extname } from "node:path";
import { ImportRequestError } from "../errors";
import type { ByteCounter, ImportRow, InputFormat } from "../types";
import { readDelimited, type CsvState } from "./csv";
import { readJsonArray } from "./jsonArray";
import { readJsonLines } from "./jsonLines";
import { openParquet, type ParquetFile } from "./parquet";

const BY_EXTENSION: Readonly<Record<string, InputFormat>> = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"
};

/** The first non-whitespace byte and whether the file starts with Parquet's magic. */
async function sniff(file: string): Promise<{ first: string | undefined; parquet: boolean }> {
    const handle = await open(file, "r");
    try {
        const head = new Uint8Array(4096);
        const { bytesRead } = await handle.read(head, 0, head.length, 0);
        const text = new TextDecoder().decode(head.subarray(0, bytesRead)).replace(/^\uFEFF/, "");
        return { first: /\S/.exec(text)?.[0], parquet: bytesRead >= 4 && new TextDecoder().decode(head.subarray(0, 4)) === "PAR1" };
    } finally {
        await handle.close();
    }
}

/**
 * The format of `file`: `.json` is a JSON array when it starts with "[" and JSON Lines otherwise (Hugging Face's
 * `.json` files are usually JSON Lines); an unknown extension is recognized by its first bytes.
 */
export async function detectInputFormat(file: string): Promise<InputFormat> {
    const ext = extname(file).toLowerCase();
    const known = BY_EXTENSION[ext];
    if (known) return known;
    const { first, parquet } = await sniff(file);
    if (ext === ".json") return first === "[" ? "json" : "jsonl";
    if (parquet) return "parquet";
    if (first === "[") return "json";
    if (first === "{") return "jsonl";
    throw new ImportRequestError(`${file}: cannot tell its format from the extension "${ext}" or its first bytes; name the format (csv, tsv, parquet, json or jsonl)`);
}

export interface RowSource {
    format: InputFormat;
    totalBytes: number;
    /** Known up front for Parquet only. */
    totalRows?: number;
    /** Bytes read so far by rows() (a sample's bytes are not counted). */
    counter: ByteCounter;
    /** The columns (the header, the Parquet schema, or the keys of the sampled JSON rows) and the first `n` rows. */
    sample(n: number): Promise<{ columns: string[]; rows: ImportRow[] }>;
    /** Every row in order; for Parquet only `columns` are read. */
    rows(columns?: readonly string[]): AsyncGenerator<ImportRow>;
    close(): Promise<void>;
}

/** How many JSON rows are sampled to learn the columns: later rows may have keys the first lacks. */
const JSON_COLUMN_SAMPLE_ROWS = 100;

async function take(rows: AsyncGenerator<ImportRow>, n: number): Promise<ImportRow[]> {
    const out: ImportRow[] = [];
    if (n <= 0) return out;
    try {
        for await (const row of rows) {
            out.push(row);
            if (out.length >= n) break;
        }
    } finally {
        await rows.return(undefined);
    }
    return out;
}

function keysOf(rows: readonly ImportRow[]): string[] {
    const seen = new Set<string>();
    for (const row of rows) for (const key of Object.keys(row.values)) seen.add(key);
    return [...seen];
}

export async function openRowSource(file: string, format?: InputFormat): Promise<RowSource> {
    const chosen = format ?? (await detectInputFormat(file));
    const totalBytes = (await stat(file)).size;
    const counter: ByteCounter = { bytes: 0 };
    if (chosen === "parquet") {
        const parquet: ParquetFile = await openParquet(file, { bytes: 0 });
        return {
            format: chosen, totalBytes, totalRows: parquet.totalRows, counter,
            sample: async (n) => ({ columns: parquet.columns, rows: await take(openParquetRows(file, n), n) }),
            rows: (columns) => openParquetRows(file, undefined, columns, counter),
            close: () => parquet.close()
        };
    }
    const textRows = (into: ByteCounter, state?: CsvState): AsyncGenerator<ImportRow> => {
        switch (chosen) {
            case "csv": return readDelimited(file, ",", into, state);
            case "tsv": return readDelimited(file, "\t", into, state);
            case "json": return readJsonArray(file, into);
            case "jsonl": return readJsonLines(file, into);
        }
    };
    return {
        format: chosen, totalBytes, counter,
        async sample(n) {
            const state: CsvState = {};
            const rows = await take(textRows({ bytes: 0 }, state), chosen === "csv" || chosen === "tsv" ? Math.max(n, 1) : Math.max(n, JSON_COLUMN_SAMPLE_ROWS));
            return { columns: state.columns ?? keysOf(rows), rows: rows.slice(0, n) };
        },
        rows: () => textRows(counter),
        close: async () => undefined
    };
}

/** A Parquet file's rows from a handle of their own, closed when the generator ends (also early). */
async function* openParquetRows(file: string, limit?: number, columns?: readonly string[], counter: ByteCounter = { bytes: 0 }): AsyncGenerator<ImportRow> {
    const parquet = await openParquet(file, counter);
    try {
        yield* parquet.rows({ ...(columns ? { columns } : {}), ...(limit !== undefined ? { limit } : {}) });
    } finally {
        await parquet.close();
    }
}
