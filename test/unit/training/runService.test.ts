// The run service (sidecar/src/training/runService.ts) driven directly, without JSON-RPC: one run at a time, the one
// out-of-memory loop (at load and mid-run, down to the smallest micro-batch, a cancel inside the restart window), the
// run folder's lock, resume of a finished run, cleanup after a failed start and of stale temp files, checkpoint
// pruning and over-long examples. Real run store, real run-config checks on a real GGUF header, the real dataset
// pipeline; two fakes where the unit tier cannot run the real part, each named so: the engine (FakeEngine, no native
// code) and the tokenizer (fakeTokenizer, one token per character).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { LogLevel, RunFailedParams, RunFinishedParams, RunMemoryAdjustedParams, TrainingConfig } from "../../../sidecar/src/protocol/sidecar";
import { RunConfigError } from "../../../sidecar/src/training/config";
import { openModelFile, readGguf, writeGguf } from "../../../sidecar/src/gguf";
import { baseFingerprint, recordedFingerprint } from "../../../sidecar/src/adapters/baseFingerprint";
import { resolveRunConfig } from "../../../sidecar/src/training/resolveRunConfig";
import { nodeFileProbe } from "../../../sidecar/src/training/runConfigProbe";
import { PipelineError } from "../../../sidecar/src/pipeline";
import { RunRefusedError } from "../../../sidecar/src/training/runErrors";
import { LOCK_FILE_NAME, readRunLock } from "../../../sidecar/src/training/runLock";
import { TrainingRunService, type RunServiceEvents } from "../../../sidecar/src/training/runService";
import { RunStore } from "../../../sidecar/src/training/runStore";
import { CHATML_TEMPLATE, fakeTokenizer } from "../pipeline/support/fakeTokenizer";
import { writeArchBase } from "../support/archModels";
import { FakeEngine, type FakeEngineScript } from "./support/fakeEngine";

const root = mkdtempSync(join(tmpdir(), "run-service-"));
after(() => rmSync(root, { recursive: true, force: true }));
const model = join(root, "base.gguf");
writeArchBase(model, "llama");

function facts(count: number, extra: string[] = []): string {
    const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ messages: [{ role: "user", content: `Q${i}?` }, { role: "assistant", content: `A${i}.` }] }));
    return `${[...lines, ...extra].join("\n")}\n`;
}

type Ended = { finished?: RunFinishedParams; failed?: RunFailedParams };

/** A workspace, a service over a FakeEngine, and its events recorded. */
function harness(script: FakeEngineScript = {}, owner: { kind: "editor" | "terminal"; client: string } = { kind: "editor", client: "unit test" }) {
    const workspace = mkdtempSync(join(root, "ws-"));
    const data = join(workspace, "facts.jsonl");
    writeFileSync(data, facts(12));
    const engine = new FakeEngine(script);
    const adjustments: RunMemoryAdjustedParams[] = [];
    const logs: Array<{ level: LogLevel; message: string }> = [];
    const checkpoints: number[] = [];
    const progress: number[] = [];
    const waiters: Array<(e: Ended) => void> = [];
    const logWaiters: Array<{ text: string; settle(): void }> = [];
    const end = (e: Ended): void => waiters.splice(0).forEach((w) => w(e));
    const events: RunServiceEvents = {
        progress: (p) => void progress.push(p.step),
        checkpoint: (p) => void checkpoints.push(p.step),
        memoryAdjusted: (p) => void adjustments.push(p),
        finished: (finished) => end({ finished }),
        failed: (failed) => end({ failed }),
        log: (level, message) => {
            logs.push({ level, message });
            for (const w of logWaiters.filter((w) => message.includes(w.text))) w.settle();
        }
    };
    const service = new TrainingRunService({
        engine: async () => engine,
        owner: () => owner,
        vocabulary: async () => ({ tokenizer: fakeTokenizer(), chatTemplate: CHATML_TEMPLATE, dispose: async () => undefined }),
        // The shape would come from the GGUF header; the memory pre-flight is the integration tier's (training-setup).
        modelShape: () => { throw new Error("no shape in the unit tier"); }
    }, events);
    const store = new RunStore(workspace);
    const config = (extra: Partial<TrainingConfig> = {}): TrainingConfig => ({ model, data, epochs: 2, sequenceLength: 128, checkpointEvery: 2, seed: 1, ...extra });
    return {
        workspace, data, engine, service, store, adjustments, logs, checkpoints, progress, config,
        nextEnd: () => new Promise<Ended>((settle) => waiters.push(settle)),
        logged: (text: string) => new Promise<void>((settle) => logWaiters.push({ text, settle })),
        runs: () => (existsSync(store.root) ? readdirSync(store.root) : [])
    };
}

