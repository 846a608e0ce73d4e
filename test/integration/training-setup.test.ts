// Before a run starts, through the real sidecar process and the tiny model: dataset/prepare runs the pipeline and
// reports what a run would train on, run/estimate gives the memory per preset, and run/start refuses a run the
// pre-flight memory check finds cannot fit however small its micro-batch gets, a model the engine cannot train and
// a target the model cannot take; a Gemma template's folding of system prompts is said once in the run log.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ResponseError } from "vscode-jsonrpc";
import {
    DatasetPrepareRequest, RunEstimateRequest, RunStartRequest, SidecarErrorCode, type SidecarCapabilities
} from "../../sidecar/src/protocol/sidecar";
import { detectPreset, TRAINING_PRESET_IDS } from "../../sidecar/src/training/presets";
import { fixturePath } from "../oracle/fixtures";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { writeArchBase } from "../unit/support/archModels";
import { runCli, writeFactSet } from "./trainCliHarness";
import { tempWorkspace, testSupervisor } from "./sidecarHarness";

const HANG_GUARD = { timeout: 300_000 };
const dir = tempWorkspace("training-setup-");
const { supervisor } = testSupervisor({ initializeParams: () => ({ workspaceRoot: dir, workspaceTrusted: true }) });
after(() => supervisor.stop());

function typedError(code: number, message?: RegExp) {
    return (error: unknown): true => {
        assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
        assert.equal(error.code, code, error.message);
        if (message) assert.match(error.message, message);
        assert.equal(typeof (error.data as { hint?: unknown }).hint, "string");
        return true;
    };
}

async function engineCapabilities(t: { skip(message: string): void }): Promise<SidecarCapabilities | undefined> {
    const { capabilities } = await supervisor.start();
    if (!capabilities.engineAvailable) {
        if (process.env.CI) assert.fail(`the engine must load in CI: ${capabilities.engineError}`);
        t.skip(`native engine unavailable: ${capabilities.engineError}`);
        return undefined;
    }
    return capabilities;
}

test("dataset/prepare reports examples, trainable tokens, packed rows and the dataset hash", HANG_GUARD, async (t) => {
    if (!(await engineCapabilities(t))) return;
    const data = join(dir, "facts.jsonl");
    writeFactSet(data, 12);
    const result = await supervisor.sendRequest(DatasetPrepareRequest.type, { model: fixturePath("tiny-f32.gguf"), data: "facts.jsonl", validationSplit: 0.25, contextLength: 128, seed: 3 });
    assert.equal(result.datasetSha256, createHash("sha256").update(readFileSync(data)).digest("hex"));
    assert.equal(result.trainExamples + result.validationExamples, 12);
    assert.equal(result.validationExamples, 3);
    assert.equal(result.leakedExamples, 0);
    assert.ok(result.trainableTokens >= result.trainExamples * 2, `every one-word answer plus its end token is trained: ${result.trainableTokens}`);
    assert.ok(result.sequences >= 1 && result.sequences < result.trainExamples, `several facts share a 128-token row: ${result.sequences} rows`);

    const shorter = await supervisor.sendRequest(DatasetPrepareRequest.type, { model: fixturePath("tiny-f32.gguf"), data, validationSplit: 0.25, contextLength: 32, seed: 3 });
    assert.ok(shorter.sequences > result.sequences, "shorter rows hold fewer examples each");
});

test("dataset/prepare names the bad line and the bad field", HANG_GUARD, async (t) => {
    if (!(await engineCapabilities(t))) return;
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `${JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }] })}\n{"messages": 3}\n`);
    await assert.rejects(supervisor.sendRequest(DatasetPrepareRequest.type, { model: fixturePath("tiny-f32.gguf"), data: bad }), typedError(SidecarErrorCode.InvalidParams, /bad\.jsonl:2/));
    await assert.rejects(
        supervisor.sendRequest(DatasetPrepareRequest.type, { model: fixturePath("tiny-f32.gguf"), data: bad, contextLength: 4 }),
        typedError(SidecarErrorCode.InvalidParams, /contextLength/)
    );
    await assert.rejects(supervisor.sendRequest(DatasetPrepareRequest.type, { model: fixturePath("tiny-f32.gguf"), data: join(dir, "missing.jsonl") }), typedError(SidecarErrorCode.InvalidParams, /missing\.jsonl/));
});

test("run/estimate gives the memory of the model as configured and per preset, and the detected preset", HANG_GUARD, async (t) => {
    const capabilities = await engineCapabilities(t);
    if (!capabilities) return;
    const result = await supervisor.sendRequest(RunEstimateRequest.type, { model: fixturePath("tiny-f32.gguf"), settings: { sequenceLength: 128 }, presets: [...TRAINING_PRESET_IDS] });
    assert.equal(result.device, capabilities.cuda ? "cuda" : "cpu");
    assert.ok(result.availableBytes > 0);
    assert.equal(result.detectedPreset, detectPreset({ cuda: capabilities.cuda, ...(capabilities.devices[0] ? { totalBytes: capabilities.devices[0].totalBytes } : {}) }));
    assert.equal(result.estimate.fits, true, `the tiny model fits: ${JSON.stringify(result.estimate)}`);
    assert.deepEqual(result.presets.map((p) => p.id), [...TRAINING_PRESET_IDS]);
    const byId = Object.fromEntries(result.presets.map((p) => [p.id, p.estimate.totalBytes]));
    assert.ok(byId["gpu-12gb"]! > byId["gpu-6gb"]!, "1024-token rows need more than 512-token rows");
    assert.ok(result.estimate.totalBytes < byId["gpu-6gb"]!, "128-token rows need less than 512");
    await assert.rejects(supervisor.sendRequest(RunEstimateRequest.type, { model: join(dir, "facts.jsonl") }), typedError(SidecarErrorCode.InvalidParams, /facts\.jsonl/));
});

