// "LoRA Studio: Evaluate" in a real VS Code (code-server + Chromium), as a user meets it: a workspace with a
// finished training run (the facts adapter) and a held-out file; the command picks the run and the file, the
// sidecar scores base and tuned, and the report webview shows the before/after summary and one row per example.
// Clicking a row opens the dataset at that line; the report comes back after a window reload.
// Screenshots: test-results/e2e/eval/*.png.
import * as assert from "node:assert/strict";
import { test } from "node:test";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { EVAL_IDS } from "../../sidecar/src/protocol/evalWebview";
import { factsAdapter } from "../oracle/trainedAdapter";
import { withSession } from "./harness/session";
import { activeEditorTab, pickQuickItem, runCommand, UI_TIMEOUT_MS, webviewContaining } from "./harness/workbench";

const RUN_ID = "facts-run";
const RUN_DIR = `.lora-studio/runs/${RUN_ID}`;
const HELD_OUT = "held-out.jsonl";
const EXAMPLES = 4;
/** Loading the tiny model and answering every example twice on 2 busy cores. */
const EVAL_TIMEOUT_MS = 180_000;

test("Evaluate: pick a run and held-out data, see base vs tuned, open a row's line, survive a reload", { timeout: 15 * 60_000 }, async () => {
    const { model, adapter, data } = await factsAdapter();
    const runFiles = dirname(adapter);
    const status = { ...JSON.parse(readFileSync(join(runFiles, "status.json"), "utf8")), runId: RUN_ID };
    const heldOut = readFileSync(data, "utf8").split("\n").filter((l) => l.trim() !== "").slice(0, EXAMPLES);
    const workspaceFiles = {
        [`${RUN_DIR}/config.json`]: JSON.stringify({ ...JSON.parse(readFileSync(join(runFiles, "config.json"), "utf8")), model }, null, 2),
        [`${RUN_DIR}/status.json`]: JSON.stringify(status, null, 2),
        [HELD_OUT]: `${heldOut.join("\n")}\n`
    };
    // One thread and eight tokens: the tiny model's fastest setting, and enough for any one-word fact.
    const settings = { "loraStudio.evaluation.maxTokens": 8, "loraStudio.evaluation.threads": 1 };
    await withSession({ name: "eval", workspaceFiles, settings }, async (session) => {
        const { page } = session;
        copyFileSync(adapter, join(session.workspace, RUN_DIR, "adapter.gguf"));

        await runCommand(page, "LoRA Studio: Evaluate");
        await pickQuickItem(page, RUN_ID);
        await pickQuickItem(page, HELD_OUT);

        const report = await webviewContainingWithin(page, `[data-testid="summary-em"]`, EVAL_TIMEOUT_MS);
        const rows = report.locator(`#${EVAL_IDS.table} tr.example`);
        assert.equal(await rows.count(), EXAMPLES);
        const em = report.locator('[data-testid="summary-em"] td');
        const [baseEm, tunedEm] = [await em.nth(1).textContent(), await em.nth(2).textContent()];
        assert.equal(tunedEm, "100.0%", `the tuned model answers the trained facts (base ${baseEm})`);
        assert.notEqual(baseEm, "100.0%");
        assert.ok((await report.locator(`#${EVAL_IDS.reportLink}`).textContent())?.startsWith("Open eval-"));
        const written = readdirSync(join(session.workspace, RUN_DIR)).filter((f) => f.startsWith("eval-"));
        assert.equal(written.length, 2, `the JSON and CSV report lie in the run folder: ${written.join(", ")}`);
        await session.screenshot("report");

        // A row opens the held-out file at its line.
        await report.locator('[data-testid="row-3"]').click();
        await activeEditorTab(page, HELD_OUT).waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(".statusbar-item", { hasText: "Ln 3, Col 1" }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await session.screenshot("row-opened");

        // A window reload (the command saves the editor layout first) revives the panel from the report its webview kept.
        await runCommand(page, "Developer: Reload Window");
        await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: UI_TIMEOUT_MS });
        await page.locator(".part.editor .tab", { hasText: `Evaluation ${RUN_ID}` }).first().click({ timeout: UI_TIMEOUT_MS });
        const restored = await webviewContainingWithin(page, `[data-testid="summary-em"]`, UI_TIMEOUT_MS);
        assert.equal(await restored.locator(`#${EVAL_IDS.table} tr.example`).count(), EXAMPLES);
        assert.equal(await restored.locator('[data-testid="summary-em"] td').nth(2).textContent(), "100.0%");
        await session.screenshot("after-reload");
    });
});

/** webviewContaining with a longer wait: the report appears only once the evaluation is done. */
async function webviewContainingWithin(page: Parameters<typeof webviewContaining>[0], selector: string, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        try {
            return await webviewContaining(page, selector);
        } catch (error) {
            if (Date.now() > deadline) throw error;
        }
    }
}
