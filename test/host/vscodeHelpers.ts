// Waits and lookups shared by the in-host suites. Everything waits on VS Code events, never on a clock;
// the harness's per-test timeout turns a missing event into a failure.
import * as vscode from "vscode";

/** publisher.name from package.json. */
export const EXTENSION_ID = "lora-studio.lora-studio";

export async function activateExtensionUnderTest(): Promise<vscode.Extension<unknown>> {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    if (!extension) {
        const ids = vscode.extensions.all.filter((e) => !e.id.startsWith("vscode.")).map((e) => e.id);
        throw new Error(`extension ${EXTENSION_ID} is not loaded (non-builtin extensions: ${ids.join(", ") || "none"})`);
    }
    await extension.activate();
    return extension;
}

/** Below the harness's per-test timeout, so a missing event fails with what was seen instead of a bare timeout. */
const WAIT_TIMEOUT_MS = 20_000;

/**
 * Resolves with the diagnostics of `uri` as soon as they satisfy `accept` (checked now and on every change);
 * rejects after WAIT_TIMEOUT_MS with `what` and the diagnostics seen last.
 */
export function waitForDiagnostics(uri: vscode.Uri, accept: (diagnostics: readonly vscode.Diagnostic[]) => boolean, what: string): Promise<readonly vscode.Diagnostic[]> {
    return new Promise((resolve, reject) => {
        const check = (): void => {
            const current = vscode.languages.getDiagnostics(uri);
            if (!accept(current)) return;
            finish();
            resolve(current);
        };
        const subscription = vscode.languages.onDidChangeDiagnostics((e) => {
            if (e.uris.some((u) => u.toString() === uri.toString())) check();
        });
        const timer = setTimeout(() => {
            finish();
            const seen = vscode.languages.getDiagnostics(uri).map((d) => `  ${d.range.start.line + 1}:${codeOf(d)} ${d.message}`).join("\n");
            reject(new Error(`never saw ${what} on ${uri.fsPath} within ${WAIT_TIMEOUT_MS} ms; diagnostics now:\n${seen || "  (none)"}`));
        }, WAIT_TIMEOUT_MS);
        function finish(): void {
            clearTimeout(timer);
            subscription.dispose();
        }
        check();
    });
}

/** Resolves with the first editor tab that satisfies `accept`, now or when tabs change; rejects after WAIT_TIMEOUT_MS. */
export function waitForTab(accept: (tab: vscode.Tab) => boolean, what: string): Promise<vscode.Tab> {
    const find = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find(accept);
    return new Promise((resolve, reject) => {
        const existing = find();
        if (existing) return resolve(existing);
        const subscription = vscode.window.tabGroups.onDidChangeTabs(() => {
            const tab = find();
            if (!tab) return;
            finish();
            resolve(tab);
        });
        const timer = setTimeout(() => {
            finish();
            const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label).join(", ");
            reject(new Error(`no ${what} within ${WAIT_TIMEOUT_MS} ms; open tabs: ${tabs || "none"}`));
        }, WAIT_TIMEOUT_MS);
        function finish(): void {
            clearTimeout(timer);
            subscription.dispose();
        }
    });
}

/** The diagnostic's code as a string, whether VS Code gives it as a value or as `{ value, target }`. */
export function codeOf(diagnostic: vscode.Diagnostic): string {
    const code = diagnostic.code;
    if (code === undefined) return "";
    return typeof code === "object" ? String(code.value) : String(code);
}
