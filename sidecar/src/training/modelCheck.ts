// Can this base model file be trained? Answered from the GGUF header alone (no tensor data, no tokenizer arrays), for
// the run-config probe (runConfigProbe.ts: the language server, `lora-studio train` and run/start) and the Start
// Training wizard, so they say the same thing. The header is read through the one load guard (gguf/openModelFile.ts),
// so a truncated, corrupt, missing or unreadable file fails here as it does in chat, eval and export: the file, the
// byte and the cause. The rules are pure (engine/architectures.ts, targetCheck.ts); this file reads the header.
import { ModelFileError, openModelFile, type GgufFile } from "../gguf";
import { checkTrainable, type Trainability } from "../engine/architectures";

/** Arrays longer than this (the tokenizer's) are skipped: the checks need the architecture keys and the tensor table. */
const HEADER_ARRAY_LIMIT = 4096;

/**
 * The guarded GGUF header of a base model without the tokenizer arrays (~0.1 s for a 262k-token vocabulary instead of
 * 1.4 s). Throws ModelFileError naming the file, and for a damaged file the byte and the cause.
 */
export function readModelHeader(path: string): GgufFile {
    return openModelFile(path, { skipArraysOver: HEADER_ARRAY_LIMIT });
}

export type ModelTrainability = Trainability | { trainable: false; arch: string; reason: string; unreadable: true };

/** checkTrainable on a file; a file the guard refuses is not trainable, with the guard's reason. */
export function trainabilityOfFile(path: string): ModelTrainability {
    let header: GgufFile;
    try {
        header = readModelHeader(path);
    } catch (error) {
        if (!(error instanceof ModelFileError)) throw error;
        // Not GGUF, damaged or unreadable: the reader's words; readable but not a base model (an adapter): the guard's.
        if (!error.reason) return { trainable: false, arch: "", reason: error.message };
        return { trainable: false, arch: "", reason: `it cannot be read as a GGUF model (${error.reason.message})`, unreadable: true };
    }
    return checkTrainable(header);
}
