// The extension ↔ sidecar protocol: every JSON-RPC message the two processes exchange, declared once
// and imported by both sides (the sidecar's `main.ts`/`rpc/` and the extension's `sidecar/` supervisor).
// Each message is a namespace with a literal `method` and a typed RequestType/NotificationType, as in
// vscode-eslint's customMessages. Change PROTOCOL_VERSION whenever a message changes shape: the
// supervisor refuses a sidecar whose version differs, so a stale `dist/` is caught at the handshake.
//
// This module must stay free of node, vscode and native imports: it is bundled into both processes.

import { NotificationType, RequestType, RequestType0 } from "vscode-jsonrpc";
import type { FoundModel, SearchedFolder } from "./models";

/** Bump on any incompatible change to a message below. 5: export/run gained the Axolotl format and fields; import, adapter/import and models messages. */
export const PROTOCOL_VERSION = 5;

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
    /** The pre-flight memory check found no micro-batch size that fits (run/start); the hint says what to change. */
    InsufficientMemory: -32019,
    /**
     * run/start or run/resume while another run trains in this sidecar: one run at a time (it takes every core, or the
     * GPU's memory). `data.runId` names the run that is training; cancel it or wait for it to finish.
     */
    RunAlreadyActive: -32020,
    /**
     * run/start or run/resume of a run folder another process trains (its run.lock): `data.holder` names it, the editor
     * or a terminal, with its pid. Wait for it to finish, or cancel it there.
     */
    RunLocked: -32021,
    /** run/resume of a run that has finished: nothing changes. Pass a larger `epochs` to train it further. */
    RunFinished: -32022,
    /** chat/open could not load the model or apply the adapter; the message names both files. */
    ChatLoadFailed: -32040,
    /** No open chat session with that id (closed, or opened in a sidecar that has since restarted). */
    ChatSessionNotFound: -32041,
    /**
     * export/run or adapter/import would replace an existing file or folder that is not one of its inputs (those are
     * always refused, with InvalidParams): `data.paths` lists them. Ask the user, then resend with `overwrite: true`.
     */
    ExportTargetExists: -32050,
    /** import/run would replace an existing file (never the input: that is InvalidParams); `data.paths` names it. Resend with `overwrite: true`. */
    ImportTargetExists: -32060,
    /** A row of the input cannot be read or converted; the message names file, row and column, `data.importPlace` too. */
    ImportRowInvalid: -32061,
    /** models/pull failed or was cancelled: `data.pullProblem` says how, `data.partialFile` names a kept partial. */
    ModelPullFailed: -32062,
    /** Parameters failed validation; the message names the field. */
    InvalidParams: -32602
} as const;
export type SidecarErrorCode = (typeof SidecarErrorCode)[keyof typeof SidecarErrorCode];

/** The `data` of every sidecar ResponseError: what the user can do about it. */
export interface SidecarErrorData {
    hint: string;
    /** The run the error is about, where that is another run than the request's (RunAlreadyActive: the one training). */
    runId?: string;
    /** InvalidParams for a run config: each field that failed, by path, so the editor can put the cursor on it. */
    fields?: ConfigFieldProblem[];
    /** RunLocked: the process that holds the run folder. */
    holder?: RunHolder;
    /** ExportTargetExists: the existing files the export would replace. */
    paths?: string[];
}

/** One failing field of a run config: `path` as in the JSON (["targetModules", 1]), the message, the RC code. */
export interface ConfigFieldProblem {
    path: Array<string | number>;
    message: string;
    code: string;
}

/** Who trains a run folder (its run.lock). */
export interface RunHolder {
    kind: "editor" | "terminal";
    /** The sidecar that trains it. */
    pid: number;
    /** The sidecar's parent: the terminal's `lora-studio` or the editor's extension host. */
    parentPid: number;
    host: string;
    client: string;
    /** ISO 8601. */
    acquiredAt: string;
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
    /** The seven projections, or Phi-3's fused attn_qkv / ffn_gate_up (docs/architectures.md). */
    targetModules?: Array<"attn_q" | "attn_k" | "attn_v" | "attn_o" | "ffn_gate" | "ffn_up" | "ffn_down" | "attn_qkv" | "ffn_gate_up">;
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
    /** Checkpoints kept on disk, newest first; older ones are deleted (the newest, which resume needs, always stays). */
    checkpointsToKeep?: number;
    /** Optimizer steps between validation losses; 0 = every epoch end. */
    evalEvery?: number;
    /** Examples longer than sequenceLength: left out, cut from the left or the right, or the run refuses to start. */
    truncation?: "drop" | "truncate-left" | "truncate-right" | "fail";
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
    /** Examples longer than the sequence length that the run dropped or cut (absent: none). */
    overLength?: OverLengthReport;
}

