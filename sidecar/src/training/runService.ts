// Training as a service that knows nothing of JSON-RPC: start, resume and cancel runs; one run at a time; the run
// config resolved once (resolveRunConfig.ts); the memory pre-flight; out-of-memory recovery (one loop, whether the
// model fails to load or a step fails mid-run); the run folder's lock; and typed events for whoever listens.
// rpc/trainingHandlers.ts maps it to run/start, run/resume, run/cancel and their notifications, as
// rpc/chatHandlers.ts does for chat/service.ts. Tests drive it directly, with the engine and the pipeline injected.
//
// One run trains at a time in a process: a second start or resume is refused ("run-already-active") while a run is
// starting, training or restarting after an out-of-memory failure. Each run loads its own copy of the model, but
// each takes every CPU core (or the GPU's memory, which the pre-flight measured before the other run allocated), and
// two at once would starve or out-of-memory each other. The claim covers the whole run, restarts included, so a
// cancel always finds the run and no other run slips in between two attempts.
//
// Across processes a run folder has one owner, its run.lock (runLock.ts): taken before anything is written, released
// after the last status write, so a terminal's `lora-studio train --resume` and the editor never both train it.

import { freemem } from "node:os";
import { dirname, resolve } from "node:path";
import { OutOfMemoryError, type Engine } from "../engine";
import { ModelFileError } from "../gguf";
import { resolveRunOutput } from "../params/runOutput";
import { describeOverLength, formatIssue, overLengthReport, PipelineError, prepareDatasetFiles, type PreparedDataset, type PreparedFiles, type VocabularyLoader } from "../pipeline";
import type {
    LogLevel, MemoryAdjustment, OverLengthReport, RunCancelResult, RunCheckpointParams, RunFailedParams, RunFailure, RunFinishedParams,
    RunMemoryAdjustedParams, RunProgressParams, RunResumeParams, RunResumeResult, RunStartParams, RunStartResult
} from "../protocol/sidecar";
import { writeJsonAtomic } from "./atomicFile";
import { prepareOptionsFor, requireRunConfig, type ResolvedRunConfig } from "./config";
import { readModelShape, type ModelShape } from "./memoryEstimate";
import { preflightMemory } from "./memoryPreflight";
import { smallerAfterOutOfMemory } from "./oomRecovery";
import { RunRefusedError } from "./runErrors";
import { RunLockedError, type RunLockHolder, type RunLockOwner } from "./runLock";
import { nodeFileProbe } from "./runConfigProbe";
import type { RunConfigProbe, RunConfigProblem } from "./resolveRunConfig";
import { RunDirectory, type RunStatusFile, type RunStore } from "./runStore";
import { describeFailure, planSteps, TrainingRun, type TrainingOutcome } from "./trainer";

/** Everything a run tells its listener; the RPC layer sends each as its notification. */
export interface RunServiceEvents {
    progress(params: RunProgressParams): void;
    checkpoint(params: RunCheckpointParams): void;
    memoryAdjusted(params: RunMemoryAdjustedParams): void;
    finished(params: RunFinishedParams): void;
    failed(params: RunFailedParams): void;
    log(level: LogLevel, message: string): void;
}

/** What the service works with. Production passes the engine alone; tests substitute the parts they cannot run. */
export interface RunServiceDependencies {
    engine(): Promise<Engine>;
    /** Who this process trains for, recorded in each run folder's lock (asked per run: it is known after initialize). */
    owner(): RunLockOwner;
    /** The model's tokenizer and chat template for the dataset pipeline (node-llama-cpp's vocab-only load by default). */
    vocabulary?: VocabularyLoader;
    /** Free host memory in bytes, for the pre-flight check. */
    freeMemory?(): number;
    /** The model's shape from its GGUF header, for the pre-flight check. */
    modelShape?(path: string): ModelShape;
    /** The file system as the run-config checks see it. */
    probe?: RunConfigProbe;
}

/** run/start's parameters plus where runs live (the workspace's run store; absent without a folder). */
export type StartRequest = RunStartParams & { store?: RunStore | undefined };
export type ResumeRequest = RunResumeParams & { store?: RunStore | undefined };

/** What a run trains with, kept so an out-of-memory recovery can restart it with a smaller micro-batch. */
interface RunSetup {
    config: ResolvedRunConfig;
    prepared: PreparedDataset;
}

