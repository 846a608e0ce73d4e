// Training in a real VS Code (code-server + Chromium), as a user meets it: with a *.lora.json open, run
// "LoRA Studio: Train with Config" from the palette, watch the loss chart fall in the progress view, press
// Cancel, press Resume and see the run go on, cancel again, close the view and open it from the runs list,
// then reload the window: both times it comes back from the run's files. The chart's drawn data is read from
// its data attributes (PROGRESS_IDS).
// In Restricted Mode the same command only explains why it cannot train.
// Screenshots: test-results/e2e/training/*.png, test-results/e2e/training-untrusted/*.png.
import * as assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PROGRESS_IDS } from "../../sidecar/src/protocol/progressWebview";
import { progressView, waitForChart, waitForState } from "./harness/progressView";
import { FACTS_CONFIG_FILE, factsWorkspace } from "./harness/factsWorkspace";
import { withSession } from "./harness/session";
import { openFile, runCommand, UI_TIMEOUT_MS } from "./harness/workbench";

const CONFIG_FILE = FACTS_CONFIG_FILE;
const TRAIN_TITLE = "LoRA Studio: Train with Config";
/** Steps to watch before judging that the loss fell (its warmup is 6 steps; by step 12 it is well below the start). */
const STEPS_BEFORE_JUDGING = 12;

/** 40 epochs of 5 steps: about a minute of training, far more than the test waits for. */
function workspaceFiles(): Record<string, string> {
    return factsWorkspace({ epochs: 40, checkpointEvery: 4 });
}

test("train from the palette: the loss falls, cancel, resume, reopen from the runs list, reload", async () => {
    // The config is opened with Quick Open rather than the session's openFile, which a reload would open again
    // instead of restoring the editors.
    await withSession({ name: "training", workspaceFiles: workspaceFiles() }, async (session) => {
        const { page } = session;
        await openFile(page, CONFIG_FILE);
        await runCommand(page, TRAIN_TITLE);
        let view = await progressView(page);
        const early = await waitForChart(view, STEPS_BEFORE_JUDGING);
        assert.equal(early.points, early.lastStep, "one point per step from step 1");
        assert.ok(early.lastLoss < early.firstLoss - 0.5, `the loss fell: step 1 ${early.firstLoss}, step ${early.lastStep} ${early.lastLoss}`);
        await waitForState(view, "running");
        await page.locator(".statusbar-item", { hasText: /LoRA \d+\/\d+ · loss \d/ }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await session.screenshot("training");

        await view.locator(`#${PROGRESS_IDS.cancel}`).click();
        await waitForState(view, "cancelled");
        const cancelled = await waitForChart(view, 0);
        await view.locator(`#${PROGRESS_IDS.resume}:not([hidden])`).waitFor({ timeout: UI_TIMEOUT_MS });
        await session.screenshot("cancelled");

        await view.locator(`#${PROGRESS_IDS.resume}`).click();
        await waitForState(view, "running");
        const resumed = await waitForChart(view, cancelled.lastStep + 3);
        assert.equal(resumed.points, resumed.lastStep, "the resumed run continues the same chart, one point per step");
        assert.equal(resumed.firstLoss, early.firstLoss, "the chart still starts at step 1 of the run");
        await session.screenshot("resumed");

        await view.locator(`#${PROGRESS_IDS.cancel}`).click();
        await waitForState(view, "cancelled");
        const final = await waitForChart(view, 0);

        // Closed and opened again from the runs list, the view is redrawn from the run's files (run/get + metrics.jsonl).
        const runId = await view.locator(`#${PROGRESS_IDS.root}`).getAttribute("data-run-id");
        assert.ok(runId);
        await runCommand(page, "View: Close All Editors");
        await runCommand(page, "LoRA Studio: Show Training Runs");
        const row = page.locator(".monaco-list-row", { hasText: runId }).filter({ hasText: `cancelled · ${final.lastStep}/` });
        await row.first().waitFor({ timeout: UI_TIMEOUT_MS });
        await row.first().click();
        view = await progressView(page);
        await waitForState(view, "cancelled");
        const restored = await waitForChart(view, final.lastStep);
        assert.deepEqual(restored, final, "the reopened chart shows the same points as the live one");
        await session.screenshot("reopened");

        // A window reload: the panel is revived by its serializer and redrawn from the run's files.
        await runCommand(page, "Developer: Reload Window");
        await page.locator(".monaco-workbench .part.statusbar").waitFor({ timeout: UI_TIMEOUT_MS });
        view = await progressView(page);
        await waitForState(view, "cancelled");
        assert.deepEqual(await waitForChart(view, final.lastStep), final, "the revived chart shows the same points");
        await session.screenshot("reloaded");
    });
});

test("in Restricted Mode, Train with Config explains itself and starts nothing", async () => {
    await withSession({
        name: "training-untrusted",
        workspaceFiles: workspaceFiles(),
        openFile: CONFIG_FILE,
        workspaceTrust: true,
        // No startup trust prompt: the folder simply opens in Restricted Mode, as after answering "No".
        settings: { "security.workspace.trust.startupPrompt": "never" }
    }, async (session) => {
        const { page } = session;
        await runCommand(page, "LoRA Studio: Show Training Runs");
        await page.locator(".welcome-view-content", { hasText: "Training is disabled in Restricted Mode" }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await runCommand(page, TRAIN_TITLE);
        const toast = page.locator(".notification-toast", { hasText: "Training is disabled in Restricted Mode" }).first();
        // A trial click waits until the toast has finished sliding in, so the screenshot shows it whole.
        await toast.locator(".monaco-button", { hasText: "Manage Workspace Trust" }).click({ trial: true, timeout: UI_TIMEOUT_MS });
        await session.screenshot("untrusted");
        assert.equal(existsSync(join(session.workspace, ".lora-studio")), false, "no run was created");
    });
});
