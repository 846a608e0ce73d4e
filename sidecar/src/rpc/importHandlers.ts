// import/preview, import/run and import/cancel over the connection-free import core (import/preview.ts, import/run.ts):
// params are checked against the schemas `lora-studio import` shares (params/commands.ts), progress goes out as
// import/progress, import/cancel aborts the run's AbortSignal, and each refusal becomes a typed error. Nothing about
// importing is decided here.
import { ResponseError, type MessageConnection } from "vscode-jsonrpc";
import { ImportCancelledError, ImportRequestError, ImportRowError, ImportTargetExistsError, ImportWriteError } from "../import/errors";
import type { MappingRequest } from "../import/mapping";
import { previewImport } from "../import/preview";
import { importDataset } from "../import/run";
import { IMPORT_PREVIEW_PARAMS, IMPORT_RUN_PARAMS } from "../params/commands";
import { checkParams, ParamError, type ParamSchema, type ParamValues } from "../params/schema";
import {
    ImportCancelRequest, ImportPreviewRequest, ImportProgressNotification, ImportRunRequest, SidecarErrorCode,
    type ImportMappingParams, type ImportPreviewResult, type ImportRunResult, type SidecarErrorData
} from "../protocol/sidecar";
import { sidecarError } from "./errors";

export interface ImportHandlerGates {
    /** Throws unless initialized (importing reads and writes files, and loads no model: trust is not needed). */
    requireSession(): void;
}

const DEFAULT_PREVIEW_ROWS = 5;

function checked<S extends ParamSchema>(schema: S, raw: unknown, method: string): ParamValues<S> {
    try {
        return checkParams(schema, raw, { face: { face: "rpc", method } });
    } catch (error) {
        if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the request.");
        throw error;
    }
}

function mappingRequest(params: Omit<ImportMappingParams, "file" | "format">): MappingRequest {
    return {
        ...(params.preset !== undefined ? { mapping: params.preset } : {}),
        ...(params.system !== undefined ? { system: params.system } : {}),
        ...(params.user !== undefined ? { user: params.user } : {}),
        ...(params.assistant !== undefined ? { assistant: params.assistant } : {})
    };
}

function toImportResponseError(error: unknown): never {
    if (error instanceof ImportRowError) {
        const { file, row, line, column } = error.place;
        throw new ResponseError<SidecarErrorData>(SidecarErrorCode.ImportRowInvalid, `${error.message}.`, {
            hint: "Fix the named row in the input, or change the mapping.",
            importPlace: { file, ...(row !== undefined ? { row } : {}), ...(line !== undefined ? { line } : {}), ...(column !== undefined ? { column } : {}) }
        });
    }
    if (error instanceof ImportTargetExistsError) {
        throw new ResponseError<SidecarErrorData>(SidecarErrorCode.ImportTargetExists, error.message, { hint: "Confirm to replace them, or choose another output path.", paths: [...error.paths] });
    }
    if (error instanceof ImportRequestError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Change the mapping or the output path.");
    if (error instanceof ImportWriteError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Free some space or choose another folder.");
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw sidecarError(SidecarErrorCode.InvalidParams, (error as Error).message, "Check the input path.");
    throw error;
}

export function registerImportHandlers(connection: MessageConnection, gates: ImportHandlerGates): void {
    const running = new Map<string, AbortController>();

    connection.onRequest(ImportPreviewRequest.type, async (raw): Promise<ImportPreviewResult> => {
        gates.requireSession();
        const params = checked(IMPORT_PREVIEW_PARAMS, raw, ImportPreviewRequest.method);
        try {
            const preview = await previewImport(params.file, { ...mappingRequest(params), ...(params.format !== undefined ? { format: params.format } : {}) }, params.rows ?? DEFAULT_PREVIEW_ROWS);
            const { mapping } = preview;
            return {
                format: preview.format, columns: preview.columns, candidates: preview.candidates, description: preview.description, lines: preview.lines,
                ...(preview.detected !== undefined ? { detected: preview.detected } : {}),
                mapping: mapping.kind === "conversation"
                    ? { preset: mapping.preset, column: mapping.column, ...(mapping.system !== undefined ? { system: mapping.system } : {}) }
                    : { ...(mapping.preset !== undefined ? { preset: mapping.preset } : {}), user: mapping.user, assistant: mapping.assistant, ...(mapping.system !== undefined ? { system: mapping.system } : {}) }
            };
        } catch (error) {
            return toImportResponseError(error);
        }
    });

    connection.onRequest(ImportRunRequest.type, async (raw): Promise<ImportRunResult> => {
        gates.requireSession();
        const params = checked(IMPORT_RUN_PARAMS, raw, ImportRunRequest.method);
        if (running.has(params.importId)) throw sidecarError(SidecarErrorCode.InvalidParams, `import ${params.importId} is already running`, "Use a new importId for each import.");
        const abort = new AbortController();
        running.set(params.importId, abort);
        try {
            const result = await importDataset({
                ...mappingRequest(params),
                input: params.file, out: params.out, signal: abort.signal, existing: params.overwrite ? "replace" : "refuse",
                ...(params.format !== undefined ? { format: params.format } : {}),
                ...(params.heldOut !== undefined ? { heldOut: params.heldOut } : {}),
                ...(params.split !== undefined ? { split: params.split } : {}),
                ...(params.seed !== undefined ? { seed: params.seed } : {}),
                onProgress: (p) => void connection.sendNotification(ImportProgressNotification.type, { importId: params.importId, ...p }).catch(() => undefined)
            });
            return { cancelled: false, rows: result.rows, written: result.written, heldOut: result.heldOut };
        } catch (error) {
            if (error instanceof ImportCancelledError) return { cancelled: true, rows: 0, written: 0, heldOut: 0 };
            return toImportResponseError(error);
        } finally {
            running.delete(params.importId);
        }
    });

    connection.onRequest(ImportCancelRequest.type, (params) => {
        const abort = typeof params?.importId === "string" ? running.get(params.importId) : undefined;
        abort?.abort();
        return abort !== undefined;
    });
}
