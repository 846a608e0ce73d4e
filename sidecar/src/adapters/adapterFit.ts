// Does a GGUF LoRA adapter fit a base model? One check, from the two headers alone (no tensor data), behind chat,
// evaluation and export, so all three refuse a wrong adapter before llama.cpp sees it and say the same thing.
// llama.cpp checks shapes too, but node-llama-cpp reports only "failed to load", and some mismatches end in a
// GGML_ASSERT that kills the process.
//
// Layout (llama.cpp's llama-adapter.cpp): for a base weight W with GGUF dims [n_in, n_out], `<W>.lora_a` has dims
// [n_in, rank] and `<W>.lora_b` dims [rank, n_out].
//
// The usual mistake is an adapter trained on another base: another size (shapes differ), or another architecture,
// which the message says outright: the adapter's general.architecture differs, or its tensors are laid out for
// another family (Phi-3's fused attn_qkv where the base has attn_q, attn_k and attn_v, or the reverse).
import { GgufAccessError, ModelFileError, openModelFile, type GgufFile, type GgufTensorInfo } from "../gguf";
import { fingerprintWarning } from "./baseFingerprint";

export class AdapterMismatchError extends Error {
    override name = "AdapterMismatchError";
    constructor(readonly adapterPath: string, readonly modelPath: string, readonly detail: string) {
        super(`adapter ${adapterPath} does not fit base model ${modelPath}: ${detail}`);
    }
}

type Header = Pick<GgufFile, "kv" | "tensors">;

function kvText(file: Header, key: string): string | undefined {
    const value = file.kv.get(key);
    return value?.type === "string" ? value.value : undefined;
}

const shape = (dims: readonly number[]): string => `[${dims.join(", ")}]`;
const quoted = (s: string | undefined): string => JSON.stringify(s ?? null);

/** The fused tensor and the separate tensors it stands for (Phi-3 vs every other family we train). */
const FUSED_PARTS: Readonly<Record<string, readonly string[]>> = { attn_qkv: ["attn_q", "attn_k", "attn_v"] };

/** `blk.N.<module>.weight` → [N, module]. */
function layerModule(weight: string): [string, string] | undefined {
    const m = /^blk\.(\d+)\.([a-z0-9_]+)\.weight$/.exec(weight);
    return m ? [m[1]!, m[2]!] : undefined;
}

/**
 * Why the adapter cannot be applied to the base, in words that name neither file (callers add both), or undefined
 * when it fits: every lora_a/lora_b pair belongs to a weight of the base with the matching shape.
 */
