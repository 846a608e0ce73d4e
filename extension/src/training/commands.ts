// The training commands, as factories over one TrainingContext (rust-analyzer's `(ctx) => Cmd`). Each is
// thin: pick the run or config, call the RunController, show what came back. Training and resuming explain
// themselves instead of starting in an untrusted workspace, without starting the sidecar.
import * as vscode from "vscode";
import type { RunSummary } from "../../../sidecar/src/protocol/sidecar";
import { describeError } from "../errorMessage";
import { trustedOrExplain } from "../workspaceTrust";
import { TRAINING_COMMANDS, RUNS_VIEW_ID } from "./commandIds";
import { chooseRunConfig, ConfigReadError, readRunConfig } from "./configFiles";
import { configFieldOffset } from "./configFieldOffset";
import { ProgressPanel } from "./progressPanel";
import { isResumable, RunRequestError, type RunController } from "./runController";
import type { RunsTreeProvider } from "./runsTree";

export interface TrainingContext {
    extensionUri: vscode.Uri;
    controller: RunController;
    tree: RunsTreeProvider;
}

type Command = (...args: unknown[]) => Promise<void>;

const OPEN_CONFIG = "Open Config";

/** Arguments come as a run id (status bar, crash message, other commands) or a runs-tree element. */
function runIdOf(arg: unknown): string | undefined {
    if (typeof arg === "string" && arg !== "") return arg;
    const id = (arg as { runId?: unknown } | undefined)?.runId;
    return typeof id === "string" ? id : undefined;
}

export function trainFromConfig(ctx: TrainingContext): Command {
    return async (arg) => {
        if (!trustedOrExplain("Training")) return;
        const uri = await chooseRunConfig(arg);
        if (!uri) return;
        let started: { runId: string };
        try {
            const config = await readRunConfig(uri);
            started = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: `Starting training with ${vscode.workspace.asRelativePath(uri)}…` },
                () => ctx.controller.start(config, uri.fsPath)
            );
        } catch (error) {
            if (error instanceof RunRequestError && error.isRunAlreadyActive) return explainRunAlreadyActive(ctx, "Training did not start", error);
            const line = error instanceof ConfigReadError ? error.line : undefined;
            const field = error instanceof RunRequestError ? error.fields[0]?.path : undefined;
            const choice = await vscode.window.showErrorMessage(`Training did not start: ${describeError(error)}`, OPEN_CONFIG);
            if (choice === OPEN_CONFIG) await openConfigAt(uri, field, line);
            return;
        }
        ProgressPanel.show(ctx.extensionUri, ctx.controller, started.runId);
    };
}

const SHOW_PROGRESS = "Show Progress";
const CANCEL_RUN = "Cancel That Run";

/** The sidecar trains one run at a time: say which run holds it and offer to watch or cancel that run. */
async function explainRunAlreadyActive(ctx: TrainingContext, what: string, error: RunRequestError): Promise<void> {
    const other = error.otherRunId;
    const choice = await vscode.window.showErrorMessage(`${what}: ${error.userMessage}`, ...(other ? [SHOW_PROGRESS, CANCEL_RUN] : []));
    if (!other) return;
    if (choice === SHOW_PROGRESS) ProgressPanel.show(ctx.extensionUri, ctx.controller, other);
    else if (choice === CANCEL_RUN) await vscode.commands.executeCommand(TRAINING_COMMANDS.cancel, other);
}

/**
 * Opens the config with the cursor on the field that failed (its path, from the sidecar's error data), or on `line`
 * (a JSON syntax error found before anything was sent).
 */
async function openConfigAt(uri: vscode.Uri, field: ReadonlyArray<string | number> | undefined, line?: number): Promise<void> {
    const editor = await vscode.window.showTextDocument(uri);
    let position: vscode.Position | undefined = line !== undefined ? new vscode.Position(line - 1, 0) : undefined;
    const offset = field ? configFieldOffset(editor.document.getText(), field) : undefined;
    if (offset !== undefined) position = editor.document.positionAt(offset);
    if (position) {
        editor.selection = new vscode.Selection(position, position);
        editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenter);
    }
}

export function cancelTraining(ctx: TrainingContext): Command {
    return async (arg) => {
        const runId = runIdOf(arg) ?? (await pickRun(ctx.controller.activeRuns().map((r) => r.runId), "Cancel which training run?", "No training run is active."));
        if (!runId) return;
        try {
            const result = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: `Cancelling ${runId}: saving a checkpoint and the adapter…` },
                () => ctx.controller.cancel(runId)
            );
            void vscode.window.showInformationMessage(`Training ${runId} cancelled at step ${result.checkpointStep}; its checkpoint and adapter are saved. Resume continues from there.`);
        } catch (error) {
            void vscode.window.showErrorMessage(`Could not cancel ${runId}: ${describeError(error)}`);
        }
    };
}