/** What the truncation policy did to examples longer than the sequence length, counted over training and validation. */
export interface OverLengthReport {
    policy: "drop" | "truncate-left" | "truncate-right" | "fail";
    sequenceLength: number;
    /** Examples left out: too long under "drop", or cut to nothing trainable. */
    dropped: number;
    /** Examples cut to the sequence length. */
    truncated: number;
    /** The first few, as "file:line: what happened" (all are in the run log). */
    examples: string[];
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
    /** Which face this is: named in a run folder's lock, so a refused second owner learns who holds it. Default "editor". */
    clientKind?: "editor" | "terminal";
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
    /**
     * Warnings about the whole dataset, each once ("file:line: message [code]", the line being the first it concerns),
     * e.g. a chat template without a system role folding system prompts into user turns. Absent from older sidecars.
     */
    datasetWarnings?: string[];
    /** Examples longer than contextLength, dropped or cut (absent: none). */
    overLength?: OverLengthReport;
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
    /** Set when the pre-flight memory check shrank the micro-batch (see MemoryAdjustment). */
    memoryAdjustment?: MemoryAdjustment;
    /** Examples longer than the sequence length, dropped or cut (absent: none). */
    overLength?: OverLengthReport;
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
    overLength?: OverLengthReport;
}

export interface RunResumeParams extends RunIdParams {
    /** The run's directory when it is not under the workspace's runs (the CLI's `--out DIR`). */
    runDirectory?: string;
    /** Train a finished run further, to this many epochs in all (more than its config's). */
    epochs?: number;
}

/**
 * Sent by the extension/CLI. Continues a cancelled or interrupted run from its newest checkpoint. A finished run is
 * refused with RunFinished and left as it is, unless `epochs` asks for more; a run another process trains, with
 * RunLocked.
 */
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
// Chat (issue 5): node-llama-cpp sessions on a base model, optionally with a LoRA adapter.
// Requests from the extension (chat panel, Ask About Selection, the @lora participant); the sidecar
// streams each answer as `chat/token` notifications and answers `chat/send` once it is complete.
// ---------------------------------------------------------------------------------------------

export interface ChatOpenParams {
    /** Path of the base model GGUF. */
    model: string;
    /** Path of a GGUF LoRA adapter trained on `model`; omit for the base model alone. */
    adapter?: string;
    /** System prompt; omit when the training data had none (the history is then seeded like training). */
    system?: string;
    /** Tokens; default 1024. */
    contextSize?: number;
    /** CPU threads for generation; default node-llama-cpp's choice. */
    threads?: number;
    /** Lets `chat/stop` abort the model load (a large GGUF can take a while). */
    requestId?: string;
}

export interface ChatOpenResult {
    sessionId: string;
    /** The chat wrapper that formats prompts: always the model's own Jinja template. */
    templateName: string;
    /** `general.name` of the model, or its file name. */
    modelName: string;
    /** True when another open session already had this model file loaded and this one shares it. */
    sharedModel: boolean;
    /** Problems that do not stop the chat, e.g. an adapter that records another base of the same shape; show them. */
    warnings?: string[];
}

/**
 * Sent by the extension: loads `model` (once per file; sessions on the same file share it, each with
 * its own context) and applies `adapter` to this session's context. A missing, corrupt or mismatched
 * adapter fails with ChatLoadFailed naming both files.
 */
export namespace ChatOpenRequest {
    export const method = "chat/open" as const;
    export const type = new RequestType<ChatOpenParams, ChatOpenResult, SidecarErrorData>(method);
}

