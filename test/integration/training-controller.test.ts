// The extension's RunController (extension/src/training/runController.ts, no vscode) against the real sidecar
// and engine on the tiny model: a config error names its field; a run trains; kill -9 of the sidecar marks
// the run interrupted and reports it; after the supervisor's restart, run/list says "interrupted" and Resume
// continues from the last checkpoint with the chart points rebuilt, then Cancel saves the adapter.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RunController, RunRequestError, type RunChange } from "../../extension/src/training/runController";
import type { TrainingConfig } from "../../sidecar/src/protocol/sidecar";
import { DebugInfoRequest } from "./sidecarTestHooks";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { nextEvent, tempWorkspace, testSupervisor } from "./sidecarHarness";
import { writeFactSet } from "./trainCliHarness";

const workspace = tempWorkspace("lora-studio-controller-");
const { supervisor, log } = testSupervisor({ initializeParams: () => ({ workspaceRoot: workspace, workspaceTrusted: true }) });
const controller = new RunController(supervisor);
after(async () => {
    controller.dispose();
    await supervisor.stop();
    rmSync(workspace, { recursive: true, force: true });
});

function progressAtLeast(runId: string, step: number) {
    return (c: RunChange): boolean => c.kind === "progress" && c.runId === runId && c.point.step >= step;
}

test("a run config with a bad field is refused with the file and the field named", async (t) => {
    if (!(await engineOrSkip(t))) return;
    const configPath = join(workspace, "bad.lora.json");
    const config = { model: fixturePath("tiny-f32.gguf"), data: "facts.jsonl", epochs: "many" } as unknown as TrainingConfig;
    writeFileSync(configPath, JSON.stringify(config));
    await assert.rejects(controller.start(config, configPath), (error: unknown) => {
        assert.ok(error instanceof RunRequestError, String(error));
        assert.match(error.userMessage, /bad\.lora\.json/);
        assert.match(error.userMessage, /field "epochs"/);
        // The field travels as data, for "Open Config" to put the cursor on (configFieldOffset.ts), not as prose.
        assert.deepEqual(error.fields.map((f) => [f.code, f.path])[0], ["RC103", ["epochs"]]);
        return true;
    });
});

test("kill -9 during training: interrupted, listed, resumed from the checkpoint, cancelled", async (t) => {
    if (!(await engineOrSkip(t))) return;
    writeFactSet(join(workspace, "facts.jsonl"), 12);
    const config: TrainingConfig = {
        model: fixturePath("tiny-f32.gguf"), data: "facts.jsonl", epochs: 20, learningRate: 2e-3, sequenceLength: 128, threads: 2, checkpointEvery: 3, seed: 7
    };
    const configPath = join(workspace, "train.lora.json");
    writeFileSync(configPath, JSON.stringify(config, null, 4));

    const started = await controller.start(config, configPath);
    const runId = started.runId;
    assert.equal(controller.get(runId)?.state, "running");
    // Past the second checkpoint, so the kill loses work after one.
    await nextEvent(controller.onDidChange, progressAtLeast(runId, 7));
    // The progress view's snapshot while it trains: metrics.jsonl so far plus the steps that came since.
    const live = await controller.snapshot(runId);
    assert.equal(live.state, "running");
    assert.deepEqual(live.points.map((p) => p.step), Array.from({ length: live.points.length }, (_, i) => i + 1));
    assert.ok(live.points.length >= 7, `the snapshot has every step so far (${live.points.length})`);
    const checkpoint = controller.get(runId)?.lastCheckpointStep;
    assert.ok(checkpoint !== undefined && checkpoint >= 3, `a checkpoint was announced before step 7 (got ${checkpoint})`);

    const { pid } = await supervisor.sendRequest(DebugInfoRequest.type);
    const interrupted = nextEvent(controller.onDidInterrupt);
    process.kill(pid, "SIGKILL");
    const event = await interrupted;
    assert.deepEqual(event.runIds, [runId]);
    assert.match(event.description, /SIGKILL/);
    assert.equal(controller.get(runId)?.state, "interrupted");

    // The next request waits out the supervisor's restart; the new sidecar sees a dead owner pid.
    const listed = (await controller.interruptedRuns()).find((r) => r.runId === runId);
    assert.ok(listed, `run/list reports ${runId} as interrupted:\n${log.lines.slice(-20).join("\n")}`);
    assert.ok(listed.lastCheckpointStep !== undefined && listed.lastCheckpointStep >= checkpoint!, "the checkpoint on disk is at least the announced one");

    const resumed = await controller.resume(runId);
    assert.equal(resumed.fromStep, listed.lastCheckpointStep);
    assert.equal(controller.get(runId)?.state, "running");
    await nextEvent(controller.onDidChange, progressAtLeast(runId, resumed.fromStep + 2));

    const cancelled = await controller.cancel(runId);
    assert.equal(controller.get(runId)?.state, "cancelled");
    assert.ok(cancelled.checkpointStep >= resumed.fromStep + 2);
    assert.ok(existsSync(cancelled.adapterPath), "cancel wrote the adapter");

    // What the progress view restores from: metrics.jsonl with one point per step, no repeats from the resume.
    const snapshot = await controller.snapshot(runId);
    assert.equal(snapshot.state, "cancelled");
    assert.equal(snapshot.resumable, true);
    assert.deepEqual(snapshot.points.map((p) => p.step), Array.from({ length: cancelled.checkpointStep }, (_, i) => i + 1));
    assert.ok(snapshot.points.every((p) => Number.isFinite(p.loss)));
});

