// The extension ↔ sidecar protocol: every JSON-RPC message the two processes exchange, declared once
// and imported by both sides (the sidecar's `main.ts`/`rpc/` and the extension's `sidecar/` supervisor).
// Each message is a namespace with a literal `method` and a typed RequestType/NotificationType, as in
// vscode-eslint's customMessages. Change PROTOCOL_VERSION whenever a message changes shape: the
// supervisor refuses a sidecar whose version differs, so a stale `dist/` is caught at the handshake.
//
// This module must stay free of node, vscode and native imports: it is bundled into both processes.

import { NotificationType, RequestType, RequestType0 } from "vscode-jsonrpc";

/** Bump on any incompatible change to a message below. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * Codes of the typed errors the sidecar answers with (`ResponseError.code`), in the JSON-RPC range
 * reserved for implementations. `data` is always a {@link SidecarErrorData}.
 */
export const SidecarErrorCode = {
    /** A request other than `initialize` arrived before `initialize` (LSP's ServerNotInitialized). */
    NotInitialized: -32002,
    /** `initialize` was sent twice on the same connection. */
    AlreadyInitialized: -32010,
    /** The client speaks another PROTOCOL_VERSION. */
    ProtocolMismatch: -32011,
    /** The request is declared but its handler has not been wired yet. */
    NotImplemented: -32012,
    /** No run with that id under the workspace's `.lora-studio/runs/`. */
    RunNotFound: -32013,
    /** The request needs a workspace folder (run store) but `initialize` gave none. */
    NoWorkspace: -32014,
    /** Training and model loading are disabled in an untrusted workspace. */
    WorkspaceUntrusted: -32015,
    /** The native engine could not be loaded; `initialize` reported why in `capabilities.engineError`. */
    EngineUnavailable: -32016,
    /** A run's files are unreadable (bad JSON, missing status); the message names file, line and field. */
    RunStoreCorrupt: -32017,
    /** `shutdown` has been received; the sidecar takes no new work. */
    ShuttingDown: -32018,
    /** Parameters failed validation; the message names the field. */
    InvalidParams: -32602
} as const;
export type SidecarErrorCode = (typeof SidecarErrorCode)[keyof typeof SidecarErrorCode];

/** The `data` of every sidecar ResponseError: what the user can do about it. */
export interface SidecarErrorData {
    hint: string;
}

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

export interface DeviceInfo {
    name: string;
    freeBytes: number;
    totalBytes: number;
}

export interface SidecarCapabilities {
    /** Training on the CPU is always possible once the engine loads. */
    cpu: true;
    cuda: boolean;
    devices: DeviceInfo[];
    /** False when the native engine could not be loaded; training requests then fail with EngineUnavailable. */
    engineAvailable: boolean;
    /** Why the engine is unavailable, with what to do about it. Absent when it loaded. */
    engineError?: string;
}

/**
 * A run config: the `*.lora.json` file (schemas/run-config.schema.json). The sidecar validates it again
 * and fills the defaults (training/config.ts); the shape here is what a client may send.
 */
export interface TrainingConfig {
    /** Path of the base model GGUF. */
    model: string;
    /** Path of the training JSONL. */
    data: string;
    /** A separate validation JSONL; when absent, `validationSplit` carves one out of `data`. */
    validationData?: string;
    validationSplit?: number;
    format?: "auto" | "chat" | "instruction" | "prompt-completion" | "text" | "qa";
    /** Run directory; default `<workspace>/.lora-studio/runs/<id>/`. */
    output?: string;
    epochs?: number;
    rank?: number;
    alpha?: number;
    dropout?: number;
    targetModules?: Array<"attn_q" | "attn_k" | "attn_v" | "attn_o" | "ffn_gate" | "ffn_up" | "ffn_down">;
    learningRate?: number;
    lrSchedule?: "cosine" | "linear" | "constant";
    warmupRatio?: number;
    warmupSteps?: number;
    beta1?: number;
    beta2?: number;
    eps?: number;
    weightDecay?: number;
    gradClip?: number;
    /** Tokens per packed row; one row is one micro-batch. */
    sequenceLength?: number;
    gradAccum?: number;
    seed?: number;
    /** Optimizer steps between checkpoints: at most this much work is lost when the sidecar dies. */
    checkpointEvery?: number;
    /** Optimizer steps between validation losses; 0 = every epoch end. */
    evalEvery?: number;
    truncation?: "drop" | "truncate-left" | "truncate-right";
    /** 0 = all cores. */
    threads?: number;
    /** "4-bit as a checkbox": quantize an F32/F16/BF16 base once into the user cache and train on that. */
    quantizeBase?: "none" | "q4_0" | "q4_k_m" | "q8_0";
}

