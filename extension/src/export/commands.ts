// "LoRA Studio: Export": pick a run (the newest finished one first) and a target, let the sidecar write the
// export (native code, for the quantized merges, never runs in the extension host), then offer to reveal it.
// Also runs from the runs view (a run node) and from tests (`{ runId, format, type }` skips the pickers).
// The Axolotl target asks for the GPU count and the strategy, and for the base's Hugging Face repository only when
// the sidecar finds none in the GGUF (InvalidParams with the field baseModelRepo).
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import {
    ExportRunRequest,
    SidecarErrorCode,
    type ExportAxolotlStrategy, type ExportFormat, type ExportMergedType, type ExportPeftDtype, type ExportRunParams, type ExportRunResult,
    type SidecarErrorData
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

/** Which path fits which scale, said where the user chooses (and in the README's "Which path fits which scale"). */
export const SCALE_HINT = "This machine: train here with LoRA Studio's engine. One remote GPU: open the folder over Remote-SSH and train there. Many GPUs: Axolotl.";

const separator = (label: string): vscode.QuickPickItem => ({ label, kind: vscode.QuickPickItemKind.Separator });

const TARGETS: Array<Target | vscode.QuickPickItem> = [
    separator("Use the adapter (trained on this machine, or on one remote GPU over Remote-SSH)"),
    { label: "GGUF LoRA adapter", description: "as is", detail: "For llama.cpp, LM Studio, node-llama-cpp (load it on the same base model).", format: "gguf-lora" },
    { label: "Merged GGUF (F16)", description: "base + adapter", detail: "One standalone model; the adapter folded into the weights.", format: "merged", type: "f16" },
    { label: "Merged GGUF (Q8_0)", description: "base + adapter, 8-bit", format: "merged", type: "q8_0" },
    { label: "Merged GGUF (Q4_K_M)", description: "base + adapter, 4-bit", format: "merged", type: "q4_k_m" },
    { label: "Merged GGUF (Q4_0)", description: "base + adapter, 4-bit", format: "merged", type: "q4_0" },
    { label: "Ollama Modelfile", description: "FROM + ADAPTER + TEMPLATE", detail: "Then: ollama create NAME -f Modelfile", format: "ollama" },
    { label: "PEFT adapter", description: "safetensors + adapter_config.json", detail: "For Hugging Face transformers + peft, on the original (unconverted) base model.", format: "peft" },
    separator("Train at a larger scale"),
    {
        label: "Axolotl (multi-GPU)", description: "config.yml + data + README",
        detail: "Many GPUs: the same LoRA settings and data as an Axolotl job (DeepSpeed or FSDP); bring the result back with Import Adapter.",
        format: "axolotl"
    }
];

const isTarget = (item: vscode.QuickPickItem): item is Target => "format" in item;

interface StrategyItem extends vscode.QuickPickItem {
    strategy: ExportAxolotlStrategy;
}

/** Asked only for Axolotl; the first is the default. */
const STRATEGY_ITEMS: StrategyItem[] = [
    { label: "DeepSpeed ZeRO-2", description: "the model fits on one GPU", detail: "Optimizer state and gradients sharded; each GPU holds the whole model.", strategy: "deepspeed-zero2" },
    { label: "DeepSpeed ZeRO-3", description: "the model does not fit on one GPU", detail: "The weights sharded too.", strategy: "deepspeed-zero3" },
    { label: "FSDP", description: "PyTorch FSDP 2", detail: "Parameters sharded per decoder layer.", strategy: "fsdp" }
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
    /** axolotl only; given with format, the prompts are skipped (defaults: 1 GPU, deepspeed-zero2, repo from the GGUF). */
    gpus?: number;
    strategy?: ExportAxolotlStrategy;
    baseModelRepo?: string;
    out?: string;
    /** Tests: skip the "Reveal" prompt. */
    quiet?: boolean;
    /** Tests: the answer to "already exists, replace?" without the modal. */
    replaceExisting?: boolean;
    /** Tests: the answer to "which Hugging Face repository?" (asked when the GGUF names none) without the input box. */
    baseModelRepoAnswer?: string;
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

/** The GPU count and strategy of an Axolotl export: from the arguments, else asked (the picker path only). */
async function axolotlOptions(runId: string, args: ExportCommandArgs, ask: boolean): Promise<Pick<ExportRunParams, "gpus" | "strategy" | "baseModelRepo"> | undefined> {
    let gpus = args.gpus;
    let strategy = args.strategy;
    if (ask && gpus === undefined) {
        const text = await vscode.window.showInputBox({
            title: `Export ${runId} for Axolotl: how many GPUs?`,
            prompt: "GPUs on the machine that runs `accelerate launch` (the README's command uses this number).",
            value: "8",
            validateInput: (v) => (/^[1-9]\d{0,3}$/.test(v.trim()) ? undefined : "A whole number from 1 to 4096")
        });
        if (text === undefined) return undefined;
        gpus = Number(text.trim());
    }
    if (ask && strategy === undefined) {
        strategy = (await vscode.window.showQuickPick(STRATEGY_ITEMS, { title: `Export ${runId} for Axolotl: how to spread it over the GPUs?` }))?.strategy;
        if (!strategy) return undefined;
    }
    return { ...(gpus !== undefined ? { gpus } : {}), ...(strategy ? { strategy } : {}), ...(args.baseModelRepo ? { baseModelRepo: args.baseModelRepo } : {}) };
}

/** export/run's InvalidParams for a base whose Hugging Face repository is unknown (rpc/exportHandlers.ts). */
function asksForBaseModelRepo(error: ResponseError<unknown>): boolean {
    if (error.code !== SidecarErrorCode.InvalidParams) return false;
    const fields = (error.data as SidecarErrorData | undefined)?.fields;
    return Array.isArray(fields) && fields.some((f) => f.path[0] === "baseModelRepo");
}

async function askBaseModelRepo(why: string): Promise<string | undefined> {
    const repo = await vscode.window.showInputBox({
        title: "Axolotl trains from the original Hugging Face model: which repository?",
        prompt: why,
        placeHolder: "ORG/NAME, e.g. TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        validateInput: (v) => (/^[\w.-]+\/[\w.-]+$/.test(v.trim()) ? undefined : "ORG/NAME, as on huggingface.co")
    });
    return repo?.trim() || undefined;
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
        if (!chosen) {
            const item = await vscode.window.showQuickPick(TARGETS, { title: `Export ${runId} as…`, placeHolder: SCALE_HINT });
            chosen = item && isTarget(item) ? item : undefined;
        }
        if (!chosen) return undefined;
        let dtype = chosen.format === "peft" ? args.dtype : undefined;
        if (chosen.format === "peft" && dtype === undefined && picked) {
            dtype = (await vscode.window.showQuickPick(PEFT_DTYPE_ITEMS, { title: `Export ${runId} as PEFT: which float type for adapter_model.safetensors?` }))?.dtype;
            if (!dtype) return undefined;
        }
        const axolotl = chosen.format === "axolotl" ? await axolotlOptions(runId, args, picked) : undefined;
        if (chosen.format === "axolotl" && !axolotl) return undefined;
        const params: ExportRunParams = {
            runId, format: chosen.format,
            ...(chosen.type ? { type: chosen.type } : {}), ...(dtype ? { dtype } : {}), ...(args.out ? { out: args.out } : {}),
            ...axolotl
        };
        const variant = chosen.type ?? dtype ?? axolotl?.strategy;
        const send = (request: ExportRunParams): Thenable<ExportRunResult> => vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `LoRA Studio: exporting ${runId} (${chosen!.format}${variant ? ` ${variant}` : ""})…` },
            () => supervisor.sendRequest(ExportRunRequest.type, request)
        );
        let result: ExportRunResult | undefined;
        let request = params;
        while (!result) {
            try {
                result = await send(request);
            } catch (error) {
                if (!(error instanceof ResponseError)) throw error;
                if (error.code === SidecarErrorCode.ExportTargetExists) {
                    // The sidecar replaces nothing unless asked: an existing export target needs the user's yes (never an input).
                    if (!(await confirmReplace(error, args))) return undefined;
                    request = { ...request, overwrite: true };
                } else if (asksForBaseModelRepo(error) && request.baseModelRepo === undefined) {
                    const repo = args.baseModelRepoAnswer ?? (await askBaseModelRepo(error.message));
                    if (!repo) return undefined;
                    request = { ...request, baseModelRepo: repo };
                } else {
                    throw error;
                }
            }
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