/** One exchange of an earlier conversation, oldest first. */
export interface ChatTurn {
    user: string;
    assistant: string;
}

export interface ChatSendParams {
    sessionId: string;
    /** Chosen by the client, unique among its requests: names the `chat/token` stream and `chat/stop`. */
    requestId: string;
    message: string;
    /** 0 = greedy (default). */
    temperature?: number;
    topP?: number;
    /** Default 256. */
    maxTokens?: number;
    /**
     * When given, the conversation is replaced by these exchanges before `message` is asked (the panel sends
     * its history, so Regenerate and a panel restored after a sidecar restart need no server state).
     */
    history?: ChatTurn[];
}

export interface ChatSendResult {
    requestId: string;
    /** The whole answer: exactly the concatenation of its `chat/token` texts. */
    answer: string;
    /** True when `chat/stop` ended it early; `answer` is what was generated until then. */
    stopped: boolean;
    /** Set when the oldest exchanges were dropped to fit the context; show it. (A question too long on its own is refused with InvalidParams.) */
    notice?: string;
}

/** Sent by the extension. Answered when the answer is complete or stopped; tokens stream before that. */
export namespace ChatSendRequest {
    export const method = "chat/send" as const;
    export const type = new RequestType<ChatSendParams, ChatSendResult, SidecarErrorData>(method);
}

export interface ChatTokenParams {
    sessionId: string;
    requestId: string;
    /** The next piece of the answer's text (one or more tokens, never a split character). */
    text: string;
}

/** Sent by the sidecar while it answers a `chat/send`, in order. */
export namespace ChatTokenNotification {
    export const method = "chat/token" as const;
    export const type = new NotificationType<ChatTokenParams>(method);
}

export interface ChatStopParams {
    requestId: string;
}

export interface ChatStopResult {
    /** False when no request with that id was running (already finished, or unknown). */
    stopped: boolean;
}

/** Sent by the extension: stops a running `chat/send` (which then answers with `stopped: true`) or `chat/open`. */
export namespace ChatStopRequest {
    export const method = "chat/stop" as const;
    export const type = new RequestType<ChatStopParams, ChatStopResult, SidecarErrorData>(method);
}

export interface ChatSessionParams {
    sessionId: string;
}

/** Sent by the extension: forgets the session's conversation (the system prompt stays). */
export namespace ChatResetRequest {
    export const method = "chat/reset" as const;
    export const type = new RequestType<ChatSessionParams, void, SidecarErrorData>(method);
}

/** Sent by the extension: stops the session's answer, frees its context, and the model when no session uses it. */
export namespace ChatCloseRequest {
    export const method = "chat/close" as const;
    export const type = new RequestType<ChatSessionParams, void, SidecarErrorData>(method);
}

// ---------------------------------------------------------------------------------------------
// Evaluation (issue 5): base against tuned on held-out data. Requests from the extension ("LoRA
// Studio: Evaluate"); the sidecar reports each scored row as `eval/progress` and answers `eval/run`
// with the whole report once every row is scored (or `eval/cancel` stopped it).
// ---------------------------------------------------------------------------------------------

/** One value for the base model alone and one for the base plus the adapter. */
export interface BeforeAfter<T> {
    base: T;
    tuned: T;
}

/** One held-out example, answered by both models. */
export interface EvalRow {
    /** The dataset file the example came from (as given, or from the run's config). */
    file: string;
    /** 1-based line of the example in `file`, as editors show it. */
    line: number;
    /** The last user turn: what was asked (earlier turns and the system prompt were sent too). */
    question: string;
    /** The dataset's answer: the last assistant turn. */
    reference: string;
    /** The greedy answers. */
    base: string;
    tuned: string;
    /** Normalized exact match (SQuAD style): 1 or 0. */
    em: BeforeAfter<number>;
    /** Token F1 against the reference (SQuAD style), in [0, 1]. */
    f1: BeforeAfter<number>;
    /** PubMedQA style: whether the first yes/no/maybe in the answer is the reference's; null when the reference is none of them. */
    yesNo: BeforeAfter<boolean> | null;
    /** Mean cross-entropy (nats per token) of the reference answer's tokens given the prompt. */
    loss: BeforeAfter<number>;
}

