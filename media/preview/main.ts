// The dataset preview webview (bundled to dist/media/preview.js). It only renders what the extension sends and
// asks for rows as they scroll into view; every message type comes from the webview protocol module.
import { LinePreview, PREVIEW_IDS, Ready, Refresh, RequestLinePreview, RequestRows, RevealLine, Rows, ShowError, Summary, type DatasetSummary, type PreviewState } from "../../sidecar/src/protocol/previewWebview";
import { renderDistribution, renderHistogram } from "./charts";
import { renderMask, showMaskLoading } from "./mask";
import { VirtualTable } from "./table";

import { byId, vscodeApi } from "../shared/vscodeApi";

const vscode = vscodeApi<PreviewState>();
let state = vscode.getState() ?? { uri: "", scrollTop: 0 };
/** Scroll position to restore once the first summary after a reload has laid the table out. */
let pendingScrollTop: number | undefined = state.scrollTop;

const table = new VirtualTable(byId(PREVIEW_IDS.table), {
    requestPage: (offset, limit) => vscode.postMessage(RequestRows.create({ offset, limit })),
    revealLine: (line) => vscode.postMessage(RevealLine.create({ line })),
    selectLine: (line) => selectLine(line),
    scrolled: (scrollTop) => saveState({ ...state, scrollTop })
});

function selectLine(line: number): void {
    saveState({ ...state, selectedLine: line });
    showMaskLoading(byId(PREVIEW_IDS.mask), byId(PREVIEW_IDS.maskCount), line);
    vscode.postMessage(RequestLinePreview.create({ line }));
}

function saveState(next: PreviewState): void {
    state = next;
    vscode.setState(state);
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (Summary.is(message)) showSummary(message.payload.summary);
    else if (Rows.is(message)) table.addPage(message.payload.offset, message.payload.rows);
    else if (LinePreview.is(message)) {
        // Only the latest selection counts: an answer for a row clicked before is dropped.
        if (message.payload.line === state.selectedLine) renderMask(byId(PREVIEW_IDS.mask), byId(PREVIEW_IDS.maskCount), message.payload);
    } else if (ShowError.is(message)) showError(message.payload.message);
});

byId("refresh").addEventListener("click", () => vscode.postMessage(Refresh.create({})));
byId(PREVIEW_IDS.duplicates).addEventListener("click", (event) => {
    const link = (event.target as HTMLElement).closest<HTMLElement>("[data-line]");
    if (link) vscode.postMessage(RevealLine.create({ line: Number(link.dataset.line) }));
});

function showSummary(summary: DatasetSummary): void {
    saveState({ ...state, uri: summary.uri });
    byId(PREVIEW_IDS.error).hidden = true;
    const examples = summary.counts.valid + summary.counts.warning + summary.counts.error;
    renderCounts([
        ["lines", "Lines", summary.totalLines],
        ["examples", "Examples", examples],
        ["valid", "Valid", summary.counts.valid],
        ["warning", "Warnings", summary.counts.warning],
        ["error", "Errors", summary.counts.error],
        ["blank", "Blank", summary.counts.blank],
        ["duplicates", "Duplicates", summary.duplicateCount],
        ...(summary.truncatedLines === null ? [] : [["truncated", `Over ${summary.maxSequenceLength} tokens`, summary.truncatedLines] as [string, string, number]])
    ]);
    byId(PREVIEW_IDS.counts).dataset.format = summary.format;
    renderDistribution(byId(PREVIEW_IDS.formats), summary.formats);
    renderDistribution(byId(PREVIEW_IDS.roles), summary.roles);
    renderHistogram(byId(PREVIEW_IDS.histogramChars), summary.charHistogram, "chars");
    const tokens = byId(PREVIEW_IDS.histogramTokens);
    if (summary.tokenHistogram) renderHistogram(tokens, summary.tokenHistogram, "tokens");
    else {
        tokens.replaceChildren();
        tokens.textContent = summary.tokenStatus;
    }
    renderDuplicates(summary);
    table.reset(summary.totalLines, pendingScrollTop);
    pendingScrollTop = undefined;
    // The selected row's mask follows the file (saves, settings) and survives a reload.
    const selected = state.selectedLine;
    if (selected !== undefined && selected < summary.totalLines) {
        table.select(selected);
        vscode.postMessage(RequestLinePreview.create({ line: selected }));
    }
}

function renderCounts(items: [string, string, number][]): void {
    byId(PREVIEW_IDS.counts).replaceChildren(...items.map(([key, label, value]) => {
        const item = document.createElement("div");
        item.className = `count count-${key}`;
        const number = document.createElement("span");
        number.className = "count-value";
        number.dataset.testid = `count-${key}`;
        number.textContent = value.toLocaleString();
        const caption = document.createElement("span");
        caption.className = "count-label";
        caption.textContent = label;
        item.append(number, caption);
        return item;
    }));
}

function renderDuplicates(summary: DatasetSummary): void {
    const list = byId(PREVIEW_IDS.duplicates);
    list.replaceChildren(...summary.duplicates.map(({ line, duplicateOf }) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = "#";
        link.dataset.line = String(line);
        link.textContent = `Line ${line + 1} repeats line ${duplicateOf + 1}`;
        item.append(link);
        return item;
    }));
    if (summary.duplicateCount > summary.duplicates.length) {
        const more = document.createElement("li");
        more.textContent = `… and ${summary.duplicateCount - summary.duplicates.length} more`;
        list.append(more);
    }
    if (summary.duplicateCount === 0) list.textContent = "No duplicates.";
}

function showError(message: string): void {
    const el = byId(PREVIEW_IDS.error);
    el.textContent = message;
    el.hidden = false;
}

vscode.postMessage(Ready.create({}));
