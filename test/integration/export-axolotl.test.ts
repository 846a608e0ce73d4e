// `lora-studio export --run RUN --format axolotl`: a real finished run (the facts adapter, trained by the CLI on the
// tiny model) exported as an Axolotl job folder. The tiny GGUF records no Hugging Face repository, so the export is
// refused naming the file and the metadata fields, with nothing written, until --base-model gives one. The folder's
// config.yml, read by PyYAML as Axolotl reads it, is checked against our schema of Axolotl 0.18.0's configuration; its
// data is the run's file byte for byte; an existing folder is replaced only with --force; a folder holding an input
// is never replaced. Through the sidecar (what the editor sends), the unknown repository is InvalidParams naming the
// field baseModelRepo, which the editor asks for and resends.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { axolotlSchemaErrors, pyyamlLoad, pyyamlMissing } from "../unit/support/axolotlSchema";
import { runCli } from "./trainCliHarness";
import { ResponseError } from "vscode-jsonrpc";
import { ExportRunRequest, SidecarErrorCode, type SidecarErrorData } from "../../sidecar/src/protocol/sidecar";
import { engineSkip } from "./engineHarness";
import { testSupervisor } from "./sidecarHarness";

const dir = mkdtempSync(join(tmpdir(), "export-axolotl-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fx: FactsAdapter;
let runDir: string;
before(async () => {
    fx = await factsAdapter();
    runDir = dirname(fx.adapter);
});

const sorted = (folder: string): string[] => {
    const out: string[] = [];
    const walk = (d: string, prefix: string): void => {
        for (const name of readdirSync(d, { withFileTypes: true })) {
            if (name.isDirectory()) walk(join(d, name.name), `${prefix}${name.name}/`);
            else out.push(`${prefix}${name.name}`);
        }
    };
    walk(folder, "");
    return out.sort();
};

test("an Axolotl export of a run whose base names no Hugging Face repository is refused until --base-model gives one", { skip: pyyamlMissing(), timeout: 10 * 60_000 }, async () => {
    const out = join(dir, "job");
    const refused = await runCli(["export", "--run", runDir, "--format", "axolotl", "--out", out]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /tiny-f32\.gguf: no Hugging Face repository in the GGUF metadata \(none of general\.source\.huggingface\.repository, general\.source\.url, general\.base_model\.0\.repo_url names one\).* with --base-model ORG\/NAME/);
    assert.ok(!existsSync(out), "nothing written");
    assert.deepEqual(readdirSync(dir), [], "no temp folder left behind");

    const ok = await runCli(["export", "--run", runDir, "--format", "axolotl", "--out", out, "--base-model", "example-org/tiny-llama", "--gpus", "4", "--strategy", "deepspeed-zero3"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(sorted(out), ["README.md", "config.yml", "data/train.jsonl", "deepspeed_configs/zero3.json"]);
    assert.deepEqual(ok.stdout.trim().split("\n").sort(), sorted(out).map((f) => join(out, f)).sort(), "stdout lists every file written");
    assert.deepEqual(readFileSync(join(out, "data", "train.jsonl")), readFileSync(fx.data), "the training data as written");

    const config = pyyamlLoad(readFileSync(join(out, "config.yml"), "utf8")) as Record<string, unknown>;
    assert.deepEqual(axolotlSchemaErrors(config), []);
    const runConfig = JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config.base_model, "example-org/tiny-llama");
    assert.equal(config.adapter, "lora");
    assert.deepEqual([config.lora_r, config.lora_alpha, config.lora_dropout], [runConfig.rank, runConfig.alpha, runConfig.dropout]);
    assert.deepEqual(config.lora_target_modules, ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]);
    assert.deepEqual([config.sequence_len, config.learning_rate, config.num_epochs], [runConfig.sequenceLength, runConfig.learningRate, runConfig.epochs]);
    assert.equal(config.deepspeed, "deepspeed_configs/zero3.json");
    const zero3 = JSON.parse(readFileSync(join(out, "deepspeed_configs", "zero3.json"), "utf8")) as { zero_optimization: { stage: number } };
    assert.equal(zero3.zero_optimization.stage, 3);

    const readme = readFileSync(join(out, "README.md"), "utf8");
    assert.ok(readme.includes("accelerate launch --num_processes 4 -m axolotl.cli.train config.yml"), readme);
    assert.ok(readme.includes('axolotl[deepspeed]==0.18.0'));
    assert.ok(readme.includes(`lora-studio import-adapter --peft outputs/lora --model ${JSON.stringify(runConfig.model)} --out adapter.gguf`), readme);
    // gradAccum 1 over 4 GPUs cannot keep the batch: said on stderr and in the README.
    assert.match(ok.stderr, /warning: the run's batch was 1 packed row\(s\) per step; on 4 GPUs/);
    assert.match(readme, /## Differences from the LoRA Studio run\n\n- the run.s batch was 1 packed row/);
});

test("an existing Axolotl folder is replaced only with --force; a folder holding an input never", { timeout: 10 * 60_000 }, async () => {
    const out = join(dir, "job-fsdp");
    const args = ["export", "--run", runDir, "--format", "axolotl", "--out", out, "--base-model", "example-org/tiny-llama", "--strategy", "fsdp"];
    assert.equal((await runCli(args)).code, 0);
    assert.deepEqual(sorted(out), ["README.md", "config.yml", "data/train.jsonl"]);
    assert.match(readFileSync(join(out, "config.yml"), "utf8"), /\nfsdp_version: 2\nfsdp_config:\n {2}offload_params: false\n/);
    const again = await runCli(args);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /job-fsdp already exists; .*pass --force to replace/);
    const forced = await runCli([...args, "--strategy", "deepspeed-zero2", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(sorted(out), ["README.md", "config.yml", "data/train.jsonl", "deepspeed_configs/zero2.json"], "the old folder is gone whole, the new one in place");
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(".tmp-")), [], "no temp or old folder left behind");

    // On copies, so a regression cannot delete the shared fixtures: the run folder itself, and a folder holding the base.
    const baseFolder = join(dir, "models");
    const copiedRun = join(dir, "run-copy");
    mkdirSync(baseFolder);
    copyFileSync(fx.model, join(baseFolder, "tiny-f32.gguf"));
    cpSync(runDir, copiedRun, { recursive: true });
    writeFileSync(join(copiedRun, "config.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")), model: join(baseFolder, "tiny-f32.gguf") }));
    for (const [input, holds] of [[copiedRun, /the adapter/], [baseFolder, /the base model/]] as const) {
        const before = sorted(input);
        const r = await runCli(["export", "--run", copiedRun, "--format", "axolotl", "--out", input, "--base-model", "x/y", "--force"]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /the export would replace the folder .*, which holds /);
        assert.match(r.stderr, holds);
        assert.deepEqual(sorted(input), before, "the folder is untouched");
    }

    const noRun = await runCli(["export", "--adapter", fx.adapter, "--model", fx.model, "--format", "axolotl", "--out", join(dir, "x")]);
    assert.equal(noRun.code, 2, noRun.stderr);
    assert.match(noRun.stderr, /--format axolotl needs --run RUN_DIR/);
    const wrongFlag = await runCli(["export", "--run", runDir, "--format", "peft", "--gpus", "2", "--out", join(dir, "x")]);
    assert.match(wrongFlag.stderr, /--gpus applies to --format axolotl only/);
});

