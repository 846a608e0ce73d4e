// The preview webview's HTML shell: strict CSP (nothing but our own script, by nonce, and our own stylesheet),
// assets only from dist/media and media/. The body is filled in by media/preview/main.ts.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { PREVIEW_IDS } from "../../../sidecar/src/protocol/previewWebview";

export function previewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
    return [vscode.Uri.joinPath(extensionUri, "dist", "media"), vscode.Uri.joinPath(extensionUri, "media")];
}

export function previewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "media", "preview.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "preview", "preview.css"));
    const csp = [
        "default-src 'none'",
        `style-src ${webview.cspSource}`,
        `img-src ${webview.cspSource} data:`,
        `font-src ${webview.cspSource}`,
        `script-src 'nonce-${nonce}'`
    ].join("; ");
    const ids = PREVIEW_IDS;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${escapeHtml(title)}</title>
</head>
<body>
<header>
  <h1 id="title" data-testid="title">${escapeHtml(title)}</h1>
  <button id="refresh" data-testid="refresh" type="button">Refresh</button>
</header>
<div id="${ids.error}" data-testid="error" role="alert" hidden></div>
<section id="${ids.counts}" data-testid="counts" aria-label="Line counts"></section>
<section class="charts">
  <figure><figcaption>Formats</figcaption><div id="${ids.formats}" data-testid="formats"></div></figure>
  <figure><figcaption>Roles</figcaption><div id="${ids.roles}" data-testid="roles"></div></figure>
  <figure><figcaption>Length in characters</figcaption><div id="${ids.histogramChars}" data-testid="histogram-chars"></div></figure>
  <figure><figcaption>Length in tokens</figcaption><div id="${ids.histogramTokens}" data-testid="histogram-tokens"></div></figure>
</section>
<section class="rows">
  <h2>Lines</h2>
  <div id="${ids.table}" data-testid="table" role="grid" aria-label="Dataset lines" tabindex="0"></div>
</section>
<section class="mask">
  <h2>Label mask <span class="legend"><span class="tok trained">trained</span> <span class="tok masked">masked</span> <span class="tok cut">cut</span></span></h2>
  <div id="${ids.maskCount}" data-testid="mask-count"></div>
  <div id="${ids.mask}" data-testid="mask" data-status="none">Select a line to see which of its tokens are trained.</div>
</section>
<section>
  <h2>Duplicates</h2>
  <ol id="${ids.duplicates}" data-testid="duplicates"></ol>
</section>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
