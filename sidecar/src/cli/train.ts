// `lora-studio train`: drives the same sidecar process the extension uses, over JSON-RPC through the
// same SidecarSupervisor, and draws its progress in the terminal. Ctrl+C cancels: the sidecar saves a
// checkpoint and the adapter before the command exits.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ResponseError } from "vscode-jsonrpc";
import { SidecarSupervisor } from "../client/supervisor";
import { describeOverLength } from "../pipeline/overLength";
import {
    RunCancelRequest,
    RunFailedNotification,
    RunFinishedNotification,
    RunProgressNotification,
    RunResumeRequest,
    RunStartRequest,
    SidecarErrorCode,
    type OverLengthReport,
    type RunFailedParams,
    type RunFinishedParams,
    type TrainingConfig
} from "../protocol/sidecar";
import { TRAIN_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import { loadRunConfigFile } from "../training/config";
import { presetById } from "../training/presets";
import { ProgressPrinter } from "./progress";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio train (--config FILE | --model M.gguf --data D.jsonl --out DIR) [options]
       lora-studio train --resume DIR [--epochs N]

Fine-tunes a LoRA adapter and writes DIR/adapter.gguf and DIR/metrics.jsonl. Defaults follow QLoRA
practice (schemas/run-config.schema.json). Ctrl+C cancels and keeps a checkpoint and the adapter;
--resume DIR continues a cancelled or interrupted run with the same loss sequence; a finished run is left as
it is unless --epochs asks for more epochs than it trained. A run folder that another process (the editor or
another terminal) trains is refused, naming that process. Every range below is the run config's.

Options:
${optionsUsage(TRAIN_PARAMS)}`;

/** Flags that set a run-config field of the same name (the rest choose files, the folder or the mode). */
const NOT_CONFIG_FIELDS: ReadonlySet<string> = new Set(["config", "out", "preset", "resume", "model", "data", "validationData"]);

type Request = { kind: "start"; config: TrainingConfig; configPath?: string; out?: string } | { kind: "resume"; directory: string; epochs?: number };

function parse(args: string[]): Request {
    // Every flag against the train schema (params/commands.ts): the run config's ranges, checked before anything loads.
    const { values } = parseCliArgs(TRAIN_PARAMS, args);
    if (values.resume !== undefined) {
        const others = Object.entries(values).filter(([field, value]) => field !== "resume" && field !== "epochs" && value !== undefined);
        if (others.length > 0) throw new UsageError(`--resume takes only --epochs; the run keeps its own config (got --${others.map(([field]) => TRAIN_PARAMS[field as keyof typeof TRAIN_PARAMS].flag).join(", --")})`);
        return { kind: "resume", directory: resolve(values.resume), ...(values.epochs === undefined ? {} : { epochs: values.epochs }) };
    }
    const config: Record<string, unknown> = values.config !== undefined ? { ...loadRunConfigFile(values.config) } : {};
    // Paths given on the command line are relative to the working directory.
    for (const field of ["model", "data", "validationData"] as const) {
        if (values[field] !== undefined) config[field] = resolve(values[field]);
    }
    if (values.preset !== undefined) {
        try {
            Object.assign(config, presetById(values.preset).settings);
        } catch (err) {
            throw new UsageError(`--preset: ${(err as Error).message}`);
        }
    }
    for (const [field, value] of Object.entries(values)) {
        if (value !== undefined && !NOT_CONFIG_FIELDS.has(field)) config[field] = value;
    }
    if (typeof config.model !== "string" || typeof config.data !== "string") throw new UsageError("give --config FILE, or --model and --data");
    // --out is the user's own choice of folder ("command-line"): unlike a config's "output", it may lie outside the workspace.
    const out = values.out !== undefined ? resolve(values.out) : undefined;
    if (out === undefined && values.config === undefined) throw new UsageError("--out DIR is required without --config");
    return { kind: "start", config: config as unknown as TrainingConfig, ...(values.config !== undefined ? { configPath: resolve(values.config) } : {}), ...(out ? { out } : {}) };
}

/** dist/cli.mjs and dist/sidecar.mjs are bundled side by side. */
function sidecarScript(): string {
    const script = join(dirname(fileURLToPath(import.meta.url)), "sidecar.mjs");
    if (!existsSync(script)) throw new Error(`${script} is missing; run \`npm run build\` first`);
    return script;
}

