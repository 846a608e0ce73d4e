// Reads a GGUF LoRA adapter and checks it against the base model it is exported with. Every problem names both
// files, because the common mistake is an adapter trained on another base (another size, another architecture).
//
// Layout (llama.cpp's llama-adapter.cpp): for a base weight W with GGUF dims [n_in, n_out] (numpy [n_out, n_in]),
// `<W>.lora_a` has dims [n_in, rank] (numpy A [rank, n_in]) and `<W>.lora_b` dims [rank, n_out] (numpy B [n_out, rank]).
// llama.cpp applies W·x + scale · B·(A·x) with scale = alpha / rank (`adapter.lora.alpha`; 1 when absent or 0).
import { adapterMismatch } from "../adapters/adapterFit";
import { fingerprintWarning } from "../adapters/baseFingerprint";
import { ModelFileError, openModelFile, readTensorBytes, type GgufFile, type GgufTensorInfo } from "../gguf";
import { dequantize } from "./dequantize";

export class ExportInputError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ExportInputError";
    }
}

export interface LoraPair {
    /** The base weight's GGUF name, e.g. "blk.0.attn_q.weight". */
    weight: string;
    rank: number;
    nIn: number;
    nOut: number;
    a: GgufTensorInfo;
    b: GgufTensorInfo;
}

export interface LoraAdapter {
    file: GgufFile;
    arch: string | undefined;
    /** `adapter.lora.alpha`, or undefined when the file has none (llama.cpp then applies scale 1). */
    alpha: number | undefined;
    pairs: LoraPair[];
}

/** Opens a GGUF file through the load guard (gguf/openModelFile.ts), with errors that say which role it plays. */
export function openGguf(path: string, role: "adapter" | "base model"): GgufFile {
    try {
        return openModelFile(path, { role });
    } catch (err) {
        if (!(err instanceof ModelFileError)) throw err;
        throw new ExportInputError(err.reason && err.reason.name === "GgufFormatError" ? `the ${role} is corrupt: ${err.reason.message}` : err.message);
    }
}

/** Reads and checks the adapter's metadata and tensor pairs (no tensor data yet). */
export function readLoraAdapter(path: string): LoraAdapter {
    const file = openGguf(path, "adapter");
    const type = file.kv.get("general.type");
    if (type?.type !== "string" || type.value !== "adapter") {
        throw new ExportInputError(`${path} is not a LoRA adapter: its general.type is ${type ? JSON.stringify(type.value) : "missing"} (expected "adapter"); is it a base model?`);
    }
    const adapterType = file.kv.get("adapter.type");
    if (adapterType?.type !== "string" || adapterType.value !== "lora") {
        throw new ExportInputError(`${path}: adapter.type is ${adapterType ? JSON.stringify(adapterType.value) : "missing"}; only "lora" adapters can be exported`);
    }
    const alphaKv = file.kv.get("adapter.lora.alpha");
    const alpha = alphaKv && typeof alphaKv.value === "number" ? alphaKv.value : undefined;
    const archKv = file.kv.get("general.architecture");
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    const pairs: LoraPair[] = [];
    for (const a of file.tensors) {
        if (!a.name.endsWith(".lora_a")) {
            if (!a.name.endsWith(".lora_b")) throw new ExportInputError(`${path}: tensor '${a.name}' is neither a .lora_a nor a .lora_b tensor`);
            if (!byName.has(a.name.replace(/\.lora_b$/, ".lora_a"))) throw new ExportInputError(`${path}: tensor '${a.name}' has no matching .lora_a`);
            continue;
        }
        const weight = a.name.slice(0, -".lora_a".length);
        const b = byName.get(`${weight}.lora_b`);
        if (!b) throw new ExportInputError(`${path}: tensor '${a.name}' has no matching '${weight}.lora_b'`);
        if (a.dims.length !== 2 || b.dims.length !== 2) throw new ExportInputError(`${path}: '${weight}' LoRA tensors must be 2-D, got [${a.dims}] and [${b.dims}]`);
        const [nIn, rank] = a.dims as [number, number];
        const [rankB, nOut] = b.dims as [number, number];
        if (rank !== rankB) throw new ExportInputError(`${path}: '${weight}' has lora_a rank ${rank} but lora_b rank ${rankB}`);
        pairs.push({ weight, rank, nIn, nOut, a, b });
    }
    if (pairs.length === 0) throw new ExportInputError(`${path}: the adapter has no LoRA tensors`);
    return { file, arch: archKv?.type === "string" ? archKv.value : undefined, alpha, pairs };
}

/**
 * Throws unless every adapted weight exists in the base with the adapter's shape, and the architectures agree: the
 * check chat and evaluation make too (adapters/adapterFit.ts), with both files named.
 */
export function checkAdapterFitsBase(adapter: LoraAdapter, base: GgufFile): string[] {
    const detail = adapterMismatch(adapter.file, base);
    if (detail !== undefined) throw new ExportInputError(`the adapter ${adapter.file.path} and base model ${base.path} do not match: ${detail}`);
    const warning = fingerprintWarning(adapter.file, base);
    return warning === undefined ? [] : [warning];
}

/** alpha / rank, as llama.cpp computes the scale of one pair. */
export function loraScale(adapter: LoraAdapter, pair: LoraPair): number {
    return adapter.alpha ? adapter.alpha / pair.rank : 1;
}

/** A pair's matrices as F32, numpy order: A [rank, nIn], B [nOut, rank]. */
export function readLoraPair(adapter: LoraAdapter, pair: LoraPair): { a: Float32Array; b: Float32Array } {
    const read = (t: GgufTensorInfo): Float32Array =>
        dequantize(t.type, readTensorBytes(adapter.file, t.name), t.dims[0]! * t.dims[1]!, `adapter tensor '${t.name}' in ${adapter.file.path}`);
    return { a: read(pair.a), b: read(pair.b) };
}
