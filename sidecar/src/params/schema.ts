// One definition per command of every parameter it takes, read by both faces: the sidecar's RPC handlers check a
// request's params with checkParams, and the CLI (cliArgs.ts) turns its flags into the same object and runs the same
// check. A field therefore has one range, one error and one description, and the CLI cannot drift from the RPC
// (issue 12: `chat --max-tokens 0` hung in the CLI while chat/send refused it).
//
// Pure: no node, vscode or native imports, so the extension could use it too.

/** A bound known only when the check runs (the context size of a loaded model, the cores of this machine). */
export interface LimitRef {
    limit: string;
    /** How the bound reads in a message, e.g. "the context size". */
    describe: string;
}

interface FieldCommon {
    /** The CLI flag without dashes; absent for a field only the RPC has (ids, history). */
    flag?: string;
    /** The RPC field; absent for a CLI-only switch (--json). */
    rpc?: boolean;
    required?: boolean;
    /** One line for the usage text. */
    describe: string;
    /** The value placeholder in the usage text, e.g. "N" or "M.gguf". */
    placeholder?: string;
}

export type FieldSpec = FieldCommon & (
    | { kind: "integer"; min: number; max: number | LimitRef; /** The static cap when `max` is a LimitRef the caller does not know yet. */ cap?: number }
    | {
        kind: "number"; min: number; max: number;
        /** The bound itself is refused (JSON Schema's exclusiveMinimum/exclusiveMaximum: a learning rate above 0). */
        minExclusive?: boolean; maxExclusive?: boolean;
    }
    | { kind: "string"; /** "" allowed (a system prompt may be empty); default false. */ allowEmpty?: boolean; maxLength: number }
    | { kind: "path" }
    | { kind: "enum"; values: readonly string[] }
    | { kind: "boolean" }
);

export type ParamSchema = Readonly<Record<string, FieldSpec>>;

/** The longest path accepted (Linux PATH_MAX); longer is a corrupt or hostile request. */
export const MAX_PATH_LENGTH = 4096;

type ValueOf<F extends FieldSpec> = F extends { kind: "integer" | "number" } ? number : F extends { kind: "boolean" } ? boolean : F extends { kind: "enum"; values: readonly (infer V)[] } ? V : string;

/** The checked params of a schema: every field optional unless `required`. */
export type ParamValues<S extends ParamSchema> = { -readonly [K in keyof S as S[K] extends { required: true } ? K : never]: ValueOf<S[K]> } & { -readonly [K in keyof S as S[K] extends { required: true } ? never : K]?: ValueOf<S[K]> };

/** Which face a message is for: the RPC names fields ("maxTokens"), the CLI names flags ("--max-tokens"). */
export type ParamFace = { face: "rpc"; method: string } | { face: "cli" };

export class ParamError extends Error {
    constructor(readonly field: string, readonly spec: FieldSpec, readonly rule: string, readonly got: unknown, readonly face: ParamFace = { face: "rpc", method: "" }) {
        super(ParamError.describe(field, spec, rule, got, face));
        this.name = "ParamError";
    }

    /** The same error worded for the other face (a check deep in the core words it for the RPC). */
    forFace(face: ParamFace): ParamError {
        return new ParamError(this.field, this.spec, this.rule, this.got, face);
    }

    private static describe(field: string, spec: FieldSpec, rule: string, got: unknown, face: ParamFace): string {
        const shown = typeof got === "string" ? JSON.stringify(got.length > 40 ? `${got.slice(0, 40)}…` : got) : got === undefined ? "nothing" : JSON.stringify(got) ?? String(got);
        if (face.face === "cli" && spec.flag !== undefined) return `--${spec.flag} must be ${rule}, got ${shown}`;
        const where = face.face === "rpc" && face.method !== "" ? `${face.method}: ` : "";
        return `${where}"${field}" must be ${rule}, got ${shown}`;
    }
}

/** The upper bound of an integer field: a number, a known limit, or the static cap while the limit is unknown. */
function upperBound(spec: Extract<FieldSpec, { kind: "integer" }>, limits: Readonly<Record<string, number>>): { max: number; describe?: string } {
    if (typeof spec.max === "number") return { max: spec.max };
    const known = limits[spec.max.limit];
    if (known !== undefined) return { max: known, describe: spec.max.describe };
    return { max: spec.cap ?? Number.MAX_SAFE_INTEGER };
}

