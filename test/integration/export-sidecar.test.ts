// export/run through a real sidecar process: a run folder's adapter and base model (from its config) are exported
// to the requested target; a base the adapter does not fit is refused naming both files; an untrusted workspace
// is refused before any file is read.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import { ExportRunRequest, SidecarErrorCode } from "../../sidecar/src/protocol/sidecar";
import { GGUF_MAGIC } from "../../sidecar/src/gguf";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { engineSkip } from "./engineHarness";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

const dir = mkdtempSync(join(tmpdir(), "export-sidecar-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fx: FactsAdapter;
before(async () => {
    fx = await factsAdapter();
});

test("export/run writes a run's exports and refuses an adapter for another base", { skip: engineSkip }, async () => {
    const { supervisor } = testSupervisor();
    try {
        const runDirectory = dirname(fx.adapter);
        const lora = await supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "gguf-lora", out: join(dir, "copy.gguf") });
        assert.equal(lora.path, join(dir, "copy.gguf"));
        assert.equal(readFileSync(lora.path).readUInt32LE(0), GGUF_MAGIC);

        const merged = await supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "merged", type: "q8_0", out: join(dir, "merged-q8_0.gguf") });
        assert.ok(existsSync(merged.path));

        const modelfile = await supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "ollama", out: join(dir, "ollama", "Modelfile") });
        assert.match(readFileSync(modelfile.path, "utf8"), /^FROM .*tiny-f32\.gguf\nADAPTER .*adapter\.gguf\nTEMPLATE """/);

        // dtype (peft only) reaches the safetensors header.
        const peft = await supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "peft", dtype: "bf16", out: join(dir, "peft-bf16") });
        const st = readFileSync(join(peft.path, "adapter_model.safetensors"));
        const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString("utf8")) as Record<string, { dtype?: string }>;
        assert.deepEqual(new Set(Object.entries(header).filter(([k]) => k !== "__metadata__").map(([, v]) => v.dtype)), new Set(["BF16"]));
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "peft", dtype: "fp8" as never }), /"dtype" must be one of f32, f16, bf16, got "fp8"/);
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "merged", dtype: "f16" }), /"dtype" applies to format "peft" only/);

        const other = join(dir, "other.gguf");
        makeTinyModel({ out: other, quant: "f32", shape: { nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 512 }, seed: 5 });
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { adapter: fx.adapter, model: other, format: "peft", out: join(dir, "peft") }), (err: unknown) => {
            assert.ok(err instanceof ResponseError);
            assert.equal(err.code, SidecarErrorCode.InvalidParams);
            assert.ok(err.message.includes(fx.adapter) && err.message.includes(other), err.message);
            return true;
        });
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory, format: "zip" as never }), /"format" must be one of/);
    } finally {
        await supervisor.stop();
    }
});

test("export/run is refused in an untrusted workspace", async () => {
    const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: tempWorkspace(), workspaceTrusted: false }) });
    try {
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { adapter: fx.adapter, model: fx.model, format: "gguf-lora", out: join(dir, "never.gguf") }), (err: unknown) => {
            assert.ok(err instanceof ResponseError);
            assert.equal(err.code, SidecarErrorCode.WorkspaceUntrusted);
            return true;
        });
        assert.equal(existsSync(join(dir, "never.gguf")), false);
    } finally {
        await supervisor.stop();
    }
});
