// RunController: the one owner of training runs on the extension side. It sends run/start, run/cancel,
// run/resume, run/list and run/get through the SidecarSupervisor, follows the run notifications, and
// keeps what the views draw (state, step, loss, the chart points of runs seen in this session).
// Commands, the progress panel, the status bar and the runs tree are thin faces over it.
//
// It imports no `vscode`, so the integration tests drive it against the real sidecar in plain node
// (kill -9 included); index.ts wires it to the editor.

import { Emitter, type Disposable, type Event, ResponseError } from "vscode-jsonrpc";
import type { ChartPoint, LiveFigures, RunSnapshot } from "../../../sidecar/src/protocol/progressWebview";
import {
    RunCancelRequest,
    RunCheckpointNotification,
    RunFailedNotification,
    RunFinishedNotification,
    RunGetRequest,
    RunListRequest,
    RunProgressNotification,
    RunResumeRequest,
    RunStartRequest,
    SidecarErrorCode,
    type MetricRecord,
    type RunCancelResult,
    type RunFailure,
    type RunGetResult,
    type RunProgressParams,
    type RunResumeResult,
    type RunStartResult,
    type RunState,
    type RunSummary,
    type ConfigFieldProblem,
    type SidecarErrorData,
    type TrainingConfig
} from "../../../sidecar/src/protocol/sidecar";
import { describeOverLength } from "../../../sidecar/src/pipeline/overLength";
import type { SidecarSupervisor } from "../sidecar/supervisor";

/** What the controller knows about one run. */
export interface TrackedRun {
    runId: string;
    state: RunState;
    step: number;
    totalSteps: number;
    lastLoss?: number;
    lastCheckpointStep?: number;
    live?: LiveFigures;
    error?: RunFailure;
    /** Chart points; undefined until a snapshot loaded them from metrics.jsonl or the run started here. */
    points?: ChartPoint[];
    model?: string;
    adapterPath?: string;
}

export type RunChange =
    | { kind: "progress"; runId: string; point: ChartPoint; live: LiveFigures }
    | { kind: "state"; runId: string; state: RunState; message?: string }
    | { kind: "list" };

export interface RunsInterruptedEvent {
    runIds: string[];
    /** e.g. "signal SIGKILL". */
    description: string;
}

/** A refused request, with the sidecar's message and what to do about it. */
export class RunRequestError extends Error {
    constructor(
        message: string,
        readonly hint: string | undefined,
        readonly code: number | undefined,
        /** The other run the refusal is about (RunAlreadyActive: the run that is training). */
        readonly otherRunId?: string,
        /** A refused run config's failing fields, by path: where "Open Config" puts the cursor. */
        readonly fields: readonly ConfigFieldProblem[] = []
    ) {
        super(message);
        this.name = "RunRequestError";
    }

    /** run/start or run/resume refused because another run trains in the sidecar (one at a time). */
    get isRunAlreadyActive(): boolean {
        return this.code === SidecarErrorCode.RunAlreadyActive;
    }

    /** The message and the hint in one line, as notifications show it. */
    get userMessage(): string {
        const oneLine = this.message.replace(/\n\s*/g, "; ");
        return this.hint ? `${oneLine} ${this.hint}` : oneLine;
    }
}

const RESUMABLE_STATES: ReadonlySet<RunState> = new Set(["cancelled", "interrupted", "failed"]);

export function isResumable(run: Pick<TrackedRun, "state" | "lastCheckpointStep">): boolean {
    return RESUMABLE_STATES.has(run.state) && run.lastCheckpointStep !== undefined;
}

export function pointFromMetric(record: MetricRecord): ChartPoint {
    return {
        step: record.step,
        loss: record.loss,
        ...(typeof record.epoch === "number" ? { epoch: record.epoch } : {}),
        ...(typeof record.valLoss === "number" ? { valLoss: record.valLoss } : {}),
        ...(typeof record.lr === "number" ? { lr: record.lr } : {}),
        ...(typeof record.tokensPerSecond === "number" ? { tokensPerSecond: record.tokensPerSecond } : {})
    };
}

export class RunController implements Disposable {
    private readonly runs = new Map<string, TrackedRun>();
    private readonly changeEmitter = new Emitter<RunChange>();
    private readonly interruptEmitter = new Emitter<RunsInterruptedEvent>();
    private readonly subscriptions: Disposable[] = [];

