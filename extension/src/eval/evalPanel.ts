// The evaluation report panel: one webview that shows the newest report (reused for the next one), opens a
// clicked example's dataset at its line, and comes back after a window reload from the report its webview kept
// with setState (the serializer is registered in commands.ts).
import * as vscode from "vscode";
import {
    EVAL_VIEW_TYPE, EvalReady, OpenReportFile, RevealExample, ShowReport, type EvalReport, type EvalViewState
} from "../../../sidecar/src/protocol/evalWebview";
import { evalHtml, evalResourceRoots } from "./evalHtml";

export class EvalReportPanel implements vscode.Disposable {
    private static current: EvalReportPanel | undefined;
    private readonly disposables: vscode.Disposable[] = [];

    /** Shows `report`, in the open panel if there is one. */
    static show(extensionUri: vscode.Uri, report: EvalReport): EvalReportPanel {
        const existing = EvalReportPanel.current;
        if (existing) {
            existing.report = report;
            existing.panel.title = titleOf(report);
            existing.panel.reveal(vscode.ViewColumn.Active);
            void existing.panel.webview.postMessage(ShowReport.create({ report }));
            return existing;
        }
        const panel = vscode.window.createWebviewPanel(EVAL_VIEW_TYPE, titleOf(report), vscode.ViewColumn.Active, {
            enableScripts: true,
            retainContextWhenHidden: false,
            localResourceRoots: evalResourceRoots(extensionUri)
        });
        return new EvalReportPanel(panel, extensionUri, report);
    }

    /** Rebuilds a panel VS Code restored after a reload; its webview shows the report from its own state. */
    static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, state: EvalViewState | undefined): void {
        if (!state?.report) {
            panel.dispose(); // it never received a report: nothing to show
            return;
        }
        panel.webview.options = { enableScripts: true, localResourceRoots: evalResourceRoots(extensionUri) };
        EvalReportPanel.current?.dispose();
        new EvalReportPanel(panel, extensionUri, undefined);
    }

    private constructor(private readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private report: EvalReport | undefined) {
        EvalReportPanel.current = this;
        if (report) panel.title = titleOf(report);
        panel.webview.html = evalHtml(panel.webview, extensionUri);
        this.disposables.push(
            panel.onDidDispose(() => this.dispose()),
            panel.webview.onDidReceiveMessage((message: unknown) => this.onMessage(message))
        );
    }

    private async onMessage(message: unknown): Promise<void> {
        if (EvalReady.is(message)) {
            if (this.report) await this.panel.webview.postMessage(ShowReport.create({ report: this.report }));
        } else if (RevealExample.is(message)) {
            await revealLine(vscode.Uri.file(message.payload.file), message.payload.line);
        } else if (OpenReportFile.is(message)) {
            await vscode.window.showTextDocument(vscode.Uri.file(message.payload.path), { viewColumn: vscode.ViewColumn.Beside });
        }
    }

    dispose(): void {
        if (EvalReportPanel.current === this) EvalReportPanel.current = undefined;
        for (const d of this.disposables.splice(0)) d.dispose();
        this.panel.dispose();
    }
}

/** Opens the dataset beside the report with the cursor on the 1-based `line`. */
async function revealLine(uri: vscode.Uri, line: number): Promise<void> {
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const position = new vscode.Position(Math.max(0, line - 1), 0);
    try {
        const editor = await vscode.window.showTextDocument(uri, {
            viewColumn: visible?.viewColumn ?? vscode.ViewColumn.Beside,
            selection: new vscode.Range(position, position),
            preserveFocus: false
        });
        editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch (error) {
        void vscode.window.showErrorMessage(`Cannot open ${uri.fsPath} at line ${line}: ${error instanceof Error ? error.message : String(error)}`);
    }
}

function titleOf(report: EvalReport): string {
    return report.runId ? `Evaluation ${report.runId}` : "Evaluation";
}
