// The one place a run config (`*.lora.json`, or run/start's `config`) is checked and resolved. The language server,
// `lora-studio train` and the sidecar all call resolveRunConfig; each shows the same problems its own way (squiggles
// on the field, file:line: lines, an error whose data carries the field paths).
//
// It checks, in order: JSON syntax (text only), the schema (schemas/run-config.schema.json, ajv, no defaults so a
// problem describes what the user wrote), paths that must be absolute or exist, the model file through the load guard
// that chat, eval and export use (gguf/openModelFile.ts, behind the probe), its architecture and the targets against
// its tensors (from the header), and validationSplit beside validationData. With no error, it fills the schema's
// defaults (the schema is the one place a default lives) and resolves relative paths against the config's folder. The
// file system is reached only through the probe.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { isAbsolute, resolve } from "node:path";
import runConfigSchema from "../../../schemas/run-config.schema.json";
import { checkTrainable } from "../engine/architectures";
import { ALL_TARGET_NAMES, type TargetName } from "../engine/types";
import type { DiagnosticCodeInfo } from "../datasets/codes";
import { isPlainObject } from "../datasets/formats";
import { findDepthOverflow, locateSyntaxError, type CharRange, type PathTarget } from "../datasets/jsonRanges";
import type { Severity } from "../datasets/types";
import type { GgufFile } from "../gguf/types";
import type { TrainingConfig } from "../protocol/sidecar";
import { checkTargets, type TargetProblemCode } from "./targetCheck";

/** Every run-config problem, with its stable code; docs/diagnostics.md documents each one. */
export const RUN_CONFIG_CODES = {
    RC001: { severity: "error", title: "invalid-json", description: "The file is not valid JSON; the range points at the first offending character." },
    RC002: { severity: "error", title: "not-an-object", description: "The file is valid JSON but not an object of settings." },
    RC101: { severity: "error", title: "unknown-field", description: "A field the run-config schema does not define (often a typo; the message suggests the closest field)." },
    RC102: { severity: "error", title: "missing-field", description: "A required field (model or data) is missing." },
    RC103: { severity: "error", title: "wrong-type", description: "A value has the wrong JSON type, for example a string where a number is required." },
    RC104: { severity: "error", title: "invalid-value", description: "A value is outside its allowed set or range (an unknown enum value, a number out of bounds, an empty string)." },
    RC105: { severity: "error", title: "relative-path-without-folder", description: "model, data, validationData or output is a relative path, and the config came without a file to resolve it against (run/start without configPath)." },
    RC201: { severity: "error", title: "path-not-found", description: "model, data or validationData names a file that does not exist, a folder, or a model file that cannot be read (relative paths resolve against the config file's folder)." },
    RC202: { severity: "error", title: "model-not-gguf", description: "The model file does not start with the GGUF magic bytes, so it is not a GGUF model; or, when a run starts, its GGUF header is damaged (truncated, a tensor table that disagrees with the data): the message names the byte and the cause." },
    RC203: { severity: "warning", title: "split-ignored", description: "validationSplit is set together with validationData; the separate file wins and the split is ignored." },
    RC204: { severity: "error", title: "model-not-trainable", description: "The model's architecture cannot be trained (not in the supported list, a mixture-of-experts or a recurrent/hybrid model, or an adapter); the message names it and lists the supported ones." },
    RC205: { severity: "warning", title: "target-missing", description: "A targetModules entry selects a tensor the model does not have; training refuses the config until it is removed." },
    RC206: { severity: "error", title: "fused-target-on-separate-model", description: "attn_qkv or ffn_gate_up names a fused projection, and the model has separate ones; the message says which targets to use instead." },
    RC207: { severity: "info", title: "partial-fused-selection", description: "On a model with fused projections (Phi-3), naming only some of attn_q/attn_k/attn_v (or one of ffn_gate/ffn_up) still adapts the whole fused tensor." },
    RC208: { severity: "error", title: "output-outside-workspace", description: "When a run starts: output resolves (symbolic links followed) outside the workspace. A run config may only write inside it; choose another folder on the command line (--out) or in a dialog." }
} as const satisfies Record<string, DiagnosticCodeInfo>;

export type RunConfigCode = keyof typeof RUN_CONFIG_CODES;

/** A config with every default filled in; only the optional inputs stay optional. */
export type ResolvedRunConfig = Required<Omit<TrainingConfig, "validationData" | "output" | "warmupSteps">> &
    Pick<TrainingConfig, "validationData" | "output" | "warmupSteps">;

