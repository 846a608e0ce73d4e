// The two always-visible signs of a training run: a status bar item (step/total, loss, ETA; a click opens
// the progress view) and a cancellable progress notification per run (cancel sends run/cancel).
import * as vscode from "vscode";
import { TRAINING_COMMANDS } from "./commandIds";
import type { RunController, TrackedRun } from "./runController";

export function formatEta(seconds: number): string {
    if (!Number.isFinite(seconds) || seconds < 0) return "–";
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const rest = String(s % 60).padStart(2, "0");
    return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export function formatLoss(loss: number | undefined): string {
    return loss === undefined || !Number.isFinite(loss) ? "–" : loss.toFixed(3);
}

export class RunIndicators implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem("loraStudio.training", vscode.StatusBarAlignment.Left, 50);
    private readonly notified = new Set<string>();
    private readonly disposables: vscode.Disposable[] = [];

    constructor(private readonly controller: RunController) {
        this.item.name = "LoRA Studio Training";
        this.disposables.push(
            this.item,
            controller.onDidChange((change) => {
                if (change.kind === "list") return;
                if (change.kind === "state" && change.state === "running") this.notify(change.runId);
                this.update();
            })
        );
    }

    private update(): void {
        const run = this.controller.activeRuns()[0];
        if (!run) {
            this.item.hide();
            return;
        }
        this.item.text = `$(loading~spin) LoRA ${run.step}/${run.totalSteps} · loss ${formatLoss(run.lastLoss)} · ETA ${formatEta(run.live?.etaSeconds ?? Number.NaN)}`;
        this.item.tooltip = `Training run ${run.runId}: click to show its progress.`;
        this.item.command = { title: "Show Training Progress", command: TRAINING_COMMANDS.showProgress, arguments: [run.runId] };
        this.item.show();
    }

    /** One notification per run while it trains; it closes when the run stops for any reason. */
    private notify(runId: string): void {
        if (this.notified.has(runId)) return;
        this.notified.add(runId);
        void vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `Training ${runId}`, cancellable: true },
            (progress, token) => new Promise<void>((resolve) => {
                let reported = 0;
                const percent = (run: TrackedRun | undefined): number => (run && run.totalSteps > 0 ? (100 * run.step) / run.totalSteps : 0);
                // A resumed run starts at its checkpoint's share.
                reported = percent(this.controller.get(runId));
                progress.report({ increment: reported, message: "starting…" });
                const finish = (): void => {
                    subscription.dispose();
                    cancelling.dispose();
                    this.notified.delete(runId);
                    resolve();
                };
                const subscription = this.controller.onDidChange((change) => {
                    if (change.kind === "list" || change.runId !== runId) return;
                    if (change.kind === "state" && change.state !== "running") return finish();
                    const run = this.controller.get(runId);
                    const now = percent(run);
                    progress.report({
                        increment: Math.max(0, now - reported),
                        message: `step ${run?.step ?? 0}/${run?.totalSteps ?? "?"} · loss ${formatLoss(run?.lastLoss)} · ETA ${formatEta(run?.live?.etaSeconds ?? Number.NaN)}`
                    });
                    reported = Math.max(reported, now);
                });
                const cancelling = token.onCancellationRequested(() => void vscode.commands.executeCommand(TRAINING_COMMANDS.cancel, runId));
            })
        );
    }

    dispose(): void {
        for (const d of this.disposables.splice(0)) d.dispose();
    }
}