export type RunState =
    | "created"
    | "running"
    | "cancelled"
    | "finished"
    | "failed"
    /** status.json says running but its sidecar is gone (crash, kill -9): resumable from the last checkpoint. */
    | "interrupted";

export interface RunFailure {
    code: string;
    message: string;
    hint: string;
}

export interface RunSummary {
    runId: string;
    state: RunState;
    /** ISO 8601. */
    createdAt: string;
    updatedAt: string;
    step: number;
    totalSteps: number;
    /** The step of the newest complete checkpoint, if any: where Resume continues from. */
    lastCheckpointStep?: number;
    /** Base model path from the run's config.json. */
    model?: string;
    error?: RunFailure;
}

/** One line of `metrics.jsonl`. */
export interface MetricRecord {
    step: number;
    loss: number;
    epoch?: number;
    valLoss?: number;
    lr?: number;
    tokensPerSecond?: number;
    /** ISO 8601. */
    time?: string;
    [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------------------------

export interface InitializeParams {
    protocolVersion: number;
    /** e.g. "vscode 1.100.0" or "lora-studio-cli"; for the sidecar's log only. */
    clientName: string;
    /** Workspace folder holding `.lora-studio/runs/`; absent when no folder is open (run requests then fail with NoWorkspace). */
    workspaceRoot?: string;
    /** False in a restricted-mode workspace: training and model loading are refused. */
    workspaceTrusted: boolean;
}

export interface InitializeResult {
    protocolVersion: number;
    /** The native engine's version, or null when it could not be loaded. */
    engineVersion: string | null;
    /** The sidecar's own package version. */
    sidecarVersion: string;
    capabilities: SidecarCapabilities;
}

/** Sent by the extension, first, exactly once. Any other request before it fails with NotInitialized. */
export namespace InitializeRequest {
    export const method = "initialize" as const;
    export const type = new RequestType<InitializeParams, InitializeResult, SidecarErrorData>(method);
}

/**
 * Sent by the extension before it closes the sidecar's stdin. The sidecar stops accepting work,
 * checkpoints running runs and answers; it exits when its stdin closes.
 */
export namespace ShutdownRequest {
    export const method = "shutdown" as const;
    export const type = new RequestType0<void, SidecarErrorData>(method);
}

// ---------------------------------------------------------------------------------------------
// Datasets and runs (requests from the extension or the CLI)
// ---------------------------------------------------------------------------------------------

export interface DatasetPrepareParams {
    model: string;
    data: string;
    validationData?: string;
    validationSplit?: number;
    contextLength?: number;
    seed?: number;
}

export interface DatasetPrepareResult {
    /** sha256 of the training file, as stored in a run's `dataset.sha256`. */
    datasetSha256: string;
    trainExamples: number;
    validationExamples: number;
    trainableTokens: number;
    sequences: number;
    /** Examples found in both sets (leakage check). */
    leakedExamples: number;
}

/** Sent by the extension/CLI: normalize, render, mask and pack a dataset without training. */
export namespace DatasetPrepareRequest {
    export const method = "dataset/prepare" as const;
    export const type = new RequestType<DatasetPrepareParams, DatasetPrepareResult, SidecarErrorData>(method);
}

export interface RunStartParams {
    config: TrainingConfig;
    /** Where the config came from, for messages. */
    configPath?: string;
    /** Write the run here instead of `<workspace>/.lora-studio/runs/<id>/` (the CLI's `--out`). */
    runDirectory?: string;
}

export interface RunStartResult {
    runId: string;
    runDirectory: string;
    totalSteps: number;
}

/** Sent by the extension/CLI. Returns once the run is created; progress follows as notifications. */
export namespace RunStartRequest {
    export const method = "run/start" as const;
    export const type = new RequestType<RunStartParams, RunStartResult, SidecarErrorData>(method);
}

export interface RunIdParams {
    runId: string;
}

export interface RunCancelResult {
    /** Step of the checkpoint saved on cancel. */
    checkpointStep: number;
    adapterPath: string;
}

/** Sent by the extension/CLI. Saves a checkpoint and the adapter, then stops the run. */
export namespace RunCancelRequest {
    export const method = "run/cancel" as const;
    export const type = new RequestType<RunIdParams, RunCancelResult, SidecarErrorData>(method);
}

export interface RunResumeResult {
    runId: string;
    /** The checkpoint step training continues from. */
    fromStep: number;
    totalSteps: number;
}

export interface RunResumeParams extends RunIdParams {
    /** The run's directory when it is not under the workspace's runs (the CLI's `--out DIR`). */
    runDirectory?: string;
}

/** Sent by the extension/CLI. Continues a cancelled or interrupted run from its newest checkpoint. */
export namespace RunResumeRequest {
    export const method = "run/resume" as const;
    export const type = new RequestType<RunResumeParams, RunResumeResult, SidecarErrorData>(method);
}

export interface RunListResult {
    /** Newest first. */
    runs: RunSummary[];
}

/** Sent by the extension: the runs under the workspace's `.lora-studio/runs/`, with their state. */
export namespace RunListRequest {
    export const method = "run/list" as const;
    export const type = new RequestType0<RunListResult, SidecarErrorData>(method);
}

export interface RunGetParams extends RunIdParams {
    /** Include every line of metrics.jsonl (the progress view restores its charts from it). */
    includeMetrics?: boolean;
}

export interface RunGetResult {
    summary: RunSummary;
    runDirectory: string;
    config: TrainingConfig;
    datasetSha256: string | null;
    metrics?: MetricRecord[];
    /** True when metrics.jsonl ended in a partial line (the sidecar was killed mid-write); that line was skipped. */
    metricsTornTail?: boolean;
}

/** Sent by the extension: one run's summary, config and optionally its metrics. */
export namespace RunGetRequest {
    export const method = "run/get" as const;
    export const type = new RequestType<RunGetParams, RunGetResult, SidecarErrorData>(method);
}

// ---------------------------------------------------------------------------------------------
// Notifications (sent by the sidecar)
// ---------------------------------------------------------------------------------------------

export interface RunProgressParams {
    runId: string;
    step: number;
    totalSteps: number;
    epoch: number;
    trainLoss: number;
    valLoss?: number;
    lr: number;
    tokensPerSecond: number;
    etaSeconds: number;
    memory: {
        rssBytes: number;
        /** Bytes the engine holds (VRAM on CUDA, host memory on CPU). */
        engineBytes: number;
    };
}

/** Sent by the sidecar after every optimizer step. */
export namespace RunProgressNotification {
    export const method = "run/progress" as const;
    export const type = new NotificationType<RunProgressParams>(method);
}

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export interface LogParams {
    level: LogLevel;
    message: string;
}

/** Sent by the sidecar: a structured log line for the extension's LogOutputChannel. */
export namespace LogNotification {
    export const method = "log" as const;
    export const type = new NotificationType<LogParams>(method);
}

export interface RunCheckpointParams {
    runId: string;
    step: number;
    path: string;
}

/** Sent by the sidecar once a checkpoint is completely on disk (renamed into place). */
export namespace RunCheckpointNotification {
    export const method = "run/checkpoint" as const;
    export const type = new NotificationType<RunCheckpointParams>(method);
}

export interface RunFinishedParams {
    runId: string;
    adapterPath: string;
    steps: number;
    finalTrainLoss: number;
    finalValLoss?: number;
    /** True when the run ended through run/cancel rather than by completing its epochs. */
    cancelled: boolean;
}

/** Sent by the sidecar when a run completes or is cancelled (after the adapter is written). */
export namespace RunFinishedNotification {
    export const method = "run/finished" as const;
    export const type = new NotificationType<RunFinishedParams>(method);
}

export interface RunFailedParams {
    runId: string;
    /** Stable code, e.g. "OUT_OF_MEMORY", "DATASET_INVALID", "ENGINE_ERROR". */
    code: string;
    message: string;
    /** What the user can do next. */
    hint: string;
}

/** Sent by the sidecar when a run stops on an error it could not recover from. */
export namespace RunFailedNotification {
    export const method = "run/failed" as const;
    export const type = new NotificationType<RunFailedParams>(method);
}

// ---------------------------------------------------------------------------------------------
// Test hooks: registered by the sidecar only when TEST_HOOKS_ENV_VAR is "1".
// ---------------------------------------------------------------------------------------------

/** Environment variable that enables the `debug/…` requests below. Never set in production. */
export const TEST_HOOKS_ENV_VAR = "LORA_STUDIO_SIDECAR_TEST_HOOKS";

export interface DebugBlockParams {
    /** How long to block the sidecar's event loop, simulating a hung child. */
    milliseconds: number;
}

/** Test only, sent by tests: blocks the sidecar's event loop synchronously (a hung child). */
export namespace DebugBlockRequest {
    export const method = "debug/block" as const;
    export const type = new RequestType<DebugBlockParams, void, SidecarErrorData>(method);
}

/** Test only, sent by tests: the sidecar's pid and whether it has been initialized. */
export namespace DebugInfoRequest {
    export const method = "debug/info" as const;
    export const type = new RequestType0<{ pid: number; initialized: boolean }, SidecarErrorData>(method);
}

/** Test only, sent by tests: writes `text` with console.log and process.stdout.write, which must land on stderr. */
export namespace DebugConsoleLogRequest {
    export const method = "debug/consoleLog" as const;
    export const type = new RequestType<{ text: string }, void, SidecarErrorData>(method);
}
