// Out-of-memory recovery with the real sidecar and engine on the tiny model. Real allocation failures cannot be
// produced on demand, so the sidecar's test hook (LORA_STUDIO_TEST_SIMULATED_OOM, honoured only with the test hooks
// on) fails every micro-batch longer than a token limit from a given step on, as a memory limit would.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
    DebugOomRestartHeldNotification, DebugReleaseOomRestartRequest, HOLD_OOM_RESTART_ENV_VAR, LogNotification, RunCancelRequest,
    RunFailedNotification, RunFinishedNotification, RunMemoryAdjustedNotification, RunResumeRequest, RunStartRequest, TEST_HOOKS_ENV_VAR,
    type RunFailedParams, type RunFinishedParams, type RunMemoryAdjustedParams
} from "../../sidecar/src/protocol/sidecar";
import { SIMULATED_OOM_ENV_VAR } from "../../sidecar/src/training/oomRecovery";
import { fixturePath } from "../oracle/fixtures";
import { readLosses, writeFactSet } from "./trainCliHarness";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

const HANG_GUARD = { timeout: 600_000 };

function sidecarWithOom(hook: { atStep: number; aboveTokens: number }, extraEnv: Record<string, string> = {}) {
    const dir = tempWorkspace("train-oom-");
    const { supervisor } = testSupervisor({
        env: { ...process.env, [TEST_HOOKS_ENV_VAR]: "1", [SIMULATED_OOM_ENV_VAR]: JSON.stringify(hook), ...extraEnv },
        initializeParams: () => ({ workspaceRoot: dir, workspaceTrusted: true })
    });
    after(() => supervisor.stop());
    const adjustments: RunMemoryAdjustedParams[] = [];
    supervisor.onNotification(RunMemoryAdjustedNotification.type, (p) => adjustments.push(p));
    const ended = new Promise<{ finished?: RunFinishedParams; failed?: RunFailedParams }>((settle) => {
        supervisor.onNotification(RunFinishedNotification.type, (finished) => settle({ finished }));
        supervisor.onNotification(RunFailedNotification.type, (failed) => settle({ failed }));
    });
    const data = join(dir, "facts.jsonl");
    writeFactSet(data, 12);
    return { dir, supervisor, adjustments, ended, data };
}

/** The tiny model learning facts (trainCliHarness's recipe): loss falls fast, so a lost adapter would show. */
const recipe = { epochs: 6, learningRate: 2e-3, sequenceLength: 128, gradAccum: 1, threads: 2, checkpointEvery: 4, seed: 5, dropout: 0 };

test("simulated OOM mid-run: the run continues from its checkpoint with half the rows and twice the accumulation", HANG_GUARD, async (t) => {
    const { supervisor, adjustments, ended, data } = sidecarWithOom({ atStep: 7, aboveTokens: 64 });
    const { capabilities } = await supervisor.start();
    if (!capabilities.engineAvailable) {
        if (process.env.CI) assert.fail(capabilities.engineError);
        t.skip(`native engine unavailable: ${capabilities.engineError}`);
        return;
    }
    const started = await supervisor.sendRequest(RunStartRequest.type, { config: { model: fixturePath("tiny-f32.gguf"), data, ...recipe } });
    assert.equal(started.memoryAdjustment, undefined, "the tiny model passes the pre-flight check as configured");
    const end = await ended;
    assert.ok(end.finished, `the run finished instead of failing: ${JSON.stringify(end.failed)}`);
    assert.equal(end.finished.cancelled, false);
    assert.ok(existsSync(end.finished.adapterPath));

    assert.equal(adjustments.length, 1, JSON.stringify(adjustments));
    const [adjusted] = adjustments;
    assert.deepEqual(
        { from: adjusted!.fromStep, L: [adjusted!.previousSequenceLength, adjusted!.sequenceLength], k: [adjusted!.previousGradAccum, adjusted!.gradAccum] },
        { from: 4, L: [128, 64], k: [1, 2] },
        "resumed from the step-4 checkpoint with 64-token rows × 2"
    );
    assert.match(adjusted!.reason, /out of memory with sequenceLength 128 .*simulated out of memory.*sequenceLength 64 and gradAccum 2/);

    const config = JSON.parse(readFileSync(join(started.runDirectory, "config.json"), "utf8")) as { sequenceLength: number; gradAccum: number };
    assert.deepEqual([config.sequenceLength, config.gradAccum], [64, 2], "config.json says how the run trains now, so a resume trains the same way");

    const losses = readLosses(join(started.runDirectory, "metrics.jsonl"));
    assert.deepEqual(losses.map((l) => l.step), losses.map((_, i) => i + 1), "metrics.jsonl has every step once: steps 5 and 6 of the failed attempt were rewound");
    assert.equal(losses.length, end.finished.steps);
    // Loss continuity: the step after the checkpoint continues from the checkpoint's adapter, far below a fresh
    // start's loss (a lost adapter would restart near ln(vocabulary)).
    t.diagnostic(`losses: ${losses.map((l) => l.loss.toFixed(3)).join(" ")}`);
    const first = losses[0]!.loss;
    const atCheckpoint = losses[3]!.loss;
    const afterRecovery = losses[4]!.loss;
    assert.ok(first - atCheckpoint > 0.5, `the run learned before the OOM: ${first} → ${atCheckpoint}`);
    assert.ok(afterRecovery < first - 0.5 * (first - atCheckpoint), `step 5 (${afterRecovery}) continues from step 4 (${atCheckpoint}), not from scratch (${first})`);
    assert.ok(losses.at(-1)!.loss < atCheckpoint, `training went on learning: ${losses.map((l) => l.loss.toFixed(3)).join(" ")}`);
});

