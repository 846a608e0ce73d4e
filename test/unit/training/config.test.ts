// Run configs: schema defaults are filled in, paths resolve against the config's folder, and every bad
// field is named together with the file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRunConfigFile, resolvedConfig, RunConfigError, warmupStepsFor } from "../../../sidecar/src/training/config";

test("defaults follow QLoRA practice and relative paths resolve against the config's folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "run-config-"));
    const file = join(dir, "facts.lora.json");
    writeFileSync(file, JSON.stringify({ model: "m.gguf", data: "data/d.jsonl", epochs: 2 }));
    const config = loadRunConfigFile(file);
    assert.equal(config.model, join(dir, "m.gguf"));
    assert.equal(config.data, join(dir, "data", "d.jsonl"));
    assert.equal(config.epochs, 2);
    assert.equal(config.rank, 16);
    assert.equal(config.alpha, 32);
    assert.equal(config.learningRate, 2e-4);
    assert.equal(config.lrSchedule, "cosine");
    assert.deepEqual(config.targetModules, ["attn_q", "attn_k", "attn_v", "attn_o", "ffn_gate", "ffn_up", "ffn_down"]);
    assert.equal(warmupStepsFor(config, 1000), 30);
    assert.equal(warmupStepsFor({ ...config, warmupSteps: 5 }, 1000), 5);
});

test("every invalid field is reported with the file name", () => {
    assert.throws(
        () => resolvedConfig({ model: "m.gguf", rank: 0, lrSchedule: "step", bogus: 1 }, "runs/x.lora.json"),
        (error: unknown) => {
            assert.ok(error instanceof RunConfigError);
            assert.match(error.message, /^runs\/x\.lora\.json: invalid run config/);
            for (const part of [/missing required field "data"/, /field "rank" must be >= 1/, /field "lrSchedule" must be one of/, /unknown field "bogus"/]) {
                assert.match(error.message, part);
            }
            return true;
        }
    );
});

test("a config that is not JSON names the file", () => {
    const file = join(mkdtempSync(join(tmpdir(), "run-config-")), "broken.lora.json");
    writeFileSync(file, "{ model: ");
    assert.throws(() => loadRunConfigFile(file), (error: unknown) => error instanceof RunConfigError && error.message.startsWith(`${file}: invalid run config`) && /not valid JSON/.test(error.message));
});
