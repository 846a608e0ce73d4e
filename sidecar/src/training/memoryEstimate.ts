// Pre-flight memory check: how many bytes a training run of the engine needs, from the base model's shape (read
// from its GGUF header, no tensor data) and the run's rank, targets and sequence length, against what the device
// has free. Used by run/start (refuse, or shrink the micro-batch) and run/estimate (the wizard's preset list).
//
// What the engine holds (sidecar/native/addon, patches 0001–0004), and the term that models it:
// - the base weights, as stored (mmap'd on the CPU; quantizeBase shrinks an F32/F16/BF16 base first). The token
//   embeddings count on the CPU only: llama.cpp prefetches the whole mapped file there, and keeps them in host
//   memory, not VRAM, under CUDA                                                                          → weights
// - per LoRA parameter 6 f32 copies: device tensor, host value, AdamW m and v, accumulator, gradient    → adapter
// - F32 copies of a frozen matrix that the backward pass builds (patch 0001 dequantizes and transposes each
//   weight once per step): the graph allocator frees each copy right after its MUL_MAT, so only the largest one
//   counts, twice (dequantized + transposed): the n_embd × n_ff FFN matrix, or a chunk of ≈ 2·n_embd rows of the
//   n_vocab-row output projection, which patch 0001 splits (before it did, that one matrix alone was 2 × V × n_embd
//   f32, the bulk of what looked like "0.8 × every layer matrix")                                   → weightScratch
// - every activation of the micro-batch, kept for the backward pass (no gradient checkpointing), per token
//   ≈ 0.56 × n_layer × (12·n_embd + 4·n_ff) f32 plus ≈ 4.7 × n_vocab f32 of logits, labels and their grads
//                                                                                                      → activations
// - attention scores: flash attention has no backward pass, so n_head × L × L f32 per layer           → attention
// - the Node process, the addon and llama.cpp's own buffers (≈ 73 MiB)                                 → runtime
// Shape legend: L = sequenceLength (every micro-batch is one row padded to L), V = n_vocab.
//
// Calibration (bench/memory-estimate.ts; peak RSS of one training step on the CPU, 2 threads, rank 8, all seven
// targets) of tiny (4×256, 20M parameters), bench (8×512, 58M) and wide (8×1024, 160M) models, V 32064, F32 and
// Q4_0, L 64…1024: the estimate is within ±1.2 % of all nine points (2026-11-22, after patch 0001 began chunking the
// output projection; runtime, activation, logit and attention terms fitted by least squares). Those are also the
// points the coefficients were fitted to, on models up to 160M parameters: for billion-parameter models the
// estimate extrapolates the same terms, so treat it as ±25 % there (hence USABLE_FRACTION).

import { ggmlTensorBytes, GgmlType, openModelFile, type GgufFile } from "../gguf";
import { ARCHITECTURES, isTrainableArch } from "../engine/architectures";
import { ALL_TARGET_MODULES, type TargetModule, type TargetName } from "../engine/types";

const MiB = 2 ** 20;
const F32 = 4;

/** Fitted: resident bytes of the sidecar, the addon and llama.cpp that do not grow with the model. */
export const RUNTIME_BYTES = 73 * MiB;
/** Assumed (not measurable here): the CUDA context and cuBLAS workspace per device. */
export const CUDA_CONTEXT_BYTES = 400 * MiB;
/** F32 copies of the largest frozen matrix (chunk) alive at once in the backward pass: dequantized and transposed. */
const WEIGHT_SCRATCH_COPIES = 2;
const ADAPTER_COPIES = 6;
const LAYER_ACTIVATION_FACTOR = 0.564;
const LOGIT_COPIES = 4.74;
const ATTENTION_FACTOR = 1.29;
/** The estimate is compared against this share of the free memory: the rest absorbs the estimate's error. */
export const USABLE_FRACTION = 0.9;

/** GGUF tensor of each LoRA target on architectures outside engine/architectures.ts (llama-style names). */
const SEPARATE_TENSOR: Record<TargetModule, string> = {
    attn_q: "attn_q", attn_k: "attn_k", attn_v: "attn_v", attn_o: "attn_output", ffn_gate: "ffn_gate", ffn_up: "ffn_up", ffn_down: "ffn_down"
};

/** The GGUF tensor (`blk.N.<tensor>.weight`) a target selects on `arch`: on Phi-3, q/k/v all select attn_qkv. */
function targetTensor(arch: string, target: TargetModule): string {
    return isTrainableArch(arch) ? ARCHITECTURES[arch].targetTensors[target] : SEPARATE_TENSOR[target];
}

