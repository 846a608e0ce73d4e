// The export service (sidecar/src/export/service.ts, with export/runInputs.ts) driven directly, without JSON-RPC: the
// adapter and base model a run supplies, the default output beside its adapter, explicit paths over the run's, and the
// refusals. Real run folders, real GGUF files and the real exports. The engine cannot run in the unit tier, so its
// quantizer is a stand-in, named so: copyingQuantizer records the call and copies the F32 merge as the "quantized" file.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExportInputError } from "../../../sidecar/src/export";
import { ExportRequestError } from "../../../sidecar/src/export/runInputs";
import { ExportService } from "../../../sidecar/src/export/service";
import type { Quantize } from "../../../sidecar/src/export/merged";
import { NoWorkspaceError } from "../../../sidecar/src/training/namedRun";
import { RunNotFoundError, RunStore } from "../../../sidecar/src/training/runStore";
import { SMALL_SHAPE, writeArchAdapter, writeArchBase } from "../support/archModels";

const root = mkdtempSync(join(tmpdir(), "export-service-"));
after(() => rmSync(root, { recursive: true, force: true }));

const RUN_ID = "20261201-000000-abcd";

/** A workspace with one finished run: its config names `base.gguf`, relative to the workspace, as a user might write it. */
function workspaceWithRun() {
    const workspace = mkdtempSync(join(root, "ws-"));
    const base = writeArchBase(join(workspace, "base.gguf"), "llama");
    const run = join(workspace, ".lora-studio", "runs", RUN_ID);
    mkdirSync(run, { recursive: true });
    writeArchAdapter(join(run, "adapter.gguf"), base, ["blk.0.attn_q.weight", "blk.1.ffn_down.weight"]);
    writeFileSync(join(run, "config.json"), JSON.stringify({ model: "base.gguf", data: "/d.jsonl" }));
    writeFileSync(join(run, "status.json"), JSON.stringify({ formatVersion: 1, runId: RUN_ID, state: "finished", createdAt: "2026-12-01T00:00:00.000Z", updatedAt: "2026-12-01T00:00:00.000Z", step: 1, totalSteps: 1 }));
    return { workspace, base: base.path, run, adapter: join(run, "adapter.gguf") };
}

/** STAND-IN for the engine's quantizeModel (no native code in the unit tier): records the call, copies the file. */
function copyingQuantizer() {
    const calls: Array<[string, string, string]> = [];
    const quantize: Quantize = async (input, output, type) => {
        calls.push([input, output, type]);
        copyFileSync(input, output);
    };
    return { quantize, calls };
}

function service(workspace: string | undefined, quantize: Quantize = copyingQuantizer().quantize): ExportService {
    return new ExportService({ runStore: () => (workspace ? new RunStore(workspace) : undefined), workspaceRoot: () => workspace, quantize });
}

test("a run supplies the adapter and its config's base model; the default output lies beside the run's adapter", async () => {
    const w = workspaceWithRun();
    const quantizer = copyingQuantizer();
    const exports = service(w.workspace, quantizer.quantize);
    const lora = await exports.run({ runId: RUN_ID, format: "gguf-lora" });
    assert.equal(lora.path, join(w.run, "export", "adapter.gguf"));
    assert.deepEqual(readFileSync(lora.path), readFileSync(w.adapter));
    assert.deepEqual(lora.warnings, []);
    // The same run by its folder; an explicit output path wins.
    const out = join(w.workspace, "elsewhere", "copy.gguf");
    assert.equal((await exports.run({ runDirectory: w.run, format: "gguf-lora", out })).path, out);
    assert.equal(quantizer.calls.length, 0, "a GGUF LoRA copy never asks the engine");
    // A quantized merged model is the engine's work: the service hands it the F32 merge.
    const merged = await exports.run({ runId: RUN_ID, format: "merged", type: "q8_0" });
    assert.equal(merged.path, join(w.run, "export", "merged-q8_0.gguf"));
    assert.deepEqual(quantizer.calls.map(([, output, type]) => [output, type]), [[merged.path, "q8_0"]]);
    assert.ok(existsSync(merged.path));
});

test("refused: an option of another format, nothing to export, a run id without a workspace or unknown, an adapter for another base", async () => {
    const w = workspaceWithRun();
    const exports = service(w.workspace);
    await assert.rejects(exports.run({ runId: RUN_ID, format: "peft", type: "q8_0" }), (e: unknown) => e instanceof ExportRequestError && /"type" applies to format "merged" only, got format "peft"/.test(e.message));
    await assert.rejects(exports.run({ runId: RUN_ID, format: "merged", dtype: "f16" }), (e: unknown) => e instanceof ExportRequestError && /"dtype" applies to format "peft" only/.test(e.message));
    await assert.rejects(exports.run({ adapter: w.adapter, format: "gguf-lora" }), (e: unknown) => e instanceof ExportRequestError && /needs a run \(runId or runDirectory\) or both adapter and model/.test(e.message));
    await assert.rejects(service(undefined).run({ runId: RUN_ID, format: "gguf-lora" }), NoWorkspaceError);
    await assert.rejects(exports.run({ runId: "no-such-run", format: "gguf-lora" }), RunNotFoundError);
    const wider = writeArchBase(join(w.workspace, "wider.gguf"), "llama", { shape: { ...SMALL_SHAPE, nEmbd: 32 } });
    await assert.rejects(exports.run({ runId: RUN_ID, model: wider.path, format: "gguf-lora", out: join(w.workspace, "never.gguf") }), (e: unknown) => {
        assert.ok(e instanceof ExportInputError, String(e));
        assert.ok(e.message.includes(w.adapter) && e.message.includes(wider.path), e.message);
        return true;
    });
    assert.equal(existsSync(join(w.workspace, "never.gguf")), false);
    assert.equal(existsSync(join(w.run, "export")), false, "nothing was written");
});
