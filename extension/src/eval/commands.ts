// "LoRA Studio: Evaluate": pick a run (the newest finished one first) and held-out data (the run's validation
// split, a workspace JSONL file, or any file), run eval/run in the sidecar behind a cancellable progress
// notification, then show the before/after report. Also the report panel's serializer.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { EVAL_VIEW_TYPE, type EvalViewState } from "../../../sidecar/src/protocol/evalWebview";
import {
    EvalCancelRequest, EvalProgressNotification, EvalRunRequest, RunGetRequest,
    type EvalReport, type EvalRunParams, type RunGetResult
} from "../../../sidecar/src/protocol/sidecar";
import { describeError } from "../errorMessage";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { trustedOrExplain } from "../workspaceTrust";
import { pickRunWithAdapter } from "../training/pickRunWithAdapter";
import { EvalReportPanel } from "./evalPanel";

export const EVAL_COMMAND = "loraStudio.evaluate";

/** An evaluation is one long request that reports progress meanwhile; only a sidecar silent this long is hung. */
const EVAL_REQUEST_TIMEOUT_MS = 12 * 60 * 60_000;
/** Workspace JSONL files offered as held-out data; others are a Browse… away. */
const MAX_DATA_CHOICES = 50;

type DataChoice = vscode.QuickPickItem & { data?: string; browse?: true };

/** `runId` from the palette (absent), the runs view (a node with runId) or a test (a string). */
function runIdOf(target: unknown): string | undefined {
    if (typeof target === "string") return target;
    if (typeof target === "object" && target !== null && typeof (target as { runId?: unknown }).runId === "string") return (target as { runId: string }).runId;
    return undefined;
}

async function pickData(run: RunGetResult): Promise<{ data?: string } | undefined> {
    const items: DataChoice[] = [];
    const config = run.config;
    if (config.validationData !== undefined || (config.validationSplit ?? 0) > 0) {
        const what = config.validationData ?? `${Math.round((config.validationSplit ?? 0) * 100)}% of ${config.data}`;
        items.push({ label: "$(beaker) The run's validation split", description: what, detail: "The examples training held out" });
    }
    const files = await vscode.workspace.findFiles("**/*.jsonl", "{**/node_modules/**,**/.lora-studio/**}", MAX_DATA_CHOICES);
    for (const uri of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
        const trained = uri.fsPath === config.data;
        items.push({ label: vscode.workspace.asRelativePath(uri), ...(trained ? { description: "the run's training data" } : {}), data: uri.fsPath });
    }
    items.push({ label: "$(folder-opened) Browse…", browse: true });
    const picked = await vscode.window.showQuickPick(items, { title: `Evaluate run ${run.summary.runId} on which held-out data?` });
    if (!picked) return undefined;
    if (picked.browse) {
        const chosen = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { "JSON Lines": ["jsonl"], "All files": ["*"] }, title: "Held-out data" });
        return chosen?.[0] ? { data: chosen[0].fsPath } : undefined;
    }
    return picked.data === undefined ? {} : { data: picked.data };
}

/** The `loraStudio.evaluation.*` settings, as eval/run parameters. */
function evalSettings(): Pick<EvalRunParams, "maxTokens" | "threads"> {
    const config = vscode.workspace.getConfiguration("loraStudio.evaluation");
    const maxTokens = config.get<number>("maxTokens", 128);
    const threads = config.get<number>("threads", 0);
    return { ...(Number.isInteger(maxTokens) && maxTokens >= 1 ? { maxTokens } : {}), ...(Number.isInteger(threads) && threads >= 1 ? { threads } : {}) };
}

/** Runs eval/run behind a cancellable notification that counts examples; resolves with the report. */
async function runWithProgress(supervisor: SidecarSupervisor, params: Omit<EvalRunParams, "evalId">): Promise<EvalReport> {
    const evalId = randomBytes(8).toString("hex");
    return vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: "LoRA Studio: evaluating base vs tuned", cancellable: true },
        async (progress, token) => {
            let reported = 0;
            const subscription = supervisor.onNotification(EvalProgressNotification.type, (p) => {
                if (p.evalId !== evalId || p.total === 0) return;
                const percent = (100 * p.done) / p.total;
                progress.report({ increment: percent - reported, message: `${p.done} of ${p.total} examples` });
                reported = percent;
            });
            const cancel = token.onCancellationRequested(() => void supervisor.sendRequest(EvalCancelRequest.type, { evalId }).catch(() => undefined));
            try {
                return await supervisor.sendRequest(EvalRunRequest.type, { evalId, ...params }, { timeoutMs: EVAL_REQUEST_TIMEOUT_MS });
            } finally {
                subscription.dispose();
                cancel.dispose();
            }
        }
    );
}

/**
 * The command. Arguments (all optional, for the runs view and tests): the run (id or tree node) and the held-out
 * file (path or Uri); with both, nothing is asked. `null` as data means the run's validation split.
 */
async function evaluate(context: vscode.ExtensionContext, supervisor: SidecarSupervisor, target?: unknown, dataArg?: unknown): Promise<EvalReport | undefined> {
    if (!trustedOrExplain("Evaluating")) return undefined;
    if (!vscode.workspace.workspaceFolders?.length) {
        void vscode.window.showInformationMessage("Open the folder that holds your training runs first, or run `lora-studio eval` in a terminal.");
        return undefined;
    }
    try {
        const runId = runIdOf(target) ?? (await pickRunWithAdapter(supervisor, {
            title: "Evaluate which run?",
            noRunMessage: "No finished training run in this workspace yet. Train one first, or run `lora-studio eval --model M --adapter A --data D.jsonl` in a terminal."
        }));
        if (!runId) return undefined;
        const run = await supervisor.sendRequest(RunGetRequest.type, { runId });
        let data: { data?: string } | undefined;
        if (dataArg === null) data = {};
        else if (typeof dataArg === "string") data = { data: dataArg };
        else if (dataArg instanceof vscode.Uri) data = { data: dataArg.fsPath };
        else data = await pickData(run);
        if (!data) return undefined;
        const report = await runWithProgress(supervisor, { runId, ...data, ...evalSettings() });
        EvalReportPanel.show(context.extensionUri, report);
        // E.g. an adapter that records another base of the same shape (sidecar/src/adapters/baseFingerprint.ts).
        for (const warning of report.warnings ?? []) void vscode.window.showWarningMessage(`LoRA Studio evaluation: ${warning}`);
        if (report.cancelled) void vscode.window.showInformationMessage(`Evaluation cancelled after ${report.rows.length} examples; no report file was written.`);
        return report;
    } catch (error) {
        void vscode.window.showErrorMessage(`LoRA Studio could not evaluate: ${describeError(error)}`);
        return undefined;
    }
}

export function activateEval(context: vscode.ExtensionContext, supervisor: SidecarSupervisor): void {
    context.subscriptions.push(
        vscode.commands.registerCommand(EVAL_COMMAND, (target?: unknown, data?: unknown) => evaluate(context, supervisor, target, data)),
        vscode.window.registerWebviewPanelSerializer(EVAL_VIEW_TYPE, {
            deserializeWebviewPanel: async (panel, state: unknown) => EvalReportPanel.revive(panel, context.extensionUri, state as EvalViewState | undefined)
        })
    );
}
