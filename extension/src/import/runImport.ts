// Where the import writes and how: the output path (default <name>.jsonl beside the input; never the input; an
// existing file only replaced when the user says so), an optional seeded held-out split, and import/run behind a
// cancellable progress notification that counts rows and megabytes.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import {
    ImportCancelRequest, ImportProgressNotification, ImportRunRequest, SidecarErrorCode,
    type ImportRunParams, type ImportRunResult
} from "../../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../sidecar/supervisor";

/** An import is one long request that reports progress every 10,000 rows; only a sidecar silent this long is hung. */
const IMPORT_REQUEST_TIMEOUT_MS = 60 * 60_000;

/** 12.3 MB, or 4.1 kB for a small file. */
function size(bytes: number): string {
    return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** input.csv → input.jsonl (input.jsonl → input.chat.jsonl, since the input is never overwritten). */
export function defaultOutput(input: string): string {
    const base = input.replace(/\.[^./\\]*$/, "");
    return input.toLowerCase().endsWith(".jsonl") ? `${base}.chat.jsonl` : `${base}.jsonl`;
}

/** out.jsonl → out.heldout.jsonl. */
export function heldOutPath(out: string): string {
    return `${out.replace(/\.jsonl$/i, "")}.heldout.jsonl`;
}

export async function askOutput(input: string): Promise<string | undefined> {
    for (;;) {
        const uri = await vscode.window.showSaveDialog({
            title: "Import: write the chat JSONL to", defaultUri: vscode.Uri.file(defaultOutput(input)), filters: { "JSON Lines": ["jsonl"] }, saveLabel: "Import here"
        });
        if (!uri) return undefined;
        if (uri.fsPath !== input) return uri.fsPath;
        void vscode.window.showWarningMessage("That is the input file; the import never overwrites its input. Choose another name.");
    }
}

/** The held-out fraction and seed; `{}` for no split, undefined when the user escapes. */
export async function askSplit(): Promise<{ split?: number; seed?: number } | undefined> {
    const fraction = await vscode.window.showInputBox({
        title: "Import: hold out a fraction for validation? (empty: no split)", placeHolder: "0.1", ignoreFocusOut: true,
        prompt: "Those rows go to <output>.heldout.jsonl, chosen by a seeded draw",
        validateInput: (text) => (text.trim() === "" || (Number(text) > 0 && Number(text) < 1) ? undefined : "A number between 0 and 1, such as 0.1")
    });
    if (fraction === undefined) return undefined;
    if (fraction.trim() === "") return {};
    const seed = await vscode.window.showInputBox({
        title: "Import: split seed (the same seed, the same split)", value: "0", ignoreFocusOut: true,
        validateInput: (text) => (/^\d+$/.test(text.trim()) && Number(text) <= 4294967295 ? undefined : "A whole number from 0 to 4294967295")
    });
    if (seed === undefined) return undefined;
    return { split: Number(fraction), seed: Number(seed) };
}

async function confirmReplace(paths: readonly string[], replaceExisting: boolean | undefined): Promise<boolean> {
    if (replaceExisting !== undefined) return replaceExisting;
    const replace = "Replace";
    const what = paths.join(" and ");
    const choice = await vscode.window.showWarningMessage(`${what} already exist${paths.length === 1 ? "s" : ""}. Replace ${paths.length === 1 ? "it" : "them"} with the import?`, { modal: true, detail: "The old file stays until the new one is completely written." }, replace);
    return choice === replace;
}

/** import/run with progress; an existing output is replaced only after the user's yes (tests: `replaceExisting`). */
export async function runImport(supervisor: SidecarSupervisor, params: Omit<ImportRunParams, "importId">, replaceExisting?: boolean): Promise<ImportRunResult | undefined> {
    const send = (overwrite: boolean): Thenable<ImportRunResult> => {
        const importId = randomBytes(8).toString("hex");
        const name = params.file.split(/[\\/]/).pop();
        return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `LoRA Studio: importing ${name}`, cancellable: true }, async (progress, token) => {
            let reported = 0;
            const subscription = supervisor.onNotification(ImportProgressNotification.type, (p) => {
                if (p.importId !== importId) return;
                const percent = p.totalBytes > 0 ? (100 * Math.min(p.bytes, p.totalBytes)) / p.totalBytes : 0;
                const rows = p.totalRows !== undefined ? `${p.rows.toLocaleString()} of ${p.totalRows.toLocaleString()}` : p.rows.toLocaleString();
                progress.report({ increment: percent - reported, message: `${rows} rows, ${size(Math.min(p.bytes, p.totalBytes))} of ${size(p.totalBytes)}` });
                reported = percent;
            });
            const cancel = token.onCancellationRequested(() => void supervisor.sendRequest(ImportCancelRequest.type, { importId }).catch(() => undefined));
            try {
                return await supervisor.sendRequest(ImportRunRequest.type, { ...params, importId, ...(overwrite ? { overwrite } : {}) }, { timeoutMs: IMPORT_REQUEST_TIMEOUT_MS });
            } finally {
                subscription.dispose();
                cancel.dispose();
            }
        });
    };
    try {
        return await send(false);
    } catch (error) {
        if (!(error instanceof ResponseError) || error.code !== SidecarErrorCode.ImportTargetExists) throw error;
        const paths = (error.data as { paths?: unknown } | undefined)?.paths;
        if (!(await confirmReplace(Array.isArray(paths) ? paths.map(String) : [params.out], replaceExisting))) return undefined;
        return send(true);
    }
}