function metricSteps(runDirectory: string): number[] {
    return readFileSync(join(runDirectory, "metrics.jsonl"), "utf8").split("\n").filter((l) => l !== "").map((l) => (JSON.parse(l) as { step: number }).step);
}

function status(runDirectory: string): { state: string; step: number; totalSteps: number; lastCheckpointStep?: number; overLength?: { dropped: number; truncated: number } } {
    return JSON.parse(readFileSync(join(runDirectory, "status.json"), "utf8"));
}

const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

test("one run at a time: a second start, sent at the same moment, is refused naming the run; cancel frees the slot", async () => {
    const h = harness();
    const both = await Promise.allSettled([h.service.start({ config: h.config({ epochs: 50 }), store: h.store }), h.service.start({ config: h.config({ epochs: 50 }), store: h.store })]);
    const [won, lost] = both[0].status === "fulfilled" ? [both[0], both[1]] : [both[1], both[0]];
    assert.equal(won.status, "fulfilled");
    assert.equal(lost.status, "rejected");
    assert.ok(lost.reason instanceof RunRefusedError && lost.reason.kind === "run-already-active", String(lost.reason));
    assert.equal(h.runs().length, 1, "the refused start made no run folder");
    const runId = won.value.runId;
    await assert.rejects(h.service.start({ config: h.config(), store: h.store }), (e: unknown) => e instanceof RunRefusedError && e.details.runId === runId && /already training in this sidecar/.test(e.message));
    const ended = h.nextEnd();
    const cancelled = await h.service.cancel(runId);
    assert.ok((await ended).finished?.cancelled);
    assert.ok(existsSync(cancelled.adapterPath));
    assert.equal(readRunLock(won.value.runDirectory), undefined, "the run folder's lock is released when the run ends");
    const next = await h.service.start({ config: h.config({ epochs: 1 }), store: h.store });
    assert.notEqual(next.runId, runId);
    assert.ok((await h.nextEnd()).finished);
});

test("out of memory while the model loads: the micro-batch halves until it fits, and config.json says so", async () => {
    const h = harness({ loadOutOfMemoryAbove: 32 });
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ sequenceLength: 128, gradAccum: 1 }), store: h.store });
    assert.deepEqual(
        { L: [started.memoryAdjustment?.previousSequenceLength, started.memoryAdjustment?.sequenceLength], k: [started.memoryAdjustment?.previousGradAccum, started.memoryAdjustment?.gradAccum] },
        { L: [128, 32], k: [1, 4] },
        "two halvings, reported as one change from the configured micro-batch"
    );
    assert.match(started.memoryAdjustment!.reason, /out of memory while loading with sequenceLength 64 .*training with sequenceLength 32 and gradAccum 4 instead/);
    assert.equal(h.engine.loads, 3);
    const config = JSON.parse(readFileSync(join(started.runDirectory, "config.json"), "utf8")) as TrainingConfig;
    assert.deepEqual([config.sequenceLength, config.gradAccum], [32, 4]);
    assert.ok((await ended).finished);
});

test("out of memory mid-run: continues from the last checkpoint with half the rows; every step once in metrics.jsonl", async () => {
    const h = harness({ stepOutOfMemoryAt: 5, stepOutOfMemoryAbove: 64 });
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 4, checkpointEvery: 2 }), store: h.store });
    const end = await ended;
    assert.ok(end.finished && !end.finished.cancelled, JSON.stringify(end));
    assert.deepEqual(h.adjustments.map((a) => [a.fromStep, a.previousSequenceLength, a.sequenceLength, a.previousGradAccum, a.gradAccum]), [[4, 128, 64, 1, 2]]);
    assert.match(h.adjustments[0]!.reason, /out of memory with sequenceLength 128 .*continuing from the last checkpoint with sequenceLength 64 and gradAccum 2/);
    const steps = metricSteps(started.runDirectory);
    assert.deepEqual(steps, oneToN(end.finished.steps), "the failed attempt's steps were rewound, none repeated");
    assert.equal(status(started.runDirectory).state, "finished");
});

