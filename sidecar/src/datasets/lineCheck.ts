// Validation of one line on its own: everything that does not depend on other lines. The result keeps ranges as
// character offsets within the line (no line number), so the incremental validator can shift lines for free.
//
// Fast path: JSON.parse, then ajv's compiled schema and a few direct checks on the parsed value. Only when a line
// has something to report does it pay for jsonc-parser's parse tree, which turns JSON paths into exact ranges.
import type { ErrorObject } from "ajv";
import { DIAGNOSTIC_CODES, type DiagnosticCode } from "./codes";
import {
    canonicalView,
    convertLineToChat,
    detectLineFormat,
    isPlainObject,
    normalizeCanonical,
    parseObjectLine,
    sourceKeys,
    sourcePath,
    type JsonObject
} from "./formats";
import { MAX_DEPTH, findDepthOverflow, locateSyntaxError, rangeOfPath, treeOf, type PathTarget } from "./jsonRanges";
import { beginExampleHash, exampleKey, hashMessage, isTrimmable, lastTrimmedLength } from "./exampleHash";
import { excerpt } from "./excerpt";
import { fastChatLine, fastChatResult } from "./fastChat";
import { schemaValidator } from "./schemas";
import type { ChatMessage, ColumnMapping, DatasetFormat, FixHint, FormatSetting, Severity } from "./types";

export interface LocalDiagnostic {
    start: number; // character offsets within the line
    end: number;
    severity: Severity;
    code: DiagnosticCode;
    message: string;
    /** Built only for diagnostics that make it into the (capped) output. */
    fix?: () => FixHint | undefined;
}

export interface LineResult {
    kind: DatasetFormat | "invalid" | "blank";
    diagnostics: LocalDiagnostic[] | undefined;
    /**
     * Hash of the normalized example (as chat messages, content trimmed), for finding
     * duplicate candidates; set only for well-formed examples. Cheap and small to hold for 200k lines; candidates
     * are confirmed with exampleText() before anything is reported, so a collision never yields a false duplicate.
     */
    key: number | undefined;
    roles: Record<string, number> | undefined;
    /** The line contains NUL: the whole file is treated as binary. */
    hasNul: boolean;
}

export interface LineCheckOptions {
    format: FormatSetting;
    mapping: ColumnMapping | undefined;
    maxLineLength: number;
    decodedFromInvalidUtf8: boolean;
}

/** Writes a line's result into the caller's object (the validator's line record): no result object per line. */
function fill(into: LineResult, kind: LineResult["kind"], diagnostics: LocalDiagnostic[] | undefined, key: number | undefined, roles: Record<string, number> | undefined, hasNul: boolean): void {
    into.kind = kind;
    into.diagnostics = diagnostics && diagnostics.length > 1 ? diagnostics.sort((a, b) => a.start - b.start) : diagnostics;
    into.key = key;
    into.roles = roles;
    into.hasNul = hasNul;
}

function diag(code: DiagnosticCode, start: number, end: number, message: string, fix?: () => FixHint | undefined): LocalDiagnostic {
    return { start, end, severity: DIAGNOSTIC_CODES[code].severity, code, message, ...(fix ? { fix } : {}) };
}

function isSpace(c: number): boolean {
    return c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff;
}

/** A path-based problem found on the parsed value; turned into a range only if the line has any. */
interface PathProblem {
    path: (string | number)[];
    target: PathTarget;
    code: DiagnosticCode;
    message: string;
    fix?: () => FixHint | undefined;
}

