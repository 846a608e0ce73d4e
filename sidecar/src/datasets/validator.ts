// Whole-file validation, kept incrementally. Each line's own checks are cached (lineCheck.ts); an edit re-checks
// only the lines it touches, then one linear pass recomputes what depends on the whole file: duplicates, the
// file's format (and so mixed-format warnings), blank lines, the binary-file guard and the diagnostics cap.
import { splitLines } from "./lines";
import { DIAGNOSTIC_CODES, type DiagnosticCode } from "./codes";
import { DATASET_FORMATS, convertLineToChat, detectLineFormat, isPlainObject } from "./formats";
import { checkLine, exampleText, type LineCheckOptions, type LineResult, type LocalDiagnostic } from "./lineCheck";
import type { ColumnMapping, DatasetDiagnostic, DatasetFormat, FixHint, LineInfo, Severity, ValidateOptions, ValidationResult } from "./types";

export const DEFAULT_MAX_DIAGNOSTICS = 1000;
/** About 8k tokens: far past any sequence length a laptop fine-tune uses, so such lines are almost surely mistakes. */
export const DEFAULT_MAX_LINE_LENGTH = 32_768;

/** Replace old lines [startLine, endLine) with `newLines` (0-based; endLine exclusive). */
export interface LineEdit {
    startLine: number;
    endLine: number;
    newLines: string[];
}

/** One line: its text, its own checks' result (filled in by checkLine) and what the file-wide pass needs. */
class LineRecord implements LineResult {
    kind: LineResult["kind"] = "blank";
    diagnostics: LocalDiagnostic[] | undefined = undefined;
    key: number | undefined = undefined;
    roles: Record<string, number> | undefined = undefined;
    hasNul = false;
    /** When the hash is shared: the lines with the same hash (this one included). */
    group: HashGroup | undefined = undefined;
    constructor(
        readonly text: string,
        /** Current 0-based line; kept up to date after edits so duplicate groups can find their first line. */
        public index: number
    ) {}
}

/**
 * What one pass decided per line, in typed arrays (cheap to make for 200k lines); ValidationResult.lines is
 * built from it only when someone reads it, so a keystroke does not allocate an object per line.
 */
interface LineSnapshot {
    records: LineRecord[];
    severity: Uint8Array; // SEVERITY_RANK
    duplicateOf: Int32Array; // -1: none
}

/** Lines whose examples share a hash; most are true duplicates, a few are collisions of the sampled hash. */
interface HashGroup {
    members: LineRecord[];
    /**
     * Exact example text → the member holding it on the lowest line. Edits elsewhere shift lines but keep their
     * order, so this stays valid until the membership changes (then it is dropped and rebuilt on demand).
     */
    firstByText: Map<string, LineRecord> | undefined;
    /** Each member's exact comparison text (null: none), computed on first need and kept while it is a member. */
    texts: Map<LineRecord, string | null>;
}

const FORMAT_INDEX: Record<DatasetFormat, number> = { chat: 0, instruction: 1, "prompt-completion": 2, text: 3, qa: 4 };

const NO_ROLES: Record<string, number> = Object.freeze({}) as Record<string, number>;

const SEVERITY_RANK: Record<Severity | "ok", number> = { ok: 0, info: 1, warning: 2, error: 3 };
const SEVERITY_NAME: readonly (Severity | "ok")[] = ["ok", "info", "warning", "error"];

export { splitLines } from "./lines";

function worst(a: Severity | "ok", b: Severity): Severity | "ok" {
    return SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a;
}

export class IncrementalValidator {
    private readonly lineOptions: LineCheckOptions;
    private readonly maxDiagnostics: number;
    private records: LineRecord[] = [];
    /** Normalized example's hash → the line holding it, or all of them once it is duplicated. */
    private readonly byKey = new Map<number, LineRecord | HashGroup>();
    /** Lines per detected format (DATASET_FORMATS order), kept up to date so finding the file's format costs nothing per edit. */
    private readonly formatCounts = new Int32Array(DATASET_FORMATS.length);
    private nulLines = 0;
    /**
     * Set when the text had NUL characters: lines are kept unchecked (a 100 MB binary would otherwise cost a syntax
     * error hunt per "line"), and the first edit that removes the last NUL runs a full check.
     */
    private binary = false;

    constructor(options: ValidateOptions = {}) {
        this.lineOptions = {
            format: options.format ?? "auto",
            mapping: options.columnMapping,
            maxLineLength: options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
            decodedFromInvalidUtf8: options.decodedFromInvalidUtf8 ?? false
        };
        this.maxDiagnostics = Math.max(1, options.maxDiagnostics ?? DEFAULT_MAX_DIAGNOSTICS);
    }

