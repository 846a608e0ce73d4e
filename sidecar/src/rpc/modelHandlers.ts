// models/list and models/pull: the wire face of sidecar/src/models/ (the CLI's `lora-studio models list|pull` is the
// other). Listing reads GGUF headers only, so it needs a session but no trust and no engine; pulling writes a
// download into a folder a setting names, so it needs a trusted workspace. A pull is cancelled through the request's
// CancellationToken, which becomes the AbortSignal of pullModel; its progress goes out as models/pullProgress.
import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import type { CancellationToken, MessageConnection } from "vscode-jsonrpc";
import { ResponseError } from "vscode-jsonrpc";
import {
    ModelsListRequest, ModelsPullProgressNotification, ModelsPullRequest, SidecarErrorCode,
    type CatalogueOffer, type ModelsListParams, type ModelsListResult, type ModelsPullParams, type ModelsPullResult,
    type SidecarCapabilities, type SidecarErrorData
} from "../protocol/sidecar";
import { catalogueEntry, catalogueNotOnDisk, type CatalogueEntry } from "../models/catalogue";
import { presetMemoryEstimate } from "../models/catalogueEstimate";
import { discoverModels } from "../models/discover";
import { nodeLlamaCppModelsFolder, type LocationEnv } from "../models/locations";
import { ModelPullError, pullModel, type ModelPullProblem, type PullProgress } from "../models/pull";
import { detectPreset, isTrainingPresetId, type TrainingPresetId } from "../training/presets";
import { sidecarError } from "./errors";

export interface ModelHandlerContext {
    requireSession(): void;
    requireTrust(): void;
    capabilities(): SidecarCapabilities;
    workspaceRoot(): string | undefined;
}

function locationEnv(): LocationEnv {
    return { home: homedir(), platform: process.platform, env: process.env };
}

/** A setting's folder: absolute as given (or under ~), relative to the workspace folder otherwise; undefined when empty. */
function folderOf(value: unknown, field: string, root: string | undefined): string | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") throw sidecarError(SidecarErrorCode.InvalidParams, `${field} must be a folder path (a string)`, "Fix the loraStudio.modelsFolder setting.");
    let trimmed = value.trim();
    if (trimmed === "") return undefined;
    // Settings are typed by hand: "~/models" means the home folder's, as in a shell.
    if (trimmed === "~" || trimmed.startsWith("~/")) trimmed = join(homedir(), trimmed.slice(1));
    return isAbsolute(trimmed) || root === undefined ? resolve(trimmed) : resolve(root, trimmed);
}

function offer(entry: CatalogueEntry, preset: TrainingPresetId): CatalogueOffer {
    const m = presetMemoryEstimate(entry.shape, preset);
    return {
        id: entry.id, label: entry.label, uri: entry.uri, downloadBytes: entry.downloadBytes, parameters: entry.parameters,
        contextLength: entry.contextLength, architecture: entry.shape.arch,
        memory: { totalBytes: m.totalBytes, presetMemoryBytes: m.presetMemoryBytes, fits: m.fits }
    };
}

export function listModels(params: ModelsListParams | undefined, context: ModelHandlerContext): ModelsListResult {
    context.requireSession();
    const root = context.workspaceRoot();
    if (params?.preset !== undefined && !isTrainingPresetId(params.preset)) {
        throw sidecarError(SidecarErrorCode.InvalidParams, `models/list: unknown preset ${JSON.stringify(params.preset)}`, "Use gpu-6gb, gpu-12gb, gpu-24gb or cpu.");
    }
    const location = locationEnv();
    const modelsFolder = folderOf(params?.modelsFolder, "modelsFolder", root);
    const found = discoverModels({ location, workspaceFolders: root ? [root] : [], ...(modelsFolder ? { modelsFolder } : {}) });
    const capabilities = context.capabilities();
    const preset = params?.preset ?? detectPreset({ cuda: capabilities.cuda, ...(capabilities.devices[0] ? { totalBytes: capabilities.devices[0].totalBytes } : {}) });
    const notDownloaded = catalogueNotOnDisk(found.models.filter((m) => m.readable).map((m) => m.path)).map((e) => offer(e, preset));
    return { ...found, downloadFolder: modelsFolder ?? nodeLlamaCppModelsFolder(location), preset, notDownloaded };
}

