// A JSON array of objects (`[{…}, {…}]`), read element by element: a scanner finds where each top-level element
// ends (tracking strings, escapes and nesting), and only that element is parsed, so memory stays at one element
// however long the array is. Each element is one row.
import { ImportRowError } from "../errors";
import type { ByteCounter, ImportRow } from "../types";
import { jsonErrorColumn, jsonErrorText, MAX_RECORD_CHARS, textChunks } from "./text";

const OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d, OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d;
const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, NEWLINE = 0x0a;

function isSpace(c: number): boolean {
    return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function parseElement(file: string, text: string, row: number, line: number): ImportRow {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        const charColumn = jsonErrorColumn(error as Error);
        throw new ImportRowError({ file, row, line }, `invalid JSON in array element ${row}: ${jsonErrorText(error as Error)}${charColumn !== undefined ? ` (character ${charColumn} of the element)` : ""}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ImportRowError({ file, row, line }, `expected an object, got ${Array.isArray(value) ? "an array" : value === null ? "null" : `a ${typeof value}`}`);
    }
    return { row, line, values: value as Record<string, unknown> };
}

export async function* readJsonArray(file: string, counter: ByteCounter, chunks: AsyncIterable<string> = textChunks(file, counter)): AsyncGenerator<ImportRow> {
    type Phase = "start" | "expectElement" | "element" | "done";
    let phase = "start" as Phase;
    let line = 1;
    let row = 0;
    // The element being scanned: its finished pieces, where it started, and the scanner's nesting state.
    let pieces: string[] = [];
    let pieceChars = 0;
    let elementLine = 1;
    let depth = 0;
    let inString = false;
    let escaped = false;
    const fail = (problem: string): never => {
        throw new ImportRowError({ file, line }, problem);
    };
    for await (const text of chunks) {
        let start = 0;
        for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            if (phase === "element") {
                if (inString) {
                    if (escaped) escaped = false;
                    else if (c === BACKSLASH) escaped = true;
                    else if (c === QUOTE) inString = false;
                    else if (c === NEWLINE) line++;
                    continue;
                }
                if (c === QUOTE) inString = true;
                else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
                else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
                    if (depth === 0) {
                        // The array's "]" ends the last element.
                        pieces.push(text.slice(start, i));
                        yield parseElement(file, pieces.join(""), ++row, elementLine);
                        pieces = [];
                        pieceChars = 0;
                        phase = "done";
                        continue;
                    }
                    depth--;
                } else if (c === COMMA && depth === 0) {
                    pieces.push(text.slice(start, i));
                    yield parseElement(file, pieces.join(""), ++row, elementLine);
                    pieces = [];
                    pieceChars = 0;
                    phase = "expectElement";
                } else if (c === NEWLINE) line++;
                continue;
            }
            if (c === NEWLINE) line++;
            if (isSpace(c)) continue;
            switch (phase) {
                case "start":
                    if (c !== OPEN_BRACKET) fail(`expected a JSON array ("[") or JSON Lines, found ${JSON.stringify(text[i])}`);
                    phase = "expectElement";
                    break;
                case "expectElement":
                    if (c === CLOSE_BRACKET) {
                        if (row > 0) fail(`a "," before the "]" that ends the array (after element ${row})`);
                        phase = "done";
                        break;
                    }
                    if (c === COMMA) fail(`an empty element after array element ${row}`);
                    // The element runs until a "," or "]" outside strings and brackets (handled in the branch above).
                    phase = "element";
                    elementLine = line;
                    start = i;
                    depth = c === OPEN_BRACE || c === OPEN_BRACKET ? 1 : 0;
                    inString = c === QUOTE;
                    escaped = false;
                    break;
                case "done":
                    fail(`unexpected ${JSON.stringify(text[i])} after the end of the array`);
            }
        }
        if (phase === "element") {
            pieces.push(text.slice(start));
            pieceChars += text.length - start;
            if (pieceChars > MAX_RECORD_CHARS) fail(`array element ${row + 1} is longer than ${MAX_RECORD_CHARS / (1 << 20)} Mi characters`);
        }
    }
    if (phase === "element" || phase === "expectElement") fail("the array is not closed: the file ends before its \"]\"");
    if (phase === "start") fail("the file is empty: expected a JSON array");
}