test("out of memory at the smallest micro-batch the data allows: the run fails with OUT_OF_MEMORY and says why", async () => {
    const h = harness({ stepOutOfMemoryAt: 3, stepOutOfMemoryAbove: 0 });
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 2, checkpointEvery: 2 }), store: h.store });
    const end = await ended;
    assert.equal(end.failed?.code, "OUT_OF_MEMORY", JSON.stringify(end));
    assert.match(end.failed!.message, /already the smallest the data allows \(sequenceLength \d+, the longest example has \d+ tokens\)/);
    assert.match(end.failed!.hint, /smaller/);
    assert.deepEqual(h.adjustments.map((a) => a.sequenceLength), h.adjustments.map((_, i) => 128 / 2 ** (i + 1)));
    const s = status(started.runDirectory);
    assert.equal(s.state, "failed");
    assert.equal(readRunLock(started.runDirectory), undefined, "a failed run's lock is released");
});

test("a cancel inside the restart window ends the run cancelled at the checkpoint the restart loaded; it resumes from there", async () => {
    const h = harness({ stepOutOfMemoryAt: 3, stepOutOfMemoryAbove: 64 });
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 3, checkpointEvery: 2 }), store: h.store });
    const held = h.engine.holdNextLoad();
    await held.reached;
    assert.equal(status(started.runDirectory).state, "running", "between two attempts the run is running, not failed");
    const noticed = h.logged(`run ${started.runId}: cancel requested while the run is (re)starting`);
    const cancelled = h.service.cancel(started.runId);
    await noticed;
    held.release();
    const result = await cancelled;
    assert.equal(result.checkpointStep, 2);
    assert.equal((await ended).finished?.cancelled, true);
    const resumedEnd = h.nextEnd();
    const resumed = await h.service.resume({ runId: started.runId, store: h.store });
    assert.equal(resumed.fromStep, 2);
    const finished = (await resumedEnd).finished!;
    assert.equal(finished.cancelled, false);
    assert.deepEqual(metricSteps(started.runDirectory), oneToN(finished.steps));
});

test("a run folder another live process holds is refused naming it; a dead process's lock is taken over", async () => {
    const h = harness({}, { kind: "editor", client: "vscode test" });
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 1 }), store: h.store });
    await ended;
    const lockPath = join(started.runDirectory, LOCK_FILE_NAME);
    // A real live process: this test's parent (the test runner), recorded as a terminal's sidecar.
    const live = { kind: "terminal", client: "lora-studio-cli", pid: process.ppid, parentPid: process.pid, host: hostname(), acquiredAt: "2026-12-01T10:00:00.000Z", nonce: "livelock" };
    writeFileSync(lockPath, JSON.stringify(live));
    const before = readFileSync(join(started.runDirectory, "status.json"), "utf8");
    await assert.rejects(h.service.resume({ runId: started.runId, store: h.store, epochs: 3 }), (e: unknown) => {
        assert.ok(e instanceof RunRefusedError && e.kind === "run-locked", String(e));
        assert.match(e.message, new RegExp(`is in use: a terminal \\(lora-studio-cli, pid ${process.pid}; its sidecar pid ${process.ppid}\\)`));
        assert.equal(e.details.holder?.pid, process.ppid);
        return true;
    });
    assert.equal(readFileSync(join(started.runDirectory, "status.json"), "utf8"), before, "the refused resume wrote nothing");
    assert.equal(readRunLock(started.runDirectory)?.nonce, "livelock", "the holder's lock is untouched");

    // A process that has exited: its lock is stale.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    writeFileSync(lockPath, JSON.stringify({ ...live, pid: dead, nonce: "deadlock" }));
    const resumedEnd = h.nextEnd();
    const resumed = await h.service.resume({ runId: started.runId, store: h.store, epochs: 2 });
    assert.equal(readRunLock(started.runDirectory)?.pid, process.pid, "taken over while it trains");
    assert.ok(resumed.fromStep > 0);
    assert.ok((await resumedEnd).finished);
    assert.equal(existsSync(lockPath), false);
});

