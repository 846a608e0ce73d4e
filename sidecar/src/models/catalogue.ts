// The catalogue: base models worth fine-tuning, each a Q4_K_M GGUF on Hugging Face named by an exact
// `hf:<org>/<repo>/<file>` URI, so the file name (and whether it is already on disk) is known without asking the hub.
//
// UNVERIFIED OFFLINE: the repositories and file names follow the well-known bartowski/… and TheBloke/… GGUF repos as
// they were published, and downloadBytes is the size those repos listed, rounded to 10 MB (GB = 10^9 bytes); neither
// was checked against the hub when this list was written (no network), so lists print sizes as "≈" and a renamed file
// shows up as a clear 404 from `lora-studio models pull`.

export interface CatalogueEntry {
    /** Stable id: `lora-studio models pull <id>` takes it too. */
    id: string;
    /** As the model's authors name it. */
    label: string;
    /** An exact file: `hf:<org>/<repo>/<file>.gguf`. */
    uri: string;
    /** ≈ the file's size, as the repository listed it (see the header). */
    downloadBytes: number;
    /** The published parameter count. */
    parameters: number;
    contextLength: number;
    /** The published architecture (config.json), for the memory estimate before anything downloads (catalogueEstimate.ts). */
    shape: CatalogueShape;
}

/**
 * A model's published transformer shape, as its config.json gives it (UNVERIFIED OFFLINE like the sizes: copied from
 * the model cards, not read from the files). `arch` is the GGUF architecture llama.cpp converts it to.
 */
export interface CatalogueShape {
    arch: string;
    nLayer: number;
    nEmbd: number;
    nFf: number;
    nHead: number;
    nHeadKv: number;
    /** Per attention head; when absent, nEmbd / nHead (Qwen3 and Gemma set it apart). */
    headDim?: number;
    nVocab: number;
    /** The output projection is the token embedding (no separate output.weight). */
    tiedEmbeddings: boolean;
}

const hf = (repo: string, file: string): string => `hf:${repo}/${file}`;