    /** Progress points, state changes, and "list" when runs appeared or vanished. */
    readonly onDidChange: Event<RunChange> = this.changeEmitter.event;
    /** The sidecar died while these runs were training; they are now "interrupted" and resumable. */
    readonly onDidInterrupt: Event<RunsInterruptedEvent> = this.interruptEmitter.event;

    constructor(private readonly sidecar: SidecarSupervisor) {
        this.subscriptions.push(
            sidecar.onNotification(RunProgressNotification.type, (p) => this.onProgress(p)),
            sidecar.onNotification(RunCheckpointNotification.type, (p) => {
                const run = this.track(p.runId);
                run.lastCheckpointStep = p.step;
            }),
            sidecar.onNotification(RunFinishedNotification.type, (p) => {
                const run = this.track(p.runId);
                run.adapterPath = p.adapterPath;
                run.step = p.steps;
                run.lastLoss = p.finalTrainLoss;
                if (p.cancelled) run.lastCheckpointStep = p.steps; // cancel checkpoints the step it stopped at
                this.setState(run, p.cancelled ? "cancelled" : "finished");
            }),
            sidecar.onNotification(RunFailedNotification.type, (p) => {
                const run = this.track(p.runId);
                run.error = { code: p.code, message: p.message, hint: p.hint };
                this.setState(run, "failed", `${p.message} ${p.hint}`);
            }),
            sidecar.onDidExit((exit) => {
                if (exit.expected) return;
                const runIds = exit.activeRunIds.filter((id) => this.runs.get(id)?.state === "running" || !this.runs.has(id));
                for (const id of runIds) this.setState(this.track(id), "interrupted", `The training process stopped (${exit.description}).`);
                if (runIds.length > 0) this.interruptEmitter.fire({ runIds, description: exit.description });
            })
        );
    }

    get(runId: string): TrackedRun | undefined {
        return this.runs.get(runId);
    }

    /** Runs training right now, as far as the notifications tell. */
    activeRuns(): TrackedRun[] {
        return [...this.runs.values()].filter((r) => r.state === "running");
    }

    async start(config: TrainingConfig, configPath: string): Promise<RunStartResult> {
        const result = await this.request(() => this.sidecar.sendRequest(RunStartRequest.type, { config, configPath }));
        const run = this.track(result.runId);
        Object.assign(run, { step: 0, totalSteps: result.totalSteps, points: [], model: config.model });
        delete run.error;
        this.setState(run, "running");
        this.changeEmitter.fire({ kind: "list" });
        return result;
    }

    async cancel(runId: string): Promise<RunCancelResult> {
        const result = await this.request(() => this.sidecar.sendRequest(RunCancelRequest.type, { runId }));
        const run = this.track(runId);
        run.adapterPath = result.adapterPath;
        run.lastCheckpointStep = result.checkpointStep;
        this.setState(run, "cancelled");
        return result;
    }

    async resume(runId: string): Promise<RunResumeResult> {
        const result = await this.request(() => this.sidecar.sendRequest(RunResumeRequest.type, { runId }));
        const run = this.track(runId);
        run.step = result.fromStep;
        run.totalSteps = result.totalSteps;
        // Steps after the checkpoint are trained again; the chart drops them.
        if (run.points) run.points = run.points.filter((p) => p.step <= result.fromStep);
        delete run.error;
        delete run.live;
        this.setState(run, "running");
        return result;
    }

    /** run/list, merged into what the notifications told (a live step is newer than status.json's). */
    async list(): Promise<RunSummary[]> {
        const { runs } = await this.request(() => this.sidecar.sendRequest(RunListRequest.type));
        for (const summary of runs) this.merge(summary);
        return runs;
    }

    /** Runs whose sidecar died (status.json says running, its owner pid is gone). */
    async interruptedRuns(): Promise<RunSummary[]> {
        return (await this.list()).filter((r) => r.state === "interrupted");
    }

