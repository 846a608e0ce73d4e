// eval/run through the real sidecar process (dist/sidecar.mjs, real node-llama-cpp), as "LoRA Studio: Evaluate"
// drives it: one eval/progress per example carrying the rows of the final report, eval/cancel in the middle,
// a run picked by id from the workspace's runs, and the gates (untrusted workspace, bad adapter). Every wait
// is on a response or a notification.
import assert from "node:assert/strict";
import { test } from "node:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import {
    EvalCancelRequest,
    EvalProgressNotification,
    type EvalProgressParams,
    EvalRunRequest,
    type EvalRunParams,
    SidecarErrorCode
} from "../../sidecar/src/protocol/sidecar";
import type { SidecarSupervisor } from "../../extension/src/sidecar/supervisor";
import { factsAdapter } from "../oracle/trainedAdapter";
import { writeOtherBaseAdapter } from "./otherBaseAdapter";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

/** An evaluation is one long request; the supervisor would kill a sidecar silent for longer. */
const EVAL_TIMEOUT_MS = 20 * 60_000;

async function evaluate(supervisor: SidecarSupervisor, params: EvalRunParams, onProgress?: (p: EvalProgressParams) => void) {
    const progress: EvalProgressParams[] = [];
    const subscription = supervisor.onNotification(EvalProgressNotification.type, (p: EvalProgressParams) => {
        if (p.evalId !== params.evalId) return;
        progress.push(p);
        onProgress?.(p);
    });
    try {
        const report = await supervisor.sendRequest(EvalRunRequest.type, { threads: 1, maxTokens: 8, ...params }, { timeoutMs: EVAL_TIMEOUT_MS });
        return { report, progress };
    } finally {
        subscription.dispose();
    }
}

async function evalError(supervisor: SidecarSupervisor, params: EvalRunParams): Promise<ResponseError<unknown>> {
    try {
        await evaluate(supervisor, params);
    } catch (error) {
        assert.ok(error instanceof ResponseError, `a typed JSON-RPC error, got ${String(error)}`);
        return error;
    }
    assert.fail(`eval/run ${JSON.stringify(params)} succeeded`);
}

test("eval over the sidecar: progress per example, a run by id, cancel, and the gates", { timeout: 30 * 60_000 }, async (t) => {
    const facts = await factsAdapter();
    const workspace = tempWorkspace("lora-studio-eval-ws-");
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: workspace, workspaceTrusted: true }) });
    t.after(() => supervisor.stop());
    await supervisor.start();

    await t.test("eval/run streams one eval/progress per example and answers with the report", async () => {
        const out = join(workspace, "reports");
        const { report, progress } = await evaluate(supervisor, { evalId: "e1", model: facts.model, adapter: facts.adapter, data: facts.data, limit: 5, outDir: out });
        assert.equal(report.cancelled, false);
        assert.equal(report.rows.length, 5);
        assert.deepEqual(progress.map((p) => p.done), [0, 1, 2, 3, 4, 5]);
        assert.ok(progress.every((p) => p.total === 5));
        assert.deepEqual(progress.flatMap((p) => (p.row ? [p.row] : [])), report.rows, "the streamed rows are the report's");
        assert.ok(report.summary.em.tuned > report.summary.em.base);
        assert.ok(report.files && existsSync(report.files.json) && existsSync(report.files.csv));
    });

    await t.test("eval/run by runId uses the run's adapter and writes into the run folder", async () => {
        const run = join(workspace, ".lora-studio", "runs", "20261122-000000-abcd");
        mkdirSync(run, { recursive: true });
        copyFileSync(facts.adapter, join(run, "adapter.gguf"));
        writeFileSync(join(run, "config.json"), JSON.stringify({ model: facts.model, data: facts.data, validationSplit: 0 }));
        writeFileSync(join(run, "status.json"), JSON.stringify({ formatVersion: 1, runId: "20261122-000000-abcd", state: "finished", createdAt: "2026-11-22T00:00:00.000Z", updatedAt: "2026-11-22T00:00:00.000Z", step: 1, totalSteps: 1 }));
        const { report } = await evaluate(supervisor, { evalId: "e2", runId: "20261122-000000-abcd", data: facts.data, limit: 2 });
        assert.equal(report.runId, "20261122-000000-abcd");
        assert.equal(report.adapter, join(run, "adapter.gguf"));
        assert.ok(readdirSync(run).some((f) => /^eval-.*\.json$/.test(f)), "the report lies in the run folder");

        const unknown = await evalError(supervisor, { evalId: "e3", runId: "no-such-run" });
        assert.equal(unknown.code, SidecarErrorCode.RunNotFound);
    });

    await t.test("eval/cancel stops an evaluation, which answers with the rows so far and writes nothing", async () => {
        const out = join(workspace, "cancelled");
        let cancelled: Promise<boolean> | undefined;
        const { report } = await evaluate(supervisor, { evalId: "e4", model: facts.model, adapter: facts.adapter, data: facts.data, outDir: out }, (p) => {
            if (p.row && !cancelled) cancelled = supervisor.sendRequest(EvalCancelRequest.type, { evalId: "e4" });
        });
        assert.equal(await cancelled, true);
        assert.equal(report.cancelled, true);
        assert.ok(report.rows.length >= 1 && report.rows.length < facts.facts.length, `stopped early: ${report.rows.length} rows`);
        assert.equal(report.files, undefined);
        assert.ok(!existsSync(out), "no report files for a cancelled evaluation");
        assert.equal(await supervisor.sendRequest(EvalCancelRequest.type, { evalId: "e4" }), false, "nothing left to cancel");
    });

    await t.test("a mismatched adapter is refused with InvalidParams naming both files", async () => {
        const dir = tempWorkspace("lora-studio-eval-bad-");
        // An adapter trained on another base: the shapes say so.
        const otherBase = join(dir, "other-base-adapter.gguf");
        writeOtherBaseAdapter(otherBase);
        const error = await evalError(supervisor, { evalId: "e5", model: facts.model, adapter: otherBase, data: facts.data });
        assert.equal(error.code, SidecarErrorCode.InvalidParams);
        assert.ok(error.message.includes(otherBase) && error.message.includes(facts.model), error.message);
        assert.match(error.message, /does not fit base model .*it was trained on another base model/);
        // A base model given as the adapter is no LoRA adapter at all: said so, in the words chat and export use.
        const modelAsAdapter = join(dir, "model-copy.gguf");
        copyFileSync(facts.model, modelAsAdapter);
        const notAnAdapter = await evalError(supervisor, { evalId: "e5b", model: facts.model, adapter: modelAsAdapter, data: facts.data });
        assert.equal(notAnAdapter.code, SidecarErrorCode.InvalidParams);
        assert.ok(notAnAdapter.message.includes(modelAsAdapter) && notAnAdapter.message.includes(facts.model), notAnAdapter.message);
        assert.match(notAnAdapter.message, /it is not a LoRA adapter \(general\.type null, adapter\.type null; .*\); is it a base model\?/);
        const missing = await evalError(supervisor, { evalId: "e6", model: facts.model });
        assert.equal(missing.code, SidecarErrorCode.InvalidParams);
    });
});

test("eval/run is refused in an untrusted workspace", { timeout: 5 * 60_000 }, async (t) => {
    const facts = await factsAdapter();
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: tempWorkspace(), workspaceTrusted: false }) });
    t.after(() => supervisor.stop());
    const error = await evalError(supervisor, { evalId: "u1", model: facts.model, adapter: facts.adapter, data: facts.data });
    assert.equal(error.code, SidecarErrorCode.WorkspaceUntrusted);
});
