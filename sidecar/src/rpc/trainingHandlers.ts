// run/start, run/cancel and run/resume: config → dataset pipeline → run directory → TrainingRun, with
// progress, checkpoint, finished and failed notifications. One TrainingService per connection; its
// runs train one after another in this process (the engine holds one model per run).

import { freemem } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import type { MessageConnection } from "vscode-jsonrpc";
import { OutOfMemoryError, type Engine } from "../engine";
import { PipelineError, prepareDatasetFiles } from "../pipeline";
import {
    LogNotification,
    RunCheckpointNotification,
    RunFailedNotification,
    RunFinishedNotification,
    RunMemoryAdjustedNotification,
    RunProgressNotification,
    type LogLevel,
    type MemoryAdjustment,
    SidecarErrorCode,
    type RunCancelResult,
    type RunResumeParams,
    type RunResumeResult,
    type RunStartParams,
    type RunStartResult
} from "../protocol/sidecar";
import { RunConfigError, prepareOptionsFor, resolveRunConfig, type ResolvedRunConfig } from "../training/config";
import { RunDirectory, RunStore, RunStoreError } from "../training/runStore";
import { planSteps, TrainingRun, type TrainingOutcome } from "../training/trainer";
import { sidecarError, toRunStoreResponseError } from "./errors";
import { memoryBudget, planMemoryFit, readModelShape } from "../training/memoryEstimate";
import { longestSequence, shrinkMicroBatch, type SimulatedOutOfMemory } from "../training/oomRecovery";
import { writeJsonAtomic } from "../training/atomicFile";
import type { PreparedDataset } from "../pipeline";

export interface TrainingServiceOptions {
    log?(level: LogLevel, message: string): void;
    /** Test hook: simulated out-of-memory failures (see training/oomRecovery.ts). */
    simulatedOutOfMemory?: SimulatedOutOfMemory;
}

/** What a run trains with, kept so an out-of-memory recovery can restart it with a smaller micro-batch. */
interface RunSetup {
    config: ResolvedRunConfig;
    prepared: PreparedDataset;
}

interface ActiveRun {
    run: TrainingRun;
    directory: RunDirectory;
    outcome: Promise<TrainingOutcome>;
    setup: RunSetup;
}

export class TrainingService {
    private readonly active = new Map<string, ActiveRun>();

    constructor(
        private readonly connection: MessageConnection,
        private readonly engine: () => Promise<Engine>,
        private readonly options: TrainingServiceOptions = {}
    ) {}

