// "LoRA Studio: Import Adapter" in a real extension host: a PEFT folder in the workspace (our export of the facts
// adapter, made by test/e2e/importAdapter.test.ts) is imported through the real sidecar to `<folder>.gguf` beside it;
// importing again asks before replacing; a base of another family is refused and nothing is written.
//
// LORA_STUDIO_TEST_PEFT, LORA_STUDIO_TEST_BASE and LORA_STUDIO_TEST_OTHER_BASE are set by test/e2e/importAdapter.test.ts.
import * as assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { suite } from "../harness";
import { activateExtensionUnderTest } from "../vscodeHelpers";
import type { ImportAdapterCommandArgs } from "../../../extension/src/importAdapter/commands";
import type { AdapterImportResult } from "../../../sidecar/src/protocol/sidecar";

const COMMAND = "loraStudio.importAdapter";

suite("importAdapter", (test) => {
    test("a PEFT folder in the workspace becomes <folder>.gguf; again asks first; another family's base is refused", async () => {
        await activateExtensionUnderTest();
        const [source, model, other] = [process.env.LORA_STUDIO_TEST_PEFT, process.env.LORA_STUDIO_TEST_BASE, process.env.LORA_STUDIO_TEST_OTHER_BASE];
        assert.ok(source && model && other, "set by test/e2e/importAdapter.test.ts");
        const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        assert.ok(root, "the in-host tests run with a workspace folder open");
        const peft = join(root, `facts-peft-${process.pid}`);
        cpSync(source, peft, { recursive: true });

        const result = (await vscode.commands.executeCommand(COMMAND, { peft, model, quiet: true } satisfies ImportAdapterCommandArgs)) as AdapterImportResult | undefined;
        assert.ok(result, "the import returned a result");
        assert.equal(result.path, `${peft}.gguf`);
        assert.deepEqual([result.arch, result.pairs], ["llama", 28]);
        assert.equal(readFileSync(result.path).subarray(0, 4).toString("latin1"), "GGUF");

        writeFileSync(result.path, "a file the user keeps");
        const declined = await vscode.commands.executeCommand(COMMAND, { peft, model, quiet: true, replaceExisting: false } satisfies ImportAdapterCommandArgs);
        assert.equal(declined, undefined, "declined: no result");
        assert.equal(readFileSync(result.path, "utf8"), "a file the user keeps", "declined: the old file stays");
        const replaced = (await vscode.commands.executeCommand(COMMAND, { peft, model, quiet: true, replaceExisting: true } satisfies ImportAdapterCommandArgs)) as AdapterImportResult | undefined;
        assert.ok(replaced, "confirmed: imported again");
        assert.equal(readFileSync(replaced.path).subarray(0, 4).toString("latin1"), "GGUF", "confirmed: replaced");

        const out = join(root, `refused-${process.pid}.gguf`);
        const refused = await vscode.commands.executeCommand(COMMAND, { peft, model: other, out, quiet: true } satisfies ImportAdapterCommandArgs);
        assert.equal(refused, undefined, "the command reports the error instead of a result");
        assert.equal(existsSync(out), false, "nothing was written");
    }, { timeoutMs: 120_000 });
}, { onlyWhenSelected: true });
