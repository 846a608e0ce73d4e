// The Axolotl folder writer (export/axolotl.ts) through runExport, on real GGUF files and run folders: where base_model
// comes from (each metadata key, and which one warns), QLoRA from a 4-bit base or quantizeBase, the data checks that
// name file and line, and that a refused export leaves nothing behind.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExport } from "../../../sidecar/src/export";
import type { GgufValue } from "../../../sidecar/src/gguf/types";
import { writeArchAdapter, writeArchBase } from "../support/archModels";

const root = mkdtempSync(join(tmpdir(), "axolotl-export-"));
after(() => rmSync(root, { recursive: true, force: true }));

const str = (value: string): GgufValue => ({ type: "string", value });
const CHAT = `${JSON.stringify({ messages: [{ role: "user", content: "Q?" }, { role: "assistant", content: "A." }] })}\n`;

/** A finished-looking run folder (config.json, status.json, adapter.gguf) on a base with `kv`; returns its paths. */
function runWith(name: string, kv: Record<string, GgufValue>, config: Record<string, unknown> = {}, data = CHAT) {
    const dir = join(root, name);
    mkdirSync(join(dir, "run"), { recursive: true });
    const model = join(dir, "base.gguf");
    const base = writeArchBase(model, "qwen2", { kv });
    writeArchAdapter(join(dir, "run", "adapter.gguf"), base, ["blk.0.attn_q.weight", "blk.1.ffn_down.weight"]);
    writeFileSync(join(dir, "train.jsonl"), data);
    writeFileSync(join(dir, "run", "config.json"), JSON.stringify({ model, data: join(dir, "train.jsonl"), ...config }));
    writeFileSync(join(dir, "run", "status.json"), JSON.stringify({ state: "completed" }));
    return { dir, model, run: join(dir, "run"), adapter: join(dir, "run", "adapter.gguf"), out: join(dir, "job") };
}

const exportOf = (r: ReturnType<typeof runWith>, extra: Record<string, unknown> = {}) =>
    runExport({ format: "axolotl", model: r.model, adapter: r.adapter, runDirectory: r.run, out: r.out, ...extra });

const yamlLine = (r: ReturnType<typeof runWith>, key: string): string | undefined =>
    readFileSync(join(r.out, "config.yml"), "utf8").split("\n").find((l) => l.startsWith(`${key}:`));

test("base_model comes from general.source.* without a warning, from general.base_model.0 with one", async () => {
    const direct = runWith("direct", { "general.source.huggingface.repository": str("Qwen/Qwen2.5-0.5B-Instruct") });
    assert.deepEqual((await exportOf(direct)).warnings, []);
    assert.equal(yamlLine(direct, "base_model"), "base_model: Qwen/Qwen2.5-0.5B-Instruct");

    const url = runWith("url", { "general.source.url": str("https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/tree/main") });
    await exportOf(url);
    assert.equal(yamlLine(url, "base_model"), "base_model: Qwen/Qwen2.5-1.5B-Instruct");

    const parent = runWith("parent", { "general.base_model.0.repo_url": str("https://huggingface.co/Qwen/Qwen2.5-0.5B") });
    const result = await exportOf(parent);
    assert.equal(yamlLine(parent, "base_model"), "base_model: Qwen/Qwen2.5-0.5B");
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /general\.base_model\.0\.repo_url, the model this GGUF was derived from/);
    assert.match(readFileSync(join(parent.out, "README.md"), "utf8"), /## Differences from the LoRA Studio run\n\n- base_model Qwen\/Qwen2\.5-0\.5B comes from/);

    // A non-Hugging Face URL is no repository: refused, as with no metadata at all, and --base-model wins over metadata.
    const elsewhere = runWith("elsewhere", { "general.source.url": str("https://example.com/models/x") });
    await assert.rejects(exportOf(elsewhere), /base\.gguf: no Hugging Face repository in the GGUF metadata/);
    assert.deepEqual(readdirSync(elsewhere.dir).sort(), ["base.gguf", "run", "train.jsonl"], "nothing written, no temp folder");
    await exportOf(elsewhere, { baseModelRepo: "org/given" });
    assert.equal(yamlLine(elsewhere, "base_model"), "base_model: org/given");
});

test("QLoRA when training ran on a 4-bit base: the run's quantizeBase or a Q4 GGUF; LoRA on an 8-bit load for Q8_0", async () => {
    const repo = { "general.source.huggingface.repository": str("org/m") };
    const q4 = runWith("q4", repo, { quantizeBase: "q4_k_m" });
    await exportOf(q4);
    assert.deepEqual([yamlLine(q4, "adapter"), yamlLine(q4, "load_in_4bit")], ["adapter: qlora", "load_in_4bit: true"]);
    const q8 = runWith("q8", { ...repo, "general.file_type": { type: "u32", value: 7 } });
    await exportOf(q8);
    assert.deepEqual([yamlLine(q8, "adapter"), yamlLine(q8, "load_in_8bit")], ["adapter: lora", "load_in_8bit: true"]);
    const f32 = runWith("f32", repo);
    await exportOf(f32);
    assert.deepEqual([yamlLine(f32, "adapter"), yamlLine(f32, "load_in_4bit"), yamlLine(f32, "load_in_8bit")], ["adapter: lora", undefined, undefined]);
});

test("data that is not chat, or not JSON, is refused naming the file and line; a validation file is copied as written", async () => {
    const repo = { "general.source.huggingface.repository": str("org/m") };
    const instruction = runWith("instruction", repo, {}, `${CHAT}\n${JSON.stringify({ instruction: "Do", output: "Done" })}\n`);
    await assert.rejects(exportOf(instruction), new RegExp(`${instruction.dir}/train\\.jsonl:3: field "messages" is missing; the Axolotl export writes chat_template datasets`));
    assert.ok(!existsSync(instruction.out));
    const broken = runWith("broken", repo, {}, `${CHAT}{"messages": [\n`);
    await assert.rejects(exportOf(broken), /train\.jsonl:2: not valid JSON/);

    const withValidation = runWith("validation", repo);
    const validation = join(withValidation.dir, "val.jsonl");
    writeFileSync(validation, `\uFEFF${CHAT}`);
    const config = JSON.parse(readFileSync(join(withValidation.run, "config.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(withValidation.run, "config.json"), JSON.stringify({ ...config, validationData: validation }));
    const result = await exportOf(withValidation);
    assert.ok(result.files.includes(join(withValidation.out, "data", "validation.jsonl")));
    assert.deepEqual(readFileSync(join(withValidation.out, "data", "validation.jsonl")), readFileSync(validation), "byte for byte, BOM and all");
    assert.match(readFileSync(join(withValidation.out, "config.yml"), "utf8"), /\ntest_datasets:\n {2}- path: data\/validation\.jsonl\n/);
});

test("an Axolotl export needs the run, and its out may not be a data file of the run", async () => {
    const r = runWith("guards", { "general.source.huggingface.repository": str("org/m") });
    await assert.rejects(runExport({ format: "axolotl", model: r.model, adapter: r.adapter, out: r.out }), /an Axolotl export needs the run/);
    await assert.rejects(exportOf({ ...r, out: r.dir }), /the export would replace the folder .*, which holds the base model/);
    await assert.rejects(exportOf({ ...r, out: join(r.dir, "train.jsonl") }), /would overwrite its own input: .*train\.jsonl is a data file of the run/);
    assert.ok(existsSync(join(r.dir, "train.jsonl")) && existsSync(r.model));
});