test("simulated OOM at the smallest micro-batch the data allows: run/failed with OUT_OF_MEMORY and a hint", HANG_GUARD, async (t) => {
    const { supervisor, adjustments, ended, data } = sidecarWithOom({ atStep: 3, aboveTokens: 0 });
    const { capabilities } = await supervisor.start();
    if (!capabilities.engineAvailable) {
        if (process.env.CI) assert.fail(capabilities.engineError);
        t.skip(`native engine unavailable: ${capabilities.engineError}`);
        return;
    }
    const started = await supervisor.sendRequest(RunStartRequest.type, { config: { model: fixturePath("tiny-f32.gguf"), data, ...recipe, epochs: 2, checkpointEvery: 2 } });
    const end = await ended;
    assert.ok(end.failed, `the run failed: ${JSON.stringify(end.finished)}`);
    assert.equal(end.failed.code, "OUT_OF_MEMORY");
    assert.match(end.failed.message, /simulated out of memory .*already the smallest the data allows \(sequenceLength \d+, the longest example has \d+ tokens\)/);
    assert.match(end.failed.hint, /smaller/);
    assert.ok(adjustments.length >= 1, "it shrank at least once before giving up");
    assert.deepEqual(adjustments.map((a) => a.sequenceLength), adjustments.map((_, i) => 128 / 2 ** (i + 1)));
    const status = JSON.parse(readFileSync(join(started.runDirectory, "status.json"), "utf8")) as { state: string; error?: { code: string } };
    assert.equal(status.state, "failed");
    assert.equal(status.error?.code, "OUT_OF_MEMORY");
});

test("simulated OOM: a cancel inside the restart window ends the run cancelled at its checkpoint, and it resumes from there", HANG_GUARD, async (t) => {
    // HOLD_OOM_RESTART_ENV_VAR holds the restart between the failed attempt and the next, so the cancel lands inside it.
    const { supervisor, adjustments, ended, data } = sidecarWithOom({ atStep: 3, aboveTokens: 64 }, { [HOLD_OOM_RESTART_ENV_VAR]: "1" });
    const held = new Promise<string>((settle) => supervisor.onNotification(DebugOomRestartHeldNotification.type, (p) => settle(p.runId)));
    const { capabilities } = await supervisor.start();
    if (!capabilities.engineAvailable) {
        if (process.env.CI) assert.fail(capabilities.engineError);
        t.skip(`native engine unavailable: ${capabilities.engineError}`);
        return;
    }
    const started = await supervisor.sendRequest(RunStartRequest.type, { config: { model: fixturePath("tiny-f32.gguf"), data, ...recipe, epochs: 3, checkpointEvery: 2 } });
    const runId = await held;
    assert.equal(runId, started.runId);
    const statusPath = join(started.runDirectory, "status.json");
    const readStatus = () => JSON.parse(readFileSync(statusPath, "utf8")) as { state: string; step: number; lastCheckpointStep?: number };
    assert.equal(readStatus().state, "running", "between two attempts the run is running, not failed");

    const cancelNoticed = new Promise<void>((settle) =>
        supervisor.onNotification(LogNotification.type, (p) => {
            if (p.message.includes(`run ${runId}: cancel requested while the run is (re)starting`)) settle();
        })
    );
    // Before the fix this answered RunNotFound: the run was in no list while it restarted.
    const cancelled = supervisor.sendRequest(RunCancelRequest.type, { runId });
    await cancelNoticed;
    assert.equal(await supervisor.sendRequest(DebugReleaseOomRestartRequest.type, { runId }), true, "the restart was held");
    const result = await cancelled;
    assert.equal(result.checkpointStep, 2, "the run stopped at the checkpoint the restart loaded");
    assert.ok(existsSync(result.adapterPath), "cancel wrote the adapter");

    const end = await ended;
    assert.ok(end.finished, `run/finished, not run/failed: ${JSON.stringify(end.failed)}`);
    assert.equal(end.finished.cancelled, true);
    assert.equal(end.finished.steps, 2);
    const status = readStatus();
    assert.deepEqual({ state: status.state, step: status.step, lastCheckpointStep: status.lastCheckpointStep }, { state: "cancelled", step: 2, lastCheckpointStep: 2 });
    assert.ok(existsSync(join(started.runDirectory, "checkpoints")), "the checkpoint directory is kept");
    assert.deepEqual(adjustments.map((a) => [a.fromStep, a.sequenceLength, a.gradAccum]), [[2, 64, 2]], "the restart loaded the step-2 checkpoint with 64-token rows × 2");
    const config = JSON.parse(readFileSync(join(started.runDirectory, "config.json"), "utf8")) as { sequenceLength: number; gradAccum: number };
    assert.deepEqual([config.sequenceLength, config.gradAccum], [64, 2], "a resume trains with the smaller micro-batch");

    // The cancelled run resumes from its checkpoint and, with rows under the simulated limit, runs to the end.
    const resumedEnd = new Promise<RunFinishedParams | RunFailedParams>((settle) => {
        supervisor.onNotification(RunFinishedNotification.type, settle);
        supervisor.onNotification(RunFailedNotification.type, settle);
    });
    const resumed = await supervisor.sendRequest(RunResumeRequest.type, { runId });
    assert.equal(resumed.fromStep, 2);
    const finished = await resumedEnd;
    assert.ok("cancelled" in finished && finished.cancelled === false, `the resumed run finished: ${JSON.stringify(finished)}`);
    const losses = readLosses(join(started.runDirectory, "metrics.jsonl"));
    assert.deepEqual(losses.map((l) => l.step), losses.map((_, i) => i + 1), "metrics.jsonl has every step once");
    assert.equal(losses.length, finished.steps);
    assert.equal(readStatus().state, "finished");
});