    /** Validates a whole new text, dropping all cached state. */
    setText(text: string): ValidationResult {
        this.records = [];
        this.byKey.clear();
        this.formatCounts.fill(0);
        this.nulLines = 0;
        this.binary = text.indexOf("\u0000") >= 0;
        const lines = splitLines(text);
        const records = new Array<LineRecord>(lines.length);
        for (let i = 0; i < lines.length; i++) records[i] = this.makeRecord(lines[i]!, i);
        this.records = records;
        return this.assemble();
    }

    /** Replaces lines [startLine, endLine) with `newLines` and re-validates only those, plus the file-wide checks. */
    applyEdit(edit: LineEdit): ValidationResult {
        const n = this.records.length;
        const start = Math.min(Math.max(0, edit.startLine), n);
        const end = Math.min(Math.max(start, edit.endLine), n);
        const removed = this.records.slice(start, end);
        for (const r of removed) this.forget(r);
        const added = edit.newLines.map((line, k) => this.makeRecord(line, start + k));
        // splice(...added) would pass every line as an argument: fine for a keystroke, a RangeError for a big paste.
        if (added.length < 1000) this.records.splice(start, end - start, ...added);
        else this.records = this.records.slice(0, start).concat(added, this.records.slice(end));
        // A BOM is only a BOM on the first line: when an edit at the top moves the old lines, re-check the one
        // right after the edit (it became, or stopped being, the first line).
        const next = added.length;
        if (start === 0 && next < this.records.length) {
            const moved = this.records[next]!;
            this.forget(moved);
            this.records[next] = this.makeRecord(moved.text, next);
        }
        for (let i = start + added.length; i < this.records.length; i++) this.records[i]!.index = i;
        if (this.binary && this.nulLines === 0) return this.setText(this.records.map((r) => r.text).join("\n"));
        return this.assemble();
    }

    /** The current text's lines (for callers that keep no copy of their own). */
    get lineCount(): number {
        return this.records.length;
    }

    private makeRecord(text: string, index: number): LineRecord {
        const record = new LineRecord(text, index);
        if (this.binary) {
            record.kind = "invalid";
            record.hasNul = text.indexOf("\u0000") >= 0;
        } else checkLine(text, index === 0, this.lineOptions, record);
        if (record.hasNul) this.nulLines++;
        const kind = record.kind;
        if (kind !== "blank" && kind !== "invalid") this.formatCounts[FORMAT_INDEX[kind]]!++;
        if (record.key !== undefined) {
            const held = this.byKey.get(record.key);
            if (held === undefined) this.byKey.set(record.key, record);
            else if ("members" in held) {
                held.members.push(record);
                held.firstByText = undefined;
                record.group = held;
            } else {
                const group: HashGroup = { members: [held, record], firstByText: undefined, texts: new Map() };
                held.group = group;
                record.group = group;
                this.byKey.set(record.key, group);
            }
        }
        return record;
    }

    private forget(record: LineRecord): void {
        if (record.hasNul) this.nulLines--;
        const kind = record.kind;
        if (kind !== "blank" && kind !== "invalid") this.formatCounts[FORMAT_INDEX[kind]]!--;
        const key = record.key;
        if (key === undefined) return;
        const group = record.group;
        record.group = undefined;
        if (!group) {
            this.byKey.delete(key);
            return;
        }
        const members = group.members;
        members.splice(members.indexOf(record), 1);
        group.firstByText = undefined;
        group.texts.delete(record);
        if (members.length === 1) {
            // Back to a single holder: it is no longer anyone's duplicate.
            members[0]!.group = undefined;
            this.byKey.set(key, members[0]!);
        }
    }

    /** The first (lowest) line holding the same example, when `record` is not that line. */
    private firstDuplicate(record: LineRecord): number | undefined {
        const group = record.group;
        if (group === undefined) return undefined;
        // Same hash: confirm with the exact text. One map per group keeps big groups linear.
        if (group.firstByText === undefined) {
            const firstByText = new Map<string, LineRecord>();
            for (const r of group.members) {
                const text = this.exampleOf(r, group);
                if (text === null) continue;
                const seen = firstByText.get(text);
                if (seen === undefined || r.index < seen.index) firstByText.set(text, r);
            }
            group.firstByText = firstByText;
        }
        const mine = this.exampleOf(record, group);
        const first = mine === null ? undefined : group.firstByText.get(mine);
        return first !== undefined && first.index < record.index ? first.index : undefined;
    }