/** A held-out line that could not be scored (no assistant turn, raw text, template error…). */
export interface EvalSkip {
    file: string;
    line: number;
    reason: string;
}

export interface EvalSummary {
    /** Rows scored. */
    rows: number;
    skipped: number;
    /** Mean exact match over the rows, in [0, 1]. */
    em: BeforeAfter<number>;
    f1: BeforeAfter<number>;
    /** Accuracy over the rows whose reference is yes/no/maybe; null when there are none. */
    yesNo: (BeforeAfter<number> & { rows: number }) | null;
    /** Token-weighted mean loss of the reference answers (nats per token); perplexity is exp(loss). */
    loss: BeforeAfter<number>;
    /** Reference tokens the loss is averaged over. */
    lossTokens: number;
}

export interface EvalReport {
    /** Always 1 for this shape. */
    formatVersion: 1;
    /** ISO 8601. */
    createdAt: string;
    model: string;
    adapter: string;
    /** The held-out files the rows came from. */
    data: string[];
    /** "file" for an explicit held-out file; "validation-split" for a run's own validation examples. */
    source: "file" | "validation-split";
    /** Run id when evaluated through a run. */
    runId?: string;
    maxTokens: number;
    summary: EvalSummary;
    rows: EvalRow[];
    skipped: EvalSkip[];
    /** True when `eval/cancel` stopped it: the rows are the ones scored until then, and no report file was written. */
    cancelled: boolean;
    /** Where the report was written (absent when cancelled). */
    files?: { json: string; csv: string };
    /** Problems that did not stop the evaluation, e.g. an adapter that records another base of the same shape. */
    warnings?: string[];
    elapsedSeconds: number;
}

export interface EvalRunParams {
    /** Chosen by the client, unique among its requests: names the `eval/progress` stream and `eval/cancel`. */
    evalId: string;
    /** Evaluate this run: its base model (config.json), its adapter.gguf, and by default its validation split. */
    runId?: string;
    /** A run directory outside the workspace's runs (instead of `runId`). */
    runDirectory?: string;
    /** Base model GGUF; required without a run. */
    model?: string;
    /** GGUF LoRA adapter; required without a run. */
    adapter?: string;
    /** Held-out JSONL (any dataset format). Without it, the run's validation split is used. */
    data?: string;
    /** Longest generated answer, in tokens (default 128). */
    maxTokens?: number;
    /** Evaluate only the first N held-out examples. */
    limit?: number;
    /** Where to write eval-<timestamp>.json/.csv; default the run directory, else the data file's folder. */
    outDir?: string;
    /** CPU threads for generation; default node-llama-cpp's choice. */
    threads?: number;
}

/**
 * Sent by the extension: scores every held-out example with the base model and with the adapter. Answered
 * with the report once done (or cancelled); `eval/progress` streams meanwhile. Needs a trusted workspace.
 * A missing, corrupt or mismatched adapter fails with InvalidParams naming both files.
 */
export namespace EvalRunRequest {
    export const method = "eval/run" as const;
    export const type = new RequestType<EvalRunParams, EvalReport, SidecarErrorData>(method);
}

export interface EvalProgressParams {
    evalId: string;
    /** Rows scored or skipped so far, out of `total`. */
    done: number;
    total: number;
    /** The row just scored, when it was scored (not skipped). */
    row?: EvalRow;
}

/** Sent by the sidecar after each held-out example of an `eval/run`. */
export namespace EvalProgressNotification {
    export const method = "eval/progress" as const;
    export const type = new NotificationType<EvalProgressParams>(method);
}

export interface EvalCancelParams {
    evalId: string;
}

/** Sent by the extension: stops a running `eval/run`, which then answers with `cancelled: true`. Returns false when none was running. */
export namespace EvalCancelRequest {
    export const method = "eval/cancel" as const;
    export const type = new RequestType<EvalCancelParams, boolean, SidecarErrorData>(method);
}

// ---------------------------------------------------------------------------------------------
// Training setup: presets, the pre-flight memory estimate and out-of-memory recovery
// ---------------------------------------------------------------------------------------------

