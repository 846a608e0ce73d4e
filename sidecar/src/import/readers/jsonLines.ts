// JSON Lines: one JSON object per line, any keys ("JSONL with other columns"). Blank lines are skipped but counted
// for line numbers; each object is one row.
import { ImportRowError } from "../errors";
import type { ByteCounter, ImportRow } from "../types";
import { jsonErrorColumn, jsonErrorText, MAX_RECORD_CHARS, textChunks } from "./text";

function parseLine(file: string, text: string, row: number, line: number): ImportRow {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        const charColumn = jsonErrorColumn(error as Error);
        throw new ImportRowError({ file, row, line, ...(charColumn !== undefined ? { charColumn } : {}) }, `invalid JSON: ${jsonErrorText(error as Error)}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ImportRowError({ file, row, line }, `expected a JSON object (one row per line), got ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}`);
    }
    return { row, line, values: value as Record<string, unknown> };
}

/** The rows of a JSON Lines file, in order. `firstLine` is 1 unless the caller has consumed lines already. */
export async function* readJsonLines(file: string, counter: ByteCounter, chunks: AsyncIterable<string> = textChunks(file, counter), firstLine = 1): AsyncGenerator<ImportRow> {
    let carry = "";
    let line = firstLine;
    let row = 0;
    for await (const chunk of chunks) {
        const text = carry === "" ? chunk : carry + chunk;
        let start = 0;
        for (let nl = text.indexOf("\n", start); nl !== -1; nl = text.indexOf("\n", start)) {
            const content = text.slice(start, nl);
            if (content.trim() !== "") yield parseLine(file, content, ++row, line);
            line++;
            start = nl + 1;
        }
        carry = text.slice(start);
        if (carry.length > MAX_RECORD_CHARS) throw new ImportRowError({ file, row: row + 1, line }, `line longer than ${MAX_RECORD_CHARS / (1 << 20)} Mi characters without a line break: not JSON Lines`);
    }
    if (carry.trim() !== "") yield parseLine(file, carry, ++row, line);
}