/** A fused target name stands for its first member, which selects the same fused tensor. */
function representative(target: TargetName): TargetModule {
    return target === "attn_qkv" ? "attn_q" : target === "ffn_gate_up" ? "ffn_gate" : target;
}

/** Everything the estimate needs from a base model. */
export interface ModelShape {
    arch: string;
    nLayer: number;
    nEmbd: number;
    nFf: number;
    nHead: number;
    nVocab: number;
    /** Bytes of all tensors as stored, except token_embd.weight (see the header). */
    weightBytes: number;
    /** Bytes of token_embd.weight as stored; resident on the CPU only (see the header). */
    tokenEmbdBytes?: number;
    /** Bytes of the tensors a quantizeBase setting would quantize (2-D F32/F16/BF16), and their element count. */
    floatMatrixBytes: number;
    floatMatrixElements: number;
    /** Elements of the layer (blk.*) matrices. */
    layerMatrixElements: number;
    /** Σ over layers of n_in + n_out of each target's weight (the fused one on Phi-3): LoRA parameters per unit of rank. */
    loraDims: Partial<Record<TargetModule, number>>;
}

export class ModelShapeError extends Error {
    constructor(readonly path: string, detail: string) {
        super(`${path}: cannot estimate memory: ${detail}`);
        this.name = "ModelShapeError";
    }
}

function kvNumberOr(file: GgufFile, key: string): number | undefined {
    const v = file.kv.get(key);
    if (!v) return undefined;
    if (v.type === "u64" || v.type === "i64") return Number(v.value);
    if (typeof v.value === "number") return v.value;
    // Some architectures store a per-layer array (e.g. head counts); the largest entry bounds the memory.
    if (v.type === "array" && v.value.length > 0) return Math.max(...(v.value as unknown[]).map(Number));
    return undefined;
}

/** Reads a base model's shape from its GGUF header (no tensor data is read). */
export function modelShapeFromGguf(file: GgufFile): ModelShape {
    const archKv = file.kv.get("general.architecture");
    if (!archKv || archKv.type !== "string") throw new ModelShapeError(file.path, "no general.architecture string");
    const arch = archKv.value;
    const need = (key: string): number => {
        const n = kvNumberOr(file, `${arch}.${key}`);
        if (n === undefined || !(n > 0)) throw new ModelShapeError(file.path, `key '${arch}.${key}' is missing`);
        return n;
    };
    const tokens = file.kv.get("tokenizer.ggml.tokens");
    const nVocab = kvNumberOr(file, `${arch}.vocab_size`) ?? (tokens?.type === "array" ? tokens.value.length : undefined);
    if (nVocab === undefined) throw new ModelShapeError(file.path, "neither a vocab_size key nor tokenizer.ggml.tokens");

    let weightBytes = 0;
    let tokenEmbdBytes = 0;
    let floatMatrixBytes = 0;
    let floatMatrixElements = 0;
    let layerMatrixElements = 0;
    const loraDims: Partial<Record<TargetModule, number>> = {};
    const floatTypes = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);
    for (const t of file.tensors) {
        const bytes = t.byteLength ?? ggmlTensorBytes(t.type, t.dims);
        if (bytes === undefined) throw new ModelShapeError(file.path, `tensor '${t.name}' has a type this reader cannot size (${t.type})`);
        const elements = t.dims.reduce((a, b) => a * b, 1);
        const matrix = t.dims.filter((d) => d > 1).length >= 2;
        if (t.name === "token_embd.weight") {
            tokenEmbdBytes = bytes;
            continue;
        }
        weightBytes += bytes;
        if (matrix && floatTypes.has(t.type)) {
            floatMatrixBytes += bytes;
            floatMatrixElements += elements;
        }
        if (matrix && t.name.startsWith("blk.")) layerMatrixElements += elements;
        for (const target of ALL_TARGET_MODULES) {
            if (t.name.startsWith("blk.") && t.name.endsWith(`.${targetTensor(arch, target)}.weight`) && t.dims.length === 2) {
                loraDims[target] = (loraDims[target] ?? 0) + t.dims[0]! + t.dims[1]!;
            }
        }
    }
    return {
        arch,
        nLayer: need("block_count"),
        nEmbd: need("embedding_length"),
        nFf: need("feed_forward_length"),
        nHead: need("attention.head_count"),
        nVocab,
        weightBytes,
        tokenEmbdBytes,
        floatMatrixBytes,
        floatMatrixElements,
        layerMatrixElements,
        loraDims
    };
}

