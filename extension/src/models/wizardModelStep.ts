// The Start Training wizard's model step: the workspace's GGUFs (as the wizard marks them), then every model found
// elsewhere on this machine grouped by source, "Download a model…" (the catalogue, through the same download as
// Choose Base Model) and Browse…. When the sidecar cannot list, the step still offers the workspace and Browse….
import * as vscode from "vscode";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { modelPickEntries } from "./modelPickItems";
import { catalogueItems, fetchModelList, resolveModelItem, toQuickPickItems, type ModelPickUi, type ModelQuickPickItem } from "./modelQuickPick";

const BROWSE = "$(folder-opened) Browse…";
const DOWNLOAD = "$(cloud-download) Download a model…";

function separator(label: string): ModelQuickPickItem {
    return { label, kind: vscode.QuickPickItemKind.Separator, value: "" };
}

/** The picked base model's path; undefined when the user escapes, or a pick was refused or its download failed. */
export async function pickBaseModel(
    ui: ModelPickUi, sidecar: SidecarSupervisor, step: string, workspaceItems: readonly ModelQuickPickItem[], browse: () => Promise<vscode.Uri | undefined>
): Promise<string | undefined> {
    const list = await fetchModelList(sidecar);
    const shown = new Set(workspaceItems.map((i) => i.value));
    const elsewhere = list ? toQuickPickItems(modelPickEntries({ ...list, models: list.models.filter((m) => !shown.has(m.path)) }, { skipSources: ["workspace"], catalogue: false })) : [];
    const items: ModelQuickPickItem[] = [
        ...(workspaceItems.length > 0 ? [separator("Workspace"), ...workspaceItems] : []),
        ...elsewhere,
        separator(""),
        ...(list && list.notDownloaded.length > 0 ? [{ label: DOWNLOAD, description: `${list.notDownloaded.length} models in the catalogue, with their size and memory estimate`, value: DOWNLOAD }] : []),
        { label: BROWSE, value: BROWSE }
    ];
    const placeholder = items.length <= 3 ? "No GGUF found on this machine: download one or Browse…" : "Type to filter";
    const picked = await ui.pick(step, items, placeholder);
    if (!picked) return undefined;
    if (picked.value === BROWSE) return (await browse())?.fsPath;
    if (picked.value === DOWNLOAD && list) {
        const offer = await ui.pick(`${step}: download`, catalogueItems(list), "Downloads into loraStudio.modelsFolder (default ~/.node-llama-cpp/models)");
        return offer ? resolveModelItem(sidecar, offer) : undefined;
    }
    return resolveModelItem(sidecar, picked);
}
