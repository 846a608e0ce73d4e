// The typed engine over the addon: argument checks with field-named messages, one job at a time per trainer
// (calls queue instead of failing with BUSY), disposal guards, and native errors mapped to typed classes.
import { availableParallelism } from "node:os";
import { EngineDisposedError, InvalidArgumentError, InvalidBatchError, toEngineError } from "./errors";
import { loadNativeBinding, type NativeBinding, type NativeModel, type NativeTrainer } from "./native";
import {
    ALL_TARGET_NAMES,
    type AdapterOptions, type BackendNodeCounts, type Capabilities, type Engine, type EngineModel, type LoadModelOptions, type MicroBatch, type ModelInfo,
    type NamedTensor, type OptimizerOptions, type QuantizeType, type StepResult, type Trainer
} from "./types";

const DEFAULT_N_CTX = 512;

function defaultThreads(): number {
    return Math.max(1, availableParallelism());
}

async function native<T>(call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (err) {
        throw toEngineError(err);
    }
}

function checkNumber(field: string, value: unknown, ok: (n: number) => boolean, rule: string): void {
    if (typeof value !== "number" || !Number.isFinite(value) || !ok(value)) {
        throw new InvalidArgumentError("INVALID_ARGUMENT", `${field} must be ${rule}, got ${JSON.stringify(value)}`);
    }
}

const isInt = (n: number): boolean => Number.isInteger(n);

export function checkAdapterOptions(a: AdapterOptions): void {
    checkNumber("adapter.rank", a.rank, (n) => isInt(n) && n >= 1, "an integer >= 1");
    checkNumber("adapter.alpha", a.alpha, (n) => n > 0, "a number > 0");
    checkNumber("adapter.dropout", a.dropout, (n) => n >= 0 && n < 1, "a number in [0, 1)");
    checkNumber("adapter.seed", a.seed, (n) => isInt(n) && n >= 0 && n <= Number.MAX_SAFE_INTEGER, "a non-negative integer");
    if (a.targetModules !== undefined) {
        if (!Array.isArray(a.targetModules) || a.targetModules.length === 0) {
            throw new InvalidArgumentError("INVALID_ARGUMENT", "adapter.targetModules must be a non-empty array (omit it for all seven modules)");
        }
        for (const m of a.targetModules) {
            if (!ALL_TARGET_NAMES.includes(m)) {
                throw new InvalidArgumentError("INVALID_ARGUMENT", `adapter.targetModules: unknown module ${JSON.stringify(m)} (use ${ALL_TARGET_NAMES.join(", ")})`);
            }
        }
    }
}

export function checkOptimizerOptions(o: OptimizerOptions): void {
    checkNumber("optimizer.lr", o.lr, (n) => n > 0, "a number > 0");
    checkNumber("optimizer.beta1", o.beta1, (n) => n >= 0 && n < 1, "in [0, 1)");
    checkNumber("optimizer.beta2", o.beta2, (n) => n >= 0 && n < 1, "in [0, 1)");
    checkNumber("optimizer.eps", o.eps, (n) => n > 0, "a number > 0");
    checkNumber("optimizer.weightDecay", o.weightDecay, (n) => n >= 0, "a number >= 0");
    checkNumber("optimizer.gradClip", o.gradClip, (n) => n >= 0, "a number >= 0 (0 = off)");
    checkNumber("optimizer.warmupSteps", o.warmupSteps, (n) => isInt(n) && n >= 0, "an integer >= 0");
    checkNumber("optimizer.totalSteps", o.totalSteps, (n) => isInt(n) && n >= 1, "an integer >= 1");
    checkNumber("optimizer.gradAccum", o.gradAccum, (n) => isInt(n) && n >= 1, "an integer >= 1");
    if (!["cosine", "linear", "constant"].includes(o.schedule)) {
        throw new InvalidArgumentError("INVALID_ARGUMENT", `optimizer.schedule must be cosine, linear or constant, got ${JSON.stringify(o.schedule)}`);
    }
}

function batchArgs(batch: MicroBatch): [Int32Array, Int32Array, Int32Array, Int32Array] {
    for (const field of ["tokens", "positions", "seqIds", "labels"] as const) {
        if (!(batch?.[field] instanceof Int32Array)) {
            throw new InvalidBatchError("INVALID_BATCH", `batch.${field} must be an Int32Array`);
        }
    }
    return [batch.tokens, batch.positions, batch.seqIds, batch.labels];
}

class EngineTrainer implements Trainer {
    private tail: Promise<unknown> = Promise.resolve();
    private disposed = false;

    constructor(private readonly handle: NativeTrainer) {}

    /** Runs jobs one after another: the addon runs one job per trainer at a time. */
    private enqueue<T>(job: () => Promise<T>): Promise<T> {
        const result = this.tail.then(() => {
            if (this.disposed) throw new EngineDisposedError("DISPOSED", "the trainer was disposed");
            return native(job);
        });
        this.tail = result.catch(() => undefined);
        return result;
    }

    private async idle(): Promise<void> {
        await this.tail;
    }

