// The preview webview's body, inside the shared shell (../webview/shell.ts: strict CSP with a nonce, assets
// only from dist/media and media/). media/<view>/main.ts fills it in.
import * as vscode from "vscode";
import { PREVIEW_IDS } from "../../../sidecar/src/protocol/previewWebview";
import { escapeHtml, webviewShellHtml, webviewResourceRoots } from "../webview/shell";

export const previewResourceRoots = webviewResourceRoots;

export function previewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
    const ids = PREVIEW_IDS;
    return webviewShellHtml(webview, extensionUri, "preview", title, `<header>
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
</section>`);
}
