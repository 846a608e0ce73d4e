// Run configs: schema defaults are filled in, paths resolve against the config's folder, and every bad
// field is named together with the file; a run about to start also checks the model file (through the load guard),
// its architecture and targets, and where "output" points.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadRunConfigFile, requireRunConfig, resolvedConfig, RunConfigError, warmupStepsFor } from "../../../sidecar/src/training/config";
import { resolveRunConfig } from "../../../sidecar/src/training/resolveRunConfig";
import { nodeFileProbe } from "../../../sidecar/src/training/runConfigProbe";
import { writeArchBase } from "../support/archModels";

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

// A run about to start: the one resolution with forTraining and the real file probe (run/start and `lora-studio train`
// call exactly this), on GGUF files written here. Formerly a second copy of these checks (checkModelForRun).
const models = mkdtempSync(join(tmpdir(), "run-config-models-"));
const moe = join(models, "mixtral.gguf");
writeArchBase(moe, "llama", { kv: { "llama.expert_count": { type: "u32", value: 8 } } });
const phi3 = join(models, "phi3.gguf");
writeArchBase(phi3, "phi3");
const llama = join(models, "llama.gguf");
writeArchBase(llama, "llama");
writeFileSync(join(models, "train.jsonl"), '{"text": "x"}\n');
const configFile = join(models, "facts.lora.json");

function startRefusal(fields: Record<string, unknown>, options: { outputRoot?: string } = {}): RunConfigError {
    try {
        requireRunConfig({ value: { data: "train.jsonl", ...fields } }, configFile, { baseDir: models, probe: nodeFileProbe, forTraining: true, ...options });
    } catch (error) {
        assert.ok(error instanceof RunConfigError, String(error));
        return error;
    }
    assert.fail(`${JSON.stringify(fields)} was accepted`);
}

test("a run about to start refuses the model naming it, or the config file and the targetModules entry; notes come back", () => {
    const untrainable = startRefusal({ model: moe, targetModules: ["attn_q"] });
    assert.deepEqual(untrainable.problems.map((p) => [p.code, p.path]), [["RC204", ["model"]]]);
    assert.match(untrainable.message, /facts\.lora\.json: model: .*mixtral\.gguf cannot be trained: architecture 'llama' here is a mixture-of-experts model/);
    const fused = startRefusal({ model: llama, targetModules: ["attn_q", "ffn_gate_up"] });
    assert.deepEqual(fused.problems.map((p) => [p.code, p.path]), [["RC206", ["targetModules", 1]]]);
    assert.match(fused.message, /facts\.lora\.json: targetModules\[1\] "ffn_gate_up": 'ffn_gate_up' is a fused target.*\(model: llama\)/);
    const options = { baseDir: models, probe: nodeFileProbe, forTraining: true };
    assert.deepEqual(requireRunConfig({ value: { model: phi3, data: "train.jsonl", targetModules: ["attn_qkv"] } }, configFile, options).notes, []);
    const { notes } = requireRunConfig({ value: { model: phi3, data: "train.jsonl", targetModules: ["attn_q"] } }, configFile, options);
    assert.deepEqual(notes.map((n) => [n.code, n.severity, n.path]), [["RC207", "info", ["targetModules", 0]]]);
    assert.match(notes[0]!.message, /^targetModules\[0\] "attn_q": on phi3 models q, k and v are one fused tensor/);
});

test("a run about to start refuses a bad model file in the load guard's words: the file, the byte and the cause", () => {
    const bytes = readFileSync(llama);
    const oneShort = Buffer.from(bytes);
    oneShort.writeBigUInt64LE(oneShort.readBigUInt64LE(8) - 1n, 8);
    writeFileSync(join(models, "one-short.gguf"), oneShort);
    writeFileSync(join(models, "truncated.gguf"), bytes.subarray(0, bytes.length - 100));
    writeFileSync(join(models, "zeros.gguf"), Buffer.alloc(4096));
    mkdirSync(join(models, "folder.gguf"), { recursive: true });
    const cases: Array<[string, string, RegExp]> = [
        ["one-short.gguf", "RC202", /model: the base model .*one-short\.gguf: not a valid GGUF file \(byte \d+\): .*no tensor accounts for/],
        ["truncated.gguf", "RC202", /model: the base model .*truncated\.gguf: not a valid GGUF file \(byte \d+\): .*truncated/],
        ["zeros.gguf", "RC202", /model: the base model .*zeros\.gguf: not a valid GGUF file \(byte 0\): bad magic 0x00000000.*convert_hf_to_gguf\.py/],
        ["missing.gguf", "RC201", /model: the base model .*missing\.gguf does not exist \(ENOENT\) \(relative paths resolve against the config file's folder/],
        ["folder.gguf", "RC201", /model: the base model .*folder\.gguf is a folder, not a GGUF file \(EISDIR\)/],
        [join("train.jsonl", "x.gguf"), "RC201", /x\.gguf does not exist \(a part of its path is not a folder\) \(ENOTDIR\)/]
    ];
    for (const [model, code, pattern] of cases) {
        const refusal = startRefusal({ model });
        assert.deepEqual(refusal.problems.map((p) => [p.code, p.path]), [[code, ["model"]]], model);
        assert.match(refusal.message, pattern, model);
    }
    // The editor (no forTraining) leaves a damaged header alone, as a download still under way; it reports a non-GGUF file.
    const editor = (model: string) => resolveRunConfig({ value: { model, data: "train.jsonl" } }, { file: configFile, baseDir: models, probe: nodeFileProbe }).problems.map((p) => p.code);
    assert.deepEqual(editor("truncated.gguf"), []);
    assert.deepEqual(editor("zeros.gguf"), ["RC202"]);
});

test("a run config's output must stay inside the workspace (RC208, on the field); inside, it resolves", () => {
    const workspace = mkdtempSync(join(tmpdir(), "run-config-ws-"));
    const outside = startRefusal({ model: llama, output: join(tmpdir(), "elsewhere") }, { outputRoot: workspace });
    assert.deepEqual(outside.problems.map((p) => [p.code, p.path]), [["RC208", ["output"]]]);
    assert.match(outside.message, /facts\.lora\.json: "output" is ".*elsewhere", which resolves to .*elsewhere, outside the workspace .*run-config-ws-.*; a run config may only write inside its workspace/);
    const inside = join(workspace, "runs", "a");
    const options = { baseDir: models, probe: nodeFileProbe, forTraining: true, outputRoot: workspace };
    assert.equal(requireRunConfig({ value: { model: llama, data: "train.jsonl", output: inside } }, configFile, options).config.output, inside);
    // A symbolic link inside the workspace that points outside it is outside.
    symlinkSync(tmpdir(), join(workspace, "link"));
    assert.deepEqual(startRefusal({ model: llama, output: join(workspace, "link", "run") }, { outputRoot: workspace }).problems.map((p) => p.code), ["RC208"]);
});
