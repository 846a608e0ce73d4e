// "LoRA Studio: Start Training": dataset, base model, preset and run name in four quick picks, then
// `<name>.lora.json` written atomically in the workspace folder and handed to "Train with Config". Starting from
// the `loraStudio.training.*` settings; the preset list shows the sidecar's memory estimate for the chosen model.
// Escape at any step ends the wizard without writing anything.
import * as vscode from "vscode";
import { describeError } from "../errorMessage";
import { uriExists } from "../workspaceFs";
import { trustedOrExplain } from "../workspaceTrust";
import { runConfigEditorSchemaUri } from "./runConfigSchemaUri";
import { pickBaseModel } from "../models/wizardModelStep";
import { RunEstimateRequest, type RunEstimateResult, type TrainingPresetId } from "../../../sidecar/src/protocol/sidecar";
import { TRAINING_PRESET_IDS, TRAINING_PRESETS } from "../../../sidecar/src/training/presets";
import type { SidecarSupervisor } from "../sidecar/supervisor";
import { trainabilityOfFile } from "../../../sidecar/src/training/modelCheck";
import {
    buildRunConfig, CONFIG_SUFFIX, defaultRunName, describeEstimate, describeModelChoice, runNameProblem, settingsToConfig, TRAINING_SETTINGS_SECTION
} from "./startWizardConfig";

export const START_TRAINING_COMMAND = "loraStudio.startTraining";
const TRAIN_FROM_CONFIG_COMMAND = "loraStudio.trainFromConfig";
const BROWSE = "$(folder-opened) Browse…";

/**
 * The wizard's questions. The default asks through VS Code's quick input; the in-host test passes a scripted
 * one as the command's argument (the only seam: files, settings, the sidecar and the next command stay real).
 */
export interface WizardUi {
    pick(title: string, items: readonly WizardItem[], placeholder: string): Promise<WizardItem | undefined>;
    input(title: string, value: string, validate: (value: string) => string | undefined): Promise<string | undefined>;
    browse(title: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined>;
}

export interface WizardItem extends vscode.QuickPickItem {
    /** A file, a preset id, or BROWSE. */
    value: string;
}

const quickInputUi: WizardUi = {
    pick: (title, items, placeHolder) => Promise.resolve(vscode.window.showQuickPick(items, { title, placeHolder, matchOnDescription: true, ignoreFocusOut: true })),
    input: (title, value, validate) => Promise.resolve(vscode.window.showInputBox({ title, value, validateInput: validate, ignoreFocusOut: true })),
    browse: async (title, filters) => (await vscode.window.showOpenDialog({ title, filters, canSelectMany: false, openLabel: "Select" }))?.[0]
};

function isWizardUi(value: unknown): value is WizardUi {
    const ui = value as Partial<WizardUi> | undefined;
    return typeof ui?.pick === "function" && typeof ui.input === "function" && typeof ui.browse === "function";
}

async function workspaceFiles(glob: string): Promise<vscode.Uri[]> {
    const found = await vscode.workspace.findFiles(glob, "**/{node_modules,.lora-studio,.git}/**", 500);
    return found.sort((a, b) => vscode.workspace.asRelativePath(a).localeCompare(vscode.workspace.asRelativePath(b)));
}

/** The extra items, then the workspace's matches not among them. */
function fileItems(files: readonly vscode.Uri[], extra: readonly WizardItem[]): WizardItem[] {
    return [...extra, ...files.filter((f) => !extra.some((e) => e.value === f.fsPath)).map((f) => ({ label: vscode.workspace.asRelativePath(f), value: f.fsPath }))];
}

/** A file from the workspace's matches, the extra items, or Browse…; undefined when the user escapes. */
async function pickFile(ui: WizardUi, step: string, files: readonly vscode.Uri[], extra: readonly WizardItem[], filters: Record<string, string[]>): Promise<string | undefined> {
    const items: WizardItem[] = [...fileItems(files, extra), { label: BROWSE, value: BROWSE }];
    const picked = await ui.pick(step, items, files.length === 0 && extra.length === 0 ? "None in the workspace: Browse…" : "Type to filter");
    if (!picked) return undefined;
    if (picked.value !== BROWSE) return picked.value;
    return (await ui.browse(step, filters))?.fsPath;
}

/** The configured loraStudio.baseModel, resolved against the first folder, as a quick-pick item. */
function configuredModel(folder: vscode.Uri): WizardItem[] {
    const setting = vscode.workspace.getConfiguration("loraStudio").get<string>("baseModel", "");
    if (setting.trim() === "") return [];
    const uri = setting.startsWith("/") || /^[A-Za-z]:[\\/]/.test(setting) ? vscode.Uri.file(setting) : vscode.Uri.joinPath(folder, setting);
    return [{ label: vscode.workspace.asRelativePath(uri), description: "loraStudio.baseModel", value: uri.fsPath }];
}

/**
 * Marks each model before the user picks one: its architecture when the engine trains it, "cannot be trained" and
 * why when it does not. Reads only the GGUF headers (pure TypeScript; no native code in the extension host).
 */
function markTrainability(item: WizardItem): WizardItem {
    const choice = describeModelChoice(trainabilityOfFile(item.value));
    const description = item.description ? `${item.description} · ${choice.description}` : choice.description;
    return { ...item, description, ...(choice.detail ? { detail: choice.detail } : {}) };
}

/** Why `model` cannot be trained, or undefined when it can (a model reached through Browse… was not marked). */
function untrainableReason(model: string): string | undefined {
    const trainability = trainabilityOfFile(model);
    return trainability.trainable ? undefined : trainability.reason;
}

/** The memory estimate of every preset for `model`; undefined (with the reason) when the sidecar cannot give one. */
async function estimatePresets(sidecar: SidecarSupervisor, model: string, settings: object): Promise<{ result?: RunEstimateResult; why?: string }> {
    try {
        const result = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Window, title: "LoRA Studio: estimating memory…" },
            () => sidecar.sendRequest(RunEstimateRequest.type, { model, settings, presets: [...TRAINING_PRESET_IDS] })
        );
        return { result };
    } catch (error) {
        return { why: describeError(error) };
    }
}

