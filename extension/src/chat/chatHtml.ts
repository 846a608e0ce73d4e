// The chat webview's HTML shell: strict CSP (only our own script, by nonce, and our own stylesheet; no remote
// content), assets only from dist/media and media/. media/chat/main.ts builds the conversation.
import { randomBytes } from "node:crypto";
import * as vscode from "vscode";
import { CHAT_IDS } from "../../../sidecar/src/protocol/chatWebview";

export function chatResourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
    return [vscode.Uri.joinPath(extensionUri, "dist", "media"), vscode.Uri.joinPath(extensionUri, "media")];
}

export function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
    const nonce = randomBytes(16).toString("base64");
    const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "media", "chat.js"));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "media", "chat", "chat.css"));
    const csp = ["default-src 'none'", `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join("; ");
    const ids = CHAT_IDS;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>LoRA Studio Chat</title>
</head>
<body>
<details class="settings" open>
  <summary>Model and settings</summary>
  <div class="grid">
    <label for="${ids.runs}">Run</label>
    <div class="row"><select id="${ids.runs}" data-testid="runs"></select><button id="refresh-runs" type="button" title="Refresh the run list">↻</button></div>
    <label for="${ids.model}">Base model</label>
    <div class="row"><input id="${ids.model}" data-testid="model" type="text" spellcheck="false" placeholder="path/to/model.gguf"><button id="browse-model" type="button">Browse…</button></div>
    <label for="${ids.adapter}">Adapter</label>
    <div class="row"><input id="${ids.adapter}" data-testid="adapter" type="text" spellcheck="false" placeholder="none (base model only)"><button id="browse-adapter" type="button">Browse…</button></div>
    <label for="${ids.mode}">Answer with</label>
    <select id="${ids.mode}" data-testid="mode">
      <option value="side-by-side">Base and tuned, side by side</option>
      <option value="tuned">Tuned model</option>
      <option value="base">Base model</option>
    </select>
    <label for="${ids.system}">System prompt</label>
    <textarea id="${ids.system}" data-testid="system" rows="2" placeholder="none (as in training data without one)"></textarea>
    <label>Sampling</label>
    <div class="row numbers">
      <label>Temperature <input id="${ids.temperature}" data-testid="temperature" type="number" min="0" max="2" step="0.05"></label>
      <label>Top-p <input id="${ids.topP}" data-testid="top-p" type="number" min="0" max="1" step="0.05"></label>
      <label>Max tokens <input id="${ids.maxTokens}" data-testid="max-tokens" type="number" min="1" max="8192" step="1"></label>
    </div>
  </div>
  <p id="note" class="note" hidden></p>
</details>
<div id="${ids.banner}" data-testid="banner" class="banner" role="alert" hidden><span id="banner-text"></span> <button id="${ids.restart}" data-testid="restart" type="button">Restart</button></div>
<main id="${ids.conversation}" data-testid="conversation" aria-live="polite"></main>
<form id="composer">
  <textarea id="${ids.question}" data-testid="question" rows="3" placeholder="Ask a question (Enter sends, Shift+Enter for a new line)"></textarea>
  <div class="buttons">
    <button id="${ids.send}" data-testid="send" type="submit">Send</button>
    <button id="${ids.stop}" data-testid="stop" type="button" disabled>Stop</button>
    <button id="${ids.regenerate}" data-testid="regenerate" type="button" disabled>Regenerate</button>
    <button id="${ids.clear}" data-testid="clear" type="button">Clear</button>
  </div>
</form>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