export function resumeRun(ctx: TrainingContext): Command {
    return async (arg) => {
        if (!trustedOrExplain("Resuming training")) return;
        let runId = runIdOf(arg);
        if (!runId) {
            let runs: RunSummary[];
            try {
                runs = (await ctx.controller.list()).filter(isResumable);
            } catch (error) {
                void vscode.window.showErrorMessage(`Could not list the training runs: ${describeError(error)}`);
                return;
            }
            runId = await pickRun(runs.map((r) => r.runId), "Resume which run?", "No run can be resumed: only cancelled, interrupted or failed runs with a checkpoint can.", runs);
        }
        if (!runId) return;
        try {
            await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Resuming ${runId}…` }, () => ctx.controller.resume(runId!));
            ProgressPanel.show(ctx.extensionUri, ctx.controller, runId);
        } catch (error) {
            if (error instanceof RunRequestError && error.isRunAlreadyActive && error.otherRunId !== runId) {
                return explainRunAlreadyActive(ctx, `Could not resume ${runId}`, error);
            }
            void vscode.window.showErrorMessage(`Could not resume ${runId}: ${describeError(error)}`);
        }
    };
}

export function showProgress(ctx: TrainingContext): Command {
    return async (arg) => {
        let runId: string | undefined = runIdOf(arg) ?? ctx.controller.activeRuns()[0]?.runId;
        if (!runId) {
            if (!trustedOrExplain("Showing training runs")) return;
            try {
                const runs = await ctx.controller.list();
                runId = await pickRun(runs.map((r) => r.runId), "Show the progress of which run?", "No training runs yet in this workspace.", runs);
            } catch (error) {
                void vscode.window.showErrorMessage(`Could not list the training runs: ${describeError(error)}`);
                return;
            }
        }
        if (runId) ProgressPanel.show(ctx.extensionUri, ctx.controller, runId);
    };
}

export function showRuns(ctx: TrainingContext): Command {
    return async () => {
        ctx.tree.refresh();
        await vscode.commands.executeCommand(`${RUNS_VIEW_ID}.focus`);
    };
}

export function refreshRuns(ctx: TrainingContext): Command {
    return async () => ctx.tree.refresh();
}

export function revealAdapter(ctx: TrainingContext): Command {
    return async (arg) => {
        const runId = runIdOf(arg);
        if (!runId) return;
        try {
            const details = await ctx.controller.details(runId);
            const adapter = vscode.Uri.joinPath(vscode.Uri.file(details.runDirectory), "adapter.gguf");
            try {
                await vscode.workspace.fs.stat(adapter);
            } catch {
                void vscode.window.showInformationMessage(`Run ${runId} has no adapter yet (${adapter.fsPath}); it is written when the run finishes or is cancelled.`);
                return;
            }
            const inWorkspace = vscode.workspace.getWorkspaceFolder(adapter) !== undefined;
            await vscode.commands.executeCommand(inWorkspace ? "revealInExplorer" : "revealFileInOS", adapter);
        } catch (error) {
            void vscode.window.showErrorMessage(`Could not reveal the adapter of ${runId}: ${describeError(error)}`);
        }
    };
}

/** One run id: the only candidate, or the user's pick; undefined (after saying why) when there is none. */
async function pickRun(runIds: string[], title: string, none: string, summaries: RunSummary[] = []): Promise<string | undefined> {
    if (runIds.length === 0) {
        void vscode.window.showInformationMessage(none);
        return undefined;
    }
    if (runIds.length === 1) return runIds[0];
    const byId = new Map(summaries.map((s) => [s.runId, s]));
    const picked = await vscode.window.showQuickPick(
        runIds.map((id) => {
            const s = byId.get(id);
            return { label: id, description: s ? `${s.state} · step ${s.step}/${s.totalSteps}` : "" };
        }),
        { title }
    );
    return picked?.label;
}

export const COMMAND_FACTORIES: Record<(typeof TRAINING_COMMANDS)[keyof typeof TRAINING_COMMANDS], (ctx: TrainingContext) => Command> = {
    [TRAINING_COMMANDS.trainFromConfig]: trainFromConfig,
    [TRAINING_COMMANDS.cancel]: cancelTraining,
    [TRAINING_COMMANDS.resume]: resumeRun,
    [TRAINING_COMMANDS.showRuns]: showRuns,
    [TRAINING_COMMANDS.showProgress]: showProgress,
    [TRAINING_COMMANDS.refreshRuns]: refreshRuns,
    [TRAINING_COMMANDS.revealAdapter]: revealAdapter
};
