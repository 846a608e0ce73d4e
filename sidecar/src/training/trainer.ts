// The run loop: prepared dataset → packed rows per epoch → engine micro-steps → optimizer steps, with
// metrics.jsonl, validation loss, checkpoints, cancel and resume. One TrainingRun is one attempt; the run service
// (runService.ts) owns the run across attempts (out-of-memory restarts). The CLI reaches it through the sidecar.
//
// Determinism: the rows of epoch e are packEpoch(train, L, seed, e), a pure function, and the engine's
// checkpoint holds the adapter, the AdamW moments, the gradients accumulated so far and the RNG state. A
// checkpoint's data cursor is the (epoch, row) of the next micro-batch the engine has not trained, plus the
// loss sums of a partly accumulated group (a cancel between two updates), so resuming trains exactly the
// micro-batches an uninterrupted run would have trained next: the same loss sequence.
//
// Shape legend: L = config.sequenceLength (every micro-batch is one packed row padded to L tokens).

import { availableParallelism } from "node:os";
import {
    EngineCancelledError, NonFiniteError, OutOfMemoryError, cpuNodeCount, describeBackend, formatNodeCounts, toEngineError,
    type Engine, type EngineModel, type Trainer
} from "../engine";
import { packEpoch, packValidation, toMicroBatch, type MicroBatch, type PreparedDataset } from "../pipeline";
import type { MetricRecord, RunFailure, RunProgressParams } from "../protocol/sidecar";
import type { RunDirectory } from "./runStore";
import type { MetricsWriter } from "./metricsLog";
import { baseFingerprint, stampBaseFingerprint, type BaseFingerprint } from "../adapters/baseFingerprint";
import { openModelFile } from "../gguf";
import { warmupStepsFor, type ResolvedRunConfig } from "./config";
import { trainingBasePath } from "./quantizedBase";
import { translateCursor } from "./oomRecovery";

/** The fingerprint needs the tensor table, not the tokenizer's arrays. */
const HEADER_ARRAY_LIMIT = 4096;

/** Where the next micro-batch comes from: row `row` of epoch `epoch`. Stored in checkpoints. */
export interface DataCursor {
    epoch: number;
    row: number;
}

/** What the trainer reports after each optimizer step: the protocol's progress notification without the run id. */
export type TrainingProgress = Omit<RunProgressParams, "runId">;

export interface TrainingEvents {
    onProgress?(progress: TrainingProgress): void;
    onCheckpoint?(step: number, path: string): void;
    onLog?(level: "info" | "warn", message: string): void;
}

export type TrainingOutcome =
    | { kind: "finished" | "cancelled"; adapterPath: string; steps: number; finalTrainLoss: number; finalValLoss?: number }
    | { kind: "failed"; steps: number; error: RunFailure };

/** The number of optimizer steps a run makes: every micro-batch of every epoch, in whole accumulation groups. */
export function planSteps(prepared: PreparedDataset, config: ResolvedRunConfig): { rowsPerEpoch: number[]; totalSteps: number } {
    const rowsPerEpoch: number[] = [];
    for (let e = 0; e < config.epochs; e++) rowsPerEpoch.push(packEpoch(prepared.train, config.sequenceLength, config.seed, e).length);
    const micro = rowsPerEpoch.reduce((a, b) => a + b, 0);
    return { rowsPerEpoch, totalSteps: Math.max(1, Math.floor(micro / config.gradAccum)) };
}

/** Micro-batches trained since the last optimizer update: what the next metrics record averages. */
export interface GroupTotals {
    lossSum: number;
    lossCount: number;
    tokens: number;
}

const emptyGroup = (): GroupTotals => ({ lossSum: 0, lossCount: 0, tokens: 0 });

/** `sequenceLength` records the row length the cursor counts rows of (OOM recovery may change it between checkpoints). */
export function encodeCursor(cursor: DataCursor, group: GroupTotals = emptyGroup(), sequenceLength?: number): string {
    const rows = sequenceLength === undefined ? cursor : { ...cursor, sequenceLength };
    return JSON.stringify(group.lossCount > 0 ? { ...rows, group } : rows);
}

