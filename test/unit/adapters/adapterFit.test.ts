// The one adapter-vs-base check behind chat, evaluation and export (sidecar/src/adapters/adapterFit.ts), on GGUF
// files written with the project's writer: an adapter trained on another architecture says so, whether the
// architectures' names differ or only the tensor layout does (Phi-3's fused attn_qkv / ffn_up against separate
// projections, both ways); another size says "another base model"; and export wraps the same words.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdapterMismatchError, adapterMismatch, checkAdapterFitsModel } from "../../../sidecar/src/adapters/adapterFit";
import { runExport } from "../../../sidecar/src/export";
import { projectionWeights, writeArchAdapter, writeArchBase, SMALL_SHAPE } from "../support/archModels";

const dir = mkdtempSync(join(tmpdir(), "adapter-fit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const phi3 = writeArchBase(join(dir, "phi3.gguf"), "phi3");
const llama = writeArchBase(join(dir, "llama.gguf"), "llama");
const qwen3 = writeArchBase(join(dir, "qwen3.gguf"), "qwen3");
const wideLlama = writeArchBase(join(dir, "llama-wide.gguf"), "llama", { shape: { ...SMALL_SHAPE, nFf: 40 } });
const phi3Adapter = writeArchAdapter(join(dir, "phi3-adapter.gguf"), phi3, projectionWeights(phi3));
const llamaAdapter = writeArchAdapter(join(dir, "llama-adapter.gguf"), llama, projectionWeights(llama));

test("an adapter fits the base it was trained on, fused or not", () => {
    assert.equal(adapterMismatch(phi3Adapter, phi3), undefined);
    assert.equal(adapterMismatch(llamaAdapter, llama), undefined);
    assert.doesNotThrow(() => checkAdapterFitsModel(phi3.path, phi3Adapter.path));
});

test("another architecture by name: the adapter's general.architecture is not the base's", () => {
    assert.equal(adapterMismatch(phi3Adapter, llama), "the adapter was trained on another architecture: it is for a phi3 model, and the base model is llama");
    assert.match(adapterMismatch(llamaAdapter, qwen3) ?? "", /trained on another architecture: it is for a llama model, and the base model is qwen3/);
});

test("another architecture by layout: a fused adapter on separate projections, and the reverse", () => {
    // Same declared architecture (e.g. a renamed file): only the tensors tell.
    const fusedOnSeparate = writeArchAdapter(join(dir, "fused-as-llama.gguf"), phi3, ["blk.0.attn_qkv.weight"], { arch: "llama" });
    assert.equal(adapterMismatch(fusedOnSeparate, llama),
        "the adapter was trained on another architecture: it adapts attn_qkv (q, k and v fused, as Phi-3 has), and this llama model has separate attn_q, attn_k, attn_v");
    const separateOnFused = writeArchAdapter(join(dir, "separate-as-phi3.gguf"), llama, ["blk.1.attn_k.weight"], { arch: "phi3" });
    assert.equal(adapterMismatch(separateOnFused, phi3), "the adapter was trained on another architecture: it adapts attn_k, and this phi3 model fuses q, k and v into one attn_qkv tensor");
    const gateUpOnSeparate = writeArchAdapter(join(dir, "gate-up-as-llama.gguf"), phi3, ["blk.0.ffn_up.weight"], { arch: "llama" });
    assert.match(adapterMismatch(gateUpOnSeparate, llama) ?? "", /another architecture: its blk\.0\.ffn_up\.weight is gate and up fused \(\[16, 48\], as Phi-3 has\), and this llama model has separate ffn_gate and ffn_up/);
    const upOnFused = writeArchAdapter(join(dir, "up-as-phi3.gguf"), llama, ["blk.0.ffn_up.weight"], { arch: "phi3" });
    assert.match(adapterMismatch(upOnFused, phi3) ?? "", /another architecture: its blk\.0\.ffn_up\.weight is an up projection alone \(\[16, 24\]\), and this phi3 model fuses gate and up/);
});

test("another size of the same architecture, a base given as the adapter, an adapter given as the base", () => {
    assert.equal(adapterMismatch(llamaAdapter, wideLlama),
        "blk.0.ffn_gate.weight is [16, 40] in the base model but the adapter expects [16, 24]; it was trained on another base model (another size or family)");
    assert.match(adapterMismatch(llama, llama) ?? "", /^it is not a LoRA adapter \(general\.type null, adapter\.type null; a GGUF LoRA adapter has "adapter" and "lora"\); is it a base model\?$/);
    assert.match(adapterMismatch(llamaAdapter, llamaAdapter) ?? "", /the base model is itself a LoRA adapter/);
});

test("chat and evaluation get both files named; export wraps the same words for every format", async () => {
    assert.throws(() => checkAdapterFitsModel(llama.path, phi3Adapter.path), (e: Error) => {
        assert.ok(e instanceof AdapterMismatchError);
        assert.equal(e.message, `adapter ${phi3Adapter.path} does not fit base model ${llama.path}: the adapter was trained on another architecture: it is for a phi3 model, and the base model is llama`);
        return true;
    });
    assert.throws(() => checkAdapterFitsModel(llama.path, join(dir, "missing.gguf")), /adapter .*missing\.gguf does not fit base model .*: the adapter .*missing\.gguf does not exist \(ENOENT\)/);
    for (const format of ["gguf-lora", "merged", "peft"] as const) {
        await assert.rejects(runExport({ format, model: llama.path, adapter: phi3Adapter.path, out: join(dir, `out-${format}`) }),
            new RegExp(`the adapter ${phi3Adapter.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} and base model .*llama\\.gguf do not match: the adapter was trained on another architecture: it is for a phi3 model`));
    }
});