function presetItems(estimate: { result?: RunEstimateResult; why?: string }): WizardItem[] {
    const detected: TrainingPresetId = estimate.result?.detectedPreset ?? "cpu";
    const order = [detected, ...TRAINING_PRESET_IDS.filter((id) => id !== detected)];
    return order.map((id) => {
        const preset = TRAINING_PRESETS[id];
        const e = estimate.result?.presets.find((p) => p.id === id)?.estimate;
        return {
            label: preset.label,
            description: `${id === detected && estimate.result ? "detected · " : ""}${preset.description}`,
            detail: e && estimate.result ? describeEstimate(e, estimate.result.availableBytes) : `no memory estimate: ${estimate.why ?? "unknown"}`,
            value: id
        };
    });
}

/** Writes `text` to a temp file beside `target`, then renames it into place: the config is never half-written. */
async function writeAtomically(target: vscode.Uri, text: string): Promise<void> {
    const temp = target.with({ path: `${target.path}.tmp-${process.pid}-${Date.now()}` });
    await vscode.workspace.fs.writeFile(temp, new TextEncoder().encode(text));
    try {
        await vscode.workspace.fs.rename(temp, target, { overwrite: false });
    } catch (error) {
        await vscode.workspace.fs.delete(temp).then(undefined, () => undefined);
        throw error;
    }
}


/** Runs the wizard; resolves with the written config, or undefined when it was cancelled or refused. */
export async function startTrainingWizard(extensionUri: vscode.Uri, sidecar: SidecarSupervisor, ui: WizardUi = quickInputUi): Promise<vscode.Uri | undefined> {
    if (!trustedOrExplain("Start Training")) return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!folder) {
        void vscode.window.showWarningMessage("Start Training writes a run config into the workspace and trains into its .lora-studio/runs/: open a folder first.");
        return undefined;
    }
    const title = (n: number, what: string): string => `Start Training (${n}/4): ${what}`;
    const dataset = await pickFile(ui, title(1, "training data"), await workspaceFiles("**/*.jsonl"), [], { "JSON Lines": ["jsonl"] });
    if (!dataset) return undefined;
    const workspaceModels = fileItems(await workspaceFiles("**/*.gguf"), configuredModel(folder)).map(markTrainability);
    const model = await pickBaseModel(ui, sidecar, title(2, "base model (GGUF)"), workspaceModels, () => ui.browse(title(2, "base model (GGUF)"), { GGUF: ["gguf"] }));
    if (!model) return undefined;
    const refused = untrainableReason(model);
    if (refused !== undefined) {
        void vscode.window.showErrorMessage(`${model} cannot be trained: ${refused}. Pick a base model of a supported architecture (docs/architectures.md).`);
        return undefined;
    }

    const settings = settingsToConfig((field) => vscode.workspace.getConfiguration(TRAINING_SETTINGS_SECTION).get(field));
    const preset = await ui.pick(title(3, "preset"), presetItems(await estimatePresets(sidecar, model, settings)), "Memory-shaped settings for your hardware; the rest comes from loraStudio.training.* settings");
    if (!preset) return undefined;

    const nameTaken = new Set<string>();
    const validate = (value: string): string | undefined => runNameProblem(value) ?? (nameTaken.has(value) ? `${value}${CONFIG_SUFFIX} already exists; choose another name.` : undefined);
    let name = defaultRunName(dataset);
    for (let i = 2; await uriExists(vscode.Uri.joinPath(folder, `${name}${CONFIG_SUFFIX}`)); i++) {
        nameTaken.add(name);
        name = `${defaultRunName(dataset)}-${i}`;
    }
    const chosen = await ui.input(title(4, `run name (writes <name>${CONFIG_SUFFIX})`), name, validate);
    if (chosen === undefined) return undefined;
    const target = vscode.Uri.joinPath(folder, `${chosen}${CONFIG_SUFFIX}`);

    const config = buildRunConfig(
        {
            dataset, model, preset: preset.value as TrainingPresetId, configPath: target.fsPath,
            schemaUri: runConfigEditorSchemaUri(extensionUri)
        },
        settings
    );
    try {
        await writeAtomically(target, `${JSON.stringify(config, null, 4)}\n`);
    } catch (error) {
        void vscode.window.showErrorMessage(`Could not write ${target.fsPath}: ${describeError(error)}`);
        return undefined;
    }
    await vscode.commands.executeCommand(TRAIN_FROM_CONFIG_COMMAND, target);
    return target;
}

export function activateStartWizard(context: vscode.ExtensionContext, sidecar: SidecarSupervisor): void {
    context.subscriptions.push(
        vscode.commands.registerCommand(START_TRAINING_COMMAND, (arg?: unknown) => startTrainingWizard(context.extensionUri, sidecar, isWizardUi(arg) ? arg : quickInputUi))
    );
}