/** `useFastPath: false` forces the full path (JSON.parse, ajv, content checks); tests compare the two. */
export function checkLine(text: string, isFirstLine: boolean, opts: LineCheckOptions, into: LineResult, useFastPath = true): void {
    let start = 0;
    let end = text.length;
    // Allocated lazily: most lines have nothing to report.
    let out: LocalDiagnostic[] | undefined;
    if (isFirstLine && text.charCodeAt(0) === 0xfeff) {
        (out ??= []).push(diag("LS007", 0, 1, "The file starts with a byte-order mark (BOM); many JSONL readers reject it", () => ({ kind: "remove-bom", replacement: text.slice(1) })));
        start = 1;
    }
    while (start < end && isSpace(text.charCodeAt(start))) start++;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
    if (start === end) return fill(into, "blank", out, undefined, undefined, false);

    const fffd = text.indexOf("\uFFFD");
    if (fffd >= 0) {
        let stop = fffd;
        while (text.charCodeAt(stop) === 0xfffd) stop++;
        (out ??= []).push(opts.decodedFromInvalidUtf8
            ? diag("LS004", fffd, stop, "Invalid UTF-8: these bytes are not valid UTF-8 and were replaced by U+FFFD; re-save the file as UTF-8")
            : diag("LS005", fffd, stop, "U+FFFD replacement character: the file may have been decoded with the wrong encoding"));
    }
    if (text.length > opts.maxLineLength) {
        (out ??= []).push(diag("LS009", opts.maxLineLength, text.length, `Line is ${text.length} characters long (limit ${opts.maxLineLength})`));
    }
    const bomOnly = start === 1 && text.charCodeAt(0) === 0xfeff;
    if (start > (bomOnly ? 1 : 0) || end < text.length) {
        const leadFrom = bomOnly ? 1 : 0;
        const r = start > leadFrom ? { start: leadFrom, end: start } : { start: end, end: text.length };
        (out ??= []).push(diag("LS010", r.start, r.end, "Whitespace before or after the JSON value", () => ({ kind: "trim-whitespace", replacement: text.slice(0, leadFrom) + text.slice(start, end) })));
    }

    // Most lines are clean chat examples: a scan that accepts only those (and is sure of them) skips JSON.parse
    // and ajv for them; everything else, errors included, takes the full path below.
    if (useFastPath && opts.mapping === undefined && (opts.format === "auto" || opts.format === "chat") && fastChatLine(text, start, end)) {
        const r = fastChatResult;
        return fill(into, "chat", out, r.key, rolesObject(r.system, r.user, r.assistant), false);
    }

    const body = start === 0 && end === text.length ? text : text.slice(start, end);
    let value: unknown;
    try {
        value = JSON.parse(body);
    } catch (e) {
        // Raw NUL is never valid JSON, so only lines that fail to parse need this scan.
        const hasNul = text.indexOf("\u0000") >= 0;
        // The file is binary (LS006 covers it, once): no point locating syntax errors in it.
        if (hasNul) return fill(into, "invalid", out, undefined, undefined, true);
        const overflow = findDepthOverflow(body);
        if (overflow >= 0) {
            (out ??= []).push(diag("LS003", start + overflow, start + overflow + 1, `Nesting deeper than ${MAX_DEPTH} levels`));
        } else {
            const p = locateSyntaxError(body, e instanceof Error ? e.message : String(e));
            (out ??= []).push(diag("LS001", start + p.start, start + p.end, `Invalid JSON: ${p.message}`));
        }
        return fill(into, "invalid", out, undefined, undefined, hasNul);
    }
    if (!isPlainObject(value)) {
        const what = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
        (out ??= []).push(diag("LS002", start, end, `Each line must be a JSON object, found ${what}`));
        return fill(into, "invalid", out, undefined, undefined, false);
    }
    // No depth check here: JSON.parse, ajv (which only follows the schema's shallow properties) and the checks
    // below never recurse into arbitrary values. The recursive parts (jsonc-parser's tree, fixes that
    // re-serialize) run only for lines with problems, behind findDepthOverflow() below.

    const detected = detectLineFormat(value, opts.mapping);
    const format = opts.format === "auto" ? detected : opts.format;
    if (!format) {
        const keys = Object.keys(value).slice(0, 5).map((k) => excerpt(k)).join(", ");
        (out ??= []).push(diag("LS105", start, end, `Unknown format: keys ${keys || "(none)"} match none of chat (messages), instruction (instruction/output), prompt-completion (prompt/completion), text (text), qa (question/answer); map custom columns in the format settings`));
        return fill(into, "invalid", out, undefined, undefined, false);
    }

    const view = canonicalView(value, format, opts.mapping);
    let problems: PathProblem[] | undefined;
    const validate = schemaValidator(format);
    const schemaOk = validate(view) as boolean;
    if (!schemaOk) {
        // With a forced format, a line in another convertible format gets the conversion as its fix.
        const convert = detected && detected !== format && format === "chat" ? () => convertFix(body, detected, opts.mapping) : undefined;
        problems = (validate.errors ?? []).map((err) => schemaProblem(err, view, format, opts.mapping, convert));
    }
    // Hot path: a schema-valid chat view already is the normalized shape, so nothing is copied.
    const normalized = !schemaOk ? undefined : format === "chat" ? { messages: view["messages"] as ChatMessage[] } : normalizeCanonical(view, format);
    if (normalized) problems = contentChecks(view, format, opts.mapping, body, problems);

    let key: number | undefined;
    let roles: Record<string, number> | undefined;
    if (normalized) {
        let system = 0;
        let user = 0;
        let assistant = 0;
        let h = beginExampleHash(normalized.raw === true);
        let length = 0;
        for (const m of normalized.messages) {
            if (m.role === "assistant") assistant++;
            else if (m.role === "user") user++;
            else system++;
            h = hashMessage(h, m.role.charCodeAt(0), m.content, 0, m.content.length);
            length += lastTrimmedLength();
        }
        key = exampleKey(h, length);
        roles = rolesObject(system, user, assistant);
    }

    if (problems && problems.length) {
        const overflow = findDepthOverflow(body);
        if (overflow >= 0) {
            // Too deep to map paths to ranges safely: report the depth instead, with the problem count.
            (out ??= []).push(diag("LS003", start + overflow, start + overflow + 1, `Nesting deeper than ${MAX_DEPTH} levels (and ${problems.length} other problem(s) on this line)`));
            return fill(into, "invalid", out, undefined, undefined, false);
        }
        const tree = treeOf(body);
        for (const p of problems) {
            const r = rangeOfPath(tree, sourcePath(p.path, format, opts.mapping), p.target, body);
            (out ??= []).push(diag(p.code, start + r.start, start + r.end, p.message, p.fix));
        }
    }
    // A schema-invalid line still counts toward its format (so mixed-format checks stay meaningful).
    return fill(into, format, out, key, roles, false);
}


