// Small helpers over vscode.workspace.fs, which works for local, remote and virtual workspaces alike.
import * as vscode from "vscode";

/** True when `uri` names an existing file or folder; any failure to stat it counts as absent. */
export async function uriExists(uri: vscode.Uri): Promise<boolean> {
    try {
        await vscode.workspace.fs.stat(uri);
        return true;
    } catch {
        return false;
    }
}