/** One run from start or resume until it ends, across its out-of-memory restarts. */
interface ActiveRun {
    runId: string;
    directory: RunDirectory;
    /** The attempt training now; undefined while it loads or while an out-of-memory recovery restarts the run. */
    attempt: TrainingRun | undefined;
    /** Set by cancel; an attempt that starts afterwards is cancelled before its first micro-batch. */
    cancelRequested: boolean;
    /** Settles once with the run's last outcome, after any restarts. */
    ended: Promise<TrainingOutcome>;
    end(outcome: TrainingOutcome): void;
}

/** The one run this process is starting or training; runId is unknown until start has made its directory. */
interface RunClaim {
    runId: string | undefined;
}

/** A trained attempt and what it trains with; `adjustment` says how the micro-batch shrank on the way. */
interface Attempt {
    run: TrainingRun;
    setup: RunSetup;
    fromStep: number;
    adjustment: MemoryAdjustment | undefined;
}

export class TrainingRunService {
    private readonly active = new Map<string, ActiveRun>();
    private claim: RunClaim | undefined;

    constructor(private readonly deps: RunServiceDependencies, private readonly events: RunServiceEvents) {}

    async start(request: StartRequest): Promise<RunStartResult> {
        const claim = this.claimSlot();
        let entry: ActiveRun | undefined;
        let directory: RunDirectory | undefined;
        try {
            const file = request.configPath ?? "run/start config";
            let { config, notes } = this.resolveConfig(request.config, file, request.configPath, this.outputRootFor(request));
            const prepared = await this.prepare(config);
            const preflight = await this.preflightMemory(config, prepared.prepared);
            if (preflight) config = { ...config, sequenceLength: preflight.sequenceLength, gradAccum: preflight.gradAccum };
            const overLength = overLengthReport(prepared.prepared.overLength);
            directory = await this.createDirectory(request, config, prepared, overLength);
            claim.runId = directory.runId;
            entry = this.register(directory);
            this.logPreparation(directory.runId, file, notes, prepared.prepared);
            // An allocation that fails while the model loads or the training context is created (the estimate was
            // low) is handled like one during the run: shrink the micro-batch and try again.
            const attempt = await this.attemptWithinMemory(entry, { config, prepared: prepared.prepared }, { resume: false, adjustment: preflight });
            this.launch(entry, attempt.run, attempt.setup);
            return {
                runId: directory.runId, runDirectory: directory.path, totalSteps: attempt.run.totalSteps,
                ...(attempt.adjustment ? { memoryAdjustment: attempt.adjustment } : {}), ...(overLength ? { overLength } : {})
            };
        } catch (error) {
            // A start that never trained leaves nothing behind: its folder would block the same --out (12.9).
            directory?.discardCreated();
            this.abandon(claim, entry, error);
            throw refusalOf(error);
        }
    }

    async resume(request: ResumeRequest): Promise<RunResumeResult> {
        if (typeof request.runId !== "string" || request.runId === "") {
            throw new RunRefusedError("invalid", `run/resume: "runId" must be a non-empty string`, "Pass the id of a run from run/list.");
        }
        if (request.epochs !== undefined && !(Number.isInteger(request.epochs) && request.epochs >= 1)) {
            throw new RunRefusedError("invalid", `run/resume: "epochs" must be an integer >= 1, got ${JSON.stringify(request.epochs)}`, "Pass the number of epochs to train in all.");
        }
        const claim = this.claimSlot();
        claim.runId = request.runId;
        let entry: ActiveRun | undefined;
        let directory: RunDirectory | undefined;
        try {
            directory = this.openRun(request);
            const status = directory.readStatus();
            this.lock(directory);
            const raw = directory.readConfig();
            this.settleEpochs(directory, raw, status, request.epochs);
            const swept = directory.removeStaleTemporaries();
            if (swept.length > 0) this.events.log("info", `run ${directory.runId}: removed temp files a killed write left behind: ${swept.join(", ")}`);
            const { config, notes } = this.resolveConfig(directory.readConfig(), directory.configPath, undefined);
            const prepared = await this.prepare(config);
            const recorded = directory.readDatasetSha256();
            if (recorded !== null && recorded !== prepared.datasetSha256) {
                throw new RunRefusedError(
                    "invalid",
                    `${config.data} changed since run ${directory.runId} started (sha256 ${prepared.datasetSha256.slice(0, 12)}…, recorded ${recorded.slice(0, 12)}…)`,
                    "Restore the original data or start a new run; resuming on other data would not continue the same run."
                );
            }
            // The CLI names runs by their directory; the run id in status.json is the one events carry.
            claim.runId = directory.runId;
            entry = this.register(directory);
            this.logPreparation(directory.runId, directory.configPath, notes, prepared.prepared);
            const attempt = await this.attemptWithinMemory(entry, { config, prepared: prepared.prepared }, { resume: true, adjustment: undefined });
            if (attempt.adjustment) this.announceAdjustment(directory.runId, attempt);
            this.launch(entry, attempt.run, attempt.setup);
            const overLength = overLengthReport(prepared.prepared.overLength);
            return { runId: directory.runId, fromStep: attempt.fromStep, totalSteps: attempt.run.totalSteps, ...(overLength ? { overLength } : {}) };
        } catch (error) {
            directory?.releaseLock();
            this.abandon(claim, entry, error);
            throw refusalOf(error);
        }
    }

