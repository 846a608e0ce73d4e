// run/start, run/cancel and run/resume: config → dataset pipeline → run directory → TrainingRun, with
// progress, checkpoint, finished and failed notifications. One TrainingService per connection; its
// runs train one after another in this process (the engine holds one model per run).

import { dirname, isAbsolute, resolve } from "node:path";
import type { MessageConnection } from "vscode-jsonrpc";
import type { Engine } from "../engine";
import { PipelineError, prepareDatasetFiles } from "../pipeline";
import {
    RunCheckpointNotification,
    RunFailedNotification,
    RunFinishedNotification,
    RunProgressNotification,
    SidecarErrorCode,
    type RunCancelResult,
    type RunResumeParams,
    type RunResumeResult,
    type RunStartParams,
    type RunStartResult
} from "../protocol/sidecar";
import { RunConfigError, resolveRunConfig, type ResolvedRunConfig } from "../training/config";
import { RunDirectory, RunStore, RunStoreError } from "../training/runStore";
import { planSteps, TrainingRun, type TrainingOutcome } from "../training/trainer";
import { sidecarError, toRunStoreResponseError } from "./errors";

interface ActiveRun {
    run: TrainingRun;
    directory: RunDirectory;
    outcome: Promise<TrainingOutcome>;
}

export class TrainingService {
    private readonly active = new Map<string, ActiveRun>();

    constructor(private readonly connection: MessageConnection, private readonly engine: () => Promise<Engine>) {}