/** One problem, located by the field it is about, so every face can point at it without parsing the message. */
export interface RunConfigProblem {
    code: RunConfigCode;
    severity: Severity;
    message: string;
    /** The field: ["targetModules", 1]; [] for the whole config. */
    path: (string | number)[];
    /** The field's key or its value; "open-brace" for a field that is missing from the object at `path`. */
    target: PathTarget | "open-brace";
    /** JSON syntax errors only (they have no field): offsets into the text. */
    offsets?: CharRange;
}

/** What the checker may ask of the file system (node:fs in the language server and the sidecar; tests pass a fake). */
export interface RunConfigProbe {
    /** What is at `path` (absolute). */
    kind(path: string): "file" | "directory" | "missing";
    /** The first `length` bytes of the file at `path`, or undefined when it cannot be read. */
    head(path: string, length: number): Uint8Array | undefined;
    /**
     * The GGUF header (metadata and tensor table; the tokenizer's arrays may be left out) of the model at `path`, read
     * through the load guard (gguf/openModelFile.ts), or why the guard refused the file. A probe that reads headers
     * decides everything about the model (existence, GGUF, damage, architecture, targets) in the guard's words, so
     * `lora-studio train` and run/start say what chat and export say; without it only existence and the magic bytes
     * are checked.
     */
    ggufHeader?(path: string): Pick<GgufFile, "kv" | "tensors"> | UnusableModel;
}

/** A model file the load guard refused: its message (the file, the byte, the cause) and what kind of problem it is. */
export interface UnusableModel {
    unreadable: string;
    /**
     * missing: no file there (ENOENT); unreadable: a folder, no permission, an I/O error; not-gguf: it does not start
     * with "GGUF"; damaged: a GGUF whose header or tensor table is broken; not-a-base-model: a readable GGUF that is no
     * base model (an adapter, no architecture).
     */
    cause: "missing" | "unreadable" | "not-gguf" | "damaged" | "not-a-base-model";
}

export interface ResolveRunConfigOptions {
    /** Names the source in messages. */
    file: string;
    /** The config file's folder: relative paths resolve against it. Without it they are kept as written. */
    baseDir?: string;
    /** Without baseDir, refuse relative paths (RC105): run/start without a config file has no folder to resolve them. */
    requireAbsolutePaths?: boolean;
    /** Without a probe, nothing on disk is checked (existence, GGUF magic, architecture, targets). */
    probe?: RunConfigProbe;
    /** Joins a folder and a path; node:path's resolve unless a caller needs another. */
    resolvePath?: (dir: string, path: string) => string;
    /**
     * A run is about to start: a target the model lacks (RC205) refuses the config instead of warning, and a model
     * header that cannot be read is an error (in the editor the later checks report it).
     */
    forTraining?: boolean;
}

export type RunConfigSource = { text: string } | { value: unknown };

export interface RunConfigResolution {
    /** Present when no problem is an error. */
    config?: ResolvedRunConfig;
    /** Every problem, errors and the rest, in the order they were found. */
    problems: RunConfigProblem[];
    /** The parsed value, when the text was JSON (for callers that locate problems in it). */
    value?: unknown;
}

/** Target problems (training/targetCheck.ts) as run-config codes. */
const TARGET_CODES: Record<TargetProblemCode, RunConfigCode> = {
    "target-missing": "RC205",
    "fused-target-on-separate-model": "RC206",
    "partial-fused-selection": "RC207"
};

/** Fields holding input files, checked for existence; `model` must also be a GGUF. */
const INPUT_FIELDS = ["model", "data", "validationData"] as const;
const PATH_FIELDS = [...INPUT_FIELDS, "output"] as const;
const GGUF_MAGIC = "GGUF";

let validator: ValidateFunction | undefined;
function compiled(): ValidateFunction {
    // No useDefaults: problems must describe what the user wrote. Defaults are filled once it is valid.
    validator ??= new Ajv({ allErrors: true, strict: true }).compile(runConfigSchema);
    return validator;
}

const SCHEMA_PROPERTIES = (runConfigSchema as { properties: Record<string, { default?: unknown }> }).properties;

