// run/start, run/cancel and run/resume: config → dataset pipeline → run directory → TrainingRun, with
// progress, checkpoint, finished and failed notifications. One TrainingService per connection.
//
// One run trains at a time in a sidecar: a second run/start or run/resume is refused with RunAlreadyActive while a
// run is starting, training or restarting after an out-of-memory failure. Each run loads its own copy of the model
// and attaches its adapter to its own context, so two runs would not share a graph; but each takes every CPU core
// (or the GPU's memory, which the pre-flight check measured before the other run allocated), and two at once would
// starve or out-of-memory each other. The claim covers the whole run, out-of-memory restarts included, so a cancel
// always finds the run (ActiveRun below) and no other run slips in between two attempts.

import { freemem } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { ResponseError, type MessageConnection } from "vscode-jsonrpc";
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
    type SidecarErrorData,
    type RunCancelResult,
    type RunResumeParams,
    type RunResumeResult,
    type RunStartParams,
    type RunStartResult
} from "../protocol/sidecar";
import { RunConfigError, prepareOptionsFor, resolveRunConfig, type ResolvedRunConfig } from "../training/config";
import { RunDirectory, RunStore, RunStoreError } from "../training/runStore";
import { describeFailure, planSteps, TrainingRun, type TrainingOutcome } from "../training/trainer";
import { sidecarError, toRunStoreResponseError } from "./errors";
import { memoryBudget, planMemoryFit, readModelShape } from "../training/memoryEstimate";
import { longestSequence, shrinkMicroBatch, type SimulatedOutOfMemory } from "../training/oomRecovery";
import { writeJsonAtomic } from "../training/atomicFile";
import type { PreparedDataset } from "../pipeline";

export interface TrainingServiceOptions {
    log?(level: LogLevel, message: string): void;
    /** Test hook: simulated out-of-memory failures (see training/oomRecovery.ts). */
    simulatedOutOfMemory?: SimulatedOutOfMemory;
    /**
     * Test hook (HOLD_OOM_RESTART_ENV_VAR): awaited after an out-of-memory failure, before the run restarts from its
     * checkpoint, so a test can act inside the restart window. Absent in production: nothing waits.
     */
    holdOutOfMemoryRestart?(runId: string): Promise<void>;
}

/** What a run trains with, kept so an out-of-memory recovery can restart it with a smaller micro-batch. */
interface RunSetup {
    config: ResolvedRunConfig;
    prepared: PreparedDataset;
}

/** One run from run/start or run/resume until it ends, across its out-of-memory restarts. */
interface ActiveRun {
    runId: string;
    directory: RunDirectory;
    /** The attempt training now; undefined while it loads or while an out-of-memory recovery restarts the run. */
    attempt: TrainingRun | undefined;
    /** Set by run/cancel; an attempt that starts afterwards is cancelled before its first micro-batch. */
    cancelRequested: boolean;
    /** Settles once with the run's last outcome, after any restarts. */
    ended: Promise<TrainingOutcome>;
    end(outcome: TrainingOutcome): void;
}

/** The one run this sidecar is starting or training; runId is unknown until run/start has made its directory. */
interface RunClaim {
    runId: string | undefined;
}

export class TrainingService {
    private readonly active = new Map<string, ActiveRun>();
    private claim: RunClaim | undefined;

    constructor(
        private readonly connection: MessageConnection,
        private readonly engine: () => Promise<Engine>,
        private readonly options: TrainingServiceOptions = {}
    ) {}

    async start(params: RunStartParams, store: RunStore | undefined): Promise<RunStartResult> {
        const claim = this.claimSlot();
        let entry: ActiveRun | undefined;
        try {
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
            claim.runId = directory.runId;
            entry = this.register(directory);
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
            this.launch(entry, run, { config, prepared: prepared.prepared });
            return { runId: directory.runId, runDirectory: directory.path, totalSteps: run.totalSteps, ...(memoryAdjustment ? { memoryAdjustment } : {}) };
        } catch (error) {
            this.abandon(claim, entry, error);
            throw error;
        }
    }

