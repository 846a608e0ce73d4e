// Can this base model file be trained with these LoRA targets? Answered from the GGUF header alone (no tensor data,
// no tokenizer arrays), for the language server's probe, the Start Training wizard and run/start, so the three say
// the same thing. The rules are pure (engine/architectures.ts, targetCheck.ts); this file reads the header.
import { GgufFormatError, readGguf, type GgufFile } from "../gguf";
import { checkTrainable, type Trainability } from "../engine/architectures";
import type { TargetName } from "../engine/types";
import { checkTargets } from "./targetCheck";

/** Arrays longer than this (the tokenizer's) are skipped: the checks need the architecture keys and the tensor table. */
const HEADER_ARRAY_LIMIT = 4096;

/** The GGUF header without the tokenizer arrays: ~0.1 s for a 262k-token vocabulary instead of 1.4 s. */
export function readModelHeader(path: string): GgufFile {
    return readGguf(path, { skipArraysOver: HEADER_ARRAY_LIMIT });
}

export type ModelTrainability = Trainability | { trainable: false; arch: string; reason: string; unreadable: true };

/** checkTrainable on a file; a file that is not a readable GGUF is not trainable, with the reader's reason. */
export function trainabilityOfFile(path: string): ModelTrainability {
    let header: GgufFile;
    try {
        header = readModelHeader(path);
    } catch (error) {
        const reason = error instanceof GgufFormatError ? error.message.replace(`${path}: `, "") : (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        return { trainable: false, arch: "", reason: `it cannot be read as a GGUF model (${reason})`, unreadable: true };
    }
    return checkTrainable(header);
}

export class ModelCheckError extends Error {
    constructor(message: string, readonly hint: string) {
        super(message);
        this.name = "ModelCheckError";
    }
}

/**
 * run/start's check, before the dataset is tokenized or the engine loads anything: throws ModelCheckError naming the
 * model (and `configFile` with the field for a target problem) when the model cannot be trained with these targets.
 * Returns the notes (partial fused selections) for the run log.
 */
export function checkModelForRun(modelPath: string, targets: readonly TargetName[], configFile: string): string[] {
    let header: GgufFile;
    try {
        header = readModelHeader(modelPath);
    } catch (error) {
        if (error instanceof GgufFormatError) throw new ModelCheckError(error.message, "Pick a GGUF model file (convert it with llama.cpp's convert_hf_to_gguf.py).");
        throw new ModelCheckError(`cannot read the model ${modelPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, "Check the model path in the config.");
    }
    const trainability = checkTrainable(header);
    if (!trainability.trainable) {
        throw new ModelCheckError(`${modelPath} cannot be trained: ${trainability.reason}`, "Pick a base model of a supported architecture (docs/architectures.md).");
    }
    const problems = checkTargets(trainability.spec, targets, header.tensors.map((t) => t.name));
    const blocking = problems.filter((p) => p.severity !== "info");
    if (blocking.length > 0) {
        const lines = blocking.map((p) => `${configFile}: targetModules[${p.index}] "${p.target}": ${p.message}`);
        throw new ModelCheckError(`${lines.join("\n")}\n(model: ${modelPath})`, "Fix targetModules for this model (docs/architectures.md lists each architecture's targets).");
    }
    return problems.map((p) => `${configFile}: targetModules[${p.index}] "${p.target}": ${p.message}`);
}
