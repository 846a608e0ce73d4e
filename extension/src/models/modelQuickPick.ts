// The quick-pick half shared by "Choose Base Model" and the Start Training wizard's model step: ask the sidecar for
// models/list, turn its entries (modelPickItems.ts) into items, and turn the picked item into a model path: a found
// model as it is, a catalogue model after its download, an unreadable or untrainable one refused with the reason.
import * as vscode from "vscode";
import { ModelsListRequest, type ModelsListResult } from "../../../sidecar/src/protocol/sidecar";
import { describeError } from "../errorMessage";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { trustedOrExplain } from "../workspaceTrust";
import { downloadModel } from "./downloadModel";
import { describeOffer, type ModelPickEntry } from "./modelPickItems";

export interface ModelQuickPickItem extends vscode.QuickPickItem {
    /** The model's path, the catalogue URI, or a marker of the caller's (Browse…). */
    value: string;
    entry?: ModelPickEntry;
}

/** The one question these pickers ask; the in-host tests script it (the wizard's WizardUi has this shape). */
export interface ModelPickUi {
    pick(title: string, items: readonly ModelQuickPickItem[], placeholder: string): Promise<ModelQuickPickItem | undefined>;
}

export const quickPickUi: ModelPickUi = {
    pick: (title, items, placeHolder) => Promise.resolve(vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true }))
};

export function isModelPickUi(value: unknown): value is ModelPickUi {
    return typeof (value as Partial<ModelPickUi> | undefined)?.pick === "function";
}

/** loraStudio.modelsFolder, or undefined when empty (downloads then go to node-llama-cpp's models folder). */
export function modelsFolderSetting(): string | undefined {
    const value = vscode.workspace.getConfiguration("loraStudio").get<string>("modelsFolder", "").trim();
    return value === "" ? undefined : value;
}

/** models/list with the modelsFolder setting; undefined (the user told why) when the sidecar cannot answer. */
export async function fetchModelList(sidecar: SidecarSupervisor): Promise<ModelsListResult | undefined> {
    const folder = modelsFolderSetting();
    try {
        return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: "LoRA Studio: looking for GGUF models…" }, () =>
            sidecar.sendRequest(ModelsListRequest.type, folder ? { modelsFolder: folder } : {})
        );
    } catch (error) {
        void vscode.window.showErrorMessage(`Could not list the base models: ${describeError(error)}`);
        return undefined;
    }
}

export function toQuickPickItems(entries: readonly ModelPickEntry[]): ModelQuickPickItem[] {
    return entries.map((entry): ModelQuickPickItem => {
        if (entry.kind === "separator") return { label: entry.label, kind: vscode.QuickPickItemKind.Separator, value: "" };
        const value = entry.kind === "model" ? entry.model.path : entry.offer.uri;
        return { label: entry.label, description: entry.description, detail: entry.detail, value, entry };
    });
}

/** The catalogue's models as items, for the wizard's "Download a model…". */
export function catalogueItems(list: ModelsListResult): ModelQuickPickItem[] {
    return toQuickPickItems(list.notDownloaded.map((o) => describeOffer(o, list.preset)));
}

/**
 * The base model an item stands for: a found model's path, or a catalogue model's after it downloads (a trusted
 * workspace only). Undefined, with the reason shown, for an unreadable or untrainable model or a failed download.
 */
export async function resolveModelItem(sidecar: SidecarSupervisor, item: ModelQuickPickItem): Promise<string | undefined> {
    const entry = item.entry;
    if (entry?.kind === "model") {
        if (entry.refusal) {
            void vscode.window.showErrorMessage(`${entry.refusal}. Pick a readable GGUF of a supported architecture (docs/architectures.md).`);
            return undefined;
        }
        return entry.model.path;
    }
    if (entry?.kind === "catalogue") {
        if (!trustedOrExplain("Downloading a model")) return undefined;
        return downloadModel(sidecar, { uri: entry.offer.uri, label: entry.offer.label, dir: modelsFolderSetting() });
    }
    return item.value;
}
