// Live diagnostics for run config files (`*.lora.json`): JSON syntax errors at their character, schema errors
// (schemas/run-config.schema.json, checked with ajv) on the exact key or value, and checks a schema cannot express:
// paths that do not exist (relative to the config's folder, as training resolves them), a model that is not a
// GGUF, and validationSplit set next to validationData. Pure: the file system is reached only through the
// injected probe, so the language server, the CLI and tests share it.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import runConfigSchema from "../../../schemas/run-config.schema.json";
import { isPlainObject } from "./formats";
import { clampRange, findDepthOverflow, locateSyntaxError, rangeOfPath, treeOf, type CharRange, type PathTarget } from "./jsonRanges";
import type { DiagnosticCodeInfo } from "./codes";
import type { DatasetDiagnostic, Position } from "./types";

/** Every run-config diagnostic, with its stable code; docs/diagnostics.md documents each one. */
export const RUN_CONFIG_CODES = {
    RC001: { severity: "error", title: "invalid-json", description: "The file is not valid JSON; the range points at the first offending character." },
    RC002: { severity: "error", title: "not-an-object", description: "The file is valid JSON but not an object." },
    RC101: { severity: "error", title: "unknown-field", description: "A field the run config schema does not define (often a typo)." },
    RC102: { severity: "error", title: "missing-field", description: "A required field (model, data) is missing." },
    RC103: { severity: "error", title: "wrong-type", description: "A value has the wrong JSON type." },
    RC104: { severity: "error", title: "invalid-value", description: "A value is outside its allowed set or range (an unknown enum value, a number out of bounds, an empty string)." },
    RC201: { severity: "error", title: "path-not-found", description: "model, data or validationData names a file that does not exist (relative paths resolve against the config file's folder)." },
    RC202: { severity: "error", title: "model-not-gguf", description: "The model file does not start with the GGUF magic bytes, so it is not a GGUF model." },
    RC203: { severity: "warning", title: "split-ignored", description: "validationSplit is set together with validationData; the separate file wins and the split is ignored." }
} as const satisfies Record<string, DiagnosticCodeInfo>;

export type RunConfigCode = keyof typeof RUN_CONFIG_CODES;

/** What the checker may ask of the file system (the language server passes node:fs; tests pass a fake). */
export interface RunConfigProbe {
    /** What is at `path` (absolute). */
    kind(path: string): "file" | "directory" | "missing";
    /** The first `length` bytes of the file at `path`, or undefined when it cannot be read. */
    head(path: string, length: number): Uint8Array | undefined;
}

/** Fields holding input files, checked for existence; `model` must also be a GGUF. */
const PATH_FIELDS = ["model", "data", "validationData"] as const;
const GGUF_MAGIC = "GGUF";

let validator: ValidateFunction | undefined;
function compiled(): ValidateFunction {
    // No useDefaults here: diagnostics must describe what the user wrote, not a filled-in copy.
    validator ??= new Ajv({ allErrors: true, strict: true }).compile(runConfigSchema);
    return validator;
}

/** Offsets → 0-based line/character over a whole (multi-line) file. */
class Positions {
    private readonly starts: number[] = [0];
    constructor(text: string) {
        for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) this.starts.push(i + 1);
        }
    }
    at(offset: number): Position {
        let lo = 0;
        let hi = this.starts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (this.starts[mid]! <= offset) lo = mid;
            else hi = mid - 1;
        }
        return { line: lo, character: offset - this.starts[lo]! };
    }
}

/**
 * Diagnostics of one run config. `configDir` is the absolute folder of the config file: relative paths in it
 * resolve there, as `lora-studio train --config` and the extension resolve them. `resolvePath(dir, p)` joins them
 * (node:path's resolve in practice; injected so this module stays free of node built-ins).
 */
