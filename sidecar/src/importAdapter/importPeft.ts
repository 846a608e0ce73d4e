// A PEFT LoRA folder (adapter_config.json + adapter_model.safetensors, as `save_pretrained` writes it, from our own
// PEFT export, Axolotl, or any Hugging Face training) → a GGUF LoRA for a given base GGUF, that chat, evaluation and
// every export accept. The inverse of export/peft.ts:
// - names: HF module → GGUF tensor from the same architecture table (hfNames.ts);
// - rows: llama-family q/k B rows get llama.cpp's permutation back (adapters/qkPermutation.ts); A never moves;
// - values: A [r, n_in] and B [n_out, r] are GGUF's lora_a [n_in, r] and lora_b [r, n_out] in numpy order, so they
//   are copied as they are (F16/BF16 widened exactly to F32);
// - scale: llama.cpp scales every pair by alpha/rank with one `adapter.lora.alpha`; PEFT by lora_alpha/r, or
//   lora_alpha/√r with use_rslora, per module with alpha_pattern/rank_pattern. The scale s of a pair of rank r is
//   alpha_gguf/r, so alpha_gguf = s·r (lora_alpha·√r for rsLoRA). When every pair gives the same alpha_gguf it is
//   written as is and the values are untouched; otherwise the most common one is written and each other pair's B
//   is multiplied by its own s·r / alpha_gguf (exact to F32 rounding).
// Every shape is checked against the base before anything is written; the result is written to a temp file, checked
// by the same fit check chat and evaluation use (adapters/adapterFit.ts), then renamed into place. Inputs are never
// replaced, nor an existing output without `overwrite`.
//
// The base fingerprint (adapters/baseFingerprint.ts) is not stamped: the adapter was trained on the Hugging Face
// model, not on this GGUF, and the shape check is all that can be known about the pair.
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { adapterMismatch } from "../adapters/adapterFit";
import { permutationHeads, permuteRows } from "../adapters/qkPermutation";
import { checkTrainable } from "../engine/architectures";
import { f32Bytes, GgmlType, ModelFileError, openModelFile, readGguf, writeGguf, type GgufFile, type GgufTensorToWrite, type GgufValue } from "../gguf";
import { hfRepoOf } from "../export/peft";
import { commitAtomic } from "../training/atomicFile";
import { AdapterImportError, AdapterImportTargetExistsError } from "./errors";
import { classifyHfTensor } from "./hfNames";
import { patternValue, peftScale, readPeftConfig, type PeftLoraConfig } from "./peftConfig";
import { readSafetensorsF32, readSafetensorsHeader, type SafetensorsFile, type SafetensorsReadDtype } from "./safetensorsReader";

export const PEFT_CONFIG_FILE = "adapter_config.json";
export const PEFT_WEIGHTS_FILE = "adapter_model.safetensors";

export interface ImportPeftOptions {
    /** The PEFT folder. */
    peft: string;
    /** The base GGUF the adapter is for. */
    model: string;
    /** The GGUF LoRA to write. */
    out: string;
    /** Replace an existing file at `out` (never an input). */
    overwrite?: boolean;
}

export interface ImportPeftResult {
    out: string;
    arch: string;
    /** LoRA pairs written. */
    pairs: number;
    /** adapter.lora.alpha written. */
    alpha: number;
    /** Pairs whose B was rescaled because their scale differs from alpha/rank (alpha_pattern, mixed ranks with rsLoRA). */
    rescaledPairs: number;
    /** Pairs whose B rows were permuted (llama-family q/k). */
    permutedPairs: number;
    dtypes: SafetensorsReadDtype[];
    /** base_model_name_or_path, when the config has one. */
    baseModel: string | undefined;
    /** Things that fit but look wrong (the config names another Hugging Face model than the GGUF records). */
    warnings: string[];
}

interface Pair {
    module: string;
    ggufWeight: string;
    a?: string;
    b?: string;
}

function openBase(path: string): GgufFile {
    try {
        return openModelFile(path, { role: "base model", skipArraysOver: 4096 });
    } catch (error) {
        if (error instanceof ModelFileError) throw new AdapterImportError(error.message);
        throw error;
    }
}

const sameFile = (a: string, b: string): boolean => {
    try {
        const [x, y] = [statSync(a), statSync(b)];
        return x.dev === y.dev && x.ino === y.ino;
    } catch {
        return resolve(a) === resolve(b);
    }
};

function checkOutput(opts: ImportPeftOptions, inputs: string[]): void {
    for (const input of inputs) {
        if (sameFile(opts.out, input)) throw new AdapterImportError(`--out ${opts.out} is an input of the import (${input}); an import never replaces its inputs`);
    }
    if (existsSync(opts.out)) {
        if (statSync(opts.out).isDirectory()) throw new AdapterImportError(`--out ${opts.out} is a folder; give the path of the .gguf file to write`);
        if (!opts.overwrite) throw new AdapterImportTargetExistsError(opts.out);
    }
}