export function decodeCursor(text: string, checkpoint: string): { cursor: DataCursor; group: GroupTotals; sequenceLength?: number } {
    const value = JSON.parse(text) as Partial<DataCursor> & { group?: Partial<GroupTotals>; sequenceLength?: unknown };
    if (!Number.isInteger(value?.epoch) || !Number.isInteger(value?.row)) {
        throw new Error(`${checkpoint}: the checkpoint's data cursor ${JSON.stringify(text)} is not {epoch, row}`);
    }
    const g = value.group;
    if (g !== undefined && !(Number.isFinite(g.lossSum) && Number.isInteger(g.lossCount) && Number.isInteger(g.tokens))) {
        throw new Error(`${checkpoint}: the checkpoint's data cursor ${JSON.stringify(text)} has a malformed group {lossSum, lossCount, tokens}`);
    }
    const decoded = { cursor: { epoch: value.epoch!, row: value.row! }, group: g ? (g as GroupTotals) : emptyGroup() };
    return Number.isInteger(value.sequenceLength) ? { ...decoded, sequenceLength: value.sequenceLength as number } : decoded;
}

export interface TrainingRunOptions {
    engine: Engine;
    config: ResolvedRunConfig;
    run: RunDirectory;
    prepared: PreparedDataset;
    /** Continue from the run's newest checkpoint instead of starting fresh. */
    resume: boolean;
    events?: TrainingEvents;
}

/** One training run in this process. `start()` loads the model; `done` settles when the run stops. */
export class TrainingRun {
    readonly totalSteps: number;
    private readonly rowsPerEpoch: number[];
    private model: EngineModel | undefined;
    private reportedPlacement = false;
    private trainer: Trainer | undefined;
    private cancelRequested = false;
    private step = 0;
    private cursor: DataCursor = { epoch: 0, row: 0 };
    private group: GroupTotals = emptyGroup();
    private lastCheckpointStep = -1;
    private finalTrainLoss = NaN;
    private finalValLoss: number | undefined;
    private readonly validationBatches: MicroBatch[];
    private loop: Promise<TrainingOutcome> | undefined;
    /** The base model's fingerprint, recorded in every adapter this run saves (adapters/baseFingerprint.ts). */
    private fingerprint: BaseFingerprint | undefined;

    constructor(private readonly options: TrainingRunOptions) {
        const plan = planSteps(options.prepared, options.config);
        this.rowsPerEpoch = plan.rowsPerEpoch;
        this.totalSteps = plan.totalSteps;
        const L = options.config.sequenceLength;
        this.validationBatches = packValidation(options.prepared.validation, L).map((row) => toMicroBatch(row, { padTo: L, padToken: 0 }));
    }

    get currentStep(): number {
        return this.step;
    }

    /** Loads the model and the trainer (and the newest checkpoint when resuming); returns the step training continues from. */
    async start(): Promise<number> {
        const { engine, config, run } = this.options;
        const threads = config.threads > 0 ? config.threads : availableParallelism();
        // The user's model, not the quantized cache copy training may load: chat, eval and export compare an adapter
        // with the file the user names. Through the load guard, so a file damaged since the config check fails here.
        this.fingerprint = baseFingerprint(openModelFile(config.model, { skipArraysOver: HEADER_ARRAY_LIMIT }));
        const basePath = await trainingBasePath(engine, config.model, config.quantizeBase);
        this.model = await engine.loadModel(basePath, { threads, nCtx: config.sequenceLength });
        try {
            this.trainer = await this.model.createTrainer(
                { rank: config.rank, alpha: config.alpha, dropout: config.dropout, targetModules: config.targetModules, seed: config.seed },
                {
                    lr: config.learningRate, beta1: config.beta1, beta2: config.beta2, eps: config.eps, weightDecay: config.weightDecay,
                    gradClip: config.gradClip, schedule: config.lrSchedule, warmupSteps: warmupStepsFor(config, this.totalSteps),
                    totalSteps: this.totalSteps, gradAccum: config.gradAccum
                }
            );
            if (this.options.resume) {
                const latest = run.latestCheckpoint();
                if (latest) {
                    const loaded = await this.trainer.loadCheckpoint(latest.path);
                    this.step = loaded.step;
                    const decoded = decodeCursor(loaded.dataCursor, latest.path);
                    ({ cursor: this.cursor, group: this.group } = decoded);
                    // After an out-of-memory recovery the rows are shorter than those the checkpoint counted.
                    if (decoded.sequenceLength !== undefined && decoded.sequenceLength !== config.sequenceLength) {
                        this.cursor = translateCursor(this.options.prepared.train, config.seed, this.cursor, decoded.sequenceLength, config.sequenceLength);
                    }
                    this.lastCheckpointStep = loaded.step;
                }
                // Steps after the checkpoint are trained again; they must not appear twice in metrics.jsonl.
                run.rewindMetricsTo(this.step);
            }
        } catch (error) {
            this.dispose();
            throw error;
        }
        run.markRunning(this.totalSteps);
        run.updateStatus({ step: this.step });
        return this.step;
    }