/** Checks a run config and, when nothing is wrong, returns it with defaults filled and paths resolved. */
export function resolveRunConfig(source: RunConfigSource, options: ResolveRunConfigOptions): RunConfigResolution {
    const problems: RunConfigProblem[] = [];
    const add = (code: RunConfigCode, path: (string | number)[], target: RunConfigProblem["target"], message: string, severity: Severity = RUN_CONFIG_CODES[code].severity): void => {
        problems.push({ code, severity, message, path, target });
    };
    let value: unknown;
    if ("text" in source) {
        const parsed = parseText(source.text);
        if ("problem" in parsed) return { problems: [parsed.problem] };
        value = parsed.value;
    } else {
        value = source.value;
    }
    if (!isPlainObject(value)) {
        add("RC002", [], "value", `A run config must be a JSON object of settings, found ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}`);
        return { problems, value };
    }
    const validate = compiled();
    if (!validate(value)) for (const error of validate.errors ?? []) schemaProblem(error, value, add);
    checkPaths(value, options, add);
    if (value["validationData"] !== undefined && value["validationSplit"] !== undefined) {
        add("RC203", ["validationSplit"], "key", "validationSplit is ignored because validationData names a separate validation file; remove one of them");
    }
    if (problems.some((p) => p.severity === "error")) return { problems, value };
    return { config: withDefaults(value, options), problems, value };
}

function parseText(text: string): { value: unknown } | { problem: RunConfigProblem } {
    const syntax = (offsets: CharRange, message: string): { problem: RunConfigProblem } => ({
        problem: { code: "RC001", severity: "error", message, path: [], target: "value", offsets }
    });
    // A BOM is allowed (editors write one) but is not part of the JSON.
    const shift = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const body = text.slice(shift);
    const overflow = findDepthOverflow(body);
    if (overflow >= 0) return syntax({ start: overflow + shift, end: overflow + shift + 1 }, "Nesting too deep: a run config is a flat object of settings");
    try {
        return { value: JSON.parse(body) };
    } catch (error) {
        if (body.trim() === "") return syntax({ start: 0, end: 0 }, "The file is empty: a run config needs at least \"model\" and \"data\"");
        const at = locateSyntaxError(body, error instanceof Error ? error.message : String(error));
        return syntax({ start: at.start + shift, end: at.end + shift }, `not valid JSON: ${at.message}`);
    }
}

type AddProblem = (code: RunConfigCode, path: (string | number)[], target: RunConfigProblem["target"], message: string, severity?: Severity) => void;

function checkPaths(value: Record<string, unknown>, options: ResolveRunConfigOptions, add: AddProblem): void {
    const join = options.resolvePath ?? resolve;
    for (const field of PATH_FIELDS) {
        const path = value[field];
        if (typeof path !== "string" || path === "") continue; // the schema reports these
        if (options.baseDir === undefined && options.requireAbsolutePaths === true && !isAbsolute(path)) {
            add("RC105", [field], "value", `field "${field}" must be an absolute path when the config has no file to resolve it against (got ${JSON.stringify(path)})`);
            continue;
        }
        const probe = options.probe;
        if (!probe || field === "output") continue;
        const absolute = options.baseDir === undefined || isAbsolute(path) ? path : join(options.baseDir, path);
        if (field === "model" && probe.ggufHeader) {
            checkModelFile(absolute, value, probe.ggufHeader(absolute), options, add);
            continue;
        }
        const kind = probe.kind(absolute);
        if (kind === "missing") {
            const from = options.baseDir === undefined ? "" : ` (relative paths resolve against the config file's folder, ${options.baseDir})`;
            add("RC201", [field], "value", `${field}: ${absolute} does not exist${from}`);
        } else if (kind === "directory") {
            add("RC201", [field], "value", `${field}: ${absolute} is a folder; name a file`);
        } else if (field === "model") {
            const head = probe.head(absolute, 4);
            const magic = head && head.length === 4 ? String.fromCharCode(...head) : "";
            if (magic !== GGUF_MAGIC) add("RC202", [field], "value", `model: ${absolute} is not a GGUF model (it does not start with the bytes "GGUF"); ${CONVERT_HINT}`);
        }
    }
}

const CONVERT_HINT = "convert it with llama.cpp's convert_hf_to_gguf.py or pick a .gguf file";

/**
 * The model as the load guard saw it: missing or unreadable (RC201), not GGUF or damaged (RC202), not a base model
 * (RC204), else its architecture and targets. The editor leaves out a damaged header (a download still under way);
 * a run about to start refuses it.
 */
