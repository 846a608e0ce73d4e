// Message templates: text with `{column}` placeholders, e.g. `Question: {question}\nContext: {support}`.
//   - `{a.b}` reads field b of a struct column a (PubMedQA's `{context.contexts}`); a column whose own name has a
//     dot is found first.
//   - `\n`, `\t`, `\\`, `\{` and `\}` are escapes, so a one-line input box or shell flag can hold a multi-line template.
//   - A line whose placeholders are all empty is left out, so `Context: {support}` disappears for a row without one.
// An unknown column is refused when the template is compiled, before any row is read.
import { CellError, ImportRequestError } from "./errors";

type Part = { text: string } | { column: string; path: readonly string[] };

export interface CompiledTemplate {
    /** Which message it renders ("system", "user", "assistant"), for error messages. */
    name: string;
    source: string;
    lines: ReadonlyArray<readonly Part[]>;
    /** The top-level columns it reads (Parquet reads only these). */
    columns: readonly string[];
}

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", "\\": "\\", "{": "{", "}": "}" };

/** Edit distance, to suggest the column a typo meant. */
function distance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0]!;
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j]!;
            row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length]!;
}

function unknownColumn(name: string, column: string, columns: readonly string[]): ImportRequestError {
    const close = columns.filter((c) => distance(c.toLowerCase(), column.toLowerCase()) <= 2);
    const hint = close.length ? ` Did you mean ${close.map((c) => `{${c}}`).join(" or ")}?` : "";
    return new ImportRequestError(`template "${name}": unknown column "${column}"; the file's columns are ${columns.map((c) => `"${c}"`).join(", ")}.${hint}`);
}

/** The column a placeholder reads: the whole name if the file has it, else the part before the first dot. */
function resolvePlaceholder(name: string, placeholder: string, columns: readonly string[]): Part {
    if (columns.includes(placeholder)) return { column: placeholder, path: [] };
    const [head, ...rest] = placeholder.split(".");
    if (rest.length > 0 && columns.includes(head!)) return { column: head!, path: rest };
    throw unknownColumn(name, placeholder, columns);
}

export function compileTemplate(name: string, source: string, columns: readonly string[]): CompiledTemplate {
    const lines: Part[][] = [[]];
    let text = "";
    const flushText = (): void => {
        if (text !== "") lines[lines.length - 1]!.push({ text });
        text = "";
    };
    for (let i = 0; i < source.length; i++) {
        const c = source[i]!;
        if (c === "\\" && i + 1 < source.length && ESCAPES[source[i + 1]!] !== undefined) {
            const decoded = ESCAPES[source[++i]!]!;
            if (decoded === "\n") {
                flushText();
                lines.push([]);
            } else {
                text += decoded;
            }
        } else if (c === "\n") {
            flushText();
            lines.push([]);
        } else if (c === "{") {
            const end = source.indexOf("}", i + 1);
            if (end === -1) throw new ImportRequestError(`template "${name}": the "{" at character ${i + 1} is not closed (write \\{ for a literal brace)`);
            const placeholder = source.slice(i + 1, end).trim();
            if (placeholder === "") throw new ImportRequestError(`template "${name}": empty placeholder "{}" at character ${i + 1}; name a column, e.g. {${columns[0] ?? "question"}}`);
            flushText();
            lines[lines.length - 1]!.push(resolvePlaceholder(name, placeholder, columns));
            i = end;
        } else {
            text += c;
        }
    }
    flushText();
    const used = new Set<string>();
    for (const line of lines) for (const part of line) if ("column" in part) used.add(part.column);
    return { name, source, lines, columns: [...used] };
}

/** The text of one cell: strings as they are, numbers and booleans printed, lists of text one item per line. */
export function cellText(value: unknown, column: string): string {
    if (value === null || value === undefined) return "";
    if (typeof value === "string") return value;
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Uint8Array) throw new CellError(column, "holds binary data, not text");
    if (Array.isArray(value)) return value.map((item, i) => cellText(item, `${column}[${i}]`)).join("\n");
    throw new CellError(column, `holds an object (${Object.keys(value as object).slice(0, 5).join(", ")}), not text; name one of its fields, e.g. {${column}.${Object.keys(value as object)[0] ?? "field"}}`);
}

function lookup(values: Readonly<Record<string, unknown>>, part: { column: string; path: readonly string[] }): unknown {
    let value: unknown = values[part.column];
    for (const key of part.path) {
        if (value === null || value === undefined) return undefined;
        if (typeof value !== "object" || Array.isArray(value)) throw new CellError(`${part.column}.${part.path.join(".")}`, `"${part.column}" has no field "${key}": it holds ${Array.isArray(value) ? "a list" : `a ${typeof value}`}`);
        value = (value as Record<string, unknown>)[key];
    }
    return value;
}

/** Renders a template for one row; throws CellError naming the column of a value that is not text. */
export function renderTemplate(template: CompiledTemplate, values: Readonly<Record<string, unknown>>): string {
    const out: string[] = [];
    for (const line of template.lines) {
        let rendered = "";
        let placeholders = 0;
        let empty = 0;
        for (const part of line) {
            if ("text" in part) {
                rendered += part.text;
                continue;
            }
            placeholders++;
            const name = part.path.length ? `${part.column}.${part.path.join(".")}` : part.column;
            const text = cellText(lookup(values, part), name);
            if (text.trim() === "") empty++;
            rendered += text;
        }
        if (placeholders > 0 && empty === placeholders) continue;
        out.push(rendered);
    }
    return out.join("\n").trim();
}
