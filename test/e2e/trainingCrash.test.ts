// Crash recovery during training in a real VS Code (code-server + Chromium), as a user meets it: a run started
// with "LoRA Studio: Train with Config" has passed its first checkpoint when its sidecar is killed with SIGKILL
// (found through /proc, as with ps, among this session's processes only). The progress view and the runs list
// say "interrupted", a warning names the run and offers Resume; Resume in that warning continues the same
// chart past the killed step with no repeated step, from a fresh sidecar that now owns status.json; Cancel
// ends it. The chart's drawn data is read from its data attributes (PROGRESS_IDS); the run's files are read
// from the workspace as they change.
// Screenshots: test-results/e2e/training-crash/*.png.
import * as assert from "node:assert/strict";
import { readFileSync, watch } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PROGRESS_IDS } from "../../sidecar/src/protocol/progressWebview";
import type { RunStatusFile } from "../../sidecar/src/training/runStore";
import { progressView, TRAINING_TIMEOUT_MS, waitForChart, waitForState } from "./harness/progressView";
import { FACTS_CONFIG_FILE, factsWorkspace } from "./harness/factsWorkspace";
import { withSession } from "./harness/session";
import { sidecarPids } from "./harness/sessionProcesses";
import { openFile, runCommand, UI_TIMEOUT_MS } from "./harness/workbench";

const CONFIG_FILE = FACTS_CONFIG_FILE;
/** Small, so the first checkpoint comes a few steps in and the kill loses at most this many steps. */
const CHECKPOINT_EVERY = 5;
/** Where the sidecar is killed: this many steps after a checkpoint, which Resume trains again. */
const STEPS_PAST_CHECKPOINT = 2;
/** Steps trained after the resume before the test is satisfied that the run goes on. */
const STEPS_AFTER_RESUME = 3;

/** 60 epochs of 5 steps: far more training than the test waits for, so the run never finishes on its own. */
function workspaceFiles(): Record<string, string> {
    return factsWorkspace({ epochs: 60, checkpointEvery: CHECKPOINT_EVERY });
}

function readStatus(runDir: string): RunStatusFile {
    return JSON.parse(readFileSync(join(runDir, "status.json"), "utf8")) as RunStatusFile;
}

/**
 * Waits until the run's status.json satisfies `accept`, re-reading it whenever the run folder changes
 * (the sidecar replaces the file by a rename, so the folder is what to watch).
 */
async function waitForStatus(runDir: string, accept: (status: RunStatusFile) => boolean, what: string): Promise<RunStatusFile> {
    let last: RunStatusFile | undefined;
    return new Promise<RunStatusFile>((resolve, reject) => {
        const check = (): void => {
            try {
                last = readStatus(runDir);
            } catch {
                return; // between the sidecar's writes; the next change event reads it again
            }
            if (!accept(last)) return;
            stop();
            resolve(last);
        };
        const watcher = watch(runDir, check);
        const timer = setTimeout(() => {
            stop();
            reject(new Error(`status.json never showed ${what}; it last said ${JSON.stringify(last)}`));
        }, TRAINING_TIMEOUT_MS);
        const stop = (): void => {
            watcher.close();
            clearTimeout(timer);
        };
        check();
    });
}

