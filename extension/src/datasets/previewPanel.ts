// One webview panel per dataset file. It asks the language server for the summary and for pages of rows (the
// webview's virtualized table requests them as they scroll into view), refreshes on save, and reveals a clicked
// line in the editor. Panels come back after a window reload through the serializer registered in commands.ts.
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import { DatasetLinePreviewRequest, DatasetRowsRequest, DatasetSummaryRequest } from "../../../sidecar/src/protocol/languageServer";
import { LinePreview, PREVIEW_VIEW_TYPE, Ready, Refresh, RequestLinePreview, RequestRows, RevealLine, Rows, ShowError, Summary, type PreviewState } from "../../../sidecar/src/protocol/previewWebview";
import { previewHtml, previewResourceRoots } from "./previewHtml";

export class DatasetPreviewPanel implements vscode.Disposable {
    private static readonly open = new Map<string, DatasetPreviewPanel>();
    private readonly disposables: vscode.Disposable[] = [];

    /** Shows the preview of `uri`, reusing its panel when there is one. */
    static show(extensionUri: vscode.Uri, client: LanguageClient, uri: vscode.Uri): DatasetPreviewPanel {
        const existing = DatasetPreviewPanel.open.get(uri.toString());
        if (existing) {
            existing.panel.reveal(vscode.ViewColumn.Beside, true);
            void existing.sendSummary();
            return existing;
        }
        const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, titleOf(uri), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
            enableScripts: true,
            retainContextWhenHidden: false,
            localResourceRoots: previewResourceRoots(extensionUri)
        });
        return new DatasetPreviewPanel(panel, extensionUri, client, uri);
    }

    /** Rebuilds a panel VS Code restored after a reload, from the state its webview saved with setState. */
    static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, client: LanguageClient, state: PreviewState | undefined): void {
        if (!state?.uri) {
            panel.dispose(); // nothing to show: the webview never told us its file
            return;
        }
        panel.webview.options = { enableScripts: true, localResourceRoots: previewResourceRoots(extensionUri) };
        new DatasetPreviewPanel(panel, extensionUri, client, vscode.Uri.parse(state.uri));
    }

    private constructor(private readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly client: LanguageClient, private readonly uri: vscode.Uri) {
        DatasetPreviewPanel.open.set(uri.toString(), this);
        panel.title = titleOf(uri);
        panel.webview.html = previewHtml(panel.webview, extensionUri, titleOf(uri));
        this.disposables.push(
            panel.onDidDispose(() => this.dispose()),
            panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)),
            vscode.workspace.onDidSaveTextDocument((doc) => {
                if (doc.uri.toString() === uri.toString()) void this.sendSummary();
            })
        );
    }

    private async onMessage(message: unknown): Promise<void> {
        if (Ready.is(message) || Refresh.is(message)) await this.sendSummary();
        else if (RequestRows.is(message)) await this.sendRows(message.payload.offset, message.payload.limit);
        else if (RevealLine.is(message)) await this.reveal(message.payload.line);
        else if (RequestLinePreview.is(message)) await this.sendLinePreview(message.payload.line);
    }

    private async sendLinePreview(line: number): Promise<void> {
        try {
            await this.client.start();
            const preview = await this.client.sendRequest(DatasetLinePreviewRequest.type, { uri: this.uri.toString(), line });
            await this.panel.webview.postMessage(LinePreview.create(preview));
        } catch (error) {
            await this.panel.webview.postMessage(ShowError.create({ message: `Could not render line ${line + 1}: ${error instanceof Error ? error.message : String(error)}` }));
        }
    }

    private async sendSummary(): Promise<void> {
        try {
            await this.client.start(); // resolves at once when running; waits while it starts
            const summary = await this.client.sendRequest(DatasetSummaryRequest.type, { uri: this.uri.toString() });
            await this.panel.webview.postMessage(Summary.create({ fileName: titleOf(this.uri), summary }));
        } catch (error) {
            await this.panel.webview.postMessage(ShowError.create({ message: `Could not read ${this.uri.fsPath}: ${error instanceof Error ? error.message : String(error)}` }));
        }
    }

    private async sendRows(offset: number, limit: number): Promise<void> {
        try {
            const rows = await this.client.sendRequest(DatasetRowsRequest.type, { uri: this.uri.toString(), offset, limit });
            await this.panel.webview.postMessage(Rows.create(rows));
        } catch (error) {
            await this.panel.webview.postMessage(ShowError.create({ message: `Could not read rows ${offset + 1}–${offset + limit}: ${error instanceof Error ? error.message : String(error)}` }));
        }
    }

    /** Opens the file (in the editor column that already shows it, if any) with the cursor on `line`. */
    private async reveal(line: number): Promise<void> {
        const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === this.uri.toString());
        const position = new vscode.Position(line, 0);
        const editor = await vscode.window.showTextDocument(this.uri, {
            viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
            selection: new vscode.Range(position, position),
            preserveFocus: false
        });
        editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }

    dispose(): void {
        DatasetPreviewPanel.open.delete(this.uri.toString());
        for (const d of this.disposables.splice(0)) d.dispose();
        this.panel.dispose();
    }
}

function titleOf(uri: vscode.Uri): string {
    return `Preview ${uri.path.slice(uri.path.lastIndexOf("/") + 1)}`;
}