test("run/start refuses a run that cannot fit even with the shortest rows its data allows", HANG_GUARD, async (t) => {
    if (!(await engineCapabilities(t))) return;
    // One example of ~70 000 tokens: rows cannot get shorter than it, and 131 072-token rows need terabytes.
    const data = join(dir, "long.jsonl");
    writeFileSync(data, `${JSON.stringify({ messages: [{ role: "user", content: "go" }, { role: "assistant", content: "la ".repeat(70_000) }] })}\n`);
    await assert.rejects(
        supervisor.sendRequest(RunStartRequest.type, { config: { model: fixturePath("tiny-f32.gguf"), data, sequenceLength: 131072, epochs: 1 } }),
        typedError(SidecarErrorCode.InsufficientMemory, /not enough memory: the run needs about .* GiB .* has .* GiB free/)
    );
});

test("run/start refuses a model the engine cannot train, and a target the model cannot take, before the data is read", HANG_GUARD, async (t) => {
    if (!(await engineCapabilities(t))) return;
    const moe = join(dir, "mixtral-like.gguf");
    writeArchBase(moe, "llama", { kv: { "llama.expert_count": { type: "u32", value: 8 } } });
    const separate = join(dir, "dense-llama.gguf");
    writeArchBase(separate, "llama");
    const configPath = join(dir, "refused.lora.json");
    // A data path that does not exist: the model check comes first, so the error is about the model.
    const data = join(dir, "never-read.jsonl");
    await assert.rejects(
        supervisor.sendRequest(RunStartRequest.type, { config: { model: moe, data }, configPath }),
        typedError(SidecarErrorCode.InvalidParams, /mixtral-like\.gguf cannot be trained: architecture 'llama' here is a mixture-of-experts model \(8 experts\).*LoRA Studio trains llama, qwen2, qwen3, phi3, gemma, gemma2, gemma3, smollm3, mistral3/)
    );
    await assert.rejects(
        supervisor.sendRequest(RunStartRequest.type, { config: { model: separate, data, targetModules: ["attn_o", "attn_qkv"] }, configPath }),
        typedError(SidecarErrorCode.InvalidParams, /refused\.lora\.json: targetModules\[1\] "attn_qkv": 'attn_qkv' is a fused target, and llama models have separate projections: use attn_q, attn_k and attn_v/)
    );
    const cli = await runCli(["train", "--model", moe, "--data", data, "--out", join(dir, "never-moe")]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /mixtral-like\.gguf cannot be trained: .*mixture-of-experts/);
});

test("lora-studio train and dataset/prepare on a Gemma 2 model say once that its template folds the system prompts", { timeout: 900_000 }, async (t) => {
    if (!(await engineCapabilities(t))) return;
    const model = join(dir, "tiny-gemma2.gguf");
    makeTinyModel({ out: model, arch: "gemma2", quant: "f32", shape: { nLayer: 1, nEmbd: 256, nHead: 2, nHeadKv: 1, nFf: 256 } });
    const data = join(dir, "gemma-system.jsonl");
    const line = (q: string): string => JSON.stringify({ messages: [{ role: "system", content: "Answer in one word." }, { role: "user", content: q }, { role: "assistant", content: "Yes." }] });
    writeFileSync(data, `${["One?", "Two?", "Three?", "Four?"].map(line).join("\n")}\n`);
    const result = await runCli(["train", "--model", model, "--data", data, "--out", join(dir, "gemma-run"), "--epochs", "1", "--sequence-length", "64"]);
    t.diagnostic(`exit ${result.code}: ${result.stderr.slice(-400)}`);
    const warnings = result.stderr.split("\n").filter((l) => l.includes("[system-folded]"));
    assert.equal(warnings.length, 1, `one warning for the dataset, not one per line:\n${result.stderr}`);
    assert.match(warnings[0]!, /gemma-system\.jsonl:1: the model's chat template has no system role \(it raises "System role not supported"\).*4 examples/);

    const prepared = await supervisor.sendRequest(DatasetPrepareRequest.type, { model, data });
    assert.equal(prepared.datasetWarnings?.length, 1, "dataset/prepare says it once too");
    assert.match(prepared.datasetWarnings![0]!, /gemma-system\.jsonl:1: .*no system role.*\[system-folded\]$/);
});

test("lora-studio train --preset names the valid presets when given another", HANG_GUARD, async () => {
    const result = await runCli(["train", "--preset", "gpu-8gb", "--model", fixturePath("tiny-f32.gguf"), "--data", join(dir, "facts.jsonl"), "--out", join(dir, "never")]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /--preset: unknown preset "gpu-8gb"; use one of gpu-6gb, gpu-12gb, gpu-24gb, cpu/);
});
