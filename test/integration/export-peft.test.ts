// The PEFT export, read by an independent reader: test/oracle/peft_reader.py parses the safetensors file by hand
// and the GGUF adapter and base with llama.cpp's gguf-py, then checks names, shapes, values, the Q/K row
// un-permutation (by re-applying convert_hf_to_gguf's permutation) and, with PyTorch, that the HF-order delta
// permuted as the converter permutes q_proj/k_proj weights is the GGUF delta.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runExport } from "../../sidecar/src/export";
import { llamaCppSourceDir } from "../../sidecar/src/tinyModel/bundleAssets";
import { factsAdapter, type FactsAdapter } from "../oracle/trainedAdapter";
import { PYTHON, repoRoot } from "../oracle/torchReference";

const dir = mkdtempSync(join(tmpdir(), "export-peft-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface ReaderSummary {
    tensors: number;
    maxDiffA: number;
    maxDiffB: number;
    maxDiffDelta: number;
    unpermutedPairs: number;
    arch: string;
    r: number;
}

function readPeft(peftDir: string, adapter: string, model: string): ReaderSummary {
    const r = spawnSync(PYTHON, [join(repoRoot(), "test", "oracle", "peft_reader.py"), peftDir, adapter, model], {
        encoding: "utf8",
        env: { ...process.env, GGUF_PY: join(llamaCppSourceDir(), "gguf-py"), OMP_NUM_THREADS: "1" }
    });
    assert.equal(r.status, 0, `peft_reader.py failed:\n${r.stderr}`);
    return JSON.parse(r.stdout) as ReaderSummary;
}

let fx: FactsAdapter;
before(async () => {
    fx = await factsAdapter();
});

test("the PEFT folder matches the GGUF adapter, with q/k rows back in Hugging Face order", async () => {
    const out = join(dir, "peft");
    const result = await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out, baseModelId: "example/tiny-llama" });
    assert.deepEqual(result.files, [join(out, "adapter_model.safetensors"), join(out, "adapter_config.json")]);
    const config = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8")) as Record<string, unknown>;
    assert.equal(config.base_model_name_or_path, "example/tiny-llama");
    assert.equal(config.r, 16);
    assert.equal(config.lora_alpha, 32);

    const summary = readPeft(out, fx.adapter, fx.model);
    // The tiny model: 4 layers × 7 modules × (A, B); q and k of every layer un-permuted.
    assert.equal(summary.arch, "llama");
    assert.equal(summary.tensors, 4 * 7 * 2);
    assert.equal(summary.unpermutedPairs, 4 * 2);
    assert.equal(summary.maxDiffA, 0, "A is copied exactly");
    assert.equal(summary.maxDiffB, 0, "B rows are moved, never changed");
    assert.ok(summary.maxDiffDelta >= 0, "PyTorch ran the delta check");
    assert.ok(summary.maxDiffDelta <= 1e-6, `the permuted HF delta differs from the GGUF delta by ${summary.maxDiffDelta}`);
});
