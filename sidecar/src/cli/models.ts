// `lora-studio models list|pull`: the base models on this machine (models/discover.ts) and the catalogue's downloads
// (models/catalogue.ts, models/pull.ts). Flags are declared once, in the schemas below (CLI-only: the editor's
// "Choose Base Model" sends its own fields, the modelsFolder setting and a preset, as models/list and models/pull).
import { homedir } from "node:os";
import { resolve } from "node:path";
import { catalogueEntry, catalogueNotOnDisk, type CatalogueEntry } from "../models/catalogue";
import { discoverModels } from "../models/discover";
import { nodeLlamaCppModelsFolder, type LocationEnv } from "../models/locations";
import { formatBytes, formatParameterCount } from "../models/modelFacts";
import { ModelPullError, pullModel, type PullProgress } from "../models/pull";
import { MODEL_SOURCE_LABELS, MODEL_SOURCES, type FoundModel, type ModelDiscovery } from "../models/types";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import type { ParamSchema } from "../params/schema";
import { UsageError, type CliCommand } from "./types";

const dir = { kind: "path", flag: "dir", placeholder: "D", describe: "models folder: searched (list), downloaded into (pull; default ~/.node-llama-cpp/models)" } as const;

export const MODELS_LIST_PARAMS = {
    dir,
    json: { kind: "boolean", rpc: false, flag: "json", describe: "print {\"models\",\"searched\",\"notDownloaded\"} as JSON" }
} as const satisfies ParamSchema;

export const MODELS_PULL_PARAMS = { dir } as const satisfies ParamSchema;

const usage = `Usage: lora-studio models list [--json] [--dir D]
       lora-studio models pull <hf:ORG/REPO/FILE.gguf | https://…/FILE.gguf | CATALOGUE-ID> [--dir D]

list  every GGUF in the current folder, the models folder (--dir), Ollama's store ($OLLAMA_MODELS or ~/.ollama/models),
      LM Studio's folders, the Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub) and ~/.node-llama-cpp/models, with
      architecture, parameters, quantization, context length and whether LoRA Studio trains it; then the catalogue's
      models not on disk. Headers only: no model is loaded.
pull  downloads one model (progress on stderr), checks it is a readable GGUF, and prints its path. Ctrl+C or a lost
      connection keeps <file>.partial; pulling the same URI again resumes it.

Options:
${optionsUsage(MODELS_LIST_PARAMS, MODELS_PULL_PARAMS)}`;

function locationEnv(): LocationEnv {
    return { home: homedir(), platform: process.platform, env: process.env };
}

function modelLine(m: FoundModel): string {
    if (!m.readable) return `  ${m.name}\n      unreadable: ${m.reason}`;
    const f = m.facts;
    const ctx = f.contextLength !== undefined ? `, ctx ${f.contextLength}` : "";
    const split = f.splitParts !== undefined ? `, ${f.splitParts} parts` : "";
    const train = f.trainable ? "trainable" : `not trainable: ${f.notTrainableReason ?? ""}`;
    return `  ${m.name}\n      ${f.architecture}, ${formatParameterCount(f.parameterCount)} params, ${f.quantization}${ctx}, ${formatBytes(f.fileBytes)}${split}; ${train}\n      ${m.path}`;
}

function catalogueLine(e: CatalogueEntry): string {
    return `  ${e.id.padEnd(26)} ${e.label}, ${formatParameterCount(e.parameters)} params, ≈${formatBytes(e.downloadBytes)}\n      lora-studio models pull ${e.uri}`;
}

function listText(found: ModelDiscovery, notDownloaded: readonly CatalogueEntry[]): string {
    const parts: string[] = [];
    for (const source of MODEL_SOURCES) {
        const models = found.models.filter((m) => m.source === source);
        const folders = found.searched.filter((s) => s.source === source && s.status !== "missing");
        if (models.length === 0 && folders.every((f) => f.status === "searched")) continue;
        const notes = folders.filter((f) => f.status !== "searched").map((f) => `  (${f.folder}: ${f.status}${f.detail ? `, ${f.detail}` : ""})`);
        parts.push([`${MODEL_SOURCE_LABELS[source].replace("loraStudio.modelsFolder", "--dir")}:`, ...models.map(modelLine), ...notes].join("\n"));
    }
    if (found.models.length === 0) parts.push("No GGUF models found on disk.");
    if (notDownloaded.length > 0) parts.push(["Catalogue (not downloaded):", ...notDownloaded.map(catalogueLine)].join("\n"));
    return `${parts.join("\n\n")}\n`;
}

