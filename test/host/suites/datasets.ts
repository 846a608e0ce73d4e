// The dataset tooling through VS Code's own APIs: the language server's diagnostics reach the editor,
// the quick fix converts a line and the diagnostics follow, and the preview command opens its webview.
import * as assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import * as vscode from "vscode";
import { PREVIEW_VIEW_TYPE } from "../../../sidecar/src/protocol/previewWebview";
import { suite } from "../harness";
import { activateExtensionUnderTest, codeOf, waitForDiagnostics, waitForTab } from "../vscodeHelpers";
import {
    BROKEN_DATASET_TEXT, CONVERTED_LINE, CONVERTED_MESSAGES, CONVERT_FIX_TITLE, EXPECTED_PROBLEMS, EXPECTED_PROBLEMS_AFTER_FIX
} from "../fixtures/brokenDataset";

const PREVIEW_COMMAND = "loraStudio.previewDataset";

/** "line:code" pairs, sorted, so a mismatch prints as a readable diff. */
function problemsOf(diagnostics: readonly vscode.Diagnostic[]): string[] {
    return diagnostics.map((d) => `${d.range.start.line + 1}:${codeOf(d)}`).sort();
}

function expected(list: readonly { line: number; code: string }[]): string[] {
    return list.map((p) => `${p.line}:${p.code}`).sort();
}

/** Exactly these problems, nothing more: an intermediate state (e.g. cleared diagnostics) does not count. */
function exactly(wanted: readonly { line: number; code: string }[]) {
    const want = JSON.stringify(expected(wanted));
    return (diagnostics: readonly vscode.Diagnostic[]) => JSON.stringify(problemsOf(diagnostics)) === want;
}

/** A fresh copy of the fixture inside the workspace (code-server E2E) or a temp dir (no folder open). */
function writeFixture(): vscode.Uri {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? mkdtempSync(join(tmpdir(), "lora-studio-host-"));
    const path = join(folder, `host-datasets-${process.pid}.jsonl`);
    writeFileSync(path, BROKEN_DATASET_TEXT);
    return vscode.Uri.file(path);
}

suite("datasets", (test) => {
    let uri: vscode.Uri;
    let document: vscode.TextDocument;

    test("the language server reports each problem on its line", async () => {
        await activateExtensionUnderTest();
        uri = writeFixture();
        document = await vscode.workspace.openTextDocument(uri);
        await vscode.window.showTextDocument(document);
        assert.equal(document.languageId, "jsonl");
        const diagnostics = await waitForDiagnostics(uri, exactly(EXPECTED_PROBLEMS), `exactly the problems ${expected(EXPECTED_PROBLEMS).join(", ")}`);
        assert.ok(diagnostics.every((d) => d.source === "lora-studio"), "every diagnostic comes from lora-studio");
    });

    test("the quick fix converts the instruction line to chat and the warning goes away", async () => {
        const line = CONVERTED_LINE - 1;
        const range = new vscode.Range(line, 0, line, document.lineAt(line).text.length);
        const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>("vscode.executeCodeActionProvider", uri, range);
        const fix = actions.find((a): a is vscode.CodeAction => a.title === CONVERT_FIX_TITLE && "kind" in a && a.kind !== undefined && vscode.CodeActionKind.QuickFix.contains(a.kind));
        assert.ok(fix?.edit, `no quick fix "${CONVERT_FIX_TITLE}" with an edit; got: ${actions.map((a) => a.title).join(" | ")}`);
        assert.equal(await vscode.workspace.applyEdit(fix.edit), true, "workspace.applyEdit refused the fix");

        await waitForDiagnostics(uri, exactly(EXPECTED_PROBLEMS_AFTER_FIX), `exactly ${expected(EXPECTED_PROBLEMS_AFTER_FIX).join(", ")} after the fix`);
        assert.deepEqual((JSON.parse(document.lineAt(line).text) as { messages: unknown }).messages, CONVERTED_MESSAGES);
        assert.equal(await document.save(), true);
    });

    test("the preview command opens a webview", async () => {
        await vscode.window.showTextDocument(document);
        const tab = waitForTab((t) => t.input instanceof vscode.TabInputWebview && (t.input as vscode.TabInputWebview).viewType.includes(PREVIEW_VIEW_TYPE), "dataset preview webview tab");
        await vscode.commands.executeCommand(PREVIEW_COMMAND);
        const opened = await tab;
        assert.ok(opened.input instanceof vscode.TabInputWebview);
        await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    });

    test("a run config (*.lora.json) gets live diagnostics: a missing data file and an unknown field", async () => {
        const config = vscode.Uri.file(join(dirname(uri.fsPath), `host-run-${process.pid}.lora.json`));
        const dataset = basename(uri.fsPath); // relative to the config's folder
        writeFileSync(config.fsPath, JSON.stringify({ model: dataset, data: "missing.jsonl", epoch: 2 }, null, 4));
        const configDocument = await vscode.workspace.openTextDocument(config);
        await vscode.window.showTextDocument(configDocument);
        // The dataset exists but is no GGUF (RC202), data is missing (RC201), "epoch" is a typo (RC101).
        const want = ["2:RC202", "3:RC201", "4:RC101"];
        // VS Code's own JSON support also checks the schema (package.json jsonValidation); count only ours.
        const ours = (d: readonly vscode.Diagnostic[]) => d.filter((x) => x.source === "lora-studio");
        await waitForDiagnostics(config, (d) => JSON.stringify(problemsOf(ours(d))) === JSON.stringify(want), `exactly ${want.join(", ")} from lora-studio`);
        await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    });
});
