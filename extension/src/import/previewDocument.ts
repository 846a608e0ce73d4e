// The import preview as a read-only JSONL document: its text is the preview's lines, exactly as import/run writes
// them (sidecar/src/import/preview.ts makes them with the writer's own function). Being a virtual document, it can
// be looked at, copied and searched, but not edited or saved by mistake.
import * as vscode from "vscode";

export const IMPORT_PREVIEW_SCHEME = "lora-studio-import-preview";

export class ImportPreviewDocuments implements vscode.TextDocumentContentProvider {
    private readonly texts = new Map<string, string>();
    private readonly changed = new vscode.EventEmitter<vscode.Uri>();
    readonly onDidChange = this.changed.event;

    static register(context: vscode.ExtensionContext): ImportPreviewDocuments {
        const provider = new ImportPreviewDocuments();
        context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(IMPORT_PREVIEW_SCHEME, provider), provider.changed);
        return provider;
    }

    provideTextDocumentContent(uri: vscode.Uri): string {
        return this.texts.get(uri.toString()) ?? "";
    }

    /** Shows `lines` as "<input> (import preview).jsonl", replacing an earlier preview of the same input. */
    async show(input: string, lines: readonly string[]): Promise<vscode.TextEditor> {
        const name = input.split(/[\\/]/).pop() ?? input;
        const uri = vscode.Uri.from({ scheme: IMPORT_PREVIEW_SCHEME, path: `/${name} (import preview).jsonl`, query: encodeURIComponent(input) });
        this.texts.set(uri.toString(), `${lines.join("\n")}\n`);
        this.changed.fire(uri);
        const document = await vscode.workspace.openTextDocument(uri);
        await vscode.languages.setTextDocumentLanguage(document, "jsonl").then(undefined, () => undefined);
        return vscode.window.showTextDocument(document, { preview: true, preserveFocus: true });
    }
}
