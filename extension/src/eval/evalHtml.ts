// The evaluation webview's HTML shell: strict CSP (our own script by nonce, our own stylesheet, nothing remote),
// assets only from dist/media and media/. The body is filled in by media/eval/main.ts.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { EVAL_IDS } from "../../../sidecar/src/protocol/evalWebview";

export function evalResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
    return [vscode.Uri.joinPath(extensionUri, "dist", "media"), vscode.Uri.joinPath(extensionUri, "media")];
}

export function evalHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "media", "eval.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "eval", "eval.css"));
    const csp = [
        "default-src 'none'",
        `style-src ${webview.cspSource}`,
        `img-src ${webview.cspSource} data:`,
        `font-src ${webview.cspSource}`,
        `script-src 'nonce-${nonce}'`
    ].join("; ");
    const ids = EVAL_IDS;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>Evaluation</title>
</head>
<body>
<header>
  <h1 id="${ids.title}" data-testid="${ids.title}">Evaluation</h1>
  <a id="${ids.reportLink}" data-testid="${ids.reportLink}" href="#" hidden></a>
</header>
<div id="${ids.error}" data-testid="${ids.error}" role="alert" hidden></div>
<section id="${ids.summary}" data-testid="${ids.summary}" aria-label="Summary">Waiting for the report…</section>
<section>
  <h2>Examples</h2>
  <div id="${ids.table}" data-testid="${ids.table}" aria-label="Answers per example"></div>
</section>
<section hidden>
  <h2>Skipped lines</h2>
  <ul id="${ids.skipped}" data-testid="${ids.skipped}"></ul>
</section>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
