// The run store (.lora-studio/runs/<id>/): layout, atomic writes, listing with derived states,
// metrics that survive a torn last line, and checkpoints that a kill -9 never corrupts. The last
// test kills a real writer process mid-run.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { MetricsFormatError, parseMetrics } from "../../sidecar/src/training/metricsLog";
import { computeFileSha256, RunDirectory, RunNotFoundError, RunStore, RUNS_DIRECTORY } from "../../sidecar/src/training/runStore";
import { tempWorkspace } from "../integration/sidecarHarness";

/** A safety net so a broken build fails instead of hanging CI; no test waits on the clock. */
const HANG_GUARD = { timeout: 120_000 };

const CRASH_CHILD_ENV = "LORA_STUDIO_RUNSTORE_CRASH_CHILD";
const config = { model: "models/tiny.gguf", data: "data/train.jsonl", rank: 16 };

/** What a checkpoint for `step` must contain: big enough that a write takes several syscalls. */
function checkpointBytes(step: number): Buffer {
    const bytes = Buffer.alloc(256 * 1024);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((step * 2654435761 + i) >>> 0, i);
    return bytes;
}

/** Stepping clock, so ordering does not depend on the wall clock. */
function steppingClock(start = Date.UTC(2026, 0, 1)): { now(): Date } {
    let t = start;
    return { now: () => new Date((t += 1000)) };
}