const PULL_HINTS: Readonly<Record<ModelPullProblem, string>> = {
    "bad-uri": "Give hf:<org>/<repo>/<file>.gguf, an https:// or http:// URL of a .gguf file, or a catalogue id.",
    http: "Check the model's name; a gated model needs HF_TOKEN set in the editor's environment.",
    "not-gguf": "The address did not serve a GGUF model; pick another file.",
    cancelled: "Download the same model again to resume from the partial file.",
    interrupted: "Check the connection, then download the same model again: it resumes from the partial file.",
    io: "Check the models folder (loraStudio.modelsFolder) and the free disk space."
};

function pullFailure(error: ModelPullError): ResponseError<SidecarErrorData> {
    return new ResponseError<SidecarErrorData>(SidecarErrorCode.ModelPullFailed, error.message, {
        hint: PULL_HINTS[error.problem],
        pullProblem: error.problem,
        ...(error.partialFile ? { partialFile: error.partialFile } : {})
    });
}

/** Sends progress once per whole percent (per MB while the size is unknown), so a fast link does not flood the pipe. */
function progressSender(connection: MessageConnection, pullId: string): (p: PullProgress) => void {
    let last = -1;
    return (p) => {
        const step = p.totalBytes > 0 ? Math.floor((100 * p.downloadedBytes) / p.totalBytes) : Math.floor(p.downloadedBytes / 1e6);
        if (step === last) return;
        last = step;
        void connection.sendNotification(ModelsPullProgressNotification.type, { pullId, ...p }).catch(() => {
            // The pipe is gone; the pull ends with the process.
        });
    };
}

export async function pullModelRequest(
    connection: MessageConnection, params: ModelsPullParams, token: CancellationToken, context: ModelHandlerContext, inFlight: Set<AbortController>
): Promise<ModelsPullResult> {
    context.requireTrust();
    if (typeof params?.uri !== "string" || params.uri.trim() === "") {
        throw sidecarError(SidecarErrorCode.InvalidParams, `models/pull: "uri" must be a non-empty string`, PULL_HINTS["bad-uri"]);
    }
    if (typeof params.pullId !== "string") throw sidecarError(SidecarErrorCode.InvalidParams, `models/pull: "pullId" must be a string`, "Send an id to match progress notifications.");
    const uri = catalogueEntry(params.uri)?.uri ?? params.uri;
    const location = locationEnv();
    const chosen = folderOf(params.dir, "dir", context.workspaceRoot());
    const dir = chosen ?? nodeLlamaCppModelsFolder(location);
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() => controller.abort());
    inFlight.add(controller);
    try {
        const result = await pullModel({ uri, dir, signal: controller.signal, onProgress: progressSender(connection, params.pullId) });
        const model = { source: chosen ? "modelsFolder" as const : "node-llama-cpp" as const, name: basename(result.path), path: result.path, readable: true as const, facts: result.facts };
        return { path: result.path, model, alreadyPresent: result.alreadyPresent, resumedFrom: result.resumedFrom };
    } catch (error) {
        if (error instanceof ModelPullError) throw pullFailure(error);
        throw error;
    } finally {
        inFlight.delete(controller);
        subscription.dispose();
    }
}

/** `cancelAll` (on shutdown) stops every pull as a cancel does: each partial file stays for the next pull to resume. */
export function registerModelHandlers(connection: MessageConnection, context: ModelHandlerContext): { cancelAll(): void } {
    const inFlight = new Set<AbortController>();
    connection.onRequest(ModelsListRequest.type, (params) => listModels(params, context));
    connection.onRequest(ModelsPullRequest.type, (params, token) => pullModelRequest(connection, params, token, context, inFlight));
    return { cancelAll: () => inFlight.forEach((c) => c.abort()) };
}
