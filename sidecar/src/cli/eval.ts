// `lora-studio eval`: base model against base + adapter on held-out data, in this process (node-llama-cpp).
// Prints a before/after table and the summary, or the whole report as JSON with --json; writes
// eval-<timestamp>.json/.csv beside the adapter (or into --out).
import { parseArgs } from "node:util";
import { formatReport } from "../eval/format";
import { EvalInputError, runEval, DEFAULT_EVAL_MAX_TOKENS, type EvalOptions } from "../eval/runner";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio eval --model M.gguf --adapter A.gguf --data D.jsonl [options]
       lora-studio eval --run RUN_DIR [--data D.jsonl] [options]

Asks every held-out example's question (the conversation before its last assistant turn) to the base
model and to the base model with the adapter, greedily with the model's own chat template, and scores
both answers against that turn: normalized exact match, token F1, yes/no/maybe accuracy (PubMedQA
style, for references that start with yes, no or maybe) and the reference answer's loss.
Writes eval-<timestamp>.json and .csv into the adapter's folder (a run folder) or --out.

Options:
  --model M.gguf      base model
  --adapter A.gguf    LoRA adapter trained on that base model
  --data D.jsonl      held-out examples, any dataset format
  --run DIR           a run folder: its base model, adapter.gguf and (without --data) validation split
  --json              print the report as JSON instead of the table
  --max-tokens N      longest answer (default ${DEFAULT_EVAL_MAX_TOKENS})
  --limit N           only the first N examples
  --out DIR           where to write the report files
  --threads T         CPU threads (default: node-llama-cpp's choice)`;

function positiveInteger(values: Record<string, unknown>, flag: string): number | undefined {
    const text = values[flag];
    if (typeof text !== "string") return undefined;
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !(n >= 1)) throw new UsageError(`--${flag} must be a whole number >= 1, got ${JSON.stringify(text)}`);
    return n;
}

function parse(args: string[]): { options: EvalOptions; json: boolean } {
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({
            args,
            options: {
                model: { type: "string" }, adapter: { type: "string" }, data: { type: "string" }, run: { type: "string" }, json: { type: "boolean" },
                "max-tokens": { type: "string" }, limit: { type: "string" }, out: { type: "string" }, threads: { type: "string" }
            }
        }).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const str = (flag: string): string | undefined => (typeof values[flag] === "string" ? (values[flag] as string) : undefined);
    if (str("run") === undefined) {
        for (const flag of ["model", "adapter", "data"]) if (str(flag) === undefined) throw new UsageError(`--${flag} is required (or --run DIR)`);
    }
    const options: EvalOptions = {};
    const set = <K extends keyof EvalOptions>(key: K, value: EvalOptions[K] | undefined): void => {
        if (value !== undefined) options[key] = value;
    };
    set("model", str("model"));
    set("adapter", str("adapter"));
    set("data", str("data"));
    set("runDirectory", str("run"));
    set("outDir", str("out"));
    set("maxTokens", positiveInteger(values, "max-tokens"));
    set("limit", positiveInteger(values, "limit"));
    set("threads", positiveInteger(values, "threads"));
    return { options, json: values.json === true };
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
        process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
        return report.cancelled ? 130 : 0;
    } catch (error) {
        if (tty) process.stderr.write("\n");
        if (error instanceof EvalInputError) throw new Error(error.message);
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