test("resume of a finished run says so and changes nothing; with more epochs it trains further from the last step", async () => {
    const h = harness();
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 2 }), store: h.store });
    const first = (await ended).finished!;
    const files = ["status.json", "metrics.jsonl", "adapter.gguf", "config.json"];
    const snapshot = () => files.map((f) => readFileSync(join(started.runDirectory, f), "utf8"));
    const before = snapshot();
    const checkpointsBefore = readdirSync(join(started.runDirectory, "checkpoints"));
    for (const epochs of [undefined, 2, 1]) {
        await assert.rejects(h.service.resume({ runId: started.runId, store: h.store, ...(epochs === undefined ? {} : { epochs }) }), (e: unknown) => {
            assert.ok(e instanceof RunRefusedError && e.kind === "run-finished", String(e));
            assert.match(e.message, new RegExp(`run ${started.runId} is finished \\(step ${first.steps}, 2 epochs\\); nothing to resume.*nothing was changed`));
            assert.match(e.hint, /more epochs than 2/);
            return true;
        });
    }
    assert.deepEqual(snapshot(), before, "status, metrics, adapter and config are byte-identical");
    assert.deepEqual(readdirSync(join(started.runDirectory, "checkpoints")), checkpointsBefore);
    assert.equal(existsSync(join(started.runDirectory, LOCK_FILE_NAME)), false, "no lock left behind");

    const furtherEnd = h.nextEnd();
    const further = await h.service.resume({ runId: started.runId, store: h.store, epochs: 4 });
    assert.equal(further.fromStep, first.steps, "continues from the checkpoint at the last step");
    assert.ok(further.totalSteps > first.steps);
    const done = (await furtherEnd).finished!;
    assert.equal(done.steps, further.totalSteps);
    assert.deepEqual(metricSteps(started.runDirectory), oneToN(done.steps), "the earlier steps are kept, the new ones follow");
    assert.equal((JSON.parse(readFileSync(join(started.runDirectory, "config.json"), "utf8")) as TrainingConfig).epochs, 4);
});

test("a start that fails before training removes its run folder, and leaves a chosen --out folder empty", async () => {
    const h = harness({ loadError: "fake: the model cannot be loaded" });
    await assert.rejects(h.service.start({ config: h.config(), store: h.store }), /the model cannot be loaded/);
    assert.deepEqual(h.runs(), [], "no run folder left in .lora-studio/runs");
    const out = join(h.workspace, "chosen-out");
    mkdirSync(out);
    await assert.rejects(h.service.start({ config: h.config(), runDirectory: out }), /the model cannot be loaded/);
    assert.deepEqual(readdirSync(out), [], "the folder the user chose is kept, empty, so the same --out works next time");
    const fresh = join(h.workspace, "new-out");
    await assert.rejects(h.service.start({ config: h.config(), runDirectory: fresh }), /the model cannot be loaded/);
    assert.equal(existsSync(fresh), false);
});

test("checkpointsToKeep prunes old checkpoints and never the one resume needs; resume sweeps stale temp files", async () => {
    const h = harness();
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 4, checkpointEvery: 1, checkpointsToKeep: 2 }), store: h.store });
    const first = (await ended).finished!;
    const dir = started.runDirectory;
    const kept = readdirSync(join(dir, "checkpoints"));
    assert.deepEqual(kept, [`step-${String(first.steps - 1).padStart(8, "0")}.ckpt`, `step-${String(first.steps).padStart(8, "0")}.ckpt`]);
    assert.ok(h.checkpoints.length > 2, "more were written than kept");

    // What a kill -9 mid-write leaves: temp files beside the run's files and its checkpoints.
    writeFileSync(join(dir, ".tmp-status.json-99999-abcd"), "{");
    writeFileSync(join(dir, "checkpoints", ".tmp-step-00000099.ckpt-99999-abcd"), "partial");
    // And the GGUF writer's temp beside an adapter being stamped with its base's fingerprint.
    writeFileSync(join(dir, "..tmp-adapter.gguf-99999-abcd.99999.1700000000000.tmp"), "GGUF partial");
    const furtherEnd = h.nextEnd();
    const further = await h.service.resume({ runId: started.runId, store: h.store, epochs: 6 });
    assert.equal(further.fromStep, first.steps, "the newest checkpoint was there to resume from");
    await furtherEnd;
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(".tmp-") || n.startsWith("..tmp-")), []);
    assert.deepEqual(readdirSync(join(dir, "checkpoints")).filter((n) => n.startsWith(".tmp-")), []);
    assert.ok(h.logs.some((l) => /removed temp files a killed write left behind: \.\.tmp-adapter\.gguf-99999-abcd\.99999\.1700000000000\.tmp, \.tmp-status\.json-99999-abcd, checkpoints\/\.tmp-step-00000099\.ckpt-99999-abcd/.test(l.message)), JSON.stringify(h.logs));
    assert.equal(readdirSync(join(dir, "checkpoints")).length, 2);
});

