// What `lora-studio models list` and "LoRA Studio: Choose Base Model" (models/list) show: every GGUF found on disk, with
// the facts its header gives. Plain data, printed by the CLI as text or JSON and sent over the sidecar protocol, so it
// lives on the protocol floor (free of node imports) and sidecar/src/models/types.ts re-exports it for the core.

/** Where a model was found, in the order the lists show them. */
export const MODEL_SOURCES = ["workspace", "modelsFolder", "ollama", "lmstudio", "huggingface", "node-llama-cpp"] as const;
export type ModelSourceId = (typeof MODEL_SOURCES)[number];

/** How each source is titled in lists. */
export const MODEL_SOURCE_LABELS: Readonly<Record<ModelSourceId, string>> = {
    workspace: "Workspace",
    modelsFolder: "Models folder (loraStudio.modelsFolder)",
    ollama: "Ollama",
    lmstudio: "LM Studio",
    huggingface: "Hugging Face cache",
    "node-llama-cpp": "node-llama-cpp"
};

/** Read from the GGUF header alone: no tensor data, no tokenizer arrays. */
export interface ModelFacts {
    /** general.architecture, e.g. "llama". */
    architecture: string;
    /** Elements of every tensor in the header's table (each weight once, so tied embeddings count once). */
    parameterCount: number;
    /** "Q4_K_M", "F16", … from general.file_type; the most common weight type when the key is missing. */
    quantization: string;
    /** `<arch>.context_length`, when the header has it. */
    contextLength?: number;
    /** Bytes on disk. */
    fileBytes: number;
    /** Whether the engine trains it (engine/architectures.ts), and why not. */
    trainable: boolean;
    notTrainableReason?: string;
    /** `split.count` > 1: only this first part was found as an entry (the others are its continuation). */
    splitParts?: number;
}

interface FoundModelBase {
    source: ModelSourceId;
    /** As the source's own tool shows it: `llama3.2:1b` (Ollama), `org/repo/file.gguf` (Hugging Face, LM Studio), a relative path. */
    name: string;
    /** The GGUF to load (an Ollama blob, a Hugging Face snapshot link, …). */
    path: string;
}

/** A GGUF whose header was read, or a model file that could not be (with the reason). */
export type FoundModel =
    | (FoundModelBase & { readable: true; facts: ModelFacts })
    | (FoundModelBase & { readable: false; reason: string });

/** A folder that was looked in, and what happened there. */
export interface SearchedFolder {
    source: ModelSourceId;
    folder: string;
    /** "missing" is the usual case (the tool is not installed) and not an error. */
    status: "searched" | "missing" | "unreadable" | "truncated";
    detail?: string;
}

export interface ModelDiscovery {
    models: FoundModel[];
    searched: SearchedFolder[];
}