    private exampleOf(record: LineRecord, group: HashGroup): string | null {
        let text = group.texts.get(record);
        if (text === undefined) group.texts.set(record, (text = exampleText(record.text, this.lineOptions) ?? null));
        return text;
    }

    /** The file's format: the setting, or the most common line format (ties in DATASET_FORMATS order). */
    private fileFormat(): DatasetFormat | "unknown" {
        if (this.lineOptions.format !== "auto") return this.lineOptions.format;
        let best: DatasetFormat | "unknown" = "unknown";
        let bestCount = 0;
        for (let k = 0; k < DATASET_FORMATS.length; k++) {
            const c = this.formatCounts[k]!;
            if (c > bestCount) {
                best = DATASET_FORMATS[k]!;
                bestCount = c;
            }
        }
        return best;
    }

    private assemble(): ValidationResult {
        const records = this.records;
        const last = records.length - 1;
        const all: { line: number; d: LocalDiagnostic }[] = [];
        const counts = { valid: 0, warning: 0, error: 0, blank: 0 };
        const snapshot: LineSnapshot = { records: records.slice(), severity: new Uint8Array(records.length), duplicateOf: new Int32Array(records.length).fill(-1) };

        if (this.nulLines > 0) {
            // Binary: per-line results would be thousands of meaningless syntax errors.
            snapshot.severity.fill(SEVERITY_RANK.error);
            counts.error = records.length;
            const d = this.synthetic("LS006", 0, 0, "The file contains NUL characters and looks binary; it is not a JSONL dataset");
            return result("unknown", [d], snapshot, counts);
        }

        const format = this.fileFormat();
        const autoFormat = this.lineOptions.format === "auto";
        let examples = 0;
        for (let i = 0; i < records.length; i++) {
            const r = records[i]!;
            const kind = r.kind;
            let severity: Severity | "ok" = "ok";
            const firstOfLine = all.length;
            const local = r.diagnostics;
            if (local) for (const d of local) {
                all.push({ line: i, d });
                severity = worst(severity, d.severity);
            }
            if (kind === "blank") {
                // The empty string after a final newline is the end of the file, not a blank line.
                if (i === last && r.text === "") {
                    snapshot.severity[i] = SEVERITY_RANK[severity];
                    continue;
                }
                const d = blankDiagnostic(r.text);
                all.push({ line: i, d });
                severity = worst(severity, d.severity);
                counts.blank++;
            } else examples++;
            const dup = r.group === undefined ? undefined : this.firstDuplicate(r);
            if (dup !== undefined) {
                snapshot.duplicateOf[i] = dup;
                const text = r.text;
                const d: LocalDiagnostic = { start: 0, end: text.length, severity: "warning", code: "LS205", message: `Duplicate example: same as line ${dup + 1}`, fix: () => ({ kind: "delete-line" }) };
                all.push({ line: i, d });
                severity = worst(severity, d.severity);
            }
            if (autoFormat && kind !== "blank" && kind !== "invalid" && format !== "unknown" && kind !== format) {
                const text = r.text;
                const mapping = this.lineOptions.mapping;
                const fix = format === "chat" ? () => convertFixFor(text, kind, mapping) : undefined;
                const d: LocalDiagnostic = { start: 0, end: text.length, severity: "warning", code: "LS206", message: `This line is in ${kind} format but most of the file is ${format}`, ...(fix ? { fix } : {}) };
                all.push({ line: i, d });
                severity = worst(severity, d.severity);
            }
            // File-wide diagnostics start at character 0: keep the line's diagnostics in column order.
            if (local && all.length > firstOfLine + local.length) sortByStart(all, firstOfLine);
            snapshot.severity[i] = SEVERITY_RANK[severity];
            if (kind !== "blank") {
                if (severity === "error") counts.error++;
                else if (severity === "warning") counts.warning++;
                else counts.valid++;
            }
        }

        const diagnostics: DatasetDiagnostic[] = [];
        if (examples === 0) diagnostics.push(this.synthetic("LS011", 0, 0, "The file has no examples"));
        const budget = this.maxDiagnostics - diagnostics.length;
        let chosen = all;
        let omitted = 0;
        if (all.length > budget) {
            // Keep the most severe first, each severity in line order, then show them in line order.
            const keep = Math.max(0, budget - 1);
            chosen = [...all].sort((a, b) => SEVERITY_RANK[b.d.severity] - SEVERITY_RANK[a.d.severity] || a.line - b.line).slice(0, keep);
            chosen.sort((a, b) => a.line - b.line || a.d.start - b.d.start);
            omitted = all.length - keep;
        }
        for (const { line, d } of chosen) diagnostics.push(toDiagnostic(line, d));
        if (omitted > 0) {
            const counted = countBySeverity(all);
            diagnostics.push(this.synthetic("LS900", 0, 0, `${omitted} more diagnostics not shown (limit ${this.maxDiagnostics} per file; ${counted})`));
        }
        return result(format, diagnostics, snapshot, counts);
    }

