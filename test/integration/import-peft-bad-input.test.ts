// Bad input to the PEFT import (issue 16, "Bad input"): each case is a real PEFT folder (our own export of the trained
// facts adapter) with one thing wrong, imported onto a real tiny base. Every refusal names the file and the field or
// tensor at fault, and leaves nothing in the output folder, not even a temp file.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExport } from "../../sidecar/src/export";
import { readGguf, readTensorBytes, writeGguf } from "../../sidecar/src/gguf";
import { importPeftAdapter } from "../../sidecar/src/importAdapter";
import { makeTinyModel } from "../../sidecar/src/tinyModel/makeTinyModel";
import { archFixturePath } from "../oracle/fixtures";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";

const dir = mkdtempSync(join(tmpdir(), "import-peft-bad-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fx: FactsAdapter;
let good: string;
before(async () => {
    fx = await factsAdapter();
    good = join(dir, "good");
    await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out: good });
});

const Q_A = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
const Q_B = "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight";

interface Raw {
    header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
    data: Buffer;
}

/** The safetensors file split by hand (8-byte length, JSON, data), so a test can make its header lie. */
function readRaw(path: string): Raw {
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    return { header: JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")) as Raw["header"], data: bytes.subarray(8 + n) };
}

function writeRaw(path: string, raw: Raw, declaredLength?: bigint): void {
    const json = Buffer.from(JSON.stringify(raw.header));
    const padded = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, 0x20)]);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(declaredLength ?? BigInt(padded.length));
    writeFileSync(path, Buffer.concat([len, padded, raw.data]));
}

/** A copy of the good folder, changed by `change(folder)`. */
function variant(name: string, change: (folder: string) => void): string {
    const folder = join(dir, name);
    cpSync(good, folder, { recursive: true });
    change(folder);
    return folder;
}

const weightsOf = (folder: string): string => join(folder, "adapter_model.safetensors");
const configOf = (folder: string): string => join(folder, "adapter_config.json");

function editConfig(folder: string, edit: (c: Record<string, unknown>) => void): void {
    const c = JSON.parse(readFileSync(configOf(folder), "utf8")) as Record<string, unknown>;
    edit(c);
    writeFileSync(configOf(folder), JSON.stringify(c));
}

function editHeader(folder: string, edit: (raw: Raw) => void, declaredLength?: bigint): void {
    const raw = readRaw(weightsOf(folder));
    edit(raw);
    writeRaw(weightsOf(folder), raw, declaredLength);
}

/** Appends an F32 tensor of zeros to the file. */
function addTensor(folder: string, name: string, shape: number[]): void {
    editHeader(folder, (raw) => {
        const bytes = 4 * shape.reduce((a, b) => a * b, 1);
        raw.header[name] = { dtype: "F32", shape, data_offsets: [raw.data.length, raw.data.length + bytes] };
        raw.data = Buffer.concat([raw.data, Buffer.alloc(bytes)]);
    });
}

/** Imports and expects a refusal matching `pattern`; the output folder stays empty. */
async function refused(name: string, peft: string, pattern: RegExp, model = fx.model): Promise<void> {
    const outDir = join(dir, `out-${name}`);
    mkdirSync(outDir, { recursive: true });
    await assert.rejects(importPeftAdapter({ peft, model, out: join(outDir, "adapter.gguf") }), (error: Error) => {
        assert.equal(error.name, "AdapterImportError", error.stack);
        assert.match(error.message, pattern);
        return true;
    });
    assert.deepEqual(readdirSync(outDir), [], "nothing is left behind");
}

test("the good folder imports (so every refusal below is caused by its one change)", async () => {
    const out = join(dir, "good.gguf");
    await importPeftAdapter({ peft: good, model: fx.model, out });
    assert.ok(existsSync(out));
});

