// Entry of the extension host bundle (dist/extension.js). It only wires features together; each lives in its folder.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { activateDatasets } from "./datasets/commands";

let datasetClient: LanguageClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const output = vscode.window.createOutputChannel("LoRA Studio", { log: true });
    context.subscriptions.push(output);
    datasetClient = activateDatasets(context, output);
}

export async function deactivate(): Promise<void> {
    await datasetClient?.stop();
}
