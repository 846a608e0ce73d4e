// The training progress webview (bundled to dist/media/progress.js). It draws what the extension sends: a
// snapshot (the run's metrics.jsonl so far), then one point per step and state changes. It keeps only the
// run id with setState; after a reload the extension sends the snapshot again from the run's files.
import {
    CancelRun, Progress, PROGRESS_IDS, Ready, ResumeRun, ShowError, Snapshot, StateChanged,
    type ChartPoint, type LiveFigures, type ProgressViewState, type RunFailure, type RunSnapshot, type RunState
} from "../../sidecar/src/protocol/progressWebview";
import { formatNumber, renderLineChart } from "./lineChart";

import { byId, vscodeApi } from "../shared/vscodeApi";

const vscode = vscodeApi<ProgressViewState>();
const root = byId(PROGRESS_IDS.root);
vscode.setState({ runId: root.dataset.runId ?? "" } satisfies ProgressViewState);

let points: ChartPoint[] = [];
let live: LiveFigures | undefined;
let totalSteps = 0;
let drawScheduled = false;

window.addEventListener("message", (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (Snapshot.is(message)) showSnapshot(message.payload);
    else if (Progress.is(message)) addPoint(message.payload.point, message.payload.live);
    else if (StateChanged.is(message)) showState(message.payload.state, message.payload.resumable, message.payload.error, message.payload.message);
    else if (ShowError.is(message)) showError(message.payload.message);
});

byId(PROGRESS_IDS.cancel).addEventListener("click", () => {
    (byId(PROGRESS_IDS.cancel) as HTMLButtonElement).disabled = true;
    byId(PROGRESS_IDS.state).textContent = "cancelling…";
    vscode.postMessage(CancelRun.create({}));
});
byId(PROGRESS_IDS.resume).addEventListener("click", () => {
    (byId(PROGRESS_IDS.resume) as HTMLButtonElement).disabled = true;
    byId(PROGRESS_IDS.state).textContent = "resuming…";
    vscode.postMessage(ResumeRun.create({}));
});

function showSnapshot(snapshot: RunSnapshot): void {
    points = [...snapshot.points];
    live = snapshot.live;
    totalSteps = snapshot.totalSteps;
    byId("description").textContent = snapshot.description;
    const note = byId(PROGRESS_IDS.dataNote);
    note.textContent = snapshot.dataNote ?? "";
    note.hidden = snapshot.dataNote === undefined;
    showState(snapshot.state, snapshot.resumable, snapshot.error);
    draw();
}

function addPoint(point: ChartPoint, figures: LiveFigures): void {
    // A resumed run trains the steps after its checkpoint again: the new values replace the old ones.
    const last = points[points.length - 1];
    if (last && last.step >= point.step) points = points.filter((p) => p.step < point.step);
    points.push(point);
    live = figures;
    totalSteps = figures.totalSteps;
    if (root.dataset.state !== "running") showState("running", false);
    scheduleDraw();
}

/** Steps can come faster than frames; draw once per frame. */
function scheduleDraw(): void {
    if (drawScheduled) return;
    drawScheduled = true;
    requestAnimationFrame(() => {
        drawScheduled = false;
        draw();
    });
}

function showState(state: RunState, resumable: boolean, error?: RunFailure, message?: string): void {
    root.dataset.state = state;
    byId(PROGRESS_IDS.state).textContent = state;
    byId(PROGRESS_IDS.state).className = `state state-${state}`;
    const cancel = byId(PROGRESS_IDS.cancel) as HTMLButtonElement;
    const resume = byId(PROGRESS_IDS.resume) as HTMLButtonElement;
    cancel.hidden = state !== "running";
    cancel.disabled = false;
    resume.hidden = !resumable;
    resume.disabled = false;
    if (state !== "running") byId(PROGRESS_IDS.eta).textContent = "–";
    if (error) showError(`${error.code}: ${error.message} ${error.hint}`);
    else if (message && state !== "running") showError(message);
    else byId(PROGRESS_IDS.error).hidden = true;
}

function draw(): void {
    const lossChart = byId(PROGRESS_IDS.lossChart);
    renderLineChart(lossChart, [
        { className: "train", points: points.map((p) => [p.step, p.loss]) },
        { className: "val", points: points.filter((p) => p.valLoss !== undefined).map((p) => [p.step, p.valLoss!]) }
    ]);
    // What the chart shows, for E2E assertions and screen readers alike.
    const first = points[0];
    const last = points[points.length - 1];
    lossChart.dataset.points = String(points.length);
    lossChart.dataset.firstLoss = first ? String(first.loss) : "";
    lossChart.dataset.lastLoss = last ? String(last.loss) : "";
    lossChart.dataset.minLoss = points.length > 0 ? String(Math.min(...points.map((p) => p.loss))) : "";
    lossChart.dataset.lastStep = last ? String(last.step) : "";
    lossChart.dataset.valPoints = String(points.filter((p) => p.valLoss !== undefined).length);
    renderLineChart(byId(PROGRESS_IDS.lrChart), [{ className: "lr", points: points.filter((p) => p.lr !== undefined).map((p) => [p.step, p.lr!]) }]);
    renderLineChart(byId(PROGRESS_IDS.speedChart), [{ className: "speed", points: points.filter((p) => p.tokensPerSecond !== undefined).map((p) => [p.step, p.tokensPerSecond!]) }]);

    const step = live?.step ?? last?.step ?? 0;
    byId(PROGRESS_IDS.step).textContent = `${step} / ${totalSteps}`;
    const epoch = live?.epoch ?? last?.epoch;
    byId(PROGRESS_IDS.epoch).textContent = epoch === undefined ? "–" : epoch.toFixed(2);
    byId(PROGRESS_IDS.loss).textContent = last ? `${last.loss.toFixed(4)}${last.valLoss !== undefined ? ` (val ${last.valLoss.toFixed(4)})` : ""}` : "–";
    byId(PROGRESS_IDS.eta).textContent = live && root.dataset.state === "running" ? formatEta(live.etaSeconds) : "–";
    byId(PROGRESS_IDS.memory).textContent = live ? `${formatBytes(live.rssBytes)} RSS · ${formatBytes(live.engineBytes)} engine` : "–";
}

function formatEta(seconds: number): string {
    if (!Number.isFinite(seconds) || seconds < 0) return "–";
    const s = Math.round(seconds);
    return s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function formatBytes(bytes: number): string {
    if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
    return `${formatNumber(bytes / 2 ** 20)} MiB`;
}

function showError(message: string): void {
    const el = byId(PROGRESS_IDS.error);
    el.textContent = message;
    el.hidden = false;
}

vscode.postMessage(Ready.create({}));
