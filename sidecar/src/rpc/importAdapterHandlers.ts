// adapter/import over the connection-free import core (importAdapter/): the request is gated by trust, its params
// checked against the schema `lora-studio import-adapter` uses too (params/commands.ts), and each refusal becomes a
// typed error. Nothing about importing is decided here.
import { ResponseError, type MessageConnection } from "vscode-jsonrpc";
import { AdapterImportError, AdapterImportTargetExistsError, importPeftAdapter } from "../importAdapter";
import { IMPORT_ADAPTER_PARAMS } from "../params/commands";
import { checkParams, ParamError } from "../params/schema";
import { AdapterImportRequest, SidecarErrorCode, type AdapterImportParams, type AdapterImportResult, type SidecarErrorData } from "../protocol/sidecar";
import { sidecarError } from "./errors";

export interface ImportAdapterHandlerGates {
    /** Throws unless initialized and the workspace is trusted (no engine needed: the import is plain file work). */
    requireTrust(): void;
}

function checked(raw: AdapterImportParams): AdapterImportParams {
    try {
        return checkParams(IMPORT_ADAPTER_PARAMS, raw, { face: { face: "rpc", method: AdapterImportRequest.method } });
    } catch (error) {
        if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the request.");
        throw error;
    }
}

export function registerImportAdapterHandlers(connection: MessageConnection, gates: ImportAdapterHandlerGates): void {
    connection.onRequest(AdapterImportRequest.type, async (raw): Promise<AdapterImportResult> => {
        gates.requireTrust();
        const params = checked(raw);
        try {
            const r = await importPeftAdapter({ peft: params.peft, model: params.model, out: params.out, ...(params.overwrite ? { overwrite: true } : {}) });
            return { path: r.out, arch: r.arch, pairs: r.pairs, alpha: r.alpha, warnings: r.warnings };
        } catch (error) {
            if (error instanceof AdapterImportTargetExistsError) {
                throw new ResponseError<SidecarErrorData>(SidecarErrorCode.ExportTargetExists, error.message, { hint: "Confirm to replace it, or choose another output path.", paths: [error.path] });
            }
            if (error instanceof AdapterImportError) {
                throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Pick the base model the adapter was trained for (adapter_config.json's base_model_name_or_path names it), or fix the adapter folder as the message says.");
            }
            throw error;
        }
    });
}
