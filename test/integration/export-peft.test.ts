// The PEFT export, read by an independent reader: test/oracle/peft_reader.py parses the safetensors file by hand
// and the GGUF adapter and base with llama.cpp's gguf-py, then checks names, shapes, values, the Q/K row
// un-permutation (by re-applying convert_hf_to_gguf's permutation) and, with PyTorch, that the HF-order delta
// permuted as the converter permutes q_proj/k_proj weights is the GGUF delta. F16 and BF16 exports are decoded by
// the reader (BF16 by hand from its uint16 bits) and must equal the GGUF values rounded to nearest even, and lie
// within the dtype's unit roundoff of them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
    dtype: string;
    maxRelErrA: number;
    maxRelErrB: number;
}

/** Unit roundoff of each dtype (half an ulp at 1): the most a round-to-nearest value may be off, relatively. */
const ROUNDOFF = { F16: 2 ** -11, BF16: 2 ** -8 } as const;

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
    assert.equal(summary.dtype, "F32");
    assert.equal(summary.maxRelErrA, 0);
    assert.equal(summary.maxRelErrB, 0);
});

for (const dtype of ["f16", "bf16"] as const) {
    const stDtype = dtype.toUpperCase() as keyof typeof ROUNDOFF;
    test(`a ${stDtype} PEFT folder holds the adapter rounded to ${stDtype}, within its roundoff`, async () => {
        const out = join(dir, `peft-${dtype}`);
        await runExport({ format: "peft", model: fx.model, adapter: fx.adapter, out, dtype });
        // The reader decodes every tensor as 2-byte values and checks that they fill the data section exactly.
        const summary = readPeft(out, fx.adapter, fx.model);
        assert.equal(summary.dtype, stDtype);
        assert.equal(summary.tensors, 4 * 7 * 2);
        assert.equal(summary.unpermutedPairs, 4 * 2);
        assert.equal(summary.maxDiffA, 0, `A is the GGUF A rounded to ${stDtype}, to nearest even`);
        assert.equal(summary.maxDiffB, 0, `B is the GGUF B rounded to ${stDtype}, rows moved`);
        assert.ok(summary.maxDiffDelta >= 0 && summary.maxDiffDelta <= 1e-6, `the permuted HF delta differs from the GGUF delta by ${summary.maxDiffDelta}`);
        // Rounding loses something (a trained adapter is not exactly representable), but never more than the roundoff.
        assert.ok(summary.maxRelErrA > 0 && summary.maxRelErrA <= ROUNDOFF[stDtype], `A relative error ${summary.maxRelErrA}`);
        assert.ok(summary.maxRelErrB > 0 && summary.maxRelErrB <= ROUNDOFF[stDtype], `B relative error ${summary.maxRelErrB}`);
    });
}

test("lora-studio export --dtype writes that dtype and refuses other values naming the flag", () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(repoRoot(), "bin", "lora-studio.mjs"), "export", ...args], { encoding: "utf8" });
    const out = join(dir, "peft-cli");
    const ok = cli("--adapter", fx.adapter, "--model", fx.model, "--format", "peft", "--dtype", "bf16", "--out", out);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readPeft(out, fx.adapter, fx.model).dtype, "BF16");

    const bad = cli("--adapter", fx.adapter, "--model", fx.model, "--format", "peft", "--dtype", "fp8", "--out", join(dir, "never"));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--dtype must be one of f32, f16, bf16, got "fp8"/);
    const notPeft = cli("--adapter", fx.adapter, "--model", fx.model, "--format", "gguf-lora", "--dtype", "f16", "--out", join(dir, "never.gguf"));
    assert.equal(notPeft.status, 2);
    assert.match(notPeft.stderr, /--dtype applies to --format peft only/);
    assert.equal(existsSync(join(dir, "never")) || existsSync(join(dir, "never.gguf")), false);
});