    /**
     * Stops the run within one micro-batch, with a checkpoint and the adapter. A run between two attempts (its model
     * loading, or an out-of-memory restart) is cancelled as soon as the next attempt has loaded its checkpoint.
     */
    async cancel(runId: string): Promise<RunCancelResult> {
        const active = typeof runId === "string" ? this.active.get(runId) : undefined;
        if (!active) throw new RunRefusedError("run-not-found", `run ${JSON.stringify(runId)} is not training in this sidecar`, "Refresh the runs list; it may have finished.");
        active.cancelRequested = true;
        if (active.attempt) active.attempt.cancel();
        else this.events.log("info", `run ${runId}: cancel requested while the run is (re)starting; it stops once its checkpoint has loaded`);
        const outcome = await active.ended;
        if (outcome.kind === "failed") throw new RunRefusedError("invalid", `run ${runId} failed while cancelling: ${outcome.error.message}`, outcome.error.hint);
        return { checkpointStep: outcome.steps, adapterPath: outcome.adapterPath };
    }

    /** On shutdown: cancel every run (checkpoint + adapter) before the process answers. */
    async cancelAll(): Promise<void> {
        await Promise.all([...this.active.keys()].map((id) => this.cancel(id).catch(() => undefined)));
    }

    /** Takes the one training slot of this process, or refuses naming the run that holds it. */
    private claimSlot(): RunClaim {
        const holder = this.claim;
        if (holder) {
            const what = holder.runId === undefined ? "another run is starting in this sidecar" : `a run is already training in this sidecar: ${holder.runId}`;
            throw new RunRefusedError(
                "run-already-active", what,
                "Cancel it or wait for it to finish; one run trains at a time, as each uses every CPU core or the GPU's memory.",
                holder.runId === undefined ? {} : { runId: holder.runId }
            );
        }
        this.claim = { runId: undefined };
        return this.claim;
    }

    /** A lock of this process is still in use when one of its active runs holds it; otherwise it is a leftover. */
    private readonly heldHere = (holder: RunLockHolder): boolean =>
        [...this.active.values()].some((run) => run.directory.lock?.holder.nonce === holder.nonce);

    private lock(directory: RunDirectory): void {
        try {
            directory.takeLock(this.deps.owner(), this.heldHere);
        } catch (error) {
            if (error instanceof RunLockedError) throw lockedRefusal(error);
            throw error;
        }
    }

    private openRun(request: ResumeRequest): RunDirectory {
        if (request.runDirectory !== undefined) return new RunDirectory(resolve(request.runDirectory));
        if (request.store) return request.store.openRun(request.runId);
        throw new RunRefusedError("no-workspace", "No workspace folder is open", "Open the folder that holds the run.");
    }