async function list(args: string[]): Promise<number> {
    const { values } = parseCliArgs(MODELS_LIST_PARAMS, args);
    const found = discoverModels({
        location: locationEnv(),
        workspaceFolders: [process.cwd()],
        ...(values.dir !== undefined ? { modelsFolder: resolve(values.dir) } : {})
    });
    const notDownloaded = catalogueNotOnDisk(found.models.filter((m) => m.readable).map((m) => m.path));
    process.stdout.write(values.json ? `${JSON.stringify({ ...found, notDownloaded }, null, 2)}\n` : listText(found, notDownloaded));
    return 0;
}

/** Progress on stderr: a redrawn line on a TTY, otherwise a line about every 10%. */
function progressPrinter(): { onProgress: (p: PullProgress) => void; done: () => void } {
    const tty = process.stderr.isTTY === true;
    let lastTenth = -1;
    let drawn = false;
    const text = (p: PullProgress): string => p.totalBytes > 0
        ? `${formatBytes(p.downloadedBytes)} / ${formatBytes(p.totalBytes)} (${Math.floor((100 * p.downloadedBytes) / p.totalBytes)}%)`
        : formatBytes(p.downloadedBytes);
    return {
        onProgress(p) {
            if (tty) {
                process.stderr.write(`\rdownloading ${text(p)}\x1b[K`);
                drawn = true;
                return;
            }
            const tenth = p.totalBytes > 0 ? Math.floor((10 * p.downloadedBytes) / p.totalBytes) : Math.floor(p.downloadedBytes / 100e6);
            if (tenth !== lastTenth) process.stderr.write(`downloading ${text(p)}\n`);
            lastTenth = tenth;
        },
        done() {
            if (drawn) process.stderr.write("\n");
            drawn = false;
        }
    };
}

async function pull(args: string[]): Promise<number> {
    const { values, positionals } = parseCliArgs(MODELS_PULL_PARAMS, args, { positionals: true });
    if (positionals.length !== 1) throw new UsageError("give exactly one model: an hf: URI, an https:// or http:// URL, or a catalogue id");
    const uri = catalogueEntry(positionals[0]!)?.uri ?? positionals[0]!;
    const folder = resolve(values.dir ?? nodeLlamaCppModelsFolder(locationEnv()));
    const controller = new AbortController();
    const onSigint = (): void => controller.abort();
    process.once("SIGINT", onSigint);
    const progress = progressPrinter();
    try {
        const result = await pullModel({ uri, dir: folder, signal: controller.signal, onProgress: progress.onProgress });
        progress.done();
        const f = result.facts;
        if (result.alreadyPresent) process.stderr.write(`already downloaded: ${result.path}\n`);
        else if (result.resumedFrom > 0) process.stderr.write(`resumed from byte ${result.resumedFrom}\n`);
        process.stderr.write(`${f.architecture}, ${formatParameterCount(f.parameterCount)} params, ${f.quantization}; ${f.trainable ? "trainable" : `not trainable: ${f.notTrainableReason ?? ""}`}\n`);
        process.stdout.write(`${result.path}\n`);
        return 0;
    } catch (error) {
        progress.done();
        if (error instanceof ModelPullError && error.problem === "cancelled") {
            process.stderr.write(`lora-studio models pull: ${error.message}\n`);
            return 130;
        }
        throw error;
    } finally {
        process.off("SIGINT", onSigint);
    }
}

export const modelsCommand: CliCommand = {
    summary: "list base models on this machine and in the catalogue, or download one (models list | models pull URI)",
    usage,
    async run(args) {
        const [sub, ...rest] = args;
        if (sub === "list") return list(rest);
        if (sub === "pull") return pull(rest);
        throw new UsageError(sub === undefined ? "give a subcommand: list or pull" : `unknown subcommand '${sub}': list or pull`);
    }
};