export function adapterMismatch(adapter: Header, base: Header): string | undefined {
    const generalType = kvText(adapter, "general.type");
    const adapterType = kvText(adapter, "adapter.type");
    if (generalType !== "adapter" || adapterType !== "lora") {
        return `it is not a LoRA adapter (general.type ${quoted(generalType)}, adapter.type ${quoted(adapterType)}; a GGUF LoRA adapter has "adapter" and "lora")` +
            (generalType === "model" || generalType === undefined ? "; is it a base model?" : "");
    }
    if (kvText(base, "general.type") === "adapter") return "the base model is itself a LoRA adapter (general.type \"adapter\"); give the base model it was trained on";

    const pairs = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>();
    for (const t of adapter.tensors) {
        const match = /^(.*)\.lora_(a|b)$/.exec(t.name);
        if (!match) return `tensor ${t.name} is neither a .lora_a nor a .lora_b tensor; the adapter file is damaged`;
        const pair = pairs.get(match[1]!) ?? {};
        pair[match[2] as "a" | "b"] = t;
        pairs.set(match[1]!, pair);
    }
    if (pairs.size === 0) return "it holds no LoRA tensors (…lora_a / …lora_b)";

    const adapterArch = kvText(adapter, "general.architecture");
    const baseArch = kvText(base, "general.architecture");
    if (adapterArch !== undefined && baseArch !== undefined && adapterArch !== baseArch) {
        return `the adapter was trained on another architecture: it is for a ${adapterArch} model, and the base model is ${baseArch}`;
    }
    const weights = new Map(base.tensors.map((t) => [t.name, t]));
    const baseKind = baseArch ?? "this";
    for (const [weight, { a, b }] of pairs) {
        if (!a || !b) return `${weight} has a lora_${a ? "a" : "b"} tensor but no lora_${a ? "b" : "a"}; the adapter file is incomplete`;
        const w = weights.get(weight);
        if (!w) return missingWeight(weight, weights, baseKind);
        if (a.dims.length !== 2 || b.dims.length !== 2) return `${weight}'s LoRA tensors must be 2-D, got ${shape(a.dims)} and ${shape(b.dims)}`;
        if (a.dims[1] !== b.dims[0]) return `${a.name} is ${shape(a.dims)} but ${b.name} is ${shape(b.dims)}: their ranks differ`;
        // ggml order, ne0 first: base [n_in, n_out], lora_a [n_in, rank], lora_b [rank, n_out].
        const [nIn, nOut] = [a.dims[0]!, b.dims[1]!];
        if (w.dims[0] !== nIn || w.dims[1] !== nOut) {
            const module = layerModule(weight)?.[1];
            // Phi-3's ffn_up holds gate and up stacked (2·n_ff rows) under the same name as a separate up projection.
            if (module === "ffn_up" && nOut === 2 * w.dims[1]! && weights.has(weight.replace(".ffn_up.", ".ffn_gate."))) {
                return `the adapter was trained on another architecture: its ${weight} is gate and up fused (${shape([nIn, nOut])}, as Phi-3 has), and this ${baseKind} model has separate ffn_gate and ffn_up`;
            }
            if (module === "ffn_up" && 2 * nOut === w.dims[1]! && !weights.has(weight.replace(".ffn_up.", ".ffn_gate."))) {
                return `the adapter was trained on another architecture: its ${weight} is an up projection alone (${shape([nIn, nOut])}), and this ${baseKind} model fuses gate and up into ffn_up ${shape(w.dims)}`;
            }
            return `${weight} is ${shape(w.dims)} in the base model but the adapter expects ${shape([nIn, nOut])}; it was trained on another base model (another size or family)`;
        }
    }
    return undefined;
}

/** The message for an adapted weight the base lacks: another architecture when the base has its fused or split form. */
function missingWeight(weight: string, weights: ReadonlyMap<string, GgufTensorInfo>, baseKind: string): string {
    const at = layerModule(weight);
    if (at) {
        const [layer, module] = at;
        const has = (m: string): boolean => weights.has(`blk.${layer}.${m}.weight`);
        const parts = FUSED_PARTS[module];
        if (parts && parts.some(has)) {
            return `the adapter was trained on another architecture: it adapts ${module} (q, k and v fused, as Phi-3 has), and this ${baseKind} model has separate ${parts.filter(has).join(", ")}`;
        }
        const fused = Object.entries(FUSED_PARTS).find(([, p]) => p.includes(module))?.[0];
        if (fused && has(fused)) {
            return `the adapter was trained on another architecture: it adapts ${module}, and this ${baseKind} model fuses q, k and v into one ${fused} tensor`;
        }
    }
    return `the base model has no tensor ${weight}; the adapter was trained on another base model`;
}

function header(path: string, what: "adapter" | "base model", adapterPath: string, modelPath: string): GgufFile {
    try {
        // The tokenizer's arrays are not needed to match tensors, and are most of a base model's header.
        return openModelFile(path, { role: what, skipArraysOver: 4096 });
    } catch (error) {
        if (!(error instanceof ModelFileError)) throw error;
        // Missing or unreadable, not GGUF (truncated, corrupt), or the wrong metadata (no architecture, an adapter as the base).
        const detail = error.reason instanceof GgufAccessError ? `the ${what} ${error.reason.message}`
            : error.reason ? `the ${what} is not a readable GGUF file (${error.reason.message})` : error.message;
        throw new AdapterMismatchError(adapterPath, modelPath, detail);
    }
}

/**
 * Throws AdapterMismatchError (both paths in the message) unless `adapterPath` is a LoRA adapter that fits `modelPath`.
 * Returns warnings for an adapter that fits but records another base (baseFingerprint.ts): the caller shows them.
 */
export function checkAdapterFitsModel(modelPath: string, adapterPath: string): string[] {
    const adapter = header(adapterPath, "adapter", adapterPath, modelPath);
    const model = header(modelPath, "base model", adapterPath, modelPath);
    const detail = adapterMismatch(adapter, model);
    if (detail !== undefined) throw new AdapterMismatchError(adapterPath, modelPath, detail);
    const warning = fingerprintWarning(adapter, model);
    return warning === undefined ? [] : [warning];
}
