// "LoRA Studio: Export" in a real VS Code (code-server + Chromium): the in-host export suite exports the facts
// adapter's run through the real sidecar. Screenshot: test-results/e2e/export/after-export.png (the "Exported …
// Reveal" notification).
import * as assert from "node:assert/strict";
import { dirname } from "node:path";
import { test } from "node:test";
import { describeFailures } from "../host/report";
import { factsAdapter } from "../oracle/trainedAdapter";
import { withSession } from "./harness/session";

test("in-host Export: a run exports to Ollama, merged GGUF and BF16 PEFT, and as an Axolotl job (the repository asked for); an existing export is replaced only when confirmed; a mismatched base is refused", async () => {
    const { adapter } = await factsAdapter();
    await withSession({ name: "export", hostSuites: ["export"], env: { LORA_STUDIO_TEST_FACTS_RUN: dirname(adapter) } }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        await session.screenshot("after-export");
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 4);
        assert.equal(exitCode, 0);
    });
});
