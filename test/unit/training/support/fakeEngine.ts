// FAKE, by necessity: the unit tier loads no native code, so the run service's unit tests get this stand-in for the
// engine (sidecar/src/engine). It keeps the contract the trainer relies on: an optimizer update every gradAccum
// micro-batches, checkpoints that restore the step and the caller's data cursor, an adapter file, cancel within one
// micro-batch. The loss is a made-up, falling number; the adapter is a real GGUF LoRA file with zero weights. Out-of-memory failures, failing loads and held loads can be
// scripted. The real engine runs in the integration tier (test/integration/train-*.test.ts).
import { readFileSync, writeFileSync } from "node:fs";
import {
    EngineCancelledError, InvalidModelError, OutOfMemoryError, type Engine, type EngineModel, type MicroBatch, type OptimizerOptions, type StepResult, type Trainer
} from "../../../../sidecar/src/engine";
import { GgmlType, writeGguf } from "../../../../sidecar/src/gguf";

export interface FakeEngineScript {
    /** Loads (1-based) that fail with OutOfMemoryError while nCtx is above this many tokens. */
    loadOutOfMemoryAbove?: number;
    /** From this optimizer step on, micro-batches longer than `stepOutOfMemoryAbove` fail with OutOfMemoryError. */
    stepOutOfMemoryAt?: number;
    stepOutOfMemoryAbove?: number;
    /** Every load fails with this (not memory) error. */
    loadError?: string;
}

export class FakeEngine implements Engine {
    readonly version = "fake";
    loads = 0;
    private held: { arrived(): void; gate: Promise<void> } | undefined;

    constructor(readonly script: FakeEngineScript = {}) {}

    capabilities(): ReturnType<Engine["capabilities"]> {
        return { cpu: true, cuda: false, devices: [], cudaBuilt: false, nvidiaDriver: false };
    }

    async quantizeModel(): Promise<void> {
        throw new Error("FakeEngine does not quantize");
    }

    /** Holds the next load until release(): the window between two attempts of a run. */
    holdNextLoad(): { reached: Promise<void>; release(): void } {
        let arrived!: () => void;
        let release!: () => void;
        const reached = new Promise<void>((settle) => (arrived = settle));
        const gate = new Promise<void>((settle) => (release = settle));
        this.held = { arrived, gate };
        return { reached, release };
    }

    async loadModel(_path: string, options: { nCtx?: number } = {}): Promise<EngineModel> {
        this.loads++;
        const held = this.held;
        this.held = undefined;
        if (held) {
            held.arrived();
            await held.gate;
        }
        if (this.script.loadError) throw new InvalidModelError("INVALID_MODEL", this.script.loadError);
        const nCtx = options.nCtx ?? 512;
        if (this.script.loadOutOfMemoryAbove !== undefined && nCtx > this.script.loadOutOfMemoryAbove) {
            throw new OutOfMemoryError("OUT_OF_MEMORY", `fake: no memory for ${nCtx}-token micro-batches`);
        }
        const script = this.script;
        return {
            info: { arch: "llama", nLayer: 1, nEmbd: 16, nHead: 1, nHeadKv: 1, nFf: 16, nVocab: 256, nParams: 1, fileType: "f32" } as EngineModel["info"],
            createTrainer: async (_adapter, optimizer) => new FakeTrainer(optimizer, script),
            dispose: () => undefined
        };
    }
}

class FakeTrainer implements Trainer {
    private step_ = 0;
    private micro = 0;
    private cancelled = false;

    constructor(private readonly optimizer: OptimizerOptions, private readonly script: FakeEngineScript) {}

    async step(batch: MicroBatch): Promise<StepResult> {
        // A turn of the event loop per micro-batch, as the real engine's worker thread gives.
        await new Promise((settle) => setImmediate(settle));
        if (this.cancelled) {
            this.cancelled = false;
            throw new EngineCancelledError();
        }
        const { stepOutOfMemoryAt, stepOutOfMemoryAbove } = this.script;
        if (stepOutOfMemoryAt !== undefined && this.step_ + 1 >= stepOutOfMemoryAt && batch.tokens.length > (stepOutOfMemoryAbove ?? 0)) {
            throw new OutOfMemoryError("OUT_OF_MEMORY", `fake: out of memory at step ${this.step_ + 1} with ${batch.tokens.length}-token micro-batches`);
        }
        this.micro++;
        const applied = this.micro % this.optimizer.gradAccum === 0;
        if (applied) this.step_++;
        const tokens = batch.labels.filter((l) => l >= 0).length;
        return { loss: 5 / (1 + this.step_), gradNorm: applied ? 1 : null, tokens, trainedTokens: tokens, optimizerStep: this.step_, lr: this.optimizer.lr, appliedUpdate: applied };
    }

    async evalLoss(batch: MicroBatch): Promise<{ loss: number; tokens: number }> {
        return { loss: 4 / (1 + this.step_), tokens: batch.labels.filter((l) => l >= 0).length };
    }

    async evalLogits(): Promise<Float32Array> {
        return new Float32Array();
    }

    async computeGradients(): Promise<{ loss: number; grads: Record<string, never> }> {
        return { loss: 0, grads: {} };
    }

    adapterTensors(): Record<string, never> {
        return {};
    }

    /** A GGUF LoRA adapter with one zero pair (what the run saves, and stamps with its base's fingerprint, is real GGUF). */
    async saveAdapter(path: string): Promise<void> {
        writeGguf(path, {
            kv: [
                ["general.architecture", { type: "string", value: "llama" }],
                ["general.type", { type: "string", value: "adapter" }],
                ["adapter.type", { type: "string", value: "lora" }],
                ["fake.step", { type: "u32", value: this.step_ }]
            ],
            tensors: [
                { name: "blk.0.attn_q.weight.lora_a", dims: [16, 1], type: GgmlType.F32, data: new Uint8Array(16 * 4) },
                { name: "blk.0.attn_q.weight.lora_b", dims: [1, 16], type: GgmlType.F32, data: new Uint8Array(16 * 4) }
            ]
        });
    }

    async saveCheckpoint(path: string, dataCursor: string): Promise<void> {
        writeFileSync(path, JSON.stringify({ step: this.step_, micro: this.micro, dataCursor }));
    }

    async loadCheckpoint(path: string): Promise<{ step: number; dataCursor: string }> {
        const saved = JSON.parse(readFileSync(path, "utf8")) as { step: number; micro: number; dataCursor: string };
        this.step_ = saved.step;
        this.micro = saved.micro;
        return { step: saved.step, dataCursor: saved.dataCursor };
    }

    cancel(): void {
        this.cancelled = true;
    }

    memory(): { rssBytes: number; engineBytes: number } {
        return { rssBytes: 0, engineBytes: 0 };
    }

    backendNodes(): ReturnType<Trainer["backendNodes"]> {
        return { backends: [{ name: "CPU", nodes: 1 }], cpuOps: [] };
    }

    dispose(): void {}
}