/**
 * The exact comparison text of a line's example, for confirming duplicate candidates found by hash; undefined
 * when the line has no well-formed example. Slow path (parses again), used only on hash collisions.
 */
export function exampleText(text: string, opts: LineCheckOptions): string | undefined {
    const value = parseObjectLine(text.replace(/^\uFEFF/, "").trim());
    if (!value) return undefined;
    const format = opts.format === "auto" ? detectLineFormat(value, opts.mapping) : opts.format;
    if (!format) return undefined;
    const normalized = normalizeCanonical(canonicalView(value, format, opts.mapping), format);
    if (!normalized) return undefined;
    let key = normalized.raw ? "raw\u0003" : "";
    for (const m of normalized.messages) key += `${m.role}\u0001${m.content.trim()}\u0002`;
    return key;
}

/** Role counts are shared, frozen objects: most lines have one of a handful of role patterns. */
const rolesCache = new Map<number, Readonly<Record<string, number>>>();
function rolesObject(system: number, user: number, assistant: number): Record<string, number> {
    const make = () => {
        const r: Record<string, number> = {};
        if (system) r["system"] = system;
        if (user) r["user"] = user;
        if (assistant) r["assistant"] = assistant;
        return Object.freeze(r);
    };
    if (system >= 64 || user >= 64 || assistant >= 64) return make();
    const id = system + user * 64 + assistant * 4096;
    let r = rolesCache.get(id);
    if (!r) rolesCache.set(id, (r = make()));
    return r as Record<string, number>;
}

function convertFix(body: string, format: DatasetFormat, mapping: ColumnMapping | undefined): FixHint | undefined {
    const replacement = convertLineToChat(body, format, mapping);
    return replacement === undefined ? undefined : { kind: "convert-to-chat", replacement };
}

function describePath(path: (string | number)[]): string {
    let s = "";
    for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
    return s || "the example";
}

function typeName(v: unknown): string {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

function parsePointer(pointer: string): (string | number)[] {
    if (!pointer) return [];
    return pointer.slice(1).split("/").map((seg) => {
        const s = seg.replace(/~1/g, "/").replace(/~0/g, "~");
        return /^\d+$/.test(s) ? Number(s) : s;
    });
}

/** The value at a JSON path (ajv reports the offending value only in verbose mode, which slows the hot path). */
function valueAt(root: unknown, path: (string | number)[]): unknown {
    let v = root;
    for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<string | number, unknown>)[p] : undefined;
    return v;
}

