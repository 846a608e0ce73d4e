// Merged GGUF: the base model with the adapter folded into its weights, W' = W + (alpha / rank) · B · A, in F32.
// Every KV pair of the base (tokenizer, chat template, hyperparameters) is copied unchanged, so the merged model
// chats exactly as base + adapter does.
//
// f32 / f16 are written here with the TS writer. The quantized types go through an intermediate GGUF (merged
// weights in F32, untouched F16/BF16/F32 tensors as they are, other quantized tensors dequantized to F32, since
// llama.cpp refuses to requantize them) that the engine's `quantizeModel` (llama_model_quantize) turns into the
// chosen type, as llama.cpp's own `llama-quantize` would from a converted model.
import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { encodeF16, f32Bytes, GgmlType, readTensorBytes, writeGguf, type GgufFile, type GgufTensorInfo, type GgufTensorToWrite, type GgufValue } from "../gguf";
import type { QuantizeType } from "../engine/types";
import { tempPathFor } from "../training/atomicFile";
import { checkAdapterFitsBase, loraScale, openGguf, readLoraAdapter, readLoraPair, type LoraAdapter, type LoraPair } from "./adapter";
import { canDequantize, dequantize } from "./dequantize";

export type MergedType = "f32" | "f16" | QuantizeType;
export const MERGED_TYPES: readonly MergedType[] = ["f32", "f16", "q8_0", "q4_0", "q4_k_m"];

/** llama_ftype values written to general.file_type (llama.h). */
const FILE_TYPE: Record<"f32" | "f16", number> = { f32: 0, f16: 1 };

export type Quantize = (inPath: string, outPath: string, type: QuantizeType) => Promise<void>;

export interface MergeOptions {
    model: string;
    adapter: string;
    out: string;
    type: MergedType;
    /** The engine's quantizeModel; needed only for q8_0, q4_0 and q4_k_m. */
    quantize?: Quantize;
}

/** W' for one base weight, numpy order [nOut, nIn]. Accumulates in F32 as llama.cpp's own merge does. */
export function mergeWeight(w: Float32Array, pair: LoraPair, a: Float32Array, b: Float32Array, scale: number): Float32Array {
    const { nIn, nOut, rank } = pair;
    const out = new Float32Array(w);
    for (let o = 0; o < nOut; o++) {
        const row = o * nIn;
        for (let k = 0; k < rank; k++) {
            const coef = Math.fround(b[o * rank + k]! * scale);
            if (coef === 0) continue;
            const aRow = k * nIn;
            for (let i = 0; i < nIn; i++) out[row + i]! += coef * a[aRow + i]!;
        }
    }
    return out;
}

function elements(t: GgufTensorInfo): number {
    return t.dims.reduce((x, y) => x * y, 1);
}

function tensorF32(base: GgufFile, t: GgufTensorInfo): Float32Array {
    return dequantize(t.type, readTensorBytes(base, t.name), elements(t), `base tensor '${t.name}' in ${base.path}`);
}

/**
 * The tensors of the merged file. `stored` decides the type of every float tensor: merged weights are always
 * re-encoded; others keep their bytes unless they must change (quantized tensors for an F16/F32 target).
 */
function mergedTensors(base: GgufFile, adapter: LoraAdapter, target: "f32" | "f16" | "intermediate"): GgufTensorToWrite[] {
    const pairs = new Map(adapter.pairs.map((p) => [p.weight, p]));
    return base.tensors.map((t): GgufTensorToWrite => {
        const pair = pairs.get(t.name);
        const isMatrix = t.dims.length >= 2;
        // F16 targets keep 1-D tensors (norms) in F32, as llama.cpp's converter does.
        const encodeType = target === "f16" && isMatrix ? GgmlType.F16 : GgmlType.F32;
        const encode = (values: Float32Array): Uint8Array => (encodeType === GgmlType.F16 ? encodeF16(values) : f32Bytes(values));
        if (pair) {
            return {
                name: t.name, dims: t.dims, type: encodeType,
                data: () => {
                    const { a, b } = readLoraPair(adapter, pair);
                    return encode(mergeWeight(tensorF32(base, t), pair, a, b, loraScale(adapter, pair)));
                }
            };
        }
        const keepAsIs =
            t.type === encodeType ||
            !canDequantize(t.type) ||
            (target === "intermediate" && (t.type === GgmlType.F16 || t.type === GgmlType.BF16 || t.type === GgmlType.F32));
        if (keepAsIs) return { name: t.name, dims: t.dims, type: t.type, data: () => readTensorBytes(base, t.name) };
        return { name: t.name, dims: t.dims, type: encodeType, data: () => encode(tensorF32(base, t)) };
    });
}

function mergedKv(base: GgufFile, fileType: number | undefined): Array<[string, GgufValue]> {
    const kv = [...base.kv].filter(([k]) => k !== "general.file_type");
    if (fileType !== undefined) kv.push(["general.file_type", { type: "u32", value: fileType }]);
    return kv;
}

/** Writes the merged model to `out` atomically. */
export async function exportMerged(opts: MergeOptions): Promise<void> {
    const adapter = readLoraAdapter(opts.adapter);
    const base = openGguf(opts.model, "base model");
    checkAdapterFitsBase(adapter, base);
    for (const p of adapter.pairs) {
        const w = base.tensors.find((t) => t.name === p.weight)!;
        if (!canDequantize(w.type)) dequantize(w.type, new Uint8Array(0), 0, `base tensor '${w.name}' in ${base.path}`); // throws the named error
    }
    mkdirSync(dirname(opts.out), { recursive: true });
    if (opts.type === "f32" || opts.type === "f16") {
        writeGguf(opts.out, { kv: mergedKv(base, FILE_TYPE[opts.type]), tensors: mergedTensors(base, adapter, opts.type), alignment: base.alignment });
        return;
    }
    if (!opts.quantize) throw new Error(`a merged ${opts.type} model needs the native engine to quantize; it is not available`);
    const intermediate = tempPathFor(opts.out);
    try {
        writeGguf(intermediate, { kv: mergedKv(base, FILE_TYPE.f32), tensors: mergedTensors(base, adapter, "intermediate"), alignment: base.alignment });
        await opts.quantize(intermediate, opts.out, opts.type);
    } finally {
        rmSync(intermediate, { force: true });
    }
}
