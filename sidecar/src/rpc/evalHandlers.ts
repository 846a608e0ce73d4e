// eval/run and eval/cancel: the evaluation runner (eval/runner.ts) behind JSON-RPC, with one `eval/progress`
// notification per held-out example. Evaluations are keyed by the client's evalId so they can be cancelled;
// a cancelled one answers with the rows scored so far and `cancelled: true`.

import type { MessageConnection } from "vscode-jsonrpc";
import { availableParallelism } from "node:os";
import { EvalInputError, runEval, type EvalOptions } from "../eval/runner";
import { EVAL_RUN_PARAMS } from "../params/commands";
import { checkParams, ParamError } from "../params/schema";
import {
    EvalCancelRequest,
    EvalProgressNotification,
    EvalRunRequest,
    SidecarErrorCode,
    type EvalReport,
    type EvalRunParams
} from "../protocol/sidecar";
import type { RunStore } from "../training/runStore";
import { sidecarError, toRunStoreResponseError } from "./errors";

export interface EvalHandlerGates {
    /** Throws unless initialized, trusted and the engine is available (model loading is gated like training). */
    requireEngine(): void;
    /** The workspace's run store, when a folder is open. */
    runStore(): RunStore | undefined;
}

export interface EvalHandlers {
    /** Stops every running evaluation (shutdown). */
    cancelAll(): void;
}

/** eval/run's params against the schema `lora-studio eval` uses too (params/commands.ts). */
function checkEvalParams(raw: EvalRunParams): EvalRunParams {
    let params: EvalRunParams;
    try {
        params = checkParams(EVAL_RUN_PARAMS, raw, { face: { face: "rpc", method: EvalRunRequest.method }, limits: { cpus: availableParallelism() } });
    } catch (error) {
        if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the request.");
        throw error;
    }
    const hasRun = params.runId !== undefined || params.runDirectory !== undefined;
    if (!hasRun && (params.model === undefined || params.adapter === undefined || params.data === undefined)) {
        throw sidecarError(SidecarErrorCode.InvalidParams, "eval/run needs a run (runId or runDirectory) or all of model, adapter and data", "Pick a run, or give the base model, the adapter and a held-out file.");
    }
    return params;
}

export function registerEvalHandlers(connection: MessageConnection, gates: EvalHandlerGates): EvalHandlers {
    const running = new Map<string, AbortController>();

    const runDirectoryOf = (params: EvalRunParams): string | undefined => {
        if (params.runDirectory !== undefined) return params.runDirectory;
        if (params.runId === undefined) return undefined;
        const store = gates.runStore();
        if (!store) throw sidecarError(SidecarErrorCode.NoWorkspace, "No workspace folder is open, so there is no .lora-studio/runs/ to find the run in", "Open the folder that holds the run.");
        try {
            return store.openRun(params.runId).path;
        } catch (error) {
            return toRunStoreResponseError(error);
        }
    };

    connection.onRequest(EvalRunRequest.type, async (raw): Promise<EvalReport> => {
        gates.requireEngine();
        const params = checkEvalParams(raw);
        if (running.has(params.evalId)) throw sidecarError(SidecarErrorCode.InvalidParams, `an evaluation with evalId ${JSON.stringify(params.evalId)} is already running`, "Use a new evalId per request.");
        const runDirectory = runDirectoryOf(params);
        const abort = new AbortController();
        running.set(params.evalId, abort);
        const options: EvalOptions = {
            signal: abort.signal,
            onProgress: ({ done, total, row }) => {
                void connection.sendNotification(EvalProgressNotification.type, { evalId: params.evalId, done, total, ...(row ? { row } : {}) }).catch(() => undefined);
            }
        };
        if (runDirectory !== undefined) options.runDirectory = runDirectory;
        for (const field of ["model", "adapter", "data", "outDir", "maxTokens", "limit", "threads"] as const) {
            if (params[field] !== undefined) (options as Record<string, unknown>)[field] = params[field];
        }
        try {
            return await runEval(options);
        } catch (error) {
            if (error instanceof ParamError) throw sidecarError(SidecarErrorCode.InvalidParams, error.forFace({ face: "rpc", method: EvalRunRequest.method }).message, "Lower maxTokens to fit the model's context.");
            if (error instanceof EvalInputError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Check the named files: a GGUF base model, a GGUF LoRA adapter trained on it, and a JSONL held-out file.");
            throw error;
        } finally {
            running.delete(params.evalId);
        }
    });

    connection.onRequest(EvalCancelRequest.type, (params) => {
        const abort = typeof params?.evalId === "string" ? running.get(params.evalId) : undefined;
        abort?.abort();
        return abort !== undefined;
    });

    return {
        cancelAll: () => {
            for (const abort of running.values()) abort.abort();
        }
    };
}