test("one run at a time: a second run/start, even sent at the same moment, is refused with RunAlreadyActive naming the run", async (t) => {
    if (!(await engineOrSkip(t))) return;
    writeFactSet(join(workspace, "one-at-a-time.jsonl"), 12);
    // Long enough to still train while the refusals below are answered; it is cancelled at the end.
    const config: TrainingConfig = { model: fixturePath("tiny-f32.gguf"), data: "one-at-a-time.jsonl", epochs: 200, sequenceLength: 128, threads: 2, checkpointEvery: 2, seed: 3 };
    const configPath = join(workspace, "one-at-a-time.lora.json");
    writeFileSync(configPath, JSON.stringify(config, null, 4));
    const runsBefore = (await controller.list()).length;

    const isRefusal = (error: unknown): error is RunRequestError => error instanceof RunRequestError && error.isRunAlreadyActive;
    // Both requests reach the sidecar before either has loaded the model: the claim must not race.
    const both = await Promise.allSettled([controller.start(config, configPath), controller.start(config, configPath)]);
    const winners = both.filter((r) => r.status === "fulfilled");
    const refused = both.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(winners.length, 1, `exactly one run started: ${JSON.stringify(both.map((r) => (r.status === "rejected" ? String(r.reason) : r.value.runId)))}`);
    assert.ok(isRefusal(refused[0]?.reason), `the other was refused with RunAlreadyActive: ${String(refused[0]?.reason)}`);
    const runId = winners[0]!.value.runId;
    assert.equal((await controller.list()).length, runsBefore + 1, "the refused start made no run directory");

    // Once the run trains, the refusal names it and says what to do; the same holds for resuming another run.
    await nextEvent(controller.onDidChange, progressAtLeast(runId, 1));
    await assert.rejects(controller.start(config, configPath), (error: unknown) => {
        assert.ok(isRefusal(error), String(error));
        assert.equal(error.otherRunId, runId);
        assert.match(error.userMessage, new RegExp(`already training in this sidecar: ${runId}.*Cancel it or wait`));
        return true;
    });
    await assert.rejects(controller.resume(runId), (error: unknown) => isRefusal(error) && error.otherRunId === runId);
    assert.equal(controller.get(runId)?.state, "running", "the refusals left the training run alone");

    // Cancelling frees the sidecar for the next run.
    await controller.cancel(runId);
    const next = await controller.start(config, configPath);
    assert.notEqual(next.runId, runId);
    await controller.cancel(next.runId);
    assert.equal(controller.get(next.runId)?.state, "cancelled");
});
