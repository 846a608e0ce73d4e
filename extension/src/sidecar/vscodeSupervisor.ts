// The thin VS Code face of SidecarSupervisor: where the bundle is, how to run node inside the
// extension host, what to tell the user when the sidecar dies or gives up. Everything testable
// lives in supervisor.ts, which does not import vscode.

import * as vscode from "vscode";
import { SidecarSupervisor } from "./supervisor";

/** Registered by the training feature; the crash message's "Resume" button runs it with the run id. */
export const RESUME_RUN_COMMAND = "loraStudio.resumeRun";
/** Registered by createSidecarSupervisor: a fresh sidecar with the restart count reset. */
export const RESTART_SIDECAR_COMMAND = "loraStudio.restartSidecar";

const SHOW_LOGS = "Show Logs";
const RESTART = "Restart Sidecar";
const RESUME = "Resume";

export function createSidecarSupervisor(context: vscode.ExtensionContext, outputChannel: vscode.LogOutputChannel): SidecarSupervisor {
    const supervisor = new SidecarSupervisor({
        // The extension host's own binary runs plain node scripts when ELECTRON_RUN_AS_NODE is set,
        // so no separate node install is needed and native code stays out of the host.
        command: process.execPath,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
        scriptPath: vscode.Uri.joinPath(context.extensionUri, "dist", "sidecar.mjs").fsPath,
        nodeArgs: ["--enable-source-maps"],
        cwd: context.extensionUri.fsPath,
        clientName: `${vscode.env.appName} ${vscode.version}`,
        initializeParams: () => {
            const folder = vscode.workspace.workspaceFolders?.[0];
            return { workspaceTrusted: vscode.workspace.isTrusted, ...(folder ? { workspaceRoot: folder.uri.fsPath } : {}) };
        },
        log: outputChannel
    });

    context.subscriptions.push(
        supervisor,
        supervisor.onDidExit((exit) => {
            if (exit.expected) return;
            const next = exit.willRestart ? " It is being restarted." : "";
            const runs = exit.activeRunIds;
            const lost = runs.length > 0 ? ` Training run ${runs.join(", ")} was interrupted; Resume continues from its last checkpoint.` : "";
            const actions = runs.length > 0 ? [RESUME, SHOW_LOGS] : [SHOW_LOGS];
            void vscode.window.showWarningMessage(`LoRA Studio's training process stopped unexpectedly (${exit.description}).${next}${lost}`, ...actions).then((choice) => {
                if (choice === SHOW_LOGS) outputChannel.show(true);
                if (choice === RESUME) for (const runId of runs) void vscode.commands.executeCommand(RESUME_RUN_COMMAND, runId);
            });
        }),
        supervisor.onDidChangeState((change) => {
            if (change.state !== "failed" || !change.error) return;
            void vscode.window.showErrorMessage(change.error.message, SHOW_LOGS, RESTART).then((choice) => {
                if (choice === SHOW_LOGS) outputChannel.show(true);
                if (choice === RESTART) void vscode.commands.executeCommand(RESTART_SIDECAR_COMMAND);
            });
        }),
        vscode.commands.registerCommand(RESTART_SIDECAR_COMMAND, async () => {
            try {
                await supervisor.restart();
                void vscode.window.showInformationMessage("LoRA Studio's training process restarted.");
            } catch {
                // The "failed" state change has already told the user why.
            }
        }),
        // The sidecar learns trust at initialize; a running one refuses training until it restarts.
        vscode.workspace.onDidGrantWorkspaceTrust(() => {
            if (supervisor.state === "running") void supervisor.stop();
        })
    );
    return supervisor;
}