/**
 * The shape of the base model at `path`, read through the load guard (gguf/openModelFile.ts) like every other model
 * load: a damaged or missing file throws ModelFileError naming the file, the byte and the cause. The tokenizer's
 * arrays are kept, since a model without a vocab_size key is sized by its token list.
 */
export function readModelShape(path: string): ModelShape {
    return modelShapeFromGguf(openModelFile(path));
}

/**
 * Elements of the largest F32 copy the backward pass makes of one frozen matrix: an n_embd × n_ff FFN matrix, or one
 * chunk of the output projection, whose n_vocab rows patch 0001 splits into equal chunks of at most 2·n_embd rows
 * when it is more than 4 times as tall as wide (the same rule as the patch).
 */
export function largestWeightCopyElements(shape: Pick<ModelShape, "nEmbd" | "nFf" | "nVocab">): number {
    const n = shape.nEmbd;
    const m = shape.nVocab;
    const chunks = m > 4 * n ? Math.ceil(m / (2 * n)) : 1;
    return Math.max(shape.nEmbd * shape.nFf, n * Math.ceil(m / chunks));
}

/** Bits per weight of each quantizeBase type (q4_k_m mixes Q4_K with Q6_K for some tensors). */
const QUANT_BITS: Record<"q4_0" | "q4_k_m" | "q8_0", number> = { q4_0: 4.5, q4_k_m: 4.85, q8_0: 8.5 };

export interface EstimateSettings {
    rank: number;
    targetModules: readonly TargetName[];
    sequenceLength: number;
    quantizeBase: "none" | "q4_0" | "q4_k_m" | "q8_0";
}

export interface MemoryEstimate {
    totalBytes: number;
    parts: {
        runtime: number;
        weights: number;
        weightScratch: number;
        adapter: number;
        activations: number;
        attention: number;
    };
}

export type MemoryDevice = "cpu" | "cuda";

/** Bytes one training process needs for `settings` on `shape` (see the header for each term). */
export function estimateTrainingMemory(shape: ModelShape, settings: EstimateSettings, device: MemoryDevice = "cpu"): MemoryEstimate {
    const L = settings.sequenceLength;
    const weights = settings.quantizeBase === "none" || shape.floatMatrixElements === 0
        ? shape.weightBytes
        : shape.weightBytes - shape.floatMatrixBytes + (shape.floatMatrixElements * QUANT_BITS[settings.quantizeBase]) / 8;
    const tokenEmbd = device === "cuda" || !shape.tokenEmbdBytes ? 0
        : settings.quantizeBase === "none" ? shape.tokenEmbdBytes
        : Math.min(shape.tokenEmbdBytes, (shape.nVocab * shape.nEmbd * QUANT_BITS[settings.quantizeBase]) / 8);
    // Targets that select one fused tensor (Phi-3's q, k and v) train one adapter: count each tensor once.
    const tensors = new Map(settings.targetModules.map((t) => [targetTensor(shape.arch, representative(t)), representative(t)]));
    const loraParams = [...tensors.values()].reduce((n, t) => n + settings.rank * (shape.loraDims[t] ?? 0), 0);
    const perLayerToken = shape.nLayer * (12 * shape.nEmbd + 4 * shape.nFf) * F32;
    const parts = {
        runtime: RUNTIME_BYTES + (device === "cuda" ? CUDA_CONTEXT_BYTES : 0),
        weights: Math.round(weights + tokenEmbd),
        weightScratch: WEIGHT_SCRATCH_COPIES * largestWeightCopyElements(shape) * F32,
        adapter: ADAPTER_COPIES * loraParams * F32,
        activations: Math.round(L * (LAYER_ACTIVATION_FACTOR * perLayerToken + LOGIT_COPIES * shape.nVocab * F32)),
        attention: Math.round(ATTENTION_FACTOR * shape.nLayer * shape.nHead * L * L * F32)
    };
    const totalBytes = Object.values(parts).reduce((a, b) => a + b, 0);
    return { totalBytes, parts };
}

/** Where a run would train and how much memory it may use there. */
export interface MemoryBudget {
    device: MemoryDevice;
    /** e.g. "NVIDIA GeForce RTX 3060" or "CPU (RAM)". */
    deviceName: string;
    availableBytes: number;
}

