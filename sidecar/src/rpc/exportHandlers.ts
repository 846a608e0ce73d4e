// export/run over the connection-free export service (export/service.ts): the request is gated, its params checked
// against the schema `lora-studio export` uses too (params/commands.ts), and each refusal becomes a typed error.
// Nothing about exporting is decided here.
import { ResponseError, type MessageConnection } from "vscode-jsonrpc";
import type { Engine } from "../engine";
import { BaseModelRepoUnknownError, ExportInputError, ExportTargetExistsError } from "../export";
import { ExportRequestError } from "../export/runInputs";
import { ExportService } from "../export/service";
import { EXPORT_RUN_PARAMS } from "../params/commands";
import { checkParams, ParamError } from "../params/schema";
import { ExportRunRequest, SidecarErrorCode, type ExportRunParams, type ExportRunResult, type SidecarErrorData } from "../protocol/sidecar";
import type { RunStore } from "../training/runStore";
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

const FIX_REQUEST = "Fix the request.";

function checked(raw: ExportRunParams): ExportRunParams {
    try {
        return checkParams(EXPORT_RUN_PARAMS, raw, { face: { face: "rpc", method: ExportRunRequest.method } });
    } catch (error) {
        if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, FIX_REQUEST);
        throw error;
    }
}

function toExportResponseError(error: unknown): never {
    if (error instanceof ExportTargetExistsError) {
        throw new ResponseError<SidecarErrorData>(SidecarErrorCode.ExportTargetExists, error.message, { hint: "Confirm to replace them, or choose another output path.", paths: error.paths });
    }
    if (error instanceof BaseModelRepoUnknownError) {
        // The editor asks for the repository and resends with baseModelRepo.
        throw new ResponseError<SidecarErrorData>(SidecarErrorCode.InvalidParams, error.message, {
            hint: "Give the base model's Hugging Face repository (ORG/NAME).",
            fields: [{ path: ["baseModelRepo"], message: error.message, code: "base-model-repo-unknown" }]
        });
    }
    if (error instanceof ExportInputError) {
        throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Pick the adapter's own base model (the run's config.json names it), or retrain the adapter on this model.");
    }
    if (error instanceof ExportRequestError) throw sidecarError(SidecarErrorCode.InvalidParams, `${ExportRunRequest.method}: ${error.message}`, FIX_REQUEST);
    return toRunStoreResponseError(error);
}

export function registerExportHandlers(connection: MessageConnection, gates: ExportHandlerGates): void {
    const exports = new ExportService({
        runStore: gates.runStore,
        workspaceRoot: gates.workspaceRoot,
        quantize: (input, output, type) => gates.engine().quantizeModel(input, output, type)
    });

    connection.onRequest(ExportRunRequest.type, async (raw): Promise<ExportRunResult> => {
        gates.requireEngine();
        const params = checked(raw);
        try {
            return await exports.run(params);
        } catch (error) {
            return toExportResponseError(error);
        }
    });
}
