// "LoRA Studio: Choose Base Model": every GGUF on this machine (workspace, models folder, Ollama, LM Studio, the
// Hugging Face cache, node-llama-cpp's folder) and the catalogue's models not yet downloaded, in one quick pick; the
// pick becomes the workspace's loraStudio.baseModel, after a download for a catalogue model. Listing reads headers
// only and works in Restricted Mode; setting the base model and downloading need a trusted workspace.
import * as vscode from "vscode";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { trustedOrExplain } from "../workspaceTrust";
import { modelPickEntries } from "./modelPickItems";
import { fetchModelList, isModelPickUi, quickPickUi, resolveModelItem, toQuickPickItems, type ModelPickUi } from "./modelQuickPick";

export const CHOOSE_BASE_MODEL_COMMAND = "loraStudio.chooseBaseModel";

/** The setting's value: relative to the first workspace folder when the model is inside it, else absolute. */
function settingValue(path: string): string {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return folder && (path === folder || path.startsWith(`${folder}/`) || path.startsWith(`${folder}\\`)) ? vscode.workspace.asRelativePath(path, false) : path;
}

/** Runs the pick; resolves with the model set as loraStudio.baseModel, or undefined when nothing was set. */
export async function chooseBaseModel(sidecar: SidecarSupervisor, ui: ModelPickUi = quickPickUi): Promise<string | undefined> {
    const list = await fetchModelList(sidecar);
    if (!list) return undefined;
    const items = toQuickPickItems(modelPickEntries(list, { catalogue: true }));
    const found = list.models.length;
    const placeholder = found === 0 ? "No GGUF found on this machine: pick a model to download" : `${found} found; type to filter (architecture, quantization, source)`;
    const picked = await ui.pick("Choose Base Model", items, placeholder);
    if (!picked) return undefined;
    if (!trustedOrExplain("Choosing a base model")) return undefined;
    const model = await resolveModelItem(sidecar, picked);
    if (!model) return undefined;
    const target = vscode.workspace.workspaceFolders ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    const value = settingValue(model);
    await vscode.workspace.getConfiguration("loraStudio").update("baseModel", value, target);
    void vscode.window.showInformationMessage(`Base model set to ${value} (loraStudio.baseModel); Start Training offers it first.`);
    return value;
}

export function activateModels(context: vscode.ExtensionContext, sidecar: SidecarSupervisor): void {
    context.subscriptions.push(
        vscode.commands.registerCommand(CHOOSE_BASE_MODEL_COMMAND, (arg?: unknown) => chooseBaseModel(sidecar, isModelPickUi(arg) ? arg : quickPickUi))
    );
}
