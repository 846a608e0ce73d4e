// The Start Training wizard's pure half: the config it writes from the picks, the settings and the preset is a
// valid run config whose paths resolve back to the picked files; the model list marks models that cannot be trained.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRunConfigFile } from "../../../sidecar/src/training/config";
import { TRAINING_PRESETS } from "../../../sidecar/src/training/presets";
import { buildRunConfig, defaultRunName, describeEstimate, describeModelChoice, runNameProblem, settingsToConfig } from "../../../extension/src/training/startWizardConfig";
import { trainabilityOfFile } from "../../../sidecar/src/training/modelCheck";
import { writeArchBase } from "../support/archModels";

test("the written config validates and resolves to the picked files, the settings and the preset", () => {
    const folder = mkdtempSync(join(tmpdir(), "start-wizard-"));
    const configPath = join(folder, "facts.lora.json");
    const outside = mkdtempSync(join(tmpdir(), "start-wizard-model-"));
    const settings = settingsToConfig((field) => ({ epochs: 7, learningRate: 1e-3, sequenceLength: 4096, warmupSteps: null })[field as "epochs"]);
    const config = buildRunConfig(
        { dataset: join(folder, "data", "facts.jsonl"), model: join(outside, "base.gguf"), preset: "gpu-6gb", configPath, schemaUri: "file:///ext/schemas/run-config.schema.json" },
        settings
    );
    assert.equal(config.$schema, "file:///ext/schemas/run-config.schema.json");
    assert.equal(config.data, "data/facts.jsonl", "a file below the config's folder is stored relative to it");
    assert.equal(config.model, join(outside, "base.gguf"), "a file elsewhere stays absolute");
    writeFileSync(configPath, JSON.stringify(config, null, 4));
    const resolved = loadRunConfigFile(configPath);
    assert.equal(resolved.data, join(folder, "data", "facts.jsonl"));
    assert.equal(resolved.model, join(outside, "base.gguf"));
    assert.equal(resolved.epochs, 7, "settings carry over");
    assert.equal(resolved.learningRate, 1e-3);
    assert.equal(resolved.sequenceLength, TRAINING_PRESETS["gpu-6gb"].settings.sequenceLength, "the preset wins for the fields it shapes");
    assert.equal(resolved.quantizeBase, "q4_k_m");
    assert.equal(resolved.warmupSteps, undefined);
});

test("run names: the dataset's name first, file-name-safe names only", () => {
    assert.equal(defaultRunName("/w/data/My Facts.jsonl"), "My-Facts");
    assert.equal(runNameProblem("facts-v2"), undefined);
    assert.match(runNameProblem("") ?? "", /Enter a name/);
    assert.match(runNameProblem("../evil") ?? "", /letters, digits/);
});

test("a preset's estimate line says what it needs, and whether it fits, shrinks or fails", () => {
    const GiB = 2 ** 30;
    assert.equal(describeEstimate({ totalBytes: 4.2 * GiB, fits: true }, 7.6 * GiB), "$(check) needs ~4.2 GiB of 7.6 GiB free");
    assert.match(describeEstimate({ totalBytes: 9 * GiB, fits: false, shrinksTo: { sequenceLength: 256, gradAccum: 16 } }, 7.6 * GiB), /would train 256-token rows × 16/);
    assert.match(describeEstimate({ totalBytes: 90 * GiB, fits: false }, 7.6 * GiB), /does not fit/);
});

test("the model step shows a trainable model's architecture and marks one that cannot be trained, with the reason", () => {
    const dir = mkdtempSync(join(tmpdir(), "start-wizard-models-"));
    writeArchBase(join(dir, "phi.gguf"), "phi3");
    writeArchBase(join(dir, "moe.gguf"), "qwen3", { kv: { "qwen3.expert_count": { type: "u32", value: 4 } } });
    writeFileSync(join(dir, "notes.gguf"), "not a model");
    assert.deepEqual(describeModelChoice(trainabilityOfFile(join(dir, "phi.gguf"))), { trainable: true, description: "phi3 · Phi-3, Phi-3.5, Phi-4-mini" });
    const moe = describeModelChoice(trainabilityOfFile(join(dir, "moe.gguf")));
    assert.equal(moe.trainable, false);
    assert.equal(moe.description, "$(error) cannot be trained");
    assert.match(moe.detail ?? "", /^Architecture 'qwen3' here is a mixture-of-experts model \(4 experts\).*LoRA Studio trains llama, qwen2, qwen3/);
    assert.match(describeModelChoice(trainabilityOfFile(join(dir, "notes.gguf"))).detail ?? "", /^It cannot be read as a GGUF model/);
});
