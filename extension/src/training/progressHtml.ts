// The progress webview's body, inside the shared shell (../webview/shell.ts: strict CSP with a nonce, assets
// only from dist/media and media/). media/<view>/main.ts fills it in.
import * as vscode from "vscode";
import { PROGRESS_IDS } from "../../../sidecar/src/protocol/progressWebview";
import { escapeHtml, webviewShellHtml, webviewResourceRoots } from "../webview/shell";

export const progressResourceRoots = webviewResourceRoots;

export function progressHtml(webview: vscode.Webview, extensionUri: vscode.Uri, runId: string): string {
    const ids = PROGRESS_IDS;
    const figure = (label: string, title: string, id: string): string =>
        `<figure><figcaption>${label}</figcaption><div id="${id}" data-testid="${id}" class="chart" role="img" aria-label="${title}" data-points="0"></div></figure>`;
    return webviewShellHtml(webview, extensionUri, "progress", `Training ${runId}`, `<main id="${ids.root}" data-run-id="${escapeHtml(runId)}" data-state="loading">
<header>
  <div>
    <h1>Training <span class="run-id">${escapeHtml(runId)}</span></h1>
    <div id="description" class="description"></div>
  </div>
  <div class="actions">
    <span id="${ids.state}" data-testid="state" class="state">loading…</span>
    <button id="${ids.cancel}" data-testid="cancel" type="button" hidden>Cancel</button>
    <button id="${ids.resume}" data-testid="resume" type="button" hidden>Resume</button>
  </div>
</header>
<div id="${ids.error}" data-testid="error" role="alert" hidden></div>
<div id="${ids.dataNote}" data-testid="${ids.dataNote}" class="data-note" hidden></div>
<section class="figures" aria-label="Run figures">
  <div><span class="label">Step</span><span id="${ids.step}" class="value">–</span></div>
  <div><span class="label">Epoch</span><span id="${ids.epoch}" class="value">–</span></div>
  <div><span class="label">Loss</span><span id="${ids.loss}" class="value">–</span></div>
  <div><span class="label">ETA</span><span id="${ids.eta}" class="value">–</span></div>
  <div><span class="label">Memory</span><span id="${ids.memory}" class="value">–</span></div>
</section>
<section class="charts">
  ${figure("Loss <span class=\"legend train\">train</span> <span class=\"legend val\">validation</span>", "Training and validation loss by step", ids.lossChart)}
  ${figure("Learning rate", "Learning rate by step", ids.lrChart)}
  ${figure("Tokens per second", "Training speed by step", ids.speedChart)}
</section>
</main>`);
}
