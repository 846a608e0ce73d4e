// The training feature's wiring: one RunController over the sidecar supervisor, the commands, the runs
// tree, the status bar and notification, the progress panel serializer, and the offer to resume runs a
// dead sidecar left interrupted. Nothing here starts the sidecar at activation unless a run's status.json
// says it was training when its process went away.
import * as vscode from "vscode";
import { describeError } from "../errorMessage";
import { PROGRESS_VIEW_TYPE, type ProgressViewState } from "../../../sidecar/src/protocol/progressWebview";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { RUNS_VIEW_ID, TRAINING_COMMANDS } from "./commandIds";
import { COMMAND_FACTORIES, type TrainingContext } from "./commands";
import { ProgressPanel } from "./progressPanel";
import { RunController } from "./runController";
import { RunIndicators } from "./runIndicators";
import { RunsTreeProvider } from "./runsTree";

export function activateTraining(context: vscode.ExtensionContext, sidecar: SidecarSupervisor): RunController {
    const controller = new RunController(sidecar);
    const tree = new RunsTreeProvider(controller);
    const ctx: TrainingContext = { extensionUri: context.extensionUri, controller, tree };
    context.subscriptions.push(
        controller,
        tree,
        new RunIndicators(controller),
        vscode.window.createTreeView(RUNS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: false }),
        ...Object.entries(COMMAND_FACTORIES).map(([id, factory]) => vscode.commands.registerCommand(id, factory(ctx))),
        vscode.window.registerWebviewPanelSerializer(PROGRESS_VIEW_TYPE, {
            deserializeWebviewPanel: async (panel, state: unknown) => ProgressPanel.revive(panel, context.extensionUri, controller, state as ProgressViewState | undefined)
        }),
        vscode.workspace.onDidGrantWorkspaceTrust(() => {
            tree.refresh();
            void offerResumeOfInterruptedRuns(controller);
        })
    );
    // The sidecar's crash message (vscodeSupervisor.ts) already names the runs and offers Resume; the
    // controller marks them interrupted, so the views show it too.
    void offerResumeOfInterruptedRuns(controller);
    return controller;
}

/** Once per activation: if a run was training when its sidecar died (e.g. the window crashed), offer to resume it. */
let offered = false;

async function offerResumeOfInterruptedRuns(controller: RunController): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (offered || !folder || !vscode.workspace.isTrusted) return;
    offered = true;
    if (!(await anyRunMarkedRunning(vscode.Uri.joinPath(folder.uri, ".lora-studio", "runs")))) return;
    let interrupted: string[];
    try {
        interrupted = (await controller.interruptedRuns()).map((r) => r.runId);
    } catch (error) {
        console.warn(`LoRA Studio: could not list runs to offer Resume: ${describeError(error)}`);
        return;
    }
    if (interrupted.length === 0) return;
    const RESUME = "Resume";
    const SHOW = "Show Runs";
    const which = interrupted.length === 1 ? `Training run ${interrupted[0]} was` : `${interrupted.length} training runs (${interrupted.join(", ")}) were`;
    const choice = await vscode.window.showWarningMessage(`${which} interrupted: its training process stopped before the run finished. Resume continues from the last checkpoint.`, RESUME, SHOW);
    if (choice === RESUME) for (const runId of interrupted) await vscode.commands.executeCommand(TRAINING_COMMANDS.resume, runId);
    if (choice === SHOW) await vscode.commands.executeCommand(TRAINING_COMMANDS.showRuns);
}

/** A cheap look at status.json files, so the sidecar is started only when a run might be interrupted. */
async function anyRunMarkedRunning(runsDir: vscode.Uri): Promise<boolean> {
    let entries: [string, vscode.FileType][];
    try {
        // stat first: readDirectory logs a warning for a missing folder, the usual case.
        await vscode.workspace.fs.stat(runsDir);
        entries = await vscode.workspace.fs.readDirectory(runsDir);
    } catch {
        return false;
    }
    for (const [name, type] of entries) {
        if (type !== vscode.FileType.Directory) continue;
        try {
            const status = JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(runsDir, name, "status.json")))) as { state?: unknown };
            if (status.state === "running") return true;
        } catch {
            // An unreadable run is run/list's to report, not this hint's.
        }
    }
    return false;
}
