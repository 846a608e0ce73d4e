// The runs list in the Explorer: `.lora-studio/runs/*` through run/list, newest first, with state, step and
// loss. Clicking a run opens its progress view; context actions resume, cancel and reveal the adapter.
// It stays empty (its welcome text explains) in an untrusted workspace, and it does not start the sidecar
// while the workspace has no runs folder yet.
import * as vscode from "vscode";
import { describeError } from "../errorMessage";
import { uriExists } from "../workspaceFs";
import type { RunSummary } from "../../../sidecar/src/protocol/sidecar";
import { TRAINING_COMMANDS } from "./commandIds";
import { isResumable, type RunController } from "./runController";
import { formatLoss } from "./runIndicators";

/** The tree's element; context menu commands receive it and read `runId`. */
export interface RunNode {
    runId: string;
}

/** Tree refreshes follow progress at most this often. */
const PROGRESS_REFRESH_MS = 1_000;

const STATE_ICONS: Record<RunSummary["state"], string> = {
    created: "circle-outline",
    running: "loading~spin",
    cancelled: "debug-pause",
    finished: "pass",
    failed: "error",
    interrupted: "warning"
};

export class RunsTreeProvider implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
    private readonly changeEmitter = new vscode.EventEmitter<RunNode | undefined>();
    readonly onDidChangeTreeData = this.changeEmitter.event;
    private readonly disposables: vscode.Disposable[] = [this.changeEmitter];
    private summaries = new Map<string, RunSummary>();
    /** The elements last returned, by run id: VS Code refreshes a row when given the same object. */
    private nodes = new Map<string, RunNode>();
    private lastProgressRefresh = 0;

    constructor(private readonly controller: RunController) {
        this.disposables.push(
            controller.onDidChange((change) => {
                if (change.kind !== "progress") return this.refresh();
                const now = Date.now();
                if (now - this.lastProgressRefresh < PROGRESS_REFRESH_MS) return;
                this.lastProgressRefresh = now;
                // Only that run's row changes; no need to list the runs again.
                const node = this.nodes.get(change.runId);
                this.changeEmitter.fire(node);
            })
        );
    }

    refresh(): void {
        this.changeEmitter.fire(undefined);
    }

    async getChildren(element?: RunNode): Promise<RunNode[]> {
        if (element || !vscode.workspace.isTrusted) return [];
        const folder = vscode.workspace.workspaceFolders?.[0];
        if (!folder || !(await uriExists(vscode.Uri.joinPath(folder.uri, ".lora-studio", "runs")))) return [];
        try {
            const runs = await this.controller.list();
            this.summaries = new Map(runs.map((r) => [r.runId, r]));
            this.nodes = new Map(runs.map((r) => [r.runId, this.nodes.get(r.runId) ?? { runId: r.runId }]));
            return [...this.nodes.values()];
        } catch (error) {
            void vscode.window.showErrorMessage(`LoRA Studio could not list the training runs: ${describeError(error)}`);
            return [];
        }
    }

    getTreeItem(node: RunNode): vscode.TreeItem {
        const summary = this.summaries.get(node.runId);
        const tracked = this.controller.get(node.runId);
        const state = tracked?.state ?? summary?.state ?? "created";
        const step = tracked?.step ?? summary?.step ?? 0;
        const total = tracked?.totalSteps ?? summary?.totalSteps ?? 0;
        const item = new vscode.TreeItem(node.runId, vscode.TreeItemCollapsibleState.None);
        const loss = tracked?.lastLoss === undefined ? "" : ` · loss ${formatLoss(tracked.lastLoss)}`;
        item.description = `${state} · ${step}/${total}${loss}`;
        item.iconPath = new vscode.ThemeIcon(STATE_ICONS[state]);
        const error = tracked?.error ?? summary?.error;
        item.tooltip = new vscode.MarkdownString(
            [`**${node.runId}**: ${state}, step ${step} of ${total}`, summary?.model ? `Model: \`${summary.model}\`` : "", error ? `${error.message} ${error.hint}` : ""].filter(Boolean).join("\n\n")
        );
        const lastCheckpointStep = tracked?.lastCheckpointStep ?? summary?.lastCheckpointStep;
        const resumable = isResumable(lastCheckpointStep === undefined ? { state } : { state, lastCheckpointStep });
        item.contextValue = ["loraRun", state, resumable ? "resumable" : "", state === "finished" || state === "cancelled" ? "hasAdapter" : ""].filter(Boolean).join(".");
        item.command = { title: "Show Training Progress", command: TRAINING_COMMANDS.showProgress, arguments: [node.runId] };
        return item;
    }

    dispose(): void {
        for (const d of this.disposables.splice(0)) d.dispose();
    }
}

