// The chat's VS Code settings.
import * as vscode from "vscode";

/**
 * `loraStudio.chatThreads`: CPU threads per answer, 0 = the sidecar's measured default (sidecar/src/chat/inferenceThreads.ts:
 * one thread for small models, the physical cores for larger ones), which never oversubscribes the cores.
 */
export function chatThreads(): number {
    const value = vscode.workspace.getConfiguration("loraStudio").get<number>("chatThreads") ?? 0;
    return Number.isInteger(value) && value > 0 ? value : 0;
}
