// The one protocol module for the extension ↔ dataset preview webview boundary.
// Pure types and tiny guards, no runtime dependencies: the webview bundle (media/preview) imports it too.
// Each message is declared once with `defineMessage`, which gives a literal `type`, a typed `create`
// and an `is` guard, so neither side matches bare strings.
import type { DatasetRowsResult, DatasetSummary, LineMaskPreview } from "./languageServer";

// The webview renders the language server's answers as they are; re-exported so media/ imports this module only.
export type { DatasetRow, DatasetRowsResult, DatasetSummary, Histogram, LineMaskPreview, MaskToken } from "./languageServer";

import { defineMessage } from "./webviewMessage";

export type { MessageKind } from "./webviewMessage";

// ---- Webview → extension ----

/** Sent by the webview once its script runs; the extension answers with `Summary`. */
export const Ready = defineMessage<Record<string, never>>()("ready");
/** Sent by the webview's virtualized table when rows scroll into view that it has not fetched. */
export const RequestRows = defineMessage<{ offset: number; limit: number }>()("requestRows");
/** Sent by the webview when the user clicks a row or a duplicate: reveal that 0-based line in the editor. */
export const RevealLine = defineMessage<{ line: number }>()("revealLine");
/** Sent by the webview when the user selects a row: show that 0-based line's label mask. */
export const RequestLinePreview = defineMessage<{ line: number }>()("requestLinePreview");
/** Sent by the webview's refresh button. */
export const Refresh = defineMessage<Record<string, never>>()("refresh");

// ---- Extension → webview ----

/** Sent by the extension after `Ready`, on save and on refresh; rows fetched before are stale after it. */
export const Summary = defineMessage<{ fileName: string; summary: DatasetSummary }>()("summary");
/** Sent by the extension in answer to `RequestRows`. */
export const Rows = defineMessage<DatasetRowsResult>()("rows");
/** Sent by the extension in answer to `RequestLinePreview`. */
export const LinePreview = defineMessage<LineMaskPreview>()("linePreview");
/** Sent by the extension when the server could not answer; the webview shows it. */
export const ShowError = defineMessage<{ message: string }>()("error");

/** What the webview keeps with `vscode.setState`, and what the panel serializer restores from. */
export interface PreviewState {
    uri: string;
    scrollTop: number;
    /** The row whose label mask is shown, if any. */
    selectedLine?: number;
}

/** Stable ids the E2E tests use. */
export const PREVIEW_IDS = {
    counts: "counts",
    formats: "formats",
    roles: "roles",
    table: "table",
    histogramChars: "histogram-chars",
    histogramTokens: "histogram-tokens",
    duplicates: "duplicates",
    error: "error",
    /** The label-mask panel of the selected row; its tokens carry the classes `tok trained`, `tok masked`, `tok cut`. */
    mask: "mask",
    maskCount: "mask-count"
} as const;

export const PREVIEW_VIEW_TYPE = "loraStudio.datasetPreview";