    async resume(params: RunResumeParams, store: RunStore | undefined): Promise<RunResumeResult> {
        if (typeof params?.runId !== "string" || params.runId === "") {
            throw sidecarError(SidecarErrorCode.InvalidParams, `run/resume: "runId" must be a non-empty string`, "Pass the id of a run from run/list.");
        }
        const claim = this.claimSlot();
        claim.runId = params.runId;
        let entry: ActiveRun | undefined;
        try {
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
            // The CLI names runs by their directory; the run id in status.json is the one notifications carry.
            claim.runId = directory.runId;
            entry = this.register(directory);
            const run = await this.newRun(directory, { config, prepared: prepared.prepared }, true);
            const fromStep = await run.start();
            this.launch(entry, run, { config, prepared: prepared.prepared });
            return { runId: directory.runId, fromStep, totalSteps: run.totalSteps };
        } catch (error) {
            this.abandon(claim, entry, error);
            throw error;
        }
    }

    /**
     * Stops the run within one micro-batch, with a checkpoint and the adapter. A run between two attempts (its model
     * loading, or an out-of-memory restart) is cancelled as soon as the next attempt has loaded its checkpoint.
     */
    async cancel(runId: string): Promise<RunCancelResult> {
        const active = this.active.get(runId);
        if (!active) throw sidecarError(SidecarErrorCode.RunNotFound, `run ${JSON.stringify(runId)} is not training in this sidecar`, "Refresh the runs list; it may have finished.");
        active.cancelRequested = true;
        if (active.attempt) active.attempt.cancel();
        else this.options.log?.("info", `run ${runId}: cancel requested while the run is (re)starting; it stops once its checkpoint has loaded`);
        const outcome = await active.ended;
        if (outcome.kind === "failed") throw sidecarError(SidecarErrorCode.InvalidParams, `run ${runId} failed while cancelling: ${outcome.error.message}`, outcome.error.hint);
        return { checkpointStep: outcome.steps, adapterPath: outcome.adapterPath };
    }

    /** On shutdown: cancel every run (checkpoint + adapter) before the sidecar answers. */
    async cancelAll(): Promise<void> {
        await Promise.all([...this.active.keys()].map((id) => this.cancel(id).catch(() => undefined)));
    }

    /** Takes the one training slot of this sidecar, or refuses with RunAlreadyActive naming the run that holds it. */
    private claimSlot(): RunClaim {
        const holder = this.claim;
        if (holder) {
            const what = holder.runId === undefined ? "another run is starting in this sidecar" : `a run is already training in this sidecar: ${holder.runId}`;
            throw new ResponseError<SidecarErrorData>(SidecarErrorCode.RunAlreadyActive, what, {
                hint: "Cancel it or wait for it to finish; one run trains at a time, as each uses every CPU core or the GPU's memory.",
                ...(holder.runId === undefined ? {} : { runId: holder.runId })
            });
        }
        this.claim = { runId: undefined };
        return this.claim;
    }

    private register(directory: RunDirectory): ActiveRun {
        let end!: (outcome: TrainingOutcome) => void;
        const ended = new Promise<TrainingOutcome>((settle) => (end = settle));
        const entry: ActiveRun = { runId: directory.runId, directory, attempt: undefined, cancelRequested: false, ended, end };
        this.active.set(entry.runId, entry);
        return entry;
    }

    /** A run/start or run/resume that failed before its run was launched: free the slot, answer waiting cancels. */
    private abandon(claim: RunClaim, entry: ActiveRun | undefined, error: unknown): void {
        if (entry) {
            this.active.delete(entry.runId);
            entry.end({ kind: "failed", steps: 0, error: describeFailure(error) });
        }
        if (this.claim === claim) this.claim = undefined;
    }