/** Groups the safetensors tensors into LoRA pairs, refusing every tensor that is not one. */
function pairsOf(weights: SafetensorsFile, arch: Parameters<typeof classifyHfTensor>[1], config: PeftLoraConfig): Pair[] {
    const pairs = new Map<string, Pair>();
    for (const name of weights.entries.keys()) {
        const c = classifyHfTensor(name, arch);
        if (c.kind === "refused") {
            const hint = config.baseModel ? ` (adapter_config.json says it is for ${config.baseModel})` : "";
            throw new AdapterImportError(`${weights.path}: tensor '${name}': ${c.reason}${hint}`);
        }
        const pair = pairs.get(c.ggufWeight) ?? { module: c.module, ggufWeight: c.ggufWeight };
        if (pair[c.part === "A" ? "a" : "b"] !== undefined) {
            throw new AdapterImportError(`${weights.path}: tensor '${name}' is a second lora_${c.part} for ${c.module} (the first is '${pair[c.part === "A" ? "a" : "b"]}')`);
        }
        pair[c.part === "A" ? "a" : "b"] = name;
        pairs.set(c.ggufWeight, pair);
    }
    if (pairs.size === 0) throw new AdapterImportError(`${weights.path} holds no LoRA tensors (…lora_A.weight / …lora_B.weight)`);
    for (const p of pairs.values()) {
        if (!p.a || !p.b) throw new AdapterImportError(`${weights.path}: ${p.module} has a lora_${p.a ? "A" : "B"} tensor but no lora_${p.a ? "B" : "A"}; the adapter is incomplete`);
    }
    return [...pairs.values()];
}

function mostCommon(values: number[]): number {
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]![0];
}

