// The guard every model load passes before llama.cpp (node-llama-cpp's or the engine's) sees a file: train, chat,
// eval, export and the language server call openModelFile, so a truncated download, a file that is not GGUF, a
// header whose tensor table disagrees with its data, a missing or unreadable path and an adapter given as the base
// model all fail the same way, with a message that names the file, the byte and the cause. llama.cpp's own errors
// are terser ("failed to load model") and some corrupt files load as garbage weights instead of failing.
import { readGguf, type ReadGgufOptions } from "./reader";
import { GgufAccessError, GgufFormatError } from "./errors";
import type { GgufFile } from "./types";

/** Which file the caller expected; it words the message and decides the metadata checks. */
export type ModelFileRole = "base model" | "adapter";

export class ModelFileError extends Error {
    constructor(readonly path: string, readonly role: ModelFileRole, message: string, readonly reason?: GgufFormatError | GgufAccessError) {
        super(message);
        this.name = "ModelFileError";
    }
}

export interface OpenModelFileOptions extends ReadGgufOptions {
    /** Default "base model". */
    role?: ModelFileRole;
}

function kvText(file: GgufFile, key: string): string | undefined {
    const value = file.kv.get(key);
    return value?.type === "string" ? value.value : undefined;
}

/**
 * Reads and checks the header of a model or adapter file: throws ModelFileError, or returns the header (without
 * tensor data; tokenizer arrays kept unless `skipArraysOver` says otherwise). A base model must name its
 * architecture and must not be a LoRA adapter; an adapter's own metadata is checked by adapters/adapterFit.ts.
 */
export function openModelFile(path: string, options: OpenModelFileOptions = {}): GgufFile {
    const role = options.role ?? "base model";
    let file: GgufFile;
    try {
        file = readGguf(path, options.skipArraysOver === undefined ? {} : { skipArraysOver: options.skipArraysOver });
    } catch (error) {
        if (error instanceof GgufFormatError || error instanceof GgufAccessError) throw new ModelFileError(path, role, `the ${role} ${error.message}`, error);
        throw error;
    }
    if (role === "base model") {
        if (kvText(file, "general.type") === "adapter") {
            throw new ModelFileError(path, role, `the base model ${path} is a LoRA adapter (general.type "adapter"), not a base model; give the model it was trained on`);
        }
        if (kvText(file, "general.architecture") === undefined) {
            throw new ModelFileError(path, role, `the base model ${path} has no general.architecture string in its GGUF metadata, so no llama.cpp loader can run it; is it a model file?`);
        }
    }
    return file;
}
