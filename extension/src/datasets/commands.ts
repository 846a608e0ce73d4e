// The dataset feature's commands, the preview's panel serializer and the language client's lifetime.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { PREVIEW_VIEW_TYPE, type PreviewState } from "../../../sidecar/src/protocol/previewWebview";
import { createDatasetClient } from "./languageClient";
import { DatasetPreviewPanel } from "./previewPanel";

export const COMMANDS = {
    previewDataset: "loraStudio.previewDataset",
    showOutput: "loraStudio.showOutput"
} as const;

/** Starts the dataset language server and registers the dataset commands; returns the client so deactivate can stop it. */
export function activateDatasets(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
    const client = createDatasetClient(context, output);
    context.subscriptions.push(
        vscode.commands.registerCommand(COMMANDS.previewDataset, (uri?: vscode.Uri) => previewDataset(context, client, uri)),
        vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show()),
        vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
            deserializeWebviewPanel: async (panel, state: unknown) => DatasetPreviewPanel.revive(panel, context.extensionUri, client, state as PreviewState | undefined)
        })
    );
    client.start().catch((error: unknown) => output.error(`Dataset language server: ${error instanceof Error ? error.message : String(error)}`));
    return client;
}

/** From the editor title button or explorer menu (a uri), or the palette (the active editor's file). */
function previewDataset(context: vscode.ExtensionContext, client: LanguageClient, uri: vscode.Uri | undefined): void {
    // A file too large for the text editor has a tab but no text editor; its tab still names it.
    const tabInput = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri ?? (tabInput instanceof vscode.TabInputText ? tabInput.uri : undefined);
    if (!target) {
        void vscode.window.showInformationMessage("Open a .jsonl dataset first, then run LoRA Studio: Preview Dataset.");
        return;
    }
    DatasetPreviewPanel.show(context.extensionUri, client, target);
}