    async start(params: RunStartParams, store: RunStore | undefined): Promise<RunStartResult> {
        const file = params.configPath ?? "run/start config";
        let config = this.resolveConfig(params, file);
        const prepared = await this.prepare(config);
        let memoryAdjustment = await this.preflightMemory(config, prepared.prepared);
        if (memoryAdjustment) config = { ...config, sequenceLength: memoryAdjustment.sequenceLength, gradAccum: memoryAdjustment.gradAccum };
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
        // An allocation that fails while the model loads or the training context is created (the estimate was
        // low) is handled like one during the run: shrink the micro-batch and try again.
        let run: TrainingRun;
        for (;;) {
            run = await this.newRun(directory, { config, prepared: prepared.prepared }, false);
            try {
                await run.start();
                break;
            } catch (error) {
                const smaller = error instanceof OutOfMemoryError ? shrinkMicroBatch(config, longestSequence(prepared.prepared)) : undefined;
                if (!smaller) throw error;
                const reason = `out of memory while loading with sequenceLength ${config.sequenceLength} (${(error as Error).message}); ` +
                    `training with sequenceLength ${smaller.sequenceLength} and gradAccum ${smaller.gradAccum} instead (the same tokens per optimizer step)`;
                this.options.log?.("warn", `run ${directory.runId}: ${reason}`);
                memoryAdjustment = {
                    reason, previousSequenceLength: memoryAdjustment?.previousSequenceLength ?? config.sequenceLength,
                    previousGradAccum: memoryAdjustment?.previousGradAccum ?? config.gradAccum, ...smaller
                };
                config = { ...config, ...smaller };
                writeJsonAtomic(directory.configPath, config);
            }
        }
        this.launch(directory, run, { config, prepared: prepared.prepared });
        return { runId: directory.runId, runDirectory: directory.path, totalSteps: run.totalSteps, ...(memoryAdjustment ? { memoryAdjustment } : {}) };
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
        const run = await this.newRun(directory, { config, prepared: prepared.prepared }, true);
        const fromStep = await run.start();
        this.launch(directory, run, { config, prepared: prepared.prepared });
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
            return await prepareDatasetFiles(prepareOptionsFor(config));
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
            onCheckpoint: (step, path) => send(RunCheckpointNotification.type, { runId, step, path }),
            onLog: (level, message) => send(LogNotification.type, { level, message: `run ${runId}: ${message}` })
        };
    }

    private async newRun(directory: RunDirectory, setup: RunSetup, resume: boolean): Promise<TrainingRun> {
        return new TrainingRun({
            engine: await this.engine(), config: setup.config, run: directory, prepared: setup.prepared, resume, events: this.eventsFor(directory.runId),
            ...(this.options.simulatedOutOfMemory ? { simulatedOutOfMemory: this.options.simulatedOutOfMemory } : {})
        });
    }

    /**
     * The pre-flight memory check: refuses a run that cannot fit, or returns the smaller micro-batch it trains with.
     * A model whose shape cannot be read is not refused here: llama.cpp reports what is wrong with it when it loads.
     */
    private async preflightMemory(config: ResolvedRunConfig, prepared: PreparedDataset): Promise<MemoryAdjustment | undefined> {
        const engine = await this.engine();
        let shape;
        try {
            shape = readModelShape(config.model);
        } catch (error) {
            this.options.log?.("warn", `memory check skipped: ${(error as Error).message}`);
            return undefined;
        }
        const budget = memoryBudget(engine.capabilities(), freemem());
        const decision = planMemoryFit({
            shape, budget, gradAccum: config.gradAccum, minSequenceLength: longestSequence(prepared),
            settings: { rank: config.rank, targetModules: config.targetModules, sequenceLength: config.sequenceLength, quantizeBase: config.quantizeBase }
        });
        if (decision.kind === "refused") throw sidecarError(SidecarErrorCode.InsufficientMemory, decision.message, decision.hint);
        if (decision.kind === "fits") return undefined;
        this.options.log?.("warn", `memory check: ${decision.message}`);
        return {
            reason: decision.message, previousSequenceLength: config.sequenceLength, previousGradAccum: config.gradAccum,
            sequenceLength: decision.sequenceLength, gradAccum: decision.gradAccum
        };
    }

    /**
     * After an out-of-memory failure: continue from the newest checkpoint with half the micro-batch and twice the
     * accumulation, rewriting the run's config.json so a later resume trains the same way. Returns the setup that
     * ran out of memory last when the micro-batch cannot shrink further (the caller then reports the failure).
     */
    private async recoverFromOutOfMemory(directory: RunDirectory, setup: RunSetup, failure: { message: string }): Promise<{ recovered: true } | { recovered: false; setup: RunSetup }> {
        const smaller = shrinkMicroBatch(setup.config, longestSequence(setup.prepared));
        if (!smaller) return { recovered: false, setup };
        const config: ResolvedRunConfig = { ...setup.config, ...smaller };
        const reason = `out of memory with sequenceLength ${setup.config.sequenceLength} (${failure.message}); continuing from the last checkpoint ` +
            `with sequenceLength ${config.sequenceLength} and gradAccum ${config.gradAccum} (the same tokens per optimizer step)`;
        writeJsonAtomic(directory.configPath, config);
        const run = await this.newRun(directory, { config, prepared: setup.prepared }, true);
        let fromStep: number;
        try {
            fromStep = await run.start();
        } catch (error) {
            if (error instanceof OutOfMemoryError) return this.recoverFromOutOfMemory(directory, { config, prepared: setup.prepared }, error);
            throw error;
        }
        this.options.log?.("warn", `run ${directory.runId}: ${reason}; from step ${fromStep}`);
        void this.connection.sendNotification(RunMemoryAdjustedNotification.type, {
            runId: directory.runId, fromStep, reason,
            previousSequenceLength: setup.config.sequenceLength, previousGradAccum: setup.config.gradAccum, ...smaller
        }).catch(() => undefined);
        this.launch(directory, run, { config, prepared: setup.prepared });
        return { recovered: true };
    }

    private launch(directory: RunDirectory, run: TrainingRun, setup: RunSetup): void {
        const runId = directory.runId;
        const outcome = run.run();
        this.active.set(runId, { run, directory, outcome, setup });
        void outcome.then(async (o) => {
            this.active.delete(runId);
            if (o.kind === "failed" && o.error.code === "OUT_OF_MEMORY") {
                const recovery = await this.recoverFromOutOfMemory(directory, setup, o.error).catch((error: Error) => {
                    this.options.log?.("error", `run ${runId}: recovery from out of memory failed: ${error.message}`);
                    return { recovered: false as const, setup };
                });
                if (recovery.recovered) return;
                o.error.message = `${o.error.message}; the micro-batch is already the smallest the data allows (sequenceLength ${recovery.setup.config.sequenceLength}, ` +
                    `the longest example has ${longestSequence(setup.prepared)} tokens)`;
                directory.updateStatus({ state: "failed", error: o.error });
            }
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