/** Hardware tiers of sidecar/src/training/presets.ts. */
export type TrainingPresetId = "gpu-6gb" | "gpu-12gb" | "gpu-24gb" | "cpu";

export interface RunEstimateParams {
    /** Path of the base model GGUF (absolute, or relative to the workspace folder). */
    model: string;
    /** Config fields to estimate with; missing ones take the schema's defaults. */
    settings?: Omit<TrainingConfig, "model" | "data">;
    /** Also estimate the base with each of these presets applied over `settings`. */
    presets?: TrainingPresetId[];
}

export interface MemoryEstimateInfo {
    /** Bytes the run needs at its peak (see sidecar/src/training/memoryEstimate.ts for the terms). */
    totalBytes: number;
    parts: { runtime: number; weights: number; weightScratch: number; adapter: number; activations: number; attention: number };
    /** True when it fits the free memory as configured. */
    fits: boolean;
    /** When it does not fit but a halved micro-batch would: what run/start would train with. */
    shrinksTo?: { sequenceLength: number; gradAccum: number };
}

export interface RunEstimateResult {
    device: "cpu" | "cuda";
    deviceName: string;
    /** Free VRAM of the first CUDA device, or free RAM. */
    availableBytes: number;
    estimate: MemoryEstimateInfo;
    presets: Array<{ id: TrainingPresetId; estimate: MemoryEstimateInfo }>;
    /** The preset that matches this machine. */
    detectedPreset: TrainingPresetId;
}

/** Sent by the extension (the Start Training wizard): the memory a run of `model` would need, per preset. */
export namespace RunEstimateRequest {
    export const method = "run/estimate" as const;
    export const type = new RequestType<RunEstimateParams, RunEstimateResult, SidecarErrorData>(method);
}

/** A micro-batch shrunk to fit memory: sequenceLength halved (once or more), gradAccum doubled as often. */
export interface MemoryAdjustment {
    /** Why, with the numbers, e.g. "the run needs about 7.10 GiB … training with sequenceLength 256 and gradAccum 8 instead". */
    reason: string;
    previousSequenceLength: number;
    previousGradAccum: number;
    sequenceLength: number;
    gradAccum: number;
}

export interface RunMemoryAdjustedParams extends MemoryAdjustment {
    runId: string;
    /** The checkpoint step training continues from (0 when no checkpoint existed yet). */
    fromStep: number;
}

/**
 * Sent by the sidecar when a run ran out of memory and continues from its last checkpoint with a smaller
 * micro-batch (the run's config.json is rewritten to match). A second failure at the smallest micro-batch
 * ends the run with run/failed, code "OUT_OF_MEMORY".
 */
export namespace RunMemoryAdjustedNotification {
    export const method = "run/memoryAdjusted" as const;
    export const type = new NotificationType<RunMemoryAdjustedParams>(method);
}

// ---------------------------------------------------------------------------------------------
// Export (issue 5): a trained adapter as GGUF LoRA, merged GGUF, Ollama Modelfile or PEFT folder; a run as an
// Axolotl job folder (issue 16).
// Requests from the extension ("LoRA Studio: Export"); the same code runs as `lora-studio export`.
// ---------------------------------------------------------------------------------------------

export type ExportFormat = "gguf-lora" | "merged" | "ollama" | "peft" | "axolotl";
export type ExportMergedType = "f32" | "f16" | "q8_0" | "q4_0" | "q4_k_m";
/** The PEFT safetensors' float type: f32 keeps the adapter exact; f16/bf16 halve the file (rounded to nearest even). */
export type ExportPeftDtype = "f32" | "f16" | "bf16";
/** axolotl only: how Axolotl spreads the job over the GPUs. */
export type ExportAxolotlStrategy = "deepspeed-zero2" | "deepspeed-zero3" | "fsdp";

