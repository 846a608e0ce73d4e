// The evaluation report webview (bundled to dist/media/eval.js): the summary (base against tuned) and one table row
// per held-out example; clicking a row asks the extension to open the dataset at that line. All text goes in
// through textContent, so model answers can never inject markup. The report is kept with setState, so the view
// comes back as it was after a reload.
import {
    EVAL_IDS, EvalReady, OpenReportFile, RevealExample, ShowEvalError, ShowReport,
    type EvalReport, type EvalRow, type EvalViewState
} from "../../sidecar/src/protocol/evalWebview";

import { byId, vscodeApi } from "../shared/vscodeApi";

const vscode = vscodeApi<EvalViewState>();
let state: EvalViewState = vscode.getState() ?? { report: null, scrollTop: 0 };

function saveState(next: EvalViewState): void {
    state = next;
    vscode.setState(state);
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (className) el.className = className;
    return el;
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;
const fileName = (path: string): string => path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);

/** A "base → tuned" cell, marked better/worse; `higherIsBetter` false for the loss. */
function delta(base: string, tuned: string, change: number, higherIsBetter = true): HTMLTableCellElement {
    const td = element("td", `${base} → ${tuned}`, "num");
    const better = higherIsBetter ? change > 0 : change < 0;
    if (change !== 0) td.classList.add(better ? "better" : "worse");
    return td;
}

function renderSummary(report: EvalReport): void {
    const s = report.summary;
    const table = element("table", undefined, "summary");
    const head = element("tr");
    head.append(element("th", "Metric"), element("th", "Base", "num"), element("th", "Tuned", "num"));
    table.append(head);
    const line = (key: string, label: string, base: string, tuned: string, change: number, higherIsBetter = true): void => {
        const tr = element("tr");
        tr.dataset.testid = `summary-${key}`;
        const tunedCell = element("td", tuned, "num");
        if (change !== 0) tunedCell.classList.add((higherIsBetter ? change > 0 : change < 0) ? "better" : "worse");
        tr.append(element("td", label), element("td", base, "num"), tunedCell);
        table.append(tr);
    };
    line("em", "Exact match", percent(s.em.base), percent(s.em.tuned), s.em.tuned - s.em.base);
    line("f1", "Token F1", s.f1.base.toFixed(3), s.f1.tuned.toFixed(3), s.f1.tuned - s.f1.base);
    if (s.yesNo) line("yesno", `Yes/no/maybe (${s.yesNo.rows} rows)`, percent(s.yesNo.base), percent(s.yesNo.tuned), s.yesNo.tuned - s.yesNo.base);
    line("loss", "Loss (nats/token)", s.loss.base.toFixed(4), s.loss.tuned.toFixed(4), s.loss.tuned - s.loss.base, false);

    const facts = element("p", undefined, "facts");
    const source = report.source === "validation-split" ? "validation split of" : "held-out";
    facts.textContent = `${s.rows} examples (${source} ${report.data.map(fileName).join(", ")})${s.skipped ? `, ${s.skipped} skipped` : ""}` +
        ` · max ${report.maxTokens} tokens · ${report.elapsedSeconds.toFixed(0)} s${report.cancelled ? " · cancelled before the end" : ""}`;
    const host = byId(EVAL_IDS.summary);
    host.replaceChildren(table, facts);

    const link = byId(EVAL_IDS.reportLink) as HTMLAnchorElement;
    link.hidden = !report.files;
    if (report.files) {
        link.textContent = `Open ${fileName(report.files.json)}`;
        link.dataset.path = report.files.json;
    }
}

function answerCell(answer: string, em: number): HTMLTableCellElement {
    const td = element("td", undefined, `answer ${em === 1 ? "match" : "miss"}`);
    td.append(element("span", em === 1 ? "✓ " : "✗ ", "mark"), element("span", answer === "" ? "(empty)" : answer));
    return td;
}