async function run(args: string[]): Promise<number> {
    const request = parse(args);
    const stderrTail: string[] = [];
    const supervisor = new SidecarSupervisor({
        command: process.execPath,
        scriptPath: sidecarScript(),
        clientName: "lora-studio-cli",
        // "terminal": named in the run folder's lock, so the editor refused this run learns who trains it.
        initializeParams: () => ({ workspaceRoot: process.cwd(), workspaceTrusted: true, clientKind: "terminal" }),
        // A one-shot command: a crashed sidecar is reported, not restarted behind the user's back.
        timing: { maxRestartAttempts: 0 },
        log: {
            trace: () => undefined,
            debug: () => undefined,
            info: (m) => stderrTail.push(m),
            warn: (m) => process.stderr.write(`${m}\n`),
            error: (m) => process.stderr.write(`${m}\n`)
        }
    });
    const printer = new ProgressPrinter(process.stdout);
    let runId: string | undefined;
    const ended = new Promise<{ finished?: RunFinishedParams; failed?: RunFailedParams; exited?: string }>((settle) => {
        supervisor.onNotification(RunProgressNotification.type, (p) => {
            if (p.runId === runId || runId === undefined) printer.progress(p);
        });
        supervisor.onNotification(RunFinishedNotification.type, (p) => settle({ finished: p }));
        supervisor.onNotification(RunFailedNotification.type, (p) => settle({ failed: p }));
        supervisor.onDidExit((e) => {
            if (!e.expected) settle({ exited: e.description });
        });
    });
    let cancelling = false;
    const onInterrupt = (): void => {
        if (runId === undefined || cancelling) return;
        cancelling = true;
        printer.note("cancelling: saving a checkpoint and the adapter…");
        void supervisor.sendRequest(RunCancelRequest.type, { runId }).catch((err: Error) => printer.note(`cancel failed: ${err.message}`));
    };
    process.on("SIGINT", onInterrupt);
    let overLength: OverLengthReport | undefined;
    try {
        if (request.kind === "start") {
            const started = await supervisor.sendRequest(RunStartRequest.type, {
                config: request.config,
                ...(request.configPath ? { configPath: request.configPath } : {}),
                ...(request.out ? { runDirectory: request.out } : {})
            });
            runId = started.runId;
            overLength = started.overLength;
            printer.note(`training ${started.totalSteps} steps into ${started.runDirectory}`);
        } else {
            const dir = request.directory;
            let resumed;
            try {
                resumed = await supervisor.sendRequest(RunResumeRequest.type, { runId: dir.split(/[\\/]/).pop() ?? dir, runDirectory: dir, ...(request.epochs === undefined ? {} : { epochs: request.epochs }) });
            } catch (error) {
                // Nothing to do is not a failure: the run is what was asked for, and nothing was changed.
                if (error instanceof ResponseError && error.code === SidecarErrorCode.RunFinished) {
                    printer.note(`${error.message}. ${(error.data as { hint?: string } | undefined)?.hint ?? ""}`.trim());
                    return 0;
                }
                throw error;
            }
            runId = resumed.runId;
            overLength = resumed.overLength;
            printer.note(`resuming ${dir} from step ${resumed.fromStep} of ${resumed.totalSteps}`);
        }
        if (overLength) printer.note(`${describeOverLength(overLength)}; the log above names each one`);
        const backend = supervisor.serverInfo?.capabilities.backend;
        if (backend) printer.note(`backend: ${backend.description}`);
        const end = await ended;
        printer.done();
        if (end.finished) {
            const f = end.finished;
            printer.note(`${f.cancelled ? "cancelled" : "finished"} after ${f.steps} steps; train loss ${f.finalTrainLoss.toFixed(4)}${f.finalValLoss === undefined ? "" : `, val loss ${f.finalValLoss.toFixed(4)}`}`);
            printer.note(`adapter: ${f.adapterPath}`);
            if (overLength) printer.note(`data: ${describeOverLength(overLength)}`);
            return f.cancelled ? 130 : 0;
        }
        if (end.failed) {
            process.stderr.write(`lora-studio train: training failed (${end.failed.code}): ${end.failed.message}\n  ${end.failed.hint}\n`);
            return 1;
        }
        process.stderr.write(`lora-studio train: the sidecar stopped unexpectedly (${end.exited}).\n${stderrTail.slice(-10).join("\n")}\n`);
        return 1;
    } catch (error) {
        // A refusal (a config field, a locked run folder, memory): the sidecar's message names the cause, its hint the way out.
        const hint = error instanceof ResponseError ? (error.data as { hint?: unknown } | undefined)?.hint : undefined;
        if (typeof hint !== "string" || hint === "") throw error;
        process.stderr.write(`lora-studio train: ${(error as Error).message}\n  ${hint}\n`);
        return 1;
    } finally {
        process.off("SIGINT", onInterrupt);
        await supervisor.stop();
    }
}

export const trainCommand: CliCommand = {
    summary: "fine-tune a LoRA adapter (progress bar; Ctrl+C cancels, --resume continues)",
    usage,
    run
};
