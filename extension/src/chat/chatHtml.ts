// The chat webview's body, inside the shared shell (../webview/shell.ts: strict CSP with a nonce, assets
// only from dist/media and media/). media/<view>/main.ts fills it in.
import * as vscode from "vscode";
import { CHAT_IDS } from "../../../sidecar/src/protocol/chatWebview";
import { webviewShellHtml, webviewResourceRoots } from "../webview/shell";

export const chatResourceRoots = webviewResourceRoots;

export function chatHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
    const ids = CHAT_IDS;
    return webviewShellHtml(webview, extensionUri, "chat", "LoRA Studio Chat", `<details class="settings" open>
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
</form>`, { images: false });
}
