// The Axolotl export's pure parts: the YAML writer (read back by PyYAML, the loader Axolotl uses), the config builder
// (run config + facts → config object), and its output against our JSON Schema of Axolotl 0.18.0's configuration,
// including the failure a misspelled key must cause (Axolotl itself would drop the key silently).
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildAxolotlConfig, hfTargetModules, type AxolotlFacts, type AxolotlStrategy } from "../../../sidecar/src/export/axolotlConfig";
import { toYaml, yamlNumber, type YamlValue } from "../../../sidecar/src/export/yaml";
import { resolvedConfig } from "../../../sidecar/src/training/config";
import { axolotlSchemaErrors, pyyamlLoad, pyyamlLoadAll, pyyamlMissing } from "../support/axolotlSchema";

const noPyyaml = pyyamlMissing();

const run = (over: Record<string, unknown> = {}) => resolvedConfig({ model: "/models/base.gguf", data: "/data/train.jsonl", ...over }, "/runs/r1/config.json");
const facts = (over: Partial<AxolotlFacts> = {}): AxolotlFacts => ({
    baseModel: "example-org/tiny-llama", arch: "llama", baseBits: 16, gpus: 1, strategy: "deepspeed-zero2", configFile: "/runs/r1/config.json", ...over
});

test("yamlNumber writes floats PyYAML reads as floats (a dot and a signed exponent)", () => {
    assert.equal(yamlNumber(1e-8), "1.0e-8");
    assert.equal(yamlNumber(2.5e-7), "2.5e-7");
    assert.equal(yamlNumber(0.0002), "0.0002");
    assert.equal(yamlNumber(1e21), "1.0e+21");
    assert.equal(yamlNumber(32), "32");
    assert.equal(yamlNumber(-0.05), "-0.05");
    assert.throws(() => yamlNumber(Number.NaN), /not a finite number/);
});

test("toYaml is deterministic block YAML in insertion order", () => {
    const text = toYaml({ b: 1, a: ["x", { path: "data/train.jsonl", type: "chat_template", roles: ["assistant"] }], c: {}, d: [], e: null, f: undefined });
    assert.equal(text, [
        "b: 1",
        "a:",
        "  - x",
        "  - path: data/train.jsonl",
        "    type: chat_template",
        "    roles:",
        "      - assistant",
        "c: {}",
        "d: []",
        "e: null",
        ""
    ].join("\n"));
});

test("PyYAML reads every value back as written, however YAML-ambiguous", { skip: noPyyaml }, () => {
    const doc: Record<string, YamlValue> = {
        words: ["yes", "No", "on", "OFF", "y", "null", "~", "true", "", " padded ", "a: b", "- dash", "#hash", "007", "1e-8", "0x1F", ".5", ".inf", "x\ny", "tab\there", "quote\"s", "back\\slash", "ünïcödé", "ORG/Model-1.5B", "./rel/path"],
        numbers: [0, -3, 1e-8, 2e-4, 0.03, 1.5e300, 123456789, 0.1 + 0.2],
        flags: [true, false, null],
        nested: { list: [{ a: 1, b: [1, [2, 3]] }, []], empty: {}, "key with space": "v", "yes": "quoted key" }
    };
    assert.deepEqual(pyyamlLoad(toYaml(doc)), doc);
});

test("hfTargetModules names the run's targets as Hugging Face modules, fused ones as Phi-3 has them", () => {
    const all = ["attn_q", "attn_k", "attn_v", "attn_o", "ffn_gate", "ffn_up", "ffn_down"] as const;
    assert.deepEqual(hfTargetModules("llama", all), ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]);
    assert.deepEqual(hfTargetModules("phi3", all), ["down_proj", "gate_up_proj", "o_proj", "qkv_proj"]);
    assert.deepEqual(hfTargetModules("phi3", ["attn_qkv", "ffn_gate_up"]), ["gate_up_proj", "qkv_proj"]);
    assert.deepEqual(hfTargetModules("qwen2", ["attn_q", "attn_v"]), ["q_proj", "v_proj"]);
});

