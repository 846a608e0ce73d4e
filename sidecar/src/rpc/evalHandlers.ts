// eval/run and eval/cancel over the connection-free evaluation service (eval/service.ts): each request is gated, its
// params checked against the schema `lora-studio eval` uses too (params/commands.ts), each scored example goes out as
// eval/progress, and each refusal becomes a typed error. Nothing about evaluation is decided here.
import type { MessageConnection } from "vscode-jsonrpc";
import { availableParallelism } from "node:os";
import { EvalInputError } from "../eval/runner";
import { EvalRequestError, EvalService } from "../eval/service";
import { EVAL_RUN_PARAMS } from "../params/commands";
import { checkParams, ParamError } from "../params/schema";
import { EvalCancelRequest, EvalProgressNotification, EvalRunRequest, SidecarErrorCode, type EvalReport, type EvalRunParams } from "../protocol/sidecar";
import type { RunStore } from "../training/runStore";
import { sidecarError, toRunStoreResponseError } from "./errors";

export interface EvalHandlerGates {
    /** Throws unless initialized and trusted (model loading is gated like training). */
    requireEngine(): void;
    /** The workspace's run store, when a folder is open. */
    runStore(): RunStore | undefined;
}

const FIX_REQUEST = "Fix the request.";

function checked(raw: EvalRunParams): EvalRunParams {
    try {
        return checkParams(EVAL_RUN_PARAMS, raw, { face: { face: "rpc", method: EvalRunRequest.method }, limits: { cpus: availableParallelism() } });
    } catch (error) {
        if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, FIX_REQUEST);
        throw error;
    }
}

function toEvalResponseError(error: unknown): never {
    if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.forFace({ face: "rpc", method: EvalRunRequest.method }).message, "Lower maxTokens to fit the model's context.");
    if (error instanceof EvalInputError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Check the named files: a GGUF base model, a GGUF LoRA adapter trained on it, and a JSONL held-out file.");
    if (error instanceof EvalRequestError) throw sidecarError(SidecarErrorCode.InvalidParams, `${EvalRunRequest.method}: ${error.message}`, FIX_REQUEST);
    return toRunStoreResponseError(error);
}

/** Registers eval/run and eval/cancel; the returned service is cancelled on shutdown. */
export function registerEvalHandlers(connection: MessageConnection, gates: EvalHandlerGates): EvalService {
    const evaluation = new EvalService({ runStore: gates.runStore });

    connection.onRequest(EvalRunRequest.type, async (raw): Promise<EvalReport> => {
        gates.requireEngine();
        const params = checked(raw);
        try {
            return await evaluation.run(params, ({ done, total, row }) => {
                void connection.sendNotification(EvalProgressNotification.type, { evalId: params.evalId, done, total, ...(row ? { row } : {}) }).catch(() => undefined);
            });
        } catch (error) {
            return toEvalResponseError(error);
        }
    });

    connection.onRequest(EvalCancelRequest.type, (params) => typeof params?.evalId === "string" && evaluation.cancel(params.evalId));
    return evaluation;
}