test("export/run (the editor's request): an unknown repository names the field baseModelRepo; resent with it, the folder is written", { skip: engineSkip, timeout: 10 * 60_000 }, async () => {
    const { supervisor } = testSupervisor();
    try {
        const out = join(dir, "job-rpc");
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory: runDir, format: "axolotl", out }), (err: unknown) => {
            assert.ok(err instanceof ResponseError);
            assert.equal(err.code, SidecarErrorCode.InvalidParams);
            assert.deepEqual((err.data as SidecarErrorData).fields?.map((f) => f.path), [["baseModelRepo"]]);
            assert.match(err.message, /tiny-f32\.gguf: no Hugging Face repository in the GGUF metadata/);
            return true;
        });
        assert.ok(!existsSync(out));
        const result = await supervisor.sendRequest(ExportRunRequest.type, { runDirectory: runDir, format: "axolotl", out, baseModelRepo: "example-org/tiny-llama", gpus: 2, strategy: "fsdp" });
        assert.equal(result.path, out);
        assert.deepEqual(result.files.map((f) => f.slice(out.length + 1)).sort(), ["README.md", "config.yml", "data/train.jsonl"]);
        assert.match(readFileSync(join(out, "README.md"), "utf8"), /accelerate launch --num_processes 2 -m axolotl\.cli\.train config\.yml/);
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory: runDir, format: "peft", gpus: 2, out: join(dir, "p") }), /"gpus" applies to format "axolotl" only/);
        await assert.rejects(supervisor.sendRequest(ExportRunRequest.type, { runDirectory: runDir, format: "axolotl", strategy: "zero9" as never, out }), /"strategy" must be one of deepspeed-zero2, deepspeed-zero3, fsdp/);
    } finally {
        await supervisor.stop();
    }
});