test("the config carries the run's LoRA, data, schedule and batch settings", () => {
    const config = run({ rank: 8, alpha: 16, dropout: 0.1, sequenceLength: 1024, learningRate: 1e-4, lrSchedule: "constant", warmupSteps: 10, epochs: 2, gradAccum: 4, truncation: "fail", seed: 7 });
    const { config: c, warnings } = buildAxolotlConfig(config, facts(), false);
    assert.deepEqual(warnings, []);
    assert.equal(c.base_model, "example-org/tiny-llama");
    assert.equal(c.adapter, "lora");
    assert.equal(c.load_in_4bit, undefined);
    assert.deepEqual([c.lora_r, c.lora_alpha, c.lora_dropout], [8, 16, 0.1]);
    assert.deepEqual([c.sequence_len, c.sample_packing, c.micro_batch_size, c.gradient_accumulation_steps], [1024, true, 1, 4]);
    // Packed examples kept apart as the engine keeps them; no evaluation to pack without validation data.
    assert.deepEqual([c.pad_to_sequence_len, c.attn_implementation, c.eval_sample_packing], [true, "sdpa", undefined]);
    assert.deepEqual([c.learning_rate, c.lr_scheduler, c.warmup_steps, c.warmup_ratio, c.num_epochs, c.seed], [1e-4, "constant_with_warmup", 10, undefined, 2, 7]);
    assert.equal(c.excess_length_strategy, "raise");
    assert.deepEqual(c.datasets, [{
        path: "data/train.jsonl", ds_type: "json", type: "chat_template", field_messages: "messages",
        message_property_mappings: { role: "role", content: "content" }, roles_to_train: ["assistant"], train_on_eos: "turn"
    }]);
    assert.equal(c.val_set_size, 0);
    assert.equal(c.deepspeed, "deepspeed_configs/zero2.json");
    assert.equal(c.fsdp_config, undefined);
});

test("a quantized base is QLoRA at 4 bits and LoRA on an 8-bit load at 8", () => {
    const four = buildAxolotlConfig(run(), facts({ baseBits: 4 }), false).config;
    assert.deepEqual([four.adapter, four.load_in_4bit, four.load_in_8bit], ["qlora", true, undefined]);
    const eight = buildAxolotlConfig(run(), facts({ baseBits: 8 }), false).config;
    assert.deepEqual([eight.adapter, eight.load_in_4bit, eight.load_in_8bit], ["lora", undefined, true]);
});

test("validation: a separate file becomes test_datasets, a split val_set_size; warmup ratio when no steps", () => {
    const file = buildAxolotlConfig(run({ validationData: "/data/val.jsonl" }), facts(), true).config;
    assert.equal((file.test_datasets as Array<{ path: string }>)[0]!.path, "data/validation.jsonl");
    assert.equal(file.val_set_size, undefined);
    assert.equal(file.eval_sample_packing, false);
    const split = buildAxolotlConfig(run({ validationSplit: 0.1 }), facts(), false).config;
    assert.equal(split.val_set_size, 0.1);
    assert.equal(split.eval_sample_packing, false);
    assert.equal(split.test_datasets, undefined);
    assert.equal(split.warmup_ratio, 0.03);
    assert.equal(split.warmup_steps, undefined);
});

test("FSDP gets fsdp_version 2 and a transformer-layer wrap of the architecture's decoder layer", () => {
    const c = buildAxolotlConfig(run(), facts({ strategy: "fsdp", arch: "qwen2" }), false).config;
    assert.equal(c.deepspeed, undefined);
    assert.equal(c.fsdp_version, 2);
    assert.deepEqual((c.fsdp_config as Record<string, unknown>).transformer_layer_cls_to_wrap, "Qwen2DecoderLayer");
    assert.equal(buildAxolotlConfig(run(), facts({ strategy: "deepspeed-zero3" }), false).config.deepspeed, "deepspeed_configs/zero3.json");
});

