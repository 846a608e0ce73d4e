// "LoRA Studio: Import Dataset": a CSV, TSV, Parquet, JSON or JSONL file → chat JSONL, through the sidecar's import
// core (the same as `lora-studio import`). Steps: the input (palette: a file dialog; explorer: the file clicked), the
// reviewed mapping and its preview (mappingSteps.ts), the output and split (runImport.ts), the import with progress,
// then the result opens, where the language server checks it.
// Tests pass ImportCommandArgs instead of answering the dialogs.
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import { SidecarErrorCode, type ImportRunResult, type SidecarErrorData } from "../../../sidecar/src/protocol/sidecar";
import { describeError } from "../errorMessage";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { reviewMapping, type MappingChoice } from "./mappingSteps";
import { ImportPreviewDocuments } from "./previewDocument";
import { askOutput, askSplit, defaultOutput, heldOutPath, runImport } from "./runImport";

export const IMPORT_DATASET_COMMAND = "loraStudio.importDataset";

const INPUT_FILTERS = { "Datasets": ["csv", "tsv", "parquet", "json", "jsonl"], "All files": ["*"] };

/** What a test passes instead of answering: with `accept`, nothing is asked. */
export interface ImportCommandArgs {
    file: string;
    mapping?: MappingChoice;
    /** Skip Write / Edit mapping / Cancel (the preview is still shown). */
    accept?: boolean;
    /** Default: defaultOutput(file). */
    out?: string;
    split?: number;
    seed?: number;
    /** The answer to "already exists, replace?" without the modal. */
    replaceExisting?: boolean;
}

export interface ImportCommandResult extends ImportRunResult {
    out: string;
    heldOutPath?: string;
    /** The preview's lines, as shown. */
    previewLines: string[];
}

function argsOf(target: unknown): { file?: string; seams?: ImportCommandArgs } {
    if (target instanceof vscode.Uri) return { file: target.fsPath };
    if (typeof target === "object" && target !== null && typeof (target as ImportCommandArgs).file === "string") return { file: (target as ImportCommandArgs).file, seams: target as ImportCommandArgs };
    return {};
}

/** A malformed row: the error names file, row and column; "Show Row" opens the input at its line (text formats). */
async function reportRowError(error: ResponseError<SidecarErrorData>): Promise<void> {
    const place = error.data?.importPlace;
    const show = "Show Row";
    const choice = await vscode.window.showErrorMessage(`LoRA Studio could not import: ${describeError(error)}`, ...(place?.line !== undefined ? [show] : []));
    if (choice === show && place?.line !== undefined) {
        const line = Math.max(0, place.line - 1);
        await vscode.window.showTextDocument(vscode.Uri.file(place.file), { selection: new vscode.Range(line, 0, line, 0) });
    }
}

async function importDataset(supervisor: SidecarSupervisor, documents: ImportPreviewDocuments, target: unknown): Promise<ImportCommandResult | undefined> {
    const { file: given, seams } = argsOf(target);
    const file = given ?? (await vscode.window.showOpenDialog({ canSelectMany: false, filters: INPUT_FILTERS, title: "Import a dataset (CSV, TSV, Parquet, JSON or JSONL)", openLabel: "Import" }))?.[0]?.fsPath;
    if (!file) return undefined;
    try {
        const reviewed = await reviewMapping(supervisor, documents, file, { ...(seams?.mapping ? { mapping: seams.mapping } : {}), ...(seams?.accept ? { accept: true } : {}) });
        if (!reviewed) return undefined;
        const out = seams ? seams.out ?? defaultOutput(file) : await askOutput(file);
        if (!out) return undefined;
        const split = seams ? { ...(seams.split !== undefined ? { split: seams.split } : {}), ...(seams.seed !== undefined ? { seed: seams.seed } : {}) } : await askSplit();
        if (!split) return undefined;
        const heldOut = split.split !== undefined ? heldOutPath(out) : undefined;
        const result = await runImport(supervisor, { file, out, ...reviewed.mapping, ...split, ...(heldOut ? { heldOut } : {}) }, seams?.replaceExisting);
        if (!result) return undefined;
        if (result.cancelled) {
            void vscode.window.showInformationMessage("Import cancelled; nothing was written.");
        } else {
            await vscode.window.showTextDocument(vscode.Uri.file(out));
            const held = heldOut ? `, ${result.heldOut.toLocaleString()} held out in ${heldOut}` : "";
            void vscode.window.showInformationMessage(`Imported ${result.rows.toLocaleString()} rows: ${result.written.toLocaleString()} to ${out}${held}.`);
        }
        return { ...result, out, ...(heldOut ? { heldOutPath: heldOut } : {}), previewLines: reviewed.preview.lines };
    } catch (error) {
        if (error instanceof ResponseError && error.code === SidecarErrorCode.ImportRowInvalid) void reportRowError(error as ResponseError<SidecarErrorData>);
        else void vscode.window.showErrorMessage(`LoRA Studio could not import: ${describeError(error)}`);
        if (seams) throw error;
        return undefined;
    }
}

export function activateImport(context: vscode.ExtensionContext, supervisor: SidecarSupervisor): void {
    const documents = ImportPreviewDocuments.register(context);
    context.subscriptions.push(vscode.commands.registerCommand(IMPORT_DATASET_COMMAND, (target?: unknown) => importDataset(supervisor, documents, target)));
}
