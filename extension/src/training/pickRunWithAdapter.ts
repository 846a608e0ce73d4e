// The quick pick of "which run?" for commands that need a trained adapter (Evaluate, Export): finished runs first,
// newest first, then cancelled ones (their adapter is saved at the checkpoint).
import * as vscode from "vscode";
import { RunListRequest, type RunSummary } from "../../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../sidecar/supervisor";

export async function pickRunWithAdapter(supervisor: SidecarSupervisor, prompt: { title: string; noRunMessage: string }): Promise<string | undefined> {
    const { runs } = await supervisor.sendRequest(RunListRequest.type);
    const rank = (r: RunSummary): number => (r.state === "finished" ? 0 : 1);
    const usable = runs.filter((r) => r.state === "finished" || r.state === "cancelled").sort((a, b) => rank(a) - rank(b) || (a.createdAt < b.createdAt ? 1 : -1));
    if (usable.length === 0) {
        void vscode.window.showInformationMessage(prompt.noRunMessage);
        return undefined;
    }
    const picked = await vscode.window.showQuickPick(
        usable.map((r) => ({ label: r.runId, description: `${r.state} · ${r.updatedAt.slice(0, 16).replace("T", " ")}`, ...(r.model !== undefined ? { detail: r.model } : {}), runId: r.runId })),
        { title: prompt.title, placeHolder: "The newest finished run is first" }
    );
    return picked?.runId;
}
