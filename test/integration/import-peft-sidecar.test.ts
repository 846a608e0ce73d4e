// adapter/import through a real sidecar process (what "LoRA Studio: Import Adapter" sends): our PEFT export of the
// trained facts adapter comes back as a GGUF LoRA; an existing output is ExportTargetExists (with its path) until the
// request says overwrite; a folder for another base is InvalidParams naming the file; an untrusted workspace is
// refused before any file is read.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import { runExport } from "../../sidecar/src/export";
import { AdapterImportRequest, SidecarErrorCode } from "../../sidecar/src/protocol/sidecar";
import { archFixturePath } from "../oracle/fixtures";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

const dir = mkdtempSync(join(tmpdir(), "import-peft-sidecar-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fx: FactsAdapter;
let peft: string;
before(async () => {
    fx = await factsAdapter();
    peft = join(dir, "peft");
    await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out: peft });
});

const code = (expected: number) => (err: unknown): boolean => {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.code, expected, err.message);
    return true;
};

test("adapter/import writes the GGUF LoRA, asks before replacing it, and refuses an adapter for another base", async () => {
    const { supervisor } = testSupervisor();
    try {
        const out = join(dir, "imported.gguf");
        const result = await supervisor.sendRequest(AdapterImportRequest.type, { peft, model: fx.model, out });
        assert.deepEqual([result.path, result.arch, result.pairs, result.alpha], [out, "llama", 28, 32]);

        await assert.rejects(supervisor.sendRequest(AdapterImportRequest.type, { peft, model: fx.model, out }), (err: unknown) => {
            code(SidecarErrorCode.ExportTargetExists)(err);
            assert.deepEqual((err as ResponseError<{ paths: string[] }>).data?.paths, [out]);
            return true;
        });
        assert.equal((await supervisor.sendRequest(AdapterImportRequest.type, { peft, model: fx.model, out, overwrite: true })).path, out);

        await assert.rejects(supervisor.sendRequest(AdapterImportRequest.type, { peft, model: archFixturePath("phi3", "f32"), out: join(dir, "phi3.gguf") }), (err: unknown) => {
            code(SidecarErrorCode.InvalidParams)(err);
            assert.match((err as Error).message, /adapter_model\.safetensors: tensor '.*q_proj\.lora_A\.weight': .*the adapter is for another base/);
            return true;
        });
        assert.equal(existsSync(join(dir, "phi3.gguf")), false);
        await assert.rejects(supervisor.sendRequest(AdapterImportRequest.type, { peft, model: fx.model } as never), /"out" must be given/);
    } finally {
        await supervisor.stop();
    }
});

test("adapter/import is refused in an untrusted workspace", async () => {
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: tempWorkspace(), workspaceTrusted: false }) });
    try {
        await assert.rejects(supervisor.sendRequest(AdapterImportRequest.type, { peft, model: fx.model, out: join(dir, "never.gguf") }), code(SidecarErrorCode.WorkspaceUntrusted));
        assert.equal(existsSync(join(dir, "never.gguf")), false);
    } finally {
        await supervisor.stop();
    }
});
