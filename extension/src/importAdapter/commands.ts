// "LoRA Studio: Import Adapter": a PEFT LoRA folder trained elsewhere → a GGUF LoRA beside it, for a base model picked
// here. Two quick picks (the folder, the base model), then the sidecar does the work (importAdapter/, the same core as
// `lora-studio import-adapter`); an existing output is replaced only after the user says so.
// Tests pass `{ peft, model, out, quiet, replaceExisting }` and skip the pickers.
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import { AdapterImportRequest, SidecarErrorCode, type AdapterImportParams, type AdapterImportResult } from "../../../sidecar/src/protocol/sidecar";
import { describeError } from "../errorMessage";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { trustedOrExplain } from "../workspaceTrust";

export const IMPORT_ADAPTER_COMMAND = "loraStudio.importAdapter";
const BROWSE = "$(folder-opened) Browse…";
/** Which path fits which scale, where the user picks what to import. */
const SCALE_NOTE = "This machine trains with LoRA Studio's engine (no import needed); one remote GPU: open the folder over Remote-SSH and train there; many GPUs: an Axolotl job. Import the PEFT folder the last two bring back.";

export interface ImportAdapterCommandArgs {
    peft?: string;
    model?: string;
    out?: string;
    /** Tests: skip the "Reveal" prompt. */
    quiet?: boolean;
    /** Tests: the answer to "already exists, replace?" without the modal. */
    replaceExisting?: boolean;
}

interface PathItem extends vscode.QuickPickItem {
    path: string;
}

const EXCLUDE = "**/{node_modules,.git}/**";

/** A path from the items or Browse…; undefined when the user escapes. */
async function pickPath(title: string, placeHolder: string, items: PathItem[], browse: vscode.OpenDialogOptions): Promise<string | undefined> {
    const picked = await vscode.window.showQuickPick([...items, { label: BROWSE, path: BROWSE }], { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true });
    if (!picked) return undefined;
    if (picked.path !== BROWSE) return picked.path;
    return (await vscode.window.showOpenDialog({ ...browse, title, canSelectMany: false, openLabel: "Select" }))?.[0]?.fsPath;
}

async function pickPeftFolder(): Promise<string | undefined> {
    const configs = await vscode.workspace.findFiles("**/adapter_config.json", EXCLUDE, 200);
    const items = configs.map((c) => {
        const folder = vscode.Uri.joinPath(c, "..");
        return { label: vscode.workspace.asRelativePath(folder), description: "PEFT adapter", path: folder.fsPath };
    });
    return pickPath("Import Adapter (1/2): the PEFT adapter folder", SCALE_NOTE, items, { canSelectFiles: false, canSelectFolders: true });
}

async function pickBaseModel(): Promise<string | undefined> {
    const items: PathItem[] = [];
    const setting = vscode.workspace.getConfiguration("loraStudio").get<string>("baseModel", "").trim();
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (setting !== "") {
        const uri = setting.startsWith("/") || /^[A-Za-z]:[\\/]/.test(setting) || !folder ? vscode.Uri.file(setting) : vscode.Uri.joinPath(folder, setting);
        items.push({ label: vscode.workspace.asRelativePath(uri), description: "loraStudio.baseModel", path: uri.fsPath });
    }
    for (const f of await vscode.workspace.findFiles("**/*.gguf", `{${EXCLUDE},**/.lora-studio/**}`, 500)) {
        if (!items.some((i) => i.path === f.fsPath)) items.push({ label: vscode.workspace.asRelativePath(f), path: f.fsPath });
    }
    return pickPath("Import Adapter (2/2): the base model it was trained for (GGUF)", "The GGUF of the Hugging Face model the adapter was trained on (any quantization)", items, { filters: { GGUF: ["gguf"] } });
}

async function confirmReplace(path: string, args: ImportAdapterCommandArgs): Promise<boolean> {
    if (args.replaceExisting !== undefined) return args.replaceExisting;
    const replace = "Replace";
    return (await vscode.window.showWarningMessage(`${path} already exists. Replace it with this import?`, { modal: true, detail: "The old file stays until the new one is completely written." }, replace)) === replace;
}

async function importAdapter(supervisor: SidecarSupervisor, raw: unknown): Promise<AdapterImportResult | undefined> {
    if (!trustedOrExplain("Importing an adapter")) return undefined;
    const args = (typeof raw === "object" && raw !== null ? raw : {}) as ImportAdapterCommandArgs;
    try {
        const peft = args.peft ?? (await pickPeftFolder());
        if (!peft) return undefined;
        const model = args.model ?? (await pickBaseModel());
        if (!model) return undefined;
        // Beside the folder, named after it: `my-adapter/` → `my-adapter.gguf`.
        const params: AdapterImportParams = { peft, model, out: args.out ?? `${peft.replace(/[\\/]+$/, "")}.gguf` };
        const send = (request: AdapterImportParams): Thenable<AdapterImportResult> => vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: "LoRA Studio: importing the PEFT adapter…" },
            () => supervisor.sendRequest(AdapterImportRequest.type, request)
        );
        let result: AdapterImportResult;
        try {
            result = await send(params);
        } catch (error) {
            if (!(error instanceof ResponseError) || error.code !== SidecarErrorCode.ExportTargetExists) throw error;
            if (!(await confirmReplace(params.out, args))) return undefined;
            result = await send({ ...params, overwrite: true });
        }
        for (const warning of result.warnings) void vscode.window.showWarningMessage(warning);
        if (!args.quiet) {
            void vscode.window.showInformationMessage(`Imported ${result.pairs} LoRA pairs (${result.arch}) to ${result.path}`, "Reveal").then((choice) => {
                if (choice === "Reveal") void vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(result.path));
            });
        }
        return result;
    } catch (error) {
        void vscode.window.showErrorMessage(`LoRA Studio could not import the adapter: ${describeError(error)}`);
        return undefined;
    }
}

export function activateImportAdapter(context: vscode.ExtensionContext, supervisor: SidecarSupervisor): void {
    context.subscriptions.push(vscode.commands.registerCommand(IMPORT_ADAPTER_COMMAND, (args?: unknown) => importAdapter(supervisor, args)));
}
