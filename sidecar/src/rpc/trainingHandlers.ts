// run/start, run/resume and run/cancel over the connection-free run service (training/runService.ts): each request
// is gated and handed over, each service event goes out as its notification, and each refusal becomes a typed error
// (a run config's failing fields travel in the error's data). Nothing about training is decided here.
import { ResponseError, type MessageConnection } from "vscode-jsonrpc";
import { PipelineError } from "../pipeline";
import {
    LogNotification, RunCancelRequest, RunCheckpointNotification, RunFailedNotification, RunFinishedNotification, RunMemoryAdjustedNotification,
    RunProgressNotification, RunResumeRequest, RunStartRequest, SidecarErrorCode, type LogLevel, type SidecarErrorData
} from "../protocol/sidecar";
import { RunConfigError } from "../training/config";
import { describeFieldPath } from "../training/resolveRunConfig";
import { RunRefusedError, type RunRefusalKind } from "../training/runErrors";
import type { RunLockHolder } from "../training/runLock";
import type { RunServiceEvents, TrainingRunService } from "../training/runService";
import type { RunStore } from "../training/runStore";
import { sidecarError, toRunStoreResponseError } from "./errors";

export interface TrainingHandlerGates {
    /** Initialized, trusted, engine available: training runs native code. */
    requireEngine(): void;
    /** Initialized and not shutting down (cancel needs no engine check). */
    requireSession(): void;
    /** The workspace's run store, when a folder is open. */
    runStore(): RunStore | undefined;
    /** Throws NoWorkspace: for a request that needs the run store and has no run folder of its own. */
    requireRunStore(): RunStore;
}

/** The service's events as notifications; a closed pipe is not an error (main.ts exits on close). */
export function notifyingEvents(connection: MessageConnection): RunServiceEvents {
    const send = <P>(type: { method: string }, params: P): void => {
        void connection.sendNotification(type as never, params as never).catch(() => undefined);
    };
    return {
        progress: (p) => send(RunProgressNotification.type, p),
        checkpoint: (p) => send(RunCheckpointNotification.type, p),
        memoryAdjusted: (p) => send(RunMemoryAdjustedNotification.type, p),
        finished: (p) => send(RunFinishedNotification.type, p),
        failed: (p) => send(RunFailedNotification.type, p),
        log: (level: LogLevel, message) => send(LogNotification.type, { level, message })
    };
}

const REFUSAL_CODES: Record<RunRefusalKind, SidecarErrorCode> = {
    invalid: SidecarErrorCode.InvalidParams,
    "no-workspace": SidecarErrorCode.NoWorkspace,
    "insufficient-memory": SidecarErrorCode.InsufficientMemory,
    "run-already-active": SidecarErrorCode.RunAlreadyActive,
    "run-not-found": SidecarErrorCode.RunNotFound,
    "run-locked": SidecarErrorCode.RunLocked,
    "run-finished": SidecarErrorCode.RunFinished
};

function holderData(holder: RunLockHolder): NonNullable<SidecarErrorData["holder"]> {
    const { kind, pid, parentPid, host, client, acquiredAt } = holder;
    return { kind, pid, parentPid, host, client, acquiredAt };
}

/** The service's errors as typed JSON-RPC errors; anything else goes through the run-store mapping or as it is. */
export function toTrainingResponseError(error: unknown): never {
    if (error instanceof RunRefusedError) {
        throw new ResponseError<SidecarErrorData>(REFUSAL_CODES[error.kind], error.message, {
            hint: error.hint,
            ...(error.details.runId === undefined ? {} : { runId: error.details.runId }),
            ...(error.details.holder === undefined ? {} : { holder: holderData(error.details.holder) })
        });
    }
    if (error instanceof RunConfigError) {
        const fields = error.problems.map((p) => ({ path: p.path, message: p.message, code: p.code }));
        const named = fields.filter((f) => f.path.length > 0).map((f) => describeFieldPath(f.path));
        throw new ResponseError<SidecarErrorData>(SidecarErrorCode.InvalidParams, error.message, {
            hint: named.length > 0 ? `Fix ${[...new Set(named)].join(", ")} (see schemas/run-config.schema.json).` : "Fix the named fields (see schemas/run-config.schema.json).",
            fields
        });
    }
    if (error instanceof PipelineError) throw sidecarError(SidecarErrorCode.InvalidParams, error.message, "Fix the listed lines (lora-studio validate shows them all).");
    return toRunStoreResponseError(error);
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
    try {
        return await work();
    } catch (error) {
        return toTrainingResponseError(error);
    }
}

export function registerTrainingHandlers(connection: MessageConnection, service: TrainingRunService, gates: TrainingHandlerGates): void {
    connection.onRequest(RunStartRequest.type, (params) => {
        gates.requireEngine();
        // A run with its own directory (the CLI's --out, or "output" in the config) needs no workspace.
        const store = gates.runStore();
        if (!store && params?.runDirectory === undefined && params?.config?.output === undefined) gates.requireRunStore();
        return mapped(() => service.start({ ...params, store }));
    });
    connection.onRequest(RunResumeRequest.type, (params) => {
        gates.requireEngine();
        const store = gates.runStore();
        if (!store && params?.runDirectory === undefined) gates.requireRunStore();
        return mapped(() => service.resume({ ...params, store }));
    });
    connection.onRequest(RunCancelRequest.type, (params) => {
        gates.requireSession();
        return mapped(() => service.cancel(params?.runId));
    });
}
