// The one Restricted Mode guard: every command that trains or loads a model (Start Training, Train with Config,
// Resume, Evaluate, Export, listing runs to show) asks it first. In an untrusted workspace it says why the command
// cannot run and offers to manage trust, without starting the sidecar; the sidecar refuses such requests too.
import * as vscode from "vscode";

const MANAGE_TRUST = "Manage Workspace Trust";

/** True when the workspace is trusted; otherwise explains why `action` is unavailable and what to do. */
export function trustedOrExplain(action: string): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window
        .showWarningMessage(
            `${action} is disabled in Restricted Mode: it loads a model and runs native code. ` +
                "Trust this workspace to use it; validating datasets and run configs keeps working.",
            MANAGE_TRUST
        )
        .then((choice) => {
            if (choice === MANAGE_TRUST) void vscode.commands.executeCommand("workbench.trust.manage");
        });
    return false;
}
