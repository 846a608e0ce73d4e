// Ollama's model store: manifests/<registry>/<namespace>/<model>/<tag> are JSON manifests whose layer of media type
// application/vnd.ollama.image.model names the GGUF blob by digest (blobs/sha256-<hex>). Models are shown under the
// names `ollama list` prints: `llama3.2:1b` for the default registry's library, `user/model:tag` for other namespaces,
// `host/namespace/model:tag` for other registries.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const DEFAULT_REGISTRY = "registry.ollama.ai";
const DEFAULT_NAMESPACE = "library";
const MODEL_LAYER = "application/vnd.ollama.image.model";
/** A manifest is a few hundred bytes; anything this large is not one. */
const MAX_MANIFEST_BYTES = 1 << 20;

export type OllamaEntry = { name: string; blob: string } | { name: string; manifest: string; reason: string };

/** The name `ollama list` shows for a manifest at manifests/<registry>/<namespace>/<model>/<tag>. */
export function ollamaModelName(registry: string, namespace: string, model: string, tag: string): string {
    if (registry === DEFAULT_REGISTRY && namespace === DEFAULT_NAMESPACE) return `${model}:${tag}`;
    if (registry === DEFAULT_REGISTRY) return `${namespace}/${model}:${tag}`;
    return `${registry}/${namespace}/${model}:${tag}`;
}

function directories(folder: string): string[] {
    try {
        return readdirSync(folder, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    } catch {
        return [];
    }
}

function files(folder: string): string[] {
    try {
        return readdirSync(folder, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort();
    } catch {
        return [];
    }
}

/** The blob a manifest's model layer names, or why there is none. */
export function modelBlobOf(root: string, manifestPath: string): { blob: string } | { reason: string } {
    let manifest: unknown;
    try {
        if (statSync(manifestPath).size > MAX_MANIFEST_BYTES) return { reason: `${manifestPath}: not an Ollama manifest (larger than 1 MiB)` };
        manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    } catch (error) {
        return { reason: `${manifestPath}: not a readable Ollama manifest: ${(error as Error).message}` };
    }
    const layers = (manifest as { layers?: unknown }).layers;
    if (!Array.isArray(layers)) return { reason: `${manifestPath}: the Ollama manifest has no "layers" list` };
    const layer = layers.find((l) => (l as { mediaType?: unknown }).mediaType === MODEL_LAYER) as { digest?: unknown } | undefined;
    if (!layer) return { reason: `${manifestPath}: the Ollama manifest has no ${MODEL_LAYER} layer` };
    const digest = typeof layer.digest === "string" ? layer.digest : "";
    const match = /^sha256[:-]([0-9a-f]{64})$/.exec(digest);
    if (!match) return { reason: `${manifestPath}: the model layer's digest ${JSON.stringify(layer.digest)} is not sha256:<64 hex digits>` };
    // Current Ollama names blobs sha256-<hex>; releases before 0.1.30 used sha256:<hex> (impossible on Windows).
    for (const name of [`sha256-${match[1]}`, `sha256:${match[1]}`]) {
        const blob = join(root, "blobs", name);
        if (existsSync(blob)) return { blob };
    }
    return { reason: `${manifestPath}: its model blob blobs/sha256-${match[1]} is missing (an interrupted \`ollama pull\`?)` };
}

/** Every model in an Ollama store at `root` (the folder holding manifests/ and blobs/); at most `limit` manifests. */
export function listOllamaStore(root: string, limit: number): { entries: OllamaEntry[]; truncated: boolean } {
    const entries: OllamaEntry[] = [];
    const manifests = join(root, "manifests");
    for (const registry of directories(manifests)) {
        for (const namespace of directories(join(manifests, registry))) {
            for (const model of directories(join(manifests, registry, namespace))) {
                for (const tag of files(join(manifests, registry, namespace, model))) {
                    if (entries.length >= limit) return { entries, truncated: true };
                    const name = ollamaModelName(registry, namespace, model, tag);
                    const manifest = join(manifests, registry, namespace, model, tag);
                    const found = modelBlobOf(root, manifest);
                    entries.push("blob" in found ? { name, blob: found.blob } : { name, manifest, reason: found.reason });
                }
            }
        }
    }
    return { entries, truncated: false };
}
