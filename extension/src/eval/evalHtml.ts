// The evaluation webview's body, inside the shared shell (../webview/shell.ts: strict CSP with a nonce, assets
// only from dist/media and media/). media/<view>/main.ts fills it in.
import * as vscode from "vscode";
import { EVAL_IDS } from "../../../sidecar/src/protocol/evalWebview";
import { webviewShellHtml, webviewResourceRoots } from "../webview/shell";

export const evalResourceRoots = webviewResourceRoots;

export function evalHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
    const ids = EVAL_IDS;
    return webviewShellHtml(webview, extensionUri, "eval", "Evaluation", `<header>
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
</section>`);
}