    private synthetic(code: DiagnosticCode, line: number, character: number, message: string): DatasetDiagnostic {
        const end = Math.max(character, this.records[line]?.text.length ?? 0);
        return { range: { start: { line, character }, end: { line, character: end } }, severity: DIAGNOSTIC_CODES[code].severity, code, message };
    }
}

/** A result whose `lines` are built on first read (and then kept), from this pass's snapshot. */
function result(format: ValidationResult["format"], diagnostics: DatasetDiagnostic[], snapshot: LineSnapshot, counts: ValidationResult["counts"]): ValidationResult {
    let lines: LineInfo[] | undefined;
    return {
        format,
        diagnostics,
        counts,
        get lines(): LineInfo[] {
            return (lines ??= snapshot.records.map((r, i): LineInfo => {
                const info: LineInfo = { line: i, format: r.kind, chars: r.text.length, roles: r.roles ?? NO_ROLES, severity: SEVERITY_NAME[snapshot.severity[i]!]! };
                const dup = snapshot.duplicateOf[i]!;
                if (dup >= 0) info.duplicateOf = dup;
                return info;
            }));
        }
    };
}

function sortByStart(all: { d: LocalDiagnostic }[], from: number): void {
    const part = all.slice(from).sort((a, b) => a.d.start - b.d.start);
    for (let k = 0; k < part.length; k++) all[from + k] = part[k]!;
}

function countBySeverity(all: { d: LocalDiagnostic }[]): string {
    let e = 0;
    let w = 0;
    let i = 0;
    for (const { d } of all) d.severity === "error" ? e++ : d.severity === "warning" ? w++ : i++;
    return `in total ${e} errors, ${w} warnings, ${i} infos`;
}

function blankDiagnostic(text: string): LocalDiagnostic {
    return { start: 0, end: text.length, severity: "warning", code: "LS008", message: "Blank line between examples", fix: () => ({ kind: "delete-blank-line" }) };
}

function convertFixFor(text: string, format: DatasetFormat, mapping: ColumnMapping | undefined): FixHint | undefined {
    const replacement = convertLineToChat(text.replace(/^\uFEFF/, "").trim(), format, mapping);
    return replacement === undefined ? undefined : { kind: "convert-to-chat", replacement };
}

function toDiagnostic(line: number, d: LocalDiagnostic): DatasetDiagnostic {
    const out: DatasetDiagnostic = { range: { start: { line, character: d.start }, end: { line, character: d.end } }, severity: d.severity, code: d.code, message: d.message };
    const fix = d.fix?.();
    if (fix) out.fix = fix;
    return out;
}

/** Validates a whole JSONL text. Pure; the same core the language server runs incrementally. */
export function validateJsonl(text: string, options?: ValidateOptions): ValidationResult {
    return new IncrementalValidator(options).setText(text);
}

/**
 * The format of a file, from its first `sampleLines` non-blank lines that parse (majority wins; ties go to the
 * earlier line). A forced format in `options` is returned as is. "unknown" when no line is recognisable.
 */
export function detectFormat(text: string, options: ValidateOptions = {}, sampleLines = 200): DatasetFormat | "unknown" {
    if (options.format && options.format !== "auto") return options.format;
    const counts = new Map<DatasetFormat, number>();
    let best: DatasetFormat | "unknown" = "unknown";
    let bestCount = 0;
    let seen = 0;
    for (const line of splitLines(text.replace(/^\uFEFF/, ""))) {
        if (seen >= sampleLines) break;
        const t = line.trim();
        if (!t) continue;
        let value: unknown;
        try {
            value = JSON.parse(t);
        } catch {
            continue;
        }
        if (!isPlainObject(value)) continue;
        const f = detectLineFormat(value, options.columnMapping);
        if (!f) continue;
        seen++;
        const c = (counts.get(f) ?? 0) + 1;
        counts.set(f, c);
        if (c > bestCount) {
            best = f;
            bestCount = c;
        }
    }
    return best;
}