    /** Runs to the end (or cancel/failure). Call after start(). */
    run(): Promise<TrainingOutcome> {
        this.loop ??= this.runLoop().finally(() => this.dispose());
        return this.loop;
    }

    /** Stops within one micro-batch; the run then saves a checkpoint and the adapter and resolves "cancelled". */
    cancel(): void {
        this.cancelRequested = true;
        this.trainer?.cancel();
    }

    private async runLoop(): Promise<TrainingOutcome> {
        const { run, config, events } = this.options;
        const trainer = this.trainer;
        if (!trainer) throw new Error("TrainingRun.run() before start()");
        const metrics = run.openMetricsWriter();
        const L = config.sequenceLength;
        const started = Date.now();
        const startStep = this.step;
        try {
            let rows = packEpoch(this.options.prepared.train, L, config.seed, this.cursor.epoch);
            let groupStarted = Date.now();
            while (this.step < this.totalSteps) {
                if (this.cancelRequested) return await this.stopCancelled(metrics);
                if (this.cursor.row >= rows.length) {
                    this.cursor = { epoch: this.cursor.epoch + 1, row: 0 };
                    rows = packEpoch(this.options.prepared.train, L, config.seed, this.cursor.epoch);
                    continue;
                }
                const batch = toMicroBatch(rows[this.cursor.row]!, { padTo: L, padToken: 0 });
                let result;
                try {
                    result = await trainer.step(batch);
                } catch (error) {
                    if (error instanceof EngineCancelledError || this.cancelRequested) return await this.stopCancelled(metrics);
                    throw error;
                }
                if (!this.reportedPlacement) this.reportPlacement(trainer);
                if (!Number.isFinite(result.loss)) throw new NonFiniteError("NON_FINITE", `the loss became ${result.loss} at step ${this.step + 1}`);
                this.group.lossSum += result.loss;
                this.group.lossCount++;
                this.group.tokens += result.tokens;
                this.cursor = { epoch: this.cursor.epoch, row: this.cursor.row + 1 };
                if (!result.appliedUpdate) continue;

                this.step = result.optimizerStep;
                const epochDone = this.cursor.row >= this.rowsPerEpoch[this.cursor.epoch]!;
                const seconds = Math.max(1e-3, (Date.now() - groupStarted) / 1000);
                const record: MetricRecord = {
                    step: this.step,
                    epoch: this.cursor.epoch + this.cursor.row / this.rowsPerEpoch[this.cursor.epoch]!,
                    loss: this.group.lossSum / this.group.lossCount,
                    lr: result.lr,
                    gradNorm: result.gradNorm,
                    tokens: this.group.tokens,
                    tokensPerSecond: this.group.tokens / seconds
                };
                this.finalTrainLoss = record.loss;
                const evalDue = config.evalEvery > 0 ? this.step % config.evalEvery === 0 : epochDone;
                if (this.validationBatches.length > 0 && (evalDue || this.step === this.totalSteps)) {
                    record.valLoss = await this.validationLoss(trainer);
                    this.finalValLoss = record.valLoss;
                }
                record.time = new Date().toISOString();
                metrics.append(record);
                run.updateStatus({ step: this.step });
                const elapsed = (Date.now() - started) / 1000;
                const perStep = elapsed / Math.max(1, this.step - startStep);
                const memory = trainer.memory();
                events?.onProgress?.({
                    step: this.step, totalSteps: this.totalSteps, epoch: record.epoch!, trainLoss: record.loss,
                    ...(record.valLoss === undefined ? {} : { valLoss: record.valLoss }),
                    lr: result.lr, tokensPerSecond: record.tokensPerSecond as number,
                    etaSeconds: perStep * (this.totalSteps - this.step), memory
                });
                this.group = emptyGroup();
                groupStarted = Date.now();
                if (this.step % config.checkpointEvery === 0 && this.step < this.totalSteps) await this.checkpoint(metrics);
            }
            // A checkpoint at the last step too: training a finished run further (resume with more epochs) continues
            // from exactly here, optimizer moments included.
            await this.checkpoint(metrics);
            metrics.close();
            const adapterPath = await this.saveAdapter(trainer);
            run.updateStatus({ state: "finished", step: this.step });
            return { kind: "finished", adapterPath, steps: this.step, finalTrainLoss: this.finalTrainLoss, ...this.valPart() };
        } catch (error) {
            metrics.close();
            const failure = describeFailure(error);
            // A diverged adapter is worse than none: on failure nothing is written over adapter.gguf.
            run.updateStatus({ state: "failed", step: this.step, error: failure });
            return { kind: "failed", steps: this.step, error: failure };
        }
    }

