// What an evaluation runs on: an explicit base model, adapter and held-out file, or a run (its config's base
// model, its adapter.gguf, and by default its own validation examples, recomputed exactly as training split them).
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { prepareDatasetFiles } from "../pipeline/prepareFiles";
import { PipelineError } from "../pipeline/types";
import { prepareOptionsFor, resolvedConfig, RunConfigError, type ResolvedRunConfig } from "../training/config";
import { RunDirectory, RunStoreError } from "../training/runStore";
import { heldOutFromFile, type HeldOutSet } from "./heldOut";

/** Bad input the user can fix (missing files, a run without a validation split…); the message says which. */
export class EvalInputError extends Error {
    override name = "EvalInputError";
}

export interface EvalSourceOptions {
    model?: string;
    adapter?: string;
    /** Held-out JSONL; without it, a run's validation split. */
    data?: string;
    /** A run directory: supplies the model, the adapter and (without `data`) the held-out examples. */
    runDirectory?: string;
}

export interface EvalSource {
    model: string;
    adapter: string;
    heldOut: HeldOutSet;
    dataFiles: string[];
    source: "file" | "validation-split";
    runId?: string;
    /** Where reports go by default: the run directory, else the adapter's folder (a CLI run's --out). */
    defaultOutDir: string;
}

function readRunConfig(run: RunDirectory): ResolvedRunConfig {
    try {
        if (!existsSync(run.configPath)) throw new EvalInputError(`${run.path} is not a LoRA Studio run directory (no config.json)`);
        return resolvedConfig(run.readConfig(), run.configPath, run.path);
    } catch (error) {
        if (error instanceof RunStoreError || error instanceof RunConfigError) throw new EvalInputError(error.message);
        throw error;
    }
}

/** The run's validation examples: the training pipeline's own split (same seed, ratio, format and truncation). */
async function validationSplitOf(run: RunDirectory, config: ResolvedRunConfig): Promise<HeldOutSet> {
    const format = config.format === "auto" ? undefined : config.format;
    if (config.validationData !== undefined) return heldOutFromFile(config.validationData, { ...(format ? { format } : {}) });
    if (!(config.validationSplit > 0)) {
        throw new EvalInputError(
            `run ${run.runId} has no validation split (${run.configPath}: "validationSplit" is 0 and there is no "validationData"); choose a held-out file to evaluate on`
        );
    }
    let lines: Set<number>;
    try {
        // validationData is absent here, so this is exactly the split run/start made.
        const { prepared } = await prepareDatasetFiles(prepareOptionsFor(config));
        lines = new Set(prepared.validation.map((e) => e.source.line));
    } catch (error) {
        if (error instanceof PipelineError) throw new EvalInputError(`cannot recompute the validation split of run ${run.runId}: ${error.message}`);
        throw new EvalInputError(`cannot recompute the validation split of run ${run.runId} from ${config.data}: ${(error as Error).message}`);
    }
    return heldOutFromFile(config.data, { lines, ...(format ? { format } : {}) });
}

export async function resolveEvalSource(options: EvalSourceOptions): Promise<EvalSource> {
    if (options.runDirectory !== undefined) {
        const run = new RunDirectory(resolve(options.runDirectory));
        const config = readRunConfig(run);
        const model = options.model ? resolve(options.model) : config.model;
        const adapter = options.adapter ? resolve(options.adapter) : run.adapterPath;
        if (!existsSync(adapter)) throw new EvalInputError(`run ${run.runId} has no adapter yet (${adapter} is missing); evaluate it once it has finished or been cancelled`);
        const heldOut = options.data ? await heldOutFromFile(resolve(options.data)) : await validationSplitOf(run, config);
        const dataFiles = options.data ? [resolve(options.data)] : [config.validationData ?? config.data];
        return { model, adapter, heldOut, dataFiles, source: options.data ? "file" : "validation-split", runId: run.runId, defaultOutDir: run.path };
    }
    if (!options.model) throw new EvalInputError("a base model is required (or a run to take it from)");
    if (!options.adapter) throw new EvalInputError("an adapter is required (or a run to take it from)");
    if (!options.data) throw new EvalInputError("a held-out data file is required (or a run with a validation split)");
    const data = resolve(options.data);
    if (!existsSync(data)) throw new EvalInputError(`held-out data ${data} does not exist`);
    const adapter = resolve(options.adapter);
    return { model: resolve(options.model), adapter, heldOut: await heldOutFromFile(data), dataFiles: [data], source: "file", defaultOutDir: dirname(adapter) };
}