    async details(runId: string, includeMetrics = false): Promise<RunGetResult> {
        const result = await this.request(() => this.sidecar.sendRequest(RunGetRequest.type, { runId, includeMetrics }));
        const run = this.merge(result.summary);
        if (result.metrics) {
            const fromFile = result.metrics.map(pointFromMetric);
            // Steps that arrived while the file was being read are newer than it.
            const lastOnDisk = fromFile.at(-1)?.step ?? 0;
            run.points = [...fromFile, ...(run.state === "running" ? (run.points ?? []).filter((p) => p.step > lastOnDisk) : [])];
            const last = result.metrics.at(-1);
            if (last) run.lastLoss = last.loss;
        }
        return result;
    }

    /** Everything the progress view draws; loads the chart from metrics.jsonl the first time. */
    async snapshot(runId: string): Promise<RunSnapshot> {
        const details = await this.details(runId, true);
        const run = this.track(runId);
        const config = details.config;
        return {
            runId,
            state: run.state,
            step: run.step,
            totalSteps: run.totalSteps,
            points: run.points ?? [],
            ...(run.live ? { live: run.live } : {}),
            ...(run.error ? { error: run.error } : {}),
            resumable: isResumable(run),
            description: `${baseName(config.model)} · ${baseName(config.data)}`,
            ...(details.summary.overLength ? { dataNote: `${capitalized(describeOverLength(details.summary.overLength))}; the LoRA Studio Sidecar output names each one.` } : {})
        };
    }

    dispose(): void {
        for (const s of this.subscriptions) s.dispose();
        this.changeEmitter.dispose();
        this.interruptEmitter.dispose();
    }

    // -----------------------------------------------------------------------------------------

    private onProgress(p: RunProgressParams): void {
        const run = this.track(p.runId);
        const point: ChartPoint = { step: p.step, loss: p.trainLoss, epoch: p.epoch, lr: p.lr, tokensPerSecond: p.tokensPerSecond, ...(p.valLoss === undefined ? {} : { valLoss: p.valLoss }) };
        const live: LiveFigures = { step: p.step, totalSteps: p.totalSteps, epoch: p.epoch, etaSeconds: p.etaSeconds, rssBytes: p.memory.rssBytes, engineBytes: p.memory.engineBytes };
        run.step = p.step;
        run.totalSteps = p.totalSteps;
        run.lastLoss = p.trainLoss;
        run.live = live;
        if (run.points) {
            // A resumed run repeats the steps after its checkpoint: the newer values replace the old.
            if (run.points.length > 0 && run.points[run.points.length - 1]!.step >= p.step) run.points = run.points.filter((q) => q.step < p.step);
            run.points.push(point);
        }
        if (run.state !== "running") this.setState(run, "running");
        this.changeEmitter.fire({ kind: "progress", runId: p.runId, point, live });
    }

    private track(runId: string): TrackedRun {
        let run = this.runs.get(runId);
        if (!run) {
            run = { runId, state: "created", step: 0, totalSteps: 0 };
            this.runs.set(runId, run);
        }
        return run;
    }

    private merge(summary: RunSummary): TrackedRun {
        const run = this.track(summary.runId);
        // While this session follows a run live, its notifications are newer than status.json.
        const followedLive = run.state === "running" && summary.state === "running";
        if (!followedLive) {
            run.state = summary.state;
            run.step = summary.step;
        }
        run.totalSteps = summary.totalSteps;
        if (summary.lastCheckpointStep !== undefined) run.lastCheckpointStep = summary.lastCheckpointStep;
        if (summary.model !== undefined) run.model = summary.model;
        if (summary.error) run.error = summary.error;
        return run;
    }

    private setState(run: TrackedRun, state: RunState, message?: string): void {
        run.state = state;
        this.changeEmitter.fire({ kind: "state", runId: run.runId, state, ...(message ? { message } : {}) });
    }

    private async request<R>(send: () => Promise<R>): Promise<R> {
        try {
            return await send();
        } catch (error) {
            if (error instanceof ResponseError) {
                const data = error.data as SidecarErrorData | undefined;
                const fields = Array.isArray(data?.fields) ? data.fields : [];
                throw new RunRequestError(error.message, data?.hint, error.code, typeof data?.runId === "string" ? data.runId : undefined, fields);
            }
            throw error;
        }
    }
}

function baseName(path: string | undefined): string {
    if (!path) return "?";
    return path.split(/[\\/]/).pop() ?? path;
}

function capitalized(text: string): string {
    return text.charAt(0).toUpperCase() + text.slice(1);
}
