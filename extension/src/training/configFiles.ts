// Finding and reading `*.lora.json` run configs for "Train with Config". The sidecar validates the content
// against the schema (and names file and field); here we only need it to be JSON, so a syntax error is
// reported with its line before anything starts.
// The ESM build by path: jsonc-parser's `main` is a UMD bundle whose dynamic requires esbuild cannot follow.
import { parse, printParseErrorCode, type ParseError } from "jsonc-parser/lib/esm/main.js";
import * as vscode from "vscode";
import type { TrainingConfig } from "../../../sidecar/src/protocol/sidecar";

export const CONFIG_SUFFIX = ".lora.json";

export function isRunConfig(uri: vscode.Uri | undefined): uri is vscode.Uri {
    return uri !== undefined && uri.path.endsWith(CONFIG_SUFFIX);
}

export class ConfigReadError extends Error {
    constructor(readonly uri: vscode.Uri, message: string, readonly line?: number) {
        super(message);
        this.name = "ConfigReadError";
    }
}

/** Reads the config from the open document when there is one (unsaved edits included), else from disk. */
export async function readRunConfig(uri: vscode.Uri): Promise<TrainingConfig> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    const errors: ParseError[] = [];
    const value: unknown = parse(text, errors, { allowTrailingComma: true });
    const first = errors[0];
    if (first) {
        const line = text.slice(0, first.offset).split("\n").length;
        throw new ConfigReadError(uri, `${uri.fsPath}:${line}: ${printParseErrorCode(first.error)}: the run config is not valid JSON.`, line);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigReadError(uri, `${uri.fsPath}: a run config must be a JSON object with at least "model" and "data".`);
    }
    return value as TrainingConfig;
}

/**
 * The config to train: the argument, else the active editor's `*.lora.json`, else a quick pick of the
 * workspace's configs. Undefined when there is none or the user dismissed the pick.
 */
export async function chooseRunConfig(arg: unknown): Promise<vscode.Uri | undefined> {
    if (arg instanceof vscode.Uri) return arg;
    const active = vscode.window.activeTextEditor?.document.uri;
    if (isRunConfig(active)) return active;
    const found = await vscode.workspace.findFiles(`**/*${CONFIG_SUFFIX}`, "**/node_modules/**", 200);
    if (found.length === 0) {
        const choice = await vscode.window.showInformationMessage(
            `No run config (*${CONFIG_SUFFIX}) in this workspace. "LoRA Studio: Start Training" walks you through writing one.`,
            "Start Training"
        );
        if (choice) await vscode.commands.executeCommand("loraStudio.startTraining");
        return undefined;
    }
    if (found.length === 1) return found[0];
    const picked = await vscode.window.showQuickPick(
        found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })).sort((a, b) => a.label.localeCompare(b.label)),
        { title: "Train with which run config?", placeHolder: `*${CONFIG_SUFFIX}` }
    );
    return picked?.uri;
}