    async step(batch: MicroBatch): Promise<StepResult> {
        const args = batchArgs(batch); // a bad batch rejects, it never throws synchronously
        return this.enqueue(() => this.handle.step(...args));
    }

    async evalLoss(batch: MicroBatch): Promise<{ loss: number; tokens: number }> {
        const args = batchArgs(batch); // a bad batch rejects, it never throws synchronously
        return this.enqueue(() => this.handle.evalLoss(...args));
    }

    async evalLogits(batch: MicroBatch): Promise<Float32Array> {
        const args = batchArgs(batch); // a bad batch rejects, it never throws synchronously
        return this.enqueue(() => this.handle.evalLogits(...args));
    }

    async computeGradients(batch: MicroBatch): Promise<{ loss: number; grads: Record<string, NamedTensor> }> {
        const args = batchArgs(batch); // a bad batch rejects, it never throws synchronously
        return this.enqueue(() => this.handle.computeGradients(...args));
    }

    adapterTensors(): Record<string, NamedTensor> {
        if (this.disposed) throw new EngineDisposedError("DISPOSED", "the trainer was disposed");
        try {
            return this.handle.adapterTensors();
        } catch (err) {
            throw toEngineError(err);
        }
    }

    saveAdapter(path: string): Promise<void> {
        return this.enqueue(() => this.handle.saveAdapter(path));
    }

    saveCheckpoint(path: string, dataCursor: string): Promise<void> {
        return this.enqueue(() => this.handle.saveCheckpoint(path, dataCursor));
    }

    loadCheckpoint(path: string): Promise<{ step: number; dataCursor: string }> {
        return this.enqueue(() => this.handle.loadCheckpoint(path));
    }

    cancel(): void {
        if (!this.disposed) this.handle.cancel();
    }

    memory(): { rssBytes: number; engineBytes: number } {
        return { rssBytes: process.memoryUsage().rss, engineBytes: this.disposed ? 0 : this.handle.engineBytes() };
    }

    backendNodes(): BackendNodeCounts {
        if (this.disposed) throw new EngineDisposedError("DISPOSED", "the trainer was disposed");
        try {
            return this.handle.backendNodes();
        } catch (err) {
            throw toEngineError(err);
        }
    }

    dispose(): void {
        if (this.disposed) return;
        this.disposed = true;
        // a running job ends within one micro-batch; the addon frees the trainer when it does
        this.handle.dispose();
        void this.idle();
    }
}

class EngineModelImpl implements EngineModel {
    readonly info: ModelInfo;
    private disposed = false;

    constructor(private readonly handle: NativeModel) {
        const { nBytes: _nBytes, ...info } = handle.info();
        this.info = info;
    }

    async createTrainer(adapter: AdapterOptions, optimizer: OptimizerOptions): Promise<Trainer> {
        if (this.disposed) throw new EngineDisposedError("DISPOSED", "the model was disposed");
        checkAdapterOptions(adapter);
        checkOptimizerOptions(optimizer);
        const handle = await native(() => this.handle.createTrainer({ ...adapter }, { ...optimizer }));
        return new EngineTrainer(handle);
    }

    dispose(): void {
        if (this.disposed) return;
        this.disposed = true;
        this.handle.dispose();
    }
}

class EngineImpl implements Engine {
    readonly version: string;

    constructor(private readonly binding: NativeBinding) {
        this.version = binding.version;
    }

    capabilities(): Capabilities {
        return this.binding.capabilities();
    }

    async loadModel(path: string, opts: LoadModelOptions = {}): Promise<EngineModel> {
        const threads = opts.threads ?? defaultThreads();
        const nCtx = opts.nCtx ?? DEFAULT_N_CTX;
        if (typeof path !== "string" || path.length === 0) throw new InvalidArgumentError("INVALID_ARGUMENT", "loadModel: path must be a non-empty string");
        checkNumber("loadModel opts.threads", threads, (n) => isInt(n) && n >= 1, "an integer >= 1");
        checkNumber("loadModel opts.nCtx", nCtx, (n) => isInt(n) && n >= 1 && n <= 65536, "an integer in [1, 65536]");
        const device = opts.device ?? "auto";
        if (device !== "auto" && device !== "cpu") throw new InvalidArgumentError("INVALID_ARGUMENT", `loadModel opts.device must be "auto" or "cpu", got ${JSON.stringify(device)}`);
        const handle = await native(() => this.binding.loadModel(path, threads, nCtx, device === "auto"));
        return new EngineModelImpl(handle);
    }

    async quantizeModel(inPath: string, outPath: string, type: QuantizeType): Promise<void> {
        if (!["q4_0", "q4_k_m", "q8_0"].includes(type)) {
            throw new InvalidArgumentError("INVALID_ARGUMENT", `quantizeModel: type must be q4_0, q4_k_m or q8_0, got ${JSON.stringify(type)}`);
        }
        await native(() => this.binding.quantizeModel(inPath, outPath, type, defaultThreads()));
    }
}

let engine: Engine | undefined;

/** Loads the native engine once. Rejects with EngineUnavailableError when it is not built. */
export async function loadEngine(): Promise<Engine> {
    engine ??= new EngineImpl(loadNativeBinding());
    return engine;
}
