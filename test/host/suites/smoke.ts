// The extension under test loads and activates in a real extension host, and every command its manifest
// contributes is registered once it is active.
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { suite } from "../harness";
import { activateExtensionUnderTest } from "../vscodeHelpers";

suite("smoke", (test) => {
    test("the extension activates", async () => {
        const extension = await activateExtensionUnderTest();
        assert.equal(extension.isActive, true);
    });

    test("every contributed command is registered", async () => {
        const extension = await activateExtensionUnderTest();
        const contributed = ((extension.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []).map((c) => c.command);
        const registered = new Set(await vscode.commands.getCommands(true));
        const missing = contributed.filter((id) => !registered.has(id));
        assert.deepEqual(missing, [], `contributed in package.json but not registered after activation: ${missing.join(", ")}`);
    });
});
