// The facts a model list shows for one GGUF, from its header alone (no tensor data; tokenizer arrays skipped, so a
// Gemma header reads in ~0.2 s): architecture, parameter count, quantization, context length, and whether the engine
// trains it. A file that cannot be read as GGUF is described as unreadable with the reader's words (the file, the
// byte, the cause), never thrown: one bad file must not stop a list.
import { GgufAccessError, GgufFormatError, ggmlTypeName, readGguf, type GgufFile } from "../gguf";
import { checkTrainable } from "../engine/architectures";
import type { ModelFacts } from "./types";

/** Arrays longer than this (the tokenizer's) are skipped: none of the facts needs them. */
const HEADER_ARRAY_LIMIT = 4096;

/** llama_ftype (general.file_type) names, as llama.cpp's quantize tool and model cards write them (llama.h). */
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
    13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS",
    21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE"
};

export type ModelFileDescription = { readable: true; facts: ModelFacts } | { readable: false; reason: string };

function kvInteger(file: GgufFile, key: string): number | undefined {
    const v = file.kv.get(key);
    if (!v) return undefined;
    if (v.type === "u64" || v.type === "i64") return Number(v.value);
    return typeof v.value === "number" && Number.isFinite(v.value) ? v.value : undefined;
}

/** The file type's name; without general.file_type, the type holding most of the 2-D weights' elements. */
export function quantizationOf(file: GgufFile): string {
    const fileType = kvInteger(file, "general.file_type");
    if (fileType !== undefined) return FILE_TYPE_NAMES[fileType] ?? `file type ${fileType}`;
    const elementsByType = new Map<number, number>();
    for (const t of file.tensors) {
        if (t.dims.filter((d) => d > 1).length < 2) continue;
        elementsByType.set(t.type, (elementsByType.get(t.type) ?? 0) + t.dims.reduce((a, b) => a * b, 1));
    }
    const top = [...elementsByType].sort((a, b) => b[1] - a[1])[0];
    return top ? `mostly ${ggmlTypeName(top[0])}` : "unknown";
}

/** The facts of an already-read header. */
export function factsOfHeader(file: GgufFile): ModelFacts {
    const archValue = file.kv.get("general.architecture");
    const architecture = archValue?.type === "string" ? archValue.value : "";
    const parameterCount = file.tensors.reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
    const contextLength = architecture ? kvInteger(file, `${architecture}.context_length`) : undefined;
    const splitParts = kvInteger(file, "split.count");
    // A vocabulary-only GGUF (llama.cpp's models/ggml-vocab-*.gguf) has a header and no weights.
    const trainability = file.tensors.length === 0
        ? { trainable: false as const, reason: "it has no tensors (a vocabulary-only GGUF, not a model)" }
        : checkTrainable(file);
    return {
        architecture: architecture || "unknown",
        parameterCount,
        quantization: quantizationOf(file),
        ...(contextLength !== undefined ? { contextLength } : {}),
        fileBytes: file.fileSize,
        trainable: trainability.trainable,
        ...(trainability.trainable ? {} : { notTrainableReason: trainability.reason }),
        ...(splitParts !== undefined && splitParts > 1 ? { splitParts } : {})
    };
}

/** Reads `path`'s header and describes it; an unreadable or non-GGUF file becomes `readable: false` with the reason. */
export function describeModelFile(path: string): ModelFileDescription {
    try {
        return { readable: true, facts: factsOfHeader(readGguf(path, { skipArraysOver: HEADER_ARRAY_LIMIT })) };
    } catch (error) {
        if (error instanceof GgufFormatError || error instanceof GgufAccessError) return { readable: false, reason: error.message };
        // Anything else is a bug in the reader; still one file's problem, not the list's.
        return { readable: false, reason: `${path}: could not read the GGUF header: ${(error as Error).message}` };
    }
}

/** "1.24B", "494M", "20.3M" parameters. */
export function formatParameterCount(n: number): string {
    if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 1 : 2)}B`;
    if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)}M`;
    if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
    return String(n);
}

/** "1.2 GB", "398 MB": download and file sizes, in the decimal units model hubs use. */
export function formatBytes(n: number): string {
    if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
    if (n >= 1e6) return `${(n / 1e6).toFixed(0)} MB`;
    if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
    return `${n} B`;
}