function schemaProblem(err: ErrorObject, view: JsonObject, format: DatasetFormat, mapping: ColumnMapping | undefined, convert: (() => FixHint | undefined) | undefined): PathProblem {
    const path = parsePointer(err.instancePath);
    const data = valueAt(view, path);
    const userPath = sourcePath(path, format, mapping);
    const where = describePath(userPath);
    const fix = convert ? { fix: convert } : {};
    switch (err.keyword) {
        case "required": {
            const missing = String((err.params as { missingProperty: string }).missingProperty);
            const userKey = path.length === 0 ? sourceKeys(missing, mapping?.format === format ? mapping : undefined).join('" or "') : missing;
            const mapped = userKey !== missing ? ` (mapped to the ${format} field "${missing}")` : "";
            const inWhat = path.length === 0 ? `${format} example` : where;
            return { path, target: "value", code: "LS101", message: `Missing required property "${userKey}"${mapped} in ${inWhat}`, ...fix };
        }
        case "type": {
            const expected = String((err.params as { type: string }).type);
            return { path, target: "value", code: "LS102", message: `${where} must be ${expected === "array" || expected === "object" ? "an" : "a"} ${expected}, found ${typeName(data)}`, ...fix };
        }
        case "enum": {
            const allowed = ((err.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ");
            return { path, target: "value", code: "LS103", message: `${where} must be one of ${allowed}, found ${excerpt(data)}`, ...fix };
        }
        case "minItems":
            return { path, target: "value", code: "LS104", message: `${where} must not be empty`, ...fix };
        default:
            return { path, target: "value", code: "LS104", message: `${where} ${err.message ?? "violates the schema"}`, ...fix };
    }
}

/** The fields each format trains on (the target) and the other text fields that should not be empty. */
const TARGET_FIELD: Record<Exclude<DatasetFormat, "chat">, string> = { instruction: "output", "prompt-completion": "completion", text: "text", qa: "answer" };
const PROMPT_FIELD: Record<Exclude<DatasetFormat, "chat" | "text">, string> = { instruction: "instruction", "prompt-completion": "prompt", qa: "question" };

function hasEdgeSpace(s: string): boolean {
    return s.length > 0 && (isTrimmable(s.charCodeAt(0)) || isTrimmable(s.charCodeAt(s.length - 1)));
}

/** Empty or whitespace only; trims (allocates) only when the first character is whitespace. */
function isBlankText(s: string): boolean {
    return s.length === 0 || (isTrimmable(s.charCodeAt(0)) && s.trim() === "");
}

/** Checks beyond the schema, on a schema-valid canonical view. Returns `problems`, created on the first one. */
function contentChecks(view: JsonObject, format: DatasetFormat, mapping: ColumnMapping | undefined, body: string, problems: PathProblem[] | undefined): PathProblem[] | undefined {
    // No closures made up front: this runs for every line, and problems are rare.
    if (format === "chat") {
        const messages = view["messages"] as { role: string; content: string }[];
        let hasTarget = false;
        for (let i = 0; i < messages.length; i++) {
            const { role, content } = messages[i]!;
            if (role === "system" && i > 0) {
                (problems ??= []).push({ path: ["messages", i, "role"], target: "value", code: "LS202", message: `A system message must come first; this one is message ${i + 1} of ${messages.length}` });
            }
            if (isBlankText(content)) {
                (problems ??= []).push({ path: ["messages", i, "content"], target: "value", code: "LS203", message: `Empty ${role} content` });
            } else {
                if (role === "assistant") hasTarget = true;
                if (hasEdgeSpace(content)) (problems ??= []).push({ path: ["messages", i, "content"], target: "value", code: "LS204", message: `The ${role} content starts or ends with whitespace`, fix: trimFixFor(body, format, mapping) });
            }
        }
        if (!hasTarget) {
            (problems ??= []).push({ path: ["messages"], target: "key", code: "LS201", message: "No assistant message with text: this example has nothing to train on" });
        }
        return problems;
    }
    const target = TARGET_FIELD[format];
    const targetText = view[target] as string;
    if (isBlankText(targetText)) {
        (problems ??= []).push({ path: [target], target: "value", code: "LS201", message: `Empty "${sourceKeys(target, mapping?.format === format ? mapping : undefined)[0]}": this example has nothing to train on` });
    } else if (hasEdgeSpace(targetText)) {
        (problems ??= []).push({ path: [target], target: "value", code: "LS204", message: `"${target}" starts or ends with whitespace`, fix: trimFixFor(body, format, mapping) });
    }
    if (format === "text") return problems;
    const prompt = PROMPT_FIELD[format];
    const promptText = view[prompt] as string;
    if (isBlankText(promptText)) {
        (problems ??= []).push({ path: [prompt], target: "value", code: "LS203", message: `Empty "${sourceKeys(prompt, mapping?.format === format ? mapping : undefined)[0]}"` });
    } else if (hasEdgeSpace(promptText)) {
        (problems ??= []).push({ path: [prompt], target: "value", code: "LS204", message: `"${prompt}" starts or ends with whitespace`, fix: trimFixFor(body, format, mapping) });
    }
    return problems;
}

function trimFixFor(body: string, format: DatasetFormat, mapping: ColumnMapping | undefined): () => FixHint | undefined {
    return () => trimmedLine(body, format, mapping);
}

/** The line with its content strings trimmed (quick fix for LS204). Keeps every other key as it was. */
function trimmedLine(body: string, format: DatasetFormat, mapping: ColumnMapping | undefined): FixHint | undefined {
    const value = parseObjectLine(body);
    if (!value) return undefined;
    if (format === "chat") {
        const messages = value["messages"];
        if (Array.isArray(messages)) {
            for (const m of messages) if (isPlainObject(m) && typeof m["content"] === "string") m["content"] = m["content"].trim();
        }
    } else {
        const m = mapping?.format === format ? mapping : undefined;
        for (const field of ["instruction", "input", "output", "prompt", "completion", "text", "question", "answer", "context"]) {
            for (const k of sourceKeys(field, m)) if (typeof value[k] === "string") value[k] = (value[k] as string).trim();
        }
    }
    return { kind: "trim-whitespace", replacement: JSON.stringify(value) };
}
