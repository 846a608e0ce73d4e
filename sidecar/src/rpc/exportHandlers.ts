// export/run: the export targets of export/index.ts behind JSON-RPC. A run (runId or runDirectory) supplies the
// adapter and the base model from its config; explicit paths override them.
import { isAbsolute, join, resolve } from "node:path";
import type { MessageConnection } from "vscode-jsonrpc";
import type { Engine } from "../engine";
import { defaultExportPath, EXPORT_FORMATS, ExportInputError, MERGED_TYPES, PEFT_DTYPES, runExport } from "../export";
import { ExportRunRequest, SidecarErrorCode, type ExportRunParams, type ExportRunResult } from "../protocol/sidecar";
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

function checkParams(p: ExportRunParams): void {
    if (!EXPORT_FORMATS.includes(p?.format)) invalid(`export/run: "format" must be one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify(p?.format)}`);
    for (const field of ["runId", "runDirectory", "adapter", "model", "out", "system"] as const) {
        const v = p[field];
        if (v !== undefined && (typeof v !== "string" || (v === "" && field !== "system"))) invalid(`export/run: "${field}" must be a non-empty string when given, got ${JSON.stringify(v)}`);
    }
    if (p.type !== undefined && !MERGED_TYPES.includes(p.type)) invalid(`export/run: "type" must be one of ${MERGED_TYPES.join(", ")}, got ${JSON.stringify(p.type)}`);
    if (p.dtype !== undefined && !PEFT_DTYPES.includes(p.dtype)) invalid(`export/run: "dtype" must be one of ${PEFT_DTYPES.join(", ")}, got ${JSON.stringify(p.dtype)}`);
    if (p.dtype !== undefined && p.format !== "peft") invalid(`export/run: "dtype" applies to format "peft" only, got format ${JSON.stringify(p.format)}`);
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

    connection.onRequest(ExportRunRequest.type, async (params): Promise<ExportRunResult> => {
        gates.requireEngine();
        checkParams(params);
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
                quantize: (i, o, t) => engine.quantizeModel(i, o, t)
            });
        } catch (error) {
            if (error instanceof ExportInputError) {
                throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Pick the adapter's own base model (the run's config.json names it), or retrain the adapter on this model.");
            }
            throw error;
        }
    });
}