test("GPUs divide the accumulation; an uneven split and left truncation are warned about", () => {
    const even = buildAxolotlConfig(run({ gradAccum: 8 }), facts({ gpus: 4 }), false);
    assert.equal(even.config.gradient_accumulation_steps, 2);
    assert.deepEqual(even.warnings, []);
    const uneven = buildAxolotlConfig(run({ gradAccum: 1, truncation: "truncate-left" }), facts({ gpus: 4 }), false);
    assert.equal(uneven.config.gradient_accumulation_steps, 1);
    assert.equal(uneven.config.excess_length_strategy, "truncate");
    assert.equal(uneven.warnings.length, 2);
    assert.match(uneven.warnings[0]!, /batch was 1 packed row\(s\) per step; on 4 GPUs .* it is 4/);
    assert.match(uneven.warnings[1]!, /truncate-left/);
});

test("a fractional alpha (Axolotl's lora_alpha is an integer) is refused naming the file and field", () => {
    assert.throws(() => buildAxolotlConfig(run({ alpha: 12.5 }), facts(), false), /\/runs\/r1\/config\.json: field "alpha" is 12\.5, but Axolotl's lora_alpha is an integer/);
});

const STRATEGIES: AxolotlStrategy[] = ["deepspeed-zero2", "deepspeed-zero3", "fsdp"];

test("every config the builder writes is valid against Axolotl 0.18.0's schema, as PyYAML reads config.yml", { skip: noPyyaml }, () => {
    const cases: Array<{ name: string; config: Record<string, YamlValue> }> = [];
    for (const strategy of STRATEGIES) {
        for (const baseBits of [4, 8, 16] as const) {
            for (const validation of ["none", "split", "file"] as const) {
                const config = run(validation === "split" ? { validationSplit: 0.2 } : validation === "file" ? { validationData: "/data/v.jsonl" } : { warmupSteps: 5 });
                cases.push({ name: `${strategy}, ${baseBits}-bit, validation ${validation}`, config: buildAxolotlConfig(config, facts({ strategy, baseBits, arch: "phi3", gpus: 2 }), validation === "file").config });
            }
        }
    }
    const loaded = pyyamlLoadAll(cases.map((c) => toYaml(c.config)));
    cases.forEach((c, i) => {
        assert.deepEqual(loaded[i], JSON.parse(JSON.stringify(c.config)), `${c.name}: PyYAML reads what was written`);
        assert.deepEqual(axolotlSchemaErrors(loaded[i]), [], c.name);
    });
});

test("the schema fails a misspelled key, at the top level and inside a dataset", () => {
    const { config } = buildAxolotlConfig(run(), facts(), false);
    const { lora_alpha, ...rest } = config;
    const misspelled = { ...rest, lora_apha: lora_alpha };
    const errors = axolotlSchemaErrors(misspelled);
    assert.ok(errors.some((e) => e.keyword === "additionalProperties" && e.params["additionalProperty"] === "lora_apha"), JSON.stringify(errors));

    const dataset = (config.datasets as Array<Record<string, unknown>>)[0]!;
    const { roles_to_train, ...datasetRest } = dataset;
    const inDataset = { ...config, datasets: [{ ...datasetRest, role_to_train: roles_to_train }] };
    assert.ok(axolotlSchemaErrors(inDataset).some((e) => e.instancePath === "/datasets/0" && e.params["additionalProperty"] === "role_to_train"));
    // And the same config spelled right passes: the failures are the misspellings'.
    assert.deepEqual(axolotlSchemaErrors(config), []);
});

test("the schema holds Axolotl's type and cross-field rules: integer alpha, qlora needs load_in_4bit", () => {
    const { config } = buildAxolotlConfig(run(), facts({ baseBits: 4 }), false);
    assert.deepEqual(axolotlSchemaErrors(config), []);
    assert.ok(axolotlSchemaErrors({ ...config, lora_alpha: 12.5 }).some((e) => e.instancePath === "/lora_alpha"));
    const { load_in_4bit: _, ...without4bit } = config;
    assert.ok(axolotlSchemaErrors(without4bit).some((e) => e.keyword === "required" && e.params["missingProperty"] === "load_in_4bit"));
    assert.ok(axolotlSchemaErrors({ ...config, train_on_eos: "turn" }).length > 0, "a dataset key at the top level is unknown there");
});