    /** The run's last outcome: it leaves the active runs, the slot frees, and the client hears how it ended. */
    private finish(entry: ActiveRun, outcome: TrainingOutcome): void {
        this.active.delete(entry.runId);
        if (this.claim?.runId === entry.runId) this.claim = undefined;
        entry.end(outcome);
        const runId = entry.runId;
        if (outcome.kind === "failed") {
            void this.connection.sendNotification(RunFailedNotification.type, { runId, ...outcome.error }).catch(() => undefined);
        } else {
            void this.connection
                .sendNotification(RunFinishedNotification.type, {
                    runId, adapterPath: outcome.adapterPath, steps: outcome.steps, finalTrainLoss: outcome.finalTrainLoss,
                    ...(outcome.finalValLoss === undefined ? {} : { finalValLoss: outcome.finalValLoss }),
                    cancelled: outcome.kind === "cancelled"
                })
                .catch(() => undefined);
        }
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
     * accumulation, rewriting the run's config.json so a later resume trains the same way. Returns undefined once a
     * smaller attempt trains, or the outcome the run ends with: OUT_OF_MEMORY when the micro-batch cannot shrink
     * further. A cancel that arrived meanwhile lets the restart load its checkpoint, then stops it at once, so the
     * run ends "cancelled" with that checkpoint and its adapter, resumable with the smaller micro-batch.
     */
    private async recoverFromOutOfMemory(entry: ActiveRun, setup: RunSetup, failed: TrainingOutcome & { kind: "failed" }): Promise<TrainingOutcome | undefined> {
        const { directory, runId } = entry;
        // The attempt wrote "failed"; between attempts the run is running (a sidecar dying now leaves it interrupted).
        directory.markRunning();
        await this.options.holdOutOfMemoryRestart?.(runId);
        let current = setup;
        let failure = failed.error;
        for (;;) {
            const smaller = shrinkMicroBatch(current.config, longestSequence(current.prepared));
            if (!smaller) {
                const error = {
                    ...failure,
                    message: `${failure.message}; the micro-batch is already the smallest the data allows (sequenceLength ${current.config.sequenceLength}, ` +
                        `the longest example has ${longestSequence(current.prepared)} tokens)`
                };
                directory.updateStatus({ state: "failed", error });
                return { kind: "failed", steps: failed.steps, error };
            }
            const next: RunSetup = { config: { ...current.config, ...smaller }, prepared: current.prepared };
            const reason = `out of memory with sequenceLength ${current.config.sequenceLength} (${failure.message}); continuing from the last checkpoint ` +
                `with sequenceLength ${next.config.sequenceLength} and gradAccum ${next.config.gradAccum} (the same tokens per optimizer step)`;
            writeJsonAtomic(directory.configPath, next.config);
            let run: TrainingRun;
            let fromStep: number;
            try {
                run = await this.newRun(directory, next, true);
                fromStep = await run.start();
            } catch (error) {
                if (error instanceof OutOfMemoryError) {
                    current = next;
                    failure = describeFailure(error);
                    continue;
                }
                const described = describeFailure(error);
                const failedRecovery = { ...described, message: `recovery from out of memory failed: ${described.message}` };
                this.options.log?.("error", `run ${runId}: ${failedRecovery.message}`);
                directory.updateStatus({ state: "failed", error: failedRecovery });
                return { kind: "failed", steps: failed.steps, error: failedRecovery };
            }
            this.options.log?.("warn", `run ${runId}: ${reason}; from step ${fromStep}`);
            void this.connection.sendNotification(RunMemoryAdjustedNotification.type, {
                runId, fromStep, reason,
                previousSequenceLength: current.config.sequenceLength, previousGradAccum: current.config.gradAccum, ...smaller
            }).catch(() => undefined);
            this.launch(entry, run, next);
            return undefined;
        }
    }

    /** Trains `run` as the run's current attempt; a cancel that came before it started stops it before any micro-batch. */
    private launch(entry: ActiveRun, run: TrainingRun, setup: RunSetup): void {
        entry.attempt = run;
        if (entry.cancelRequested) run.cancel();
        void run.run().then(async (outcome) => {
            entry.attempt = undefined;
            let last: TrainingOutcome | undefined = outcome;
            if (outcome.kind === "failed" && outcome.error.code === "OUT_OF_MEMORY") {
                last = await this.recoverFromOutOfMemory(entry, setup, outcome).catch((error: Error): TrainingOutcome => {
                    const failure = { ...describeFailure(error), message: `recovery from out of memory failed: ${error.message}` };
                    this.options.log?.("error", `run ${entry.runId}: ${failure.message}`);
                    return { kind: "failed", steps: outcome.steps, error: failure };
                });
            }
            if (last) this.finish(entry, last);
        });
    }
}
