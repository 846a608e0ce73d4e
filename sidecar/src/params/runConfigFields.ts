// Flags of `lora-studio train` that set a run-config field take their bounds, choices and defaults from the run-config
// schema (schemas/run-config.schema.json), the one place they are declared: the CLI refuses `--rank 0` with the same
// range the sidecar's run/start (and the language server) would, and the two cannot drift apart.
import runConfigSchema from "../../../schemas/run-config.schema.json";
import type { FieldSpec } from "./schema";

interface RunConfigProperty {
    type?: string;
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
    exclusiveMaximum?: number;
    enum?: readonly string[];
    default?: unknown;
}

const PROPERTIES = runConfigSchema.properties as Readonly<Record<string, RunConfigProperty>>;

/** What the flag adds to the field: its name on the command line, the placeholder and the usage line. */
interface FlagText {
    flag: string;
    placeholder: string;
    describe: string;
}

function property(field: string, type: string): RunConfigProperty {
    const p = PROPERTIES[field];
    if (p?.type !== type) throw new Error(`schemas/run-config.schema.json: "${field}" is not a${/^[aeiou]/.test(type) ? "n" : ""} ${type} field`);
    return p;
}

/** "(default 3)" from the schema, so the usage text says what an absent flag means. */
function withDefault(text: FlagText, p: RunConfigProperty): FlagText {
    return p.default === undefined ? text : { ...text, describe: `${text.describe} (default ${String(p.default)})` };
}

export function runConfigInteger(field: string, text: FlagText): Extract<FieldSpec, { kind: "integer" }> {
    const p = property(field, "integer");
    if (p.minimum === undefined || p.maximum === undefined) throw new Error(`schemas/run-config.schema.json: "${field}" needs a minimum and a maximum`);
    return { kind: "integer", min: p.minimum, max: p.maximum, ...withDefault(text, p) };
}

export function runConfigNumber(field: string, text: FlagText): Extract<FieldSpec, { kind: "number" }> {
    const p = property(field, "number");
    const min = p.minimum ?? p.exclusiveMinimum;
    const max = p.maximum ?? p.exclusiveMaximum;
    if (min === undefined || max === undefined) throw new Error(`schemas/run-config.schema.json: "${field}" needs a lower and an upper bound`);
    return {
        kind: "number", min, max, ...withDefault(text, p),
        ...(p.minimum === undefined ? { minExclusive: true } : {}), ...(p.maximum === undefined ? { maxExclusive: true } : {})
    };
}

export function runConfigEnum(field: string, text: FlagText): Extract<FieldSpec, { kind: "enum" }> {
    const p = property(field, "string");
    if (p.enum === undefined) throw new Error(`schemas/run-config.schema.json: "${field}" has no enum`);
    return { kind: "enum", values: p.enum, ...withDefault(text, p) };
}
