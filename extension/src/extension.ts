// Entry of the extension host bundle (dist/extension.js). It only wires features together; each lives in its folder.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { activateDatasets } from "./datasets/commands";
import { activateTraining } from "./training";
import { activateStartWizard } from "./training/startWizard";
import { activateChat } from "./chat/commands";
import { activateEval } from "./eval/commands";
import { activateExport } from "./export/commands";
import { activateImport } from "./import/commands";
import { activateImportAdapter } from "./importAdapter/commands";
import { activateModels } from "./models/commands";
import { createSidecarSupervisor } from "./sidecar/vscodeSupervisor";
import type { SidecarSupervisor } from "./sidecar/supervisor";

let datasetClient: LanguageClient | undefined;
let sidecar: SidecarSupervisor | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const output = vscode.window.createOutputChannel("LoRA Studio", { log: true });
    context.subscriptions.push(output);
    datasetClient = activateDatasets(context, output);
    // Creating the supervisor spawns nothing: the sidecar starts on the first train or chat request.
    const sidecarLog = vscode.window.createOutputChannel("LoRA Studio Sidecar", { log: true });
    context.subscriptions.push(sidecarLog);
    sidecar = createSidecarSupervisor(context, sidecarLog);
    activateTraining(context, sidecar);
    activateStartWizard(context, sidecar);
    activateChat(context, sidecar);
    activateEval(context, sidecar);
    activateExport(context, sidecar);
    activateImport(context, sidecar);
    activateImportAdapter(context, sidecar);
    activateModels(context, sidecar);
}

export async function deactivate(): Promise<void> {
    await Promise.all([datasetClient?.stop(), sidecar?.stop()]);
}
