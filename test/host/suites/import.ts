// "LoRA Studio: Import Dataset" in a real extension host, through the real sidecar: a SciQ CSV (with a duplicated row)
// is previewed in a read-only JSONL document holding exactly the lines later written, imported with a seeded held-out
// split, and the result opens with the language server's diagnostics (the duplicate's LS205); an existing output is
// kept when the user says no; a malformed row fails naming file, row and column, and writes nothing.
import * as assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { suite } from "../harness";
import { activateExtensionUnderTest, codeOf, waitForDiagnostics } from "../vscodeHelpers";
import type { ImportCommandArgs, ImportCommandResult } from "../../../extension/src/import/commands";
import { IMPORT_PREVIEW_SCHEME } from "../../../extension/src/import/previewDocument";

const COMMAND = "loraStudio.importDataset";
const HEADER = "question,correct_answer,support,distractor1";
const ROWS = [
    "What is H2O?,water,\"H2O is water, a molecule.\",salt",
    "Largest planet?,Jupiter,Gas giant,Mars",
    "Largest planet?,Jupiter,Gas giant,Mars",
    "Boiling point of water?,100 C,At sea level,0 C"
];

function workspaceRoot(): string {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(root, "the in-host tests run with a workspace folder open");
    return root;
}

suite("import", (test) => {
    test("a SciQ CSV: preview as written, import with a held-out split, the result opens with the language server's diagnostics", async () => {
        await activateExtensionUnderTest();
        const root = workspaceRoot();
        const input = join(root, "sciq.csv");
        writeFileSync(input, `${HEADER}\n${ROWS.join("\n")}\n`);
        const args: ImportCommandArgs = { file: input, accept: true, mapping: { system: "Answer briefly." } };
        const result = (await vscode.commands.executeCommand(COMMAND, args)) as ImportCommandResult | undefined;
        assert.ok(result, "the import returned a result");
        assert.equal(result.out, join(root, "sciq.jsonl"));
        assert.equal(result.rows, 4);
        const written = readFileSync(result.out, "utf8").trimEnd().split("\n");
        assert.deepEqual(written, result.previewLines, "the preview showed the lines written");
        assert.deepEqual(JSON.parse(written[0]!).messages, [
            { role: "system", content: "Answer briefly." },
            { role: "user", content: "Question: What is H2O?\nContext: H2O is water, a molecule." },
            { role: "assistant", content: "water" }
        ]);
        const preview = vscode.workspace.textDocuments.find((d) => d.uri.scheme === IMPORT_PREVIEW_SCHEME);
        assert.ok(preview, "the preview document was opened");
        assert.equal(preview.getText(), `${result.previewLines.join("\n")}\n`);
        assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, result.out, "the result is open");
        // The duplicated row is the language server's warning on the written file: its diagnostics reach the result.
        const diagnostics = await waitForDiagnostics(vscode.Uri.file(result.out), (list) => list.some((d) => codeOf(d) === "LS205"), "LS205 on the duplicated row");
        assert.deepEqual(diagnostics.map((d) => `${d.range.start.line + 1}:${codeOf(d)}`), ["3:LS205"]);

        const split = (await vscode.commands.executeCommand(COMMAND, { file: input, accept: true, out: join(root, "split.jsonl"), split: 0.5, seed: 3 } satisfies ImportCommandArgs)) as ImportCommandResult | undefined;
        assert.ok(split?.heldOutPath, "a held-out file was written");
        assert.equal(split.heldOutPath, join(root, "split.heldout.jsonl"));
        assert.equal(readFileSync(split.heldOutPath, "utf8").trimEnd().split("\n").length, split.heldOut);
        assert.equal(split.written + split.heldOut, 4);
    }, { timeoutMs: 120_000 });

    test("an existing output is kept when the user says no, replaced when yes", async () => {
        await activateExtensionUnderTest();
        const root = workspaceRoot();
        const input = join(root, "sciq.csv");
        const out = join(root, "existing.jsonl");
        writeFileSync(out, "{\"keep\":true}\n");
        const no = await vscode.commands.executeCommand(COMMAND, { file: input, accept: true, out, replaceExisting: false } satisfies ImportCommandArgs);
        assert.equal(no, undefined);
        assert.equal(readFileSync(out, "utf8"), "{\"keep\":true}\n");
        const yes = (await vscode.commands.executeCommand(COMMAND, { file: input, accept: true, out, replaceExisting: true } satisfies ImportCommandArgs)) as ImportCommandResult | undefined;
        assert.equal(yes?.written, 4);
        assert.equal(readFileSync(out, "utf8").trimEnd().split("\n").length, 4);
    }, { timeoutMs: 60_000 });

    test("a malformed row fails naming file, row and column, and nothing is written", async () => {
        await activateExtensionUnderTest();
        const root = workspaceRoot();
        const input = join(root, "broken.csv");
        writeFileSync(input, `${HEADER}\n${ROWS[0]}\n${ROWS[1]},extra\n`);
        await assert.rejects(
            Promise.resolve(vscode.commands.executeCommand(COMMAND, { file: input, accept: true } satisfies ImportCommandArgs)),
            // executeCommand hands the sidecar's ImportRowInvalid back as a plain Error with its message.
            (error: Error) => /^broken\.csv: row 2 \(line 3\), column "field 5 \(beyond the header\)": expected 4 field/.test(error.message)
        );
        assert.equal(existsSync(join(root, "broken.jsonl")), false);
        assert.deepEqual(readdirSync(root).filter((name) => name.includes(".importing")), []);
    }, { timeoutMs: 60_000 });
});