    /**
     * Resume of a finished run changes nothing (12.5) unless `epochs` asks for more than it trained: then its config
     * says so and training continues from the checkpoint at its last step. Any other run may be given more epochs too,
     * never fewer (the steps it trained would no longer belong to its schedule).
     */
    private settleEpochs(directory: RunDirectory, config: ReturnType<RunDirectory["readConfig"]>, status: RunStatusFile, epochs: number | undefined): void {
        const planned = config.epochs ?? 3;
        const finished = status.state === "finished";
        if (epochs === undefined && !finished) return;
        if (epochs === undefined || epochs <= planned) {
            const asked = epochs === undefined ? "" : ` (${epochs} epochs asked, it ${finished ? "trained" : "trains"} ${planned})`;
            if (!finished) throw new RunRefusedError("invalid", `run ${directory.runId} already trains ${planned} epochs${asked}; nothing was changed`, `Resume without --epochs, or with more than ${planned}.`);
            throw new RunRefusedError(
                "run-finished",
                `run ${directory.runId} is finished (step ${status.step}, ${planned} epochs); nothing to resume${asked}, and nothing was changed`,
                `To train it further, resume with more epochs than ${planned} (lora-studio train --resume DIR --epochs N).`
            );
        }
        writeJsonAtomic(directory.configPath, { ...config, epochs });
        this.events.log("info", `run ${directory.runId}: ${finished ? "finished" : "stopped"} at step ${status.step} of ${planned} epochs; training to ${epochs} epochs`);
    }

    /**
     * Where a config's "output" must stay: the workspace; without one, the config file's folder. Undefined when the
     * config does not choose the folder (runDirectory: the user chose it) or there is nothing to confine it to.
     */
    private outputRootFor(request: StartRequest): string | undefined {
        if (request.runDirectory !== undefined) return undefined;
        if (request.store) return request.store.workspaceRoot;
        if (request.configPath !== undefined) return dirname(resolve(request.configPath));
        const output = (request.config as { output?: unknown } | undefined)?.output;
        if (output === undefined) return undefined;
        throw new RunRefusedError(
            "no-workspace", "the run config names an \"output\" folder, and with no workspace folder open and no config file there is nothing to confine it to",
            "Open the workspace folder, or choose the run folder directly (run/start's runDirectory; lora-studio train --out DIR)."
        );
    }

    /**
     * The run folder the user chose directly, on the command line (--out) or in a folder dialog: not confined to the
     * workspace, unlike a config's "output" (checked when the config was resolved).
     */
    private chosenRunFolder(requested: string): string {
        const origin = this.deps.owner().kind === "terminal" ? "command-line" : "dialog";
        return resolveRunOutput({ requested, origin, root: process.cwd() });
    }

    private async createDirectory(request: StartRequest, config: ResolvedRunConfig, prepared: PreparedFiles, overLength: OverLengthReport | undefined): Promise<RunDirectory> {
        const runDirectory = request.runDirectory !== undefined ? this.chosenRunFolder(request.runDirectory) : config.output;
        const options = {
            config, datasetSha256: prepared.datasetSha256, totalSteps: planSteps(prepared.prepared, config).totalSteps,
            owner: this.deps.owner(), heldHere: this.heldHere, ...(overLength ? { overLength } : {})
        };
        try {
            if (runDirectory !== undefined) return await RunDirectory.create(resolve(runDirectory), options);
            if (request.store) return await request.store.createRun(options);
        } catch (error) {
            if (error instanceof RunLockedError) throw lockedRefusal(error);
            throw error;
        }
        throw new RunRefusedError("no-workspace", "No workspace folder is open and the config has no \"output\"", "Open a folder or set \"output\" in the config.");
    }

    private register(directory: RunDirectory): ActiveRun {
        let end!: (outcome: TrainingOutcome) => void;
        const ended = new Promise<TrainingOutcome>((settle) => (end = settle));
        const entry: ActiveRun = { runId: directory.runId, directory, attempt: undefined, cancelRequested: false, ended, end };
        this.active.set(entry.runId, entry);
        return entry;
    }

    /** A start or resume that failed before its run was launched: free the slot, answer waiting cancels. */
    private abandon(claim: RunClaim, entry: ActiveRun | undefined, error: unknown): void {
        if (entry) {
            this.active.delete(entry.runId);
            entry.end({ kind: "failed", steps: 0, error: describeFailure(error) });
        }
        if (this.claim === claim) this.claim = undefined;
    }

