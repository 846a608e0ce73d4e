// "LoRA Studio: Export": pick a run (the newest finished one first) and a target, let the sidecar write the
// export (native code, for the quantized merges, never runs in the extension host), then offer to reveal it.
// Also runs from the runs view (a run node) and from tests (`{ runId, format, type }` skips the pickers).
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import {
    ExportRunRequest,
    SidecarErrorCode,
    type ExportFormat, type ExportMergedType, type ExportPeftDtype, type ExportRunParams, type ExportRunResult
} from "../../../sidecar/src/protocol/sidecar";
import { describeError } from "../errorMessage";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { trustedOrExplain } from "../workspaceTrust";
import { pickRunWithAdapter } from "../training/pickRunWithAdapter";

export const EXPORT_COMMAND = "loraStudio.export";

interface Target extends vscode.QuickPickItem {
    format: ExportFormat;
    type?: ExportMergedType;
}

const TARGETS: Target[] = [
    { label: "GGUF LoRA adapter", description: "as is", detail: "For llama.cpp, LM Studio, node-llama-cpp (load it on the same base model).", format: "gguf-lora" },
    { label: "Merged GGUF (F16)", description: "base + adapter", detail: "One standalone model; the adapter folded into the weights.", format: "merged", type: "f16" },
    { label: "Merged GGUF (Q8_0)", description: "base + adapter, 8-bit", format: "merged", type: "q8_0" },
    { label: "Merged GGUF (Q4_K_M)", description: "base + adapter, 4-bit", format: "merged", type: "q4_k_m" },
    { label: "Merged GGUF (Q4_0)", description: "base + adapter, 4-bit", format: "merged", type: "q4_0" },
    { label: "Ollama Modelfile", description: "FROM + ADAPTER + TEMPLATE", detail: "Then: ollama create NAME -f Modelfile", format: "ollama" },
    { label: "PEFT adapter", description: "safetensors + adapter_config.json", detail: "For Hugging Face transformers + peft, on the original (unconverted) base model.", format: "peft" }
];

interface DtypeItem extends vscode.QuickPickItem {
    dtype: ExportPeftDtype;
}

/** Asked only for PEFT; the first (f32, exact) is the default. */
const PEFT_DTYPE_ITEMS: DtypeItem[] = [
    { label: "F32", description: "exact", detail: "The adapter's own values, bit for bit.", dtype: "f32" },
    { label: "F16", description: "half the size", detail: "Rounded to IEEE half precision (about 3 significant digits).", dtype: "f16" },
    { label: "BF16", description: "half the size", detail: "Rounded to bfloat16: the F32 range, about 2 significant digits.", dtype: "bf16" }
];

export interface ExportCommandArgs {
    runId?: string;
    format?: ExportFormat;
    type?: ExportMergedType;
    /** peft only; given with format, the dtype picker is skipped (default f32). */
    dtype?: ExportPeftDtype;
    out?: string;
    /** Tests: skip the "Reveal" prompt. */
    quiet?: boolean;
    /** Tests: the answer to "already exists, replace?" without the modal. */
    replaceExisting?: boolean;
}

/** A palette call has no argument, the runs view passes its node (with runId), a test passes ExportCommandArgs. */
function argsOf(target: unknown): ExportCommandArgs {
    if (typeof target === "string") return { runId: target };
    if (typeof target === "object" && target !== null) return target as ExportCommandArgs;
    return {};
}

/** The modal that lets an export replace existing files; tests answer it through `args.replaceExisting`. */
async function confirmReplace(error: ResponseError<unknown>, args: ExportCommandArgs): Promise<boolean> {
    if (args.replaceExisting !== undefined) return args.replaceExisting;
    const paths = (error.data as { paths?: unknown } | undefined)?.paths;
    const listed = Array.isArray(paths) ? paths.map(String) : [];
    const what = listed.length === 1 ? listed[0]! : `${listed.length} files (${listed.join(", ")})`;
    const replace = "Replace";
    const choice = await vscode.window.showWarningMessage(`${what} already exists. Replace it with this export?`, { modal: true, detail: "The old file stays until the new one is completely written." }, replace);
    return choice === replace;
}

async function reveal(path: string): Promise<void> {
    const uri = vscode.Uri.file(path);
    // The explorer can show files inside the workspace (also in code-server); the OS file manager the rest.
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand("revealInExplorer", uri);
    else await vscode.commands.executeCommand("revealFileInOS", uri);
}

async function exportRun(supervisor: SidecarSupervisor, target: unknown): Promise<ExportRunResult | undefined> {
    if (!trustedOrExplain("Exporting")) return undefined;
    const args = argsOf(target);
    try {
        const runId = args.runId ?? (await pickRunWithAdapter(supervisor, {
            title: "Export: which run's adapter?",
            noRunMessage: "No finished training run in this workspace yet. Train one first, or run `lora-studio export --adapter A --model M --format …` in a terminal."
        }));
        if (!runId) return undefined;
        let chosen: Pick<Target, "format" | "type"> | undefined = args.format ? { format: args.format, ...(args.type ? { type: args.type } : {}) } : undefined;
        const picked = !chosen;
        chosen ??= await vscode.window.showQuickPick(TARGETS, { title: `Export ${runId} as…` });
        if (!chosen) return undefined;
        let dtype = chosen.format === "peft" ? args.dtype : undefined;
        if (chosen.format === "peft" && dtype === undefined && picked) {
            dtype = (await vscode.window.showQuickPick(PEFT_DTYPE_ITEMS, { title: `Export ${runId} as PEFT: which float type for adapter_model.safetensors?` }))?.dtype;
            if (!dtype) return undefined;
        }
        const params: ExportRunParams = {
            runId, format: chosen.format,
            ...(chosen.type ? { type: chosen.type } : {}), ...(dtype ? { dtype } : {}), ...(args.out ? { out: args.out } : {})
        };
        const variant = chosen.type ?? dtype;
        const send = (request: ExportRunParams): Thenable<ExportRunResult> => vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `LoRA Studio: exporting ${runId} (${chosen!.format}${variant ? ` ${variant}` : ""})…` },
            () => supervisor.sendRequest(ExportRunRequest.type, request)
        );
        let result: ExportRunResult;
        try {
            result = await send(params);
        } catch (error) {
            // The sidecar replaces nothing unless asked: an existing export target needs the user's yes (never an input).
            if (!(error instanceof ResponseError) || error.code !== SidecarErrorCode.ExportTargetExists) throw error;
            if (!(await confirmReplace(error, args))) return undefined;
            result = await send({ ...params, overwrite: true });
        }
        for (const warning of result.warnings) void vscode.window.showWarningMessage(warning);
        if (!args.quiet) {
            void vscode.window.showInformationMessage(`Exported ${runId} to ${result.path}`, "Reveal").then((choice) => {
                if (choice === "Reveal") void reveal(result.path);
            });
        }
        return result;
    } catch (error) {
        void vscode.window.showErrorMessage(`LoRA Studio could not export: ${describeError(error)}`);
        return undefined;
    }
}

export function activateExport(context: vscode.ExtensionContext, supervisor: SidecarSupervisor): void {
    context.subscriptions.push(vscode.commands.registerCommand(EXPORT_COMMAND, (target?: unknown) => exportRun(supervisor, target)));
}
