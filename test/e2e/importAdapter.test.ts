// "LoRA Studio: Import Adapter" in a real VS Code (code-server + Chromium): the in-host importAdapter suite imports a
// PEFT export of the facts adapter through the real sidecar. Screenshot: test-results/e2e/importAdapter/after-import.png.
import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runExport } from "../../sidecar/src/export";
import { describeFailures } from "../host/report";
import { archFixturePath } from "../oracle/fixtures";
import { factsAdapter } from "../oracle/trainedAdapter";
import { withSession } from "./harness/session";

test("in-host Import Adapter: a PEFT folder becomes a GGUF LoRA beside it; replacing asks first; another family's base is refused", async () => {
    const { adapter, model } = await factsAdapter();
    const dir = mkdtempSync(join(tmpdir(), "e2e-import-adapter-"));
    try {
        const peft = join(dir, "peft");
        await runExport({ format: "peft", model, adapter, out: peft });
        const env = { LORA_STUDIO_TEST_PEFT: peft, LORA_STUDIO_TEST_BASE: model, LORA_STUDIO_TEST_OTHER_BASE: archFixturePath("phi3", "f32") };
        await withSession({ name: "importAdapter", hostSuites: ["importAdapter"], env }, async (session) => {
            const { exitCode, report } = await session.hostTestsResult();
            await session.screenshot("after-import");
            assert.ok(report, `the in-host run wrote no report (exit code ${exitCode}).\ncode-server output:\n${session.serverOutput}`);
            assert.equal(report.failed, 0, describeFailures(report));
            assert.equal(report.passed, 1);
            assert.equal(exitCode, 0);
        });
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
});