export interface ExportRunParams {
    format: ExportFormat;
    /** A run under the workspace's `.lora-studio/runs/`: its adapter.gguf and its config's base model. */
    runId?: string;
    /** A run folder outside the workspace's runs (same meaning as runId). */
    runDirectory?: string;
    /** The adapter and base model, when no run is given (or to override the run's). */
    adapter?: string;
    model?: string;
    /** Where to write; default `<run>/export/…` beside the adapter. */
    out?: string;
    /** merged only; default f16. q8_0, q4_0 and q4_k_m are quantized by the engine. */
    type?: ExportMergedType;
    /** ollama only: the SYSTEM prompt the training data used. */
    system?: string;
    /** peft only; default f32. */
    dtype?: ExportPeftDtype;
    /** peft only: `base_model_name_or_path`; default from the GGUF metadata. */
    baseModelId?: string;
    /**
     * axolotl only: the Hugging Face repository of the base (`base_model`); default from the GGUF metadata. Without
     * either, InvalidParams with `data.fields[0].path` ["baseModelRepo"]: ask the user and resend.
     */
    baseModelRepo?: string;
    /** axolotl only: GPUs to launch on (default 1). */
    gpus?: number;
    /** axolotl only; default deepspeed-zero2. */
    strategy?: ExportAxolotlStrategy;
    /** Replace existing output files (ExportTargetExists otherwise). An input of the export is never replaced. */
    overwrite?: boolean;
}

export interface ExportRunResult {
    format: ExportFormat;
    /** The file or folder written (what "Reveal" shows). */
    path: string;
    files: string[];
    /** E.g. why an Ollama Modelfile has no TEMPLATE. */
    warnings: string[];
}

/**
 * Sent by the extension. Checks that the adapter fits the base (an adapter trained on another model fails
 * with InvalidParams naming both files), writes the export atomically and answers with what it wrote.
 * Gated like model loading (trusted workspace, engine available).
 */
export namespace ExportRunRequest {
    export const method = "export/run" as const;
    export const type = new RequestType<ExportRunParams, ExportRunResult, SidecarErrorData>(method);
}

// ---------------------------------------------------------------------------------------------
// Import (issue 16): a PEFT LoRA folder trained elsewhere (Hugging Face PEFT, Axolotl, our own PEFT export) → a GGUF
// LoRA for a base model. From "LoRA Studio: Import Adapter"; the same code runs as `lora-studio import-adapter`.
// ---------------------------------------------------------------------------------------------

export interface AdapterImportParams {
    /** The PEFT folder: adapter_config.json + adapter_model.safetensors. */
    peft: string;
    /** The base GGUF the adapter is for; every shape is checked against it. */
    model: string;
    /** The GGUF LoRA to write (never an input). */
    out: string;
    /** Replace an existing file at `out` (ExportTargetExists otherwise). */
    overwrite?: boolean;
}

export interface AdapterImportResult {
    path: string;
    arch: string;
    /** LoRA pairs written. */
    pairs: number;
    /** adapter.lora.alpha written. */
    alpha: number;
    /** E.g. the config names another Hugging Face model than the GGUF records. */
    warnings: string[];
}

/**
 * Sent by the extension. A folder that cannot be imported (DoRA, modules_to_save, embeddings, biases, unknown modules,
 * a lying safetensors header, an adapter for another base) fails with InvalidParams naming the file and the field.
 * Gated by workspace trust; needs no native engine.
 */
export namespace AdapterImportRequest {
    export const method = "adapter/import" as const;
    export const type = new RequestType<AdapterImportParams, AdapterImportResult, SidecarErrorData>(method);
}

// ---------------------------------------------------------------------------------------------
// Training backend (issue 6, CUDA): which compute path trains and why, sent in `initialize`'s capabilities.
// Declared by interface merging so the addition stays in this section.
// ---------------------------------------------------------------------------------------------

export interface TrainingBackendInfo {
    kind: "cuda" | "cpu";
    /** One sentence for the user: "CUDA via …", "CPU: no NVIDIA driver found …", "CPU: built without CUDA". */
    description: string;
}

export interface SidecarCapabilities {
    /** Set by the sidecar when the engine loaded; shown at start-up (sidecar log, CLI `train`). */
    backend?: TrainingBackendInfo;
}

// ---------------------------------------------------------------------------------------------
// Dataset import (issue 14): CSV, TSV, Parquet, JSON and JSONL rows → chat JSONL ("LoRA Studio: Import Dataset").
// The same core (sidecar/src/import/) runs as `lora-studio import`. Declared in one block; SidecarErrorData is
// extended by interface merging.
// ---------------------------------------------------------------------------------------------