/** The steps metrics.jsonl holds, in file order. */
function metricSteps(runDir: string): number[] {
    return readFileSync(join(runDir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => (JSON.parse(l) as { step: number }).step);
}

function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

test("kill -9 of the sidecar while training: interrupted, Resume from the warning continues the chart, cancel", async (t) => {
    await withSession({ name: "training-crash", workspaceFiles: workspaceFiles() }, async (session) => {
        const { page } = session;
        await openFile(page, CONFIG_FILE);
        await runCommand(page, "LoRA Studio: Train with Config");
        const view = await progressView(page);
        await waitForState(view, "running");
        const runId = await view.locator(`#${PROGRESS_IDS.root}`).getAttribute("data-run-id");
        assert.ok(runId, "the progress view names its run");
        const runDir = join(session.workspace, ".lora-studio", "runs", runId);

        await runCommand(page, "LoRA Studio: Show Training Runs");
        const runRow = page.locator(".monaco-list-row", { hasText: runId });
        await runRow.filter({ hasText: "running · " }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await waitForStatus(runDir, (s) => (s.lastCheckpointStep ?? 0) >= CHECKPOINT_EVERY, `a checkpoint at step ${CHECKPOINT_EVERY}`);
        await session.screenshot("training");

        const pids = sidecarPids(session.tempRoot);
        assert.equal(pids.length, 1, `one sidecar runs for this session: ${pids.join(", ")}`);
        const killedPid = pids[0]!;
        // Killed right as status.json records the second step past a checkpoint: a step takes far longer than
        // the kill, so two steps are lost and Resume must train them again.
        await waitForStatus(runDir, (s) => s.lastCheckpointStep !== undefined && s.step === s.lastCheckpointStep + STEPS_PAST_CHECKPOINT, `a step ${STEPS_PAST_CHECKPOINT} past a checkpoint`);
        process.kill(killedPid, "SIGKILL");

        // The user is told: the view and the runs list say interrupted, a warning names the run and offers Resume.
        await waitForState(view, "interrupted");
        await view.locator(`#${PROGRESS_IDS.resume}:not([hidden])`).waitFor({ timeout: UI_TIMEOUT_MS });
        const killed = await waitForChart(view, 0);
        assert.equal(killed.points, killed.lastStep, "one point per step up to the kill");
        await runRow.filter({ hasText: "interrupted · " }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        const warning = page.locator(".notification-toast", { hasText: "stopped unexpectedly" }).filter({ hasText: runId }).first();
        const resumeButton = warning.locator(".monaco-button", { hasText: /^Resume$/ });
        // A trial click waits until the toast has finished sliding in, so the screenshot shows it whole.
        await resumeButton.click({ trial: true, timeout: UI_TIMEOUT_MS });
        await session.screenshot("interrupted");

        // On disk the run still says "running", owned by a dead pid: that is what run/list reports as interrupted.
        const atKill = readStatus(runDir);
        assert.equal(atKill.state, "running");
        assert.equal(atKill.ownerPid, killedPid, "the sidecar found through /proc is the one that trained the run");
        assert.equal(isAlive(killedPid), false, "the killed sidecar is gone");
        const checkpoint = atKill.lastCheckpointStep ?? 0;
        assert.ok(checkpoint >= CHECKPOINT_EVERY && checkpoint <= killed.lastStep, `a checkpoint (step ${checkpoint}) at or before the killed step ${killed.lastStep}`);
        assert.ok(atKill.step - checkpoint <= CHECKPOINT_EVERY, `at most one checkpoint interval is lost: killed at step ${atKill.step}, checkpoint ${checkpoint}`);
        t.diagnostic(`killed at step ${atKill.step} (chart: ${killed.lastStep}), last checkpoint ${checkpoint}: ${atKill.step - checkpoint} steps to train again`);

        await resumeButton.click();
        await waitForState(view, "running");
        const resumed = await waitForChart(view, atKill.step + STEPS_AFTER_RESUME);
        assert.equal(resumed.points, resumed.lastStep, "the resumed run continues the same chart, one point per step, none repeated");
        assert.equal(resumed.firstLoss, killed.firstLoss, "the chart still starts at step 1 of the run");
        await runRow.filter({ hasText: "running · " }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        const restarted = sidecarPids(session.tempRoot);
        assert.equal(restarted.length, 1, `one sidecar runs for this session after the restart: ${restarted.join(", ")}`);
        assert.notEqual(restarted[0], killedPid);
        const training = readStatus(runDir);
        assert.equal(training.state, "running", "status.json says training again");
        assert.equal(training.ownerPid, restarted[0], "the restarted sidecar owns the run");
        await session.screenshot("resumed");

        await view.locator(`#${PROGRESS_IDS.cancel}`).click();
        await waitForState(view, "cancelled");
        const final = await waitForChart(view, 0);
        const cancelled = await waitForStatus(runDir, (s) => s.state === "cancelled", "state cancelled");
        assert.equal(cancelled.ownerPid, undefined, "a cancelled run has no owner");
        assert.equal(cancelled.step, final.lastStep, "status.json and the chart agree on the last step");
        assert.deepEqual(metricSteps(runDir), Array.from({ length: final.lastStep }, (_, i) => i + 1), "metrics.jsonl: every step once, the redone ones replaced");
        await runRow.filter({ hasText: `cancelled · ${final.lastStep}/` }).first().waitFor({ timeout: UI_TIMEOUT_MS });
        await session.screenshot("cancelled");
    });
});
