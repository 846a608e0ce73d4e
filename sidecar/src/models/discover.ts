// Finds every GGUF on this machine that LoRA Studio can offer as a base model: in the workspace, the models folder
// (loraStudio.modelsFolder or `--dir`), Ollama's store, LM Studio's folders, the Hugging Face hub cache and
// node-llama-cpp's folder (locations.ts says where each is). Each file's header is read for its facts
// (modelFacts.ts). Bounded, and never thrown out of: a folder that is missing is normal, one that cannot be read or is
// too large is noted in `searched`, and a file that is not a readable GGUF is listed as unreadable with the reason.
import { readdirSync, realpathSync, statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import { describeModelFile } from "./modelFacts";
import { listOllamaStore } from "./ollamaStore";
import { standardModelFolders, type FolderLayout, type LocationEnv, type SourceFolder } from "./locations";
import type { FoundModel, ModelDiscovery, ModelSourceId, SearchedFolder } from "./types";

export interface DiscoveryLimits {
    /** Folder levels below a root that are searched (the workspace's data/models/x.gguf is depth 2). */
    maxDepth: number;
    /** Directory entries looked at per root before the search there stops (marked "truncated"). */
    maxEntries: number;
    /** Model files per root. */
    maxModels: number;
}

export const DEFAULT_DISCOVERY_LIMITS: DiscoveryLimits = { maxDepth: 6, maxEntries: 20_000, maxModels: 500 };

export interface DiscoverOptions {
    location: LocationEnv;
    /** Workspace folders (the editor's), or the current directory (the CLI's). */
    workspaceFolders?: readonly string[];
    /** loraStudio.modelsFolder, or the CLI's --dir: where downloads land, searched as its own source. */
    modelsFolder?: string;
    limits?: Partial<DiscoveryLimits>;
}

/** Folders a walk never enters: tools' state, dependencies, and LoRA Studio's own runs (adapters, not base models). */
const SKIPPED_DIRECTORIES = new Set(["node_modules", ".git", ".lora-studio", ".hg", ".svn", "__pycache__", ".venv", "venv"]);

/** The later parts of a split GGUF (`-00002-of-00003.gguf`) belong to the first part's entry. */
function isLaterSplitPart(name: string): boolean {
    const m = /-(\d{5})-of-(\d{5})\.gguf$/i.exec(name);
    return m !== null && Number(m[1]) !== 1;
}

interface Walk {
    files: string[];
    status: SearchedFolder["status"];
    detail?: string;
}

/** GGUF files under `root`, breadth-first, within the limits. Symbolic links to files are followed, to folders not. */
function walkGgufFiles(root: string, limits: DiscoveryLimits, skipHidden: boolean): Walk {
    const files: string[] = [];
    let seen = 0;
    let queue: string[] = [root];
    for (let depth = 0; depth <= limits.maxDepth && queue.length > 0; depth++) {
        const next: string[] = [];
        for (const folder of queue) {
            let entries;
            try {
                entries = readdirSync(folder, { withFileTypes: true });
            } catch (error) {
                if (folder === root) throw error;
                continue;
            }
            entries.sort((a, b) => a.name.localeCompare(b.name));
            for (const entry of entries) {
                if (++seen > limits.maxEntries) return { files, status: "truncated", detail: `stopped after ${limits.maxEntries} entries` };
                const path = join(folder, entry.name);
                if (entry.isDirectory()) {
                    if (!SKIPPED_DIRECTORIES.has(entry.name) && !(skipHidden && entry.name.startsWith("."))) next.push(path);
                    continue;
                }
                if (!/\.gguf$/i.test(entry.name) || isLaterSplitPart(entry.name)) continue;
                if (entry.isSymbolicLink()) {
                    try {
                        if (!statSync(path).isFile()) continue;
                    } catch {
                        // A dangling link is still a model file the user has; describing it says why it cannot be read.
                    }
                } else if (!entry.isFile()) {
                    continue;
                }
                files.push(path);
                if (files.length >= limits.maxModels) return { files, status: "truncated", detail: `stopped after ${limits.maxModels} model files` };
            }
        }
        queue = next;
    }
    return { files, status: "searched" };
}

function slashes(path: string): string {
    return path.split(sep).join("/");
}

function accessProblem(error: unknown): { status: SearchedFolder["status"]; detail?: string } {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { status: "missing" };
    return { status: "unreadable", detail: `${code ?? "error"}: ${(error as Error).message}` };
}

/** The hub cache's GGUFs as `org/repo/path/in/snapshot.gguf`, from models--org--repo/snapshots/<revision>/…. */
function searchHuggingFace(root: string, limits: DiscoveryLimits): { found: Array<{ name: string; path: string }>; walk: Omit<Walk, "files"> } {
    const found: Array<{ name: string; path: string }> = [];
    let repos: string[];
    try {
        repos = readdirSync(root).filter((n) => n.startsWith("models--")).sort();
    } catch (error) {
        return { found, walk: accessProblem(error) };
    }
    let status: SearchedFolder["status"] = "searched";
    let detail: string | undefined;
    for (const repo of repos) {
        const repoId = repo.slice("models--".length).split("--").join("/");
        const snapshots = join(root, repo, "snapshots");
        let revisions: string[];
        try {
            revisions = readdirSync(snapshots).sort();
        } catch {
            continue;
        }
        for (const revision of revisions) {
            const walk = walkGgufFiles(join(snapshots, revision), limits, false);
            if (walk.status === "truncated") ({ status, detail } = walk);
            for (const path of walk.files) {
                let name = `${repoId}/${slashes(relative(join(snapshots, revision), path))}`;
                if (found.some((f) => f.name === name)) name = `${name} (revision ${revision.slice(0, 8)})`;
                found.push({ name, path });
            }
        }
    }
    return { found, walk: { status, ...(detail ? { detail } : {}) } };
}

function describe(source: ModelSourceId, name: string, path: string): FoundModel {
    const description = describeModelFile(path);
    return description.readable ? { source, name, path, readable: true, facts: description.facts } : { source, name, path, readable: false, reason: description.reason };
}

/** Searches one folder of one source; returns its models (not yet deduplicated) and how the search went. */
function searchFolder(source: ModelSourceId, folder: string, layout: FolderLayout, limits: DiscoveryLimits): { models: FoundModel[]; searched: SearchedFolder } {
    const models: FoundModel[] = [];
    if (layout === "ollama") {
        try {
            statSync(join(folder, "manifests"));
        } catch (error) {
            return { models, searched: { source, folder, ...accessProblem(error) } };
        }
        const { entries, truncated } = listOllamaStore(folder, limits.maxModels);
        for (const entry of entries) {
            models.push("blob" in entry ? describe(source, entry.name, entry.blob) : { source, name: entry.name, path: entry.manifest, readable: false, reason: entry.reason });
        }
        return { models, searched: { source, folder, status: truncated ? "truncated" : "searched", ...(truncated ? { detail: `stopped after ${limits.maxModels} models` } : {}) } };
    }
    if (layout === "huggingface") {
        const { found, walk } = searchHuggingFace(folder, limits);
        for (const f of found) models.push(describe(source, f.name, f.path));
        return { models, searched: { source, folder, ...walk } };
    }
    let walk: Walk;
    try {
        walk = walkGgufFiles(folder, limits, source === "workspace");
    } catch (error) {
        return { models, searched: { source, folder, ...accessProblem(error) } };
    }
    for (const path of walk.files) {
        const rel = slashes(relative(folder, path));
        models.push(describe(source, rel === "" ? basename(path) : rel, path));
    }
    return { models, searched: { source, folder, status: walk.status, ...(walk.detail ? { detail: walk.detail } : {}) } };
}

function realpathOr(path: string): string {
    try {
        return realpathSync(path);
    } catch {
        return path;
    }
}

/** Every folder discovery looks in, in list order. */
export function discoveryFolders(options: Pick<DiscoverOptions, "location" | "workspaceFolders" | "modelsFolder">): SourceFolder[] {
    return [
        ...(options.workspaceFolders ?? []).map((folder) => ({ source: "workspace" as const, folder, layout: "files" as const })),
        ...(options.modelsFolder ? [{ source: "modelsFolder" as const, folder: options.modelsFolder, layout: "files" as const }] : []),
        ...standardModelFolders(options.location)
    ];
}

/**
 * Every GGUF found, grouped by source in MODEL_SOURCES order. A file reachable from two places (LM Studio linking into
 * the hub cache, a models folder inside the workspace) is listed once, under the first.
 */
export function discoverModels(options: DiscoverOptions): ModelDiscovery {
    const limits = { ...DEFAULT_DISCOVERY_LIMITS, ...options.limits };
    const models: FoundModel[] = [];
    const searched: SearchedFolder[] = [];
    const seenFiles = new Set<string>();
    const seenFolders = new Set<string>();
    for (const { source, folder, layout } of discoveryFolders(options)) {
        const key = realpathOr(folder);
        if (seenFolders.has(key)) continue;
        seenFolders.add(key);
        const result = searchFolder(source, folder, layout, limits);
        searched.push(result.searched);
        for (const model of result.models) {
            const file = realpathOr(model.path);
            if (seenFiles.has(file)) continue;
            seenFiles.add(file);
            models.push(model);
        }
    }
    return { models, searched };
}