export function checkRunConfig(text: string, configDir: string, probe: RunConfigProbe, resolvePath: (dir: string, path: string) => string): DatasetDiagnostic[] {
    const positions = new Positions(text);
    const out: DatasetDiagnostic[] = [];
    const add = (code: RunConfigCode, range: CharRange, message: string) => {
        out.push({ range: { start: positions.at(range.start), end: positions.at(range.end) }, severity: RUN_CONFIG_CODES[code].severity, code, message });
    };
    // A BOM is allowed (editors write one) but is not part of the JSON.
    const offset = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const body = offset ? text.slice(1) : text;
    const shift = (r: CharRange): CharRange => ({ start: r.start + offset, end: r.end + offset });

    const overflow = findDepthOverflow(body);
    if (overflow >= 0) {
        add("RC001", shift(clampRange(body, overflow, overflow + 1)), "Nesting too deep: a run config is a flat object of settings");
        return out;
    }
    let value: unknown;
    try {
        value = JSON.parse(body);
    } catch (error) {
        if (body.trim() === "") {
            add("RC001", { start: 0, end: 0 }, "The file is empty: a run config needs at least \"model\" and \"data\"");
            return out;
        }
        const p = locateSyntaxError(body, error instanceof Error ? error.message : String(error));
        add("RC001", shift(p), `Invalid JSON: ${p.message}`);
        return out;
    }
    const tree = treeOf(body);
    const rangeOf = (path: (string | number)[], target: PathTarget) => shift(rangeOfPath(tree, path, target, body));
    if (!isPlainObject(value)) {
        add("RC002", rangeOf([], "value"), `A run config must be a JSON object of settings, found ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}`);
        return out;
    }

    const validate = compiled();
    if (!validate(value)) {
        for (const error of validate.errors ?? []) schemaDiagnostic(error, value, rangeOf, add);
    }

    for (const field of PATH_FIELDS) {
        const path = value[field];
        if (typeof path !== "string" || path === "") continue; // the schema reports these
        const absolute = resolvePath(configDir, path);
        const kind = probe.kind(absolute);
        if (kind === "missing") {
            add("RC201", rangeOf([field], "value"), `${field}: ${absolute} does not exist (relative paths resolve against the config file's folder, ${configDir})`);
        } else if (kind === "directory") {
            add("RC201", rangeOf([field], "value"), `${field}: ${absolute} is a folder; name a file`);
        } else if (field === "model") {
            const head = probe.head(absolute, 4);
            const magic = head && head.length === 4 ? String.fromCharCode(...head) : "";
            if (magic !== GGUF_MAGIC) {
                add("RC202", rangeOf([field], "value"), `model: ${absolute} is not a GGUF model (it does not start with the bytes "GGUF"); convert it with llama.cpp's convert_hf_to_gguf.py or pick a .gguf file`);
            }
        }
    }

    if (value["validationData"] !== undefined && value["validationSplit"] !== undefined) {
        add("RC203", rangeOf(["validationSplit"], "key"), "validationSplit is ignored because validationData names a separate validation file; remove one of them");
    }
    return out.sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}

function pathOf(pointer: string): (string | number)[] {
    if (!pointer) return [];
    return pointer.slice(1).split("/").map((s) => {
        const seg = s.replace(/~1/g, "/").replace(/~0/g, "~");
        return /^\d+$/.test(seg) ? Number(seg) : seg;
    });
}

function describePath(path: (string | number)[]): string {
    let s = "";
    for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
    return s;
}

function typeName(v: unknown): string {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
    let v = root;
    for (const p of path) v = typeof v === "object" && v !== null ? (v as Record<string | number, unknown>)[p] : undefined;
    return v;
}

/** Known field names, for "did you mean" on unknown ones. */
const KNOWN_FIELDS = Object.keys((runConfigSchema as { properties: Record<string, unknown> }).properties);

function closestField(name: string): string | undefined {
    const lower = name.toLowerCase();
    return KNOWN_FIELDS.find((f) => f.toLowerCase() === lower) ?? KNOWN_FIELDS.find((f) => editDistance(f.toLowerCase(), lower) <= 2);
}

function editDistance(a: string, b: string): number {
    if (Math.abs(a.length - b.length) > 2) return 3;
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
        prev = row;
    }
    return prev[b.length]!;
}

function schemaDiagnostic(
    error: ErrorObject,
    root: Record<string, unknown>,
    rangeOf: (path: (string | number)[], target: PathTarget) => CharRange,
    add: (code: RunConfigCode, range: CharRange, message: string) => void
): void {
    const path = pathOf(error.instancePath);
    const where = describePath(path);
    switch (error.keyword) {
        case "additionalProperties": {
            const field = String((error.params as { additionalProperty: string }).additionalProperty);
            const guess = closestField(field);
            add("RC101", rangeOf([...path, field], "key"), `Unknown field "${field}"${guess ? `; did you mean "${guess}"?` : ""} (see schemas/run-config.schema.json)`);
            return;
        }
        case "required": {
            const field = String((error.params as { missingProperty: string }).missingProperty);
            // Point at the object's opening brace rather than the whole (multi-line) object.
            const objectStart = rangeOf(path, "value").start;
            const purpose = field === "model" ? "the base model GGUF" : field === "data" ? "the training JSONL" : "required";
            add("RC102", { start: objectStart, end: objectStart + 1 }, `Missing required field "${field}" (${purpose})`);
            return;
        }
        case "type": {
            const expected = String((error.params as { type: string }).type);
            add("RC103", rangeOf(path, "value"), `${where} must be ${/^[aeiou]/.test(expected) ? "an" : "a"} ${expected}, found ${typeName(valueAt(root, path))}`);
            return;
        }
        case "enum": {
            const allowed = ((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ");
            add("RC104", rangeOf(path, "value"), `${where} must be one of ${allowed}, found ${JSON.stringify(valueAt(root, path))}`);
            return;
        }
        default:
            add("RC104", rangeOf(path, "value"), `${where} ${error.message ?? "is invalid"}`);
    }
}
