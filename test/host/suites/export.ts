// "LoRA Studio: Export" in a real extension host: a finished run of the workspace (the facts adapter's run, copied
// in) is exported through the real sidecar to an Ollama Modelfile, a merged F16 GGUF and a BF16 PEFT folder; exporting
// onto an existing export asks before replacing it (issue 12.4); and a run whose base model does not fit its adapter is
// refused with an error naming both files. The Axolotl target asks for the base's Hugging Face repository when the
// GGUF names none, and writes the job folder.
//
// LORA_STUDIO_TEST_FACTS_RUN (set by test/e2e/export.test.ts) is the run folder of test/oracle/trainedAdapter.ts.
import * as assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { suite } from "../harness";
import { activateExtensionUnderTest } from "../vscodeHelpers";
import type { ExportCommandArgs } from "../../../extension/src/export/commands";
import type { ExportRunResult } from "../../../sidecar/src/protocol/sidecar";

const COMMAND = "loraStudio.export";

function copyRun(from: string, root: string, runId: string, model?: string): void {
    const to = join(root, ".lora-studio", "runs", runId);
    mkdirSync(to, { recursive: true });
    for (const f of ["adapter.gguf", "metrics.jsonl", "dataset.sha256"]) if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
    const status = JSON.parse(readFileSync(join(from, "status.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(to, "status.json"), JSON.stringify({ ...status, runId }, null, 2));
    const config = JSON.parse(readFileSync(join(from, "config.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(to, "config.json"), JSON.stringify({ ...config, ...(model ? { model } : {}) }, null, 2));
}

suite("export", (test) => {
    test("a finished run exports to an Ollama Modelfile, a merged GGUF and a BF16 PEFT folder beside its adapter", async () => {
        await activateExtensionUnderTest();
        const source = process.env.LORA_STUDIO_TEST_FACTS_RUN;
        assert.ok(source, "LORA_STUDIO_TEST_FACTS_RUN is set by test/e2e/export.test.ts");
        const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        assert.ok(root, "the in-host tests run with a workspace folder open");
        const runId = `facts-${process.pid}`;
        copyRun(source, root, runId);

        const ollama = (await vscode.commands.executeCommand(COMMAND, { runId, format: "ollama", quiet: true } satisfies ExportCommandArgs)) as ExportRunResult | undefined;
        assert.ok(ollama, "the export returned a result");
        assert.equal(ollama.path, join(root, ".lora-studio", "runs", runId, "export", "ollama", "Modelfile"));
        const modelfile = readFileSync(ollama.path, "utf8");
        assert.match(modelfile, new RegExp(`^FROM .*tiny-f32\\.gguf\\nADAPTER .*${runId}/adapter\\.gguf\\nTEMPLATE """`));
        assert.match(modelfile, /PARAMETER stop "<\|end\|>"/);

        const merged = (await vscode.commands.executeCommand(COMMAND, { runId, format: "merged", type: "f16" } satisfies ExportCommandArgs)) as ExportRunResult | undefined;
        assert.ok(merged && existsSync(merged.path), "the merged model was written");
        assert.equal(readFileSync(merged.path).subarray(0, 4).toString("latin1"), "GGUF");

        // With the format given, the dtype picker is skipped; dtype names the default folder.
        const peft = (await vscode.commands.executeCommand(COMMAND, { runId, format: "peft", dtype: "bf16", quiet: true } satisfies ExportCommandArgs)) as ExportRunResult | undefined;
        assert.ok(peft, "the PEFT export returned a result");
        assert.equal(peft.path, join(root, ".lora-studio", "runs", runId, "export", "peft-bf16"));
        const st = readFileSync(join(peft.path, "adapter_model.safetensors"));
        const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString("utf8")) as Record<string, { dtype?: string }>;
        assert.equal(header["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"]?.dtype, "BF16");
    }, { timeoutMs: 240_000 });

    test("exporting onto an existing export asks first: no keeps the old file, yes replaces it", async () => {
        await activateExtensionUnderTest();
        const source = process.env.LORA_STUDIO_TEST_FACTS_RUN!;
        const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
        const runId = `again-${process.pid}`;
        copyRun(source, root, runId);
        const first = (await vscode.commands.executeCommand(COMMAND, { runId, format: "gguf-lora", quiet: true } satisfies ExportCommandArgs)) as ExportRunResult | undefined;
        assert.ok(first, "the first export is written");
        writeFileSync(first.path, "a file the user keeps");
        // The confirmation's answer comes through the command's test argument instead of the modal.
        const declined = await vscode.commands.executeCommand(COMMAND, { runId, format: "gguf-lora", quiet: true, replaceExisting: false } satisfies ExportCommandArgs);
        assert.equal(declined, undefined, "declined: no result");
        assert.equal(readFileSync(first.path, "utf8"), "a file the user keeps", "declined: the old file stays");
        const replaced = (await vscode.commands.executeCommand(COMMAND, { runId, format: "gguf-lora", quiet: true, replaceExisting: true } satisfies ExportCommandArgs)) as ExportRunResult | undefined;
        assert.ok(replaced, "confirmed: the export is written");
        assert.equal(readFileSync(replaced.path).subarray(0, 4).toString("latin1"), "GGUF", "confirmed: replaced by the export");
    }, { timeoutMs: 120_000 });

    test("the Axolotl target asks for the repository the GGUF does not name, resends, and writes the job folder", async () => {
        await activateExtensionUnderTest();
        const source = process.env.LORA_STUDIO_TEST_FACTS_RUN!;
        const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
        const runId = `axolotl-${process.pid}`;
        copyRun(source, root, runId);
        const args = { runId, format: "axolotl", gpus: 2, strategy: "deepspeed-zero2", quiet: true } satisfies ExportCommandArgs;
        // The tiny GGUF records no Hugging Face repository: the sidecar says so, the command asks (here: the test's
        // answer) and sends the request again with it.
        const result = (await vscode.commands.executeCommand(COMMAND, { ...args, baseModelRepoAnswer: "example-org/tiny-llama" } satisfies ExportCommandArgs)) as ExportRunResult | undefined;
        assert.ok(result, "the Axolotl export returned a result");
        assert.equal(result.path, join(root, ".lora-studio", "runs", runId, "export", "axolotl"));
        const config = readFileSync(join(result.path, "config.yml"), "utf8");
        assert.match(config, /^base_model: example-org\/tiny-llama\n/);
        assert.match(config, /\ndeepspeed: deepspeed_configs\/zero2\.json\n/);
        assert.match(readFileSync(join(result.path, "README.md"), "utf8"), /accelerate launch --num_processes 2 -m axolotl\.cli\.train config\.yml/);
    }, { timeoutMs: 120_000 });

    test("a run whose base model is not the adapter's is refused, naming both files", async () => {
        await activateExtensionUnderTest();
        const source = process.env.LORA_STUDIO_TEST_FACTS_RUN!;
        const root = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
        const runId = `mismatched-${process.pid}`;
        const adapterAsModel = join(source, "adapter.gguf"); // an adapter is no base model
        copyRun(source, root, runId, adapterAsModel);
        const result = await vscode.commands.executeCommand(COMMAND, { runId, format: "gguf-lora", quiet: true } satisfies ExportCommandArgs);
        assert.equal(result, undefined, "the command reports the error instead of a result");
        assert.equal(existsSync(join(root, ".lora-studio", "runs", runId, "export")), false, "nothing was written");
    });
}, { onlyWhenSelected: true });