    /** The run's last outcome: it leaves the active runs, its folder's lock and the slot free, and the listener hears how it ended. */
    private finish(entry: ActiveRun, outcome: TrainingOutcome): void {
        this.active.delete(entry.runId);
        entry.directory.releaseLock();
        if (this.claim?.runId === entry.runId) this.claim = undefined;
        entry.end(outcome);
        const runId = entry.runId;
        if (outcome.kind === "failed") {
            this.events.failed({ runId, ...outcome.error });
            return;
        }
        this.events.finished({
            runId, adapterPath: outcome.adapterPath, steps: outcome.steps, finalTrainLoss: outcome.finalTrainLoss,
            ...(outcome.finalValLoss === undefined ? {} : { finalValLoss: outcome.finalValLoss }),
            cancelled: outcome.kind === "cancelled"
        });
    }

    /**
     * The one run-config resolution, with the file checks a run needs: paths exist, the model is a GGUF the engine can
     * train, the targets are the model's. Problems that are not errors come back for the run log.
     */
    private resolveConfig(raw: unknown, file: string, configPath: string | undefined, outputRoot?: string): { config: ResolvedRunConfig; notes: RunConfigProblem[] } {
        const base = configPath === undefined ? { requireAbsolutePaths: true } : { baseDir: resolve(configPath, "..") };
        return requireRunConfig({ value: raw }, file, {
            ...base, probe: this.deps.probe ?? nodeFileProbe, forTraining: true, ...(outputRoot === undefined ? {} : { outputRoot })
        });
    }

    /** Said once per run, in its log (the extension's output channel, the CLI's stderr): not once per dataset line. */
    private logPreparation(runId: string, file: string, notes: readonly RunConfigProblem[], prepared: PreparedDataset): void {
        for (const note of notes) this.events.log(note.severity === "info" ? "info" : "warn", `run ${runId}: ${file}: ${note.message}`);
        for (const warning of prepared.datasetWarnings) this.events.log("warn", `run ${runId}: ${formatIssue(warning)}`);
        const overLength = prepared.overLength;
        if (overLength.issues.length === 0) return;
        this.events.log("warn", `run ${runId}: ${describeOverLength(overLength)}`);
        for (const issue of overLength.issues) this.events.log("warn", `run ${runId}: ${formatIssue(issue)}`);
    }

    /** The dataset as the run trains it; every unusable line is a PipelineError, anything else unreadable a refusal. */
    private async prepare(config: ResolvedRunConfig): Promise<PreparedFiles> {
        try {
            return await prepareDatasetFiles(prepareOptionsFor(config), this.deps.vocabulary);
        } catch (error) {
            if (error instanceof PipelineError) throw error;
            throw new RunRefusedError("invalid", (error as Error).message, "Check the model and data paths in the config.");
        }
    }

    /** The pre-flight memory check (memoryPreflight.ts) with this service's engine and probes. */
    private async preflightMemory(config: ResolvedRunConfig, prepared: PreparedDataset): Promise<MemoryAdjustment | undefined> {
        const engine = await this.deps.engine();
        const decision = preflightMemory(config, prepared, {
            capabilities: engine.capabilities(), freeMemory: this.deps.freeMemory ?? freemem, modelShape: this.deps.modelShape ?? readModelShape
        });
        if (decision.kind === "refused") throw new RunRefusedError("insufficient-memory", decision.message, decision.hint);
        if (decision.kind === "skipped") this.events.log("warn", `memory check skipped: ${decision.reason}`);
        if (decision.kind === "shrunk") this.events.log("warn", `memory check: ${decision.adjustment.reason}`);
        return decision.kind === "shrunk" ? decision.adjustment : undefined;
    }

    private async newRun(directory: RunDirectory, setup: RunSetup, resume: boolean): Promise<TrainingRun> {
        const runId = directory.runId;
        return new TrainingRun({
            engine: await this.deps.engine(), config: setup.config, run: directory, prepared: setup.prepared, resume,
            events: {
                onProgress: (p) => this.events.progress({ runId, ...p }),
                onCheckpoint: (step, path) => this.events.checkpoint({ runId, step, path }),
                onLog: (level, message) => this.events.log(level, `run ${runId}: ${message}`)
            }
        });
    }