function renderRow(row: EvalRow, index: number): HTMLTableRowElement {
    const tr = element("tr", undefined, "example");
    tr.dataset.index = String(index);
    tr.dataset.testid = `row-${row.line}`;
    tr.tabIndex = 0;
    tr.title = `Open ${fileName(row.file)} at line ${row.line}`;
    tr.append(
        element("td", String(row.line), "num"),
        element("td", row.question, "text"),
        element("td", row.reference, "text"),
        answerCell(row.base, row.em.base),
        answerCell(row.tuned, row.em.tuned),
        delta(row.f1.base.toFixed(2), row.f1.tuned.toFixed(2), row.f1.tuned - row.f1.base),
        delta(row.loss.base.toFixed(3), row.loss.tuned.toFixed(3), row.loss.tuned - row.loss.base, false)
    );
    return tr;
}

function renderTable(report: EvalReport): void {
    const table = element("table", undefined, "rows");
    const head = element("tr");
    for (const [name, cls] of [["Line", "num"], ["Question", ""], ["Reference", ""], ["Base", ""], ["Tuned", ""], ["F1", "num"], ["Loss", "num"]] as const) head.append(element("th", name, cls));
    const thead = element("thead");
    thead.append(head);
    const tbody = element("tbody");
    tbody.append(...report.rows.map(renderRow));
    table.append(thead, tbody);
    byId(EVAL_IDS.table).replaceChildren(table);

    const skipped = byId(EVAL_IDS.skipped);
    skipped.replaceChildren(...report.skipped.map((s) => {
        const li = element("li");
        const link = element("a", `${fileName(s.file)}:${s.line}`);
        link.href = "#";
        link.dataset.file = s.file;
        link.dataset.line = String(s.line);
        li.append(link, document.createTextNode(` ${s.reason}`));
        return li;
    }));
    skipped.parentElement!.hidden = report.skipped.length === 0;
}

function showReport(report: EvalReport, scrollTop = 0): void {
    byId(EVAL_IDS.error).hidden = true;
    byId(EVAL_IDS.title).textContent = `Evaluation${report.runId ? ` of run ${report.runId}` : ""}: base vs tuned`;
    renderSummary(report);
    renderTable(report);
    window.scrollTo(0, scrollTop);
    saveState({ report, scrollTop });
}

function showError(message: string): void {
    const el = byId(EVAL_IDS.error);
    el.textContent = message;
    el.hidden = false;
}

function reveal(target: HTMLElement): void {
    const report = state.report;
    if (!report) return;
    const row = target.closest<HTMLElement>("tr.example");
    if (row) {
        const r = report.rows[Number(row.dataset.index)];
        if (r) vscode.postMessage(RevealExample.create({ file: r.file, line: r.line }));
        return;
    }
    const link = target.closest<HTMLElement>("[data-line]");
    if (link) vscode.postMessage(RevealExample.create({ file: link.dataset.file!, line: Number(link.dataset.line) }));
}

window.addEventListener("message", (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (ShowReport.is(message)) showReport(message.payload.report);
    else if (ShowEvalError.is(message)) showError(message.payload.message);
});
byId(EVAL_IDS.table).addEventListener("click", (event) => reveal(event.target as HTMLElement));
byId(EVAL_IDS.table).addEventListener("keydown", (event) => {
    if (event.key === "Enter") reveal(event.target as HTMLElement);
});
byId(EVAL_IDS.skipped).addEventListener("click", (event) => {
    event.preventDefault();
    reveal(event.target as HTMLElement);
});
byId(EVAL_IDS.reportLink).addEventListener("click", (event) => {
    event.preventDefault();
    const path = (event.currentTarget as HTMLElement).dataset.path;
    if (path) vscode.postMessage(OpenReportFile.create({ path }));
});
let scrollSave = 0;
window.addEventListener("scroll", () => {
    cancelAnimationFrame(scrollSave);
    scrollSave = requestAnimationFrame(() => saveState({ ...state, scrollTop: window.scrollY }));
}, { passive: true });

// After a reload the report is already here; the extension only sends one to a fresh panel.
if (state.report) showReport(state.report, state.scrollTop);
vscode.postMessage(EvalReady.create({}));
