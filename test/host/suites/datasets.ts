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
import { runConfigEditorSchemaUri } from "../../../extension/src/training/runConfigSchemaUri";
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

    test("a run config (*.lora.json) gets live diagnostics once: a missing data file and an unknown field, from lora-studio only", async () => {
        const extension = await activateExtensionUnderTest();
        const config = vscode.Uri.file(join(dirname(uri.fsPath), `host-run-${process.pid}.lora.json`));
        const dataset = basename(uri.fsPath); // relative to the config's folder
        // "$schema" as the Start Training wizard writes it (VS Code's JSON support follows it). "seed" twice: JSON.parse
        // takes the last, and VS Code's JSON support warns "Duplicate object key" in the same pass as its schema check.
        writeFileSync(config.fsPath, [
            "{",
            `    "$schema": ${JSON.stringify(runConfigEditorSchemaUri(extension.extensionUri))},`,
            `    "model": ${JSON.stringify(dataset)},`,
            `    "data": "missing.jsonl",`,
            `    "epoch": 2,`,
            `    "seed": 1,`,
            `    "seed": 2`,
            "}",
            ""
        ].join("\n"));
        const configDocument = await vscode.workspace.openTextDocument(config);
        await vscode.window.showTextDocument(configDocument);
        // The dataset exists but is no GGUF (RC202), data is missing (RC201), "epoch" is a typo (RC101).
        const want = ["3:RC202", "4:RC201", "5:RC101"];
        const ours = (d: readonly vscode.Diagnostic[]) => d.filter((x) => x.source === "lora-studio");
        await waitForDiagnostics(config, (d) => JSON.stringify(problemsOf(ours(d))) === JSON.stringify(want), `exactly ${want.join(", ")} from lora-studio`);

        // Once VS Code's JSON support has checked the file (its duplicate-key warnings are there), it added no schema
        // errors of its own: each problem shows once, with our code, range and hint.
        const isDuplicateKey = (x: vscode.Diagnostic) => x.source !== "lora-studio" && /duplicate/i.test(x.message);
        const checked = await waitForDiagnostics(config, (d) => d.some(isDuplicateKey), "VS Code's JSON support's duplicate-key warning");
        const others = checked.filter((x) => x.source !== "lora-studio" && !isDuplicateKey(x));
        assert.deepEqual(others.map((x) => `${x.range.start.line + 1} ${x.source}: ${x.message}`), [], "no second copy of the schema errors");
        await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    });
});