test("over-long examples: dropped or cut as the config says, counted in the result, status.json and the run log; \"fail\" refuses", async () => {
    const long = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(300) }, { role: "assistant", content: "long answer" }] });
    for (const [truncation, dropped, truncated] of [["drop", 1, 0], ["truncate-left", 0, 1]] as const) {
        const h = harness();
        writeFileSync(h.data, facts(12, [long]));
        const ended = h.nextEnd();
        const started = await h.service.start({ config: h.config({ epochs: 1, truncation }), store: h.store });
        await ended;
        assert.deepEqual([started.overLength?.dropped, started.overLength?.truncated, started.overLength?.policy], [dropped, truncated, truncation]);
        assert.match(started.overLength!.examples[0]!, /facts\.jsonl:13: \d+ tokens/);
        assert.deepEqual([status(started.runDirectory).overLength?.dropped, status(started.runDirectory).overLength?.truncated], [dropped, truncated]);
        assert.ok(h.logs.some((l) => l.level === "warn" && new RegExp(`examples longer than the sequence length 128: 1 ${dropped ? "left out" : "cut to 128 tokens"} \\(truncation "${truncation}"\\)`).test(l.message)), JSON.stringify(h.logs));
        assert.ok(h.logs.some((l) => l.level === "warn" && /facts\.jsonl:13: .*\[(too-long-dropped|truncated)\]/.test(l.message)));
    }
    const h = harness();
    writeFileSync(h.data, facts(12, [long]));
    await assert.rejects(h.service.start({ config: h.config({ truncation: "fail" }), store: h.store }), (e: unknown) => {
        assert.ok(e instanceof PipelineError, String(e));
        assert.match(e.message, /facts\.jsonl:13: \d+ tokens is longer than the sequence length 128, and the run config's truncation is "fail" \[too-long\]/);
        return true;
    });
    assert.deepEqual(h.runs(), []);
});

test("a config problem is refused with its field path, before anything is read or written", async () => {
    const h = harness();
    await assert.rejects(h.service.start({ config: { ...h.config(), epochs: "many" } as unknown as TrainingConfig, configPath: join(h.workspace, "x.lora.json"), store: h.store }), (e: unknown) => {
        assert.ok(e instanceof RunConfigError, String(e));
        assert.deepEqual(e.problems.map((p) => [p.code, p.path]), [["RC103", ["epochs"]]]);
        assert.match(e.message, /x\.lora\.json: invalid run config:\n {2}\/.*\/x\.lora\.json: field "epochs" must be an integer, found string/);
        return true;
    });
    await assert.rejects(h.service.start({ config: { ...h.config(), data: "facts.jsonl" }, store: h.store }), (e: unknown) => {
        assert.ok(e instanceof RunConfigError);
        assert.deepEqual(e.problems.map((p) => [p.code, p.path]), [["RC105", ["data"]]]);
        return true;
    });
    assert.equal(h.engine.loads, 0);
    assert.deepEqual(h.runs(), []);
});

test("resume of a stopped run may ask for more epochs, never fewer", async () => {
    const h = harness();
    const ended = h.nextEnd();
    const started = await h.service.start({ config: h.config({ epochs: 40 }), store: h.store });
    await h.service.cancel(started.runId);
    await ended;
    const config = readFileSync(join(started.runDirectory, "config.json"), "utf8");
    await assert.rejects(h.service.resume({ runId: started.runId, store: h.store, epochs: 40 }), (e: unknown) => {
        assert.ok(e instanceof RunRefusedError && e.kind === "invalid", String(e));
        assert.match(e.message, /already trains 40 epochs \(40 epochs asked, it trains 40\); nothing was changed/);
        return true;
    });
    assert.equal(readFileSync(join(started.runDirectory, "config.json"), "utf8"), config);
    const resumedEnd = h.nextEnd();
    const resumed = await h.service.resume({ runId: started.runId, store: h.store, epochs: 41 });
    assert.ok(resumed.totalSteps > status(started.runDirectory).step);
    await h.service.cancel(started.runId);
    await resumedEnd;
    assert.equal((JSON.parse(readFileSync(join(started.runDirectory, "config.json"), "utf8")) as TrainingConfig).epochs, 41);
});

