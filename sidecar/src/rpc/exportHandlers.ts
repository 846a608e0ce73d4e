// export/run: the export targets of export/index.ts behind JSON-RPC. A run (runId or runDirectory) supplies the
// adapter and the base model from its config; explicit paths override them.
import { isAbsolute, join, resolve } from "node:path";
import { ResponseError, type MessageConnection } from "vscode-jsonrpc";
import type { Engine } from "../engine";
import { defaultExportPath, ExportInputError, ExportTargetExistsError, runExport } from "../export";
import { EXPORT_RUN_PARAMS } from "../params/commands";
import { checkParams, ParamError } from "../params/schema";
import { ExportRunRequest, SidecarErrorCode, type ExportRunParams, type ExportRunResult, type SidecarErrorData } from "../protocol/sidecar";
import { RunDirectory, type RunStore } from "../training/runStore";
import { sidecarError, toRunStoreResponseError } from "./errors";

export interface ExportHandlerGates {
    /** Throws unless initialized, trusted and the engine is available. */
    requireEngine(): void;
    /** The loaded engine (after requireEngine): its quantizeModel makes the quantized merged models. */
    engine(): Engine;
    runStore(): RunStore | undefined;
    /** Relative paths in a run's config are relative to it, as the chat panel and training read them. */
    workspaceRoot(): string | undefined;
}

function invalid(message: string): never {
    throw sidecarError(SidecarErrorCode.InvalidParams, message, "Fix the request.");
}

/** export/run's params against the schema `lora-studio export` uses too (params/commands.ts). */
function checkExportParams(raw: ExportRunParams): ExportRunParams {
    let p: ExportRunParams;
    try {
        p = checkParams(EXPORT_RUN_PARAMS, raw, { face: { face: "rpc", method: ExportRunRequest.method } });
    } catch (error) {
        if (error instanceof ParamError) invalid(error.message);
        throw error;
    }
    if (p.type !== undefined && p.format !== "merged") invalid(`export/run: "type" applies to format "merged" only, got format ${JSON.stringify(p.format)}`);
    if (p.dtype !== undefined && p.format !== "peft") invalid(`export/run: "dtype" applies to format "peft" only, got format ${JSON.stringify(p.format)}`);
    return p;
}

export function registerExportHandlers(connection: MessageConnection, gates: ExportHandlerGates): void {
    const runOf = (p: ExportRunParams): RunDirectory | undefined => {
        if (p.runDirectory !== undefined) return new RunDirectory(p.runDirectory);
        if (p.runId === undefined) return undefined;
        const store = gates.runStore();
        if (!store) throw sidecarError(SidecarErrorCode.NoWorkspace, "No workspace folder is open, so there is no .lora-studio/runs/ to find the run in", "Open the folder that holds the run.");
        try {
            return store.openRun(p.runId);
        } catch (error) {
            return toRunStoreResponseError(error);
        }
    };

    connection.onRequest(ExportRunRequest.type, async (raw): Promise<ExportRunResult> => {
        gates.requireEngine();
        const params = checkExportParams(raw);
        const run = runOf(params);
        const adapter = params.adapter ?? run?.adapterPath;
        let model = params.model;
        if (model === undefined && run) {
            try {
                const configured = run.readConfig().model;
                model = isAbsolute(configured) ? configured : resolve(gates.workspaceRoot() ?? run.path, configured);
            } catch (error) {
                return toRunStoreResponseError(error);
            }
        }
        if (adapter === undefined || model === undefined) invalid("export/run needs a run (runId or runDirectory) or both adapter and model");
        const type = params.type ?? (params.format === "merged" ? "f16" : undefined);
        const out = params.out ?? defaultExportPath(run ? join(run.path, "adapter.gguf") : adapter, params.format, type, params.dtype);
        const engine = gates.engine();
        try {
            return await runExport({
                format: params.format, model, adapter, out,
                ...(type ? { type } : {}),
                ...(params.system ? { system: params.system } : {}),
                ...(params.dtype ? { dtype: params.dtype } : {}),
                ...(params.baseModelId ? { baseModelId: params.baseModelId } : {}),
                ...(params.overwrite ? { overwrite: true } : {}),
                ...(run ? { runDirectory: run.path } : {}),
                quantize: (i, o, t) => engine.quantizeModel(i, o, t)
            });
        } catch (error) {
            if (error instanceof ExportTargetExistsError) {
                throw new ResponseError<SidecarErrorData>(SidecarErrorCode.ExportTargetExists, error.message, { hint: "Confirm to replace them, or choose another output path.", paths: error.paths });
            }
            if (error instanceof ExportInputError) {
                throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Pick the adapter's own base model (the run's config.json names it), or retrain the adapter on this model.");
            }
            throw error;
        }
    });
}