/** The budget from initialize's capabilities: the first CUDA device's free VRAM, else free RAM. */
export function memoryBudget(capabilities: { cuda: boolean; devices: Array<{ name: string; freeBytes: number }> }, freeRamBytes: number): MemoryBudget {
    const gpu = capabilities.cuda ? capabilities.devices[0] : undefined;
    if (gpu) return { device: "cuda", deviceName: gpu.name, availableBytes: gpu.freeBytes };
    return { device: "cpu", deviceName: "CPU (RAM)", availableBytes: freeRamBytes };
}

export function formatGiB(bytes: number): string {
    return `${(bytes / 2 ** 30).toFixed(bytes < 10 * 2 ** 30 ? 2 : 1)} GiB`;
}

export interface FitRequest {
    shape: ModelShape;
    settings: EstimateSettings;
    gradAccum: number;
    budget: MemoryBudget;
    /**
     * The shortest row the data allows: halving below the longest training sequence would drop or cut examples,
     * which would change what is trained, so the micro-batch never shrinks below it.
     */
    minSequenceLength: number;
}

export type FitDecision =
    | { kind: "fits"; estimate: MemoryEstimate; sequenceLength: number; gradAccum: number }
    | { kind: "shrunk"; estimate: MemoryEstimate; original: MemoryEstimate; sequenceLength: number; gradAccum: number; message: string }
    | { kind: "refused"; estimate: MemoryEstimate; message: string; hint: string };

/** Smallest row the engine accepts (schemas/run-config.schema.json's minimum). */
export const MIN_SEQUENCE_LENGTH = 16;

/**
 * Fits the run into the budget: as configured when it fits, else with the micro-batch halved (sequenceLength / 2,
 * gradAccum × 2: the same tokens per optimizer step) as often as needed and allowed, else refused with what to do.
 */
export function planMemoryFit(request: FitRequest): FitDecision {
    const { shape, settings, budget } = request;
    const usable = budget.availableBytes * USABLE_FRACTION;
    const original = estimateTrainingMemory(shape, settings, budget.device);
    if (original.totalBytes <= usable) return { kind: "fits", estimate: original, sequenceLength: settings.sequenceLength, gradAccum: request.gradAccum };
    const floor = Math.max(MIN_SEQUENCE_LENGTH, request.minSequenceLength);
    let sequenceLength = settings.sequenceLength;
    let gradAccum = request.gradAccum;
    while (Math.floor(sequenceLength / 2) >= floor) {
        sequenceLength = Math.floor(sequenceLength / 2);
        gradAccum *= 2;
        const estimate = estimateTrainingMemory(shape, { ...settings, sequenceLength }, budget.device);
        if (estimate.totalBytes <= usable) {
            return {
                kind: "shrunk", estimate, original, sequenceLength, gradAccum,
                message: `the run needs about ${formatGiB(original.totalBytes)} with sequenceLength ${settings.sequenceLength} but ${budget.deviceName} has ` +
                    `${formatGiB(budget.availableBytes)} free; training with sequenceLength ${sequenceLength} and gradAccum ${gradAccum} instead ` +
                    `(about ${formatGiB(estimate.totalBytes)}; the same tokens per optimizer step)`
            };
        }
    }
    const smallest = estimateTrainingMemory(shape, { ...settings, sequenceLength }, budget.device);
    const fixedBytes = smallest.totalBytes - smallest.parts.activations - smallest.parts.attention;
    const hint = fixedBytes > usable
        ? `The model itself needs about ${formatGiB(fixedBytes)}: ${settings.quantizeBase === "none" ? "set quantizeBase to q4_k_m, or " : ""}use a smaller base model` +
            `${budget.device === "cuda" ? " or a larger GPU" : ", or close other programs"}.`
        : `Use the ${suggestPreset(budget)} preset, a smaller sequenceLength (examples longer than it are ${"dropped or truncated"}), a smaller rank, or a smaller base model.`;
    return {
        kind: "refused",
        estimate: original,
        message: `not enough memory: the run needs about ${formatGiB(original.totalBytes)} (${formatGiB(smallest.totalBytes)} at the shortest rows the data allows, ` +
            `sequenceLength ${sequenceLength}) but ${budget.deviceName} has ${formatGiB(budget.availableBytes)} free`,
        hint
    };
}

function suggestPreset(budget: MemoryBudget): string {
    if (budget.device === "cpu") return "cpu";
    const gib = budget.availableBytes / 2 ** 30;
    return gib >= 20 ? "gpu-24gb" : gib >= 10 ? "gpu-12gb" : "gpu-6gb";
}