    async start(params: RunStartParams, store: RunStore | undefined): Promise<RunStartResult> {
        const file = params.configPath ?? "run/start config";
        const config = this.resolveConfig(params, file);
        const prepared = await this.prepare(config);
        const runDirectory = params.runDirectory ?? config.output;
        const createOptions = { config, datasetSha256: prepared.datasetSha256, totalSteps: planSteps(prepared.prepared, config).totalSteps };
        let directory: RunDirectory;
        try {
            if (runDirectory !== undefined) directory = await RunDirectory.create(resolve(runDirectory), createOptions);
            else if (store) directory = await store.createRun(createOptions);
            else throw sidecarError(SidecarErrorCode.NoWorkspace, "No workspace folder is open and the config has no \"output\"", "Open a folder or set \"output\" in the config.");
        } catch (error) {
            if (error instanceof RunStoreError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Choose an empty output directory.");
            throw error;
        }
        const run = new TrainingRun({ engine: await this.engine(), config, run: directory, prepared: prepared.prepared, resume: false, events: this.eventsFor(directory.runId) });
        await run.start();
        this.launch(directory, run);
        return { runId: directory.runId, runDirectory: directory.path, totalSteps: run.totalSteps };
    }

    async resume(params: RunResumeParams, store: RunStore | undefined): Promise<RunResumeResult> {
        if (typeof params?.runId !== "string" || params.runId === "") {
            throw sidecarError(SidecarErrorCode.InvalidParams, `run/resume: "runId" must be a non-empty string`, "Pass the id of a run from run/list.");
        }
        if (this.active.has(params.runId)) throw sidecarError(SidecarErrorCode.InvalidParams, `run ${params.runId} is already training`, "Cancel it first.");
        let directory: RunDirectory;
        try {
            if (params.runDirectory !== undefined) directory = new RunDirectory(resolve(params.runDirectory));
            else if (store) directory = store.openRun(params.runId);
            else throw sidecarError(SidecarErrorCode.NoWorkspace, "No workspace folder is open", "Open the folder that holds the run.");
            directory.readStatus();
        } catch (error) {
            return toRunStoreResponseError(error);
        }
        const config = this.resolveConfig({ config: directory.readConfig() }, directory.configPath);
        const prepared = await this.prepare(config);
        const recorded = directory.readDatasetSha256();
        if (recorded !== null && recorded !== prepared.datasetSha256) {
            throw sidecarError(
                SidecarErrorCode.InvalidParams,
                `${config.data} changed since run ${directory.runId} started (sha256 ${prepared.datasetSha256.slice(0, 12)}…, recorded ${recorded.slice(0, 12)}…)`,
                "Restore the original data or start a new run; resuming on other data would not continue the same run."
            );
        }
        const run = new TrainingRun({ engine: await this.engine(), config, run: directory, prepared: prepared.prepared, resume: true, events: this.eventsFor(directory.runId) });
        const fromStep = await run.start();
        this.launch(directory, run);
        return { runId: directory.runId, fromStep, totalSteps: run.totalSteps };
    }

    async cancel(runId: string): Promise<RunCancelResult> {
        const active = this.active.get(runId);
        if (!active) throw sidecarError(SidecarErrorCode.RunNotFound, `run ${JSON.stringify(runId)} is not training in this sidecar`, "Refresh the runs list; it may have finished.");
        active.run.cancel();
        const outcome = await active.outcome;
        if (outcome.kind === "failed") throw sidecarError(SidecarErrorCode.InvalidParams, `run ${runId} failed while cancelling: ${outcome.error.message}`, outcome.error.hint);
        return { checkpointStep: outcome.steps, adapterPath: outcome.adapterPath };
    }

    /** On shutdown: cancel every run (checkpoint + adapter) before the sidecar answers. */
    async cancelAll(): Promise<void> {
        await Promise.all([...this.active.keys()].map((id) => this.cancel(id).catch(() => undefined)));
    }

    private resolveConfig(params: Pick<RunStartParams, "config" | "configPath">, file: string): ResolvedRunConfig {
        try {
            const base = params.configPath ? dirname(resolve(params.configPath)) : undefined;
            const config = resolveRunConfig(params.config, file, base);
            for (const field of ["model", "data"] as const) {
                if (!isAbsolute(config[field])) throw new RunConfigError(file, [`field "${field}" must be an absolute path when no configPath is given`]);
            }
            return config;
        } catch (error) {
            if (error instanceof RunConfigError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the named fields (see schemas/run-config.schema.json).");
            throw error;
        }
    }

    private async prepare(config: ResolvedRunConfig): ReturnType<typeof prepareDatasetFiles> {
        try {
            return await prepareDatasetFiles({
                modelPath: config.model,
                trainPath: config.data,
                validationPath: config.validationData,
                validationRatio: config.validationSplit,
                seed: config.seed,
                sequenceLength: config.sequenceLength,
                truncation: config.truncation,
                ...(config.format === "auto" ? {} : { format: config.format })
            });
        } catch (error) {
            if (error instanceof PipelineError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the listed lines (lora-studio validate shows them all).");
            throw sidecarError(SidecarErrorCode.InvalidParams, (error as Error).message, "Check the model and data paths in the config.");
        }
    }

    private eventsFor(runId: string): ConstructorParameters<typeof TrainingRun>[0]["events"] {
        const send = <P>(type: { method: string } & object, params: P): void => {
            void this.connection.sendNotification(type as never, params as never).catch(() => undefined);
        };
        return {
            onProgress: (p) => send(RunProgressNotification.type, { runId, ...p }),
            onCheckpoint: (step, path) => send(RunCheckpointNotification.type, { runId, step, path })
        };
    }

    private launch(directory: RunDirectory, run: TrainingRun): void {
        const runId = directory.runId;
        const outcome = run.run();
        this.active.set(runId, { run, directory, outcome });
        void outcome.then((o) => {
            this.active.delete(runId);
            if (o.kind === "failed") {
                void this.connection.sendNotification(RunFailedNotification.type, { runId, ...o.error }).catch(() => undefined);
            } else {
                void this.connection
                    .sendNotification(RunFinishedNotification.type, {
                        runId, adapterPath: o.adapterPath, steps: o.steps, finalTrainLoss: o.finalTrainLoss,
                        ...(o.finalValLoss === undefined ? {} : { finalValLoss: o.finalValLoss }),
                        cancelled: o.kind === "cancelled"
                    })
                    .catch(() => undefined);
            }
        });
    }
}
