// Typed JSON-RPC errors of the sidecar: a SidecarErrorCode, a message that says what broke, and a
// hint (ResponseError.data) that says what to do about it.

import { ResponseError } from "vscode-jsonrpc";
import { SidecarErrorCode, type SidecarErrorData } from "../protocol/sidecar";
import { RunNotFoundError, RunStoreError } from "../training/runStore";
import { MetricsFormatError } from "../training/metricsLog";
import { NoWorkspaceError } from "../training/namedRun";

export function sidecarError(code: SidecarErrorCode, message: string, hint: string): ResponseError<SidecarErrorData> {
    return new ResponseError<SidecarErrorData>(code, message, { hint });
}

export function notImplemented(method: string): ResponseError<SidecarErrorData> {
    return sidecarError(
        SidecarErrorCode.NotImplemented,
        `"${method}" is declared in the protocol but not implemented by this sidecar yet`,
        "Update LoRA Studio; this build cannot do that yet."
    );
}

/** Maps run-store failures to typed errors; anything else is rethrown (vscode-jsonrpc reports it as InternalError). */
export function toRunStoreResponseError(error: unknown): never {
    if (error instanceof NoWorkspaceError) throw sidecarError(SidecarErrorCode.NoWorkspace, error.message, "Open the folder that holds the run.");
    if (error instanceof RunNotFoundError) {
        throw sidecarError(SidecarErrorCode.RunNotFound, error.message, "Refresh the runs list; the run may have been deleted.");
    }
    if (error instanceof RunStoreError || error instanceof MetricsFormatError) {
        throw sidecarError(SidecarErrorCode.RunStoreCorrupt, error.message, "Fix or delete the named file; the other runs are unaffected.");
    }
    throw error;
}
