// Where each tool keeps its models, per platform and environment: pure (paths in, paths out), so the conventions are
// unit-tested for Linux, macOS and Windows on any machine. Discovery (discover.ts) looks in these folders.
//
// - Ollama: $OLLAMA_MODELS, else ~/.ollama/models (all platforms; on Windows %USERPROFILE%\.ollama\models), and on
//   Linux also the system service's store, /usr/share/ollama/.ollama/models (the install script's `ollama` user).
// - LM Studio: ~/.lmstudio/models (0.3+), and ~/.cache/lm-studio/models (before 0.3), on every platform.
// - Hugging Face hub cache: $HF_HUB_CACHE (or the older $HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub, else
//   $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub (huggingface_hub's constants.py; Windows too).
// - node-llama-cpp: ~/.node-llama-cpp/models (its `cliModelsDirectory`, also the default of `createModelDownloader`).
import { posix, win32 } from "node:path";
import type { ModelSourceId } from "./types";

export interface LocationEnv {
    home: string;
    platform: NodeJS.Platform;
    env: Readonly<Record<string, string | undefined>>;
}

/** How a folder's models are laid out: plain GGUF files, Ollama's manifests and blobs, or the hub cache's snapshots. */
export type FolderLayout = "files" | "ollama" | "huggingface";

export interface SourceFolder {
    source: ModelSourceId;
    folder: string;
    layout: FolderLayout;
}

function set(value: string | undefined): value is string {
    return value !== undefined && value.trim() !== "";
}

/** node-llama-cpp's models folder: where `hf:` and URL downloads land unless loraStudio.modelsFolder says otherwise. */
export function nodeLlamaCppModelsFolder(e: LocationEnv): string {
    return (e.platform === "win32" ? win32 : posix).join(e.home, ".node-llama-cpp", "models");
}

export function huggingFaceHubCache(e: LocationEnv): string {
    const path = e.platform === "win32" ? win32 : posix;
    if (set(e.env.HF_HUB_CACHE)) return e.env.HF_HUB_CACHE;
    if (set(e.env.HUGGINGFACE_HUB_CACHE)) return e.env.HUGGINGFACE_HUB_CACHE;
    if (set(e.env.HF_HOME)) return path.join(e.env.HF_HOME, "hub");
    if (set(e.env.XDG_CACHE_HOME)) return path.join(e.env.XDG_CACHE_HOME, "huggingface", "hub");
    return path.join(e.home, ".cache", "huggingface", "hub");
}

export function ollamaModelFolders(e: LocationEnv): string[] {
    const path = e.platform === "win32" ? win32 : posix;
    if (set(e.env.OLLAMA_MODELS)) return [e.env.OLLAMA_MODELS];
    const folders = [path.join(e.home, ".ollama", "models")];
    if (e.platform === "linux") folders.push("/usr/share/ollama/.ollama/models");
    return folders;
}

export function lmStudioModelFolders(e: LocationEnv): string[] {
    const path = e.platform === "win32" ? win32 : posix;
    return [path.join(e.home, ".lmstudio", "models"), path.join(e.home, ".cache", "lm-studio", "models")];
}

/** The tools' folders, in the order lists show them (the workspace and loraStudio.modelsFolder come first, from the caller). */
export function standardModelFolders(e: LocationEnv): SourceFolder[] {
    return [
        ...ollamaModelFolders(e).map((folder) => ({ source: "ollama" as const, folder, layout: "ollama" as const })),
        ...lmStudioModelFolders(e).map((folder) => ({ source: "lmstudio" as const, folder, layout: "files" as const })),
        { source: "huggingface", folder: huggingFaceHubCache(e), layout: "huggingface" },
        { source: "node-llama-cpp", folder: nodeLlamaCppModelsFolder(e), layout: "files" }
    ];
}
