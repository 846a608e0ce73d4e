// "LoRA Studio: Start Training" in a real VS Code (code-server + Chromium): the in-host startWizard suite drives
// the wizard with a scripted quick input over a real workspace, the real sidecar (memory estimates) and the real
// "Train with Config" command, with the tiny model picked through Browse….
// Screenshot: test-results/e2e/start-wizard/after-wizard.png (the run the wizard started).
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { describeFailures } from "../host/report";
import { fixturePath } from "../oracle/fixtures";
import { withSession } from "./harness/session";

test("in-host Start Training wizard: cancel at each step writes nothing; the finished wizard writes the config and trains it; untrainable models are marked and refused", async () => {
    const model = fixturePath("tiny-f32.gguf");
    await withSession({ name: "start-wizard", hostSuites: ["startWizard"], env: { LORA_STUDIO_TEST_TINY_MODEL: model } }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        await session.screenshot("after-wizard");
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 3);
        assert.equal(exitCode, 0);
    });
});

test("in-host Start Training wizard in Restricted Mode: refused with an explanation, nothing asked", async () => {
    await withSession({ name: "start-wizard-untrusted", hostSuites: ["startWizardUntrusted"], workspaceTrust: true }, async (session) => {
        const { exitCode, report } = await session.hostTestsResult();
        await session.screenshot("restricted-mode");
        assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
        assert.equal(report.failed, 0, describeFailures(report));
        assert.equal(report.passed, 1);
        assert.equal(exitCode, 0);
    });
});
