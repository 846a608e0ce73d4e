// One webview panel per training run: a snapshot from run/get (metrics.jsonl) when it opens, then every
// run/progress point and state change as they come. Its buttons run the same commands as the palette, so
// trust checks and error messages live in one place. Panels come back after a window reload through the
// serializer registered in index.ts, from the run id the webview kept with setState.
import * as vscode from "vscode";
import { describeError } from "../errorMessage";
import {
    CancelRun, Progress, PROGRESS_VIEW_TYPE, Ready, ResumeRun, ShowError, Snapshot, StateChanged, type ProgressViewState
} from "../../../sidecar/src/protocol/progressWebview";
import { progressHtml, progressResourceRoots } from "./progressHtml";
import { isResumable, type RunController } from "./runController";
import { TRAINING_COMMANDS } from "./commandIds";

export class ProgressPanel implements vscode.Disposable {
    private static readonly open = new Map<string, ProgressPanel>();
    private readonly disposables: vscode.Disposable[] = [];
    /** Progress that arrives before the webview asked for its snapshot is in the snapshot already. */
    private ready = false;

    static show(extensionUri: vscode.Uri, controller: RunController, runId: string): ProgressPanel {
        const existing = ProgressPanel.open.get(runId);
        if (existing) {
            existing.panel.reveal(undefined, true);
            return existing;
        }
        const panel = vscode.window.createWebviewPanel(PROGRESS_VIEW_TYPE, titleOf(runId), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
            enableScripts: true,
            // Charts are redrawn from the controller on Ready, so a hidden panel need not stay alive.
            retainContextWhenHidden: false,
            localResourceRoots: progressResourceRoots(extensionUri)
        });
        return new ProgressPanel(panel, extensionUri, controller, runId);
    }

    /** Rebuilds a panel VS Code restored after a reload from the run id its webview saved. */
    static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, controller: RunController, state: ProgressViewState | undefined): void {
        if (!state?.runId || ProgressPanel.open.has(state.runId)) {
            panel.dispose();
            return;
        }
        panel.webview.options = { enableScripts: true, localResourceRoots: progressResourceRoots(extensionUri) };
        new ProgressPanel(panel, extensionUri, controller, state.runId);
    }

    private constructor(private readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly controller: RunController, private readonly runId: string) {
        ProgressPanel.open.set(runId, this);
        panel.title = titleOf(runId);
        panel.webview.html = progressHtml(panel.webview, extensionUri, runId);
        this.disposables.push(
            panel.onDidDispose(() => this.dispose()),
            panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
            controller.onDidChange((change) => {
                if (!this.ready || change.kind === "list" || change.runId !== runId) return;
                if (change.kind === "progress") void this.post(Progress.create({ point: change.point, live: change.live }));
                else {
                    const run = controller.get(runId);
                    const resumable = run ? isResumable(run) : false;
                    void this.post(StateChanged.create({ state: change.state, resumable, ...(run?.error ? { error: run.error } : {}), ...(change.message ? { message: change.message } : {}) }));
                }
            })
        );
    }

    private async onMessage(message: unknown): Promise<void> {
        if (Ready.is(message)) await this.sendSnapshot();
        else if (CancelRun.is(message)) await vscode.commands.executeCommand(TRAINING_COMMANDS.cancel, this.runId);
        else if (ResumeRun.is(message)) await vscode.commands.executeCommand(TRAINING_COMMANDS.resume, this.runId);
    }

    private async sendSnapshot(): Promise<void> {
        try {
            const snapshot = await this.controller.snapshot(this.runId);
            this.ready = true;
            await this.post(Snapshot.create(snapshot));
        } catch (error) {
            await this.post(ShowError.create({ message: `Could not read run ${this.runId}: ${describeError(error)}` }));
        }
    }

    private post(message: unknown): Thenable<boolean> {
        return this.panel.webview.postMessage(message);
    }

    dispose(): void {
        if (ProgressPanel.open.get(this.runId) === this) ProgressPanel.open.delete(this.runId);
        for (const d of this.disposables.splice(0)) d.dispose();
        this.panel.dispose();
    }
}

function titleOf(runId: string): string {
    return `Training ${runId}`;
}
