// The engine's public surface: what the sidecar's trainer, the oracle tests and the benchmark program against.
// Implemented by ./engine.ts over the N-API addon (sidecar/native/); shapes are documented where they matter.

/**
 * One packed micro-batch. Row i is token `tokens[i]` at `positions[i]` of sequence `seqIds[i]`;
 * `labels[i]` is the target token for the logits at row i, -1 = masked (no loss, no gradient).
 * Sequences never attend to each other; positions of one sequence are consecutive.
 */
export interface MicroBatch {
    tokens: Int32Array;
    positions: Int32Array;
    seqIds: Int32Array;
    labels: Int32Array;
}

/**
 * AdamW as torch.optim.AdamW (decoupled weight decay) after clip_grad_norm_ over all adapter tensors.
 * The learning rate of update s (0-based) is `learningRateAt(options, s)` (./schedule.ts): linear warmup over
 * `warmupSteps`, then the schedule over the remaining `totalSteps - warmupSteps`. With `gradAccum` = k, every
 * k-th `step()` applies an update with the mean of the k micro-batch gradients.
 */
export interface OptimizerOptions {
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weightDecay: number;
    /** Maximum global gradient norm; 0 = off. */
    gradClip: number;
    schedule: "cosine" | "linear" | "constant";
    warmupSteps: number;
    totalSteps: number;
    gradAccum: number;
}

export type TargetModule = "attn_q" | "attn_k" | "attn_v" | "attn_o" | "ffn_gate" | "ffn_up" | "ffn_down";
export const ALL_TARGET_MODULES: readonly TargetModule[] = ["attn_q", "attn_k", "attn_v", "attn_o", "ffn_gate", "ffn_up", "ffn_down"];
/** Phi-3's fused projections by name; valid only on models that have them (architectures.ts). */
export type FusedTargetName = "attn_qkv" | "ffn_gate_up";
/** A LoRA target as a run config or the engine takes it: the seven projections, or a fused name. */
export type TargetName = TargetModule | FusedTargetName;
export const ALL_TARGET_NAMES: readonly TargetName[] = [...ALL_TARGET_MODULES, "attn_qkv", "ffn_gate_up"];

/** The LoRA delta of a weight W [n_out, n_in] is (alpha / rank) · B · A with A [rank, n_in] and B [n_out, rank]. */
export interface AdapterOptions {
    rank: number;
    alpha: number;
    /** Dropout on the LoRA input during step() only (masks from the seed and the step; evaluations never drop). */
    dropout: number;
    /** Default: all seven. On Phi-3 any of q/k/v selects the fused attn_qkv adapter, gate or up the fused ffn_up. */
    targetModules?: TargetName[];
    /** A ~ U(±1/√n_in) from this seed, B = 0. */
    seed: number;
}

export interface StepResult {
    /** Mean cross-entropy over the labelled rows of this micro-batch. */
    loss: number;
    /** Global gradient norm before clipping, when this call applied an optimizer update; otherwise null. */
    gradNorm: number | null;
    tokens: number;
    trainedTokens: number;
    /** Optimizer updates applied so far. */
    optimizerStep: number;
    /** The learning rate of the update this call applied, or of the next update. */
    lr: number;
    appliedUpdate: boolean;
}

export interface DeviceInfo {
    name: string;
    freeBytes: number;
    totalBytes: number;
}

export interface Capabilities {
    cpu: true;
    /** A CUDA device is usable (built with CUDA, driver present, at least one device). */
    cuda: boolean;
    devices: DeviceInfo[];
    /** The addon was built with the CUDA backend (LORA_STUDIO_CUDA=1). */
    cudaBuilt: boolean;
    /** The NVIDIA driver library (libcuda.so.1) can be loaded on this machine. */
    nvidiaDriver: boolean;
}

/**
 * Where ggml's scheduler placed the nodes of the graph a trainer evaluated last (for step(): forward, loss and
 * backward). The graph's shape depends only on the model and the micro-batch size, so one step tells for all.
 */
export interface BackendNodeCounts {
    /** Every backend of the scheduler in priority order (GPU first, the CPU last), including those with 0 nodes. */
    backends: { name: string; nodes: number }[];
    /**
     * The nodes on the CPU grouped by op signature, most frequent first: "OUT_PROD(q4_K,f32)", "ROPE_BACK(f32:nc,i32)"
     * (":nc" = a non-contiguous source). On a CPU-only engine that is every node; with a GPU, each is a fallback.
     */
    cpuOps: { op: string; nodes: number }[];
}

export type QuantizeType = "q4_0" | "q4_k_m" | "q8_0";

export interface LoadModelOptions {
    threads?: number;
    /** The largest micro-batch, in tokens (default 512). */
    nCtx?: number;
    /** "auto" (default): the first GPU when the engine has CUDA and finds one, else the CPU. "cpu": never a GPU. */
    device?: "auto" | "cpu";
}

export interface Engine {
    version: string;
    capabilities(): Capabilities;
    loadModel(path: string, opts?: LoadModelOptions): Promise<EngineModel>;
    /** Writes atomically (temp file + rename). */
    quantizeModel(inPath: string, outPath: string, type: QuantizeType): Promise<void>;
}

export interface ModelInfo {
    arch: string;
    nLayer: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nVocab: number;
    nParams: number;
    /** f32, f16, bf16, q8_0, q4_0, q4_k_m, … */
    fileType: string;
}

export interface EngineModel {
    info: ModelInfo;
    createTrainer(adapter: AdapterOptions, optimizer: OptimizerOptions): Promise<Trainer>;
    /** Idempotent; the base is freed once its trainers are disposed too. */
    dispose(): void;
}

/** A tensor in numpy/PyTorch order (row-major), e.g. lora_a: [rank, n_in], lora_b: [n_out, rank]. */
export interface NamedTensor {
    shape: number[];
    data: Float32Array;
}

export interface Trainer {
    step(batch: MicroBatch): Promise<StepResult>;
    evalLoss(batch: MicroBatch): Promise<{ loss: number; tokens: number }>;
    /** n_tokens × n_vocab, row-major. */
    evalLogits(batch: MicroBatch): Promise<Float32Array>;
    /** No update. Names are the GGUF adapter tensor names (blk.N.attn_q.weight.lora_a, …). */
    computeGradients(batch: MicroBatch): Promise<{ loss: number; grads: Record<string, NamedTensor> }>;
    adapterTensors(): Record<string, NamedTensor>;
    /** A standard GGUF LoRA adapter, written atomically. */
    saveAdapter(path: string): Promise<void>;
    /** Adapter, AdamW moments, step, RNG state and the caller's opaque data cursor, written atomically. */
    saveCheckpoint(path: string, dataCursor: string): Promise<void>;
    loadCheckpoint(path: string): Promise<{ step: number; dataCursor: string }>;
    /** The running or next job rejects with EngineCancelledError within one micro-batch. */
    cancel(): void;
    memory(): { rssBytes: number; engineBytes: number };
    /** Node placement of the last evaluated graph; empty lists before the first evaluation. */
    backendNodes(): BackendNodeCounts;
    dispose(): void;
}