test("a target the model lacks: a warning in the editor, a refusal at start, with the entry's path", async () => {
    const h = harness();
    const noGate = join(root, "no-gate.gguf");
    const file = writeArchBase(join(root, "gemma2.gguf"), "gemma2");
    writeGguf(noGate, { kv: file.kv, tensors: file.tensors.filter((t) => !t.name.includes("ffn_gate")).map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: new Uint8Array(t.byteLength!) })) });
    const config = h.config({ model: noGate, targetModules: ["attn_q", "ffn_gate"] });
    const editor = resolveRunConfig({ value: config }, { file: "x.lora.json", probe: nodeFileProbe });
    assert.deepEqual(editor.problems.map((p) => [p.code, p.severity, p.path]), [["RC205", "warning", ["targetModules", 1]]]);
    await assert.rejects(h.service.start({ config, store: h.store }), (e: unknown) => {
        assert.ok(e instanceof RunConfigError, String(e));
        assert.deepEqual(e.problems.map((p) => [p.code, p.severity, p.path]), [["RC205", "error", ["targetModules", 1]]]);
        assert.match(e.message, /targetModules\[1\] "ffn_gate": 'ffn_gate' selects the tensor ffn_gate, which this gemma2 model does not have/);
        return true;
    });
    assert.deepEqual(h.runs(), []);
});

test("every adapter a run saves records its base's fingerprint, finished and cancelled alike, with no temp file left", async () => {
    const h = harness();
    const expected = baseFingerprint(openModelFile(model, { skipArraysOver: 4096 }));
    let ended = h.nextEnd();
    await h.service.start({ config: h.config({ epochs: 1 }), store: h.store });
    const finished = (await ended).finished!;
    assert.deepEqual(recordedFingerprint(readGguf(finished.adapterPath)), expected);
    ended = h.nextEnd();
    const long = await h.service.start({ config: h.config({ epochs: 50 }), store: h.store });
    const cancelled = await h.service.cancel(long.runId);
    await ended;
    assert.deepEqual(recordedFingerprint(readGguf(cancelled.adapterPath)), expected);
    assert.deepEqual(readdirSync(long.runDirectory).filter((n) => n.includes("tmp")), []);
});

test("a config's output outside the workspace is refused on its field; a folder the user chose is not confined", async () => {
    const h = harness();
    const outside = mkdtempSync(join(root, "outside-"));
    const refusedOutput = (e: unknown): boolean => {
        assert.ok(e instanceof RunConfigError, String(e));
        assert.deepEqual(e.problems.map((p) => [p.code, p.path]), [["RC208", ["output"]]]);
        assert.match(e.message, /"output" is ".*outside-.*run", which resolves to .*, outside the workspace .*ws-/);
        return true;
    };
    await assert.rejects(h.service.start({ config: h.config({ output: join(outside, "run") }), store: h.store }), refusedOutput);
    // Without a workspace, a config file's folder confines it.
    const configPath = join(h.workspace, "facts.lora.json");
    await assert.rejects(h.service.start({ config: h.config({ output: "../outside-run" }), configPath }), refusedOutput);
    assert.deepEqual(readdirSync(outside), [], "nothing was written there");
    assert.equal(h.engine.loads, 0);

    // The same folder chosen directly (--out, a dialog) is the user's choice.
    let ended = h.nextEnd();
    const chosen = await h.service.start({ config: h.config({ epochs: 1 }), runDirectory: join(outside, "run"), store: h.store });
    assert.equal(chosen.runDirectory, join(outside, "run"));
    assert.ok((await ended).finished);
    ended = h.nextEnd();
    const inside = await h.service.start({ config: h.config({ epochs: 1, output: join(h.workspace, "runs", "mine") }), store: h.store });
    assert.equal(inside.runDirectory, join(h.workspace, "runs", "mine"));
    assert.ok((await ended).finished);
});
