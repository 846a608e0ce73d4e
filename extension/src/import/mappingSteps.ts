// The mapping the user reviews before anything is written: the sidecar detects a preset and converts the first rows
// (import/preview); the user sees them as they will be written and chooses Write, Edit mapping or Cancel. Editing is
// a preset pick (when several fit) and input boxes for the system prompt and the user/assistant templates.
import * as vscode from "vscode";
import {
    IMPORT_PRESET_LABELS, ImportPreviewRequest,
    type ImportMappingParams, type ImportPresetName, type ImportPreviewResult
} from "../../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { describeError } from "../errorMessage";
import type { ImportPreviewDocuments } from "./previewDocument";

export const PREVIEW_ROWS = 5;

/** The mapping part of import/preview and import/run (all but the file). */
export type MappingChoice = Omit<ImportMappingParams, "file" | "format">;

type Choice = vscode.QuickPickItem & { action: "write" | "edit" | "cancel" };

function previewTitle(file: string, preview: ImportPreviewResult): string {
    const name = file.split(/[\\/]/).pop() ?? file;
    const preset = preview.mapping.preset;
    const how = preset === undefined ? "custom templates" : preview.candidates[0] === preset ? `${IMPORT_PRESET_LABELS[preset]} detected` : IMPORT_PRESET_LABELS[preset];
    return `Import ${name} (${preview.format.toUpperCase()}): ${how}`;
}

/** Asks Write / Edit mapping / Cancel under the shown preview. */
async function reviewChoice(file: string, preview: ImportPreviewResult): Promise<Choice["action"]> {
    const items: Choice[] = [
        { label: "$(check) Write", description: "convert every row", detail: preview.description.slice(1).join("   ·   "), action: "write" },
        { label: "$(edit) Edit mapping…", description: "system prompt, templates or another preset", action: "edit" },
        { label: "$(close) Cancel", action: "cancel" }
    ];
    const picked = await vscode.window.showQuickPick(items, {
        title: previewTitle(file, preview),
        placeHolder: `The editor shows the first ${preview.lines.length} rows exactly as they will be written`,
        ignoreFocusOut: true
    });
    return picked?.action ?? "cancel";
}

/** Input boxes prefilled with the mapping in use; undefined when the user escapes. */
async function editMapping(preview: ImportPreviewResult | undefined, current: MappingChoice): Promise<MappingChoice | undefined> {
    let preset = current.preset ?? preview?.mapping.preset ?? "auto";
    const candidates = preview?.candidates ?? [];
    if (candidates.length > 0) {
        type PresetItem = vscode.QuickPickItem & { preset: ImportPresetName | "custom" };
        const items: PresetItem[] = [
            ...candidates.map((name) => ({ label: IMPORT_PRESET_LABELS[name], ...(name === preview?.detected ? { description: "detected" } : {}), preset: name })),
            { label: "Custom templates", description: "map the columns yourself", preset: "custom" as const }
        ];
        const picked = await vscode.window.showQuickPick(items, { title: "Import: which mapping?", ignoreFocusOut: true });
        if (!picked) return undefined;
        preset = picked.preset === "custom" ? "auto" : picked.preset;
        if (picked.preset === "custom") current = { preset: "auto", user: current.user ?? "", assistant: current.assistant ?? "" };
    }
    const columns = preview?.columns.map((c) => `{${c}}`).join(" ") ?? "";
    const system = await vscode.window.showInputBox({
        title: "Import: system prompt (empty for none)", value: current.system ?? preview?.mapping.system ?? "", ignoreFocusOut: true,
        prompt: `Put before every example. Columns may be used: ${columns}`
    });
    if (system === undefined) return undefined;
    const next: MappingChoice = { preset, system };
    if (preview?.mapping.column !== undefined && preset !== "auto") return next; // A conversation column holds the turns.
    for (const role of ["user", "assistant"] as const) {
        const value = await vscode.window.showInputBox({
            title: `Import: the ${role} message template`, ignoreFocusOut: true,
            value: current[role] ?? preview?.mapping[role] ?? "",
            prompt: `{column} inserts a column, {a.b} a field of a struct column, \\n a line break. Columns: ${columns}`,
            placeHolder: role === "user" ? "Question: {question}\\nContext: {support}" : "{correct_answer}",
            validateInput: (text) => (text.trim() === "" ? "A template is needed" : undefined)
        });
        if (value === undefined) return undefined;
        next[role] = value;
    }
    return next;
}

export interface ReviewSeams {
    /** Tests: the mapping to use; the preview is made and shown but no question asked. */
    mapping?: MappingChoice;
    accept?: boolean;
}

/**
 * Previews, shows and asks until the user writes or cancels. Resolves with the accepted mapping and its preview, or
 * undefined. A preview that fails (a template naming an unknown column, a malformed row) is reported and the user
 * may edit the mapping again.
 */
export async function reviewMapping(supervisor: SidecarSupervisor, documents: ImportPreviewDocuments, file: string, seams: ReviewSeams): Promise<{ mapping: MappingChoice; preview: ImportPreviewResult } | undefined> {
    let mapping: MappingChoice = seams.mapping ?? {};
    let last: ImportPreviewResult | undefined;
    for (;;) {
        let preview: ImportPreviewResult;
        try {
            preview = await supervisor.sendRequest(ImportPreviewRequest.type, { file, rows: PREVIEW_ROWS, ...mapping });
        } catch (error) {
            if (seams.accept) throw error;
            const edit = "Edit mapping";
            const choice = await vscode.window.showErrorMessage(`LoRA Studio cannot import ${file}: ${describeError(error)}`, edit);
            if (choice !== edit) return undefined;
            const edited = await editMapping(last, mapping);
            if (!edited) return undefined;
            mapping = edited;
            continue;
        }
        last = preview;
        await documents.show(file, preview.lines);
        if (seams.accept) return { mapping, preview };
        const action = await reviewChoice(file, preview);
        if (action === "write") return { mapping, preview };
        if (action === "cancel") return undefined;
        const edited = await editMapping(preview, mapping);
        if (!edited) return undefined;
        mapping = edited;
    }
}