function checkModelFile(absolute: string, config: Record<string, unknown>, header: Pick<GgufFile, "kv" | "tensors"> | UnusableModel, options: ResolveRunConfigOptions, add: AddProblem): void {
    if ("unreadable" in header) {
        const message = `model: ${header.unreadable}`;
        switch (header.cause) {
            case "missing": {
                const from = options.baseDir === undefined ? "" : ` (relative paths resolve against the config file's folder, ${options.baseDir})`;
                add("RC201", ["model"], "value", `${message}${from}`);
                return;
            }
            case "unreadable": return add("RC201", ["model"], "value", message);
            case "not-gguf": return add("RC202", ["model"], "value", `${message}; ${CONVERT_HINT}`);
            case "damaged": return options.forTraining === true ? add("RC202", ["model"], "value", message) : undefined;
            case "not-a-base-model": return add("RC204", ["model"], "value", message);
        }
    }
    checkModel(absolute, config, header, options.forTraining === true, add);
}

/** The model's architecture (RC204) and, when it can be trained, the targets against its tensors (RC205-RC207). */
function checkModel(absolute: string, config: Record<string, unknown>, header: Pick<GgufFile, "kv" | "tensors">, forTraining: boolean, add: AddProblem): void {
    const trainability = checkTrainable(header);
    if (!trainability.trainable) {
        add("RC204", ["model"], "value", `model: ${absolute} cannot be trained: ${trainability.reason}`);
        return;
    }
    const given = config["targetModules"];
    // Without targetModules the schema's default (all seven) applies, which every supported architecture has.
    if (!Array.isArray(given)) return;
    // An invalid list is the schema's to report; check the entries that are target names, at their own index.
    const known = given.map((t, index) => ({ t, index })).filter((e): e is { t: TargetName; index: number } => (ALL_TARGET_NAMES as readonly unknown[]).includes(e.t));
    for (const p of checkTargets(trainability.spec, known.map((e) => e.t), header.tensors.map((t) => t.name))) {
        const index = known[p.index]!.index;
        const severity: Severity = forTraining && p.severity === "warning" ? "error" : p.severity;
        add(TARGET_CODES[p.code], ["targetModules", index], "value", `targetModules[${index}] "${p.target}": ${p.message} (model: ${trainability.arch})`, severity);
    }
}

function withDefaults(value: Record<string, unknown>, options: ResolveRunConfigOptions): ResolvedRunConfig {
    const config: Record<string, unknown> = structuredClone(value);
    for (const [field, schema] of Object.entries(SCHEMA_PROPERTIES)) {
        if (config[field] === undefined && schema.default !== undefined) config[field] = structuredClone(schema.default);
    }
    delete config["$schema"];
    if (options.baseDir !== undefined) {
        const join = options.resolvePath ?? resolve;
        for (const field of PATH_FIELDS) {
            const path = config[field];
            if (typeof path === "string" && !isAbsolute(path)) config[field] = join(options.baseDir, path);
        }
    }
    return config as unknown as ResolvedRunConfig;
}

function pathOf(pointer: string): (string | number)[] {
    if (!pointer) return [];
    return pointer.slice(1).split("/").map((s) => {
        const seg = s.replace(/~1/g, "/").replace(/~0/g, "~");
        return /^\d+$/.test(seg) ? Number(seg) : seg;
    });
}

/** `targetModules[1]`, `rank`: how messages and the extension name a field. */
export function describeFieldPath(path: readonly (string | number)[]): string {
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
const KNOWN_FIELDS = Object.keys(SCHEMA_PROPERTIES);

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

function schemaProblem(error: ErrorObject, root: Record<string, unknown>, add: AddProblem): void {
    const path = pathOf(error.instancePath);
    const field = `field "${describeFieldPath(path)}"`;
    switch (error.keyword) {
        case "additionalProperties": {
            const name = String((error.params as { additionalProperty: string }).additionalProperty);
            const guess = closestField(name);
            add("RC101", [...path, name], "key", `unknown field "${name}"${guess ? `; did you mean "${guess}"?` : ""} (see schemas/run-config.schema.json)`);
            return;
        }
        case "required": {
            const name = String((error.params as { missingProperty: string }).missingProperty);
            const purpose = name === "model" ? "the base model GGUF" : name === "data" ? "the training JSONL" : "required";
            add("RC102", [...path, name], "open-brace", `missing required field "${name}" (${purpose})`);
            return;
        }
        case "type": {
            const expected = String((error.params as { type: string }).type);
            add("RC103", path, "value", `${field} must be ${/^[aeiou]/.test(expected) ? "an" : "a"} ${expected}, found ${typeName(valueAt(root, path))}`);
            return;
        }
        case "enum": {
            const allowed = ((error.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ");
            add("RC104", path, "value", `${field} must be one of ${allowed}, found ${JSON.stringify(valueAt(root, path))}`);
            return;
        }
        default:
            add("RC104", path, "value", `${field} ${error.message ?? "is invalid"}`);
    }
}