test("an adapter for another base: another family (Phi-3's fused modules) and another size, each naming tensor and shapes", async () => {
    await refused("phi3-base", good, new RegExp(`adapter_model\\.safetensors: tensor '${Q_A.replace(/\./g, "\\.")}': module 'self_attn\\.q_proj' belongs to llama/.* models, and the base model is phi3 .*: the adapter is for another base`), archFixturePath("phi3", "f32"));
    const wide = join(dir, "wide-llama.gguf");
    makeTinyModel({ out: wide, arch: "llama", shape: { nEmbd: 512, nFf: 1536 } });
    await refused("wide-base", good, /adapter_model\.safetensors: model\.layers\.0\.self_attn\.q_proj is adapted as a \[256, 256\] weight \(lora_A \[16, 256\], lora_B \[256, 16\]\), but .*wide-llama\.gguf's blk\.0\.attn_q\.weight is \[512, 512\].*: the adapter is for another base/, wide);
    const shallow = join(dir, "shallow-llama.gguf");
    makeTinyModel({ out: shallow, arch: "llama", shape: { nLayer: 2 } });
    await refused("shallow-base", good, /model\.layers\.2\.\S+, which is blk\.2\.\S+ in GGUF, and .*shallow-llama\.gguf \(llama, .*\) has no such tensor: the adapter is for another base/, shallow);
});

test("missing files: the folder, adapter_config.json, adapter_model.safetensors (and a pickle-only folder), the base", async () => {
    await refused("no-folder", join(dir, "nowhere"), /nowhere is not a folder; give the PEFT adapter folder/);
    await refused("no-config", variant("no-config", (f) => rmSync(configOf(f))), /adapter_config\.json does not exist; a PEFT adapter folder holds adapter_config\.json and adapter_model\.safetensors/);
    await refused("no-weights", variant("no-weights", (f) => rmSync(weightsOf(f))), /adapter_model\.safetensors does not exist/);
    await refused("bin-only", variant("bin-only", (f) => {
        rmSync(weightsOf(f));
        writeFileSync(join(f, "adapter_model.bin"), "pickle");
    }), /adapter_model\.safetensors does not exist, only adapter_model\.bin .*safe_serialization=True/);
    await refused("no-base", good, /missing\.gguf/, join(dir, "missing.gguf"));
});

test("a DoRA config, and DoRA magnitude vectors without it, are refused with the reason", async () => {
    await refused("dora", variant("dora", (f) => editConfig(f, (c) => { c.use_dora = true; })), /adapter_config\.json: "use_dora" is true: DoRA rescales every column .*lora_magnitude_vector/);
    await refused("magnitude", variant("magnitude", (f) => addTensor(f, "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", [256])),
        /adapter_model\.safetensors: tensor '.*q_proj\.lora_magnitude_vector': it is a DoRA magnitude vector/);
});

test("modules_to_save, embeddings, lm_head and biases are refused, each naming file and field or tensor", async () => {
    await refused("to-save", variant("to-save", (f) => editConfig(f, (c) => { c.modules_to_save = ["lm_head"]; })), /adapter_config\.json: "modules_to_save" is \["lm_head"\]: those modules are saved as full trained copies/);
    await refused("bias", variant("bias", (f) => editConfig(f, (c) => { c.bias = "lora_only"; })), /adapter_config\.json: "bias" is "lora_only": the adapter trains biases/);
    await refused("embed-target", variant("embed-target", (f) => editConfig(f, (c) => { c.target_modules = ["q_proj", "embed_tokens"]; })), /adapter_config\.json: "target_modules" is .*: it adapts the embeddings \(embed_tokens\)/);
    await refused("embed-tensor", variant("embed-tensor", (f) => addTensor(f, "base_model.model.model.embed_tokens.lora_embedding_A", [16, 32000])), /tensor 'base_model\.model\.model\.embed_tokens\.lora_embedding_A': it adapts the token embeddings/);
    await refused("lm-head", variant("lm-head", (f) => addTensor(f, "base_model.model.lm_head.lora_A.weight", [16, 256])), /tensor 'base_model\.model\.lm_head\.lora_A\.weight': it adapts the output layer \(lm_head\)/);
    await refused("bias-tensor", variant("bias-tensor", (f) => addTensor(f, "base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", [256])), /tensor '.*q_proj\.lora_B\.bias': it is a trained bias/);
});

test("unknown module names are refused naming the tensor and the modules LoRA Studio maps", async () => {
    await refused("unknown", variant("unknown", (f) => addTensor(f, "base_model.model.model.layers.0.mlp.experts.0.w1.lora_A.weight", [16, 256])),
        /adapter_model\.safetensors: tensor 'base_model\.model\.model\.layers\.0\.mlp\.experts\.0\.w1\.lora_A\.weight': module 'mlp\.experts\.0\.w1' is not one LoRA Studio maps to a GGUF tensor for llama \(it maps self_attn\.q_proj, .*mlp\.down_proj\)/);
    await refused("vision", variant("vision", (f) => addTensor(f, "base_model.model.vision_tower.blocks.0.attn.qkv.lora_A.weight", [16, 256])),
        /tensor 'base_model\.model\.vision_tower\.blocks\.0\.attn\.qkv\.lora_A\.weight': it adapts the vision_tower of a multimodal model, which a text-only GGUF does not have/);
    await refused("encoder", variant("encoder", (f) => addTensor(f, "base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight", [16, 256])),
        /tensor 'base_model\.model\.encoder\.block\.0\.layer\.0\.SelfAttention\.q\.lora_A\.weight': its layers are under 'encoder\.block'/);
    await refused("half-pair", variant("half-pair", (f) => editHeader(f, (raw) => {
        const b = raw.header[Q_B] as { data_offsets: [number, number] };
        // Drop lora_B by making it a differently named tensor of a module the config does not have.
        delete raw.header[Q_B];
        raw.header["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight.orphan"] = { dtype: "F32", shape: [256, 16], data_offsets: b.data_offsets };
    })), /tensor '.*q_proj\.lora_B\.weight\.orphan': 'lora_B\.weight\.orphan' is not a LoRA pair on a decoder layer/);
    await refused("rank", variant("rank", (f) => editConfig(f, (c) => { c.r = 8; })), /adapter_config\.json: "r" gives model\.layers\.0\.self_attn\.q_proj rank 8, but .*adapter_model\.safetensors has '.*q_proj\.lora_A\.weight' of shape \[16, 256\] \(rank 16\)/);
});

test("a safetensors header that lies about its sizes is refused naming the file and the tensor", async () => {
    const lie = (name: string, edit: (raw: Raw) => void, declared?: bigint) => variant(name, (f) => editHeader(f, edit, declared));
    const entry = (raw: Raw, name: string) => raw.header[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    await refused("past-end", lie("past-end", (raw) => { entry(raw, Q_A).data_offsets[1] = raw.data.length + 4096; }),
        new RegExp(`adapter_model\\.safetensors: tensor '${Q_A.replace(/\./g, "\\.")}': data_offsets \\[\\d+, \\d+\\] reach past the end of the data section`));
    await refused("shape", lie("shape", (raw) => { entry(raw, Q_A).shape = [16, 512]; }),
        /tensor '.*q_proj\.lora_A\.weight': data_offsets \[\d+, \d+\] hold 16384 bytes, but shape \[16, 512\] of F32 needs 32768/);
    await refused("dtype-size", lie("dtype-size", (raw) => { entry(raw, Q_A).dtype = "F16"; }),
        /tensor '.*q_proj\.lora_A\.weight': data_offsets \[\d+, \d+\] hold 16384 bytes, but shape \[16, 256\] of F16 needs 8192/);
    await refused("overlap", lie("overlap", (raw) => {
        const a = entry(raw, Q_A);
        const b = entry(raw, Q_B);
        // B claims A's bytes (same size): two tensors read the same data.
        b.data_offsets = [a.data_offsets[0], a.data_offsets[1]];
    }), /adapter_model\.safetensors: .*tensor '.*q_proj\.lora_[AB]\.weight' overlaps tensor '.*q_proj\.lora_[AB]\.weight'/);
    await refused("header-length", lie("header-length", () => undefined, 1n << 40n), /adapter_model\.safetensors: the header length field says 1099511627776 bytes, but the file has \d+ bytes after it/);
    await refused("f64", lie("f64", (raw) => { entry(raw, Q_A).dtype = "F64"; }), /tensor '.*q_proj\.lora_A\.weight' has dtype "F64"; LoRA Studio imports F32, F16 and BF16/);
    await refused("truncated", variant("truncated", (f) => {
        const bytes = readFileSync(weightsOf(f));
        writeFileSync(weightsOf(f), bytes.subarray(0, bytes.length - 100));
    }), /adapter_model\.safetensors: tensor '.*': data_offsets \[\d+, \d+\] reach past the end of the data section/);
});

test("an output that is an input is refused whatever the flags", async () => {
    await assert.rejects(importPeftAdapter({ peft: good, model: fx.model, out: fx.model, overwrite: true }), /is an input of the import .*never replaces its inputs/);
    await assert.rejects(importPeftAdapter({ peft: good, model: fx.model, out: weightsOf(good), overwrite: true }), /is an input of the import/);
});

test("a config naming another Hugging Face model than the base GGUF records is imported with a warning naming both", async () => {
    // The tiny base, recording the repository it was "converted from", as convert_hf_to_gguf.py does.
    const base = readGguf(fx.model);
    const recorded = join(dir, "recorded-source.gguf");
    writeGguf(recorded, {
        kv: [...base.kv, ["general.source.url", { type: "string", value: "https://huggingface.co/example/tiny-chat" }]],
        tensors: base.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: () => readTensorBytes(base, t.name) })),
        alignment: base.alignment
    });
    const other = variant("other-repo", (f) => editConfig(f, (c) => { c.base_model_name_or_path = "example/another-model"; }));
    const warned = await importPeftAdapter({ peft: other, model: recorded, out: join(dir, "warned.gguf") });
    assert.equal(warned.warnings.length, 1);
    assert.match(warned.warnings[0]!, /adapter_config\.json: base_model_name_or_path is example\/another-model, but .*recorded-source\.gguf was converted from example\/tiny-chat/);
    const same = variant("same-repo", (f) => editConfig(f, (c) => { c.base_model_name_or_path = "example/tiny-chat"; }));
    assert.deepEqual((await importPeftAdapter({ peft: same, model: recorded, out: join(dir, "same.gguf") })).warnings, []);
});
