// `lora-studio eval`: base model against base + adapter on held-out data, in this process (node-llama-cpp).
// Prints a before/after table and the summary, or the whole report as JSON with --json; writes
// eval-<timestamp>.json/.csv beside the adapter (or into --out).
import { availableParallelism } from "node:os";
import { formatReport } from "../eval/format";
import { EvalInputError, runEval, type EvalOptions } from "../eval/runner";
import { EVAL_RUN_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import { ParamError } from "../params/schema";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio eval --model M.gguf --adapter A.gguf --data D.jsonl [options]
       lora-studio eval --run RUN_DIR [--data D.jsonl] [options]

Asks every held-out example's question (the conversation before its last assistant turn) to the base
model and to the base model with the adapter, greedily with the model's own chat template, and scores
both answers against that turn: normalized exact match, token F1, yes/no/maybe accuracy (PubMedQA
style, for references that start with yes, no or maybe) and the reference answer's loss.
Writes eval-<timestamp>.json and .csv into the adapter's folder (a run folder) or --out.

Options:
${optionsUsage(EVAL_RUN_PARAMS)}`;

function parse(args: string[]): { options: EvalOptions; json: boolean } {
    const { values } = parseCliArgs(EVAL_RUN_PARAMS, args, { limits: { cpus: availableParallelism() } });
    if (values.runDirectory === undefined) {
        for (const field of ["model", "adapter", "data"] as const) if (values[field] === undefined) throw new UsageError(`--${field} is required (or --run DIR)`);
    }
    const { json, ...rest } = values;
    const options: EvalOptions = {};
    for (const [key, value] of Object.entries(rest)) if (value !== undefined) (options as Record<string, unknown>)[key] = value;
    return { options, json: json === true };
}

async function run(args: string[]): Promise<number> {
    const { options, json } = parse(args);
    const abort = new AbortController();
    const onInterrupt = (): void => abort.abort();
    process.once("SIGINT", onInterrupt);
    const tty = process.stderr.isTTY === true;
    try {
        const report = await runEval({
            ...options,
            signal: abort.signal,
            onProgress: ({ done, total }) => {
                if (tty) process.stderr.write(`\revaluating ${done}/${total}\x1b[K`);
                else if (done === total || done % Math.max(1, Math.floor(total / 10)) === 0) process.stderr.write(`evaluated ${done}/${total}\n`);
            }
        });
        if (tty) process.stderr.write("\n");
        for (const warning of report.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
        process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return report.cancelled ? 130 : 0;
    } catch (error) {
        if (tty) process.stderr.write("\n");
        if (error instanceof EvalInputError) throw new Error(error.message);
        if (error instanceof ParamError) throw new UsageError(error.forFace({ face: "cli" }).message);
        throw error;
    } finally {
        process.off("SIGINT", onInterrupt);
    }
}

export const evalCommand: CliCommand = {
    summary: "compare a base model with base + LoRA adapter on held-out data (exact match, F1, yes/no, loss)",
    usage,
    run
};
