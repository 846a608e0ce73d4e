// Position-aware JSON helpers for the slow path only: lines that fail JSON.parse or have a problem to point at.
// jsonc-parser gives error offsets and a parse tree (JSON pointer → range). It recurses per nesting level, so
// every entry point here is guarded by a depth limit first: a 10k-deep line must never overflow the stack.
// The ESM build is imported by path: esbuild prefers `main` for node bundles, and jsonc-parser's `main` is a UMD
// bundle whose dynamic require()s esbuild cannot follow.
import { parseTree, findNodeAtLocation, type Node, type ParseError } from "jsonc-parser/lib/esm/main.js";

/** Deeper than any dataset format needs, shallow enough for recursive code (ours, ajv's, jsonc-parser's). */
export const MAX_DEPTH = 64;

export interface CharRange {
    start: number;
    end: number;
}

/** Iterative scan: the offset of the bracket that first exceeds `maxDepth`, ignoring brackets inside strings; -1 if none. */
export function findDepthOverflow(text: string, maxDepth = MAX_DEPTH): number {
    let depth = 0;
    let inString = false;
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (inString) {
            if (c === 0x5c /* \ */) i++;
            else if (c === 0x22 /* " */) inString = false;
        } else if (c === 0x22) inString = true;
        else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
            if (++depth > maxDepth) return i;
        } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
    }
    return -1;
}

const PARSE_ERROR_TEXT: Record<number, string> = {
    1: "Unexpected character",
    2: "Invalid number",
    3: "Expected a property name in double quotes",
    4: "Expected a value",
    5: "Expected ':' after the property name",
    6: "Expected ',' between items",
    7: "Expected '}' to close the object",
    8: "Expected ']' to close the array",
    9: "Unexpected text after the JSON value (one example per line)",
    10: "Comments are not allowed in JSON",
    11: "Unterminated comment",
    12: "Unterminated string (missing closing quote)",
    13: "Unexpected end of number",
    14: "Invalid \\u escape (expected four hex digits)",
    15: "Invalid escape character",
    16: "Control character in a string (escape it, e.g. \\n or \\t)"
};

export interface SyntaxProblem extends CharRange {
    message: string;
}

const STRICT_JSON = { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false };

/** The first JSON syntax error of a line JSON.parse rejected, at its exact character. Caller guarantees the depth limit. */
export function locateSyntaxError(text: string, parseMessage: string): SyntaxProblem {
    const errors: ParseError[] = [];
    parseTree(text, errors, STRICT_JSON);
    const first = errors[0];
    if (first) {
        let message = PARSE_ERROR_TEXT[first.error] ?? "Invalid JSON";
        // A trailing comma shows up as "expected a property name/value" at the closing bracket.
        const ch = text[first.offset];
        if ((first.error === 3 || first.error === 4) && (ch === "}" || ch === "]") && /,\s*$/.test(text.slice(0, first.offset))) {
            message = "Trailing comma is not allowed in JSON";
        }
        return { ...clampRange(text, first.offset, first.offset + Math.max(first.length, 1)), message };
    }
    // jsonc-parser accepted what JSON.parse did not (should not happen): fall back on V8's position, if any. V8's own
    // message quotes the line ("root:x:0:0"... is not valid JSON), so only its position is used (datasets/excerpt.ts).
    const m = /position (\d+)/.exec(parseMessage);
    const at = m ? Number(m[1]) : 0;
    return { ...clampRange(text, at, at + 1), message: "Invalid JSON" };
}

/** A range inside the line, at least one character wide when the line has any. */
export function clampRange(text: string, start: number, end: number): CharRange {
    const len = text.length;
    let s = Math.min(Math.max(start, 0), len);
    let e = Math.min(Math.max(end, s), len);
    if (s === e && len > 0) {
        if (e < len) e++;
        else s = Math.max(0, len - 1);
    }
    return { start: s, end: e };
}

/** Where a problem points inside the JSON value. */
export type PathTarget = "value" | "key";

/** Parse tree of a line known to be valid JSON within the depth limit; reuse it for all paths of that line. */
export function treeOf(text: string): Node | undefined {
    return parseTree(text, [], STRICT_JSON);
}

/**
 * The range of a JSON path: the value, or the property's key when `target` is "key". Falls back to the
 * nearest existing ancestor when the path does not exist (for example a missing property's parent).
 */
export function rangeOfPath(root: Node | undefined, path: (string | number)[], target: PathTarget, text: string): CharRange {
    if (!root) return clampRange(text, 0, text.length);
    for (let n = path.length; n >= 0; n--) {
        const node = findNodeAtLocation(root, path.slice(0, n));
        if (!node) continue;
        if (target === "key" && n === path.length && node.parent?.type === "property" && node.parent.children?.[0]) {
            const key = node.parent.children[0];
            return clampRange(text, key.offset, key.offset + key.length);
        }
        return clampRange(text, node.offset, node.offset + node.length);
    }
    return clampRange(text, 0, text.length);
}
