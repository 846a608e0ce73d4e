// The CLI face of params/schema.ts: flags → the same params object the RPC receives, checked by the same
// checkParams, and the "Options:" block of a command's usage generated from the same schema.
import { parseArgs } from "node:util";
import { UsageError } from "../cli/types";
import { checkParams, ParamError, ruleOf, type FieldSpec, type ParamSchema, type ParamValues } from "./schema";

export interface CliParse<S extends ParamSchema> {
    values: ParamValues<S>;
    positionals: string[];
}

/** Flags of a schema that the CLI has, flag → field. */
function flagsOf(schema: ParamSchema): Map<string, [string, FieldSpec]> {
    const flags = new Map<string, [string, FieldSpec]>();
    for (const [field, spec] of Object.entries(schema)) if (spec.flag !== undefined) flags.set(spec.flag, [field, spec]);
    return flags;
}

/** A flag's text as the value its field takes: numbers parsed (so "1e9" is the number 1e9, refused by its range). */
function convert(field: string, spec: FieldSpec, text: string | boolean): unknown {
    if (typeof text === "boolean") return text;
    if (spec.kind !== "integer" && spec.kind !== "number") return text;
    const n = text.trim() === "" ? Number.NaN : Number(text);
    if (Number.isNaN(n)) throw new ParamError(field, spec, ruleOf(spec), text, { face: "cli" });
    return n;
}

/**
 * Parses `args` with the flags of one or more schemas (chat takes chat/open's and chat/send's), then checks each
 * schema's part with checkParams. Throws UsageError (printed with the usage, exit 2) naming the flag and its range.
 */
export interface CliParseOptions {
    positionals?: boolean;
    limits?: Readonly<Record<string, number>>;
    /** Limits that depend on other flags (chat's --max-tokens is bounded by its --context-size). */
    limitsFrom?: (raw: Readonly<Record<string, unknown>>) => Readonly<Record<string, number>>;
}

/** `--flag -1` as `--flag=-1`: node's parseArgs takes a value starting with "-" for an option, and "-1" is a number here. */
function joinNegativeValues(args: string[], flags: ReadonlyMap<string, [string, FieldSpec]>): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const spec = args[i]!.startsWith("--") ? flags.get(args[i]!.slice(2))?.[1] : undefined;
        const next = args[i + 1];
        if (spec && spec.kind !== "boolean" && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
            out.push(`${args[i]}=${next}`);
            i++;
        } else {
            out.push(args[i]!);
        }
    }
    return out;
}

export function parseCliArgs<S extends ParamSchema>(schema: S, args: string[], options: CliParseOptions = {}): CliParse<S> {
    const flags = flagsOf(schema);
    let parsed: ReturnType<typeof parseArgs>;
    try {
        parsed = parseArgs({
            args: joinNegativeValues(args, flags),
            allowPositionals: options.positionals === true,
            options: Object.fromEntries([...flags].map(([flag, [, spec]]) => [flag, { type: spec.kind === "boolean" ? "boolean" : "string" }] as const))
        });
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    const raw: Record<string, unknown> = {};
    try {
        for (const [flag, text] of Object.entries(parsed.values)) {
            const entry = flags.get(flag);
            if (entry === undefined || text === undefined || Array.isArray(text)) continue;
            raw[entry[0]] = convert(entry[0], entry[1], text);
        }
        // Required fields that only the RPC has (ids) are the CLI's own business, so the CLI checks only its flags.
        const cliSchema = Object.fromEntries(Object.entries(schema).filter(([, spec]) => spec.flag !== undefined));
        const limits = { ...options.limits, ...options.limitsFrom?.(raw) };
        const values = checkParams(cliSchema, raw, { face: { face: "cli" }, limits });
        return { values: values as ParamValues<S>, positionals: parsed.positionals };
    } catch (error) {
        if (error instanceof ParamError) throw new UsageError(error.forFace({ face: "cli" }).message);
        throw error;
    }
}

/** The "Options:" lines of a usage text, from the schema: flag, placeholder, description and the allowed range. */
export function optionsUsage(...schemas: ParamSchema[]): string {
    const rows: Array<[string, string]> = [];
    const seen = new Set<string>();
    for (const schema of schemas) {
        for (const spec of Object.values(schema)) {
            if (spec.flag === undefined || seen.has(spec.flag)) continue;
            seen.add(spec.flag);
            const range = spec.kind === "integer" && typeof spec.max !== "number"
                ? ` [integer from ${spec.min} to ${spec.max.describe}]`
                : spec.kind === "integer" || spec.kind === "number" ? ` [${ruleOf(spec).replace(/^an? /, "")}]` : "";
            rows.push([`--${spec.flag}${spec.placeholder ? ` ${spec.placeholder}` : ""}`, `${spec.describe}${range}`]);
        }
    }
    const width = Math.max(...rows.map(([left]) => left.length));
    return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join("\n");
}
