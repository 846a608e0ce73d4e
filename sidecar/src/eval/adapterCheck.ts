// Checks a GGUF LoRA adapter against its base model from their headers alone, before anything is loaded, so a
// wrong file gets an error that names both files and says what does not fit. (llama.cpp would refuse it too,
// but node-llama-cpp reports only "failed to load".)
import { existsSync } from "node:fs";
import { GgufFormatError, readGguf, type GgufFile } from "../gguf";

export class AdapterMismatchError extends Error {
    override name = "AdapterMismatchError";
    constructor(readonly adapterPath: string, readonly modelPath: string, detail: string) {
        super(`adapter ${adapterPath} cannot be used with base model ${modelPath}: ${detail}`);
    }
}

function header(path: string, what: string, adapterPath: string, modelPath: string): GgufFile {
    if (!existsSync(path)) throw new AdapterMismatchError(adapterPath, modelPath, `the ${what} file does not exist`);
    try {
        return readGguf(path);
    } catch (error) {
        const detail = error instanceof GgufFormatError ? error.message : `${path}: ${(error as Error).message}`;
        throw new AdapterMismatchError(adapterPath, modelPath, `the ${what} is not a readable GGUF file (${detail})`);
    }
}

function stringKv(file: GgufFile, key: string): string | undefined {
    const value = file.kv.get(key);
    return value?.type === "string" ? value.value : undefined;
}

const LORA_A = ".lora_a";

/**
 * Throws AdapterMismatchError unless `adapterPath` is a GGUF LoRA adapter whose every tensor pair fits a weight
 * of `modelPath` (ggml order: lora_a is [n_in, rank], lora_b is [rank, n_out], the weight [n_in, n_out]).
 */
export function checkAdapterFitsModel(modelPath: string, adapterPath: string): void {
    const adapter = header(adapterPath, "adapter", adapterPath, modelPath);
    const model = header(modelPath, "base model", adapterPath, modelPath);
    const type = stringKv(adapter, "general.type");
    const loraType = stringKv(adapter, "adapter.type");
    if (type !== "adapter" || loraType !== "lora") {
        throw new AdapterMismatchError(adapterPath, modelPath, `it is not a GGUF LoRA adapter (general.type ${JSON.stringify(type ?? null)}, adapter.type ${JSON.stringify(loraType ?? null)})`);
    }
    const adapterArch = stringKv(adapter, "general.architecture");
    const modelArch = stringKv(model, "general.architecture");
    if (adapterArch !== undefined && modelArch !== undefined && adapterArch !== modelArch) {
        throw new AdapterMismatchError(adapterPath, modelPath, `the adapter is for a ${adapterArch} model but the base model is ${modelArch}; it was trained on another base model`);
    }
    const weights = new Map(model.tensors.map((t) => [t.name, t.dims]));
    const tensors = new Map(adapter.tensors.map((t) => [t.name, t.dims]));
    let pairs = 0;
    for (const [name, a] of tensors) {
        if (!name.endsWith(LORA_A)) continue;
        const weightName = name.slice(0, -LORA_A.length);
        const b = tensors.get(`${weightName}.lora_b`);
        const weight = weights.get(weightName);
        if (!b) throw new AdapterMismatchError(adapterPath, modelPath, `tensor ${name} has no matching ${weightName}.lora_b; the adapter file is incomplete`);
        if (!weight) throw new AdapterMismatchError(adapterPath, modelPath, `the base model has no tensor ${weightName}; the adapter was trained on another base model`);
        const [nIn, rank] = a;
        const nOut = b[1];
        if (weight[0] !== nIn || weight[1] !== nOut || b[0] !== rank) {
            throw new AdapterMismatchError(
                adapterPath,
                modelPath,
                `${weightName} is ${weight[0]}×${weight[1]} in the base model but the adapter expects ${nIn}×${nOut}; it was trained on another base model`
            );
        }
        pairs++;
    }
    if (pairs === 0) throw new AdapterMismatchError(adapterPath, modelPath, "the adapter holds no LoRA tensors (…lora_a / …lora_b)");
}
