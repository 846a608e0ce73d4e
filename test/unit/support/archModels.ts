// Small GGUF bases and LoRA adapters of any architecture, written with the project's own GGUF writer, for checks that
// read headers and weights (trainability, targets, adapter fit, export) without the engine: the projection tensors
// are named and shaped as llama.cpp names them for that architecture (engine/architectures.ts: Phi-3's fused
// attn_qkv [n_embd, n_embd + 2·kv_dim] and ffn_up [n_embd, 2·n_ff]), with seeded random F32 values. They are not
// loadable models (no norms, no tokenizer): the tiny-model generator makes those.
import { ARCHITECTURES, isTrainableArch } from "../../../sidecar/src/engine/architectures";
import { f32Bytes, GgmlType, readGguf, writeGguf, type GgufFile, type GgufTensorToWrite, type GgufValue } from "../../../sidecar/src/gguf";
import { prng } from "./prng";

export interface ArchShape {
    nLayer: number;
    nEmbd: number;
    nFf: number;
    nHead: number;
    nHeadKv: number;
}

export const SMALL_SHAPE: ArchShape = { nLayer: 2, nEmbd: 16, nFf: 24, nHead: 4, nHeadKv: 2 };

/** Values in [-0.5, 0.5) from a seed. */
function random(seed: number): () => number {
    const next = prng(seed);
    return () => next() - 0.5;
}

function values(n: number, next: () => number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = next();
    return out;
}

/** GGUF dims [n_in, n_out] of each projection tensor of `arch` (separate llama-style names for unknown architectures). */
export function projectionDims(arch: string, shape: ArchShape = SMALL_SHAPE): Record<string, [number, number]> {
    const kvDim = (shape.nEmbd / shape.nHead) * shape.nHeadKv;
    const fused = isTrainableArch(arch) && ARCHITECTURES[arch].fused;
    return fused
        ? { attn_qkv: [shape.nEmbd, shape.nEmbd + 2 * kvDim], attn_output: [shape.nEmbd, shape.nEmbd], ffn_up: [shape.nEmbd, 2 * shape.nFf], ffn_down: [shape.nFf, shape.nEmbd] }
        : {
            attn_q: [shape.nEmbd, shape.nEmbd], attn_k: [shape.nEmbd, kvDim], attn_v: [shape.nEmbd, kvDim], attn_output: [shape.nEmbd, shape.nEmbd],
            ffn_gate: [shape.nEmbd, shape.nFf], ffn_up: [shape.nEmbd, shape.nFf], ffn_down: [shape.nFf, shape.nEmbd]
        };
}

/** A base GGUF of `arch`: hyperparameters, token_embd and every layer's projections. Returns it as read back. */
export function writeArchBase(path: string, arch: string, options: { shape?: ArchShape; kv?: Record<string, GgufValue>; seed?: number } = {}): GgufFile {
    const shape = options.shape ?? SMALL_SHAPE;
    const next = random(options.seed ?? 1);
    const u32 = (value: number): GgufValue => ({ type: "u32", value });
    const kv: Array<[string, GgufValue]> = [
        ["general.architecture", { type: "string", value: arch }],
        ["general.name", { type: "string", value: `test-${arch}` }],
        [`${arch}.block_count`, u32(shape.nLayer)],
        [`${arch}.embedding_length`, u32(shape.nEmbd)],
        [`${arch}.feed_forward_length`, u32(shape.nFf)],
        [`${arch}.attention.head_count`, u32(shape.nHead)],
        [`${arch}.attention.head_count_kv`, u32(shape.nHeadKv)],
        ...Object.entries(options.kv ?? {})
    ];
    const tensor = (name: string, dims: number[]): GgufTensorToWrite => ({ name, dims, type: GgmlType.F32, data: f32Bytes(values(dims.reduce((a, b) => a * b, 1), next)) });
    const tensors: GgufTensorToWrite[] = [tensor("token_embd.weight", [shape.nEmbd, 32])];
    for (let l = 0; l < shape.nLayer; l++) {
        for (const [name, dims] of Object.entries(projectionDims(arch, shape))) tensors.push(tensor(`blk.${l}.${name}.weight`, dims));
    }
    writeGguf(path, { kv, tensors });
    return readGguf(path);
}

/** A LoRA adapter GGUF for `base` on the given weights (`blk.N.<tensor>.weight`), rank `rank`, seeded random A and B. */
export function writeArchAdapter(path: string, base: GgufFile, weights: readonly string[], options: { rank?: number; alpha?: number; seed?: number; arch?: string } = {}): GgufFile {
    const rank = options.rank ?? 2;
    const next = random(options.seed ?? 2);
    const archKv = base.kv.get("general.architecture");
    const arch = options.arch ?? (archKv?.type === "string" ? archKv.value : "llama");
    const tensors: GgufTensorToWrite[] = [];
    for (const weight of weights) {
        const w = base.tensors.find((t) => t.name === weight);
        if (!w) throw new Error(`${base.path} has no ${weight}`);
        const [nIn, nOut] = w.dims as [number, number];
        tensors.push({ name: `${weight}.lora_a`, dims: [nIn, rank], type: GgmlType.F32, data: f32Bytes(values(nIn * rank, next)) });
        tensors.push({ name: `${weight}.lora_b`, dims: [rank, nOut], type: GgmlType.F32, data: f32Bytes(values(rank * nOut, next)) });
    }
    writeGguf(path, {
        kv: [
            ["general.architecture", { type: "string", value: arch }],
            ["general.type", { type: "string", value: "adapter" }],
            ["adapter.type", { type: "string", value: "lora" }],
            ["adapter.lora.alpha", { type: "f32", value: options.alpha ?? 2 * rank }]
        ],
        tensors
    });
    return readGguf(path);
}

/** Every projection weight of every layer of `base`. */
export function projectionWeights(base: GgufFile): string[] {
    return base.tensors.filter((t) => t.name.startsWith("blk.")).map((t) => t.name);
}