/** The rule of a field in words, as errors and the usage text show it. */
export function ruleOf(spec: FieldSpec, limits: Readonly<Record<string, number>> = {}): string {
    switch (spec.kind) {
        case "integer": {
            const { max, describe } = upperBound(spec, limits);
            return `an integer from ${spec.min} to ${max}${describe ? ` (${describe})` : ""}`;
        }
        case "number": return `a number ${spec.minExclusive ? "above" : "from"} ${spec.min} ${spec.maxExclusive ? "and below" : spec.minExclusive ? "and at most" : "to"} ${spec.max}`;
        case "string": return spec.allowEmpty ? `a string of at most ${spec.maxLength} characters` : `a non-empty string of at most ${spec.maxLength} characters`;
        case "path": return `a non-empty path of at most ${MAX_PATH_LENGTH} characters, without NUL`;
        case "enum": return `one of ${spec.values.join(", ")}`;
        case "boolean": return "true or false";
    }
}

function checkOne(field: string, spec: FieldSpec, value: unknown, limits: Readonly<Record<string, number>>, face: ParamFace): unknown {
    const bad = (): never => {
        throw new ParamError(field, spec, ruleOf(spec, limits), value, face);
    };
    switch (spec.kind) {
        case "integer": {
            const { max } = upperBound(spec, limits);
            if (typeof value !== "number" || !Number.isInteger(value) || value < spec.min || value > max) bad();
            return value;
        }
        case "number":
            if (typeof value !== "number" || !Number.isFinite(value) || value < spec.min || value > spec.max) bad();
            if ((spec.minExclusive && value === spec.min) || (spec.maxExclusive && value === spec.max)) bad();
            return value;
        case "string":
            if (typeof value !== "string" || (!spec.allowEmpty && value === "") || value.length > spec.maxLength) bad();
            return value;
        case "path":
            if (typeof value !== "string" || value === "" || value.length > MAX_PATH_LENGTH || value.includes("\0")) bad();
            return value;
        case "enum":
            if (typeof value !== "string" || !spec.values.includes(value)) bad();
            return value;
        case "boolean":
            if (typeof value !== "boolean") bad();
            return value;
    }
}

export interface CheckOptions {
    face: ParamFace;
    /** Values of the LimitRefs (e.g. { contextSize: 1024 }). */
    limits?: Readonly<Record<string, number>>;
    /** Fields the caller checks itself (e.g. chat/send's history); passed through unchecked. */
    passThrough?: readonly string[];
}

/**
 * Checks `raw` against `schema`: every field it has must satisfy its spec, required ones must be there, and unknown
 * fields are refused (a misspelt "maxToken" would otherwise be ignored in silence). null counts as absent, as JSON
 * clients send it for "not given". Returns the checked values; throws ParamError naming the field and its range.
 */
export function checkParams<S extends ParamSchema>(schema: S, raw: unknown, options: CheckOptions): ParamValues<S> {
    const limits = options.limits ?? {};
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new ParamError("params", { kind: "boolean", describe: "" }, "an object", raw, options.face);
    }
    const out: Record<string, unknown> = {};
    const given = raw as Record<string, unknown>;
    for (const [field, value] of Object.entries(given)) {
        if (options.passThrough?.includes(field)) {
            out[field] = value;
            continue;
        }
        const spec = schema[field];
        if (spec === undefined || (options.face.face === "rpc" && spec.rpc === false)) {
            if (value === undefined) continue;
            throw new ParamError(field, { kind: "boolean", describe: "" }, `one of the known fields (${Object.keys(schema).filter((k) => options.face.face !== "rpc" || schema[k]!.rpc !== false).join(", ")})`, "an unknown field", options.face);
        }
        if (value === undefined || value === null) continue;
        out[field] = checkOne(field, spec, value, limits, options.face);
    }
    for (const [field, spec] of Object.entries(schema)) {
        if (spec.required && out[field] === undefined && !(options.face.face === "rpc" && spec.rpc === false)) {
            throw new ParamError(field, spec, `given (${ruleOf(spec, limits)})`, undefined, options.face);
        }
    }
    return out as ParamValues<S>;
}

/** Re-checks one integer field against a bound learnt later (the context size once the model is loaded). */
export function checkLimit<S extends ParamSchema>(schema: S, field: keyof S & string, value: number | undefined, limits: Readonly<Record<string, number>>, face: ParamFace): void {
    if (value === undefined) return;
    checkOne(field, schema[field]!, value, limits, face);
}