export async function importPeftAdapter(opts: ImportPeftOptions): Promise<ImportPeftResult> {
    if (!existsSync(opts.peft) || !statSync(opts.peft).isDirectory()) {
        throw new AdapterImportError(`${opts.peft} is not a folder; give the PEFT adapter folder (the one with ${PEFT_CONFIG_FILE} and ${PEFT_WEIGHTS_FILE})`);
    }
    const configPath = join(opts.peft, PEFT_CONFIG_FILE);
    const weightsPath = join(opts.peft, PEFT_WEIGHTS_FILE);
    const config = readPeftConfig(configPath);
    if (!existsSync(weightsPath) && existsSync(join(opts.peft, "adapter_model.bin"))) {
        throw new AdapterImportError(`${weightsPath} does not exist, only adapter_model.bin (a PyTorch pickle, which LoRA Studio does not load: it can run code); save the adapter with save_pretrained(..., safe_serialization=True)`);
    }
    const weights = readSafetensorsHeader(weightsPath);
    const base = openBase(opts.model);
    checkOutput(opts, [opts.model, configPath, weightsPath]);

    const trainable = checkTrainable(base);
    if (!trainable.trainable) throw new AdapterImportError(`${opts.model}: ${trainable.reason}; an import needs the Hugging Face module names of the base's architecture`);
    const { arch, spec } = trainable;
    const pairs = pairsOf(weights, arch, config);

    // Shapes first, all of them, before any value is read.
    const baseWeights = new Map(base.tensors.map((t) => [t.name, t]));
    const anotherBase = `the adapter is for another base${config.baseModel ? ` (adapter_config.json's base_model_name_or_path is ${config.baseModel})` : ""}`;
    const shaped = pairs.map((p) => {
        const a = weights.entries.get(p.a!)!;
        const b = weights.entries.get(p.b!)!;
        if (a.shape.length !== 2 || b.shape.length !== 2) throw new AdapterImportError(`${weightsPath}: ${p.module}'s LoRA tensors must be 2-D, got [${a.shape.join(", ")}] and [${b.shape.join(", ")}]`);
        const [rank, nIn] = a.shape as [number, number];
        const [nOut, rankB] = b.shape as [number, number];
        if (rank !== rankB) throw new AdapterImportError(`${weightsPath}: tensor '${a.name}' is [${a.shape.join(", ")}] (rank ${rank}) but '${b.name}' is [${b.shape.join(", ")}] (rank ${rankB})`);
        const expectedRank = patternValue(config.rankPattern, p.module) ?? config.r;
        if (rank !== expectedRank) {
            throw new AdapterImportError(`${configPath}: "${patternValue(config.rankPattern, p.module) !== undefined ? "rank_pattern" : "r"}" gives ${p.module} rank ${expectedRank}, but ${weightsPath} has '${a.name}' of shape [${a.shape.join(", ")}] (rank ${rank})`);
        }
        const w = baseWeights.get(p.ggufWeight);
        if (!w) {
            throw new AdapterImportError(`${weightsPath}: tensor '${a.name}' adapts ${p.module}, which is ${p.ggufWeight} in GGUF, and ${opts.model} (${arch}, ${spec.examples}) has no such tensor: ${anotherBase}`);
        }
        // GGUF dims are ne0 first: a base weight [n_in, n_out] is the HF Linear weight [n_out, n_in].
        if (w.dims.length !== 2 || w.dims[0] !== nIn || w.dims[1] !== nOut) {
            throw new AdapterImportError(`${weightsPath}: ${p.module} is adapted as a [${nOut}, ${nIn}] weight (lora_A [${a.shape.join(", ")}], lora_B [${b.shape.join(", ")}]), but ${opts.model}'s ${p.ggufWeight} is [${[...w.dims].reverse().join(", ")}] (GGUF dims [${w.dims.join(", ")}]): ${anotherBase}`);
        }
        return { ...p, rank, nIn, nOut, module: p.module, gguf: p.ggufWeight.split(".")[2]! };
    });

    // alpha_gguf = scale · rank per pair; one value for the file.
    const alphas = shaped.map((p) => Math.fround(peftScale(config, p.module, p.rank) * p.rank));
    const alpha = mostCommon(alphas);
    let rescaledPairs = 0;
    let permutedPairs = 0;
    const tensors: GgufTensorToWrite[] = [];
    // Decided here, before anything is written (so a refusal leaves nothing); the values are read and transformed one
    // tensor at a time while the file is written, so a 70B adapter (gigabytes of F32) is never all in memory.
    shaped.forEach((p, i) => {
        const factor = alphas[i] === alpha ? undefined : (peftScale(config, p.module, p.rank) * p.rank) / alpha;
        if (factor !== undefined) rescaledPairs++;
        let heads: number | undefined;
        if (spec.permutedQK && (p.gguf === "attn_q" || p.gguf === "attn_k")) {
            heads = permutationHeads(base, arch, p.gguf);
            if (heads === undefined) throw new AdapterImportError(`${opts.model}: ${arch}.attention.${p.gguf === "attn_q" ? "head_count" : "head_count_kv"} is missing or varies per layer; cannot re-apply llama.cpp's q/k permutation`);
            if (p.nOut % (2 * heads) !== 0) throw new AdapterImportError(`${weightsPath}: ${p.module} has ${p.nOut} output rows, not a whole number of ${heads} heads of even size: ${anotherBase}`);
            permutedPairs++;
        }
        const readB = (): Uint8Array => {
            let b = readSafetensorsF32(weights, p.b!);
            if (factor !== undefined) b = b.map((v) => v * factor);
            if (heads !== undefined) b = permuteRows(b, p.nOut, p.rank, heads);
            return f32Bytes(b);
        };
        tensors.push({ name: `${p.ggufWeight}.lora_a`, dims: [p.nIn, p.rank], type: GgmlType.F32, data: () => f32Bytes(readSafetensorsF32(weights, p.a!)) });
        tensors.push({ name: `${p.ggufWeight}.lora_b`, dims: [p.rank, p.nOut], type: GgmlType.F32, data: readB });
    });

    const kv: Array<[string, GgufValue]> = [
        ["general.architecture", { type: "string", value: arch }],
        ["general.type", { type: "string", value: "adapter" }],
        ["adapter.type", { type: "string", value: "lora" }],
        ["adapter.lora.alpha", { type: "f32", value: alpha }]
    ];
    if (config.baseModel) kv.push(["lora_studio.peft.base_model_name_or_path", { type: "string", value: config.baseModel }]);

    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    await commitAtomic(opts.out, (temp) => {
        writeGguf(temp, { kv, tensors });
        // The same check chat and evaluation make on load: what is renamed into place is an adapter for this base.
        const mismatch = adapterMismatch(readGguf(temp), base);
        if (mismatch !== undefined) throw new AdapterImportError(`the imported adapter does not fit ${opts.model}: ${mismatch}`);
    });
    // Two bases of the same family and size fit each other's adapters; only their names can tell them apart.
    const warnings: string[] = [];
    const recorded = hfRepoOf(base);
    if (config.baseModel && recorded && config.baseModel.toLowerCase() !== recorded.toLowerCase() && !config.baseModel.toLowerCase().endsWith(`/${recorded.toLowerCase()}`)) {
        warnings.push(`${configPath}: base_model_name_or_path is ${config.baseModel}, but ${opts.model} was converted from ${recorded}; the shapes fit, but an adapter trained on another model of the same size gives nonsense`);
    }
    return {
        warnings,
        out: opts.out, arch, pairs: shaped.length, alpha, rescaledPairs, permutedPairs,
        dtypes: [...new Set([...weights.entries.values()].map((e) => e.dtype))].sort(),
        baseModel: config.baseModel
    };
}
