// Checks that a LoRA adapter GGUF fits a base model before node-llama-cpp is asked to apply it. llama.cpp
// does check shapes, but it reports a mismatch as a bare "failed to load" and some mismatches end in a
// GGML_ASSERT that kills the process; reading the two headers (no tensor data) costs milliseconds and lets
// the error name both files, the tensor and the two shapes.
import { GgufFormatError, readGguf, type GgufFile, type GgufTensorInfo } from "../gguf";

export class AdapterMismatchError extends Error {
    override name = "AdapterMismatchError";
}

function kvText(file: GgufFile, key: string): string | undefined {
    const value = file.kv.get(key);
    return value?.type === "string" ? value.value : undefined;
}

const shape = (t: GgufTensorInfo): string => `[${t.dims.join(", ")}]`;

/** Throws AdapterMismatchError (both paths in the message) when `adapterPath` is not a LoRA for `modelPath`. */
export function checkAdapterFitsModel(modelPath: string, adapterPath: string): void {
    const fail = (detail: string): never => {
        throw new AdapterMismatchError(`adapter ${adapterPath} does not fit base model ${modelPath}: ${detail}`);
    };
    let adapter: GgufFile;
    let model: GgufFile;
    try {
        adapter = readGguf(adapterPath);
    } catch (error) {
        if (error instanceof GgufFormatError) fail(`the adapter is not a valid GGUF file (${error.message})`);
        throw error;
    }
    try {
        model = readGguf(modelPath);
    } catch (error) {
        if (error instanceof GgufFormatError) fail(`the base model is not a valid GGUF file (${error.message})`);
        throw error;
    }

    const generalType = kvText(adapter, "general.type");
    const adapterType = kvText(adapter, "adapter.type");
    if (generalType !== "adapter" || adapterType !== "lora") {
        fail(`it is not a LoRA adapter (general.type = ${JSON.stringify(generalType ?? null)}, adapter.type = ${JSON.stringify(adapterType ?? null)}; expected "adapter" and "lora")`);
    }
    const adapterArch = kvText(adapter, "general.architecture");
    const modelArch = kvText(model, "general.architecture");
    if (adapterArch !== modelArch) fail(`the adapter is for architecture ${JSON.stringify(adapterArch ?? null)}, the base model is ${JSON.stringify(modelArch ?? null)}`);

    const baseTensors = new Map(model.tensors.map((t) => [t.name, t]));
    const pairs = new Map<string, { a?: GgufTensorInfo; b?: GgufTensorInfo }>();
    for (const t of adapter.tensors) {
        const match = /^(.*)\.lora_(a|b)$/.exec(t.name);
        if (!match) fail(`tensor ${t.name} is neither a .lora_a nor a .lora_b tensor`);
        const [, target, half] = match as RegExpExecArray;
        const pair = pairs.get(target!) ?? {};
        pair[half as "a" | "b"] = t;
        pairs.set(target!, pair);
    }
    if (pairs.size === 0) fail("it holds no LoRA tensors");
    for (const [target, { a, b }] of pairs) {
        if (!a || !b) fail(`${target} has a lora_${a ? "a" : "b"} tensor but no lora_${a ? "b" : "a"}`);
        const base = baseTensors.get(target);
        if (!base) fail(`it adapts ${target}, which the base model does not have (an adapter for another base model?)`);
        // ggml order, ne0 first: base [n_in, n_out], lora_a [n_in, rank], lora_b [rank, n_out].
        if (a!.dims[0] !== base!.dims[0] || b!.dims[1] !== base!.dims[1]) {
            fail(`${a!.name} is ${shape(a!)} and ${b!.name} is ${shape(b!)}, but the base model's ${target} is ${shape(base!)} (an adapter trained on another base model?)`);
        }
        if (a!.dims[1] !== b!.dims[0]) fail(`${a!.name} is ${shape(a!)} but ${b!.name} is ${shape(b!)}: their ranks differ`);
    }
}
