// The chat's VS Code settings.
import * as vscode from "vscode";

/**
 * `loraStudio.chatThreads`: CPU threads per answer, 0 = node-llama-cpp's choice. On a busy machine, or with a
 * tiny model, ggml's threads wait on each other at every barrier, and one thread answers much faster.
 */
export function chatThreads(): number {
    const value = vscode.workspace.getConfiguration("loraStudio").get<number>("chatThreads") ?? 0;
    return Number.isInteger(value) && value > 0 ? value : 0;
}
