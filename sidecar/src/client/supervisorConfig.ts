// The SidecarSupervisor's tunables, events and options: timeouts and restart policy as constants
// with units, so the vscode adapter, the tests and the docs all name the same numbers.

import type { InitializeParams } from "../protocol/sidecar";
import { DatasetPrepareRequest, ModelsListRequest, ModelsPullRequest, RunCancelRequest, RunResumeRequest, RunStartRequest } from "../protocol/sidecar";
import type { ProcessApis } from "./processApis";
import type { CancellationToken } from "vscode-jsonrpc";

/** Engine probing may load a native library and enumerate GPUs. */
export const INITIALIZE_TIMEOUT_MS = 60_000;
/** Control requests answer quickly (training runs off the RPC path); silence this long means hung. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Tokenizing a large dataset with the model's template can take minutes. */
export const DATASET_PREPARE_TIMEOUT_MS = 10 * 60_000;
/** Starting or resuming loads the base model (and a checkpoint) before the run is created. */
export const RUN_START_TIMEOUT_MS = 5 * 60_000;
/** Cancel writes a checkpoint and the adapter before it answers. */
export const RUN_CANCEL_TIMEOUT_MS = 2 * 60_000;
/** models/list reads every GGUF header it finds (hundreds of files in a large Hugging Face cache). */
export const MODELS_LIST_TIMEOUT_MS = 2 * 60_000;
/**
 * models/pull answers when a multi-GB download ends: progress notifications show it alive, and the user cancels it
 * (the request's token), so only a day of silence counts as hung.
 */
export const MODELS_PULL_TIMEOUT_MS = 24 * 60 * 60_000;
/** Shutdown checkpoints running runs before it answers. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;
/** After stdin closes, how long the sidecar may take to exit before it is killed. */
export const SHUTDOWN_GRACE_MS = 3_000;
/** Restart n waits RESTART_BASE_DELAY_MS · 2^(n-1). */
export const RESTART_BASE_DELAY_MS = 1_000;
/** A sidecar that stays up this long has its restart count forgiven. */
export const RESTART_COUNTER_RESET_MS = 5 * 60_000;
export const MAX_RESTART_ATTEMPTS = 3;

/** Requests that legitimately take longer than REQUEST_TIMEOUT_MS. */
export const TIMEOUTS_BY_METHOD_MS: Readonly<Record<string, number>> = {
    [DatasetPrepareRequest.method]: DATASET_PREPARE_TIMEOUT_MS,
    [RunStartRequest.method]: RUN_START_TIMEOUT_MS,
    [RunResumeRequest.method]: RUN_START_TIMEOUT_MS,
    [RunCancelRequest.method]: RUN_CANCEL_TIMEOUT_MS,
    [ModelsListRequest.method]: MODELS_LIST_TIMEOUT_MS,
    [ModelsPullRequest.method]: MODELS_PULL_TIMEOUT_MS
};

export function restartDelayMs(attempt: number, baseDelayMs: number = RESTART_BASE_DELAY_MS): number {
    return baseDelayMs * 2 ** Math.max(0, attempt - 1);
}

/** What the supervisor logs to; vscode's LogOutputChannel has this shape. */
export interface SidecarLog {
    trace(message: string): void;
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
}

export type SidecarState =
    /** Not started yet, or stopped on purpose: the next request starts it. */
    | "stopped"
    | "starting"
    | "running"
    /** Died unexpectedly; waiting out the backoff before the next start. */
    | "restarting"
    | "stopping"
    /** Gave up (crash loop, protocol mismatch, missing bundle): requests fail with `lastError` until start()/restart(). */
    | "failed";

export interface SidecarStateChangeEvent {
    state: SidecarState;
    previous: SidecarState;
    /** Set when state is "failed". */
    error?: Error;
}

export interface SidecarExitEvent {
    pid: number | undefined;
    code: number | null;
    signal: NodeJS.Signals | null;
    /** True after stop() or a refused handshake; false for crashes, kills and hung children. */
    expected: boolean;
    /** e.g. "exit code 70", "signal SIGKILL (killed: did not answer "run/list" within 30000 ms)". */
    description: string;
    willRestart: boolean;
    /** Consecutive unexpected exits so far. */
    restartAttempt: number;
    /** Runs that were training in that process: the UI offers to resume them. */
    activeRunIds: string[];
}

export interface SupervisorTiming {
    initializeTimeoutMs: number;
    requestTimeoutMs: number;
    shutdownTimeoutMs: number;
    shutdownGraceMs: number;
    restartBaseDelayMs: number;
    restartCounterResetMs: number;
    maxRestartAttempts: number;
}

export const DEFAULT_TIMING: Readonly<SupervisorTiming> = {
    initializeTimeoutMs: INITIALIZE_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    shutdownGraceMs: SHUTDOWN_GRACE_MS,
    restartBaseDelayMs: RESTART_BASE_DELAY_MS,
    restartCounterResetMs: RESTART_COUNTER_RESET_MS,
    maxRestartAttempts: MAX_RESTART_ATTEMPTS
};

export interface SidecarSupervisorOptions {
    /** A node executable: `process.execPath` (with ELECTRON_RUN_AS_NODE=1 in the extension host). */
    command: string;
    /** Absolute path of dist/sidecar.mjs. */
    scriptPath: string;
    nodeArgs?: string[];
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    clientName: string;
    /** Read at every start, so a restart picks up a newly trusted workspace. */
    initializeParams?: () => Pick<InitializeParams, "workspaceRoot" | "workspaceTrusted">;
    log: SidecarLog;
    processApis?: ProcessApis;
    timing?: Partial<SupervisorTiming>;
}

export interface RequestOptions {
    /** Overrides the method's default timeout. */
    timeoutMs?: number;
    /** Cancels the request ($/cancelRequest); the sidecar still answers (e.g. models/pull with "cancelled"). */
    token?: CancellationToken;
}