    /**
     * Once per run, after the first micro-batch: which backend trains and where the scheduler put the graph's nodes.
     * Every step has the same graph, so one report covers the run; a CPU node beside a GPU is an op the GPU backend
     * does not support, silently copied to the host every step, hence a warning.
     */
    private reportPlacement(trainer: Trainer): void {
        this.reportedPlacement = true;
        const log = this.options.events?.onLog;
        if (!log) return;
        let counts;
        try {
            counts = trainer.backendNodes();
        } catch (error) {
            // a diagnostic must never fail a run (e.g. an engine built before the node counts existed)
            log("warn", `graph placement unavailable: ${error instanceof Error ? error.message : String(error)}`);
            return;
        }
        const gpuPresent = counts.backends.some((b) => b.name !== "CPU");
        log("info", `training backend: ${describeBackend(this.options.engine.capabilities()).description}`);
        log(gpuPresent && cpuNodeCount(counts) > 0 ? "warn" : "info", formatNodeCounts(counts));
    }

    private valPart(): { finalValLoss?: number } {
        return this.finalValLoss === undefined ? {} : { finalValLoss: this.finalValLoss };
    }

    private async validationLoss(trainer: Trainer): Promise<number> {
        let weighted = 0;
        let count = 0;
        for (const batch of this.validationBatches) {
            const { loss, tokens } = await trainer.evalLoss(batch);
            weighted += loss * tokens;
            count += tokens;
        }
        return count > 0 ? weighted / count : NaN;
    }

    /** Checkpoints at the current optimizer step unless one exists already (cancel right after a periodic one). */
    private async checkpoint(metrics: MetricsWriter): Promise<void> {
        if (this.step === this.lastCheckpointStep || this.step === 0) return;
        const trainer = this.trainer!;
        // metrics.jsonl must hold every step up to a checkpoint before the checkpoint counts as complete.
        metrics.flush();
        const cursor = encodeCursor(this.cursor, this.group, this.options.config.sequenceLength);
        const path = await this.options.run.commitCheckpoint(this.step, (tmp) => trainer.saveCheckpoint(tmp, cursor), this.options.config.checkpointsToKeep);
        this.lastCheckpointStep = this.step;
        this.options.events?.onCheckpoint?.(this.step, path);
    }

    /**
     * adapter.gguf, atomically: the engine writes a temp file, the base's fingerprint is stamped into it, and only then
     * is it renamed into place, so no adapter of this run is ever seen without the record of its base.
     */
    private async saveAdapter(trainer: Trainer): Promise<string> {
        const fingerprint = this.fingerprint;
        if (!fingerprint) throw new Error("TrainingRun.saveAdapter() before start()");
        return this.options.run.commitAdapter(async (tmp) => {
            await trainer.saveAdapter(tmp);
            stampBaseFingerprint(tmp, fingerprint);
        });
    }

    private async stopCancelled(metrics: MetricsWriter): Promise<TrainingOutcome> {
        // The cursor only moves past a micro-batch the engine finished, and the engine's checkpoint holds the
        // gradients of a partly accumulated group (and the RNG state after it), so the cursor stays where it is:
        // moving it back to the group's start would train those micro-batches twice.
        await this.checkpoint(metrics);
        metrics.close();
        const adapterPath = await this.saveAdapter(this.trainer!);
        this.options.run.updateStatus({ state: "cancelled", step: this.step });
        return { kind: "cancelled", adapterPath, steps: this.step, finalTrainLoss: this.finalTrainLoss, ...this.valPart() };
    }

    dispose(): void {
        this.trainer?.dispose();
        this.trainer = undefined;
        this.model?.dispose();
        this.model = undefined;
    }
}

export function describeFailure(error: unknown): RunFailure {
    const engineError = error instanceof Error && "code" in error ? toEngineError(error) : undefined;
    if (engineError instanceof OutOfMemoryError) {
        return { code: "OUT_OF_MEMORY", message: engineError.message, hint: "Use a smaller sequenceLength (or a smaller preset), a smaller rank, quantizeBase q4_k_m, or a smaller base model; close other programs using the memory." };
    }
    if (engineError instanceof NonFiniteError) {
        return { code: "NON_FINITE_LOSS", message: engineError.message, hint: "Lower learningRate or gradClip, or check the data; the adapter was not written." };
    }
    if (engineError) return { code: `ENGINE_${engineError.code}`, message: engineError.message, hint: "See the LoRA Studio Sidecar output for details." };
    return { code: "TRAINING_ERROR", message: error instanceof Error ? error.message : String(error), hint: "See the LoRA Studio Sidecar output for details." };
}
