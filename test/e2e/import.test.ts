// "LoRA Studio: Import Dataset" in a real VS Code (code-server + Chromium): the in-host import suite drives the command
// through the real sidecar and language server. Screenshot: test-results/e2e/import/after-import.png (the imported
// chat JSONL, its "Imported … rows" notification).
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { describeFailures } from "../host/report";
import { withSession } from "./harness/session";

test("in-host Import Dataset: preview as written, import with a split, diagnostics on the result, existing outputs, a malformed row", async () => {
    await withSession({ name: "import", hostSuites: ["import"] }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        await session.screenshot("after-import");
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 3);
        assert.equal(exitCode, 0);
    });
});