export type ImportInputFormat = "csv" | "tsv" | "parquet" | "json" | "jsonl";
export type ImportPresetName = "openai" | "sharegpt" | "pubmedqa" | "sciq" | "dolly" | "alpaca";
/** How both faces name the presets. */
export const IMPORT_PRESET_LABELS: Readonly<Record<ImportPresetName, string>> = {
    openai: "OpenAI chat", sharegpt: "ShareGPT", pubmedqa: "PubMedQA", sciq: "SciQ", dolly: "Dolly", alpaca: "Alpaca"
};

/** Which columns become which messages: a preset (default: detected) and the user's own system prompt and templates. */
export interface ImportMappingParams {
    /** Path of the input file (absolute). */
    file: string;
    /** Default: from the extension, then the first bytes. */
    format?: ImportInputFormat;
    /** "auto" (default) detects the preset from the columns. */
    preset?: ImportPresetName | "auto";
    /** System prompt of every example (a template: {column} allowed); empty means none. */
    system?: string;
    /** Templates such as "Question: {question}\\nContext: {support}" (`\\n` is a line break). */
    user?: string;
    assistant?: string;
}

export interface ImportPreviewParams extends ImportMappingParams {
    /** How many rows to convert (default 5, at most 1000). */
    rows?: number;
}

export interface ImportPreviewResult {
    format: ImportInputFormat;
    columns: string[];
    /** The preset detection picked (preset "auto"), if any. */
    detected?: ImportPresetName;
    /** Every preset the columns fit. */
    candidates: ImportPresetName[];
    /** The mapping in use: its templates, to prefill the editor's input boxes. */
    mapping: { preset?: ImportPresetName; system?: string; user?: string; assistant?: string; column?: string };
    /** The mapping, one line per message ("user ← Question: {question}…"). */
    description: string[];
    /** The first rows exactly as import/run will write them, one JSON line each. */
    lines: string[];
}

/**
 * Sent by the extension: converts the first rows with the same code that writes them, and writes nothing. A row that
 * cannot be converted fails with ImportRowInvalid; a mapping that does not fit the columns with InvalidParams.
 */
export namespace ImportPreviewRequest {
    export const method = "import/preview" as const;
    export const type = new RequestType<ImportPreviewParams, ImportPreviewResult, SidecarErrorData>(method);
}

export interface ImportRunParams extends ImportMappingParams {
    /** Chosen by the client, unique among its requests: names the `import/progress` stream and `import/cancel`. */
    importId: string;
    /** The chat JSONL to write; never the input. */
    out: string;
    /** Fraction (0 < x < 1) of rows written to `heldOut` instead; the two go together. */
    split?: number;
    heldOut?: string;
    /** Split seed (default 0): the same seed, the same split. */
    seed?: number;
    /** Replace an existing `out`/`heldOut` (ImportTargetExists otherwise). */
    overwrite?: boolean;
}

export interface ImportRunResult {
    /** True when import/cancel stopped it: nothing was written, no temporary file is left. */
    cancelled: boolean;
    rows: number;
    written: number;
    heldOut: number;
}

/** Sent by the extension: streams the whole file to `out` (and `heldOut`) through temporary files renamed at the end. */
export namespace ImportRunRequest {
    export const method = "import/run" as const;
    export const type = new RequestType<ImportRunParams, ImportRunResult, SidecarErrorData>(method);
}

export interface ImportProgressParams {
    importId: string;
    rows: number;
    /** Bytes of the input read so far, out of totalBytes. */
    bytes: number;
    totalBytes: number;
    /** Known up front for Parquet only. */
    totalRows?: number;
}

/** Sent by the sidecar every 10,000 rows of an import/run, and at its end. */
export namespace ImportProgressNotification {
    export const method = "import/progress" as const;
    export const type = new NotificationType<ImportProgressParams>(method);
}

export interface ImportCancelParams {
    importId: string;
}

/** Sent by the extension: stops a running import/run, which then answers `cancelled: true`. False when none was running. */
export namespace ImportCancelRequest {
    export const method = "import/cancel" as const;
    export const type = new RequestType<ImportCancelParams, boolean, SidecarErrorData>(method);
}

