// Out-of-memory recovery with the real run service and engine on the tiny model. Real allocation failures cannot be
// produced on demand, so the engine is wrapped by a named fake (simulatedOutOfMemory.ts) whose trainer fails every
// micro-batch longer than a token limit from a given step on, as a memory limit would. The fake is injected through
// the service's constructor: no environment variable, no debug message in the production protocol.
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunFailedParams, RunFinishedParams, RunMemoryAdjustedParams } from "../../sidecar/src/protocol/sidecar";
import { TrainingRunService, type RunServiceEvents } from "../../sidecar/src/training/runService";
import { RunStore } from "../../sidecar/src/training/runStore";
import { engineOrSkip } from "../oracle/engine";
import { fixturePath } from "../oracle/fixtures";
import { simulatedOutOfMemory, type SimulatedOutOfMemory } from "./simulatedOutOfMemory";
import { readLosses, writeFactSet } from "./trainCliHarness";
import { tempWorkspace } from "./sidecarHarness";

const HANG_GUARD = { timeout: 600_000 };

type Ended = { finished?: RunFinishedParams; failed?: RunFailedParams };

/** The run service over the real engine wrapped by the out-of-memory fake, with its events recorded. */
async function serviceWithOom(t: TestContext, hook: SimulatedOutOfMemory) {
    const engine = await engineOrSkip(t);
    if (!engine) return undefined;
    const dir = tempWorkspace("train-oom-");
    const fake = simulatedOutOfMemory(engine, hook);
    const adjustments: RunMemoryAdjustedParams[] = [];
    const logs: string[] = [];
    const endWaiters: Array<(end: Ended) => void> = [];
    const logWaiters: Array<{ text: string; settle(): void }> = [];
    const end = (e: Ended): void => endWaiters.splice(0).forEach((settle) => settle(e));
    const events: RunServiceEvents = {
        progress: () => undefined,
        checkpoint: () => undefined,
        memoryAdjusted: (p) => void adjustments.push(p),
        finished: (finished) => end({ finished }),
        failed: (failed) => end({ failed }),
        log: (_level, message) => {
            logs.push(message);
            for (const w of logWaiters.filter((w) => message.includes(w.text))) w.settle();
        }
    };
    const service = new TrainingRunService({ engine: async () => fake.engine, owner: () => ({ kind: "editor", client: "train-oom test" }) }, events);
    after(() => service.cancelAll());
    const data = join(dir, "facts.jsonl");
    writeFactSet(data, 12);
    return {
        service, fake, adjustments, logs, data, store: new RunStore(dir),
        /** The next run/finished or run/failed. Ask before it can happen. */
        nextEnd: () => new Promise<Ended>((settle) => endWaiters.push(settle)),
        logged: (text: string) => new Promise<void>((settle) => logWaiters.push({ text, settle }))
    };
}

/** The tiny model learning facts (trainCliHarness's recipe): loss falls fast, so a lost adapter would show. */
const recipe = { epochs: 6, learningRate: 2e-3, sequenceLength: 128, gradAccum: 1, threads: 2, checkpointEvery: 4, seed: 5, dropout: 0 };

test("simulated OOM mid-run: the run continues from its checkpoint with half the rows and twice the accumulation", HANG_GUARD, async (t) => {
    const oom = await serviceWithOom(t, { atStep: 7, aboveTokens: 64 });
    if (!oom) return;
    const { service, adjustments, data, store } = oom;
    const ended = oom.nextEnd();
    const started = await service.start({ config: { model: fixturePath("tiny-f32.gguf"), data, ...recipe }, store });
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
    const oom = await serviceWithOom(t, { atStep: 3, aboveTokens: 0 });
    if (!oom) return;
    const { service, adjustments, data, store } = oom;
    const ended = oom.nextEnd();
    const started = await service.start({ config: { model: fixturePath("tiny-f32.gguf"), data, ...recipe, epochs: 2, checkpointEvery: 2 }, store });
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
    const oom = await serviceWithOom(t, { atStep: 3, aboveTokens: 64 });
    if (!oom) return;
    const { service, fake, adjustments, data, store } = oom;
    const ended = oom.nextEnd();
    const started = await service.start({ config: { model: fixturePath("tiny-f32.gguf"), data, ...recipe, epochs: 3, checkpointEvery: 2 }, store });
    // The fake holds the restart's model load, between the failed attempt and the next, so the cancel lands inside it.
    const held = fake.holdNextLoad();
    await held.reached;
    const runId = started.runId;
    const statusPath = join(started.runDirectory, "status.json");
    const readStatus = () => JSON.parse(readFileSync(statusPath, "utf8")) as { state: string; step: number; lastCheckpointStep?: number };
    assert.equal(readStatus().state, "running", "between two attempts the run is running, not failed");

    const cancelNoticed = oom.logged(`run ${runId}: cancel requested while the run is (re)starting`);
    // Before the fix this answered RunNotFound: the run was in no list while it restarted.
    const cancelled = service.cancel(runId);
    await cancelNoticed;
    assert.equal(fake.loads, 2, "the restart was held: the first attempt's load and the held one");
    held.release();
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
    const resumedEnd = oom.nextEnd().then((e) => (e.finished ?? e.failed)!);
    const resumed = await service.resume({ runId, store });
    assert.equal(resumed.fromStep, 2);
    const finished = await resumedEnd;
    assert.ok("cancelled" in finished && finished.cancelled === false, `the resumed run finished: ${JSON.stringify(finished)}`);
    const losses = readLosses(join(started.runDirectory, "metrics.jsonl"));
    assert.deepEqual(losses.map((l) => l.step), losses.map((_, i) => i + 1), "metrics.jsonl has every step once");
    assert.equal(losses.length, finished.steps);
    assert.equal(readStatus().state, "finished");
});
