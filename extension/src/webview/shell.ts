// The HTML shell every LoRA Studio webview shares: a strict CSP (only our own script, by a fresh nonce, and our
// own stylesheet; nothing remote), assets only from dist/media and media/. Each view supplies its title and body;
// its script is dist/media/<view>.js (bundled from media/<view>/main.ts) and its stylesheet media/<view>/<view>.css.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";

export type WebviewName = "preview" | "progress" | "chat" | "eval";

/** The folders a webview may load from: the bundled scripts and the stylesheets. */
export function webviewResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
    return [vscode.Uri.joinPath(extensionUri, "dist", "media"), vscode.Uri.joinPath(extensionUri, "media")];
}

/** `images: false` (the chat, which shows model output) leaves img-src out of the CSP altogether. */
export function webviewShellHtml(
    webview: vscode.Webview,
    extensionUri: vscode.Uri,
    view: WebviewName,
    title: string,
    body: string,
    options: { images?: boolean } = {}
): string {
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "media", `${view}.js`));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", view, `${view}.css`));
    const csp = [
        "default-src 'none'",
        `style-src ${webview.cspSource}`,
        ...(options.images === false ? [] : [`img-src ${webview.cspSource} data:`]),
        `font-src ${webview.cspSource}`,
        `script-src 'nonce-${nonce}'`
    ].join("; ");
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
${body}
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
