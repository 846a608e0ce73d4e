// CSV and TSV through csv-parse, streamed: the first record is the header (its names are the columns), every later
// record is one row. A record with more or fewer fields than the header, or a broken quote, is an error naming the
// file, row, line and column.
import { createReadStream } from "node:fs";
import { CsvError, parse, type Info } from "csv-parse";
import { ImportRowError } from "../errors";
import type { ByteCounter, ImportRow } from "../types";
import { READ_CHUNK_BYTES } from "./text";

export interface CsvState {
    /** The header's names, once it has been read. */
    columns?: string[];
}

function toRowError(file: string, error: CsvError, header: readonly string[] | undefined): ImportRowError {
    const records = typeof error["records"] === "number" ? error["records"] : 0;
    const row = records + 1;
    const line = typeof error["lines"] === "number" ? error["lines"] : undefined;
    const columnName = typeof error["column"] === "string" ? error["column"] : undefined;
    const place = { file, row, ...(line !== undefined ? { line } : {}) };
    if (error.code === "CSV_RECORD_INCONSISTENT_COLUMNS" || error.code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH") {
        const expected = header?.length ?? 0;
        const got = Number(/got (\d+)/.exec(error.message)?.[1] ?? Number.NaN);
        // More fields than the header has names: point at the first extra one; fewer: at the first missing column.
        const column = got > expected ? `field ${expected + 1} (beyond the header)` : header?.[got] ?? columnName;
        return new ImportRowError({ ...place, ...(column !== undefined ? { column } : {}) }, `expected ${expected} field(s) as in the header, found ${Number.isNaN(got) ? "a different number" : got}`);
    }
    const problem = error.message.replace(/ (at|on) line \d+/, "").replace(/^(\w)/, (c) => c.toLowerCase());
    return new ImportRowError({ ...place, ...(columnName !== undefined ? { column: columnName } : {}) }, problem);
}

/** The rows of a CSV (`delimiter` ",") or TSV ("\t") file. `state.columns` is set once the header is read. */
export async function* readDelimited(file: string, delimiter: "," | "\t", counter: ByteCounter, state: CsvState = {}): AsyncGenerator<ImportRow> {
    const input = createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
    input.on("data", (chunk) => {
        counter.bytes += chunk.length;
    });
    const parser = input.pipe(parse({
        delimiter,
        bom: true,
        info: true,
        skip_empty_lines: true,
        // TSV exports (pandas, spreadsheets) leave quotes in a field as they are; CSV keeps RFC 4180 quoting.
        relax_quotes: delimiter === "\t",
        columns: (header: string[]) => {
            state.columns = header.map((name) => name.trim());
            return state.columns;
        }
    }));
    let row = 0;
    // Lines where the previous record ended and how many blank lines the parser had skipped by then: a multi-line
    // record starts on the line after the previous one ended, plus the blank lines between them.
    let previousEnd = 1;
    let previousBlank = 0;
    try {
        for await (const { info, record } of parser as AsyncIterable<{ info: Info; record: Record<string, string> }>) {
            const line = previousEnd + 1 + (info.empty_lines - previousBlank);
            previousEnd = info.lines;
            previousBlank = info.empty_lines;
            yield { row: ++row, line, values: record };
        }
    } catch (error) {
        if (error instanceof CsvError) throw toRowError(file, error, state.columns);
        throw error;
    } finally {
        input.destroy();
        parser.destroy();
    }
}
