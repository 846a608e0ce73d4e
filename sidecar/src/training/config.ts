// Run configs for code that needs one or an error: the one resolution (resolveRunConfig.ts) behind a function that
// returns the resolved config or throws RunConfigError, whose problems keep their field paths (the sidecar sends them
// to the extension, which puts the cursor on the field) and whose message names the file, the line and the field.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { resolveRunOutput, RunOutputOutsideWorkspaceError } from "../params/runOutput";
import type { PrepareFilesOptions } from "../pipeline";
import { TextPositions, problemOffsets } from "../datasets/runConfig";
import { resolveRunConfig, type ResolvedRunConfig, type RunConfigProbe, type RunConfigProblem, type RunConfigSource } from "./resolveRunConfig";

export type { ResolvedRunConfig } from "./resolveRunConfig";

export class RunConfigError extends Error {
    constructor(readonly file: string, readonly problems: readonly RunConfigProblem[], readonly text?: string) {
        super(`${file}: invalid run config:\n${problems.map((p) => `  ${where(file, p, text)}${p.message}`).join("\n")}`);
        this.name = "RunConfigError";
    }
}

/** Each problem names its file, and its line when the text is known (the CLI's --config), as a compiler would. */
function where(file: string, problem: RunConfigProblem, text: string | undefined): string {
    if (text === undefined) return `${file}: `;
    const line = new TextPositions(text).at(problemOffsets(text, problem).start).line + 1;
    return `${file}:${line}: `;
}

export interface RequireRunConfigOptions {
    /** Relative paths resolve here (the config file's folder, or the CLI's working directory). */
    baseDir?: string;
    /** Without baseDir: refuse relative paths instead of keeping them (RC105). */
    requireAbsolutePaths?: boolean;
    probe?: RunConfigProbe;
    /** A run is about to start (see ResolveRunConfigOptions.forTraining). */
    forTraining?: boolean;
    /**
     * The workspace a run about to start may write in: "output" must resolve inside it (RC208), since a config is a
     * file anyone can hand you. Without it, "output" is not checked (it is not where the run writes: --out is).
     */
    outputRoot?: string;
}

/**
 * The config with defaults filled in, or RunConfigError with every error. `file` names the source in errors. Problems
 * that are not errors (warnings, notes) come back beside the config for the caller to log.
 */
export function requireRunConfig(source: RunConfigSource, file: string, options: RequireRunConfigOptions = {}): { config: ResolvedRunConfig; notes: RunConfigProblem[] } {
    const { outputRoot, ...resolveOptions } = options;
    const resolution = resolveRunConfig(source, { file, ...resolveOptions });
    const text = "text" in source ? source.text : undefined;
    if (!resolution.config) throw new RunConfigError(file, resolution.problems.filter((p) => p.severity === "error"), text);
    if (outputRoot !== undefined) confineOutput(resolution.config, outputRoot, file, text);
    return { config: resolution.config, notes: resolution.problems };
}

/** RC208 unless the config's "output" (absolute by now, symbolic links followed) lies inside `root`. */
function confineOutput(config: ResolvedRunConfig, root: string, file: string, text: string | undefined): void {
    if (config.output === undefined) return;
    try {
        resolveRunOutput({ requested: config.output, origin: "config", root, field: "output" });
    } catch (error) {
        if (!(error instanceof RunOutputOutsideWorkspaceError)) throw error;
        throw new RunConfigError(file, [{ code: "RC208", severity: "error", message: error.message, path: ["output"], target: "value" }], text);
    }
}

/** A config object with defaults filled in and relative paths resolved against `baseDir`, or RunConfigError. */
export function resolvedConfig(raw: unknown, file: string, baseDir?: string): ResolvedRunConfig {
    return requireRunConfig({ value: raw }, file, baseDir === undefined ? {} : { baseDir }).config;
}

/** Reads and resolves a `*.lora.json` file; relative paths in it are relative to its folder. */
export function loadRunConfigFile(path: string, probe?: RunConfigProbe): ResolvedRunConfig {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        const problem: RunConfigProblem = { code: "RC201", severity: "error", message: `cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path: [], target: "value" };
        throw new RunConfigError(path, [problem]);
    }
    return requireRunConfig({ text }, path, { baseDir: dirname(resolve(path)), ...(probe ? { probe } : {}) }).config;
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