    /**
     * The one out-of-memory loop. Loads an attempt (from the run's checkpoint when `resume`); each out-of-memory
     * failure, `failure` included (a step that failed mid-run), halves the micro-batch and doubles the accumulation
     * (the same tokens per optimizer step), rewrites the run's config.json so a later resume trains the same way, and
     * tries again. Throws OutOfMemoryError once rows cannot get shorter than the longest example, and any other
     * failure as it is.
     */
    private async attemptWithinMemory(
        entry: ActiveRun,
        setup: RunSetup,
        options: { resume: boolean; adjustment: MemoryAdjustment | undefined; failure?: RunFailure }
    ): Promise<Attempt> {
        const { directory } = entry;
        let current = setup;
        let adjustment = options.adjustment;
        let failure = options.failure;
        // A step failed mid-run: the restart continues from the checkpoint. At start, nothing trained yet.
        const midRun = failure !== undefined;
        for (;;) {
            if (failure) {
                const step = smallerAfterOutOfMemory(current, failure.message, midRun, adjustment);
                adjustment = step.adjustment;
                // Mid-run, each restart is announced on its own (memoryAdjusted); at start, the result carries the whole change.
                if (!midRun) this.events.log("warn", `run ${entry.runId}: ${adjustment.reason}`);
                current = { config: step.config, prepared: current.prepared };
                writeJsonAtomic(directory.configPath, current.config);
            }
            const run = await this.newRun(directory, current, options.resume || midRun);
            try {
                const fromStep = await run.start();
                return { run, setup: current, fromStep, adjustment };
            } catch (error) {
                if (!(error instanceof OutOfMemoryError)) throw error;
                failure = describeFailure(error);
            }
        }
    }

    private announceAdjustment(runId: string, attempt: Attempt): void {
        const adjustment = attempt.adjustment!;
        this.events.log("warn", `run ${runId}: ${adjustment.reason}; from step ${attempt.fromStep}`);
        this.events.memoryAdjusted({ runId, fromStep: attempt.fromStep, ...adjustment });
    }

    /**
     * After an out-of-memory failure mid-run: continue from the newest checkpoint with a smaller micro-batch. Returns
     * undefined once a smaller attempt trains, or the outcome the run ends with. A cancel that arrived meanwhile lets
     * the restart load its checkpoint, then stops it at once, so the run ends "cancelled" with that checkpoint and its
     * adapter, resumable with the smaller micro-batch.
     */
    private async recoverFromOutOfMemory(entry: ActiveRun, setup: RunSetup, failed: TrainingOutcome & { kind: "failed" }): Promise<TrainingOutcome | undefined> {
        const { directory, runId } = entry;
        // The attempt wrote "failed"; between attempts the run is running (a process dying now leaves it interrupted).
        directory.markRunning();
        let attempt: Attempt;
        try {
            attempt = await this.attemptWithinMemory(entry, setup, { resume: true, adjustment: undefined, failure: failed.error });
        } catch (error) {
            const described = describeFailure(error);
            const failure = error instanceof OutOfMemoryError ? described : { ...described, message: `recovery from out of memory failed: ${described.message}` };
            if (!(error instanceof OutOfMemoryError)) this.events.log("error", `run ${runId}: ${failure.message}`);
            directory.updateStatus({ state: "failed", error: failure });
            return { kind: "failed", steps: failed.steps, error: failure };
        }
        this.announceAdjustment(runId, attempt);
        this.launch(entry, attempt.run, attempt.setup);
        return undefined;
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
                    this.events.log("error", `run ${entry.runId}: ${failure.message}`);
                    return { kind: "failed", steps: outcome.steps, error: failure };
                });
            }
            if (last) this.finish(entry, last);
        });
    }
}

/**
 * A model file the load guard refused after the config check (replaced or damaged meanwhile, or the quantized copy's
 * source) is refused like one the check found: its message names the file, the byte and the cause.
 */
function refusalOf(error: unknown): unknown {
    if (!(error instanceof ModelFileError)) return error;
    return new RunRefusedError("invalid", error.message, "Pick a GGUF base model that is complete and readable (a download cut short is truncated; check the model path in the config).");
}

function lockedRefusal(error: RunLockedError): RunRefusedError {
    return new RunRefusedError(
        "run-locked", error.message,
        "Wait for that training to finish, or cancel it where it runs (Ctrl+C in the terminal, Cancel in the editor). If that process is gone, run again: a dead owner's lock is taken over.",
        { holder: error.holder }
    );
}