export const CATALOGUE: readonly CatalogueEntry[] = [
    { id: "qwen2.5-0.5b-instruct", label: "Qwen2.5-0.5B-Instruct", uri: hf("bartowski/Qwen2.5-0.5B-Instruct-GGUF", "Qwen2.5-0.5B-Instruct-Q4_K_M.gguf"), downloadBytes: 0.40e9, parameters: 0.494e9, contextLength: 32768,
        shape: { arch: "qwen2", nLayer: 24, nEmbd: 896, nFf: 4864, nHead: 14, nHeadKv: 2, nVocab: 151936, tiedEmbeddings: true } },
    { id: "qwen3-0.6b", label: "Qwen3-0.6B", uri: hf("bartowski/Qwen_Qwen3-0.6B-GGUF", "Qwen_Qwen3-0.6B-Q4_K_M.gguf"), downloadBytes: 0.48e9, parameters: 0.596e9, contextLength: 40960,
        shape: { arch: "qwen3", nLayer: 28, nEmbd: 1024, nFf: 3072, nHead: 16, nHeadKv: 8, headDim: 128, nVocab: 151936, tiedEmbeddings: true } },
    { id: "tinyllama-1.1b-chat", label: "TinyLlama-1.1B-Chat-v1.0", uri: hf("TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf"), downloadBytes: 0.67e9, parameters: 1.1e9, contextLength: 2048,
        shape: { arch: "llama", nLayer: 22, nEmbd: 2048, nFf: 5632, nHead: 32, nHeadKv: 4, nVocab: 32000, tiedEmbeddings: false } },
    { id: "gemma-3-1b-it", label: "Gemma-3-1B-it", uri: hf("bartowski/google_gemma-3-1b-it-GGUF", "google_gemma-3-1b-it-Q4_K_M.gguf"), downloadBytes: 0.81e9, parameters: 1.0e9, contextLength: 32768,
        shape: { arch: "gemma3", nLayer: 26, nEmbd: 1152, nFf: 6912, nHead: 4, nHeadKv: 1, headDim: 256, nVocab: 262144, tiedEmbeddings: true } },
    { id: "llama-3.2-1b-instruct", label: "Llama-3.2-1B-Instruct", uri: hf("bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf"), downloadBytes: 0.81e9, parameters: 1.24e9, contextLength: 131072,
        shape: { arch: "llama", nLayer: 16, nEmbd: 2048, nFf: 8192, nHead: 32, nHeadKv: 8, nVocab: 128256, tiedEmbeddings: true } },
    { id: "qwen2.5-1.5b-instruct", label: "Qwen2.5-1.5B-Instruct", uri: hf("bartowski/Qwen2.5-1.5B-Instruct-GGUF", "Qwen2.5-1.5B-Instruct-Q4_K_M.gguf"), downloadBytes: 0.99e9, parameters: 1.54e9, contextLength: 32768,
        shape: { arch: "qwen2", nLayer: 28, nEmbd: 1536, nFf: 8960, nHead: 12, nHeadKv: 2, nVocab: 151936, tiedEmbeddings: true } },
    { id: "smollm2-1.7b-instruct", label: "SmolLM2-1.7B-Instruct", uri: hf("bartowski/SmolLM2-1.7B-Instruct-GGUF", "SmolLM2-1.7B-Instruct-Q4_K_M.gguf"), downloadBytes: 1.06e9, parameters: 1.71e9, contextLength: 8192,
        shape: { arch: "llama", nLayer: 24, nEmbd: 2048, nFf: 8192, nHead: 32, nHeadKv: 32, nVocab: 49152, tiedEmbeddings: true } },
    { id: "qwen3-1.7b", label: "Qwen3-1.7B", uri: hf("bartowski/Qwen_Qwen3-1.7B-GGUF", "Qwen_Qwen3-1.7B-Q4_K_M.gguf"), downloadBytes: 1.11e9, parameters: 1.72e9, contextLength: 40960,
        shape: { arch: "qwen3", nLayer: 28, nEmbd: 2048, nFf: 6144, nHead: 16, nHeadKv: 8, headDim: 128, nVocab: 151936, tiedEmbeddings: true } },
    { id: "gemma-2-2b-it", label: "Gemma-2-2B-it", uri: hf("bartowski/gemma-2-2b-it-GGUF", "gemma-2-2b-it-Q4_K_M.gguf"), downloadBytes: 1.71e9, parameters: 2.61e9, contextLength: 8192,
        shape: { arch: "gemma2", nLayer: 26, nEmbd: 2304, nFf: 9216, nHead: 8, nHeadKv: 4, headDim: 256, nVocab: 256000, tiedEmbeddings: true } },
    { id: "llama-3.2-3b-instruct", label: "Llama-3.2-3B-Instruct", uri: hf("bartowski/Llama-3.2-3B-Instruct-GGUF", "Llama-3.2-3B-Instruct-Q4_K_M.gguf"), downloadBytes: 2.02e9, parameters: 3.21e9, contextLength: 131072,
        shape: { arch: "llama", nLayer: 28, nEmbd: 3072, nFf: 8192, nHead: 24, nHeadKv: 8, nVocab: 128256, tiedEmbeddings: true } },
    { id: "phi-3.5-mini-instruct", label: "Phi-3.5-mini-instruct", uri: hf("bartowski/Phi-3.5-mini-instruct-GGUF", "Phi-3.5-mini-instruct-Q4_K_M.gguf"), downloadBytes: 2.39e9, parameters: 3.82e9, contextLength: 131072,
        shape: { arch: "phi3", nLayer: 32, nEmbd: 3072, nFf: 8192, nHead: 32, nHeadKv: 32, nVocab: 32064, tiedEmbeddings: false } },
    { id: "mistral-7b-instruct-v0.3", label: "Mistral-7B-Instruct-v0.3", uri: hf("bartowski/Mistral-7B-Instruct-v0.3-GGUF", "Mistral-7B-Instruct-v0.3-Q4_K_M.gguf"), downloadBytes: 4.37e9, parameters: 7.25e9, contextLength: 32768,
        shape: { arch: "llama", nLayer: 32, nEmbd: 4096, nFf: 14336, nHead: 32, nHeadKv: 8, nVocab: 32768, tiedEmbeddings: false } }
];

export function catalogueEntry(id: string): CatalogueEntry | undefined {
    return CATALOGUE.find((e) => e.id === id);
}

/** The file name a catalogue entry's URI downloads to (the last part of its path). */
export function catalogueFileName(entry: CatalogueEntry): string {
    return entry.uri.slice(entry.uri.lastIndexOf("/") + 1);
}

/**
 * The entries none of whose files is among `foundPaths`, matched by file name case-insensitively wherever found: as
 * `lora-studio models pull` and the Hugging Face cache name it, or as node-llama-cpp's own pull does
 * (`hf_<user>_[<repo>_]<file>`).
 */
export function catalogueNotOnDisk(foundPaths: readonly string[]): CatalogueEntry[] {
    const names = foundPaths.map((p) => p.split(/[\\/]/).pop()!.toLowerCase());
    const onDisk = (file: string): boolean => names.some((n) => n === file || (n.startsWith("hf_") && n.endsWith(`_${file}`)));
    return CATALOGUE.filter((e) => !onDisk(catalogueFileName(e).toLowerCase()));
}
