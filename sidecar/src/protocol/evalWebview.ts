// The one protocol module for the extension ↔ evaluation report webview boundary (media/eval).
// Pure types and tiny guards, no runtime dependencies: the webview bundle imports it too. Each message is
// declared once with `defineMessage` (a literal `type`, a typed `create`, an `is` guard), as in previewWebview.ts.
import type { EvalReport } from "./sidecar";

// The webview renders the sidecar's report as it is; re-exported so media/ imports this module only.
export type { BeforeAfter, EvalReport, EvalRow, EvalSkip, EvalSummary } from "./sidecar";

import { defineMessage } from "./webviewMessage";

export type { MessageKind } from "./webviewMessage";

// ---- Webview → extension ----

/** Sent by the webview once its script runs; the extension answers with `ShowReport` when it has one. */
export const EvalReady = defineMessage<Record<string, never>>()("ready");
/** Sent by the webview when the user clicks a row: open `file` with the cursor on its 1-based `line`. */
export const RevealExample = defineMessage<{ file: string; line: number }>()("revealExample");
/** Sent by the webview's "Open report" link: open the report's JSON file in an editor. */
export const OpenReportFile = defineMessage<{ path: string }>()("openReportFile");

// ---- Extension → webview ----

/** Sent by the extension after `EvalReady` (and whenever the panel is reused for a new report). */
export const ShowReport = defineMessage<{ report: EvalReport }>()("showReport");
/** Sent by the extension when a report cannot be shown (e.g. its file is gone after a reload). */
export const ShowEvalError = defineMessage<{ message: string }>()("error");

/** What the webview keeps with `vscode.setState`; the panel serializer restores the panel from it. */
export interface EvalViewState {
    /** The whole report, so a reload shows it even when it was never written (a cancelled evaluation). */
    report: EvalReport | null;
    scrollTop: number;
}

/** Stable ids the E2E tests use. */
export const EVAL_IDS = {
    title: "eval-title",
    summary: "eval-summary",
    table: "eval-table",
    skipped: "eval-skipped",
    error: "eval-error",
    reportLink: "eval-report-link"
} as const;

export const EVAL_VIEW_TYPE = "loraStudio.evalReport";