/** Where in the input an ImportRowInvalid row is, so the editor can open the file there. */
export interface ImportPlace {
    file: string;
    row?: number;
    /** 1-based line, in text formats. */
    line?: number;
    column?: string;
}

export interface SidecarErrorData {
    /** ImportRowInvalid: the row. */
    importPlace?: ImportPlace;
}

// ---------------------------------------------------------------------------------------------
// Base models (issue 14): "LoRA Studio: Choose Base Model" and the wizard's model step; the same core as
// `lora-studio models list|pull` (sidecar/src/models/). Needs no engine; pulling needs a trusted workspace.
// ---------------------------------------------------------------------------------------------

export interface ModelsListParams {
    /** loraStudio.modelsFolder: searched as its own source. Empty or absent: downloads go to node-llama-cpp's folder. */
    modelsFolder?: string;
    /** The preset of the catalogue's memory estimates; default: the one detected for this machine. */
    preset?: TrainingPresetId;
}

/** A catalogue model that is not on disk, with what it costs before anything downloads. */
export interface CatalogueOffer {
    id: string;
    label: string;
    /** `hf:<org>/<repo>/<file>.gguf`: what models/pull takes. */
    uri: string;
    /** ≈ the download's size, as its repository listed it. */
    downloadBytes: number;
    parameters: number;
    contextLength: number;
    architecture: string;
    /** Training it with `ModelsListResult.preset` (sidecar/src/models/catalogueEstimate.ts). */
    memory: { totalBytes: number; presetMemoryBytes: number; fits: boolean };
}

export interface ModelsListResult {
    /** Every GGUF found (readable or not, with the reason), grouped by source in MODEL_SOURCES order. */
    models: FoundModel[];
    searched: SearchedFolder[];
    /** Where models/pull downloads to when given this list's modelsFolder (absolute). */
    downloadFolder: string;
    preset: TrainingPresetId;
    notDownloaded: CatalogueOffer[];
}

/** Sent by the extension: the base models on this machine and the catalogue's others. Reads headers only. */
export namespace ModelsListRequest {
    export const method = "models/list" as const;
    export const type = new RequestType<ModelsListParams, ModelsListResult, SidecarErrorData>(method);
}

export interface ModelsPullParams {
    /** `hf:<org>/<repo>/<file>.gguf`, an https:// or http:// URL of a .gguf file, or a catalogue id. */
    uri: string;
    /** The models folder (created when missing); absent: node-llama-cpp's (~/.node-llama-cpp/models). */
    dir?: string;
    /** Chosen by the client; echoed in every models/pullProgress of this pull. */
    pullId: string;
}

export interface ModelsPullResult {
    path: string;
    /** The finished file's header, checked as a readable GGUF before it is answered. */
    model: FoundModel;
    alreadyPresent: boolean;
    /** Bytes taken over from an earlier, interrupted or cancelled pull. */
    resumedFrom: number;
}

/**
 * Sent by the extension. Cancel it with the request's CancellationToken ($/cancelRequest): the answer is then a
 * ModelPullFailed error with pullProblem "cancelled", and the partial file stays for the next pull to resume.
 */
export namespace ModelsPullRequest {
    export const method = "models/pull" as const;
    export const type = new RequestType<ModelsPullParams, ModelsPullResult, SidecarErrorData>(method);
}

export interface ModelsPullProgressParams {
    pullId: string;
    downloadedBytes: number;
    /** 0 while unknown. */
    totalBytes: number;
    resumedFrom: number;
}

/** Sent by the sidecar while a models/pull downloads: once per whole percent (per MB when the size is unknown), and at the end. */
export namespace ModelsPullProgressNotification {
    export const method = "models/pullProgress" as const;
    export const type = new NotificationType<ModelsPullProgressParams>(method);
}

export interface SidecarErrorData {
    /** ModelPullFailed: "bad-uri", "http", "not-gguf", "cancelled", "interrupted" or "io" (models/pull.ts). */
    pullProblem?: string;
    /** ModelPullFailed: the kept partial download, which pulling the same URI again resumes. */
    partialFile?: string;
}
