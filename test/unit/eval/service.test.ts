// The evaluation service (sidecar/src/eval/service.ts) driven directly, without JSON-RPC: one evaluation per evalId,
// cancel by id, the run a request names, and the refusals. Real run store, real run folders, and the real runner for
// what it decides before a model loads (an adapter for another base). One fake, where the unit tier cannot run the real
// part, named so: fakeEvaluation stands in for runEval's model loading and answering (no native code here; the real
// evaluation runs in test/integration/eval-sidecar.test.ts).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EvalOptions } from "../../../sidecar/src/eval/runner";
import { EvalInputError } from "../../../sidecar/src/eval/runner";
import { aggregate } from "../../../sidecar/src/eval/metrics";
import { EvalRequestError, EvalService } from "../../../sidecar/src/eval/service";
import type { EvalReport } from "../../../sidecar/src/protocol/sidecar";
import { NoWorkspaceError } from "../../../sidecar/src/training/namedRun";
import { RunNotFoundError, RunStore } from "../../../sidecar/src/training/runStore";
import { SMALL_SHAPE, writeArchAdapter, writeArchBase } from "../support/archModels";

const root = mkdtempSync(join(tmpdir(), "eval-service-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** FAKE: runEval without a model. Reports one example, then answers when its signal aborts (cancel) or `finish` is called. */
function fakeEvaluation() {
    const calls: EvalOptions[] = [];
    const pending: Array<() => void> = [];
    const evaluate = (options: EvalOptions): Promise<EvalReport> => {
        calls.push(options);
        options.onProgress?.({ done: 0, total: 2 });
        return new Promise((settle) => {
            const answer = (): void => settle({
                formatVersion: 1, createdAt: new Date(0).toISOString(), model: options.model ?? "", adapter: options.adapter ?? "", data: [], source: "file",
                maxTokens: options.maxTokens ?? 128, summary: aggregate([], [], 0), rows: [], skipped: [], cancelled: options.signal?.aborted === true, elapsedSeconds: 0
            });
            options.signal?.addEventListener("abort", answer);
            pending.push(answer);
        });
    };
    return { evaluate, calls, finishAll: () => pending.splice(0).forEach((f) => f()) };
}

function workspaceWithRun(runId: string): { workspace: string; run: string } {
    const workspace = mkdtempSync(join(root, "ws-"));
    const run = join(workspace, ".lora-studio", "runs", runId);
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.json"), JSON.stringify({ model: "/m.gguf", data: "/d.jsonl" }));
    writeFileSync(join(run, "status.json"), JSON.stringify({ formatVersion: 1, runId, state: "finished", createdAt: "2026-12-01T00:00:00.000Z", updatedAt: "2026-12-01T00:00:00.000Z", step: 1, totalSteps: 1 }));
    return { workspace, run };
}

const files = { model: "/m.gguf", adapter: "/a.gguf", data: "/d.jsonl" };

test("one evaluation per evalId: a second is refused while the first runs; cancel stops it once; cancelAll stops the rest (evaluation: fakeEvaluation)", async () => {
    const fake = fakeEvaluation();
    const service = new EvalService({ runStore: () => undefined, evaluate: fake.evaluate });
    const progress: number[] = [];
    const first = service.run({ evalId: "e1", ...files, maxTokens: 8 }, (p) => progress.push(p.done));
    await assert.rejects(service.run({ evalId: "e1", ...files }), (e: unknown) => e instanceof EvalRequestError && /evalId "e1" is already running/.test(e.message));
    assert.equal(fake.calls.length, 1, "the refused one never started");
    assert.deepEqual(progress, [0], "progress reaches the caller");
    assert.deepEqual([fake.calls[0]!.model, fake.calls[0]!.adapter, fake.calls[0]!.data, fake.calls[0]!.maxTokens], ["/m.gguf", "/a.gguf", "/d.jsonl", 8]);
    assert.equal(service.cancel("e1"), true);
    assert.equal((await first).cancelled, true);
    assert.equal(service.cancel("e1"), false, "nothing left to cancel");

    const a = service.run({ evalId: "a", ...files });
    const b = service.run({ evalId: "b", ...files });
    service.cancelAll();
    assert.deepEqual((await Promise.all([a, b])).map((r) => r.cancelled), [true, true]);
    // The id is free again once its evaluation answered.
    const again = service.run({ evalId: "e1", ...files });
    fake.finishAll();
    assert.equal((await again).cancelled, false);
});

test("a run named by id is evaluated from its folder; an unknown id, no workspace and nothing to evaluate are refused before anything runs", async () => {
    const fake = fakeEvaluation();
    const { workspace, run } = workspaceWithRun("20261201-000000-abcd");
    const service = new EvalService({ runStore: () => new RunStore(workspace), evaluate: fake.evaluate });
    const byId = service.run({ evalId: "r1", runId: "20261201-000000-abcd", limit: 2 });
    assert.equal(fake.calls[0]!.runDirectory, run);
    assert.equal(fake.calls[0]!.limit, 2);
    fake.finishAll();
    await byId;
    const byFolder = service.run({ evalId: "r2", runDirectory: run });
    assert.equal(fake.calls[1]!.runDirectory, run);
    fake.finishAll();
    await byFolder;

    await assert.rejects(service.run({ evalId: "x1", runId: "no-such-run" }), RunNotFoundError);
    await assert.rejects(new EvalService({ runStore: () => undefined, evaluate: fake.evaluate }).run({ evalId: "x2", runId: "20261201-000000-abcd" }), NoWorkspaceError);
    await assert.rejects(service.run({ evalId: "x3", model: "/m.gguf" }), (e: unknown) => e instanceof EvalRequestError && /needs a run \(runId or runDirectory\) or all of model, adapter and data/.test(e.message));
    assert.equal(fake.calls.length, 2);
});

test("an adapter for another base is refused naming both files, before any model loads (the real runner)", async () => {
    const dir = mkdtempSync(join(root, "files-"));
    const base = writeArchBase(join(dir, "base.gguf"), "llama");
    const wider = writeArchBase(join(dir, "wider.gguf"), "llama", { shape: { ...SMALL_SHAPE, nEmbd: 32 } });
    const adapter = join(dir, "wider-adapter.gguf");
    writeArchAdapter(adapter, wider, ["blk.0.attn_q.weight"]);
    const data = join(dir, "held-out.jsonl");
    writeFileSync(data, `${JSON.stringify({ messages: [{ role: "user", content: "Q?" }, { role: "assistant", content: "A." }] })}\n`);
    const service = new EvalService({ runStore: () => undefined });
    await assert.rejects(service.run({ evalId: "m1", model: base.path, adapter, data }), (e: unknown) => {
        assert.ok(e instanceof EvalInputError, String(e));
        assert.ok(e.message.includes(adapter) && e.message.includes(base.path), e.message);
        assert.match(e.message, /blk\.0\.attn_q\.weight is \[16, 16\] in the base model but the adapter expects \[32, 32\]/);
        return true;
    });
    assert.equal(service.cancel("m1"), false, "a refused evaluation leaves nothing running");
});