if (process.env[CRASH_CHILD_ENV]) {
    // Child mode: train "forever" on one run, checkpointing every 5 steps, until killed.
    const run = new RunDirectory(process.env[CRASH_CHILD_ENV]);
    run.markRunning();
    const metrics = run.openMetricsWriter();
    for (let step = 1; ; step++) {
        metrics.append({ step, loss: 1 / step });
        run.updateStatus({ step });
        if (step % 5 === 0) {
            metrics.flush();
            await run.commitCheckpoint(step, (temp) => writeFileSync(temp, checkpointBytes(step)));
            process.stdout.write(`checkpoint ${step}\n`);
        }
    }
} else {
    test("createRun lays out config.json, dataset.sha256 and status.json, with no temp leftovers", HANG_GUARD, async () => {
        const workspace = tempWorkspace();
        const dataset = join(workspace, "train.jsonl");
        writeFileSync(dataset, '{"messages":[]}\n');
        const sha = await computeFileSha256(dataset);
        assert.equal(sha, createHash("sha256").update(readFileSync(dataset)).digest("hex"));

        const store = new RunStore(workspace, steppingClock());
        const run = await store.createRun({ config, datasetSha256: sha, datasetName: dataset, totalSteps: 40 });
        assert.equal(run.path, join(workspace, RUNS_DIRECTORY, run.runId));
        assert.deepEqual(JSON.parse(readFileSync(run.configPath, "utf8")), config);
        assert.equal(readFileSync(run.datasetHashPath, "utf8"), `${sha}  train.jsonl\n`);
        assert.equal(run.readDatasetSha256(), sha);
        assert.deepEqual([run.readStatus().state, run.readStatus().step, run.readStatus().totalSteps], ["created", 0, 40]);
        assert.ok(existsSync(run.checkpointsDirectory));
        assert.deepEqual(readdirSync(store.root), [run.runId], "the run directory appears whole, by rename");
        assert.deepEqual(readdirSync(run.path).sort(), ["checkpoints", "config.json", "dataset.sha256", "status.json"]);
    });

    test("listRuns: newest first, running with a dead owner is interrupted, unreadable runs are listed with the reason", HANG_GUARD, async () => {
        const workspace = tempWorkspace();
        const store = new RunStore(workspace, steppingClock());
        const oldest = await store.createRun({ config, datasetSha256: "0".repeat(64), totalSteps: 10 });
        const crashed = await store.createRun({ config, datasetSha256: "1".repeat(64), totalSteps: 10 });
        const live = await store.createRun({ config, datasetSha256: "2".repeat(64), totalSteps: 10 });
        const broken = await store.createRun({ config, datasetSha256: "3".repeat(64), totalSteps: 10 });
        oldest.updateStatus({ state: "finished", step: 10 });
        // A process that has exited stands for a sidecar killed mid-run.
        const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
        crashed.updateStatus({ state: "running", ownerPid: deadPid, step: 7 });
        live.markRunning();
        writeFileSync(broken.statusPath, JSON.stringify({ ...broken.readStatus(), step: "seven" }));

        const runs = store.listRuns();
        assert.deepEqual(
            runs.map((r) => [r.runId, r.state]),
            [
                [broken.runId, "failed"],
                [live.runId, "running"],
                [crashed.runId, "interrupted"],
                [oldest.runId, "finished"]
            ]
        );
        const brokenSummary = runs[0];
        assert.equal(brokenSummary?.error?.code, "RUN_FILES_UNREADABLE");
        assert.match(brokenSummary?.error?.message ?? "", /status\.json: field "step" must be a non-negative integer, got "seven"/);
        assert.equal(runs[2]?.model, config.model);
    });

    test("a run directory of the user's choosing (CLI --out) may exist empty but must not hold another run", HANG_GUARD, async () => {
        const out = tempWorkspace();
        const run = await RunDirectory.create(out, { config, datasetSha256: "b".repeat(64), totalSteps: 5 });
        assert.equal(run.readStatus().totalSteps, 5);
        await assert.rejects(RunDirectory.create(out, { config, datasetSha256: "b".repeat(64), totalSteps: 5 }), /already exists and is not empty/);
    });

    test("openRun refuses ids that would leave the runs directory", HANG_GUARD, async () => {
        const store = new RunStore(tempWorkspace());
        for (const id of ["../x", "..", "a/b", "", ".tmp-x"]) assert.throws(() => store.openRun(id), RunNotFoundError, id);
    });

    test("metrics: a torn last line is skipped by readers and cut off by the next writer", HANG_GUARD, async () => {
        const run = await new RunStore(tempWorkspace()).createRun({ config, datasetSha256: "a".repeat(64), totalSteps: 10 });
        const writer = run.openMetricsWriter();
        for (let step = 1; step <= 3; step++) writer.append({ step, loss: 3 - step / 2, lr: 2e-4 });
        writer.close();
        appendFileSync(run.metricsPath, '{"step":4,"loss":1.2'); // kill -9 mid-write

        const torn = run.readMetrics();
        assert.equal(torn.tornTail, true);
        assert.deepEqual(torn.records.map((r) => r.step), [1, 2, 3]);

        const resumed = run.openMetricsWriter();
        resumed.append({ step: 4, loss: 1.25 });
        resumed.close();
        const repaired = run.readMetrics();
        assert.equal(repaired.tornTail, false);
        assert.deepEqual(repaired.records.map((r) => [r.step, r.loss]), [[1, 2.5], [2, 2], [3, 1.5], [4, 1.25]]);
        assert.ok(readFileSync(run.metricsPath, "utf8").split("\n").slice(0, -1).every((line) => JSON.parse(line)));

        run.rewindMetricsTo(2);
        assert.deepEqual(run.readMetrics().records.map((r) => r.step), [1, 2], "resume from step 2 drops later steps");
    });

    test("metrics: a bad line other than the last is an error naming file, line and field", HANG_GUARD, () => {
        assert.throws(() => parseMetrics('{"step":1,"loss":2}\n{"step":2}\n{"step":3,"loss":1}\n', "runs/x/metrics.jsonl"), (error) => {
            assert.ok(error instanceof MetricsFormatError);
            assert.equal(error.message, 'runs/x/metrics.jsonl:2: field "loss" must be a finite number, got undefined');
            return true;
        });
        assert.throws(() => parseMetrics("not json\n", "m.jsonl"), /m\.jsonl:1: not valid JSON/);
        assert.deepEqual(parseMetrics("", "m.jsonl"), { records: [], tornTail: false });
    });

    test("checkpoints are renamed into place, never overwritten, and a failed write leaves earlier ones intact", HANG_GUARD, async () => {
        const run = await new RunStore(tempWorkspace()).createRun({ config, datasetSha256: "a".repeat(64), totalSteps: 30 });
        await run.commitCheckpoint(10, (temp) => writeFileSync(temp, checkpointBytes(10)));
        await assert.rejects(
            run.commitCheckpoint(20, (temp) => {
                writeFileSync(temp, checkpointBytes(20).subarray(0, 100));
                throw new Error("engine failed mid-write");
            }),
            /engine failed mid-write/
        );
        await assert.rejects(run.commitCheckpoint(10, (temp) => writeFileSync(temp, "overwrite")), /never overwritten/);
        // A temp file left by a process killed mid-write is not a checkpoint.
        writeFileSync(join(run.checkpointsDirectory, ".tmp-step-00000030.ckpt-1-abcd"), "partial");

        assert.deepEqual(run.listCheckpoints().map((c) => c.step), [10]);
        assert.ok(readFileSync(run.checkpointPath(10)).equals(checkpointBytes(10)));
        assert.equal(run.readStatus().lastCheckpointStep, 10);
        assert.equal(run.summary().lastCheckpointStep, 10);
        assert.deepEqual(readdirSync(run.checkpointsDirectory).filter((n) => !n.startsWith(".tmp-step-00000030")), ["step-00000010.ckpt"]);
    });

    test("kill -9 of a training writer: the run reads back, earlier checkpoints are complete, the run is interrupted", HANG_GUARD, async () => {
        const workspace = tempWorkspace();
        const store = new RunStore(workspace);
        const run = await store.createRun({ config, datasetSha256: "a".repeat(64), totalSteps: 1_000_000 });
        const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
            env: { ...process.env, [CRASH_CHILD_ENV]: run.path },
            stdio: ["ignore", "pipe", "inherit"]
        });
        const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
        // Kill it right after its third checkpoint is announced, while it keeps writing.
        for await (const line of createInterface({ input: child.stdout })) {
            if (line === "checkpoint 15") {
                child.kill("SIGKILL");
                break;
            }
        }
        assert.equal(await exited, "SIGKILL");

        const checkpoints = run.listCheckpoints();
        assert.ok(checkpoints.length >= 3, `checkpoints: ${checkpoints.map((c) => c.step).join(", ")}`);
        for (const checkpoint of checkpoints) {
            assert.ok(readFileSync(checkpoint.path).equals(checkpointBytes(checkpoint.step)), `checkpoint ${checkpoint.step} is complete`);
        }
        const { records } = run.readMetrics();
        const last = checkpoints.at(-1)?.step ?? 0;
        assert.ok(records.length >= last, "metrics up to the last checkpoint were flushed");
        assert.deepEqual(records.map((r) => r.step), records.map((_, i) => i + 1), "no step lost or repeated before the tail");
        const [summary] = store.listRuns();
        assert.equal(summary?.state, "interrupted");
        assert.ok((summary?.lastCheckpointStep ?? 0) >= 15);
        assert.ok((summary?.step ?? 0) >= 15);
    });
}
