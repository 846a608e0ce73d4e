// The one protocol module for the extension ↔ training progress webview boundary.
// Pure types and tiny guards, no runtime dependencies: the webview bundle (media/progress) imports it too.
// Messages follow previewWebview.ts: each is declared once with a literal `type`, a typed `create` and an `is` guard.
import type { MetricRecord, RunFailure, RunState } from "./sidecar";

export type { RunFailure, RunState } from "./sidecar";

import { defineMessage } from "./webviewMessage";

export type { MessageKind } from "./webviewMessage";

/** One point of the charts: a metrics.jsonl line or a run/progress notification, reduced to what is drawn. */
export type ChartPoint = Pick<MetricRecord, "step" | "loss" | "epoch" | "valLoss" | "lr" | "tokensPerSecond">;

/** The live figures beside the charts; absent until the first step of this session arrives. */
export interface LiveFigures {
    step: number;
    totalSteps: number;
    epoch: number;
    etaSeconds: number;
    rssBytes: number;
    engineBytes: number;
}

/** Everything the view shows about a run, sent whole on Ready and after a reload. */
export interface RunSnapshot {
    runId: string;
    state: RunState;
    step: number;
    totalSteps: number;
    points: ChartPoint[];
    live?: LiveFigures;
    error?: RunFailure;
    /** Whether Resume can continue it (a checkpoint exists and it is not training or finished). */
    resumable: boolean;
    /** A short line for the header, e.g. the model and data file names. */
    description: string;
    /**
     * Examples longer than the sequence length that the run dropped or cut, as one sentence (the run log lists each);
     * absent when there were none.
     */
    dataNote?: string;
}

// ---- Webview → extension ----

/** Sent by the webview once its script runs; the extension answers with `Snapshot`. */
export const Ready = defineMessage<Record<string, never>>()("ready");
/** Sent by the Cancel button. */
export const CancelRun = defineMessage<Record<string, never>>()("cancel");
/** Sent by the Resume button (shown when the run is cancelled, interrupted or failed with a checkpoint). */
export const ResumeRun = defineMessage<Record<string, never>>()("resume");

// ---- Extension → webview ----

/** Sent by the extension after `Ready` and whenever the view must be redrawn from scratch (resume, reload). */
export const Snapshot = defineMessage<RunSnapshot>()("snapshot");
/** Sent by the extension for each run/progress notification of this run. */
export const Progress = defineMessage<{ point: ChartPoint; live: LiveFigures }>()("progress");
/** Sent by the extension when the run's state changes (finished, cancelled, failed, interrupted, running). */
export const StateChanged = defineMessage<{ state: RunState; resumable: boolean; error?: RunFailure; message?: string }>()("state");
/** Sent by the extension when a request the view asked for failed. */
export const ShowError = defineMessage<{ message: string }>()("error");

/** What the webview keeps with `vscode.setState`, and what the panel serializer restores from. */
export interface ProgressViewState {
    runId: string;
}

/**
 * Stable ids the E2E tests use. The chart element carries what it drew as data attributes:
 * `data-points` (count), `data-first-loss`, `data-last-loss`, `data-min-loss`, `data-last-step`.
 */
export const PROGRESS_IDS = {
    root: "progress",
    state: "state",
    step: "step",
    epoch: "epoch",
    eta: "eta",
    memory: "memory",
    loss: "loss",
    lossChart: "chart-loss",
    lrChart: "chart-lr",
    speedChart: "chart-speed",
    cancel: "cancel",
    resume: "resume",
    error: "error",
    dataNote: "data-note"
} as const;

export const PROGRESS_VIEW_TYPE = "loraStudio.trainingProgress";
