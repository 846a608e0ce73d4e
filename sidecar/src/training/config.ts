// Run configs (`*.lora.json`): validated against schemas/run-config.schema.json with ajv, defaults filled
// from the schema itself (so the schema is the one place a default lives), relative paths resolved
// against the config's folder. Errors name the file and the field.
import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import runConfigSchema from "../../../schemas/run-config.schema.json";
import type { PrepareFilesOptions } from "../pipeline";
import type { TrainingConfig } from "../protocol/sidecar";

/** A config with every default filled in; only the optional inputs stay optional. */
export type ResolvedRunConfig = Required<Omit<TrainingConfig, "validationData" | "output" | "warmupSteps">> &
    Pick<TrainingConfig, "validationData" | "output" | "warmupSteps">;

export class RunConfigError extends Error {
    constructor(readonly file: string, readonly problems: string[]) {
        super(`${file}: invalid run config:\n${problems.map((p) => `  ${p}`).join("\n")}`);
        this.name = "RunConfigError";
    }
}

let validator: ValidateFunction | undefined;
function compiled(): ValidateFunction {
    // useDefaults fills every missing field from the schema's "default"; allErrors reports them all at once.
    validator ??= new Ajv({ allErrors: true, strict: true, useDefaults: true }).compile(runConfigSchema);
    return validator;
}

function describe(error: ErrorObject): string {
    const field = error.instancePath === "" ? "" : error.instancePath.slice(1).replace(/\//g, ".");
    if (error.keyword === "additionalProperties") {
        return `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    }
    if (error.keyword === "required") return `missing required field "${(error.params as { missingProperty: string }).missingProperty}"`;
    if (error.keyword === "enum") return `field "${field}" must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
    return `field "${field}" ${error.message ?? "is invalid"}`;
}

/**
 * Validates a config object and returns a copy with defaults filled in. `file` names the source in errors;
 * `baseDir` resolves relative paths (the config file's folder, or the CLI's working directory).
 */
export function resolveRunConfig(raw: unknown, file: string, baseDir?: string): ResolvedRunConfig {
    const config = structuredClone(raw) as Record<string, unknown>;
    const validate = compiled();
    if (!validate(config)) throw new RunConfigError(file, (validate.errors ?? []).map(describe));
    const resolved = config as unknown as ResolvedRunConfig;
    if (baseDir !== undefined) {
        const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
        resolved.model = abs(resolved.model);
        resolved.data = abs(resolved.data);
        if (resolved.validationData !== undefined) resolved.validationData = abs(resolved.validationData);
        if (resolved.output !== undefined) resolved.output = abs(resolved.output);
    }
    delete (resolved as Record<string, unknown>)["$schema"];
    return resolved;
}

/** Reads and resolves a `*.lora.json` file; relative paths in it are relative to its folder. */
export function loadRunConfigFile(path: string): ResolvedRunConfig {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        throw new RunConfigError(path, [`cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new RunConfigError(path, [`not valid JSON (${(error as Error).message})`]);
    }
    return resolveRunConfig(value, path, dirname(resolve(path)));
}

/** Warmup length in optimizer steps for a run of `totalSteps`. */
export function warmupStepsFor(config: ResolvedRunConfig, totalSteps: number): number {
    if (config.warmupSteps !== undefined) return Math.min(config.warmupSteps, totalSteps);
    return Math.min(totalSteps, Math.round(config.warmupRatio * totalSteps));
}

/**
 * What the data pipeline needs from a run config. One mapping for run/start, dataset/prepare and the eval's
 * recomputed validation split, so all three split, shuffle, truncate and pack the same way.
 */
export function prepareOptionsFor(config: ResolvedRunConfig): PrepareFilesOptions {
    return {
        modelPath: config.model,
        trainPath: config.data,
        ...(config.validationData === undefined ? {} : { validationPath: config.validationData }),
        validationRatio: config.validationSplit,
        seed: config.seed,
        sequenceLength: config.sequenceLength,
        truncation: config.truncation,
        ...(config.format === "auto" ? {} : { format: config.format })
    };
}
